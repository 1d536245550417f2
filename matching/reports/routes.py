"""Coordinator pages that read figures; the queries live in ``matching.reports.figures``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from matching import accessibility, matches, needs, reports
from matching.access import role_required
from matching.extensions import db
from matching.forms import BaseForm
from matching.main.errors import render_error
from matching.matches import pulse
from matching.models import Role, utcnow
from matching.reference import DISTRICT_BY_CODE, DISTRICTS, PHASE_BY_CODE, PHASES, RINGS
from matching.reports import boxes, exports, impact, impact_view
from matching.views import page_number

bp = Blueprint("reports", __name__, url_prefix="/koordination")

BERLIN = ZoneInfo("Europe/Berlin")


@bp.route("/")
@role_required(Role.COORDINATOR)
def dashboard():
    """Overview: figures by state, and what waits for a coordinator; each list shows its first
    rows and links to the whole of it (reports.listing)."""
    now = utcnow()
    report = reports.dashboard(db.session, now, rows=reports.OVERVIEW_ROWS)
    return render_template(
        "reports/dashboard.html",
        report=report,
        pulse=pulse.accepted(db.session, now, limit=reports.OVERVIEW_ROWS),
        pulse_total=pulse.accepted_count(db.session, now),
        pulse_silent=report.silent_total,
        need_labels=needs.STATUS_LABELS,
        match_labels=matches.STATUS_LABELS,
        stale_days=reports.STALE_NEED_AFTER.days,
        unanswered_days=reports.unanswered_after().days,
        highlight_days=reports.highlight_after().days,
        barriers=accessibility.open_reports(db.session),
        handled_form=BaseForm(),
    )


@dataclass(frozen=True)
class _List:
    title: object  # a lazy text
    order: object  # a lazy text: which rows come first
    table: str  # its macro in templates/reports/_lists.html
    rows: Callable  # (session, now, limit, offset) -> rows
    total: Callable  # (session, now) -> int


# The overview's lists, each whole on pages of its own: /koordination/liste/<name>.
LISTS = {
    "ueberfaellige-vorschlaege": _List(
        _l("Vorschläge, die lange auf Entscheidung warten"),
        _l("Der älteste Vorschlag steht oben."),
        "overdue_table",
        reports.overdue_proposals,
        lambda session, now: reports.count(session, reports.overdue_proposals_query(now)),
    ),
    "lange-offen": _List(
        _l("Anfragen ohne Expert:in"),
        _l("Die älteste Anfrage steht oben."),
        "stale_table",
        reports.stale_needs,
        lambda session, now: reports.count(session, reports.stale_needs_query(now)),
    ),
    "ohne-antwort": _List(
        _l("Vermittlungen ohne Antwort der Expert:in"),
        _l("Die am längsten wartende Vermittlung steht oben."),
        "unanswered_table",
        reports.unanswered_matches,
        lambda session, now: reports.count(session, reports.unanswered_matches_query(now)),
    ),
    "laufende-beratungen": _List(
        _l("Laufende Beratungen: letzter Kontakt"),
        _l("Beratungen ohne Kontakt stehen oben, die am längsten stillen zuerst."),
        "pulse_table",
        pulse.accepted,
        pulse.accepted_count,
    ),
}


@bp.route("/liste/<name>")
@role_required(Role.COORDINATOR)
def listing(name: str):
    """One of the overview's lists, whole, a page at a time (a COUNT and one page of rows)."""
    chosen = LISTS.get(name)
    if chosen is None:
        return render_error(404)
    now = utcnow()
    total = chosen.total(db.session, now)
    per_page = reports.LIST_PAGE_ROWS
    # An old link past the end shows the last page, not an empty one.
    page = min(page_number(request.args.get("seite", "")), max(1, -(-total // per_page)))
    rows = chosen.rows(db.session, now, per_page, (page - 1) * per_page) if total else []
    return render_template(
        "reports/listing.html",
        name=name,
        title=str(chosen.title),
        order=str(chosen.order),
        table=chosen.table,
        listing=reports.Listing(rows=rows, total=total, page=page, per_page=per_page),
    )


@bp.route("/abdeckung")
@role_required(Role.COORDINATOR)
def coverage():
    """Open needs and available experts per district and phase, and the gaps nobody can fill."""
    picture = boxes.coverage(db.session, utcnow())
    return render_template(
        "reports/coverage.html",
        report=picture.report,
        gaps=picture.gaps,
        phases=PHASES,
        spare=reports.SPARE_EXPERTS_WANTED,
    )


@bp.route("/abdeckung/<district>/<phase>")
@role_required(Role.COORDINATOR)
def coverage_box(district: str, phase: str):
    """The needs and the available experts behind one box of the coverage picture."""
    if district not in DISTRICT_BY_CODE or phase not in PHASE_BY_CODE:
        return render_error(404)
    return render_template(
        "reports/coverage_box.html",
        box=boxes.box(db.session, district, phase, utcnow()),
    )


@bp.route("/export/anfragen.csv")
@role_required(Role.COORDINATOR)
def export_needs():
    """All needs as CSV."""
    return _csv_download(exports.need_table)


@bp.route("/export/vermittlungen.csv")
@role_required(Role.COORDINATOR)
def export_matches():
    """All matches as CSV (names, never contact details)."""
    return _csv_download(exports.match_table)


@bp.route("/export/anfragen.xlsx")
@role_required(Role.COORDINATOR)
def export_needs_xlsx():
    """All needs as an Excel workbook with typed cells."""
    return _xlsx_download(exports.need_table)


@bp.route("/export/vermittlungen.xlsx")
@role_required(Role.COORDINATOR)
def export_matches_xlsx():
    """All matches as an Excel workbook with typed cells (names, never contact details)."""
    return _xlsx_download(exports.match_table)


@bp.route("/wirkung")
@role_required(Role.COORDINATOR)
def impact_report():
    """What the advice achieved in a period, compared with the period before."""
    period, choice, problem = impact_view.period_from(request.args, _today())
    report = impact.report(db.session, period)
    return render_template(
        "reports/impact.html",
        report=report,
        choice=choice,
        problem=problem,
        period_label=impact_view.period_label,
        lines=impact_view.lines(report),
        charts=impact_view.charts_for(report),
        districts=impact_view.district_rows(report.current),
        previous_districts=report.previous.districts,
        ring_label=impact_view.ring_label,
        month_label=impact_view.month_label,
        number=impact_view.number,
        phases=PHASES,
        years=range(_today().year, _today().year - impact.MAX_PERIOD_YEARS - 1, -1),
        download_args={k: v for k, v in request.args.items() if problem is None},
    )


@bp.route("/wirkung.csv")
@role_required(Role.COORDINATOR)
def impact_csv():
    """The report's figures as CSV (German headers; semicolons unless asked for commas)."""
    return _impact_download("csv")


@bp.route("/wirkung.xlsx")
@role_required(Role.COORDINATOR)
def impact_xlsx():
    """The report's figures as an Excel workbook."""
    return _impact_download("xlsx")


def _today():
    return utcnow().astimezone(BERLIN).date()


def _impact_download(suffix: str) -> Response:
    period, _choice, problem = impact_view.period_from(request.args, _today())
    if problem is not None:
        return render_error(400, problem)
    table = impact_view.table(impact.report(db.session, period))
    name = f"wirkung-{period.start.isoformat()}-{period.end.isoformat()}"
    if suffix == "xlsx":
        return _download(exports.to_xlsx(table), name, "xlsx", exports.XLSX_MIMETYPE, dated=False)
    delimiter = exports.DELIMITERS.get(request.args.get("trennzeichen", exports.DEFAULT_DELIMITER))
    if delimiter is None:
        return render_error(400, _("Diese Tabelle gibt es nur „mit Semikolon“ oder „mit Komma“."))
    return _download(exports.to_csv(table, delimiter), name, "csv", "text/csv", dated=False)


def _csv_download(load_table):
    """Semicolons for German Excel unless asked for commas."""
    choice = request.args.get("trennzeichen", exports.DEFAULT_DELIMITER)
    delimiter = exports.DELIMITERS.get(choice)
    if delimiter is None:
        return render_error(
            400,
            _(
                "Diese Tabelle gibt es nur „mit Semikolon“ oder „mit Komma“. Bitte nehmen Sie einen der beiden Links auf der Seite „Überblick“ der Koordination."
            ),
        )
    table = load_table(db.session)
    return _download(exports.to_csv(table, delimiter), table.name, "csv", "text/csv")


def _xlsx_download(load_table):
    table = load_table(db.session)
    return _download(exports.to_xlsx(table), table.name, "xlsx", exports.XLSX_MIMETYPE)


def _download(body: bytes, name: str, suffix: str, mimetype: str, dated: bool = True) -> Response:
    day = utcnow().astimezone(BERLIN).date().isoformat()
    filename = f"{name}-{day}.{suffix}" if dated else f"{name}.{suffix}"
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",  # names of people: not for shared caches
        },
    )


# "Was wir bewirken": public, only where the association publishes it (PUBLIC_IMPACT).
public_bp = Blueprint("impact", __name__)


@public_bp.route("/wirkung")
def public_impact():
    """A calendar year's figures in aggregate: no names, no free text, no count below 3."""
    if not current_app.config["PUBLIC_IMPACT"]:
        return render_error(404)
    today = _today()
    years = impact.public_years(db.session, today)
    default = next((y for y in years if y < today.year), years[0] if years else today.year)
    chosen, problem = default, None
    asked = request.args.get("jahr")
    if asked is not None:
        text = asked.strip()
        # ASCII digits, and not too many of them: int() refuses "²" and 5,000 digits.
        if text.isascii() and text.isdigit() and len(text) <= 9 and int(text) in years:
            chosen = int(text)
        else:
            problem = _(
                "Für dieses Jahr gibt es hier keine Zahlen. Wir zeigen Ihnen das Jahr %(year)d.",
                year=default,
            )
    return render_template(
        "reports/public_impact.html",
        found=impact.public_year(db.session, chosen, today),
        years=years,
        problem=problem,
        districts=DISTRICTS,
        phases=PHASES,
        rings=RINGS,
        number=impact_view.number,
        # From Python, so that the "<" is escaped like any other text (not trusted markup).
        below=_("< %(num)d", num=impact.SHOWN_FROM),
        below_explained=_(
            "„< %(num)d“ heißt: weniger als %(num)d. So kleine Zahlen zeigen wir nicht genau, damit niemand zu erkennen ist.",
            num=impact.SHOWN_FROM,
        ),
    )
