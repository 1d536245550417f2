"""What the match page shows after the match: the thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching.matches import messages
from matching.matches.participants import role_in
from matching.models import Match, MatchMessage, User


@dataclass(frozen=True)
class AfterMatch:
    thread_open: bool
    messages: int
    last_message_at: datetime | None
    role: str | None


def overview(session: Session, match: Match, viewer: User, now: datetime) -> AfterMatch:
    """The after-the-match part of the match page for this viewer."""
    count, last = session.execute(
        select(func.count(MatchMessage.id), func.max(MatchMessage.created_at)).where(
            MatchMessage.match_id == match.id
        )
    ).one()
    role = role_in(session, viewer, match)
    return AfterMatch(
        thread_open=match.status in messages.OPEN_STATUSES,
        messages=count,
        last_message_at=last,
        role=role,
    )
