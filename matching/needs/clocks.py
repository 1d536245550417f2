"""Nobody waits in silence: every waiting state has a clock and a next step.

A ``Clock`` says since when someone waits, for what (``step``) and by when that
usually happens (``due``). Pages show it to the person waiting; the jobs act on the
same durations (config: COORDINATOR_REMINDER_DAYS, HIGHLIGHT_AFTER_DAYS,
VOLUNTEER_REMINDER_DAYS, RELEASE_AFTER_DAYS, NO_CANDIDATE_ALERT_DAYS).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.models import (
    WAITING_MATCH_STATUSES,
    Match,
    MatchStatus,
    Need,
    NeedStatus,
)
from matching.wallclock import service_zone

# What a clock waits for.
COORDINATION = "coordination"  # a proposal or offer waits for a coordinator's decision
ANSWER = "answer"  # an approved match waits for the volunteer's answer
SEARCHING = "searching"  # an open need waits for a proposal


def days(name: str) -> int:
    """A duration from the configuration, in days (e.g. RELEASE_AFTER_DAYS)."""
    return int(current_app.config[name])


def after(name: str) -> timedelta:
    return timedelta(days=days(name))


@dataclass(frozen=True)
class Clock:
    """A wait: since when, for which step, by when that usually happens."""

    step: str
    since: datetime
    due: datetime
    now: datetime
    # Only for ANSWER: the day the match is given to someone else if still unanswered, and
    # the need's last day when that comes first (then it expires, nobody else is asked).
    release_on: datetime | None = None
    ends_on: date | None = None

    @property
    def days(self) -> int:
        """Whole days waited so far."""
        return max(0, (self.now - self.since).days)

    @property
    def overdue(self) -> bool:
        return self.now >= self.due


def match_clock(match: Match, now: datetime) -> Clock | None:
    """The clock of a proposal (waits for coordination) or approved match (waits for an answer)."""
    if match.status == MatchStatus.PROPOSED:
        since = match.created_at
        return Clock(COORDINATION, since, since + after("COORDINATOR_REMINDER_DAYS"), now)
    if match.status == MatchStatus.APPROVED:
        since = match.decided_at or match.updated_at
        release_on = since + after("RELEASE_AFTER_DAYS")
        expires_on = match.need.expires_on
        first = expires_on is not None and expires_on < release_on.astimezone(service_zone()).date()
        return Clock(
            ANSWER,
            since,
            since + after("VOLUNTEER_REMINDER_DAYS"),
            now,
            release_on=release_on,
            ends_on=expires_on if first else None,
        )
    return None


def is_highlighted(match: Match, now: datetime) -> bool:
    """A proposal left undecided so long that coordinators see it highlighted."""
    return match.status == MatchStatus.PROPOSED and match.created_at <= now - after(
        "HIGHLIGHT_AFTER_DAYS"
    )


def need_clocks(session: Session, needs: Iterable[Need], now: datetime) -> dict[int, Clock]:
    """For each open need: what it waits for now, in one statement for all of them.

    An approved match waits for its expert's answer; else a proposal waits for the
    coordinators; else the need waits for a proposal (and the coordinators are told
    after NO_CANDIDATE_ALERT_DAYS if nobody fits).
    """
    open_needs = [n for n in needs if n.status == NeedStatus.OPEN]
    if not open_needs:
        return {}
    waiting: dict[int, list[Match]] = {}
    for match in session.scalars(
        select(Match)
        .where(
            Match.need_id.in_([n.id for n in open_needs]),
            Match.status.in_(WAITING_MATCH_STATUSES),
        )
        .order_by(Match.created_at, Match.id)
    ):
        waiting.setdefault(match.need_id, []).append(match)
    clocks = {}
    for need in open_needs:
        live = waiting.get(need.id, [])
        approved = [m for m in live if m.status == MatchStatus.APPROVED]
        chosen = approved[0] if approved else (live[0] if live else None)
        if chosen is not None:
            clocks[need.id] = match_clock(chosen, now)
        else:
            since = need.published_at or need.created_at
            clocks[need.id] = Clock(SEARCHING, since, since + after("NO_CANDIDATE_ALERT_DAYS"), now)
    return clocks
