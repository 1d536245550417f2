"""Coverage that tells the truth: a need counts as covered only when someone available passes
every hard filter for it (language and format included), and each box names who is behind it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from matching import engine, reports
from matching.engine import insight
from matching.matches import volunteer_pool
from matching.matches.proposals import (
    approved_volunteer_records,
    load_volunteers,
    open_need_records,
    to_engine_need,
)
from matching.models import (
    ACTIVE_MATCH_STATUSES,
    Match,
    Need,
    NeedStatus,
    User,
    VolunteerDistrict,
    VolunteerPhaseLevel,
    VolunteerProfile,
)
from matching.reference import FORMAT_CODES

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
    """The phase × district picture, each box also counting its needs nobody can take.

    A fixed number of statements; the engine looks each kind of need up once in the kept
    pool of volunteers (``Pool.covered``), and asks why nobody fits once per kind too.
    """
    report = reports.coverage(session, now)
    live = set(
        session.scalars(
            select(Match.need_id).where(Match.status.in_(ACTIVE_MATCH_STATUSES)).distinct()
        )
    )
    needs = [n for n in open_need_records(session) if n.id not in live]  # live: someone is on it
    pool = volunteer_pool.pool(session, approved_volunteer_records)
    uncovered: Counter = Counter()
    gaps: Counter = Counter()
    reasons: dict[tuple, insight.Nobody | None] = {}
    knowers: dict[str, list] = {}  # phase -> who knows it; only asked for needs nobody can take

    def knowing_any(phases) -> dict:
        for phase in phases:
            if phase not in knowers:
                knowers[phase] = [v for v in pool.volunteers if v.levels.get(phase, 0) >= 1]
        return {v.id: v for phase in phases for v in knowers[phase]}

    for need, (anyone, by_phase) in zip(needs, pool.covered(needs, now), strict=True):
        for phase, someone in zip(need.phases, by_phase, strict=True):
            if not someone:
                uncovered[need.district, phase] += 1
        if anyone:
            continue
        # Language and format come before any answer of a person in why_nobody: needs alike
        # in these (and in their initiative's members) share the reasons listed here.
        kind = (need.language, need.district, need.formats, need.phases, need.initiative_id)
        if kind not in reasons:
            # why_nobody looks first for someone who knows a phase of the need: only they count.
            reasons[kind] = insight.why_nobody(need, knowing_any(need.phases).values(), now)
        nobody = reasons[kind]
        if nobody is not None and nobody.reason in LISTED_GAPS:
            formats = tuple(code for code in FORMAT_CODES if code in need.formats)
            gaps[nobody.reason, need.district, need.language, formats] += 1
    for ring in report.rings:
        for index, (district, cells) in enumerate(ring.rows):
            ring.rows[index] = (
                district,
                [replace(c, uncovered=uncovered[c.district, c.phase]) for c in cells],
            )
    return TruthfulCoverage(report, [Gap(*key, needs=count) for key, count in sorted(gaps.items())])


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
