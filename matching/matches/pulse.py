"""The pulse of accepted matches: the last contact, and which ones have gone quiet.

Last contact is the later of the last message and the last meeting that took place (or
was arranged); a match accepted NO_CONTACT_ALERT_DAYS ago with no message and no meeting
since is "silent": highlighted for coordinators and listed in their digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, or_, select, union
from sqlalchemy.orm import Session

from matching.models import (
    Initiative,
    Match,
    MatchMessage,
    MatchStatus,
    Meeting,
    MeetingOutcome,
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
    # The last change to any of its meetings (times proposed, one picked, an outcome): not a
    # contact of its own (a meeting may not take place), but no silence either.
    meeting_activity_at: datetime | None = None

    @property
    def last_contact_at(self) -> datetime | None:
        moments = [m for m in (self.last_message_at, self.last_meeting_at) if m is not None]
        return max(moments) if moments else None


def _accepted_matches(now: datetime):
    """The accepted matches, each with whether it is silent: accepted before the limit, and no
    message and no meeting (in any state) since.

    Which matches had any contact is one pass over the message and meeting ids (a hash join),
    not a lookup per match and per use of the condition.
    """
    contacted = union(select(MatchMessage.match_id), select(Meeting.match_id)).subquery()
    silent = and_(Match.accepted_at <= now - no_contact_after(), contacted.c.match_id.is_(None))
    return (
        select(Match.id)
        .outerjoin(contacted, contacted.c.match_id == Match.id)
        .where(Match.status == MatchStatus.ACCEPTED)
    ), silent


def _query(now: datetime, only_silent: bool, limit: int | None, offset: int = 0):
    """Accepted matches with their last contact: the silent ones first (longest quiet first),
    then the others by id.

    The order and the window are chosen from the matches alone; the names and the last
    contact (latest message, meetings) are read only for the rows in the window, each a
    lookup by the match's index, so the overview's first rows cost the same however many
    matches run.
    """
    window, silent = _accepted_matches(now)
    rank = case((silent, 0), else_=1).label("rank")
    quiet_since = case((silent, Match.accepted_at)).label("quiet_since")
    window = window.add_columns(rank, quiet_since)
    if only_silent:
        window = window.where(silent)
    window = window.order_by(rank, quiet_since, Match.id)
    if limit is not None:
        window = window.limit(limit).offset(offset)
    chosen = window.subquery()
    live = Meeting.status == MeetingStatus.CONFIRMED

    def of_meetings(column, *where):
        return select(column).where(Meeting.match_id == Match.id, *where).scalar_subquery()

    return (
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
            select(func.max(MatchMessage.created_at))
            .where(MatchMessage.match_id == Match.id)
            .scalar_subquery()
            .label("last_message_at"),
            of_meetings(
                func.max(Meeting.starts_at),
                live,
                Meeting.starts_at <= now,
                # not a meeting a side said did not happen (or was moved)
                or_(Meeting.outcome.is_(None), Meeting.outcome == MeetingOutcome.HELD),
            ).label("last_meeting_at"),
            of_meetings(func.min(Meeting.starts_at), live, Meeting.starts_at > now).label(
                "next_meeting_at"
            ),
            of_meetings(func.max(Meeting.updated_at)).label("meeting_activity_at"),
        )
        .select_from(chosen)
        .join(Match, Match.id == chosen.c.id)
        .join(Need, Need.id == Match.need_id)
        .join(Initiative, Initiative.id == Need.initiative_id)
        .join(VolunteerProfile, VolunteerProfile.id == Match.volunteer_id)
        .join(User, User.id == VolunteerProfile.user_id)
        .order_by(chosen.c.rank, chosen.c.quiet_since, Match.id)
    )


def accepted(
    session: Session, now: datetime, limit: int | None = None, offset: int = 0
) -> list[Pulse]:
    """Accepted matches with their last contact (all, or ``limit`` from ``offset``); the silent
    ones first, longest quiet first."""
    return _pulses(session.execute(_query(now, False, limit, offset)).all(), now)


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
    return _pulses(session.execute(_query(now, True, limit)).all(), now)


def silent_count(session: Session, now: datetime) -> int:
    """How many accepted matches are silent, counted by the database."""
    accepted, quiet = _accepted_matches(now)
    counted = accepted.where(quiet).subquery()
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
                meeting_activity_at=_aware(row.meeting_activity_at),
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
