"""Volunteer pages: the profile form and "Meine Übersicht"."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import defer, lazyload, selectinload

from matching import matches, profiles
from matching.access import role_required
from matching.extensions import db
from matching.forms import BaseForm
from matching.matches import passes, proposals
from matching.models import (
    Match,
    MatchStatus,
    Need,
    ProfileStatus,
    Role,
    VolunteerProfile,
    utcnow,
)
from matching.needs import clocks, queries
from matching.profiles.forms import ProfileForm
from matching.reference import DISTRICTS, LEVELS, PHASES, RINGS
from matching.views import perform, refused_status

bp = Blueprint("profiles", __name__)


def _form_from_profile(profile) -> ProfileForm:
    form = ProfileForm()
    if profile is None or form.is_submitted():
        return form
    for phase, level in profile.level_by_phase.items():
        form[f"level_{phase}"].data = str(level)
    form.districts.data = sorted(profile.districts)
    form.whole_city.data = profile.whole_city
    form.languages.data = sorted(profile.languages)
    form.formats.data = sorted(profile.formats)
    form.capacity.data = profile.capacity
    form.paused_until.data = profile.paused_until
    form.bio.data = profile.bio
    form.phone.data = current_user.phone
    return form


@bp.route("/profil", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def profile():
    """The volunteer's own profile; saving sends it to the coordinators when needed."""
    current = current_user.volunteer_profile
    form = _form_from_profile(current)
    if current is None and not form.is_submitted():
        form.languages.data = ["de"]
        form.formats.data = ["in_person", "phone"]
    last_change = profiles.profile_version(current) if current else ""
    if not form.is_submitted():
        form.seen.data = last_change
    elif form.seen.data and form.seen.data != last_change:
        # Saved in between (another window, or the coordination's decision): keep what was
        # typed, say why, and let the next save through.
        form.validate()
        form.form_errors.append(CHANGED_MEANWHILE)
        form.seen.data = last_change
        return _page(form, current), 409
    if form.validate_on_submit():
        data = profiles.ProfileInput(
            levels=form.levels(),
            districts=form.districts.data or [],
            whole_city=form.whole_city.data,
            languages=form.languages.data or [],
            formats=form.formats.data or [],
            capacity=form.capacity.data,
            paused_until=form.paused_until.data,
            bio=form.bio.data or "",
            phone=form.phone.data or "",
        )
        saved = perform(
            # The version the form was opened with, checked again under the row lock.
            lambda: profiles.save_profile(
                db.session,
                current_user,
                data,
                now=utcnow(),
                expected_version=form.seen.data or None,
            ),
            done=lambda result: (
                _(
                    "Danke! Ihr Profil ist gespeichert. Die Koordination schaut es sich an und gibt es frei – meist innerhalb von drei Tagen."
                )
                if result[1]
                else _("Ihr Profil ist gespeichert.")
            ),
            then=url_for("profiles.overview"),
            form=form,
        )
        if saved is not None:
            return saved
    return _page(form, current), refused_status(form)


CHANGED_MEANWHILE = _l(
    "Ihr Profil wurde inzwischen in einem anderen Fenster geändert. Ihre Eingaben stehen "
    "noch unten: Bitte prüfen Sie sie und speichern Sie dann noch einmal."
)


def _page(form: ProfileForm, current):
    return render_template(
        "profiles/profile.html",
        form=form,
        phases=PHASES,
        levels=LEVELS,
        districts=DISTRICTS,
        rings=RINGS,
        profile=current,
        lowered=passes.lowered_phases(db.session, current) if current else [],
        reset_form=BaseForm(),
    )


@bp.route("/profil/themen-zuruecksetzen", methods=["POST"])
@role_required(Role.VOLUNTEER)
def reset_field_feedback():
    """Every topic counts fully again after "passt fachlich nicht" answers."""
    profile = current_user.volunteer_profile
    if profile is None or not BaseForm().validate_on_submit():
        abort(400)
    return perform(
        lambda: passes.reset_field_feedback(db.session, current_user, profile, now=utcnow()),
        done=_("Alle Themen zählen wieder voll."),
        then=url_for("profiles.profile"),
    )


@bp.route("/uebersicht")
@role_required(Role.VOLUNTEER)
def overview():
    """Meine Übersicht: profile state, engagements against capacity, fitting open needs."""
    # The page shows the profile's state, not its topics, districts and languages (loaded with
    # every profile by default): the ranking takes them from the kept pool of volunteers.
    profile = db.session.scalars(
        select(VolunteerProfile)
        .options(
            lazyload(VolunteerProfile.levels),
            lazyload(VolunteerProfile.district_rows),
            lazyload(VolunteerProfile.language_rows),
        )
        .where(VolunteerProfile.user_id == current_user.id)
    ).first()
    if profile is None:
        flash(_("Bitte legen Sie zuerst Ihr Profil an. Das dauert nur ein paar Minuten."), "info")
        return redirect(url_for("profiles.profile"))
    now = utcnow()
    engagements = queries.engagements_by_status(db.session, profile.id)
    active = sum(engagements.values())
    ranked = []
    if profile.status == ProfileStatus.APPROVED:
        ranked = proposals.ranked_needs_for(db.session, profile, now, k=10)
    my_matches = db.session.scalars(
        select(Match)
        .options(
            # The list names each need and its initiative; the phases and the match's
            # explanation are not shown here.
            selectinload(Match.need).options(
                selectinload(Need.initiative), lazyload(Need.phase_rows)
            ),
            defer(Match.explanation),
        )
        .where(
            Match.volunteer_id == profile.id,
            Match.status.in_(
                [
                    MatchStatus.PROPOSED,
                    MatchStatus.APPROVED,
                    MatchStatus.ACCEPTED,
                    MatchStatus.COMPLETED,
                ]
            ),
        )
        .order_by(Match.updated_at.desc(), Match.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "profiles/overview.html",
        profile=profile,
        my_matches=my_matches,
        match_labels=matches.STATUS_LABELS,
        running=engagements[MatchStatus.ACCEPTED],
        waiting_for_yes=engagements[MatchStatus.APPROVED],
        with_coordination=engagements[MatchStatus.PROPOSED],
        ranked=ranked,
        full=active >= profile.capacity,
        available=queries.is_available(profile, now.date()),
        clocks={m.id: clocks.match_clock(m, now) for m in my_matches},
    )
