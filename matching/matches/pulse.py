"""The pulse of accepted matches: the last contact, and which ones have gone quiet.

Last contact is the later of the last message and the last meeting that took place (or
was arranged); a match accepted NO_CONTACT_ALERT_DAYS ago with no message and no meeting
since is "silent": highlighted for coordinators and listed in their digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from matching.models import (
    Initiative,
    Match,
    MatchMessage,
    MatchStatus,
    Meeting,
    MeetingStatus,
    Need,
    User,
    VolunteerProfile,
)


def no_contact_after() -> timedelta:
    return timedelta(days=current_app.config["NO_CONTACT_ALERT_DAYS"])


@dataclass(frozen=True)
class Pulse:
    """One accepted match as coordinators see it."""

    id: int
    need_id: int
    need_title: str
    initiative: str
    volunteer_name: str
    accepted_at: datetime
    last_message_at: datetime | None
    last_meeting_at: datetime | None
    next_meeting_at: datetime | None
    silent: bool
    days_quiet: int

    @property
    def last_contact_at(self) -> datetime | None:
        moments = [m for m in (self.last_message_at, self.last_meeting_at) if m is not None]
        return max(moments) if moments else None


def _query(now: datetime):
    """Accepted matches with their last contact: the silent ones first (longest quiet first),
    then the others by id; and the condition that makes one silent."""
    last_message = (
        select(MatchMessage.match_id, func.max(MatchMessage.created_at).label("at"))
        .group_by(MatchMessage.match_id)
        .subquery()
    )
    live = Meeting.status == MeetingStatus.CONFIRMED
    last_meeting = (
        select(Meeting.match_id, func.max(Meeting.starts_at).label("at"))
        .where(live, Meeting.starts_at <= now)
        .group_by(Meeting.match_id)
        .subquery()
    )
    next_meeting = (
        select(Meeting.match_id, func.min(Meeting.starts_at).label("at"))
        .where(live, Meeting.starts_at > now)
        .group_by(Meeting.match_id)
        .subquery()
    )
    any_meeting = (
        select(Meeting.match_id, func.max(Meeting.updated_at).label("at"))
        .group_by(Meeting.match_id)
        .subquery()
    )
    silent = and_(
        Match.accepted_at <= now - no_contact_after(),
        last_message.c.at.is_(None),
        any_meeting.c.at.is_(None),
    )
    query = (
        select(
            Match.id,
            Match.accepted_at,
            Match.updated_at,
            Match.created_at,
            Need.id.label("need_id"),
            Need.title,
            Initiative.name.label("initiative"),
            User.first_name,
            User.last_name,
            last_message.c.at.label("last_message_at"),
            last_meeting.c.at.label("last_meeting_at"),
            next_meeting.c.at.label("next_meeting_at"),
            any_meeting.c.at.label("meeting_activity_at"),
        )
        .join(Need, Need.id == Match.need_id)
        .join(Initiative, Initiative.id == Need.initiative_id)
        .join(VolunteerProfile, VolunteerProfile.id == Match.volunteer_id)
        .join(User, User.id == VolunteerProfile.user_id)
        .outerjoin(last_message, last_message.c.match_id == Match.id)
        .outerjoin(last_meeting, last_meeting.c.match_id == Match.id)
        .outerjoin(next_meeting, next_meeting.c.match_id == Match.id)
        .outerjoin(any_meeting, any_meeting.c.match_id == Match.id)
        .where(Match.status == MatchStatus.ACCEPTED)
        .order_by(case((silent, 0), else_=1), case((silent, Match.accepted_at)), Match.id)
    )
    return query, silent


def accepted(
    session: Session, now: datetime, limit: int | None = None, offset: int = 0
) -> list[Pulse]:
    """Accepted matches with their last contact (all, or ``limit`` from ``offset``); the silent
    ones first, longest quiet first."""
    query, _silent = _query(now)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return _pulses(session.execute(query).all(), now)


def accepted_count(session: Session, now: datetime) -> int:
    """How many matches are accepted and running."""
    return (
        session.scalar(
            select(func.count()).select_from(Match).where(Match.status == MatchStatus.ACCEPTED)
        )
        or 0
    )


def silent(session: Session, now: datetime, limit: int | None = None) -> list[Pulse]:
    """Accepted matches with no message and no meeting for NO_CONTACT_ALERT_DAYS."""
    query, quiet = _query(now)
    query = query.where(quiet)
    if limit is not None:
        query = query.limit(limit)
    return _pulses(session.execute(query).all(), now)


def silent_count(session: Session, now: datetime) -> int:
    """How many accepted matches are silent, counted by the database."""
    query, quiet = _query(now)
    counted = query.where(quiet).order_by(None).subquery()
    return session.scalar(select(func.count()).select_from(counted)) or 0


def _pulses(rows, now: datetime) -> list[Pulse]:
    limit = now - no_contact_after()
    found = []
    for row in rows:
        # Matches accepted before the time was recorded count from their last change.
        accepted_at = _aware(row.accepted_at or row.updated_at or row.created_at)
        activity = [
            _aware(m)
            for m in (row.last_message_at, row.meeting_activity_at, accepted_at)
            if m is not None
        ]
        latest = max(activity)
        silent = (
            accepted_at <= limit and row.last_message_at is None and row.meeting_activity_at is None
        )
        found.append(
            Pulse(
                id=row.id,
                need_id=row.need_id,
                need_title=row.title,
                initiative=row.initiative,
                volunteer_name=f"{row.first_name} {row.last_name}".strip(),
                accepted_at=accepted_at,
                last_message_at=_aware(row.last_message_at),
                last_meeting_at=_aware(row.last_meeting_at),
                next_meeting_at=_aware(row.next_meeting_at),
                silent=silent,
                days_quiet=(now - latest).days,
            )
        )
    return found


def _aware(moment: datetime | None) -> datetime | None:
    """Aggregates skip the column type: SQLite hands back naive UTC (or text) for max()."""
    from datetime import UTC

    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
