"""Finishing well: the volunteer looks back on a completed match (what helped, what is next)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from matching import audit, limits
from matching.database import lock_row
from matching.errors import InvalidInput, PermissionDenied, TransitionError
from matching.models import (
    ADVISED_MATCH_STATUSES,
    Match,
    MatchStatus,
    Meeting,
    MeetingOutcome,
    MeetingStatus,
    Need,
    User,
)
from matching.reference import PHASE_BY_CODE
from matching.text import looks_blank

# Each question of the look back is optional, but one answer it needs.
NOTHING_SAID = _l(
    "Bitte beantworten Sie mindestens eine der beiden Fragen: was geholfen hat "
    "oder welches Thema als Nächstes ansteht."
)


def look_back(
    session: Session,
    actor: User,
    match: Match,
    helped: str,
    next_phase: str,
    *,
    now: datetime,
) -> Match:
    """The volunteer says what helped and whether a next phase is due, once.

    The next phase is offered to the initiative as the pre-selected next step in its own
    feedback, which drafts the follow-up need.
    """
    lock_row(session, match)
    if match.volunteer.user_id != actor.id:
        raise PermissionDenied(_l("Nur die Expert:in dieser Vermittlung kann zurückblicken."))
    if match.status != MatchStatus.COMPLETED:
        raise TransitionError(_l("Eine Rückmeldung ist erst nach dem Abschluss möglich."))
    if match.volunteer_feedback_at is not None:
        raise TransitionError(_l("Zu dieser Vermittlung gibt es schon eine Rückmeldung. Danke!"))
    helped = (helped or "").strip()
    if len(helped) > limits.LOOK_BACK_MAX:
        raise InvalidInput(_l("Bitte höchstens %(max)d Zeichen.", max=limits.LOOK_BACK_MAX))
    if next_phase and next_phase not in PHASE_BY_CODE:
        raise InvalidInput(_l("Bitte wählen Sie ein Thema aus der Liste."))
    # Nothing to read, and the form would be closed for good.
    if looks_blank(helped) and not next_phase:
        raise InvalidInput(NOTHING_SAID, field="helped")
    match.volunteer_feedback = helped
    match.volunteer_next_phase = next_phase or None
    match.volunteer_feedback_at = now
    audit.record(
        session,
        actor,
        "match.volunteer_feedback",
        "match",
        match.id,
        detail={"next_phase": next_phase or None},
        now=now,
    )
    return match


@dataclass(frozen=True)
class Engagement:
    """One piece of advice for the Engagementnachweis: who, which phases, when, how many meetings."""

    initiative: str
    district: str
    need_title: str
    phases: list[str]
    accepted_at: datetime | None
    completed_at: datetime | None
    meetings: int


def engagements(session: Session, user: User, now: datetime) -> list[Engagement]:
    """The volunteer's accepted and completed advice, oldest first; no message content."""
    profile = user.volunteer_profile
    if profile is None:
        return []
    rows = session.scalars(
        select(Match)
        .options(selectinload(Match.need).selectinload(Need.initiative))
        .where(
            Match.volunteer_id == profile.id,
            Match.status.in_(ADVISED_MATCH_STATUSES),
        )
        .order_by(Match.accepted_at, Match.id)
    ).all()
    held: dict[int, int] = dict(
        session.execute(
            select(Meeting.match_id, func.count())
            .where(
                Meeting.match_id.in_([m.id for m in rows]),
                Meeting.status == MeetingStatus.CONFIRMED,
                Meeting.starts_at <= now,
                (Meeting.outcome.is_(None)) | (Meeting.outcome == MeetingOutcome.HELD),
            )
            .group_by(Meeting.match_id)
        )
        .tuples()
        .all()
    )
    return [
        Engagement(
            initiative=m.need.initiative.name,
            district=m.need.district,
            need_title=m.need.title,
            phases=list(m.need.phases),
            accepted_at=m.accepted_at,
            completed_at=m.completed_at,
            meetings=held.get(m.id, 0),
        )
        for m in rows
    ]
