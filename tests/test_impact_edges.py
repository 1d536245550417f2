"""The "Wirkung" figures at Stuttgart's month ends, around the clock changes, and the
percentiles between ranks, worked out by hand (on SQLite and PostgreSQL alike)."""

from __future__ import annotations

import statistics
from datetime import date, timedelta

import pytest

from matching.database import PercentileCont
from matching.models import AuditEntry, Initiative, Match, MatchStatus, Need, NeedPhase, NeedStatus
from matching.reports import impact
from matching.reports.impact import Period, Spread
from tests.impact_scene import at

DAY = timedelta(days=1)


@pytest.fixture()
def add_need(db, make_volunteer):
    """``add_need(published, accepted_after=None, advised=None, district="ost")``: a need of
    its own initiative, its expert's yes that many days after publishing."""
    volunteer = make_volunteer("edges@example.org")
    count = {"n": 0}

    def factory(published, accepted_after=None, advised=None, district="ost", phase="start"):
        count["n"] += 1
        initiative = Initiative(name=f"Initiative {count['n']}", district=district)
        need = Need(
            initiative=initiative,
            title="Anfrage",
            description="Beschreibung",
            district=district,
            status=NeedStatus.OPEN,
            published_at=published,
        )
        need.phase_rows = [NeedPhase(phase=phase)]
        db.session.add(need)
        db.session.flush()
        if accepted_after is not None:
            db.session.add(
                Match(
                    need_id=need.id,
                    volunteer_id=volunteer.id,
                    status=MatchStatus.ACCEPTED,
                    created_at=published,
                    accepted_at=published + accepted_after * DAY,
                )
            )
        if advised is not None:
            db.session.add(
                AuditEntry(
                    at=advised,
                    action="need.mark_advised",
                    object_type="need",
                    object_id=need.id,
                    from_state="matched",
                    to_state="advised",
                )
            )
        db.session.commit()
        return need

    return factory


def _months(found) -> dict[str, tuple[int, int]]:
    return {m.month.isoformat(): (m.posted, m.advised) for m in found.months}


def test_month_ends_around_the_clock_changes(db, add_need):
    # Summer time began on 29 March 2026 and ended on 25 October 2026.
    add_need(at("2026-03-31T21:30"))  # 31 March, 23:30 summer time: March
    add_need(at("2026-03-31T22:30"))  # 1 April, 00:30 summer time: April
    add_need(at("2026-10-31T22:30"))  # 31 October, 23:30 winter time: October
    add_need(at("2026-10-31T23:30"), advised=at("2026-11-30T22:59"))  # 1 Nov; 30 Nov 23:59
    add_need(at("2026-06-01T08:00"), advised=at("2026-04-30T22:30"))  # advised 1 May, 00:30
    add_need(at("2026-06-02T08:00"), advised=at("2026-05-31T21:59"))  # advised 31 May, 23:59
    months = _months(impact.report(db.session, impact.year(2026)).current)
    assert months["2026-03-01"] == (1, 0)
    assert months["2026-04-01"] == (1, 0)
    assert months["2026-05-01"] == (0, 2)
    assert months["2026-06-01"] == (2, 0)
    assert months["2026-10-01"] == (1, 0)
    assert months["2026-11-01"] == (1, 1)
    assert sum(posted for posted, _ in months.values()) == 6


def test_a_month_both_periods_touch(db, add_need):
    # 5–14 March against the ten days before, 23 February – 4 March: March is in both.
    add_need(at("2026-03-03T12:00"))  # the period before
    add_need(at("2026-03-05T12:00"), accepted_after=2)  # this period
    add_need(at("2026-03-14T22:59"), accepted_after=4)  # 14 March, 23:59: still this period
    add_need(at("2026-03-14T23:00"))  # 15 March, 00:00: after it
    result = impact.report(db.session, Period(date(2026, 3, 5), date(2026, 3, 14)))
    assert _months(result.current) == {"2026-03-01": (2, 0)}
    assert result.current.months[0].median_days_to_acceptance == 3.0
    assert _months(result.previous) == {"2026-02-01": (0, 0), "2026-03-01": (1, 0)}
    assert result.previous.months[1].median_days_to_acceptance is None


def test_percentiles_between_ranks(db, add_need):
    # Days to the yes: 1, 2, 4, 8, 16. Median: the third, 4. 80 %: 0.8 × 4 = 3.2 ranks in,
    # between 8 and 16: 8 + 0.2 × 8 = 9.6. A need nobody said yes to does not count.
    for days in (8, 1, 16, 4, 2):
        add_need(at("2026-05-04T08:00"), accepted_after=days)
    add_need(at("2026-05-04T08:00"))
    found = impact.report(db.session, impact.year(2026)).current
    assert found.to_acceptance == Spread(5, 4.0, 9.6)
    assert found.months[4].median_days_to_acceptance == 4.0
    # Four of them (1, 2, 4, 8): median between 2 and 4, 3; 80 %: 0.8 × 3 = 2.4 ranks in,
    # 4 + 0.4 × 4 = 5.6. One alone is its own median and 80th percentile.
    for days in (4, 1, 8, 2):
        add_need(at("2025-05-04T08:00"), accepted_after=days)
    assert impact.report(db.session, impact.year(2025)).current.to_acceptance == Spread(4, 3.0, 5.6)
    add_need(at("2024-05-04T08:00"), accepted_after=3)
    assert impact.report(db.session, impact.year(2024)).current.to_acceptance == Spread(1, 3.0, 3.0)


def test_small_counts_in_public_at_the_edge(db, add_need):
    for days in (1, 2, 3):
        add_need(at("2026-05-04T08:00"), accepted_after=days, district="west")
    add_need(at("2026-05-04T08:00"), accepted_after=9, district="nord")
    add_need(at("2026-05-04T08:00"), district="nord")
    found = impact.public_year(db.session, 2026, today=date(2027, 1, 15))
    assert found.posted == 5
    assert found.districts["west"] == 3  # exactly 3: shown
    assert found.districts["nord"] is None  # 2: "< 3"
    assert found.initiatives_reached == 4
    assert found.median_days_to_acceptance == 2.5  # four needs behind it: 1, 2, 3, 9


@pytest.mark.parametrize(
    "values",
    [[5.0], [1.0, 2.0], [3.0, 1.0, 2.0], [0.5, 9.0, 2.25, 7.0, 7.0, 1.0], list(range(37))],
)
def test_the_sqlite_percentile_computes_as_postgresql(values):
    def aggregate(fraction):
        found = PercentileCont()
        for value in [None, *values, None]:
            found.step(value, fraction)
        return found.finalize()

    assert aggregate(0.5) == pytest.approx(statistics.median(values))
    expected = (
        values[0] if len(values) == 1 else statistics.quantiles(values, n=5, method="inclusive")[3]
    )
    assert aggregate(0.8) == pytest.approx(expected)
    nothing = PercentileCont()
    nothing.step(None, 0.5)
    assert nothing.finalize() is None
