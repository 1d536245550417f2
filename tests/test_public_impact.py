"""'Was wir bewirken': yearly figures in public, opt-in, never a count below 3."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from matching.reports import impact
from tests.impact_scene import build_impact_scene

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture()
def published(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_IMPACT", True)


@pytest.fixture()
def scene(db, make_volunteer):
    return build_impact_scene(db, make_volunteer)


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, None), (1, None), (2, None), (3, 3), (4, 4), (120, 120)],
)
def test_a_count_below_3_is_never_shown(count, shown):
    assert impact.shown(count) == shown


def test_the_public_year_hides_every_small_figure(db, scene):
    found = impact.public_year(db.session, 2026, today=date(2027, 1, 15))
    assert found.complete is True
    assert found.posted == 5
    # 2 each in the scene: advised, initiatives reached, experts active, meetings, ratings.
    assert found.advised is None
    assert found.initiatives_reached is None
    assert found.volunteers_active is None
    assert found.meetings_held is None
    assert found.went_on is None  # 1 initiative went on
    assert found.feedback_count is None
    assert found.feedback_average is None  # only 2 ratings behind it
    assert found.median_days_to_acceptance is None  # only 2 needs behind it
    assert found.districts["ost"] == 3
    assert found.districts["mitte"] is None  # 1
    assert found.districts["west"] is None  # 0 is below 3, too
    assert found.phases["start"] is None  # 2
    assert set(found.districts.values()) | set(found.phases.values()) <= {None, 3, 4, 5}


def test_the_years_offered(db, scene):
    assert impact.public_years(db.session, date(2026, 12, 6)) == [2026, 2025]
    assert impact.public_years(db.session, date(2032, 6, 1)) == [2032, 2031, 2030, 2029, 2028]


def test_off_unless_the_association_publishes(client, scene):
    assert client.get("/wirkung").status_code == 404
    assert client.get("/feeds/wirkung.atom").status_code == 404
    response = client.get("/api/v1/impact")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_the_public_page(client, published, scene):
    page = client.get("/wirkung?jahr=2026")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Was wir bewirken" in text
    assert '<th scope="row">Anfragen von Initiativen</th><td class="num">5</td>' in text
    assert '<th scope="row">Anfragen beraten</th><td class="num">&lt; 3</td>' in text
    assert '<th scope="row">Ost</th><td class="num">3</td>' in text
    assert '<th scope="row">Mitte</th><td class="num">&lt; 3</td>' in text
    # For the public in plain words: what the middle value means, not the word "Median".
    assert "Median" not in text and "die Hälfte der Anfragen war schneller" in text
    for private in ("Initiative A", "Initiative B", "Muster", "v1@", "Gut", "Anfrage</"):
        assert private not in text  # no names, no free text

    numbers = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', text)]
    assert numbers and min(numbers) >= 3


@pytest.mark.parametrize("asked", ["1999", "abc", "2026abc", "-1", "99999999999999999999"])
def test_a_year_without_figures_gets_a_message(client, published, scene, asked):
    page = client.get(f"/wirkung?jahr={asked}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Für dieses Jahr gibt es hier keine Zahlen" in text


def test_the_api(client, published, scene):
    response = client.get("/api/v1/impact")
    assert response.status_code == 200
    years = {row["year"]: row for row in response.get_json()}
    assert set(years) >= {2025, 2026}
    row = years[2026]
    assert row["needs_posted"] == 5
    assert row["needs_advised"] is None
    assert row["average_rating"] is None
    districts = {d["code"]: d["needs_posted"] for d in row["districts"]}
    assert districts["ost"] == 3 and districts["mitte"] is None
    assert all(v is None or v >= 3 for v in districts.values())
    assert years[2025]["needs_posted"] is None  # one need (n4)


def test_the_api_is_documented(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/impact" in document["paths"]
    assert "ImpactYear" in document["components"]["schemas"]


def test_the_atom_feed(client, published, scene):
    response = client.get("/feeds/wirkung.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    summaries = " ".join(e.find(f"{ATOM}summary").text for e in entries)
    assert "Anfragen von Initiativen: 5." in summaries
    assert "Beraten: weniger als 3." in summaries
    assert "Initiative A" not in response.get_data(as_text=True)
