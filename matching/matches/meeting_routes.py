"""The first meeting on the match page and from the mail: propose, pick, move, cancel, answer."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from matching.extensions import db
from matching.forms import BaseForm
from matching.i18n import speak_as
from matching.matches import after, calendar, meeting_mail, meetings
from matching.matches import routes as match_pages
from matching.matches.forms import MeetingForm, MeetingOutcomeForm
from matching.matches.participants import ROLE_LABELS, role_in
from matching.matches.thread_routes import participant_match
from matching.models import Meeting, MeetingStatus, User, utcnow
from matching.tokens import TokenError
from matching.views import Refused, attempt, perform, require_valid_post, someone_else_signed_in

bp = Blueprint("meetings", __name__)


@bp.app_context_processor
def meeting_words() -> dict:
    """Words the match page and the mails use for meetings and thread roles."""
    return {
        "place_text": calendar.place_text,
        "outcome_labels": meetings.OUTCOME_LABELS,
        "role_labels": ROLE_LABELS,
    }


def _meeting(match_id: int, meeting_id: int) -> tuple[Meeting, str]:
    match, role = participant_match(match_id)
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.match_id != match.id:
        abort(404)
    return meeting, role


def _back(match_id: int) -> str:
    return url_for("matches.detail", match_id=match_id, _anchor="treffen")


@bp.route("/vermittlungen/<id:match_id>/treffen", methods=["GET", "POST"])
@login_required
def propose(match_id: int):
    """Up to three times for the first meeting; with a meeting already there, it is moved."""
    match, role = participant_match(match_id)
    if role not in meetings.SIDES:
        abort(404)
    form = MeetingForm()
    live = meetings.current(db.session, match)
    status = 200
    if form.validate_on_submit():
        # Local times in Stuttgart as instants; the form refused a time the clocks skip.
        times = [
            meetings.ProposedTime(*entry.form.instants())
            for entry in form.times
            if entry.form.filled()
        ]
        proposed = perform(
            lambda: meetings.propose(
                db.session,
                current_user,
                match,
                times,
                form.place_kind.data,
                form.place.data or "",
                now=utcnow(),
            ),
            done=_("Ihre Vorschläge sind verschickt. Die andere Seite wählt eine Zeit."),
            then=_back(match.id),
            form=form,
        )
        if proposed is not None:
            return proposed
        status = 422
    elif form.errors:
        status = 422
    return render_template(
        "matches/meeting_form.html", match=match, need=match.need, form=form, moving=live
    ), status


@bp.route("/vermittlungen/<id:match_id>/treffen/<id:meeting_id>/waehlen", methods=["POST"])
@login_required
def pick(match_id: int, meeting_id: int):
    meeting, _role = _meeting(match_id, meeting_id)
    option = _option_id()
    require_valid_post()
    return perform(
        lambda: meetings.pick(db.session, current_user, meeting, option, now=utcnow()),
        done=_("Der Termin steht. Beide Seiten bekommen eine Einladung für den Kalender."),
        then=_back(match_id),
    )


def _option_id() -> int:
    from flask import request

    value = request.form.get("option", "")
    return int(value) if value.isdigit() and len(value) < 10 else 0


@bp.route("/vermittlungen/<id:match_id>/treffen/<id:meeting_id>/absagen", methods=["POST"])
@login_required
def cancel(match_id: int, meeting_id: int):
    meeting, _role = _meeting(match_id, meeting_id)
    require_valid_post()
    return perform(
        lambda: meetings.cancel(db.session, current_user, meeting, now=utcnow()),
        done=_("Das Treffen ist abgesagt. Beide Seiten bekommen Bescheid."),
        then=_back(match_id),
    )


@bp.route("/vermittlungen/<id:match_id>/treffen/<id:meeting_id>/ergebnis", methods=["POST"])
@login_required
def outcome(match_id: int, meeting_id: int):
    """ "Hat das Treffen stattgefunden?" yes / moved / no."""
    meeting, role = _meeting(match_id, meeting_id)
    form = MeetingOutcomeForm()
    if not form.validate_on_submit():
        # The question is on the match page: shown again with the message at the answers.
        overview = after.overview(db.session, meeting.match, current_user, utcnow())
        if (
            overview.ask_outcome
            and overview.meeting is not None
            and overview.meeting.id == meeting.id
        ):
            page = match_pages.detail_page(
                meeting.match, str(role), overview=overview, outcome_form=form
            )
            return page, 422
        flash(_("Bitte wählen Sie: ja, verschoben oder nein."), "error")
        return redirect(_back(match_id))
    then = _back(match_id)
    if form.outcome.data == "held":
        said = _("Schön, danke! Wenn die Beratung fertig ist, tragen Sie das hier ein.")
    elif form.outcome.data == "moved":
        said = [(_("Danke! Schlagen Sie gern gleich neue Zeiten vor."), "info")]
        then = url_for("meetings.propose", match_id=match_id)
    else:
        said = [
            (
                _(
                    "Danke für die Rückmeldung. Die Koordination weiß Bescheid und hilft. "
                    "Sie können auch gleich neue Zeiten vorschlagen."
                ),
                "info",
            )
        ]
    return perform(
        lambda: meetings.record_outcome(
            db.session, current_user, meeting, form.outcome.data, now=utcnow()
        ),
        done=said,
        then=then,
        refused_then=_back(match_id),
    )


@bp.route("/vermittlungen/<id:match_id>/treffen/<id:meeting_id>.ics")
@login_required
def ics(match_id: int, meeting_id: int):
    """The invitation to download (or the cancellation, for a cancelled meeting)."""
    meeting, _role = _meeting(match_id, meeting_id)
    if meeting.starts_at is None:
        abort(404)
    body = calendar.invitation(meeting, now=utcnow(), locale=current_user.locale)
    return current_app.response_class(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="treffen-{meeting.id}.ics"'},
    )


@bp.route("/mail/treffen/<token>", methods=["GET", "POST"])
def pick_from_mail(token: str):
    """A time from the mail: GET shows it with a button, POST confirms it."""
    try:
        user_id, meeting_id, option_id, sequence = meeting_mail.read_pick(token)
    except TokenError as exc:
        return render_template(
            "matches/meeting_link.html", state="invalid", expired=exc.expired
        ), 404
    if (other := someone_else_signed_in(user_id)) is not None:
        return other
    person = db.session.get(User, user_id)
    meeting = db.session.get(Meeting, meeting_id)
    if (
        person is None
        or person.disabled_at is not None
        or meeting is None
        or role_in(db.session, person, meeting.match) not in meetings.SIDES
    ):
        return render_template("matches/meeting_link.html", state="invalid", expired=False), 404
    speak_as(person)  # in the language of the mail the link came in
    page = {"meeting": meeting, "match": meeting.match, "need": meeting.match.need}
    if meeting.sequence != sequence or meeting.status == MeetingStatus.CANCELLED:
        message = meetings.stale_message(meeting)
        return render_template(
            "matches/meeting_link.html", state="stale", message=message, **page
        ), 409
    if meeting.status == MeetingStatus.CONFIRMED:
        return render_template("matches/meeting_link.html", state="confirmed", **page), 409
    option = next((o for o in meeting.options if o.id == option_id), None)
    if option is None:
        return render_template("matches/meeting_link.html", state="invalid", expired=False), 404
    form = BaseForm()
    if not form.validate_on_submit():
        return render_template(
            "matches/meeting_link.html", state="ask", option=option, form=form, **page
        )
    picked = attempt(
        lambda: meetings.pick(
            db.session, person, meeting, option.id, now=utcnow(), sequence=sequence
        )
    )
    if isinstance(picked, Refused):
        return render_template(
            "matches/meeting_link.html", state="refused", message=picked.message, **page
        ), 409
    return render_template("matches/meeting_link.html", state="done", option=option, **page)
