"""Coverage that tells the truth: a need counts as covered only when someone available passes
every hard filter for it (language and format included), and each box names who is behind it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from matching import collector, engine, reports
from matching.engine import insight
from matching.matches import volunteer_pool
from matching.matches.proposals import (
    approved_volunteer_records,
    format_set,
    in_phase_order,
    load_volunteers,
    to_engine_need,
)
from matching.models import (
    ACTIVE_MATCH_STATUSES,
    Match,
    Need,
    NeedPhase,
    NeedStatus,
    User,
    VolunteerDistrict,
    VolunteerPhaseLevel,
    VolunteerProfile,
)
from matching.reference import DISTRICT_CODES, FORMAT_CODES, PHASE_CODES

# The reason classes a short list names: what no amount of free time fixes.
LISTED_GAPS = (insight.LANGUAGE, insight.FORMAT)


@dataclass(frozen=True)
class Gap:
    """Needs nobody can take for want of a language or a format, per district."""

    reason: str  # insight.LANGUAGE or insight.FORMAT
    district: str
    language: str
    formats: tuple[str, ...]
    needs: int


@dataclass
class TruthfulCoverage:
    report: reports.Coverage
    gaps: list[Gap] = field(default_factory=list)

    @property
    def uncovered(self) -> int:
        return sum(cell.uncovered for cell in self.report.cells)


def coverage(session: Session, now: datetime) -> TruthfulCoverage:
    """The coverage picture (``_coverage``), built with the cycle collector paused: it reads
    every open need (20,000 records at city scale) and would otherwise set off a full pass of
    the collector every few pages (``matching.collector``)."""
    with collector.paused():
        return _coverage(session, now)


def _coverage(session: Session, now: datetime) -> TruthfulCoverage:
    """The phase × district picture, each box also counting its needs nobody can take.

    One statement: the open needs with their phases, and whether someone is on each. The
    experts are counted in the kept pool of volunteers (``Pool.available_counts``), the very
    records that decide whether anyone can take a need: needs alike in language, place,
    formats and phases are looked up once (``Pool.knowing``), and asked why nobody fits once
    too; only a need so few can take that the people excluded from it (who declined it or
    belong to its initiative) might be all of them is looked up on its own.
    """
    pool = volunteer_pool.pool(session, approved_volunteer_records)
    needs: Counter = Counter()
    # (district, language, in person, phone, video, phases) → the open needs of that kind
    # nobody is on yet: how many have no exclusions, (id, initiative id) of the first of them,
    # and (id, initiative id) of each one someone is excluded from.
    kinds: dict[tuple, list] = {}
    rows = _open_needs(session)
    excluded_counts = pool.excluded_counts([(row[0], row[1]) for row in rows])
    for (need_id, initiative_id, live, *alike), excluded in zip(rows, excluded_counts, strict=True):
        needs[alike[0], alike[-1]] += 1
        if live:  # someone is on it
            continue
        kind = kinds.setdefault(tuple(alike), [0, None, []])
        if excluded:
            kind[2].append((need_id, initiative_id, excluded))
        else:
            kind[0] += 1
            kind[1] = kind[1] or (need_id, initiative_id)
    local, citywide = pool.available_counts(now)
    report = reports.coverage(
        now,
        _per_phase(needs),
        {
            (district, phase): int(local[i, j])
            for i, district in enumerate(DISTRICT_CODES)
            for j, phase in enumerate(PHASE_CODES)
        },
        {phase: int(citywide[j]) for j, phase in enumerate(PHASE_CODES)},
    )
    uncovered: Counter = Counter()
    gaps: Counter = Counter()
    knowers: dict[str, list] = {}  # phase -> who knows it; only asked for needs nobody can take

    def knowing_any(phases) -> dict:
        for phase in phases:
            if phase not in knowers:
                knowers[phase] = pool.knowers(phase)
        return {v.id: v for phase in phases for v in knowers[phase]}

    def count(need: engine.Need, by_phase: tuple[bool, ...], times: int) -> None:
        for phase, someone in zip(need.phases, by_phase, strict=True):
            if not someone:
                uncovered[need.district, phase] += times
        if any(by_phase):
            return
        # why_nobody looks first for someone who knows a phase of the need: only they count.
        nobody = insight.why_nobody(need, knowing_any(need.phases).values(), now)
        if nobody is not None and nobody.reason in LISTED_GAPS:
            formats = tuple(code for code in FORMAT_CODES if code in need.formats)
            gaps[nobody.reason, need.district, need.language, formats] += times

    for alike, (plain, first, excluded) in kinds.items():
        district, language, in_person, phone, video, phases = alike
        formats = format_set(in_person, phone, video)
        knowing = pool.knowing(language, district, formats, now)
        at = [_PHASE_INDEX[phase] for phase in phases]
        fewest = min(int(knowing[i]) for i in at)
        if plain and not fewest:  # some phase of theirs nobody here knows
            by_phase = tuple(bool(knowing[i]) for i in at)
            count(_record(*first, district, language, formats, phases), by_phase, plain)
        # Exclusions change nothing where more know each phase than are excluded: those
        # needs are covered like the plain ones. The others are looked up one by one.
        alone = [e[:2] for e in excluded if e[2] >= fewest]
        if alone:
            needs_alone = [_record(*e, district, language, formats, phases) for e in alone]
            for need, (_anyone, by_phase) in zip(
                needs_alone, pool.covered(needs_alone, now), strict=True
            ):
                count(need, by_phase, 1)
    for ring in report.rings:
        for index, (district, cells) in enumerate(ring.rows):
            ring.rows[index] = (
                district,
                [replace(c, uncovered=uncovered[c.district, c.phase]) for c in cells],
            )
    return TruthfulCoverage(report, [Gap(*key, needs=count) for key, count in sorted(gaps.items())])


_PHASE_INDEX = {code: i for i, code in enumerate(PHASE_CODES)}


def _per_phase(needs: Counter) -> Counter:
    """Counts per (district, phases) as counts per (district, phase)."""
    counted: Counter = Counter()
    for (district, phases), count in needs.items():
        for phase in phases:
            counted[district, phase] += count
    return counted


def _open_needs(session: Session) -> list[tuple]:
    """(id, initiative id, someone is on it, district, language, in person, phone, video,
    phases) of every open need with phases, the phases in their order; one statement."""
    live = exists().where(Match.need_id == Need.id, Match.status.in_(ACTIVE_MATCH_STATUSES))
    rows = session.execute(
        select(
            Need.id,
            Need.initiative_id,
            live,
            Need.district,
            Need.language,
            Need.accepts_in_person,
            Need.accepts_phone,
            Need.accepts_video,
            func.aggregate_strings(NeedPhase.phase, ","),
        )
        .join(NeedPhase, NeedPhase.need_id == Need.id)
        .where(Need.status == NeedStatus.OPEN)
        .group_by(Need.id)
    ).all()
    in_order = {
        codes: in_phase_order(frozenset(codes.split(","))) for codes in {r[-1] for r in rows}
    }
    return [(*row[:-1], in_order[row[-1]]) for row in rows]


def _record(
    need_id: int,
    initiative_id: int,
    district: str,
    language: str,
    formats: frozenset[str],
    phases: tuple[str, ...],
) -> engine.Need:
    """An engine record for the hard filters: urgency, wanted and age play no part in them."""
    return engine.Need(
        id=need_id,
        initiative_id=initiative_id,
        phases=phases,
        district=district,
        language=language,
        formats=formats,
    )


@dataclass
class Box:
    """The needs and the available experts behind one box of the picture."""

    district: str
    phase: str
    needs: list[tuple[Need, bool]]  # (need, someone available can take it)
    experts: list[tuple[int, str]]  # (profile id, name)


def box(session: Session, district: str, phase: str, now: datetime) -> Box:
    """The open needs in a district and phase, and who is available for them there."""
    needs = session.scalars(
        select(Need)
        .options(selectinload(Need.initiative))
        .where(
            Need.status == NeedStatus.OPEN,
            Need.district == district,
            Need.phase_rows.any(phase=phase),
        )
        .order_by(Need.published_at, Need.id)
    ).all()
    live = set(
        session.scalars(
            select(Match.need_id).where(
                Match.status.in_(ACTIVE_MATCH_STATUSES), Match.need_id.in_([n.id for n in needs])
            )
        )
    )
    pool = engine.Pool(load_volunteers(session)) if needs else None
    rows = []
    for need in needs:
        record = replace(to_engine_need(need), phases=(phase,))
        rows.append((need, need.id in live or bool(len(pool.candidates(record, now)))))
    available = reports.available_volunteers(now)
    serves = or_(
        available.c.whole_city.is_(True),
        exists().where(
            VolunteerDistrict.profile_id == available.c.id, VolunteerDistrict.district == district
        ),
    )
    experts = session.execute(
        select(available.c.id, User.first_name, User.last_name)
        .join(VolunteerProfile, VolunteerProfile.id == available.c.id)
        .join(User, User.id == VolunteerProfile.user_id)
        .join(
            VolunteerPhaseLevel,
            and_(
                VolunteerPhaseLevel.profile_id == available.c.id,
                VolunteerPhaseLevel.phase == phase,
                VolunteerPhaseLevel.level >= 1,
            ),
        )
        .where(serves)
        .order_by(User.first_name, User.last_name, available.c.id)
    ).all()
    return Box(
        district, phase, rows, [(r.id, f"{r.first_name} {r.last_name}".strip()) for r in experts]
    )
