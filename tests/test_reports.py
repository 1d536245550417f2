"""The coordinators' reports: overview, phase × district coverage, CSV exports.

Service functions get a fixed ``now``; the pages run at the real time, so their
data is made relative to it.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from matching import reports
from matching.auth.passwords import hash_password
from matching.extensions import db as _db
from matching.models import (
    Initiative,
    Match,
    MatchStatus,
    Need,
    NeedPhase,
    NeedStatus,
    ProfileStatus,
    Role,
    User,
    VolunteerDistrict,
    VolunteerLanguage,
    VolunteerPhaseLevel,
    VolunteerProfile,
    utcnow,
)
from matching.reference import DISTRICT_CODES, PHASE_CODES
from matching.reports import boxes

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
BOM = b"\xef\xbb\xbf"
PAGES = (
    "/koordination/",
    "/koordination/abdeckung",
    "/koordination/export/anfragen.csv",
    "/koordination/export/vermittlungen.csv",
)
XLSX = ("/koordination/export/anfragen.xlsx", "/koordination/export/vermittlungen.xlsx")


@pytest.fixture()
def coordinator(make_user, auth):
    """A coordinator, logged in."""
    user = make_user("koo@example.org", roles=(Role.COORDINATOR,), first_name="Kora")
    auth.login("koo@example.org")
    return user


def _match(db, need, volunteer, status, *, decided_at=None, **fields) -> Match:
    match = Match(need=need, volunteer=volunteer, status=status, decided_at=decided_at, **fields)
    db.session.add(match)
    db.session.commit()
    return match


# ---------------------------------------------------------------------------
# Overview


def test_stale_needs_are_open_longer_than_the_limit_and_without_an_expert(
    db, make_initiative, make_need, make_volunteer
):
    initiative, _ = make_initiative()
    old = make_need(initiative, title="Alt", published_at=NOW - timedelta(days=20))
    oldest = make_need(initiative, title="Uralt", published_at=NOW - timedelta(days=40))
    make_need(initiative, title="Neu", published_at=NOW - timedelta(days=3))
    served = make_need(initiative, title="Versorgt", published_at=NOW - timedelta(days=30))
    proposed_only = make_need(
        initiative, title="Nur Vorschlag", published_at=NOW - timedelta(days=15)
    )
    make_need(
        initiative, title="Entwurf", status=NeedStatus.DRAFT, published_at=NOW - timedelta(days=30)
    )
    volunteer = make_volunteer()
    _match(db, served, volunteer, MatchStatus.ACCEPTED, decided_at=NOW - timedelta(days=20))
    _match(db, proposed_only, volunteer, MatchStatus.PROPOSED)

    stale = reports.stale_needs(db.session, NOW)

    assert [n.title for n in stale] == ["Uralt", "Alt", "Nur Vorschlag"]
    assert stale[0].id == oldest.id and stale[1].id == old.id
    assert stale[1].days_open == 20
    assert stale[1].initiative == "Nachbarschaft Ost"


def test_unanswered_matches_are_approved_and_older_than_the_limit(
    db, make_initiative, make_need, make_volunteer
):
    initiative, _ = make_initiative()
    need = make_need(initiative, title="Mitstreiter gesucht")
    waiting = make_volunteer(first_name="Wanda")
    recent = make_volunteer(first_name="Rita")
    answered = make_volunteer(first_name="Anton")
    _match(db, need, waiting, MatchStatus.APPROVED, decided_at=NOW - timedelta(days=8))
    _match(db, need, recent, MatchStatus.APPROVED, decided_at=NOW - timedelta(days=3))
    _match(db, need, answered, MatchStatus.ACCEPTED, decided_at=NOW - timedelta(days=12))

    unanswered = reports.unanswered_matches(db.session, NOW)

    assert [(m.volunteer_name, m.need_title, m.days_waiting) for m in unanswered] == [
        ("Wanda Muster", "Mitstreiter gesucht", 8)
    ]


def test_dashboard_counts_every_state_including_zeros(
    db, make_initiative, make_need, make_volunteer
):
    initiative, _ = make_initiative()
    need = make_need(initiative)
    make_need(initiative, status=NeedStatus.DRAFT)
    make_need(initiative, status=NeedStatus.CLOSED)
    _match(db, need, make_volunteer(), MatchStatus.PROPOSED)
    make_volunteer(status=ProfileStatus.PENDING)
    make_volunteer(status=ProfileStatus.PENDING)

    report = reports.dashboard(db.session, NOW)

    assert dict(report.need_counts) == {
        "draft": 1,
        "open": 1,
        "matched": 0,
        "advised": 0,
        "closed": 1,
        "withdrawn": 0,
        "expired": 0,
    }
    assert dict(report.match_counts)["proposed"] == 1
    assert [status for status, _ in report.match_counts] == [s.value for s in MatchStatus]
    assert report.waiting_profiles == 2


def test_dashboard_page_shows_what_waits(
    client, db, coordinator, make_initiative, make_need, make_volunteer
):
    now = utcnow()
    initiative, _ = make_initiative()
    old = make_need(initiative, title="Seit Wochen offen", published_at=now - timedelta(days=20))
    make_need(initiative, title="Gerade veröffentlicht", published_at=now - timedelta(days=3))
    _match(
        db,
        old,
        make_volunteer(first_name="Wanda"),
        MatchStatus.PROPOSED,
    )
    other = make_need(initiative, title="Freigegeben, keine Antwort")
    _match(
        db,
        other,
        make_volunteer(first_name="Bruno"),
        MatchStatus.APPROVED,
        decided_at=now - timedelta(days=8),
    )
    make_volunteer(status=ProfileStatus.PENDING)

    response = client.get("/koordination/")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Überblick</h1>" in html
    assert "Seit Wochen offen" in html
    assert f'href="/anfragen/{old.id}"' in html
    assert "Gerade veröffentlicht" not in html
    assert "Bruno Muster" in html
    assert f'href="/anfragen/{other.id}"' in html
    assert "1 Profil wartet auf Freigabe" in html
    for link in ("/koordination/profile", "/koordination/abdeckung"):
        assert f'href="{link}"' in html
    assert 'href="/koordination/export/anfragen.csv?trennzeichen=semikolon"' in html
    assert 'href="/koordination/export/vermittlungen.csv?trennzeichen=komma"' in html
    assert 'href="/koordination/export/anfragen.xlsx"' in html
    # The navigation leads coordinators here.
    assert 'href="/koordination/" aria-current="page">Koordination' in html


def test_dashboard_without_anything_waiting_says_so(client, db, coordinator):
    html = client.get("/koordination/").get_data(as_text=True)
    assert "Keine. Jede ältere offene Anfrage hat eine Expert:in." in html
    assert "0 Profile warten auf Freigabe" in html


# ---------------------------------------------------------------------------
# Coverage


def _cell(report: reports.Coverage, district: str, phase: str) -> reports.CoverageCell:
    (cell,) = [c for c in report.cells if c.district == district and c.phase == phase]
    return cell


def test_coverage_counts_a_volunteer_where_and_in_what_they_serve(db, make_volunteer):
    make_volunteer(levels={"start": 2}, districts=("ost",))

    report = boxes.coverage(db.session, NOW).report

    assert _cell(report, "ost", "start").volunteers == 1
    assert _cell(report, "ost", "planning").volunteers == 0  # level 0 there
    assert _cell(report, "mitte", "start").volunteers == 0
    assert len(report.cells) == len(DISTRICT_CODES) * len(PHASE_CODES)


def test_coverage_groups_districts_by_ring(db):
    report = boxes.coverage(db.session, NOW).report
    assert [group.ring.code for group in report.rings] == ["inner", "outer"]
    inner = [district.code for district, _ in report.rings[0].rows]
    assert inner == ["mitte", "nord", "ost", "sued", "west"]
    assert len(report.rings[1].rows) == 18


def test_coverage_leaves_out_who_cannot_take_on_a_need(
    db, make_volunteer, make_initiative, make_need
):
    start = {"start": 3}
    paused = make_volunteer(levels=start)
    paused.paused_until = NOW.date() + timedelta(days=5)
    make_volunteer(levels=start, status=ProfileStatus.PENDING)
    full = make_volunteer(levels=start, capacity=1)
    unconfirmed = make_volunteer(levels=start)
    unconfirmed.user.confirmed_at = None
    disabled = make_volunteer(levels=start)
    disabled.user.disabled_at = NOW
    basic = make_volunteer(levels={"start": 1})  # Grundkenntnisse are enough
    back_today = make_volunteer(levels=start)
    back_today.paused_until = NOW.date()
    proposed = make_volunteer(levels=start, capacity=1)  # a proposal waiting for a yes holds it
    db.session.commit()
    initiative, _ = make_initiative()
    need = make_need(initiative)
    _match(db, need, full, MatchStatus.ACCEPTED)
    _match(db, need, proposed, MatchStatus.PROPOSED)

    cell = _cell(boxes.coverage(db.session, NOW).report, "ost", "start")

    # As the engine counts places: it would not propose the one with a proposal open either.
    assert cell.volunteers == 2, (basic.id, back_today.id)


def test_coverage_counts_whole_city_volunteers_in_every_district_once(db, make_volunteer):
    make_volunteer(levels={"exchange": 2}, districts=("ost",), whole_city=True)

    report = boxes.coverage(db.session, NOW).report

    assert {c.volunteers for c in report.cells if c.phase == "exchange"} == {1}
    assert {c.volunteers for c in report.cells if c.phase != "exchange"} == {0}


def test_coverage_counts_open_needs_in_each_of_their_phases(db, make_initiative, make_need):
    initiative, _ = make_initiative()
    make_need(initiative, phases=("start", "planning"))
    make_need(initiative, phases=("start",))
    make_need(initiative, phases=("start",), status=NeedStatus.DRAFT)
    make_need(initiative, phases=("start",), status=NeedStatus.MATCHED)

    report = boxes.coverage(db.session, NOW).report

    assert _cell(report, "ost", "start").needs == 2
    assert _cell(report, "ost", "planning").needs == 1
    assert _cell(report, "west", "start").needs == 0


@pytest.mark.parametrize(
    ("needs", "volunteers", "level"),
    [
        (2, 0, "gap"),
        (3, 2, "gap"),
        (0, 0, "none"),
        (1, 1, "thin"),
        (1, 2, "thin"),
        (1, 3, "ok"),
        (0, 1, "ok"),
        (0, 2, "ok"),
    ],
)
def test_coverage_cell_levels(needs, volunteers, level):
    assert reports.CoverageCell("ost", "start", needs, volunteers).level == level


def test_coverage_page_is_an_accessible_table(
    client, db, coordinator, make_volunteer, make_initiative, make_need
):
    make_volunteer(levels={"start": 2}, districts=("ost",))
    initiative, _ = make_initiative()
    make_need(initiative, phases=("planning",))
    make_need(initiative, phases=("planning",))

    response = client.get("/koordination/abdeckung")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'role="region" tabindex="0" aria-label=' in html
    assert "<caption" in html
    assert html.count('<th scope="col"') == 1 + len(PHASE_CODES)
    assert html.count('<th scope="row">') == len(DISTRICT_CODES)
    assert "Innenstadtbezirke" in html and "Äußere Stadtbezirke" in html
    # Ost × start: one expert, no need; Ost × planning: two needs, nobody.
    assert "0 Anfragen, 1 Expert:in</span>" in html
    assert '<td class="cov cov-gap">' in html
    assert "2 Anfragen, 0 Expert:innen, 2 ohne passende Person, Lücke</span>" in html
    assert "Was die Farben bedeuten" in html
    assert "style=" not in html and "<script>" not in html


# ---------------------------------------------------------------------------
# CSV exports


@pytest.fixture()
def exported(db, make_initiative, make_need, make_volunteer):
    """A need and a match whose texts try a formula, with contact data that must stay out."""
    initiative, member = make_initiative("@Nachbarn Ost")
    member.phone = "0711 555 1234"
    need = make_need(
        initiative,
        title='=HYPERLINK("http://example.org","Klick")',
        phases=("start", "planning"),
        published_at=datetime(2025, 3, 1, 8, 30, tzinfo=UTC),
    )
    volunteer = make_volunteer("geheim@example.org", first_name="+Vera")
    volunteer.user.last_name = "-Müller"
    volunteer.user.phone = "0711 987 6543"
    _match(
        db,
        need,
        volunteer,
        MatchStatus.ACCEPTED,
        score=0.8125,
        decided_at=datetime(2025, 3, 2, 10, 0, tzinfo=UTC),
        accepted_at=datetime(2025, 3, 3, 11, 0, tzinfo=UTC),
    )
    db.session.commit()
    return need


def _texts(response) -> str:
    """Everything an export says, whether CSV or a workbook."""
    if response.mimetype == "text/csv":
        return response.get_data().decode("utf-8-sig")
    book = load_workbook(io.BytesIO(response.get_data()))
    return "\n".join(
        str(value) for row in book.worksheets[0].iter_rows(values_only=True) for value in row
    )


@pytest.mark.parametrize("path", [*PAGES[2:], *XLSX])
def test_exports_hold_no_contact_data_or_secrets(client, coordinator, exported, path):
    for separator in ("komma", "semikolon"):
        text = _texts(client.get(f"{path}?trennzeichen={separator}"))
        assert "Müller" in text or "Nachbarn Ost" in text  # the row is there
        assert "@example.org" not in text
        assert "geheim" not in text
        assert "987 6543" not in text and "555 1234" not in text
        assert "$argon2" not in text


@pytest.mark.parametrize("path", PAGES[2:])
def test_unknown_separator_gets_a_german_explanation(client, coordinator, path):
    response = client.get(f"{path}?trennzeichen=tab")

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "nur „mit Semikolon“ oder „mit Komma“" in html


# ---------------------------------------------------------------------------
# Access


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/anmelden")


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.INITIATIVE])
def test_other_roles_are_refused(client, auth, make_user, role):
    make_user("jemand@example.org", roles=(role,))
    auth.login("jemand@example.org")
    for path in PAGES:
        assert client.get(path).status_code == 403, path


def test_admins_see_the_reports(client, auth, make_user):
    make_user("admin@example.org", roles=(Role.ADMIN,))
    auth.login("admin@example.org")
    for path in PAGES:
        assert client.get(path).status_code == 200, path


# ---------------------------------------------------------------------------
# Query counts: the same for 3 rows as for 60


def _bulk(n: int, offset: int = 0) -> None:
    """Per row: a stale need, a need with an unanswered match, and an available volunteer."""
    now = utcnow()
    password_hash = hash_password("nicht benutzt")  # once: hashing is the slow part
    for i in range(offset, offset + n):
        district = DISTRICT_CODES[i % len(DISTRICT_CODES)]
        phase = PHASE_CODES[i % len(PHASE_CODES)]
        initiative = Initiative(name=f"Initiative {i}", district=district)
        stale, asked = (
            Need(
                initiative=initiative,
                title=f"{kind} {i}",
                district=district,
                status=NeedStatus.OPEN,
                published_at=now - timedelta(days=30),
            )
            for kind in ("Lange offen", "Gefragt")
        )
        stale.phase_rows = [NeedPhase(phase=p) for p in {phase, "exchange"}]
        asked.phase_rows = [NeedPhase(phase=phase)]
        user = User(
            email=f"expertin{i}@example.org",
            password_hash=password_hash,
            first_name=f"Person{i}",
            confirmed_at=now,
        )
        user.add_role(Role.VOLUNTEER)
        profile = VolunteerProfile(
            user=user, status=ProfileStatus.APPROVED, capacity=3, whole_city=i % 5 == 0
        )
        profile.levels = [VolunteerPhaseLevel(phase=p, level=i % 4) for p in PHASE_CODES]
        profile.district_rows = [VolunteerDistrict(district=district)]
        profile.language_rows = [VolunteerLanguage(language="de")]
        match = Match(
            need=asked,
            volunteer=profile,
            status=MatchStatus.APPROVED,
            score=0.5,
            decided_at=now - timedelta(days=10),
        )
        _db.session.add_all([stale, asked, match])
    _db.session.commit()


def _statements(client, count_queries, path: str, expected: str) -> list[str]:
    with count_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200
    assert expected in response.get_data(as_text=True)
    return list(statements)


def test_pages_issue_the_same_number_of_queries_for_3_and_60_rows(
    client, db, coordinator, count_queries
):
    expected = {
        # The overview shows the first rows of each list and links to the rest.
        "/koordination/": ("Lange offen {last}", "Alle 60 anzeigen"),
        "/koordination/liste/lange-offen?seite=2": ("Lange offen {last}", "Lange offen {last}"),
        "/koordination/liste/ohne-antwort?seite=2": ("Person{last}", "Person{last}"),
        "/koordination/abdeckung": ("Stadtbezirk", "Stadtbezirk"),
        "/koordination/export/anfragen.csv": ("Lange offen {last}", "Gefragt {last}"),
        "/koordination/export/vermittlungen.csv": ("Person{last}", "Gefragt {last}"),
    }
    _bulk(3)
    few = {
        path: _statements(client, count_queries, path, texts[0].format(last=2))
        for path, texts in expected.items()
    }
    _bulk(57, offset=3)
    for path, texts in expected.items():
        many = _statements(client, count_queries, path, texts[1].format(last=59))
        assert len(many) == len(few[path]), path + "\n\n" + "\n\n".join(many)


def test_each_report_is_a_fixed_number_of_statements(db, count_queries):
    _bulk(4)
    calls = [
        (11, lambda: reports.dashboard(db.session, utcnow())),  # 7 lists and counts, 4 totals
        (1, lambda: boxes.coverage(db.session, utcnow())),  # open needs with phases, live or not
        (2, lambda: reports.need_rows(db.session)),
        (1, lambda: reports.match_rows(db.session)),
    ]
    boxes.coverage(db.session, utcnow())  # the kept pool of volunteers, loaded once
    for count, call in calls:
        with count_queries() as statements:
            call()
        assert len(statements) == count, "\n\n".join(statements)


def test_the_overview_shows_the_first_rows_of_each_list_and_links_to_the_rest(
    client, db, coordinator
):
    _bulk(60)
    page = client.get("/koordination/").get_data(as_text=True)
    shown = reports.OVERVIEW_ROWS
    # Oldest first: the first rows are on the overview, the later ones are not.
    assert f"Lange offen {shown - 1}<" in page and f"Lange offen {shown}<" not in page
    assert f"Person{shown - 1}<" in page and f"Person{shown}<" not in page
    assert "60 Anfragen ohne Expert:in seit mehr als 14 Tagen" in page  # the count is whole
    assert 'href="/koordination/liste/lange-offen"' in page
    assert 'href="/koordination/liste/ohne-antwort"' in page

    first = client.get("/koordination/liste/lange-offen").get_data(as_text=True)
    assert "60 Einträge" in first and "Seite 1 von 2" in first
    assert "Lange offen 49<" in first and "Lange offen 50<" not in first
    second = client.get("/koordination/liste/lange-offen?seite=2").get_data(as_text=True)
    assert "Lange offen 50<" in second and "Lange offen 59<" in second
    assert "Lange offen 49<" not in second and 'rel="prev"' in second


@pytest.mark.parametrize("page", ["0", "-1", "abc", "²", "9" * 30, "2.5"])
def test_a_list_page_that_is_not_a_plain_number_shows_the_first_page(client, db, coordinator, page):
    _bulk(3)
    response = client.get(f"/koordination/liste/ohne-antwort?seite={page}")
    assert response.status_code == 200
    assert "Person0<" in response.get_data(as_text=True)


def test_a_list_page_past_the_end_shows_the_last_one_and_an_unknown_list_is_404(
    client, db, coordinator
):
    _bulk(3)
    late = client.get("/koordination/liste/lange-offen?seite=7").get_data(as_text=True)
    assert "Lange offen 2<" in late and 'rel="next"' not in late
    assert client.get("/koordination/liste/unbekannt").status_code == 404
    empty = client.get("/koordination/liste/laufende-beratungen")
    assert empty.status_code == 200 and "0 Einträge" in empty.get_data(as_text=True)


def test_only_coordinators_see_the_lists(client, db, make_user, auth):
    make_user("vol@example.org", roles=(Role.VOLUNTEER,))
    auth.login("vol@example.org")
    assert client.get("/koordination/liste/lange-offen").status_code in (302, 403)
