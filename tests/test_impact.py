"""The "Wirkung" figures against a scene worked out by hand (tests/impact_scene.py)."""

from __future__ import annotations

from datetime import date

import pytest

from matching.reports import impact
from matching.reports.impact import BadPeriod, Period, Spread
from tests.impact_scene import build_impact_scene


@pytest.fixture()
def scene(db, make_volunteer):
    return build_impact_scene(db, make_volunteer)


def test_the_year_2026(db, scene):
    found = impact.report(db.session, impact.year(2026)).current
    # n1 (1 Jan 00:30 in Stuttgart, still 2025 in UTC), n2, n3, n5, n6; not n4 (31 Dec 23:30).
    assert found.posted == 5
    assert (found.advised, found.completed, found.withdrawn, found.expired) == (2, 1, 1, 1)
    assert found.initiatives_reached == 2  # A through n1, B through n4 and n2
    assert found.to_proposal == Spread(3, 1.0, 1.6)  # days 1, 2 (n2), 1 (n5)
    assert found.to_acceptance == Spread(2, 4.0, 4.6)  # days 3 and 5
    assert found.to_meeting == Spread(2, 15.0, 18.0)  # days 10 and 20; cancelled ones not
    assert found.advised_within_14_days == 1  # n1 after 12 days; n2 after 20
    assert found.advised_within_14_days_share == pytest.approx(0.2)
    assert found.volunteers_active == 2
    assert found.meetings_held == 2  # held, and not asked yet; never "not held" or cancelled
    assert (found.feedback_count, found.feedback_average, found.volunteer_reports) == (2, 4.0, 1)
    assert (found.second_phase, found.third_phase) == (1, 1)  # A went on to n5, then n6


def test_districts_and_phases(db, scene):
    found = impact.report(db.session, impact.year(2026)).current
    districts = {
        code: (a.posted, a.advised, a.initiatives_reached) for code, a in found.districts.items()
    }
    assert districts["ost"] == (3, 1, 1)
    assert districts["mitte"] == (1, 1, 1)
    assert districts["vaihingen"] == (1, 0, 0)
    assert districts["west"] == (0, 0, 0)
    assert len(found.districts) == 23
    phases = {
        code: (a.posted, a.advised, a.initiatives_reached) for code, a in found.phases.items()
    }
    assert phases["start"] == (2, 2, 2)
    assert phases["planning"] == (2, 0, 0)
    assert phases["results"] == (1, 1, 1)
    assert phases["cooperation"] == (1, 0, 0)
    assert phases["conflicts"] == (1, 0, 0)
    assert phases["exchange"] == (0, 0, 0)


def test_months_follow_stuttgart_not_utc(db, scene):
    found = impact.report(db.session, impact.year(2026)).current
    months = {
        m.month.month: (m.posted, m.advised, m.median_days_to_acceptance) for m in found.months
    }
    assert len(months) == 12
    assert months[1] == (1, 1, 3.0)  # n1: 31 Dec in UTC, January here
    assert months[2] == (0, 0, None)
    assert months[3] == (1, 1, 5.0)  # n2: 28 Feb in UTC, March here
    assert months[6] == (0, 0, None)
    assert months[7] == (1, 0, None)  # n3: 30 June in UTC, July here (summer time)
    assert months[4][0] == months[5][0] == 1


def test_the_previous_period_is_compared(db, scene):
    result = impact.report(db.session, impact.year(2026))
    assert result.previous.period == impact.year(2025)
    before = result.previous
    assert (before.posted, before.advised, before.initiatives_reached) == (1, 0, 0)  # n4
    assert before.volunteers_active == 0  # n4's expert said yes only on 2 January 2026
    assert before.districts["mitte"].posted == 1


def test_quarters_and_single_days_at_the_edges(db, scene):
    q1 = impact.report(db.session, impact.quarter(2026, 1))
    assert q1.current.posted == 2  # n1 and n2
    assert q1.previous.period == impact.quarter(2025, 4)
    assert q1.previous.posted == 1  # n4
    assert impact.report(db.session, impact.quarter(2026, 2)).current.posted == 2  # n5, n6
    assert impact.report(db.session, impact.quarter(2026, 3)).current.posted == 1  # n3
    first_of_march = impact.report(db.session, Period(date(2026, 3, 1), date(2026, 3, 1)))
    assert first_of_march.current.posted == 1
    assert first_of_march.previous.period == Period(date(2026, 2, 28), date(2026, 2, 28))
    assert first_of_march.previous.posted == 0


def test_an_empty_period_has_no_percentiles(db, scene):
    found = impact.report(db.session, impact.year(2020)).current
    assert found.posted == 0
    assert found.to_acceptance == Spread(0, None, None)
    assert found.advised_within_14_days_share is None
    assert found.feedback_average is None


def test_a_fixed_number_of_statements(db, scene, count_queries, make_volunteer):
    with count_queries() as few:
        impact.report(db.session, impact.year(2026))
    for n in range(3):  # three more sets of the same rows
        build_impact_scene(db, lambda email, n=n: make_volunteer(f"x{n}-{email}"))
    with count_queries() as many:
        doubled = impact.report(db.session, impact.year(2026)).current
    assert doubled.posted == 20
    assert len(few) == len(many) == 6


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 1, 1), date(2026, 12, 31), Period(date(2025, 1, 1), date(2025, 12, 31))),
        (date(2026, 1, 1), date(2026, 3, 31), Period(date(2025, 10, 1), date(2025, 12, 31))),
        (date(2024, 3, 1), date(2024, 4, 30), Period(date(2024, 1, 1), date(2024, 2, 29))),
        (date(2026, 3, 5), date(2026, 3, 14), Period(date(2026, 2, 23), date(2026, 3, 4))),
    ],
)
def test_the_period_before(start, end, expected):
    assert Period(start, end).previous() == expected


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (date(2026, 5, 1), date(2026, 4, 30), "reversed"),
        (date(2026, 12, 7), date(2026, 12, 31), "future"),
        (date(2020, 1, 1), date(2025, 1, 1), "too_long"),
    ],
)
def test_periods_nobody_can_report_on(start, end, code):
    with pytest.raises(BadPeriod) as refused:
        impact.checked(Period(start, end), today=date(2026, 12, 6))
    assert refused.value.code == code


def test_five_years_are_still_fine():
    period = Period(date(2020, 1, 1), date(2024, 12, 31))
    assert impact.checked(period, today=date(2026, 12, 6)) == period


def test_stuttgart_midnight_in_utc():
    winter = Period(date(2026, 1, 1), date(2026, 1, 31))
    assert winter.since.isoformat() == "2025-12-31T23:00:00+00:00"
    summer = Period(date(2026, 7, 1), date(2026, 7, 31))
    assert summer.since.isoformat() == "2026-06-30T22:00:00+00:00"
    assert summer.until.isoformat() == "2026-07-31T22:00:00+00:00"
