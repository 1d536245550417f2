"""What the advice achieved in a period ("Wirkung"): figures for coordinators and, in aggregate,
for the public.

Six statements answer for a period and the one before it, however many needs there are: the
rows are grouped per need in SQL, and the few sums over them (months, districts, percentiles)
are made here, where Stuttgart's month boundaries and the percentile rule are plain to read.

Definitions (the words the page uses):

- posted: needs published in the period;
- advised ("Beraten"): needs whose advice was marked done in the period (the audit record of
  ``need.mark_advised``, the one place that step is written);
- completed, withdrawn, expired: needs that ended so in the period;
- initiatives reached: initiatives whose need got its first expert's yes in the period;
- days to first proposal, to acceptance, to first meeting: for needs posted in the period, from
  publishing to the first match proposed, accepted, and the first confirmed meeting (median and
  80th percentile, interpolated as PostgreSQL's ``percentile_cont``);
- advised within 14 days: the share of needs posted in the period that were "Beraten" no more
  than 14 days after publishing;
- volunteers active: experts with an accepted engagement that ran during the period;
- meetings held: confirmed first meetings whose time lay in the period, unless reported as not
  held or moved;
- feedback: the initiatives' ratings (1–5) given in the period, and the experts' reports;
- next-phase chains: initiatives whose second (or third, or later) need along the phase path
  was published in the period.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from matching.models import (
    AuditEntry,
    Match,
    Meeting,
    Need,
    NeedPhase,
    NeedStatus,
)
from matching.models.conversations import MeetingOutcome, MeetingStatus
from matching.reference import DISTRICT_CODES, PHASE_CODES

BERLIN = ZoneInfo("Europe/Berlin")
ADVISED_WITHIN = timedelta(days=14)
MAX_PERIOD_YEARS = 5
# Meetings that did not take place at the agreed time.
NOT_HELD = (MeetingOutcome.NOT_HELD, MeetingOutcome.MOVED)
ENDED = (NeedStatus.CLOSED, NeedStatus.WITHDRAWN, NeedStatus.EXPIRED)


# ---------------------------------------------------------------------------
# Periods


@dataclass(frozen=True)
class Period:
    """Calendar days in Stuttgart, ``start`` to ``end`` inclusive."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        """The first moment of the period (UTC)."""
        return _midnight(self.start)

    @property
    def until(self) -> datetime:
        """The first moment after the period (UTC)."""
        return _midnight(self.end + timedelta(days=1))

    @property
    def whole_months(self) -> int:
        """How many calendar months the period spans, if it is made of whole months (else 0)."""
        if self.start.day != 1 or (self.end + timedelta(days=1)).day != 1:
            return 0
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def previous(self) -> Period:
        """The period of the same length just before: the year, quarter or months before, or as
        many days."""
        months = self.whole_months
        if months:
            start = _add_months(self.start, -months)
            return Period(start, self.start - timedelta(days=1))
        days = (self.end - self.start).days + 1
        return Period(self.start - timedelta(days=days), self.start - timedelta(days=1))

    def months(self) -> list[date]:
        """The first day of every calendar month the period touches."""
        month = self.start.replace(day=1)
        found = []
        while month <= self.end:
            found.append(month)
            month = _add_months(month, 1)
        return found

    def __contains__(self, moment: datetime | None) -> bool:
        return moment is not None and self.since <= moment < self.until


def _midnight(day: date) -> datetime:
    """Midnight in Stuttgart on ``day``, as a UTC moment (summer time included)."""
    return datetime.combine(day, time(), BERLIN).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def local_month(moment: datetime) -> date:
    """The first day of the Stuttgart calendar month a moment falls in."""
    return moment.astimezone(BERLIN).date().replace(day=1)


def year(number: int) -> Period:
    return Period(date(number, 1, 1), date(number, 12, 31))


def quarter(number: int, which: int) -> Period:
    start = date(number, 3 * (which - 1) + 1, 1)
    return Period(start, _add_months(start, 3) - timedelta(days=1))


class BadPeriod(ValueError):
    """A period nobody can report on; the message says why in the user's words (a code here)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def checked(period: Period, today: date) -> Period:
    """The period if a report can cover it, else BadPeriod naming what is wrong."""
    if period.end < period.start:
        raise BadPeriod("reversed")
    if period.start > today:
        raise BadPeriod("future")
    if period.end >= _years_later(period.start, MAX_PERIOD_YEARS):
        raise BadPeriod("too_long")
    return period


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def default_period(today: date) -> Period:
    """This calendar year."""
    return year(today.year)


# ---------------------------------------------------------------------------
# Figures


@dataclass(frozen=True)
class Spread:
    """Days from publishing to a step: how many needs got there, median and 80th percentile."""

    count: int
    median: float | None
    p80: float | None


def spread(days: list[float]) -> Spread:
    """Median and 80th percentile, interpolated between ranks (``percentile_cont``)."""
    if not days:
        return Spread(0, None, None)
    ordered = sorted(days)
    if len(ordered) == 1:
        return Spread(1, round(ordered[0], 1), round(ordered[0], 1))
    p80 = statistics.quantiles(ordered, n=5, method="inclusive")[3]
    return Spread(len(ordered), round(statistics.median(ordered), 1), round(p80, 1))


@dataclass
class Month:
    month: date
    posted: int = 0
    advised: int = 0
    days_to_acceptance: list[float] = field(default_factory=list)

    @property
    def median_days_to_acceptance(self) -> float | None:
        return spread(self.days_to_acceptance).median


@dataclass
class Area:
    """A district's or a phase's figures."""

    code: str
    posted: int = 0
    advised: int = 0
    initiatives: set[int] = field(default_factory=set)

    @property
    def initiatives_reached(self) -> int:
        return len(self.initiatives)


@dataclass
class Figures:
    period: Period
    posted: int = 0
    advised: int = 0
    completed: int = 0
    withdrawn: int = 0
    expired: int = 0
    initiatives_reached: int = 0
    to_proposal: Spread = Spread(0, None, None)
    to_acceptance: Spread = Spread(0, None, None)
    to_meeting: Spread = Spread(0, None, None)
    advised_within_14_days: int = 0
    volunteers_active: int = 0
    meetings_held: int = 0
    feedback_count: int = 0
    feedback_average: float | None = None
    volunteer_reports: int = 0
    second_phase: int = 0  # initiatives that went on to a second phase (or further)
    third_phase: int = 0  # … to a third phase or further
    districts: dict[str, Area] = field(default_factory=dict)
    phases: dict[str, Area] = field(default_factory=dict)
    months: list[Month] = field(default_factory=list)

    @property
    def advised_within_14_days_share(self) -> float | None:
        """The share (0–1) of needs posted in the period that were advised within 14 days."""
        return self.advised_within_14_days / self.posted if self.posted else None


@dataclass(frozen=True)
class Report:
    current: Figures
    previous: Figures


@dataclass(frozen=True)
class _NeedRow:
    id: int
    initiative_id: int
    district: str
    status: str
    published_at: datetime | None
    closed_at: datetime | None
    advised_at: datetime | None
    proposed_at: datetime | None
    accepted_at: datetime | None
    met_at: datetime | None


def _days(since: datetime | None, then: datetime | None) -> float | None:
    if since is None or then is None:
        return None
    return max((then - since).total_seconds(), 0.0) / 86400


def _need_rows(session: Session, since: datetime, until: datetime):
    """One row per need that did something in [since, until): two grouped subqueries joined."""
    advised = (
        select(AuditEntry.object_id.label("need_id"), func.min(AuditEntry.at).label("at"))
        .where(AuditEntry.object_type == "need", AuditEntry.action == "need.mark_advised")
        .group_by(AuditEntry.object_id)
        .subquery()
    )
    matched = (
        select(
            Match.need_id,
            func.min(Match.created_at).label("proposed_at"),
            func.min(Match.accepted_at).label("accepted_at"),
        )
        .group_by(Match.need_id)
        .subquery()
    )
    met = (
        select(Match.need_id, func.min(Meeting.starts_at).label("met_at"))
        .join(Meeting, Meeting.match_id == Match.id)
        .where(
            Meeting.status == MeetingStatus.CONFIRMED,
            or_(Meeting.outcome.is_(None), Meeting.outcome.not_in(NOT_HELD)),
        )
        .group_by(Match.need_id)
        .subquery()
    )

    def within(column):
        return and_(column >= since, column < until)

    statement = (
        select(
            Need.id,
            Need.initiative_id,
            Need.district,
            Need.status,
            Need.published_at,
            Need.closed_at,
            advised.c.at,
            matched.c.proposed_at,
            matched.c.accepted_at,
            met.c.met_at,
        )
        .outerjoin(advised, advised.c.need_id == Need.id)
        .outerjoin(matched, matched.c.need_id == Need.id)
        .outerjoin(met, met.c.need_id == Need.id)
        .where(
            or_(
                within(Need.published_at),
                within(Need.closed_at),
                within(advised.c.at),
                within(matched.c.accepted_at),
            )
        )
    )
    return statement


def report(session: Session, period: Period) -> Report:
    """The figures of a period and of the one before it, in six statements."""
    previous = period.previous()
    since, until = previous.since, period.until
    statement = _need_rows(session, since, until)
    rows = [_NeedRow(*row) for row in session.execute(statement)]
    ids = statement.with_only_columns(Need.id).subquery()
    phases_of: dict[int, list[str]] = defaultdict(list)
    for need_id, phase in session.execute(
        select(NeedPhase.need_id, NeedPhase.phase).where(NeedPhase.need_id.in_(select(ids.c.id)))
    ):
        phases_of[need_id].append(phase)
    figures = [_from_rows(p, rows, phases_of) for p in (period, previous)]
    _people(session, period, previous, *figures)
    _chains(session, since, until, period, previous, *figures)
    return Report(*figures)


def _from_rows(period: Period, rows: list[_NeedRow], phases_of: dict[int, list[str]]) -> Figures:
    """The need figures of one period from the per-need rows."""
    found = Figures(period)
    found.districts = {code: Area(code) for code in DISTRICT_CODES}
    found.phases = {code: Area(code) for code in PHASE_CODES}
    months = {month: Month(month) for month in period.months()}
    reached: set[int] = set()
    to_proposal, to_acceptance, to_meeting = [], [], []
    for row in rows:
        district = found.districts.get(row.district) or found.districts.setdefault(
            row.district, Area(row.district)
        )
        phases = [found.phases[p] for p in phases_of.get(row.id, ()) if p in found.phases]
        if row.published_at in period:
            found.posted += 1
            district.posted += 1
            for area in phases:
                area.posted += 1
            month = months[local_month(row.published_at)]
            month.posted += 1
            for days, into in (
                (_days(row.published_at, row.proposed_at), to_proposal),
                (_days(row.published_at, row.accepted_at), to_acceptance),
                (_days(row.published_at, row.met_at), to_meeting),
            ):
                if days is not None:
                    into.append(days)
            accepted = _days(row.published_at, row.accepted_at)
            if accepted is not None:
                month.days_to_acceptance.append(accepted)
            advised = _days(row.published_at, row.advised_at)
            if advised is not None and advised <= ADVISED_WITHIN.days:
                found.advised_within_14_days += 1
        if row.advised_at in period:
            found.advised += 1
            district.advised += 1
            for area in phases:
                area.advised += 1
            months[local_month(row.advised_at)].advised += 1
        if row.closed_at in period:
            if row.status == NeedStatus.CLOSED:
                found.completed += 1
            elif row.status == NeedStatus.WITHDRAWN:
                found.withdrawn += 1
            elif row.status == NeedStatus.EXPIRED:
                found.expired += 1
        if row.accepted_at in period:
            reached.add(row.initiative_id)
            district.initiatives.add(row.initiative_id)
            for area in phases:
                area.initiatives.add(row.initiative_id)
    found.initiatives_reached = len(reached)
    found.to_proposal = spread(to_proposal)
    found.to_acceptance = spread(to_acceptance)
    found.to_meeting = spread(to_meeting)
    found.months = list(months.values())
    return found


def _people(session: Session, period: Period, previous: Period, *figures: Figures) -> None:
    """Volunteers active, meetings held and feedback, for both periods: three statements."""
    ended = func.coalesce(Match.completed_at, Match.released_at)
    active = [
        func.count(
            func.distinct(
                case(
                    (
                        and_(
                            Match.accepted_at < p.until,
                            or_(ended.is_(None), ended >= p.since),
                        ),
                        Match.volunteer_id,
                    )
                )
            )
        )
        for p in (period, previous)
    ]
    counts = session.execute(select(*active).where(Match.accepted_at.is_not(None))).one()
    held = [
        func.count(case((and_(Meeting.starts_at >= p.since, Meeting.starts_at < p.until), 1)))
        for p in (period, previous)
    ]
    meetings = session.execute(
        select(*held).where(
            Meeting.status == MeetingStatus.CONFIRMED,
            Meeting.starts_at >= previous.since,
            Meeting.starts_at < period.until,
            or_(Meeting.outcome.is_(None), Meeting.outcome.not_in(NOT_HELD)),
        )
    ).one()

    def rated(p: Period):
        return and_(
            Match.feedback_rating.is_not(None),
            Match.feedback_at >= p.since,
            Match.feedback_at < p.until,
        )

    def reported(p: Period):
        return and_(Match.volunteer_feedback_at >= p.since, Match.volunteer_feedback_at < p.until)

    columns = []
    for p in (period, previous):
        columns += [
            func.count(case((rated(p), 1))),
            func.sum(case((rated(p), Match.feedback_rating))),
            func.count(case((reported(p), 1))),
        ]
    feedback = session.execute(
        select(*columns).where(
            or_(
                and_(Match.feedback_at >= previous.since, Match.feedback_at < period.until),
                and_(
                    Match.volunteer_feedback_at >= previous.since,
                    Match.volunteer_feedback_at < period.until,
                ),
            )
        )
    ).one()
    for index, found in enumerate(figures):
        found.volunteers_active = counts[index]
        found.meetings_held = meetings[index]
        count, total, reports_ = feedback[3 * index : 3 * index + 3]
        found.feedback_count = count
        found.feedback_average = round(total / count, 1) if count else None
        found.volunteer_reports = reports_


def _chains(
    session: Session,
    since: datetime,
    until: datetime,
    period: Period,
    previous: Period,
    *figures: Figures,
) -> None:
    """Initiatives that went on to a second or third phase: one statement over their needs."""
    going_on = select(Need.initiative_id).where(
        Need.follows_need_id.is_not(None), Need.published_at >= since, Need.published_at < until
    )
    rows = session.execute(
        select(Need.id, Need.follows_need_id, Need.initiative_id, Need.published_at).where(
            Need.initiative_id.in_(going_on)
        )
    ).all()
    follows = {row.id: row.follows_need_id for row in rows}

    def position(need_id: int) -> int:
        steps, seen = 1, {need_id}
        while (before := follows.get(need_id)) is not None and before in follows:
            if before in seen:  # a loop would be a bug elsewhere; count what is there
                break
            seen.add(before)
            steps, need_id = steps + 1, before
        return steps

    for p, found in zip((period, previous), figures, strict=True):
        furthest: Counter = Counter()
        for row in rows:
            if row.follows_need_id is not None and row.published_at in p:
                furthest[row.initiative_id] = max(furthest[row.initiative_id], position(row.id))
        found.second_phase = sum(1 for steps in furthest.values() if steps >= 2)
        found.third_phase = sum(1 for steps in furthest.values() if steps >= 3)


# ---------------------------------------------------------------------------
# In public: yearly figures only, and never a count small enough to point at someone

SHOWN_FROM = 3  # a count below this is published as "< 3"
PUBLIC_YEARS = 5


def shown(count: int) -> int | None:
    """The count if it may be published, None (said as "< 3") if it is below 3."""
    return count if count >= SHOWN_FROM else None


@dataclass(frozen=True)
class PublicYear:
    """A calendar year's figures as anyone may see them: counts of 3 or more, no names, no text.

    A median or an average is only given when at least 3 needs or ratings stand behind it."""

    year: int
    complete: bool  # False for the running year
    posted: int | None
    advised: int | None
    initiatives_reached: int | None
    volunteers_active: int | None
    meetings_held: int | None
    went_on: int | None  # initiatives that went on to a further phase
    median_days_to_acceptance: float | None
    feedback_count: int | None
    feedback_average: float | None
    districts: dict[str, int | None]
    phases: dict[str, int | None]


def public_year(session: Session, number: int, today: date) -> PublicYear:
    """One calendar year in aggregate, every small count hidden."""
    found = report(session, year(number)).current
    enough_ratings = found.feedback_count >= SHOWN_FROM
    return PublicYear(
        year=number,
        complete=number < today.year,
        posted=shown(found.posted),
        advised=shown(found.advised),
        initiatives_reached=shown(found.initiatives_reached),
        volunteers_active=shown(found.volunteers_active),
        meetings_held=shown(found.meetings_held),
        went_on=shown(found.second_phase),
        median_days_to_acceptance=(
            found.to_acceptance.median if found.to_acceptance.count >= SHOWN_FROM else None
        ),
        feedback_count=shown(found.feedback_count),
        feedback_average=found.feedback_average if enough_ratings else None,
        districts={code: shown(found.districts[code].posted) for code in DISTRICT_CODES},
        phases={code: shown(found.phases[code].posted) for code in PHASE_CODES},
    )


def public_years(session: Session, today: date) -> list[int]:
    """The years there is something to say about, newest first: at most the last five."""
    first = session.scalar(select(func.min(Need.published_at)))
    if first is None:
        return []
    start = max(first.astimezone(BERLIN).year, today.year - PUBLIC_YEARS + 1)
    return list(range(today.year, start - 1, -1))
