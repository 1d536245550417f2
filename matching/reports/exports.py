"""The coordinators' exports as a German office reads them: CSV for Excel, and .xlsx.

Both carry the same table: headers and labels in the reader's language (German first),
never internal codes like ``open`` or ``bad-cannstatt``; times in Stuttgart's local time.

CSV: German Excel reads a file by the system's list separator, which is the semicolon
in Germany, and guesses the encoding unless the file starts with a UTF-8 byte order
mark. So the default is semicolons, a BOM, dates as TT.MM.JJJJ and decimal commas;
``,`` stays available for other programs. The workbook has typed cells instead:
dates and times as dates, numbers as numbers, text never run as a formula.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from matching import reports
from matching.i18n import URGENCY_BY_CODE, current_locale
from matching.matches import STATUS_LABELS as MATCH_STATUS_LABELS
from matching.models import MatchOrigin
from matching.needs import STATUS_LABELS as NEED_STATUS_LABELS
from matching.reference import DISTRICT_BY_CODE, PHASE_BY_CODE

BERLIN = ZoneInfo("Europe/Berlin")
DELIMITERS = {"semikolon": ";", "komma": ","}
DEFAULT_DELIMITER = "semikolon"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

ORIGIN_LABELS = {
    MatchOrigin.ENGINE: _l("Automatischer Vorschlag"),
    MatchOrigin.OFFER: _l("„Ich kann helfen“"),
    MatchOrigin.MANUAL: _l("Von Hand zugeordnet"),
}


class Kind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    TIME = "datetime"  # a moment, shown as Stuttgart's local date and time


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = Kind.TEXT
    width: int = 14  # characters, for the workbook


@dataclass(frozen=True)
class Table:
    """Rows of typed values: text, int, float, date or (local, naive) datetime, or None."""

    name: str  # the file name's start: anfragen, vermittlungen
    title: str  # the sheet's name
    columns: tuple[Column, ...]
    rows: list[tuple]


def local_time(value: datetime | None) -> datetime | None:
    """A stored moment (UTC) as Stuttgart's wall-clock time, without a zone (as Excel wants)."""
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive UTC in some paths
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(BERLIN).replace(tzinfo=None)


def _label(labels: dict, code: str | None) -> str:
    """A status or origin as the reader calls it (the code itself if it is unknown)."""
    return "" if code is None else str(labels.get(code, code))


def _name(reference: dict, code: str | None) -> str:
    """A district, phase or urgency by its name in the reader's language."""
    if code is None:
        return ""
    choice = reference.get(code)
    return code if choice is None else choice.label(current_locale())


def need_table(session: Session) -> Table:
    """Every need, oldest first."""
    columns = (
        Column(_("Nr."), Kind.NUMBER, 8),
        Column(_("Stand"), width=18),
        Column(_("Titel"), width=40),
        Column(_("Initiative"), width=30),
        Column(_("Stadtbezirk"), width=16),
        Column(_("Themen"), width=36),
        Column(_("Dringlichkeit"), width=14),
        Column(_("Gesuchte Expert:innen"), Kind.NUMBER, 12),
        Column(_("Angelegt am"), Kind.TIME, 17),
        Column(_("Veröffentlicht am"), Kind.TIME, 17),
        Column(_("Beendet am"), Kind.TIME, 17),
    )
    rows = [
        (
            need_id,
            _label(NEED_STATUS_LABELS, status),
            title,
            initiative,
            _name(DISTRICT_BY_CODE, district),
            ", ".join(_name(PHASE_BY_CODE, code) for code in phases.split()),
            _name(URGENCY_BY_CODE, urgency),
            experts_wanted,
            local_time(created_at),
            local_time(published_at),
            local_time(closed_at),
        )
        for (
            need_id,
            status,
            title,
            initiative,
            district,
            phases,
            urgency,
            experts_wanted,
            created_at,
            published_at,
            closed_at,
        ) in reports.need_rows(session)
    ]
    return Table("anfragen", _("Anfragen"), columns, rows)


def match_table(session: Session) -> Table:
    """Every match, oldest first: names, never contact details."""
    columns = (
        Column(_("Nr."), Kind.NUMBER, 8),
        Column(_("Stand"), width=18),
        Column(_("Herkunft"), width=24),
        Column(_("Anfrage-Nr."), Kind.NUMBER, 10),
        Column(_("Anfrage"), width=40),
        Column(_("Vorname"), width=16),
        Column(_("Nachname"), width=16),
        Column(_("Übereinstimmung in %"), Kind.NUMBER, 12),
        Column(_("Vorgeschlagen am"), Kind.TIME, 17),
        Column(_("Entschieden am"), Kind.TIME, 17),
        Column(_("Zugesagt am"), Kind.TIME, 17),
        Column(_("Abgeschlossen am"), Kind.TIME, 17),
        Column(_("Rückmeldung (1–5)"), Kind.NUMBER, 10),
    )
    rows = [
        (
            match_id,
            _label(MATCH_STATUS_LABELS, status),
            _label(ORIGIN_LABELS, origin),
            need_id,
            need_title,
            first_name,
            last_name,
            None if score is None else round(score * 100),
            local_time(created_at),
            local_time(decided_at),
            local_time(accepted_at),
            local_time(completed_at),
            rating,
        )
        for (
            match_id,
            status,
            origin,
            need_id,
            need_title,
            first_name,
            last_name,
            score,
            created_at,
            decided_at,
            accepted_at,
            completed_at,
            rating,
        ) in reports.match_rows(session)
    ]
    return Table("vermittlungen", _("Vermittlungen"), columns, rows)


# ---------------------------------------------------------------------------
# CSV


def csv_text(value, delimiter: str = ";") -> str:
    """One value as a German office reads it; text a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float):
        text = f"{value:.2f}"
        return text.replace(".", ",") if delimiter == ";" else text
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def to_csv(table: Table, delimiter: str = ";") -> bytes:
    """UTF-8 with a byte order mark, so Excel reads the umlauts right; CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([column.header for column in table.columns])
    writer.writerows([csv_text(value, delimiter) for value in row] for row in table.rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# ---------------------------------------------------------------------------
# Excel workbook

_NUMBER_FORMATS = {Kind.DATE: "DD.MM.YYYY", Kind.TIME: "DD.MM.YYYY HH:MM"}


def _cell(sheet, value, kind: Kind) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store "=…" as a formula
    elif kind in _NUMBER_FORMATS and value is not None:
        cell.number_format = _NUMBER_FORMATS[kind]
    return cell


def to_xlsx(table: Table) -> bytes:
    """One sheet: a bold, frozen header row with a filter, then one typed row per record."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(table.title[:31])  # Excel's limit for a sheet name
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(table.columns))
    sheet.auto_filter.ref = f"A1:{last}{len(table.rows) + 1}"
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    bold = Font(bold=True)
    header = []
    for column in table.columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    kinds = [column.kind for column in table.columns]
    for row in table.rows:
        sheet.append([_cell(sheet, value, kind) for value, kind in zip(row, kinds, strict=True)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
