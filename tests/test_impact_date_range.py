"""Periods at the edge of the calendar Python can count in: a year, quarter or range whose
comparison period would begin before 1 February of the year 1 is refused like the year 0
(the page says so and shows this year, a download answers 400), never with a 500."""

from __future__ import annotations

from datetime import date

import pytest

from matching.models import Role
from matching.reports import impact
from matching.reports.impact import BadPeriod, Period

NOT_UNDERSTOOD = "Diesen Zeitraum verstehen wir nicht"

TOO_EARLY = [
    "art=jahr&jahr=1",
    "art=jahr&jahr=2",
    "art=quartal&jahr=1&quartal=1",
    "art=quartal&jahr=1&quartal=2",
    "art=frei&von=0001-01-01&bis=0001-01-01",
    "art=frei&von=0001-01-01&bis=0001-01-31",
    "art=frei&von=0001-01-05&bis=0001-01-10",
    "art=frei&von=01.01.0001&bis=31.12.0001",
]


@pytest.fixture()
def coordinator(client, auth, make_user):
    make_user("koo@example.org", roles=(Role.COORDINATOR,), first_name="Katrin")
    auth.login("koo@example.org")
    return client


@pytest.fixture()
def published(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_IMPACT", True)


@pytest.mark.parametrize("query", TOO_EARLY)
def test_a_period_too_early_gets_the_message_and_this_year(coordinator, query):
    page = coordinator.get(f"/koordination/wirkung?{query}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert NOT_UNDERSTOOD in text
    assert "Wir zeigen Ihnen dieses Jahr." in text
    assert 'role="alert"' in text
    assert "1. Januar" in text and "31. Dezember" in text  # the default: this calendar year


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
@pytest.mark.parametrize("query", TOO_EARLY)
def test_a_download_of_a_period_too_early_says_why(coordinator, suffix, query):
    response = coordinator.get(f"/koordination/wirkung.{suffix}?{query}")
    assert response.status_code == 400
    assert NOT_UNDERSTOOD in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "label", "before"),
    [
        # The earliest periods there are: the one before begins in February of the year 1.
        ("art=frei&von=0001-02-02&bis=0001-02-02", "2. Februar 1 – 2. Februar 1", "1. Februar 1"),
        ("art=quartal&jahr=1&quartal=3", "1. Juli 1 – 30. September 1", "1. April 1"),
        ("art=jahr&jahr=1000", "1. Januar 1000 – 31. Dezember 1000", "1. Januar 999"),
        ("art=quartal&jahr=1000&quartal=1", "1. Januar 1000 – 31. März 1000", "1. Oktober 999"),
    ],
)
def test_early_periods_with_a_period_before_still_work(coordinator, query, label, before):
    page = coordinator.get(f"/koordination/wirkung?{query}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert NOT_UNDERSTOOD not in text
    assert label in text
    assert before in text  # the comparison
    assert coordinator.get(f"/koordination/wirkung.csv?{query}").status_code == 200
    assert coordinator.get(f"/koordination/wirkung.xlsx?{query}").status_code == 200


@pytest.mark.parametrize(
    "period",
    [
        impact.year(1),
        impact.year(2),
        impact.quarter(1, 1),
        impact.quarter(1, 2),  # against the first quarter, January included
        Period(date.min, date.min),
        Period(date(1, 1, 5), date(1, 1, 10)),
        Period(date(1, 2, 1), date(1, 2, 1)),  # the day before is 31 January, still too early
        Period(date(1, 3, 1), date(1, 4, 30)),  # two months against January and February
    ],
)
def test_periods_before_the_calendar_are_refused(period):
    with pytest.raises(BadPeriod) as refused:
        impact.checked(period, today=date(2026, 12, 6))
    assert refused.value.code == "out_of_range"


@pytest.mark.parametrize(
    ("period", "before"),
    [
        (Period(date(1, 2, 2), date(1, 2, 2)), Period(date(1, 2, 1), date(1, 2, 1))),
        (impact.quarter(1, 3), impact.quarter(1, 2)),
        (impact.year(3), impact.year(2)),
    ],
)
def test_the_earliest_periods_are_fine(db, period, before):
    assert impact.checked(period, today=date(2026, 12, 6)) == period
    assert impact.report(db.session, period).previous.period == before


@pytest.mark.parametrize("asked", ["1", "2", "0001", "²", "١", "1" * 5000])
def test_the_public_page_gets_a_message_for_such_years(client, published, asked):
    page = client.get(f"/wirkung?jahr={asked}")
    assert page.status_code == 200
    assert "Für dieses Jahr gibt es hier keine Zahlen" in page.get_data(as_text=True)
