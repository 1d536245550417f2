"""The public list of open needs and a need's page (no personal data)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy.orm import selectinload

from matching.extensions import db
from matching.models import Need, NeedStatus, utcnow
from matching.reference import DISTRICT_BY_CODE, DISTRICTS, PHASE_BY_CODE, PHASES, RINGS
from matching.services import matching, queries
from matching.services import needs as need_service
from matching.services.permissions import can_manage_need, is_coordinator

bp = Blueprint("needs", __name__)
# Ids above int4 (PostgreSQL SERIAL) never exist; "max" makes the router answer 404 for them
# instead of the database driver failing with an overflow (a 500).

PER_PAGE = 20


def _page_number(raw: str) -> int:
    """The requested page, or 1 for anything that is not a plain number from 1 to 9999."""
    # isdigit() also accepts "²", which int() refuses; a length cap avoids huge ints.
    if len(raw) > 4 or not raw.isascii() or not raw.isdigit():
        return 1
    return max(int(raw), 1)


@bp.route("/anfragen")
def index():
    """Open needs, filterable by phase and district (plain GET form), paginated."""
    phase = request.args.get("thema", "")
    district = request.args.get("bezirk", "")
    unknown = (phase and phase not in PHASE_BY_CODE) or (
        district and district not in DISTRICT_BY_CODE
    )
    page = _page_number(request.args.get("seite", ""))
    query = queries.open_needs(phase or None, district or None) if not unknown else None
    pagination = (
        db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)
        if query is not None
        else None
    )
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


@bp.route("/anfragen/<int(max=2147483647):need_id>")
def detail(need_id: int):
    """A need's page: public while open; its initiative and coordinators see it in every state."""
    need = db.session.get(Need, need_id, options=[selectinload(Need.initiative)])
    if need is None:
        abort(404)
    manager = current_user.is_authenticated and can_manage_need(db.session, current_user, need)
    if need.status != NeedStatus.OPEN and not manager:
        abort(404)
    candidates = []
    if is_coordinator(current_user) and need.status == NeedStatus.OPEN:
        candidates = matching.candidates_for(db.session, need, utcnow(), k=10)
    return render_template(
        "needs/detail.html",
        need=need,
        candidates=candidates,
        manager=manager,
        labels=need_service.STATUS_LABELS,
        editable=need.status in need_service.EDITABLE,
    )
