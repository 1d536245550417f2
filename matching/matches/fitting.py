"""Open needs ranked by fit for one volunteer, without scoring every open need on each visit.

The database keeps only the open needs that pass the volunteer's hard filters (language,
place or a remote format, a phase they know, not declined, not their own initiative) and
orders them by an upper bound of the engine's score: the score itself with the waiting time
rounded up to the next eighth of its horizon and without lowered phases. The engine then
scores them exactly a batch at a time and stops as soon as the k-th best score beats the
bound of every need not yet read. So the result is the one scoring every open need gives
(``tests/test_fitting.py`` checks that against the full computation), while a visit reads
a few dozen needs instead of all of them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import Float, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session, selectinload

from matching import engine
from matching.engine.scoring import PLACE_VALUES, URGENCY_VALUES
from matching.engine.scoring import value as score_value
from matching.matches import volunteer_pool
from matching.matches.unchanged import NEED_COLUMNS
from matching.models import Need, NeedPhase, NeedStatus, VolunteerProfile
from matching.reference import NEIGHBOURS, PHASE_CODES, REMOTE_FORMATS

# Needs read in the first batch; each further batch is twice as large.
FIRST_BATCH = 40
# The database sums floats in its own order: its bound may differ from Python's in the last
# bits, so a need counts as beaten only below the bound by more than this.
SLACK = 1e-9
# The waiting time's part of the bound is rounded up to 1/WAIT_STEPS of its horizon.
WAIT_STEPS = 8

_FORMAT_COLUMNS = {
    "in_person": Need.accepts_in_person,
    "phone": Need.accepts_phone,
    "video": Need.accepts_video,
}


def ranked_needs(session: Session, profile: VolunteerProfile, now: datetime, k: int = 10):
    """Open needs ranked by fit for one volunteer: [(Need, Score)], best first, ties by id."""
    from matching.matches.proposals import weights

    volunteer = _record_of(session, profile)
    if k <= 0 or not _can_take_any(volunteer, now):
        return []
    chosen = weights()
    query = _bounded_candidates(volunteer, chosen, now)
    scored: list[tuple[float, int]] = []
    records: dict[int, engine.Need] = {}
    offset, batch = 0, FIRST_BATCH
    while True:
        rows = session.execute(query.limit(batch).offset(offset)).all()
        for record in _records(session, rows):
            value = score_value(volunteer, record, chosen, now)
            if value is not None:
                scored.append((value, record.id))
                records[record.id] = record
        offset += len(rows)
        if len(rows) < batch:
            break  # every candidate is scored
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        unread = max(engine.MIN_SCORE, min(1.0, rows[-1].bound))
        if len(scored) >= k and scored[k - 1][0] > unread + SLACK:
            break  # no need still unread can reach the k-th place
        batch *= 2
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    best = [need_id for _value, need_id in scored[:k]]
    needs = {
        n.id: n
        for n in session.scalars(
            select(Need).options(selectinload(Need.initiative)).where(Need.id.in_(best))
        )
    }
    # A row gone since it was read (an erased account) is left out rather than failing the page.
    return [
        (needs[need_id], engine.score(volunteer, records[need_id], chosen, now))
        for need_id in best
        if need_id in needs
    ]


def _record_of(session: Session, profile: VolunteerProfile) -> engine.Volunteer:
    """The volunteer's engine record: from the process's kept pool of approved volunteers (no
    statement when nothing changed, so "Meine Übersicht" skips the nine that load one), else
    loaded from the profile."""
    from matching.matches.proposals import approved_volunteer_records, load_volunteers

    kept = volunteer_pool.record(session, approved_volunteer_records, profile.id)
    if kept is not None:
        return kept
    [volunteer] = load_volunteers(session, [profile])
    return volunteer


def _can_take_any(volunteer: engine.Volunteer, now: datetime) -> bool:
    """The engine's hard filters that do not depend on the need (confirmed, approved, not
    paused, a free place)."""
    paused = volunteer.paused_until is not None and now.date() < volunteer.paused_until
    return volunteer.confirmed and volunteer.approved and not paused and volunteer.free > 0


def _bounded_candidates(volunteer: engine.Volunteer, chosen: engine.Weights, now: datetime):
    """Open needs passing the volunteer's hard filters with their score's upper bound
    (``bound``), highest bound first."""
    known = {phase: level for phase, level in volunteer.levels.items() if level >= 1}
    level = case(known, value=NeedPhase.phase, else_=0) if known else literal(0)
    reach = [Need.district.in_(sorted(volunteer.districts))]
    if volunteer.whole_city:
        reach.append(literal(True))
    reach += [_FORMAT_COLUMNS[f] for f in sorted(volunteer.formats & REMOTE_FORMATS)]
    passing = (
        Need.status == NeedStatus.OPEN,
        Need.language.in_(sorted(volunteer.languages)),
        or_(*reach),
        Need.id.not_in(sorted(volunteer.excluded_needs)),
        Need.initiative_id.not_in(sorted(volunteer.initiatives)),
    )
    # The phases are summed only for the needs passing the filters (a few hundred at L), not
    # for every need ever posted.
    phases = (
        select(
            NeedPhase.need_id,
            func.max(level).label("best"),
            func.sum(level).label("total"),
            func.count().label("count"),
        )
        .where(NeedPhase.need_id.in_(select(Need.id).where(*passing)))
        .group_by(NeedPhase.need_id)
        .subquery()
    )
    phase = cast(phases.c.best * phases.c.count + phases.c.total, Float) / (6.0 * phases.c.count)
    neighbours = set().union(*(NEIGHBOURS[d] for d in volunteer.districts)) - volunteer.districts
    place = case(
        (Need.district.in_(sorted(volunteer.districts)), PLACE_VALUES["district"]),
        (Need.district.in_(sorted(neighbours)), PLACE_VALUES["neighbour"]),
        else_=PLACE_VALUES["city" if volunteer.whole_city else "remote"],
    )
    offered = [column for code, column in _FORMAT_COLUMNS.items() if code in volunteer.formats]
    shared = sum((case((column, 1), else_=0) for column in offered), literal(0))
    accepted = sum(case((column, 1), else_=0) for column in _FORMAT_COLUMNS.values())
    fmt = cast(shared, Float) / accepted
    urgency = (
        case(URGENCY_VALUES, value=Need.urgency, else_=1.0) + _waiting_bound(chosen, now)
    ) / 2
    bonus = (
        case(
            (Need.initiative_id.in_(sorted(volunteer.advised_initiatives)), chosen.continuity),
            else_=0.0,
        )
        if volunteer.advised_initiatives
        else literal(0.0)
    )
    w_phase, w_place, w_format, w_load, w_urgency = chosen.normalised()
    bound = (
        w_phase * phase
        + w_place * place
        + w_format * fmt
        + w_load * (1 / (1 + volunteer.active))
        + w_urgency * urgency
        + bonus
    ).label("bound")
    return (
        select(*NEED_COLUMNS, bound)
        .join(phases, and_(phases.c.need_id == Need.id, phases.c.best >= 1))
        .where(*passing)
        .order_by(bound.desc(), Need.id)
    )


def _waiting_bound(chosen: engine.Weights, now: datetime):
    """The waiting part of the urgency (min(1, days open / horizon)) rounded up to the next
    1/WAIT_STEPS: comparisons of the opening time only, the same on every database."""
    opened_at = func.coalesce(Need.published_at, Need.created_at)
    step = timedelta(days=chosen.waiting_horizon_days / WAIT_STEPS)
    # Open at least j steps: less than j + 1 steps, so at most (j + 1) / WAIT_STEPS.
    whens = [
        (opened_at <= now - j * step, (j + 1) / WAIT_STEPS) for j in range(WAIT_STEPS - 1, 0, -1)
    ]
    return case(*whens, else_=1 / WAIT_STEPS)


def _records(session: Session, rows) -> list[engine.Need]:
    """Engine records of the needs just read, with their phases (one statement)."""
    if not rows:
        return []
    from matching.matches.proposals import format_set

    phases: dict[int, set[str]] = defaultdict(set)
    for need_id, code in session.execute(
        select(NeedPhase.need_id, NeedPhase.phase).where(
            NeedPhase.need_id.in_([r.id for r in rows])
        )
    ):
        phases[need_id].add(code)
    return [
        engine.Need(
            id=r.id,
            initiative_id=r.initiative_id,
            phases=tuple(code for code in PHASE_CODES if code in phases.get(r.id, ())),
            district=r.district,
            language=r.language,
            formats=format_set(r.accepts_in_person, r.accepts_phone, r.accepts_video),
            urgency=r.urgency,
            wanted=max(0, r.experts_wanted),
            opened_at=r.published_at or r.created_at,
        )
        for r in rows
        if phases.get(r.id)
    ]
