"""Read-side queries shared by pages, the API and the feeds; each in a fixed number of statements."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, contains_eager

from matching.models import (
    ACTIVE_MATCH_STATUSES,
    ENGAGED_MATCH_STATUSES,
    Initiative,
    Match,
    Need,
    NeedPhase,
    NeedStatus,
    VolunteerProfile,
)
from matching.reference import REMOTE_FORMATS


def open_needs(phase: str | None = None, district: str | None = None) -> Select:
    """Open needs, newest first, with their initiative loaded in the same statement."""
    query = (
        select(Need)
        .join(Need.initiative)
        .options(contains_eager(Need.initiative))
        .where(Need.status == NeedStatus.OPEN)
        .order_by(Need.published_at.desc(), Need.id.desc())
    )
    if phase:
        query = query.where(exists().where(NeedPhase.need_id == Need.id, NeedPhase.phase == phase))
    if district:
        query = query.where(Need.district == district)
    return query


def fitting_needs(profile: VolunteerProfile, limit: int = 20) -> Select:
    """Open needs in a phase the volunteer knows, in a place and language they serve."""
    phases = [p for p, level in profile.level_by_phase.items() if level >= 1]
    place = [Need.district.in_(sorted(profile.districts))] if profile.districts else []
    if profile.whole_city:
        place = [Need.id.is_not(None)]
    if profile.formats & REMOTE_FORMATS:
        place.append(or_(Need.accepts_phone.is_(True), Need.accepts_video.is_(True)))
    excluded = exists().where(
        Match.need_id == Need.id,
        Match.volunteer_id == profile.id,
    )
    return (
        open_needs()
        .where(exists().where(NeedPhase.need_id == Need.id, NeedPhase.phase.in_(phases)))
        .where(or_(*place) if place else Need.id.is_(None))
        .where(Need.language.in_(sorted(profile.languages)))
        .where(~excluded)
        .where(Initiative.id.not_in(_member_initiatives(profile)))
        .limit(limit)
    )


def _member_initiatives(profile: VolunteerProfile):
    from matching.models import InitiativeMember

    return select(InitiativeMember.initiative_id).where(InitiativeMember.user_id == profile.user_id)


def active_engagements(session: Session, profile_id: int) -> int:
    """How many matches of this volunteer are approved or accepted (count against capacity)."""
    return session.scalar(
        select(func.count())
        .select_from(Match)
        .where(
            Match.volunteer_id == profile_id,
            Match.status.in_(ENGAGED_MATCH_STATUSES),
        )
    )


def engagements_by_status(session: Session, profile_id: int) -> dict[str, int]:
    """This volunteer's live matches by status: proposed (the coordination decides), approved
    (waiting for their yes) and accepted (running). Each holds one of their places, as the
    engine counts them."""
    rows = session.execute(
        select(Match.status, func.count())
        .where(
            Match.volunteer_id == profile_id,
            Match.status.in_(ACTIVE_MATCH_STATUSES),
        )
        .group_by(Match.status)
    )
    counts = {status.value: 0 for status in ACTIVE_MATCH_STATUSES}
    counts.update(dict(rows.tuples().all()))
    return counts


def is_available(profile: VolunteerProfile, today: date) -> bool:
    return profile.paused_until is None or profile.paused_until <= today


def open_needs_page(
    phase: str | None,
    district: str | None,
    updated_since: datetime | None,
    after: tuple[datetime, int] | None,
    limit: int,
) -> Select:
    """A page of open needs, newest publication first, starting after a keyset position.

    Keyset rather than offset pagination: needs published or closed meanwhile do not shift
    the pages, so no entry repeats and none is skipped.
    """
    published = publication_time()
    query = open_needs(phase, district).order_by(None).order_by(published.desc(), Need.id.desc())
    if updated_since is not None:
        query = query.where(Need.updated_at >= updated_since)
    if after is not None:
        at, need_id = after
        query = query.where(or_(published < at, and_(published == at, Need.id < need_id)))
    return query.limit(limit)


def publication_time():
    """When a need was published; its creation for the rare open need without that date."""
    return func.coalesce(Need.published_at, Need.created_at)


def last_need_change(phase: str | None = None, district: str | None = None) -> Select:
    """When any need in this phase or district last changed, in whatever state it is now.

    A feed's own time moves when a need leaves it (closed, withdrawn), not only when one joins.
    """
    query = select(func.max(Need.updated_at))
    if phase:
        query = query.where(exists().where(NeedPhase.need_id == Need.id, NeedPhase.phase == phase))
    if district:
        query = query.where(Need.district == district)
    return query
