"""The public list of open needs and a need's page (no personal data)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from matching import matches, needs, privacy
from matching.extensions import db
from matching.matches import planning, proposals
from matching.models import (
    ACTIVE_MATCH_STATUSES,
    ADVISED_MATCH_STATUSES,
    EDITABLE_NEED_STATUSES,
    SERVED_MATCH_STATUSES,
    Match,
    Need,
    NeedPass,
    NeedStatus,
    VolunteerProfile,
    utcnow,
)
from matching.needs import clocks, queries
from matching.permissions import acts_for_initiative, can_manage_need, is_coordinator
from matching.reference import DISTRICT_BY_CODE, DISTRICTS, PHASE_BY_CODE, PHASES, RINGS
from matching.toolkit import materials
from matching.views import page_number, paginate

bp = Blueprint("needs", __name__)
# Ids above int4 (PostgreSQL SERIAL) never exist; "max" makes the router answer 404 for them
# instead of the database driver failing with an overflow (a 500).

PER_PAGE = 20


@bp.route("/anfragen")
def index():
    """Open needs, filterable by phase and district (plain GET form), paginated."""
    phase = request.args.get("thema", "")
    district = request.args.get("bezirk", "")
    unknown = (phase and phase not in PHASE_BY_CODE) or (
        district and district not in DISTRICT_BY_CODE
    )
    page = page_number(request.args.get("seite", ""))
    query = queries.open_needs(phase or None, district or None) if not unknown else None
    pagination = None
    if query is not None:
        pagination = paginate(query, page, PER_PAGE)
    return render_template(
        "needs/index.html",
        pagination=pagination,
        needs=pagination.items if pagination else [],
        phase=phase,
        district=district,
        unknown=unknown,
        phases=PHASES,
        districts=DISTRICTS,
        rings=RINGS,
    )


@bp.route("/anfragen/<id:need_id>")
def detail(need_id: int):
    """A need's page: public while open; its initiative and coordinators see it in every state."""
    need = db.session.get(Need, need_id, options=[selectinload(Need.initiative)])
    if need is None:
        abort(404)
    manager = current_user.is_authenticated and can_manage_need(db.session, current_user, need)
    if need.status != NeedStatus.OPEN and not manager:
        return _gone(need)
    need_matches = []
    if manager:
        need_matches = db.session.scalars(
            select(Match)
            .options(selectinload(Match.volunteer).selectinload(VolunteerProfile.user))
            .where(Match.need_id == need.id)
            .order_by(Match.created_at, Match.id)
        ).all()
    shown = [m.volunteer_id for m in need_matches if m.status in ADVISED_MATCH_STATUSES]
    if shown and is_coordinator(current_user):
        privacy.log_contact_view(db.session, current_user, shown, now=utcnow())
        db.session.commit()
    own_match = passed = None
    now = utcnow()
    profile = current_user.volunteer_profile if current_user.is_authenticated else None
    if profile is not None:
        own_match = db.session.scalar(
            select(Match)
            .where(Match.need_id == need.id, Match.volunteer_id == profile.id)
            .order_by(Match.id.desc())
            .limit(1)
        )
        passed = db.session.get(NeedPass, (need.id, profile.id))
    candidates = []
    if is_coordinator(current_user) and need.status == NeedStatus.OPEN:
        candidates = proposals.candidates_for(db.session, need, now, k=10)
    # The initiative sees the experts who were asked or said yes; the coordination all.
    listed = [
        m for m in need_matches if is_coordinator(current_user) or m.status in SERVED_MATCH_STATUSES
    ]
    nobody = None
    live = any(m.status in ACTIVE_MATCH_STATUSES for m in need_matches)
    if manager and need.status == NeedStatus.OPEN and not live and not candidates:
        nobody = planning.why_nobody(db.session, need, now)
    return render_template(
        "needs/detail.html",
        need=need,
        candidates=candidates,
        need_matches=listed,
        own_match=own_match,
        can_offer=profile is not None
        and profile.status == "approved"
        and need.status == NeedStatus.OPEN
        and own_match is None,
        match_labels=matches.STATUS_LABELS,
        manager=manager,
        acts_for=manager and acts_for_initiative(db.session, current_user, need),
        labels=needs.STATUS_LABELS,
        editable=need.status in EDITABLE_NEED_STATUSES,
        waiting_clock=clocks.need_clocks(db.session, [need], now).get(need.id) if manager else None,
        materials=materials.materials_for(db.session, need.phases),
        passed=passed,
        nobody=nobody,
        nobody_text=planning.nobody_sentence(nobody, need) if nobody else "",
    )


# What a reader who may not manage a need learns once it has left the open list.
GONE = {
    NeedStatus.MATCHED: (
        _l("Diese Anfrage hat schon Hilfe gefunden"),
        _l("Eine Expert:in berät diese Initiative bereits. Danke, dass Sie helfen wollten!"),
    ),
    NeedStatus.CLOSED: (
        _l("Diese Anfrage ist abgeschlossen"),
        _l("Die Initiative wurde schon beraten. Danke, dass Sie helfen wollten!"),
    ),
    NeedStatus.ADVISED: (
        _l("Diese Anfrage wurde schon beraten"),
        _l("Eine Expert:in hat diese Initiative beraten. Danke, dass Sie helfen wollten!"),
    ),
    NeedStatus.WITHDRAWN: (
        _l("Diese Anfrage wurde zurückgezogen"),
        _l("Die Initiative braucht hierfür keinen Rat mehr."),
    ),
    NeedStatus.EXPIRED: (
        _l("Diese Anfrage ist abgelaufen"),
        _l("Die Initiative hatte ein Ende für ihre Suche angegeben, und das ist vorbei."),
    ),
}


def _gone(need: Need):
    """410 for a need that was public and has ended; 404 for one that never was (a draft)."""
    if need.published_at is None or need.status not in GONE:
        abort(404)
    title, text = GONE[NeedStatus(need.status)]
    profile = current_user.volunteer_profile if current_user.is_authenticated else None
    own_match = None
    if profile is not None:
        own_match = db.session.scalar(
            select(Match)
            .where(Match.need_id == need.id, Match.volunteer_id == profile.id)
            .order_by(Match.id.desc())
            .limit(1)
        )
    phase = PHASE_BY_CODE.get(need.phases[0]) if need.phases else None
    body = render_template(
        "needs/gone.html",
        need=need,
        heading=title,
        text=text,
        own_match=own_match,
        # An approved volunteer's overview ranks open needs by fit; others filter by topic.
        ranked=profile is not None and profile.status == "approved",
        phase=phase,
    )
    # 410 Gone, not 404: the page existed and has ended (a matched need returns only if its
    # expert drops out). Crawlers drop it, and logs tell it apart from a mistyped address.
    return body, 410
