"""Coordinator pages: volunteer profiles waiting for approval."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from matching import mail
from matching.access import role_required
from matching.extensions import db
from matching.forms import ReasonForm
from matching.models import ProfileStatus, Role, VolunteerProfile, utcnow
from matching.reference import DISTRICT_BY_CODE, LANGUAGES, LEVELS, PHASES
from matching.services import profiles
from matching.services.errors import ServiceError

bp = Blueprint("coordination", __name__, url_prefix="/koordination")
# Ids above int4 (PostgreSQL SERIAL) never exist; "max" makes the router answer 404 for them
# instead of the database driver failing with an overflow (a 500).


@bp.route("/profile")
@role_required(Role.COORDINATOR)
def waiting_profiles():
    """Volunteer profiles waiting for approval, oldest first."""
    rows = db.session.scalars(
        select(VolunteerProfile)
        .options(selectinload(VolunteerProfile.user))
        .where(VolunteerProfile.status == ProfileStatus.PENDING)
        .order_by(VolunteerProfile.submitted_at, VolunteerProfile.id)
    ).all()
    return render_template(
        "coordination/waiting_profiles.html",
        profiles=rows,
        phases=PHASES,
        levels=LEVELS,
        district_by_code=DISTRICT_BY_CODE,
    )


@bp.route("/profile/<int(max=2147483647):profile_id>", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def review_profile(profile_id: int):
    """One waiting profile: approve, or send back with a reason (mailed to the volunteer)."""
    profile = db.session.get(VolunteerProfile, profile_id)
    if profile is None:
        abort(404)
    return_form = ReasonForm()
    return render_template(
        "coordination/review_profile.html",
        profile=profile,
        approve_form=FlaskForm(),
        return_form=return_form,
        phases=PHASES,
        levels=LEVELS,
        languages=LANGUAGES,
        district_by_code=DISTRICT_BY_CODE,
    )


@bp.route("/profile/<int(max=2147483647):profile_id>/freigeben", methods=["POST"])
@role_required(Role.COORDINATOR)
def approve_profile(profile_id: int):
    profile = db.session.get(VolunteerProfile, profile_id)
    if profile is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        profiles.approve_profile(db.session, current_user, profile, now=utcnow())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("coordination.waiting_profiles"))
    db.session.commit()
    mail.send_to_user(
        profile.user,
        "profile_approved",
        _l("Ihr Profil ist freigegeben"),
        overview_url=mail.absolute_url("volunteers.overview"),
    )
    flash(_("Das Profil von %(name)s ist freigegeben.", name=profile.user.first_name), "success")
    return redirect(url_for("coordination.waiting_profiles"))


@bp.route("/profile/<int(max=2147483647):profile_id>/zurueck", methods=["POST"])
@role_required(Role.COORDINATOR)
def return_profile(profile_id: int):
    profile = db.session.get(VolunteerProfile, profile_id)
    if profile is None:
        abort(404)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Bitte schreiben Sie kurz, was im Profil noch fehlt."), "error")
        return redirect(url_for("coordination.review_profile", profile_id=profile_id))
    try:
        profiles.return_profile(db.session, current_user, profile, form.reason.data, now=utcnow())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("coordination.waiting_profiles"))
    db.session.commit()
    mail.send_to_user(
        profile.user,
        "profile_returned",
        _l("Bitte ergänzen Sie Ihr Profil"),
        reason=profile.review_reason,
        profile_url=mail.absolute_url("volunteers.profile"),
    )
    flash(
        _("Das Profil ging mit Ihrer Nachricht an %(name)s zurück.", name=profile.user.first_name),
        "success",
    )
    return redirect(url_for("coordination.waiting_profiles"))
