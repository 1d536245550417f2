"""Initiative pages: the initiative's profile, "Meine Anfragen", posting and managing needs."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from matching import initiatives, matches, needs
from matching.access import role_required
from matching.database import among
from matching.extensions import db
from matching.forms import ReasonForm, already_submitted, remember_submission
from matching.initiatives.forms import InitiativeForm, NeedForm, need_input
from matching.models import (
    ACTIVE_MATCH_STATUSES,
    EDITABLE_NEED_STATUSES,
    Initiative,
    InitiativeMember,
    Match,
    MatchStatus,
    Need,
    NeedStatus,
    Role,
    utcnow,
)
from matching.needs import clocks, phases
from matching.permissions import acts_for_initiative, can_manage_need, is_coordinator
from matching.reference import PHASES, URGENCIES
from matching.views import perform, refused_status, require_valid_post

bp = Blueprint("initiatives", __name__)
# Ids above int4 (PostgreSQL SERIAL) never exist; "max" makes the router answer 404 for them
# instead of the database driver failing with an overflow (a 500).


def _my_initiative() -> Initiative | None:
    return db.session.scalar(
        select(Initiative)
        .join(InitiativeMember)
        .where(InitiativeMember.user_id == current_user.id)
        .order_by(Initiative.id)
        .limit(1)
    )


def need_page(view):
    """For the pages that change a need: people acting for initiatives, and coordinators."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not (current_user.has_role(Role.INITIATIVE) or is_coordinator(current_user)):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _managed_need(need_id: int) -> Need:
    """The need if the current user acts for its initiative.

    404 for someone else's need (no hint that it exists); 403 for a coordinator once the
    initiative manages its needs itself.
    """
    need = db.session.get(Need, need_id)
    if need is None or not can_manage_need(db.session, current_user, need):
        abort(404)
    if not acts_for_initiative(db.session, current_user, need):
        abort(403)
    return need


@bp.route("/initiative", methods=["GET", "POST"])
@role_required(Role.INITIATIVE)
def edit_initiative():
    """Create or edit the initiative the current user acts for."""
    initiative = _my_initiative()
    form = InitiativeForm(obj=initiative)
    if form.validate_on_submit():
        data = initiatives.InitiativeInput(
            name=form.name.data,
            district=form.district.data,
            sub_district=form.sub_district.data or "",
            description=form.description.data or "",
            website=form.website.data or "",
        )

        def save() -> object:
            if initiative is None:
                return initiatives.create_initiative(db.session, current_user, data, now=utcnow())
            return initiatives.update_initiative(
                db.session, current_user, initiative, data, now=utcnow()
            )

        saved = perform(
            save,
            done=_("Die Angaben zu Ihrer Initiative sind gespeichert."),
            then=url_for("initiatives.my_needs"),
            form=form,
        )
        if saved is not None:
            return saved
    return render_template(
        "initiatives/initiative.html", form=form, initiative=initiative
    ), refused_status(form)


@bp.route("/meine-anfragen")
@role_required(Role.INITIATIVE)
def my_needs():
    """Meine Anfragen: every need of the user's initiative with its state and next step."""
    initiative = _my_initiative()
    if initiative is None:
        flash(_("Bitte erzählen Sie uns zuerst kurz von Ihrer Initiative."), "info")
        return redirect(url_for("initiatives.edit_initiative"))
    rows = db.session.scalars(
        select(Need).where(Need.initiative_id == initiative.id).order_by(Need.created_at.desc())
    ).all()
    return render_template(
        "initiatives/my_needs.html",
        initiative=initiative,
        needs=rows,
        labels=needs.STATUS_LABELS,
        clocks=clocks.need_clocks(db.session, rows, utcnow()),
        path=phases.phase_path(db.session, initiative.id),
        # Expired needs whose expert still advises: only the search ended.
        advising=set(
            db.session.scalars(
                select(Match.need_id).where(
                    among(Match.need_id, [n.id for n in rows if n.status == NeedStatus.EXPIRED]),
                    Match.status == MatchStatus.ACCEPTED,
                )
            )
        ),
    )


@bp.route("/meine-anfragen/neu", methods=["GET", "POST"])
@role_required(Role.INITIATIVE)
def new_need():
    """Post a need: save as draft or publish at once."""
    initiative = _my_initiative()
    if initiative is None:
        flash(_("Bitte erzählen Sie uns zuerst kurz von Ihrer Initiative."), "info")
        return redirect(url_for("initiatives.edit_initiative"))
    form = NeedForm()
    if request.method == "GET":
        form.district.data = initiative.district
        form.formats.data = ["in_person", "phone"]
    if form.is_submitted() and already_submitted(form.submission.data):
        flash(_("Diese Anfrage wurde schon gespeichert."), "info")
        return redirect(url_for("initiatives.my_needs"))
    if form.validate_on_submit():
        publish = request.form.get("action") == "publish"
        saved = perform(
            lambda: needs.create_need(
                db.session,
                current_user,
                initiative,
                need_input(form),
                now=utcnow(),
                publish=publish,
            ),
            done=_("Ihre Anfrage ist veröffentlicht. Wir suchen jetzt passende Expert:innen.")
            if publish
            else _(
                "Ihre Anfrage ist als Entwurf gespeichert. Sie können sie später veröffentlichen."
            ),
            then=lambda need: url_for("needs.detail", need_id=need.id),
            form=form,
        )
        if saved is not None:
            remember_submission(form.submission.data)
            return saved
    return render_template(
        "initiatives/need_form.html", form=form, need=None, phases=PHASES, urgencies=URGENCIES
    ), refused_status(form)


CHANGED_MEANWHILE = _l(
    "Diese Anfrage wurde inzwischen geändert, in einem anderen Fenster oder von einer anderen "
    "Person Ihrer Initiative. Ihre Eingaben stehen noch unten: Bitte prüfen Sie sie mit Blick "
    "auf die aktuelle Anfrage und speichern Sie dann noch einmal."
)


@bp.route("/anfragen/<id:need_id>/bearbeiten", methods=["GET", "POST"])
@need_page
def edit_need(need_id: int):
    """Edit a draft or open need; a draft can be published from here."""
    need = _managed_need(need_id)
    if need.status not in EDITABLE_NEED_STATUSES:
        flash(_("Nur Entwürfe und offene Anfragen können bearbeitet werden."), "error")
        return redirect(url_for("needs.detail", need_id=need_id))
    form = NeedForm(obj=need)
    current = needs.need_version(need)
    if request.method == "GET":
        form.phases.data = list(need.phases)
        form.formats.data = sorted(need.formats)
        form.seen.data = current
    if form.is_submitted() and form.seen.data and form.seen.data != current:
        # Saved in between (another window, another member): say so and keep what was typed;
        # the next save, knowingly, goes through.
        form.validate()
        form.form_errors.append(CHANGED_MEANWHILE)
        form.seen.data = current
        return render_template(
            "initiatives/need_form.html", form=form, need=need, phases=PHASES, urgencies=URGENCIES
        ), 409
    if form.validate_on_submit():

        def save() -> None:
            now = utcnow()
            # The version the form was opened with, checked again under the row lock.
            needs.update_need(
                db.session,
                current_user,
                need,
                need_input(form),
                now=now,
                expected_version=form.seen.data or None,
            )
            if request.form.get("action") == "publish" and need.status == "draft":
                needs.change_status(db.session, current_user, need, "publish", now=now)

        saved = perform(
            save,
            done=_("Ihre Änderungen sind gespeichert."),
            then=url_for("needs.detail", need_id=need_id),
            form=form,
        )
        if saved is not None:
            return saved
    return render_template(
        "initiatives/need_form.html", form=form, need=need, phases=PHASES, urgencies=URGENCIES
    ), refused_status(form)


@bp.route("/anfragen/<id:need_id>/veroeffentlichen", methods=["POST"])
@need_page
def publish_need(need_id: int):
    return _simple_transition(need_id, "publish", _("Ihre Anfrage ist veröffentlicht."))


@bp.route("/anfragen/<id:need_id>/abschliessen", methods=["GET", "POST"])
@need_page
def close_need(need_id: int):
    """Close a need (GET asks, POST does it)."""
    need = _managed_need(need_id)
    if request.method == "GET" and (ended := _refused_page(need, "close")) is not None:
        return ended
    if request.method == "GET":
        # What closing ends, said before it is done: running advice is finished, whoever
        # is still asked is told (matches.finish_running_advice, matches.end_with_need).
        live = db.session.scalars(
            select(Match).where(Match.need_id == need.id, Match.status.in_(ACTIVE_MATCH_STATUSES))
        ).all()
        return render_template(
            "initiatives/confirm_close.html",
            need=need,
            form=ReasonForm(),
            advising=[m.volunteer.user.first_name for m in live if m.status == "accepted"],
            asked=any(m.status != "accepted" and matches.knows_of(m) for m in live),
        )
    return _simple_transition(need_id, "close", _("Die Anfrage ist abgeschlossen. Danke!"))


def _refused_page(need, action: str):
    """The need's page with the reason, when ``action`` cannot be taken from its state."""
    message = needs.refused_from(need, action)
    if message is None:
        return None
    flash(message, "info")
    return redirect(url_for("needs.detail", need_id=need.id))


def _simple_transition(need_id: int, action: str, done_message: str):
    need = _managed_need(need_id)
    require_valid_post()
    return perform(
        lambda: needs.change_status(db.session, current_user, need, action, now=utcnow()),
        done=done_message,
        then=url_for("needs.detail", need_id=need_id),
    )


@bp.route("/anfragen/<id:need_id>/zurueckziehen", methods=["GET", "POST"])
@need_page
def withdraw_need(need_id: int):
    """Withdraw a need with a reason."""
    need = _managed_need(need_id)
    if request.method == "GET" and (ended := _refused_page(need, "withdraw")) is not None:
        return ended  # no form for a reason that could only be refused and lost
    form = ReasonForm()
    if form.validate_on_submit():
        return perform(
            lambda: needs.change_status(
                db.session, current_user, need, "withdraw", now=utcnow(), reason=form.reason.data
            ),
            done=_("Ihre Anfrage ist zurückgezogen."),
            then=url_for("needs.detail", need_id=need_id),
        )
    return render_template("initiatives/withdraw.html", need=need, form=form), refused_status(form)
