"""Coordinator pages that read figures; the queries live in ``matching.services.reports``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from matching.access import role_required
from matching.extensions import db
from matching.main.errors import render_error
from matching.matches import pulse
from matching.models import Role, utcnow
from matching.reference import PHASES
from matching.services import accessibility, reports
from matching.services import matches as match_service
from matching.services import needs as need_service

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
        need_labels=need_service.STATUS_LABELS,
        match_labels=match_service.STATUS_LABELS,
        stale_days=reports.STALE_NEED_AFTER.days,
        unanswered_days=reports.unanswered_after().days,
        highlight_days=reports.highlight_after().days,
        barriers=accessibility.open_reports(db.session),
        handled_form=FlaskForm(),
    )


@bp.route("/abdeckung")
@role_required(Role.COORDINATOR)
def coverage():
    """Open needs and available experts per district and phase."""
    return render_template(
        "reports/coverage.html",
        report=reports.coverage(db.session, utcnow()),
        phases=PHASES,
        spare=reports.SPARE_EXPERTS_WANTED,
    )


@bp.route("/export/anfragen.csv")
@role_required(Role.COORDINATOR)
def export_needs():
    """All needs as CSV."""
    return _csv_download("anfragen", reports.NEED_COLUMNS, reports.need_rows)


@bp.route("/export/vermittlungen.csv")
@role_required(Role.COORDINATOR)
def export_matches():
    """All matches as CSV (names, never contact details)."""
    return _csv_download("vermittlungen", reports.MATCH_COLUMNS, reports.match_rows)


def _csv_download(name: str, columns, load_rows):
    choice = request.args.get("trennzeichen", "komma")
    delimiter = reports.CSV_DELIMITERS.get(choice)
    if delimiter is None:
        return render_error(
            400,
            _(
                "Diese Tabelle gibt es nur „mit Semikolon“ oder „mit Komma“. Bitte nehmen Sie einen der beiden Links auf der Seite „Überblick“ der Koordination."
            ),
        )
    body = reports.to_csv(columns, load_rows(db.session), delimiter)
    day = utcnow().astimezone(BERLIN).date().isoformat()
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}-{day}.csv"',
            "Cache-Control": "no-store",  # names of people: not for shared caches
        },
    )
