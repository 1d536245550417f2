"""Match pages for the volunteer, the initiative and coordinators."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from matching import matches, privacy
from matching.access import role_required
from matching.extensions import db
from matching.forms import BaseForm
from matching.matches import after, participants, passes, proposals
from matching.matches.forms import DeclineForm, FeedbackForm, MeetingOutcomeForm, PassForm
from matching.matches.thread_routes import participant_match
from matching.models import (
    ADVISED_MATCH_STATUSES,
    Match,
    MatchOrigin,
    MatchStatus,
    Need,
    NeedStatus,
    Role,
    ThreadRole,
    utcnow,
)
from matching.needs import clocks, phases
from matching.reference import PHASES
from matching.toolkit import materials
from matching.views import perform, refused_status, require_valid_post

bp = Blueprint("matches", __name__)


def _act(match: Match, action: str, done: str, reason: str = ""):
    return perform(
        lambda: matches.change_status(
            db.session, current_user, match, action, now=utcnow(), reason=reason
        ),
        done=done,
        then=url_for("matches.detail", match_id=match.id),
    )


@bp.route("/vermittlungen/<id:match_id>")
@login_required
def detail(match_id: int):
    """The match with what the viewer may do next; contacts once accepted."""
    match, part = participant_match(match_id)
    return detail_page(match, part)


def detail_page(
    match: Match,
    part: str,
    *,
    overview: after.AfterMatch | None = None,
    outcome_form: MeetingOutcomeForm | None = None,
) -> str:
    """The match page; a refused answer to "Hat das Treffen stattgefunden?" shows it again
    with its message (``outcome_form``)."""
    contact_visible = match.status in ADVISED_MATCH_STATUSES
    if part == "coordinator":
        privacy.log_contact_view(db.session, current_user, [match.volunteer_id], now=utcnow())
        db.session.commit()
    return render_template(
        "matches/detail.html",
        match=match,
        need=match.need,
        part=part,
        reason=participants.readable_reason(db.session, current_user, match),
        contact_visible=contact_visible or part == "coordinator",
        labels=matches.STATUS_LABELS,
        form=BaseForm(),
        waiting_clock=clocks.match_clock(match, utcnow()),
        materials=materials.materials_for(db.session, match.need.phases)
        if part in ("volunteer", "coordinator")
        else [],
        after=overview or after.overview(db.session, match, current_user, utcnow()),
        outcome_form=outcome_form or MeetingOutcomeForm(formdata=None),
    )


@bp.route("/vermittlungen/<id:match_id>/zusagen", methods=["POST"])
@login_required
def accept(match_id: int):
    match, _part = participant_match(match_id)
    require_valid_post()
    return _act(
        match,
        "accept",
        _("Danke für Ihre Zusage! Die Initiative bekommt jetzt Ihre Kontaktdaten und Sie ihre."),
    )


@bp.route("/vermittlungen/<id:match_id>/absagen", methods=["GET", "POST"])
@login_required
def decline(match_id: int):
    """The expert's "Diesmal nicht" while asked: GET asks (the reason is optional), POST
    declines. Anyone else, or a match that no longer waits for an answer, is led back."""
    match, part = participant_match(match_id)
    own_offer = match.status == MatchStatus.PROPOSED and match.origin == MatchOrigin.OFFER
    if request.method == "GET" and (
        part != ThreadRole.VOLUNTEER or not matches.awaits_volunteers_answer(match)
    ):
        flash(
            _("Absagen kann hier nur die gefragte Expert:in.")
            if part != ThreadRole.VOLUNTEER
            else _("Diese Vermittlung wartet nicht (mehr) auf Ihre Antwort."),
            "info",
        )
        return redirect(url_for("matches.detail", match_id=match.id))
    form = DeclineForm()
    if form.validate_on_submit():
        return _act(
            match,
            "decline",
            _("Ihr Angebot ist zurückgezogen. Danke, dass Sie Bescheid gesagt haben.")
            if own_offer
            else _("Schade – danke, dass Sie Bescheid gesagt haben. Wir suchen jemand anderen."),
            form.reason.data or "",
        )
    return render_template(
        "matches/decline.html", match=match, need=match.need, form=form, own_offer=own_offer
    ), refused_status(form)


@bp.route("/vermittlungen/<id:match_id>/abschliessen", methods=["GET", "POST"])
@login_required
def complete(match_id: int):
    """GET asks first (it sends both sides mail and closes the thread), POST does it."""
    match, part = participant_match(match_id)
    if request.method == "GET":
        if match.status != MatchStatus.ACCEPTED:
            flash(_("Diese Beratung läuft nicht (mehr)."), "info")
            return redirect(url_for("matches.detail", match_id=match.id))
        return render_template(
            "matches/complete.html", match=match, need=match.need, form=BaseForm()
        )
    require_valid_post()
    return _act(
        match,
        "complete",
        _("Die Beratung ist als abgeschlossen eingetragen. Vielen Dank für Ihren Einsatz!")
        if part == ThreadRole.VOLUNTEER
        else _("Die Beratung ist als abgeschlossen eingetragen. Danke!"),
    )


@bp.route("/vermittlungen/<id:match_id>/rueckmeldung", methods=["GET", "POST"])
@role_required(Role.INITIATIVE)
def feedback(match_id: int):
    """The initiative rates a completed match."""
    match, part = participant_match(match_id)
    if part != "initiative":
        abort(404)
    if match.feedback_at is not None and request.method == "GET":
        # Given already: the form again would ask twice and only be refused on sending.
        flash(_("Zu dieser Vermittlung gibt es schon eine Rückmeldung. Danke!"), "info")
        return redirect(url_for("matches.detail", match_id=match.id))
    form = FeedbackForm()
    if not form.is_submitted() and match.volunteer_next_phase:
        form.next_phase.data = match.volunteer_next_phase  # the expert's suggestion
    if form.validate_on_submit():
        here = url_for("matches.detail", match_id=match.id)

        def give_feedback() -> Need | None:
            now = utcnow()
            matches.give_feedback(
                db.session,
                current_user,
                match,
                int(form.rating.data),
                form.comment.data or "",
                now=now,
            )
            if not form.next_phase.data:
                return None
            return phases.draft_next_need(
                db.session, current_user, match, form.next_phase.data, now=now
            )

        def said(draft: Need | None) -> list[tuple[str, str]]:
            notes = [(_("Danke für Ihre Rückmeldung!"), "success")]
            if draft is not None:
                notes.append(
                    (
                        _(
                            "Für Ihren nächsten Schritt haben wir eine Anfrage als Entwurf "
                            "vorbereitet. Bitte ergänzen Sie in der Beschreibung, wobei Sie Rat "
                            "brauchen, und veröffentlichen Sie sie dann."
                        ),
                        "info",
                    )
                )
            return notes

        return perform(
            give_feedback,
            done=said,
            then=lambda draft: (
                url_for("initiatives.edit_need", need_id=draft.id) if draft else here
            ),
            refused_then=here,
        )
    return render_template(
        "matches/feedback.html", match=match, need=match.need, form=form, phases=PHASES
    ), (422 if form.errors else 200)


@bp.route("/anfragen/<id:need_id>/helfen", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def offer(need_id: int):
    """ "Ich kann helfen": GET asks, POST puts the offer into the coordinators' queue."""
    need = db.session.get(Need, need_id)
    if need is None or need.status != NeedStatus.OPEN:
        abort(404)
    profile = current_user.volunteer_profile
    form = BaseForm()
    if form.validate_on_submit():
        if profile is None:
            flash(_("Bitte legen Sie zuerst Ihr Profil an."), "info")
            return redirect(url_for("profiles.profile"))
        return perform(
            lambda: proposals.offer_help(db.session, current_user, need, profile, utcnow()),
            done=_(
                "Danke! Ihr Angebot liegt bei der Koordination. Sie hören in der Regel innerhalb von drei Tagen von uns."
            ),
            then=url_for("profiles.overview"),
        )
    return render_template(
        "matches/offer.html", need=need, profile=profile, form=form
    ), refused_status(form)


@bp.route("/anfragen/<id:need_id>/diesmal-nicht", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def pass_need(need_id: int):
    """ "Diesmal nicht": GET asks (with an optional reason), POST records it."""
    need = db.session.get(Need, need_id)
    profile = current_user.volunteer_profile
    # A draft is nobody's business but its initiative's: not even that it exists.
    if need is None or profile is None or need.status == NeedStatus.DRAFT:
        abort(404)
    form = PassForm()
    if form.validate_on_submit():
        title = need.title
        notes = [(_("Danke! Wir zeigen Ihnen „%(title)s“ nicht mehr.", title=title), "success")]
        if form.reason.data == "not_my_field":
            notes.append(
                (
                    _(
                        "Anfragen zu diesen Themen schlagen wir Ihnen jetzt seltener vor. "
                        "In Ihrem Profil können Sie das zurücksetzen."
                    ),
                    "info",
                )
            )
        return perform(
            lambda: passes.pass_need(
                db.session, current_user, need, profile, form.reason.data or "", now=utcnow()
            ),
            done=notes,
            then=url_for("profiles.overview"),
            refused_then=url_for("needs.detail", need_id=need.id),
        )
    if need.status != NeedStatus.OPEN:
        abort(404)
    return render_template("matches/pass.html", state="ask", need=need, form=form), refused_status(
        form
    )
