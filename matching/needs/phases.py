"""Advice follows the phases: an initiative's path through them, and the next step's draft."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching import audit, limits, needs
from matching.errors import InvalidInput, PermissionDenied, TransitionError
from matching.models import (
    ADVISED_MATCH_STATUSES,
    Match,
    MatchStatus,
    Need,
    NeedPhase,
    NeedStatus,
    User,
)
from matching.permissions import is_member
from matching.reference import PHASE_BY_CODE, PHASE_CODES


@dataclass(frozen=True)
class Advice:
    """One piece of advice an initiative had in a phase."""

    need_id: int
    title: str
    status: str  # accepted (still going on) or completed
    on: datetime


@dataclass
class PathStep:
    """A phase with the advice the initiative had in it (none yet: an empty list)."""

    phase: str
    advice: list[Advice] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return bool(self.advice)


def phase_path(session: Session, initiative_id: int) -> list[PathStep]:
    """All eight phases in order, each with the advice had in it so far; two statements."""
    rows = session.execute(
        select(
            Match.need_id,
            Match.status,
            Match.accepted_at,
            Match.completed_at,
            Match.updated_at,
            Need.title,
        )
        .join(Need, Need.id == Match.need_id)
        .where(Need.initiative_id == initiative_id, Match.status.in_(ADVISED_MATCH_STATUSES))
        .order_by(Match.accepted_at, Match.id)
    ).all()
    phases: dict[int, list[str]] = defaultdict(list)
    if rows:
        for need_id, phase in session.execute(
            select(NeedPhase.need_id, NeedPhase.phase).where(
                NeedPhase.need_id.in_({r.need_id for r in rows})
            )
        ):
            phases[need_id].append(phase)
    steps = {code: PathStep(code) for code in PHASE_CODES}
    for row in rows:
        when = row.completed_at or row.accepted_at or row.updated_at
        advice = Advice(row.need_id, row.title, row.status, when)
        for phase in phases[row.need_id]:
            steps[phase].advice.append(advice)
    return list(steps.values())


def draft_next_need(
    session: Session, actor: User, match: Match, phase: str, *, now: datetime
) -> Need:
    """ "Was steht als Nächstes an?": a draft need for that phase, filled in from the last one.

    The initiative reads it and publishes it in one step; the expert who advised them
    gets the continuity bonus if they know the new phase too.
    """
    previous = match.need
    if not is_member(session, actor, previous.initiative_id):
        raise PermissionDenied(_l("Nur die Initiative kann eine neue Anfrage stellen."))
    if match.status != MatchStatus.COMPLETED:
        raise TransitionError(_l("Eine Rückmeldung ist erst nach dem Abschluss möglich."))
    if phase not in PHASE_BY_CODE:
        raise InvalidInput(_l("Bitte wählen Sie ein Thema aus der Liste."))
    label = PHASE_BY_CODE[phase].label(actor.locale)
    with force_locale(actor.locale):
        title = _("Nächster Schritt: %(phase)s", phase=label)[: limits.NEED_TITLE_MAX]
        # Only what is true as the initiative's own words: the draft goes public as it
        # stands when published; the prompt to add to it is said on the form instead.
        description = _(
            "Nach der Beratung zu „%(title)s“ geht es für uns jetzt um das Thema „%(phase)s“.",
            title=previous.title,
            phase=label,
        )
    data = needs.NeedInput(
        title=title,
        description=description[: limits.NEED_DESCRIPTION_MAX],
        phases=[phase],
        district=previous.district,
        language=previous.language,
        formats=sorted(previous.formats),
        urgency="normal",
        experts_wanted=1,
        expires_on=None,
    )
    need = needs.create_need(session, actor, previous.initiative, data, now=now, publish=False)
    need.follows_need_id = previous.id
    audit.record(
        session,
        actor,
        "need.follow_up",
        "need",
        need.id,
        to_state=NeedStatus.DRAFT,
        detail={"follows": previous.id, "phase": phase},
        now=now,
    )
    return need
