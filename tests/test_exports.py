"""The coordinators' exports for German offices, read back as Excel would read them.

CSV: semicolons, a UTF-8 byte order mark, German headers and labels, TT.MM.JJJJ dates and
Stuttgart's local time on both sides of a change to or from summer time. The workbook:
the same table with typed cells.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from matching.models import Match, MatchStatus, NeedStatus, Role
from matching.reports import exports

BOM = b"\xef\xbb\xbf"
# Summer time in 2025 began on 30 March at 01:00 UTC and ended on 26 October at 01:00 UTC.
WINTER = datetime(2025, 3, 29, 23, 30, tzinfo=UTC)  # 00:30 on 30.03. in Stuttgart (UTC+1)
SUMMER = datetime(2025, 3, 30, 1, 30, tzinfo=UTC)  # 03:30 on 30.03. in Stuttgart (UTC+2)
AUTUMN = datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 02:30 summer time, before clocks go back
AFTER = datetime(2025, 10, 26, 1, 30, tzinfo=UTC)  # 02:30 winter time, after they went back

NEED_HEADERS = [
    "Nr.",
    "Stand",
    "Titel",
    "Initiative",
    "Stadtbezirk",
    "Themen",
    "Dringlichkeit",
    "Gesuchte Expert:innen",
    "Angelegt am",
    "Veröffentlicht am",
    "Beendet am",
]
MATCH_HEADERS = [
    "Nr.",
    "Stand",
    "Herkunft",
    "Anfrage-Nr.",
    "Anfrage",
    "Vorname",
    "Nachname",
    "Übereinstimmung in %",
    "Vorgeschlagen am",
    "Entschieden am",
    "Zugesagt am",
    "Abgeschlossen am",
    "Rückmeldung (1–5)",
]


@pytest.fixture()
def coordinator(make_user, auth):
    make_user("koo@example.org", roles=(Role.COORDINATOR,), first_name="Kora")
    auth.login("koo@example.org")


@pytest.fixture()
def exported(db, make_initiative, make_need, make_volunteer):
    """A need in Bad Cannstatt and a match, with times on both sides of both DST changes."""
    initiative, _ = make_initiative("@Nachbarn Hallschlag", district="bad-cannstatt")
    need = make_need(
        initiative,
        title='=HYPERLINK("http://example.org","Klick")',
        phases=("start", "planning"),
        district="bad-cannstatt",
        published_at=SUMMER,
    )
    need.created_at = WINTER
    need.closed_at = None
    volunteer = make_volunteer("vera@example.org", first_name="Vera")
    volunteer.user.last_name = "Müller"
    match = Match(
        need=need,
        volunteer=volunteer,
        status=MatchStatus.ACCEPTED,
        score=0.8125,
        decided_at=AUTUMN,
        accepted_at=AFTER,
        feedback_rating=5,
    )
    db.session.add(match)
    db.session.commit()
    match.created_at = WINTER
    db.session.commit()
    return need, match


def csv_rows(response, delimiter=";") -> tuple[list[str], list[dict]]:
    body = response.get_data()
    assert body.startswith(BOM)
    text = body.decode("utf-8-sig")
    assert "\r\n" in text
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = list(reader)
    return list(reader.fieldnames), rows


def workbook_rows(response) -> tuple[list, list[list]]:
    assert response.mimetype == exports.XLSX_MIMETYPE
    book = load_workbook(io.BytesIO(response.get_data()))
    sheet = book.worksheets[0]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    return rows[0], rows[1:], sheet


def test_needs_csv_is_what_german_excel_opens(client, coordinator, exported):
    need, _ = exported
    response = client.get("/koordination/export/anfragen.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].endswith('.csv"')
    headers, (row,) = csv_rows(response)
    assert headers == NEED_HEADERS
    assert row["Nr."] == str(need.id)
    assert row["Stand"] == "Offen"
    assert row["Stadtbezirk"] == "Bad Cannstatt"
    assert row["Themen"] == "Start / Akquise, Konzeption / Planung"
    assert row["Dringlichkeit"] == "Normal"
    assert row["Titel"] == '\'=HYPERLINK("http://example.org","Klick")'
    assert row["Initiative"] == "'@Nachbarn Hallschlag"
    # Both sides of the spring change: +1 h before, +2 h after.
    assert row["Angelegt am"] == "30.03.2025 00:30"
    assert row["Veröffentlicht am"] == "30.03.2025 03:30"
    assert row["Beendet am"] == ""


def test_matches_csv_has_labels_and_berlin_times_across_the_autumn_change(
    client, coordinator, exported
):
    need, _ = exported
    headers, (row,) = csv_rows(client.get("/koordination/export/vermittlungen.csv"))
    assert headers == MATCH_HEADERS
    assert (row["Stand"], row["Herkunft"]) == ("Zugesagt", "Automatischer Vorschlag")
    assert (row["Anfrage-Nr."], row["Vorname"], row["Nachname"]) == (str(need.id), "Vera", "Müller")
    assert row["Übereinstimmung in %"] == "81"
    # The same wall-clock hour twice on 26.10.: 02:30 in summer time, then 02:30 in winter time.
    assert row["Entschieden am"] == "26.10.2025 02:30"
    assert row["Zugesagt am"] == "26.10.2025 02:30"
    assert row["Rückmeldung (1–5)"] == "5"


def test_commas_stay_available_for_other_programs(client, coordinator, exported):
    response = client.get("/koordination/export/anfragen.csv?trennzeichen=komma")
    headers, (row,) = csv_rows(response, delimiter=",")
    assert headers == NEED_HEADERS and row["Stadtbezirk"] == "Bad Cannstatt"


def test_english_readers_get_english_headers_and_labels(client, coordinator, exported):
    with client.session_transaction() as session:
        session["lang"] = "en"
    headers, (row,) = csv_rows(client.get("/koordination/export/anfragen.csv"))
    assert headers[:3] == ["No.", "Status", "Title"]
    assert (row["Status"], row["District"]) == ("Open", "Bad Cannstatt")
    assert row["Created"] == "30.03.2025 00:30"


def test_needs_workbook_has_typed_cells(client, coordinator, exported):
    need, _ = exported
    response = client.get("/koordination/export/anfragen.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    header, (row,), sheet = workbook_rows(response)
    assert header == NEED_HEADERS
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    values = dict(zip(header, row, strict=True))
    assert values["Nr."] == need.id and isinstance(values["Nr."], int)
    assert values["Stand"] == "Offen" and values["Stadtbezirk"] == "Bad Cannstatt"
    assert values["Gesuchte Expert:innen"] == 1
    assert values["Angelegt am"] == datetime(2025, 3, 30, 0, 30)
    assert values["Veröffentlicht am"] == datetime(2025, 3, 30, 3, 30)
    assert values["Beendet am"] is None
    assert sheet["I2"].number_format == "DD.MM.YYYY HH:MM"
    # Text that looks like a formula stays text: no "'" needed, and never run.
    assert values["Titel"] == '=HYPERLINK("http://example.org","Klick")'
    assert sheet["C2"].data_type == "s"


def test_matches_workbook_has_typed_cells(client, coordinator, exported):
    response = client.get("/koordination/export/vermittlungen.xlsx")
    header, (row,), _ = workbook_rows(response)
    assert header == MATCH_HEADERS
    values = dict(zip(header, row, strict=True))
    assert values["Herkunft"] == "Automatischer Vorschlag"
    assert values["Übereinstimmung in %"] == 81 and values["Rückmeldung (1–5)"] == 5
    assert values["Entschieden am"] == datetime(2025, 10, 26, 2, 30)
    assert values["Zugesagt am"] == datetime(2025, 10, 26, 2, 30)


def test_an_empty_export_is_a_header_row(client, coordinator):
    header, rows, _ = workbook_rows(client.get("/koordination/export/anfragen.xlsx"))
    assert (header, rows) == (NEED_HEADERS, [])
    headers, rows = csv_rows(client.get("/koordination/export/vermittlungen.csv"))
    assert (headers, rows) == (MATCH_HEADERS, [])


@pytest.mark.parametrize("path", ["anfragen.xlsx", "vermittlungen.xlsx"])
def test_workbooks_are_for_coordinators_only(client, auth, make_user, path):
    assert client.get(f"/koordination/export/{path}").status_code == 302
    make_user("ines@example.org", roles=(Role.INITIATIVE,))
    auth.login("ines@example.org")
    assert client.get(f"/koordination/export/{path}").status_code == 403


def test_csv_text_formats_values_as_a_german_office_reads_them():
    assert exports.csv_text(datetime(2025, 1, 2, 3, 4)) == "02.01.2025 03:04"
    assert exports.csv_text(datetime(2025, 1, 2).date()) == "02.01.2025"
    assert exports.csv_text(0.5) == "0,50" and exports.csv_text(0.5, ",") == "0.50"
    assert exports.csv_text(None) == "" and exports.csv_text(NeedStatus.OPEN.value) == "open"
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert exports.csv_text(text) == "'" + text
    assert exports.csv_text("Garten = Glück") == "Garten = Glück"
