"""The coordinators' "Wirkung" page, its period form and its downloads."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from matching.models import Role
from tests.impact_scene import build_impact_scene

YEAR_2026 = "/koordination/wirkung?art=jahr&jahr=2026"


@pytest.fixture()
def coordinator(client, auth, make_user):
    make_user("koo@example.org", roles=(Role.COORDINATOR,), first_name="Katrin")
    auth.login("koo@example.org")
    return client


@pytest.fixture()
def scene(db, make_volunteer):
    return build_impact_scene(db, make_volunteer)


def test_the_report_for_a_year(coordinator, scene):
    page = coordinator.get(YEAR_2026)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "1. Januar 2026 – 31. Dezember 2026" in text
    assert "1. Januar 2025 – 31. Dezember 2025" in text  # the comparison
    assert (
        '<th scope="row">Anfragen veröffentlicht</th><td class="num">5</td><td class="num">1</td>'
        in text
    )
    assert (
        '<th scope="row">Anteil innerhalb von 14 Tagen beraten (%)</th><td class="num">20 %</td>'
        in text
    )
    assert text.count("<svg") == 4  # four charts, drawn on the server
    assert 'aria-hidden="true"' in text  # the table twin speaks for the picture
    # The Content-Security-Policy blocks inline styles: shapes say their colours as attributes.
    for svg in text.split("<svg")[1:]:
        assert "style=" not in svg.split("</svg>")[0]
    assert "<script" not in text.split("<main", 1)[1]
    assert "Am häufigsten gefragt war „Start / Akquise“ mit 2 Anfragen." in text
    assert "Stadtteilvernetzer Stuttgart · Bericht „Wirkung“" in text  # head of the A4 print
    assert text.count('<th scope="row">') >= 23 + 8 + 12


def test_the_charts_ids_are_their_own(coordinator, scene):
    """Four charts on one page: no id twice, and every reference inside a chart points to
    an id of that chart (matplotlib names every figure's parts alike)."""
    text = coordinator.get(YEAR_2026).get_data(as_text=True)
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))
    for svg in (part.split("</svg>")[0] for part in text.split("<svg")[1:]):
        own = set(re.findall(r'\bid="([^"]+)"', svg))
        used = set(re.findall(r'(?:href="#|url\(#)([^")]+)', svg))
        assert used and used <= own


def test_the_district_shade(coordinator, scene):
    text = coordinator.get(YEAR_2026).get_data(as_text=True)
    # Ost had the most needs (3): the darkest shade; Mitte and Vaihingen 1 each; West none.
    assert '<th scope="row">Ost</th>\n      <td class="num shade shade-4">3</td>' in text
    assert '<th scope="row">Mitte</th>\n      <td class="num shade shade-2">1</td>' in text
    assert '<th scope="row">West</th>\n      <td class="num shade shade-0">0</td>' in text
    assert "Innenstadtbezirke" in text and "Äußere Stadtbezirke" in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("art=frei&von=2026-05-01&bis=2026-04-01", "endet, bevor er beginnt"),
        ("art=frei&von=2099-01-01&bis=2099-02-01", "liegt in der Zukunft"),
        ("art=frei&von=2015-01-01&bis=2025-01-01", "höchstens 5 Jahre"),
        ("art=frei&von=gestern&bis=heute", "verstehen wir nicht"),
        ("art=quartal&jahr=2026&quartal=5", "verstehen wir nicht"),
        ("art=jahr&jahr=zwanzig", "verstehen wir nicht"),
        ("art=woche", "verstehen wir nicht"),
        ("art=jahr&jahr=99999999999999999999", "verstehen wir nicht"),
    ],
)
def test_bad_periods_get_a_message_and_this_year(coordinator, query, message):
    page = coordinator.get(f"/koordination/wirkung?{query}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert message in text
    assert 'role="alert"' in text
    assert "1. Januar" in text and "31. Dezember" in text  # the default: this calendar year


def test_quarter_and_custom_periods(coordinator, scene):
    text = coordinator.get("/koordination/wirkung?art=quartal&jahr=2026&quartal=1").get_data(
        as_text=True
    )
    assert "1. Januar 2026 – 31. März 2026" in text
    assert "1. Oktober 2025 – 31. Dezember 2025" in text
    text = coordinator.get("/koordination/wirkung?art=frei&von=01.03.2026&bis=2026-03-01").get_data(
        as_text=True
    )
    assert "1. März 2026 – 1. März 2026" in text
    assert (
        '<th scope="row">Anfragen veröffentlicht</th><td class="num">1</td><td class="num">0</td>'
        in text
    )


@pytest.mark.parametrize("roles", [(Role.VOLUNTEER,), (Role.INITIATIVE,)])
@pytest.mark.parametrize(
    "path", ["/koordination/wirkung", "/koordination/wirkung.csv", "/koordination/wirkung.xlsx"]
)
def test_only_coordinators(client, auth, make_user, roles, path):
    make_user("someone@example.org", roles=roles)
    auth.login("someone@example.org")
    assert client.get(path).status_code == 403


def test_anonymous_people_are_asked_to_log_in(client):
    page = client.get("/koordination/wirkung")
    assert page.status_code == 302
    assert "/anmelden" in page.headers["Location"]


def test_csv_with_german_headers(coordinator, scene):
    response = coordinator.get("/koordination/wirkung.csv?art=jahr&jahr=2026")
    assert response.status_code == 200
    assert 'filename="wirkung-2026-01-01-2026-12-31.csv"' in response.headers["Content-Disposition"]
    body = response.data.decode("utf-8-sig").splitlines()
    assert body[0] == (
        "Bereich;Kennzahl;Zeitraum 1. Januar 2026 – 31. Dezember 2026;"
        "Vorzeitraum 1. Januar 2025 – 31. Dezember 2025"
    )
    assert "Überblick;Anfragen veröffentlicht;5;1" in body
    assert "Überblick;Anteil innerhalb von 14 Tagen beraten (%);20,00;0,00" in body
    assert "Stadtbezirk: Ost;Anfragen veröffentlicht;3;0" in body
    assert "Thema: Start / Akquise;Anfragen beraten;2;0" in body
    assert "Monat: März 2026;Tage bis zur Zusage (Median);5,00;" in body


def test_xlsx_has_typed_cells(coordinator, scene):
    response = coordinator.get("/koordination/wirkung.xlsx?art=jahr&jahr=2026")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Bereich", "Kennzahl")
    assert ("Überblick", "Anfragen veröffentlicht", 5, 1) in rows


def test_a_download_of_a_bad_period_says_why(coordinator):
    response = coordinator.get("/koordination/wirkung.csv?art=frei&von=2026-05-01&bis=2026-04-01")
    assert response.status_code == 400
    assert "endet, bevor er beginnt" in response.get_data(as_text=True)


def test_the_page_in_english(client, auth, make_user, scene):
    make_user("coordinator@example.org", roles=(Role.COORDINATOR,), locale="en")
    auth.login("coordinator@example.org")
    text = client.get(YEAR_2026, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>Impact</h1>" in text
    assert '<th scope="row">Needs posted</th>' in text
    csv = client.get("/koordination/wirkung.csv?art=jahr&jahr=2026").data.decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("Section;Figure;Period ")


def test_the_page_reads_a_fixed_number_of_statements(
    coordinator, scene, count_queries, db, make_volunteer
):
    with count_queries() as few:
        coordinator.get(YEAR_2026)
    for n in range(2):
        build_impact_scene(db, lambda email, n=n: make_volunteer(f"y{n}-{email}"))
    with count_queries() as many:
        coordinator.get(YEAR_2026)
    assert len(few) == len(many)


def _summaries(app, locale: str, medians: dict[int, float], posted: int) -> dict[str, str]:
    """The sentences under the charts for a year whose months (by number) had these medians."""
    from flask_babel import force_locale

    from matching.reports import impact, impact_view

    period = impact.year(2026)
    report = impact.Report(impact._empty(period), impact._empty(period.previous()))
    found = report.current
    found.posted = posted
    found.months[11].posted = posted
    found.phases["start"].posted = posted
    for month, days in medians.items():
        found.months[month - 1].median_days_to_acceptance = days
    with app.test_request_context(), force_locale(locale):
        return {chart.id: chart.summary for chart in impact_view.charts_for(report)}


def test_the_chart_sentences_have_a_singular(app):
    """ "zwischen 1 Tagen" and "mit 1 Anfragen": one is singular, in both places of the
    sentence, and in English too."""
    one = _summaries(app, "de", {12: 1.0, 11: 2.5}, posted=1)
    assert (
        "Bis zur Zusage vergingen im Median zwischen 1 Tag (Dezember 2026) "
        "und 2,5 Tagen (November 2026)." in one.values()
    )
    assert "Am häufigsten gefragt war „Start / Akquise“ mit 1 Anfrage." in one.values()
    assert any(text.startswith("1 Anfrage veröffentlicht und 0 beraten") for text in one.values())
    both = _summaries(app, "de", {12: 1.0, 11: 1.0}, posted=2)
    assert "Bis zur Zusage verging im Median in jedem Monat mit Zusagen 1 Tag." in both.values()
    assert "Am häufigsten gefragt war „Start / Akquise“ mit 2 Anfragen." in both.values()
    single = _summaries(app, "de", {12: 3.0}, posted=2)
    assert "Bis zur Zusage vergingen im Median 3 Tage (Dezember 2026)." in single.values()
    assert (
        "Bis zur Zusage verging im Median 1 Tag (Dezember 2026)."
        in _summaries(app, "de", {12: 1.0}, posted=2).values()
    )
    english = _summaries(app, "en", {12: 1.0, 11: 4.0}, posted=1)
    assert (
        "The median time to an expert's yes was between 1 day (December 2026) "
        "and 4 days (November 2026)." in english.values()
    )
