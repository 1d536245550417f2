"""Coordinator pages that read figures; the queries live in ``matching.reports.figures``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext as _

from matching import accessibility, matches, needs, reports
from matching.access import role_required
from matching.extensions import db
from matching.forms import BaseForm
from matching.main.errors import render_error
from matching.matches import pulse
from matching.models import Role, utcnow
from matching.reference import DISTRICT_BY_CODE, DISTRICTS, PHASE_BY_CODE, PHASES, RINGS
from matching.reports import boxes, exports, impact, impact_view

bp = Blueprint("reports", __name__, url_prefix="/koordination")

BERLIN = ZoneInfo("Europe/Berlin")


@bp.route("/")
@role_required(Role.COORDINATOR)
def dashboard():
    """Overview: figures by state, and what waits for a coordinator."""
    return render_template(
        "reports/dashboard.html",
        report=reports.dashboard(db.session, utcnow()),
        pulse=pulse.accepted(db.session, utcnow()),
        need_labels=needs.STATUS_LABELS,
        match_labels=matches.STATUS_LABELS,
        stale_days=reports.STALE_NEED_AFTER.days,
        unanswered_days=reports.unanswered_after().days,
        highlight_days=reports.highlight_after().days,
        barriers=accessibility.open_reports(db.session),
        handled_form=BaseForm(),
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
        if asked.strip().isdigit() and int(asked) in years:
            chosen = int(asked)
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
        # From Python, so that the "<" is escaped like any other text (not trusted markup).
        below=_("< %(num)d", num=impact.SHOWN_FROM),
        below_explained=_(
            "„< %(num)d“ heißt: weniger als %(num)d. So kleine Zahlen zeigen wir nicht genau, damit niemand zu erkennen ist.",
            num=impact.SHOWN_FROM,
        ),
    )
