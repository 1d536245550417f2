"""What the match page shows after the match: the thread, the first meeting, the last contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching.matches import meetings
from matching.matches.participants import role_in
from matching.models import (
    SERVED_MATCH_STATUSES,
    Match,
    MatchMessage,
    Meeting,
    User,
)


@dataclass(frozen=True)
class AfterMatch:
    thread_open: bool
    messages: int
    last_message_at: datetime | None
    meeting: Meeting | None  # the live one (proposed or confirmed)
    past_meetings: list[Meeting]
    role: str | None
    may_pick: bool
    may_propose: bool
    may_cancel: bool
    ask_outcome: bool
    last_meeting_at: datetime | None = None
    next_meeting_at: datetime | None = None

    @property
    def last_contact_at(self) -> datetime | None:
        moments = [m for m in (self.last_message_at, self.last_meeting_at) if m is not None]
        return max(moments) if moments else None


def overview(session: Session, match: Match, viewer: User, now: datetime) -> AfterMatch:
    """The after-the-match part of the match page for this viewer."""
    count, last = session.execute(
        select(func.count(MatchMessage.id), func.max(MatchMessage.created_at)).where(
            MatchMessage.match_id == match.id
        )
    ).one()
    role = role_in(session, viewer, match)
    live = meetings.current(session, match)
    every = meetings.for_match(session, match)
    past = [m for m in every if m is not live]
    # A meeting counts as contact once its time came, unless a side said it did not happen.
    held = [
        m.starts_at
        for m in every
        if m.status == "confirmed" and m.starts_at <= now and m.outcome in (None, "held")
    ]
    coming = [m.starts_at for m in every if m.status == "confirmed" and m.starts_at > now]
    return AfterMatch(
        thread_open=match.status in SERVED_MATCH_STATUSES,
        messages=count,
        last_message_at=last,
        meeting=live,
        past_meetings=past,
        role=role,
        may_pick=live is not None and meetings.may_pick(session, viewer, live),
        may_propose=match.status == "accepted" and role in meetings.SIDES,
        may_cancel=live is not None and meetings.may_cancel(live, now),
        ask_outcome=live is not None
        and live.status == "confirmed"
        and live.outcome is None
        and live.ends_at <= now
        and role in meetings.SIDES,
        last_meeting_at=max(held) if held else None,
        next_meeting_at=min(coming) if coming else None,
    )
