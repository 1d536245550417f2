"""Start page, health check, language switch and the legal pages."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from matching import limits
from matching.accessibility import report_barrier
from matching.extensions import csrf, db, limiter
from matching.main.forms import BarrierForm
from matching.models import utcnow
from matching.reference import PHASES, UI_LOCALES
from matching.urls import safe_next
from matching.views import perform, refused_status

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    """The start page: what the service is, and the two ways in."""
    return render_template("main/index.html", phases=PHASES)


@bp.route("/start")
def home():
    """Where a logged-in person starts: the page of their main role."""
    if not current_user.is_authenticated:
        return redirect(url_for("main.index"))
    if current_user.has_role("coordinator") or current_user.has_role("admin"):
        return redirect(url_for("reports.dashboard"))
    if current_user.has_role("initiative"):
        return redirect(url_for("initiatives.my_needs"))
    if current_user.has_role("volunteer"):
        return redirect(url_for("profiles.overview"))
    return redirect(url_for("main.index"))


@bp.route("/healthz")
@csrf.exempt
@limiter.exempt
def healthz():
    """Liveness and database check for load balancers and monitoring."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.route("/sprache", methods=["POST"])
def set_language():
    """Switch the interface language; remembered in the session and the user's settings."""
    lang = request.form.get("lang", "")
    back = safe_next(request.form.get("next")) or url_for("main.index")
    if lang not in UI_LOCALES:
        flash(
            _("Diese Sprache gibt es hier nicht. Bitte wählen Sie Deutsch oder Englisch."), "error"
        )
        return redirect(back)
    session["lang"] = lang
    if current_user.is_authenticated and current_user.locale != lang:
        current_user.locale = lang
        db.session.commit()
    return redirect(back)


@bp.route("/datenschutz")
def privacy():
    """The privacy statement that people agree to at sign-up."""
    return render_template("main/privacy.html")


@bp.route("/impressum")
def imprint():
    """Who runs the service."""
    return render_template("main/imprint.html")


@bp.route("/barrierefreiheit", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def accessibility():
    """The accessibility statement (BITV 2.0) with a form to report a barrier."""
    form = BarrierForm()
    if request.method == "GET":
        form.page.data = request.args.get("seite", "")[: limits.BARRIER_PAGE_MAX]
    if form.validate_on_submit():
        reported = perform(
            lambda: report_barrier(
                db.session,
                current_user,
                form.description.data,
                page=form.page.data or "",
                contact=form.contact.data or "",
                now=utcnow(),
            ),
            done=_("Danke für Ihre Meldung! Die Koordination kümmert sich darum."),
            then=url_for("main.accessibility"),
            form=form,
        )
        if reported is not None:
            return reported
    statement_date = current_app.config["ACCESSIBILITY_STATEMENT_DATE"]
    return render_template(
        "main/accessibility.html", form=form, statement_date=statement_date
    ), refused_status(form)
