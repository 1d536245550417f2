"""The "Wirkung" report as people read it: the chosen period, figures with words, charts with
their sentence and table twin, and the same figures as one table for CSV and Excel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _

from matching.i18n import current_locale
from matching.reference import DISTRICTS, PHASES, RINGS
from matching.reports import charts, impact
from matching.reports.exports import Column, Kind, Table

KINDS = ("jahr", "quartal", "frei")


@dataclass(frozen=True)
class Choice:
    """What the period form shows: the kind picked and each field's value as sent."""

    kind: str
    year: str
    quarter: str
    start: str
    end: str


def _parse_day(text: str) -> date:
    """A date as a date field sends it (JJJJ-MM-TT) or as people type it (TT.MM.JJJJ)."""
    text = text.strip()
    if "." in text:
        return datetime.strptime(text, "%d.%m.%Y").date()
    return date.fromisoformat(text)


def period_from(args: Mapping[str, str], today: date) -> tuple[impact.Period, Choice, str | None]:
    """The period the form asks for, or this year and a message saying what was wrong."""
    kind = args.get("art", "jahr")
    default = impact.default_period(today)
    choice = Choice(
        kind if kind in KINDS else "jahr",
        args.get("jahr", str(today.year)),
        args.get("quartal", str((today.month - 1) // 3 + 1)),
        args.get("von", default.start.isoformat()),
        args.get("bis", today.isoformat()),
    )
    if not args:
        return default, choice, None
    try:
        if kind == "jahr":
            period = impact.year(int(choice.year))
        elif kind == "quartal":
            which = int(choice.quarter)
            if which not in (1, 2, 3, 4):
                raise ValueError(which)
            period = impact.quarter(int(choice.year), which)
        elif kind == "frei":
            period = impact.Period(_parse_day(choice.start), _parse_day(choice.end))
        else:
            raise ValueError(kind)
    except (ValueError, OverflowError):
        return default, choice, _not_understood()
    try:
        return impact.checked(period, today), choice, None
    except impact.BadPeriod as bad:
        messages = {
            # Too early for the calendar (the year 1, or its period before): as the year 0.
            "out_of_range": _not_understood(),
            "reversed": _(
                "Der Zeitraum endet, bevor er beginnt. Bitte tauschen Sie die beiden Daten. Wir zeigen Ihnen dieses Jahr."
            ),
            "future": _(
                "Dieser Zeitraum liegt in der Zukunft, dafür gibt es noch keine Zahlen. Wir zeigen Ihnen dieses Jahr."
            ),
            "too_long": _(
                "Ein Zeitraum darf höchstens %(years)d Jahre lang sein. Wir zeigen Ihnen dieses Jahr.",
                years=impact.MAX_PERIOD_YEARS,
            ),
        }
        return default, choice, messages[bad.code]


def _not_understood() -> str:
    return _(
        "Diesen Zeitraum verstehen wir nicht. Bitte wählen Sie ein Jahr und ein Quartal aus der Liste oder geben Sie zwei Daten wie 01.01.2026 ein. Wir zeigen Ihnen dieses Jahr."
    )


def period_label(period: impact.Period) -> str:
    """ "1. Januar 2026 – 31. Dezember 2026"."""
    return f"{format_date(period.start, 'long')} – {format_date(period.end, 'long')}"


def month_label(month: date, with_year: bool = False) -> str:
    return format_date(month, "MMM yy" if with_year else "MMM")


def number(value: float | None) -> str:
    """A figure as German (or English) readers write it: "4,5", "1.234", "–" for none."""
    return "–" if value is None else format_decimal(value, format="#,##0.#")


def _plural_count(days: float) -> int:
    """1 for a figure shown as "1" (singular), 2 for any other (gettext wants a whole number)."""
    return 1 if number(days) == number(1) else 2


def _days_in(month: impact.Month, days: float) -> str:
    """A month's median for "zwischen … und …": "1 Tag (Dezember 2026)", "2,5 Tagen (…)"."""
    return ngettext(
        "%(days)s Tag (%(month)s)",
        "%(days)s Tagen (%(month)s)",
        _plural_count(days),
        days=number(days),
        month=format_date(month.month, "MMMM yyyy"),
    )


def _percent(value: float | None) -> str:
    return "–" if value is None else format_decimal(value, format="#,##0") + " %"


@dataclass(frozen=True)
class Line:
    """One figure of the overview: its name, this period, the one before (as text)."""

    label: str
    now: str
    before: str
    raw_now: float | None
    raw_before: float | None


def lines(report: impact.Report) -> list[Line]:
    """The overview's figures, in the order a board member asks for them."""
    a, b = report.current, report.previous

    def line(label, get, show=number):
        return Line(label, show(get(a)), show(get(b)), get(a), get(b))

    return [
        line(_("Anfragen veröffentlicht"), lambda f: f.posted),
        line(_("Anfragen beraten"), lambda f: f.advised),
        line(_("Anfragen abgeschlossen"), lambda f: f.completed),
        line(_("Anfragen zurückgezogen"), lambda f: f.withdrawn),
        line(_("Anfragen abgelaufen"), lambda f: f.expired),
        line(_("Initiativen erreicht"), lambda f: f.initiatives_reached),
        line(_("Tage bis zum ersten Vorschlag (Median)"), lambda f: f.to_proposal.median),
        line(_("Tage bis zum ersten Vorschlag (80 %)"), lambda f: f.to_proposal.p80),
        line(_("Tage bis zur Zusage (Median)"), lambda f: f.to_acceptance.median),
        line(_("Tage bis zur Zusage (80 %)"), lambda f: f.to_acceptance.p80),
        line(_("Tage bis zum ersten Treffen (Median)"), lambda f: f.to_meeting.median),
        line(_("Tage bis zum ersten Treffen (80 %)"), lambda f: f.to_meeting.p80),
        line(
            _("Anteil innerhalb von 14 Tagen beraten (%)"),
            lambda f: _as_percent(f.advised_within_14_days_share),
            _percent,
        ),
        line(_("Aktive Expert:innen"), lambda f: f.volunteers_active),
        line(_("Treffen"), lambda f: f.meetings_held),
        line(_("Rückmeldungen der Initiativen"), lambda f: f.feedback_count),
        line(_("Durchschnittliche Bewertung (1–5)"), lambda f: f.feedback_average),
        line(_("Berichte der Expert:innen"), lambda f: f.volunteer_reports),
        line(_("Initiativen mit einem zweiten Thema"), lambda f: f.second_phase),
        line(_("Initiativen mit einem dritten Thema"), lambda f: f.third_phase),
    ]


def _as_percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def shade(value: int, highest: int) -> int:
    """0 (none) to 4 (the most) for a district's cell; the number stays beside the colour."""
    if value <= 0 or highest <= 0:
        return 0
    return min(4, 1 + (4 * value - 1) // highest)


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    summary: str
    svg: str


def charts_for(report: impact.Report) -> list[Chart]:
    """The four pictures, each with the one sentence that says what it shows."""
    found = report.current
    many_years = len({m.month.year for m in found.months}) > 1
    months = [month_label(m.month, many_years) for m in found.months]
    posted = [m.posted for m in found.months]
    advised = [m.advised for m in found.months]
    medians = [m.median_days_to_acceptance for m in found.months]
    busiest = max(found.months, key=lambda m: m.posted, default=None)
    trend = charts.monthly_bars(
        months,
        [
            (_("veröffentlicht"), posted, charts.GREEN),
            (_("beraten"), advised, charts.ORANGE),
        ],
        _("Anfragen"),
    )
    if busiest is None or busiest.posted == 0:
        trend_summary = _("In diesem Zeitraum wurde keine Anfrage veröffentlicht.")
    else:
        trend_summary = ngettext(
            "%(num)s Anfrage veröffentlicht und %(advised)s beraten; die meisten neuen Anfragen kamen im %(month)s (%(most)s).",
            "%(num)s Anfragen veröffentlicht und %(advised)s beraten; die meisten neuen Anfragen kamen im %(month)s (%(most)s).",
            found.posted,
            advised=found.advised,
            month=format_date(busiest.month, "MMMM yyyy"),
            most=busiest.posted,
        )
    known = [(m, v) for m, v in zip(found.months, medians, strict=True) if v is not None]
    if known:
        fastest = min(known, key=lambda pair: pair[1])
        slowest = max(known, key=lambda pair: pair[1])
        if len(known) == 1:
            days_summary = ngettext(
                "Bis zur Zusage verging im Median %(days)s Tag (%(month)s).",
                "Bis zur Zusage vergingen im Median %(days)s Tage (%(month)s).",
                _plural_count(fastest[1]),
                days=number(fastest[1]),
                month=format_date(fastest[0].month, "MMMM yyyy"),
            )
        elif number(fastest[1]) == number(slowest[1]):  # "zwischen 2 Tagen (Mai) und 2 Tagen (Mai)"
            days_summary = ngettext(
                "Bis zur Zusage verging im Median in jedem Monat mit Zusagen %(days)s Tag.",
                "Bis zur Zusage vergingen im Median in jedem Monat mit Zusagen %(days)s Tage.",
                _plural_count(fastest[1]),
                days=number(fastest[1]),
            )
        else:
            days_summary = _(
                "Bis zur Zusage vergingen im Median zwischen %(fast)s und %(slow)s.",
                fast=_days_in(*fastest),
                slow=_days_in(*slowest),
            )
    else:
        days_summary = _(
            "In diesem Zeitraum hat noch keine Expert:in einer neuen Anfrage zugesagt."
        )
    phases = sorted(found.phases.values(), key=lambda a: (-a.posted, _phase_index(a.code)))
    phase_names = [_phase_name(a.code) for a in phases]
    phase_summary = (
        ngettext(
            "Am häufigsten gefragt war „%(phase)s“ mit %(num)s Anfrage.",
            "Am häufigsten gefragt war „%(phase)s“ mit %(num)s Anfragen.",
            phases[0].posted,
            phase=phase_names[0],
        )
        if phases and phases[0].posted
        else _("In diesem Zeitraum wurde kein Thema angefragt.")
    )
    districts = district_rows(found)
    inner = sum(row.area.posted for row in districts if row.ring == "inner")
    outer = sum(row.area.posted for row in districts if row.ring == "outer")
    district_summary = ngettext(
        "%(num)d Anfrage kam aus den Innenstadtbezirken, %(outer)s aus den äußeren Stadtbezirken.",
        "%(num)d Anfragen kamen aus den Innenstadtbezirken, %(outer)s aus den äußeren Stadtbezirken.",
        inner,
        outer=outer,
    )
    ring_colour = {"inner": charts.GREEN, "outer": charts.BLUE}
    return [
        Chart("trend", _("Anfragen je Monat: veröffentlicht und beraten"), trend_summary, trend),
        Chart(
            "days",
            _("Tage bis zur Zusage je Monat (Median)"),
            days_summary,
            charts.monthly_line(months, medians, _("Tage")),
        ),
        Chart(
            "phases",
            _("Gefragte Themen"),
            phase_summary,
            charts.horizontal_bars(
                phase_names, [a.posted for a in phases], [charts.GREEN] * len(phases), _("Anfragen")
            ),
        ),
        Chart(
            "districts",
            _("Anfragen je Stadtbezirk"),
            district_summary,
            charts.horizontal_bars(
                [row.name for row in districts],
                [row.area.posted for row in districts],
                [ring_colour.get(row.ring, charts.GREY) for row in districts],
                _("Anfragen"),
                key=[(ring_label(ring.code), ring_colour[ring.code]) for ring in RINGS],
            ),
        ),
    ]


def _phase_index(code: str) -> int:
    codes = [p.code for p in PHASES]
    return codes.index(code) if code in codes else len(codes)


def _phase_name(code: str) -> str:
    for phase in PHASES:
        if phase.code == code:
            return phase.label(current_locale())
    return code


@dataclass(frozen=True)
class DistrictRow:
    code: str
    name: str
    ring: str
    area: impact.Area
    shade: int


def district_rows(found: impact.Figures) -> list[DistrictRow]:
    """The 23 districts, inner ones first, each with its shade by needs posted."""
    highest = max((a.posted for a in found.districts.values()), default=0)
    order = {ring.code: index for index, ring in enumerate(RINGS)}
    rows = [
        DistrictRow(
            d.code,
            d.name,
            d.ring,
            found.districts.get(d.code, impact.Area(d.code)),
            shade(found.districts.get(d.code, impact.Area(d.code)).posted, highest),
        )
        for d in DISTRICTS
    ]
    return sorted(rows, key=lambda r: order.get(r.ring, len(order)))


def ring_label(code: str) -> str:
    for ring in RINGS:
        if ring.code == code:
            return ring.label(current_locale())
    return code


def table(report: impact.Report) -> Table:
    """Every figure of the report in one table: section, figure, this period, the one before."""
    now, before = report.current, report.previous
    columns = (
        Column(_("Bereich"), width=22),
        Column(_("Kennzahl"), width=44),
        Column(_("Zeitraum %(period)s", period=period_label(now.period)), Kind.NUMBER, 24),
        Column(_("Vorzeitraum %(period)s", period=period_label(before.period)), Kind.NUMBER, 24),
    )
    rows: list[tuple] = [
        (_("Überblick"), line.label, line.raw_now, line.raw_before) for line in lines(report)
    ]
    for row in district_rows(now):
        other = before.districts.get(row.code, impact.Area(row.code))
        section = _("Stadtbezirk: %(name)s", name=row.name)
        rows += [
            (section, _("Anfragen veröffentlicht"), row.area.posted, other.posted),
            (section, _("Anfragen beraten"), row.area.advised, other.advised),
            (
                section,
                _("Initiativen erreicht"),
                row.area.initiatives_reached,
                other.initiatives_reached,
            ),
        ]
    for phase in PHASES:
        area, other = now.phases[phase.code], before.phases[phase.code]
        section = _("Thema: %(name)s", name=phase.label(current_locale()))
        rows += [
            (section, _("Anfragen veröffentlicht"), area.posted, other.posted),
            (section, _("Anfragen beraten"), area.advised, other.advised),
            (
                section,
                _("Initiativen erreicht"),
                area.initiatives_reached,
                other.initiatives_reached,
            ),
        ]
    for month in now.months:
        section = _("Monat: %(month)s", month=format_date(month.month, "MMMM yyyy"))
        rows += [
            (section, _("Anfragen veröffentlicht"), month.posted, None),
            (section, _("Anfragen beraten"), month.advised, None),
            (section, _("Tage bis zur Zusage (Median)"), month.median_days_to_acceptance, None),
        ]
    return Table("wirkung", _("Wirkung"), columns, rows)
