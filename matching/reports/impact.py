"""What the advice achieved in a period ("Wirkung"): figures for coordinators and, in aggregate,
for the public.

Six statements answer for a period and the one before it, however many needs there are, and
only aggregates come back: the needs' moments are grouped per need, per period, and then per
district, Stuttgart month and phase in SQL (months cut at Stuttgart's midnights, percentiles by
``percentile_cont``), so a year of a whole city costs the same few hundred rows as a quiet week.

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

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Float, and_, case, cast, func, literal_column, null, or_, select, union_all
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
# How needs end: counted as completed, withdrawn and expired, in this order.
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
    if not _countable(period):
        raise BadPeriod("out_of_range")
    return period


def _countable(period: Period) -> bool:
    """Whether Python can hold every moment a report on the period reads: from the first
    midnight of the month the period before begins in (the earliest, see ``_month``) to the
    first moment after the period. Not so if the period before would begin before 1 February
    of the year 1 (for the year 1 or 2, say, or for the first days of the year 1)."""
    try:
        before = period.previous()
        return _midnight(before.start.replace(day=1)) < period.until
    except (ValueError, OverflowError):
        return False


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


@dataclass
class Month:
    month: date
    posted: int = 0
    advised: int = 0
    median_days_to_acceptance: float | None = None


@dataclass
class Area:
    """A district's or a phase's figures."""

    code: str
    posted: int = 0
    advised: int = 0
    initiatives_reached: int = 0


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


def report(session: Session, period: Period) -> Report:
    """The figures of a period and of the one before it, in six statements."""
    periods = (period, period.previous())
    figures = [_empty(p) for p in periods]
    _by_need(session, periods, figures)
    _ended(session, periods, figures)
    _people(session, *periods, *figures)
    _chains(session, periods[1].since, period.until, *periods, *figures)
    return Report(*figures)


def _empty(period: Period) -> Figures:
    return Figures(
        period,
        districts={code: Area(code) for code in DISTRICT_CODES},
        phases={code: Area(code) for code in PHASE_CODES},
        months=[Month(month) for month in period.months()],
    )


def _need_rows(since: datetime, until: datetime):
    """One row per need posted, advised or accepted in [since, until): its moments, each the
    first of its kind (advised, proposed, accepted, met), from two grouped subqueries."""
    advised = (
        select(AuditEntry.object_id.label("need_id"), func.min(AuditEntry.at).label("at"))
        .where(AuditEntry.object_type == "need", AuditEntry.action == "need.mark_advised")
        .group_by(AuditEntry.object_id)
        .subquery()
    )
    held = and_(
        Meeting.status == MeetingStatus.CONFIRMED,
        or_(Meeting.outcome.is_(None), Meeting.outcome.not_in(NOT_HELD)),
    )
    matched = (
        select(
            Match.need_id,
            func.min(Match.created_at).label("proposed_at"),
            func.min(Match.accepted_at).label("accepted_at"),
            func.min(Meeting.starts_at).label("met_at"),
        )
        .outerjoin(Meeting, and_(Meeting.match_id == Match.id, held))
        .group_by(Match.need_id)
        .subquery()
    )

    def within(column):
        return and_(column >= since, column < until)

    return (
        select(
            Need.id,
            Need.initiative_id,
            Need.district,
            Need.published_at,
            advised.c.at.label("advised_at"),
            matched.c.proposed_at,
            matched.c.accepted_at,
            matched.c.met_at,
        )
        .outerjoin(advised, advised.c.need_id == Need.id)
        .outerjoin(matched, matched.c.need_id == Need.id)
        .where(or_(within(Need.published_at), within(advised.c.at), within(matched.c.accepted_at)))
    )


def _facts(periods: tuple[Period, Period], dialect: str):
    """What each need did in each period, one row per need and period it was active in
    (``p`` 0 for the period, 1 for the one before): flags 1/0 for posted, advised and first
    accepted there, the days from publishing to each step, and the Stuttgart months it was
    posted and advised in."""
    rows = _need_rows(periods[1].since, periods[0].until).cte("need_rows")
    months = sorted({m for p in periods for m in p.months()})
    published, advised = rows.c.published_at, rows.c.advised_at
    shared = [
        rows.c.id,
        rows.c.initiative_id,
        rows.c.district,
        _days(published, rows.c.proposed_at, dialect).label("to_proposal"),
        _days(published, rows.c.accepted_at, dialect).label("to_acceptance"),
        _days(published, rows.c.met_at, dialect).label("to_meeting"),
        _days(published, advised, dialect).label("to_advice"),
        _month(published, months, dialect).label("posted_month"),
        _month(advised, months, dialect).label("advised_month"),
    ]
    branches = []
    for index, p in enumerate(periods):

        def within(column, p=p):
            return and_(column >= p.since, column < p.until)

        moments = {
            "posted": within(published),
            "advised": within(advised),
            "accepted": within(rows.c.accepted_at),
        }
        branches.append(
            select(
                literal_column(str(index)).label("p"),
                *shared,
                *(case((held, 1), else_=0).label(name) for name, held in moments.items()),
            ).where(or_(*moments.values()))
        )
    return union_all(*branches).cte("facts")


def _days(since, then, dialect: str):
    """Days (fractional) from ``since`` to ``then``, never below 0; NULL without both."""
    if dialect == "postgresql":  # date_part: double precision (extract's numeric is slower)
        days = func.date_part("epoch", then - since, type_=Float) / 86400.0
    else:  # SQLite keeps UTC as text; julianday reads it to the millisecond
        milliseconds = func.round((func.julianday(then) - func.julianday(since)) * 86_400_000.0)
        days = cast(milliseconds, Float) / 86_400_000.0
    return case((days < 0, 0.0), else_=days)


def _month(moment, months: list[date], dialect: str):
    """The first day of the Stuttgart calendar month of ``moment``, as 'YYYY-MM-DD' text.

    SQLite knows no time zones: there it is the last of the months' first midnights (from
    ``months``, which cover the periods) that ``moment`` is not before."""
    if dialect == "postgresql":
        local = func.date_trunc("month", func.timezone(BERLIN.key, moment))
        return func.to_char(local, "YYYY-MM-DD")
    return case(
        *((moment >= _midnight(month), month.isoformat()) for month in reversed(months)),
        else_=null(),
    )


def _percentile(fraction: float, value, dialect: str):
    """PostgreSQL's ``percentile_cont`` over the non-NULL values (a Python aggregate of the same
    name and rule stands in on SQLite, see ``matching.database``)."""
    if dialect == "postgresql":
        return func.percentile_cont(fraction).within_group(value)
    return func.percentile_cont(value, fraction)


_STEPS = ("to_proposal", "to_acceptance", "to_meeting")
# The columns every grouping of ``_by_need`` answers with; a grouping without one says NULL.
_NEED_COLUMNS = (
    "posted",
    "advised",
    "reached",
    "advised_within_14_days",
    *(f"{step}_{what}" for step in _STEPS for what in ("count", "median", "p80")),
)


def _by_need(session: Session, periods: tuple[Period, Period], figures: list[Figures]) -> None:
    """Counts and percentiles over the needs, grouped five ways in one statement: per period,
    district, phase, month posted and month advised (each a few dozen rows at most)."""
    dialect = session.get_bind().dialect.name
    facts = _facts(periods, dialect)
    c = facts.c
    posted, advised = c.posted == 1, c.advised == 1

    def grouping(kind: str, key=None, where=None, from_=facts, **columns):
        statement = select(
            literal_column(f"'{kind}'").label("kind"),
            c.p,
            (null() if key is None else key).label("key"),
            *(columns.get(name, null()).label(name) for name in _NEED_COLUMNS),
        ).select_from(from_)
        if where is not None:
            statement = statement.where(where)
        return statement.group_by(c.p, *([] if key is None else [key]))

    per_area = {
        "posted": func.count(case((posted, 1))),
        "advised": func.count(case((advised, 1))),
        "reached": func.count(func.distinct(case((c.accepted == 1, c.initiative_id)))),
    }
    spreads = {}
    for step in _STEPS:
        days = case((posted, getattr(c, step)))
        spreads |= {
            f"{step}_count": func.count(days),
            f"{step}_median": _percentile(0.5, days, dialect),
            f"{step}_p80": _percentile(0.8, days, dialect),
        }
    within_14 = func.count(case((and_(posted, c.to_advice <= ADVISED_WITHIN.days), 1)))
    statement = union_all(
        grouping("all", **per_area, advised_within_14_days=within_14, **spreads),
        grouping("district", c.district, **per_area),
        grouping(
            "phase",
            NeedPhase.phase,
            from_=facts.join(NeedPhase, NeedPhase.need_id == c.id),
            **per_area,
        ),
        grouping(
            "posted_month",
            c.posted_month,
            posted,
            posted=func.count(),
            to_acceptance_median=_percentile(0.5, c.to_acceptance, dialect),
        ),
        grouping("advised_month", c.advised_month, advised, advised=func.count()),
    )
    months = [{m.month.isoformat(): m for m in found.months} for found in figures]
    for row in session.execute(statement).mappings():
        found, kind, key = figures[row["p"]], row["kind"], row["key"]
        if kind == "all":
            found.posted, found.advised = row["posted"], row["advised"]
            found.initiatives_reached = row["reached"]
            found.advised_within_14_days = row["advised_within_14_days"]
            found.to_proposal, found.to_acceptance, found.to_meeting = (
                Spread(
                    row[f"{step}_count"],
                    _rounded(row[f"{step}_median"]),
                    _rounded(row[f"{step}_p80"]),
                )
                for step in _STEPS
            )
        elif kind in ("district", "phase"):
            areas = found.districts if kind == "district" else found.phases
            if kind == "district" or key in areas:
                area = areas.setdefault(key, Area(key))
                area.posted, area.advised = row["posted"], row["advised"]
                area.initiatives_reached = row["reached"]
        elif kind == "posted_month":
            months[row["p"]][key].posted = row["posted"]
            months[row["p"]][key].median_days_to_acceptance = _rounded(row["to_acceptance_median"])
        else:
            months[row["p"]][key].advised = row["advised"]


def _rounded(days: float | None) -> float | None:
    return None if days is None else round(days, 1)


def _ended(session: Session, periods: tuple[Period, Period], figures: list[Figures]) -> None:
    """Needs completed, withdrawn and expired in each period: one statement over the needs."""
    columns = [
        func.count(
            case(
                (
                    and_(
                        Need.status == status, Need.closed_at >= p.since, Need.closed_at < p.until
                    ),
                    1,
                )
            )
        )
        for p in periods
        for status in ENDED
    ]
    counts = session.execute(
        select(*columns).where(
            Need.closed_at >= periods[1].since, Need.closed_at < periods[0].until
        )
    ).one()
    for index, found in enumerate(figures):
        found.completed, found.withdrawn, found.expired = counts[3 * index : 3 * index + 3]


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
