"""Digest settings, one-click unsubscribe, and the confirmation pages behind links in mail.

Links in mail carry a signed, single-purpose token instead of a log-in. A GET only
shows a page with a button, because mail scanners open links; the POST acts.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from matching import digests, mail_links, matches
from matching.digests.forms import OFF, WEEKLY, DigestSettingsForm
from matching.extensions import csrf, db
from matching.forms import BaseForm
from matching.i18n import speak_as
from matching.initiatives import assisted
from matching.matches import passes, proposals
from matching.matches.forms import DeclineForm, PassForm
from matching.models import (
    ACTIVE_MATCH_STATUSES,
    ADVISED_MATCH_STATUSES,
    Match,
    MatchStatus,
    Need,
    NeedPass,
    NeedStatus,
    ProfileStatus,
    User,
    utcnow,
)
from matching.tokens import TokenError
from matching.views import Refused, attempt, refused_status, someone_else_signed_in

bp = Blueprint("digests", __name__)


def _link_invalid(expired: bool, kind: str):
    """The friendly page for a damaged or expired link, with the next step."""
    return render_template("digests/link_invalid.html", expired=expired, kind=kind), 400


def _person(user_id: int) -> User | None:
    """The person a link was made for, if the account still exists and may act."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_confirmed or not user.is_active:
        return None
    speak_as(user)  # the page in the language of the mail the link came in
    return user


# ---------------------------------------------------------------- settings


@bp.route("/konto/benachrichtigungen", methods=["GET", "POST"])
@login_required
def settings():
    """Weekly or off, for each digest this person can get."""
    kinds = digests.kinds_for(db.session, current_user)
    form = DigestSettingsForm()
    form.keep_only(kinds)
    if kinds and form.validate_on_submit():
        now = utcnow()
        for kind, enabled in form.choices().items():
            digests.set_enabled(db.session, current_user, kind, enabled, now=now)
        db.session.commit()
        flash(_("Ihre Einstellungen sind gespeichert."), "success")
        return redirect(url_for("digests.settings"))
    if request.method == "GET":
        enabled = digests.enabled_kinds(db.session, current_user.id)
        for kind in kinds:
            form[kind].data = WEEKLY if enabled[kind] else OFF
    return render_template("digests/settings.html", form=form, kinds=kinds), refused_status(form)


# ---------------------------------------------------------------- unsubscribe


@bp.route("/abbestellen/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail program POSTs without cookies; the signed token is the proof
def unsubscribe(token: str):
    """GET asks; a POST (the button, or a mail program's one-click) switches the digest off."""
    try:
        user_id, kind = mail_links.read_unsubscribe(token)
    except TokenError as exc:
        return _link_invalid(exc.expired, "unsubscribe")
    user = db.session.get(User, user_id)
    if user is None:
        return _link_invalid(False, "unsubscribe")
    if (other := someone_else_signed_in(user_id)) is not None:
        return other
    speak_as(user)
    label = digests.KIND_LABELS[kind]
    if request.method == "POST":
        digests.set_enabled(db.session, user, kind, False, now=utcnow())
        db.session.commit()
        return render_template("digests/unsubscribe.html", state="done", label=label)
    enabled = digests.enabled_kinds(db.session, user.id)[kind]
    state = "ask" if enabled else "off"
    return render_template("digests/unsubscribe.html", state=state, label=label)


# ---------------------------------------------------------------- "Ich kann helfen"


@bp.route("/mail/helfen/<token>", methods=["GET", "POST"])
def offer(token: str):
    """ "Ich kann helfen" from a digest: GET asks, POST puts the offer in the coordinators' queue."""
    try:
        user_id, need_id = mail_links.read_offer(token)
    except TokenError as exc:
        return _link_invalid(exc.expired, "offer")
    if (other := someone_else_signed_in(user_id)) is not None:
        return other
    user, need = _person(user_id), db.session.get(Need, need_id)
    profile = user.volunteer_profile if user else None
    if profile is None or need is None:
        return _link_invalid(False, "offer")
    if _live_match(need.id, profile.id) is not None:
        return render_template("digests/offer.html", state="offered", need=need)
    if need.status != NeedStatus.OPEN or profile.status != ProfileStatus.APPROVED:
        return render_template("digests/offer.html", state="closed", need=need), 409
    form = BaseForm()
    if not form.validate_on_submit():
        return render_template("digests/offer.html", state="ask", need=need, form=form)
    outcome = attempt(lambda: proposals.offer_help(db.session, user, need, profile, utcnow()))
    if isinstance(outcome, Refused):
        return render_template(
            "digests/offer.html", state="refused", need=need, message=outcome.message
        ), 409
    return render_template("digests/offer.html", state="done", need=need)


def _live_match(need_id: int, profile_id: int) -> Match | None:
    return db.session.scalar(
        select(Match).where(
            Match.need_id == need_id,
            Match.volunteer_id == profile_id,
            Match.status.in_(ACTIVE_MATCH_STATUSES),
        )
    )


# ---------------------------------------------------------------- "Zusagen"


def _asked(token: str):
    """(volunteer, match, None) of an accept link (also the proof for its "Diesmal nicht"),
    or (None, None, the page that says why the link cannot be used)."""
    try:
        user_id, match_id = mail_links.read_accept(token)
    except TokenError as exc:
        return None, None, _link_invalid(exc.expired, "accept")
    if (other := someone_else_signed_in(user_id)) is not None:
        return None, None, other
    user, match = _person(user_id), db.session.get(Match, match_id)
    if user is None or match is None or match.volunteer.user_id != user.id:
        return None, None, _link_invalid(False, "accept")
    return user, match, None


@bp.route("/mail/zusagen/<token>", methods=["GET", "POST"])
def accept(token: str):
    """ "Zusagen" from the mail that asks: GET asks, POST accepts the match."""
    user, match, refused = _asked(token)
    if refused is not None:
        return refused
    page = {"match": match, "need": match.need, "token": token}
    if match.status in ADVISED_MATCH_STATUSES:
        return render_template("digests/accept.html", state="accepted", **page)
    if match.released_at is not None:
        return render_template("digests/accept.html", state="released", **page), 409
    if match.status != MatchStatus.APPROVED:
        return render_template("digests/accept.html", state="gone", **page), 409
    form = BaseForm()
    if not form.validate_on_submit():
        return render_template("digests/accept.html", state="ask", form=form, **page)
    outcome = attempt(
        lambda: matches.change_status(db.session, user, match, "accept", now=utcnow())
    )
    if isinstance(outcome, Refused):
        return render_template(
            "digests/accept.html", state="refused", message=outcome.message, **page
        ), 409
    return render_template("digests/accept.html", state="done", **page)


@bp.route("/mail/absagen/<token>", methods=["GET", "POST"])
def decline(token: str):
    """ "Diesmal nicht" on the page the mail's "Zusagen" opened: GET asks (the reason is
    optional), POST declines; no log-in, the accept link's token is the proof."""
    user, match, refused = _asked(token)
    if refused is not None:
        return refused
    page = {"match": match, "need": match.need, "token": token}
    if match.status == MatchStatus.DECLINED:
        return render_template("digests/decline.html", state="done", **page)
    if match.released_at is not None:  # passed on unanswered: said as kindly as on "Zusagen"
        return render_template("digests/accept.html", state="released", **page), 409
    if match.status != MatchStatus.APPROVED:
        return render_template("digests/accept.html", state="gone", **page), 409
    form = DeclineForm()
    if not form.validate_on_submit():
        return render_template(
            "digests/decline.html", state="ask", form=form, **page
        ), refused_status(form)
    outcome = attempt(
        lambda: matches.change_status(
            db.session, user, match, "decline", now=utcnow(), reason=form.reason.data or ""
        )
    )
    if isinstance(outcome, Refused):
        return render_template(
            "digests/accept.html", state="refused", message=outcome.message, **page
        ), 409
    return render_template("digests/decline.html", state="done", **page)


# ---------------------------------------------------------------- "Diesmal nicht"


@bp.route("/mail/diesmal-nicht/<token>", methods=["GET", "POST"])
def pass_need(token: str):
    """ "Diesmal nicht" from a digest: GET asks (reason optional), POST records it."""
    try:
        user_id, need_id = mail_links.read_pass(token)
    except TokenError as exc:
        return _link_invalid(exc.expired, "pass")
    if (other := someone_else_signed_in(user_id)) is not None:
        return other
    user, need = _person(user_id), db.session.get(Need, need_id)
    profile = user.volunteer_profile if user else None
    if profile is None or need is None:
        return _link_invalid(False, "pass")
    earlier = db.session.get(NeedPass, (need.id, profile.id))
    if earlier is not None:
        return render_template("matches/pass.html", state="done", need=need, entry=earlier)
    form = PassForm()
    if not form.validate_on_submit():
        if need.status != NeedStatus.OPEN:
            return render_template("matches/pass.html", state="closed", need=need), 409
        return render_template("matches/pass.html", state="ask", need=need, form=form)
    entry = attempt(
        lambda: passes.pass_need(
            db.session, user, need, profile, form.reason.data or "", now=utcnow()
        )
    )
    if isinstance(entry, Refused):
        return render_template(
            "matches/pass.html", state="refused", need=need, message=entry.message
        ), 409
    return render_template("matches/pass.html", state="done", need=need, entry=entry)


# ---------------------------------------------------------------- taking an initiative over


@bp.route("/mail/initiative-uebernehmen/<token>", methods=["GET", "POST"])
def take_over(token: str):
    """An initiative recorded by phone is taken over: GET explains, POST (logged in) does it."""
    try:
        initiative = assisted.read_invitation(db.session, token)
    except TokenError as exc:
        return _link_invalid(exc.expired, "takeover")
    if not current_user.is_authenticated:
        return render_template("digests/take_over.html", state="login", initiative=initiative)
    form = BaseForm()
    if not form.validate_on_submit():
        return render_template(
            "digests/take_over.html", state="ask", initiative=initiative, form=form
        )
    outcome = attempt(
        lambda: assisted.take_over(db.session, current_user, initiative, now=utcnow())
    )
    if isinstance(outcome, Refused):
        return render_template(
            "digests/take_over.html",
            state="refused",
            initiative=initiative,
            message=outcome.message,
        ), 409
    flash(
        _("Willkommen! Sie verwalten jetzt die Anfragen von „%(name)s“.", name=initiative.name),
        "success",
    )
    return redirect(url_for("initiatives.my_needs"))
