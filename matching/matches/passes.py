""" "Diesmal nicht": a volunteer says a need is not for them, optionally with a reason.

The engine never offers that need to them again. "passt fachlich nicht" also lowers
the weight of the need's phases for them: each such answer multiplies a phase's
factor by NOT_MY_FIELD_FACTOR, down to NOT_MY_FIELD_FLOOR. The profile page shows
which phases count less and why, and lets the volunteer count them fully again.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matching import audit, needs
from matching.database import among
from matching.errors import InvalidInput, PermissionDenied, TransitionError
from matching.models import (
    ACTIVE_MATCH_STATUSES,
    Match,
    Need,
    NeedPass,
    NeedStatus,
    PassReason,
    ProfileStatus,
    User,
    VolunteerProfile,
)
from matching.reference import PHASE_CODES

REASON_LABELS = {
    PassReason.NO_TIME: _l("keine Zeit"),
    PassReason.NOT_MY_FIELD: _l("passt fachlich nicht"),
    PassReason.TOO_FAR: _l("zu weit weg"),
}


def pass_need(
    session: Session,
    actor: User,
    need: Need,
    profile: VolunteerProfile,
    reason: str = "",
    *,
    now: datetime,
) -> NeedPass:
    """Record "Diesmal nicht" for one open need; saying it twice keeps the first answer."""
    if actor is None or profile.user_id != actor.id:
        raise PermissionDenied(_l("Nur Sie selbst können „Diesmal nicht“ sagen."))
    if reason and reason not in REASON_LABELS:
        raise InvalidInput(_l("Bitte wählen Sie einen Grund aus der Liste oder keinen."))
    earlier = session.get(NeedPass, (need.id, profile.id))
    if earlier is not None:
        return earlier
    if need.status != NeedStatus.OPEN:
        raise needs.not_open(need)
    if profile.status != ProfileStatus.APPROVED:
        raise TransitionError(_l("Dieses Profil ist noch nicht freigegeben."))
    live = session.scalar(
        select(Match.id).where(
            Match.need_id == need.id,
            Match.volunteer_id == profile.id,
            Match.status.in_(ACTIVE_MATCH_STATUSES),
        )
    )
    if live is not None:
        raise TransitionError(
            _l(
                "Für diese Anfrage gibt es schon eine Vermittlung mit Ihnen. "
                "Bitte sagen Sie auf der Seite der Vermittlung ab."
            )
        )
    entry = NeedPass(
        need_id=need.id,
        volunteer_id=profile.id,
        reason=reason,
        phases=list(need.phases),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:  # a second click a moment ago was faster
        existing = session.get(NeedPass, (need.id, profile.id), populate_existing=True)
        assert existing is not None  # the row the insert collided with
        return existing
    audit.record(
        session,
        actor,
        "need.pass",
        "need",
        need.id,
        detail={"volunteer": profile.id, "pass_reason": reason},
        now=now,
    )
    return entry


def factor_for(count: int) -> float:
    """The weight factor of a phase after ``count`` answers "passt fachlich nicht"."""
    config = current_app.config
    return max(config["NOT_MY_FIELD_FLOOR"], config["NOT_MY_FIELD_FACTOR"] ** count)


def factors_from_counts(counts: Mapping[str, int]) -> dict[str, float]:
    """Phase → factor for the phases that count less (others are left out: 1.0)."""
    return {phase: factor_for(n) for phase, n in counts.items() if n > 0}


def not_my_field_counts(
    session: Session, profile_ids: Iterable[int] | Select
) -> dict[int, Counter[str]]:
    """For each volunteer, how often each phase was in a need they found "passt fachlich nicht".

    Answers from before the volunteer reset them do not count. One statement.
    """
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    ids = profile_ids if isinstance(profile_ids, Select) else list(profile_ids)
    if not isinstance(ids, Select) and not ids:
        return counts
    rows = session.execute(
        select(
            NeedPass.volunteer_id,
            NeedPass.phases,
            NeedPass.created_at,
            VolunteerProfile.field_feedback_reset_at,
        )
        .join(VolunteerProfile, VolunteerProfile.id == NeedPass.volunteer_id)
        .where(among(NeedPass.volunteer_id, ids), NeedPass.reason == PassReason.NOT_MY_FIELD)
    )
    for volunteer_id, phases, created_at, reset_at in rows:
        if reset_at is not None and created_at <= reset_at:
            continue
        counts[volunteer_id].update(p for p in phases or () if p in PHASE_CODES)
    return counts


def passed_needs(session: Session, profile_ids: Iterable[int] | Select) -> dict[int, set[int]]:
    """Volunteer id → the needs they said "Diesmal nicht" to. One statement."""
    ids = profile_ids if isinstance(profile_ids, Select) else list(profile_ids)
    found: dict[int, set[int]] = defaultdict(set)
    if isinstance(ids, Select) or ids:
        for volunteer_id, need_id in session.execute(
            select(NeedPass.volunteer_id, NeedPass.need_id).where(among(NeedPass.volunteer_id, ids))
        ):
            found[volunteer_id].add(need_id)
    return found


@dataclass(frozen=True)
class LoweredPhase:
    """A phase that counts less for a volunteer, for the explanation on their profile."""

    phase: str
    answers: int
    percent: int  # how much of the phase's weight is left


def lowered_phases(session: Session, profile: VolunteerProfile) -> list[LoweredPhase]:
    """The phases that count less for this volunteer, in the usual phase order."""
    counts = not_my_field_counts(session, [profile.id]).get(profile.id, Counter())
    return [
        LoweredPhase(phase, counts[phase], round(factor_for(counts[phase]) * 100))
        for phase in PHASE_CODES
        if counts.get(phase)
    ]


def reset_field_feedback(
    session: Session, actor: User, profile: VolunteerProfile, *, now: datetime
) -> None:
    """Every phase counts fully again; earlier "passt fachlich nicht" answers are kept."""
    if actor is None or profile.user_id != actor.id:
        raise PermissionDenied(_l("Nur Sie selbst können das ändern."))
    profile.field_feedback_reset_at = now
    audit.record(session, actor, "profile.reset_field_feedback", "profile", profile.id, now=now)
