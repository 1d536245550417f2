"""Coordinator pages: volunteer profiles waiting for approval."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from matching import accessibility, audit, initiatives, matches, privacy, profiles
from matching.access import role_required
from matching.coordination.forms import PhoneNeedForm, RejectForm, ReturnProfileForm
from matching.extensions import db
from matching.forms import BaseForm, already_submitted, remember_submission
from matching.initiatives import assisted
from matching.initiatives.forms import need_input
from matching.matches import proposals
from matching.models import (
    AuditEntry,
    BarrierReport,
    Initiative,
    Match,
    MatchOrigin,
    MatchStatus,
    Need,
    NeedStatus,
    ProfileStatus,
    Role,
    User,
    VolunteerProfile,
    utcnow,
)
from matching.needs import clocks
from matching.reference import DISTRICT_BY_CODE, LANGUAGES, LEVELS, PHASES, URGENCIES
from matching.urls import parse_id
from matching.views import (
    get_or_404,
    page_number,
    paginate,
    perform,
    refused_status,
    require_valid_post,
)

bp = Blueprint("coordination", __name__, url_prefix="/koordination")

QUEUE_PAGE_SIZE = 20

ORIGIN_LABELS = {
    MatchOrigin.ENGINE: _l("Automatischer Vorschlag"),
    MatchOrigin.OFFER: _l("„Ich kann helfen“"),
    MatchOrigin.MANUAL: _l("Von Hand zugeordnet"),
}

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


@bp.route("/profile/<id:profile_id>", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def review_profile(profile_id: int):
    """One waiting profile: approve, or send back with a reason (mailed to the volunteer)."""
    return _review_page(get_or_404(VolunteerProfile, profile_id), ReturnProfileForm())


def _review_page(profile: VolunteerProfile, return_form: ReturnProfileForm) -> str:
    """The profile with its two answers; reading it is logged (contact data are on it)."""
    privacy.log_contact_view(db.session, current_user, [profile.id], now=utcnow())
    db.session.commit()
    return render_template(
        "coordination/review_profile.html",
        profile=profile,
        approve_form=BaseForm(),
        return_form=return_form,
        phases=PHASES,
        levels=LEVELS,
        languages=LANGUAGES,
        district_by_code=DISTRICT_BY_CODE,
    )


@bp.route("/profile/<id:profile_id>/freigeben", methods=["POST"])
@role_required(Role.COORDINATOR)
def approve_profile(profile_id: int):
    profile = get_or_404(VolunteerProfile, profile_id)
    require_valid_post()
    return perform(
        lambda: profiles.approve_profile(db.session, current_user, profile, now=utcnow()),
        done=lambda _r: _("Das Profil von %(name)s ist freigegeben.", name=profile.user.first_name),
        then=url_for("coordination.waiting_profiles"),
    )


@bp.route("/profile/<id:profile_id>/zurueck", methods=["POST"])
@role_required(Role.COORDINATOR)
def return_profile(profile_id: int):
    profile = get_or_404(VolunteerProfile, profile_id)
    form = ReturnProfileForm()
    if not form.validate_on_submit():
        if profile.status != ProfileStatus.PENDING:  # no form on the page to show it at
            flash(_("Bitte schreiben Sie kurz, was im Profil noch fehlt."), "error")
            return redirect(url_for("coordination.review_profile", profile_id=profile_id))
        # The profile page again, with what was typed and the message at the reason.
        return _review_page(profile, form), 422
    return perform(
        lambda: profiles.return_profile(
            db.session, current_user, profile, form.reason.data, now=utcnow()
        ),
        done=lambda _r: _(
            "Das Profil ging mit Ihrer Nachricht an %(name)s zurück.", name=profile.user.first_name
        ),
        then=url_for("coordination.waiting_profiles"),
    )


@bp.route("/vorschlaege")
@role_required(Role.COORDINATOR)
def queue():
    """Proposals waiting for a decision, oldest first, with the reasons and other candidates."""
    volunteer = selectinload(Match.volunteer)
    pagination = paginate(
        select(Match)
        .options(
            selectinload(Match.need).selectinload(Need.initiative),
            # Only names are shown: the volunteers' roles are not loaded with them.
            volunteer.selectinload(VolunteerProfile.user).lazyload(User.role_rows),
            # The queue names each volunteer; their levels, districts and languages (loaded
            # with every profile by default) were most of this query's time.
            volunteer.lazyload(VolunteerProfile.levels),
            volunteer.lazyload(VolunteerProfile.district_rows),
            volunteer.lazyload(VolunteerProfile.language_rows),
        )
        .where(Match.status == MatchStatus.PROPOSED)
        .order_by(Match.created_at, Match.id),
        page_number(request.args.get("seite", "")),
        QUEUE_PAGE_SIZE,
    )
    waiting = pagination.items
    # Ranking the other candidates costs time per need: only for the page shown.
    needs = list({m.need_id: m.need for m in waiting}.values())
    now = utcnow()
    others = proposals.candidates_by_need(db.session, needs, now, k=4)
    return render_template(
        "coordination/queue.html",
        pagination=pagination,
        waiting=waiting,
        others=others,
        form=BaseForm(),
        origins=ORIGIN_LABELS,
        highlighted={m.id for m in waiting if clocks.is_highlighted(m, now)},
        clocks={m.id: clocks.match_clock(m, now) for m in waiting},
        today=now.date(),
    )


@bp.route("/vorschlaege/<id:match_id>/freigeben", methods=["POST"])
@role_required(Role.COORDINATOR)
def approve_match(match_id: int):
    """Approve a proposal: the volunteer is asked to accept."""
    match = get_or_404(Match, match_id)
    require_valid_post()
    name = match.volunteer.user.first_name  # read before the commit expires it
    return perform(
        lambda: matches.change_status(db.session, current_user, match, "approve", now=utcnow()),
        done=_("Freigegeben. %(name)s wird gebeten zuzusagen.", name=name),
        then=url_for("coordination.queue"),
    )


@bp.route("/vorschlaege/<id:match_id>/ablehnen", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def reject_match(match_id: int):
    """Reject a proposal with a reason; the pair is never proposed again."""
    match = get_or_404(Match, match_id)
    if request.method == "GET" and match.status != MatchStatus.PROPOSED:
        # An old link or the back button: the form would only be refused when sent.
        flash(_("Dieser Vorschlag wurde schon entschieden."), "info")
        return redirect(url_for("matches.detail", match_id=match.id))
    form = RejectForm()
    if form.validate_on_submit():
        return perform(
            lambda: matches.change_status(
                db.session,
                current_user,
                match,
                "reject",
                now=utcnow(),
                reason=form.reason.data,
                share_reason=bool(form.share.data),
            ),
            done=_("Der Vorschlag ist abgelehnt."),
            then=url_for("coordination.queue"),
        )
    return render_template("coordination/reject.html", match=match, form=form), refused_status(form)


@bp.route("/anfragen/<id:need_id>/zuordnen", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def assign(need_id: int):
    """Assign an expert by hand: the ranked list, or a search by name for anyone approved."""
    need = get_or_404(Need, need_id)
    form = BaseForm()
    if form.validate_on_submit():
        volunteer_id = parse_id(request.form.get("volunteer_id"))
        profile = db.session.get(VolunteerProfile, volunteer_id) if volunteer_id else None
        if profile is None:
            flash(_("Diese Person gibt es nicht. Bitte wählen Sie aus der Liste."), "error")
            return redirect(url_for("coordination.assign", need_id=need_id))
        return perform(
            lambda: proposals.assign_by_hand(db.session, current_user, need, profile, utcnow()),
            done=lambda _r: _(
                "%(name)s ist zugeordnet und wird gebeten zuzusagen.", name=profile.user.first_name
            ),
            then=url_for("needs.detail", need_id=need_id),
            refused_then=url_for("coordination.assign", need_id=need_id),
        )
    query = request.args.get("name", "").strip()[:80]
    ranked = (
        proposals.candidates_for(db.session, need, utcnow(), k=20)
        if need.status == NeedStatus.OPEN
        else []
    )
    found = []
    if query:
        pattern = f"%{query.lower()}%"
        found = db.session.scalars(
            select(VolunteerProfile)
            .join(VolunteerProfile.user)
            .options(selectinload(VolunteerProfile.user))
            .where(
                VolunteerProfile.status == ProfileStatus.APPROVED,
                User.disabled_at.is_(None),  # an erased account is nobody to assign
                or_(
                    func.lower(User.first_name).like(pattern),
                    func.lower(User.last_name).like(pattern),
                ),
            )
            .order_by(User.first_name, User.last_name)
            .limit(30)
        ).all()
    return render_template(
        "coordination/assign.html", need=need, ranked=ranked, found=found, query=query, form=form
    ), refused_status(form)


@bp.route("/anfragen/<id:need_id>/verlauf")
@role_required(Role.COORDINATOR)
def history(need_id: int):
    """Who did what and when to a need and its matches."""
    need = db.session.get(Need, need_id)
    if need is None:
        abort(404)
    match_ids = select(Match.id).where(Match.need_id == need_id)
    entries = db.session.scalars(
        select(AuditEntry)
        .options(selectinload(AuditEntry.actor))
        .where(
            or_(
                (AuditEntry.object_type == "need") & (AuditEntry.object_id == need_id),
                (AuditEntry.object_type == "match") & AuditEntry.object_id.in_(match_ids),
            )
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    # Each match's expert, so every entry about a match says whom it was about.
    experts = dict(
        db.session.execute(
            select(Match.id, User.first_name + " " + User.last_name)
            .join(VolunteerProfile, VolunteerProfile.id == Match.volunteer_id)
            .join(User, User.id == VolunteerProfile.user_id)
            .where(Match.need_id == need_id)
        ).all()
    )
    return render_template(
        "coordination/history.html",
        need=need,
        entries=entries,
        actions=audit.ACTION_LABELS,
        experts=experts,
    )


@bp.route("/anfrage-aufnehmen", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def record_phone_need():
    """Take down a need by phone for an initiative without an account."""
    form = PhoneNeedForm()
    if request.method == "GET":
        form.formats.data = ["in_person", "phone"]
    if form.is_submitted() and already_submitted(form.submission.data):
        flash(_("Diese Anfrage wurde schon gespeichert."), "info")
        return redirect(url_for("reports.dashboard"))
    known = assisted.initiatives_named(db.session, form.initiative_name.data or "")
    form.initiative_choice.choices = [
        *((str(i.id), _known_label(i)) for i in known),
        (NEW_INITIATIVE, _("Eine andere, neue Initiative mit diesem Namen anlegen")),
    ]
    existing, chosen = _chosen_initiative(form, known)
    valid = form.validate_on_submit()
    if valid and not chosen:
        form.initiative_choice.errors = [
            _(
                "Eine Initiative mit diesem Namen gibt es schon. Bitte wählen Sie, ob die "
                "Anfrage zu ihr gehört oder zu einer neuen Initiative."
            )
        ]
    elif valid:
        publish = request.form.get("action") == "publish"

        def record() -> Need:
            return assisted.record_need_by_phone(
                db.session,
                current_user,
                initiatives.InitiativeInput(
                    name=form.initiative_name.data,
                    district=form.district.data,
                    sub_district=form.sub_district.data or "",
                    description="",
                    website="",
                ),
                assisted.PhoneContact(
                    name=form.contact_name.data or "",
                    phone=form.contact_phone.data or "",
                    email=form.contact_email.data or "",
                    consent=bool(form.consent.data),
                    consent_on=form.consent_on.data,
                ),
                need_input(form),
                now=utcnow(),
                publish=publish,
                existing=existing,
            )

        done = perform(
            record,
            done=_("Die Anfrage ist aufgenommen und veröffentlicht.")
            if publish
            else _("Die Anfrage ist als Entwurf gespeichert."),
            then=lambda need: url_for("needs.detail", need_id=need.id),
            form=form,
        )
        if done is not None:
            remember_submission(form.submission.data)
            return done
    return render_template(
        "coordination/phone_need.html",
        form=form,
        phases=PHASES,
        urgencies=URGENCIES,
        known=known,
    ), refused_status(form)


NEW_INITIATIVE = "neu"


def _known_label(initiative: Initiative) -> str:
    district = DISTRICT_BY_CODE.get(initiative.district)
    place = district.name if district else initiative.district
    if initiative.member_rows:
        return _(
            "%(name)s (%(district)s), hat ein eigenes Konto: die Anfrage erscheint dort",
            name=initiative.name,
            district=place,
        )
    return _("%(name)s (%(district)s), ohne Konto", name=initiative.name, district=place)


def _chosen_initiative(
    form: PhoneNeedForm, known: list[Initiative]
) -> tuple[Initiative | None, bool]:
    """The known initiative picked on the form, and whether the choice is made.

    A name nobody has yet needs no choice; a stale or made-up choice counts as none.
    """
    if not known:
        return None, True
    choice = form.initiative_choice.data or ""
    if choice == NEW_INITIATIVE:
        return None, True
    picked = next((i for i in known if str(i.id) == choice), None)
    return picked, picked is not None


@bp.route("/initiativen/<id:initiative_id>/einladen", methods=["POST"])
@role_required(Role.COORDINATOR)
def invite_initiative(initiative_id: int):
    """Invite an initiative recorded by phone to take its needs over with an account."""
    initiative = get_or_404(Initiative, initiative_id)
    require_valid_post()
    back = parse_id(request.form.get("need_id"))
    return perform(
        lambda: assisted.invite(db.session, current_user, initiative, now=utcnow()),
        done=lambda sent: [
            (
                _("Die Einladung ist an %(email)s unterwegs.", email=initiative.contact_email),
                "success",
            )
            if sent
            else (_("Die Einladung wurde heute schon verschickt."), "info")
        ],
        then=url_for("needs.detail", need_id=back)
        if back is not None
        else url_for("reports.dashboard"),
    )


@bp.route("/barrieren/<id:report_id>/erledigt", methods=["POST"])
@role_required(Role.COORDINATOR)
def barrier_handled(report_id: int):
    """Mark a reported barrier as handled."""
    report = get_or_404(BarrierReport, report_id)
    require_valid_post()
    return perform(
        lambda: accessibility.mark_handled(db.session, current_user, report, now=utcnow()),
        done=_("Die Meldung ist als erledigt eingetragen."),
        then=url_for("reports.dashboard"),
    )


# --- Vermittlung: the engine's runs, a preview and applying it -------------------------------


@bp.route("/vermittlung")
@role_required(Role.COORDINATOR)
def matching_page():
    """When the engine last ran and what it did; the weights in effect; the preview button."""
    from matching.matches import planning

    return render_template(
        "coordination/matching.html",
        runs=planning.last_runs(db.session),
        weights=proposals.weights(),
        interval=current_app.config["MATCHING_INTERVAL_MINUTES"],
        preview=None,
        form=BaseForm(),
    )


@bp.route("/vermittlung/vorschau")
@role_required(Role.COORDINATOR)
def matching_preview():
    """What a run would do now (nothing is written), with "Übernehmen" below it."""
    from matching.matches import planning

    preview = planning.preview(db.session, utcnow())  # reads only (tests/test_matching_page.py)
    return render_template(
        "coordination/matching.html",
        runs=planning.last_runs(db.session),
        weights=proposals.weights(),
        interval=current_app.config["MATCHING_INTERVAL_MINUTES"],
        preview=preview,
        form=BaseForm(),
    )


@bp.route("/vermittlung/uebernehmen", methods=["POST"])
@role_required(Role.COORDINATOR)
def matching_apply():
    """Propose the previewed pairs that still fit; say what changed since the preview."""
    from matching.matches import planning

    require_valid_post()

    def said(result: planning.Applied) -> list[tuple[str, str]]:
        notes = [
            (
                ngettext(
                    "%(num)d Vorschlag übernommen; er wartet jetzt in der Liste der Vorschläge.",
                    "%(num)d Vorschläge übernommen; sie warten jetzt in der Liste der Vorschläge.",
                    result.proposed,
                ),
                "success",
            )
            if result.proposed
            else (_("Nichts Neues übernommen."), "info")
        ]
        if result.refused:
            notes.append(
                (
                    _("Seit der Vorschau hat sich etwas geändert:")
                    + " "
                    + "; ".join(result.refused),
                    "info",
                )
            )
        return notes

    return perform(
        lambda: planning.apply(
            db.session, current_user, planning.read_pairs(request.form.getlist("pair")), utcnow()
        ),
        done=said,
        then=url_for("coordination.matching_page"),
    )
