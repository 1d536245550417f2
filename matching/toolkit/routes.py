"""The toolkit pages: the public list by phase, PDF downloads, suggestions, the coordinators' list."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from matching import toolkit
from matching.access import role_required
from matching.extensions import csrf, db
from matching.forms import BaseForm, ReasonForm
from matching.main.errors import render_error
from matching.models import Material, MaterialFile, MaterialStatus, Role, utcnow
from matching.permissions import is_coordinator
from matching.reference import PHASES
from matching.toolkit import materials
from matching.toolkit.forms import MaterialForm
from matching.views import get_or_404, perform, refused_status, require_valid_post

bp = Blueprint("toolkit", __name__)

# Room for the other fields of the form beside the largest PDF allowed.
_FORM_ROOM = 256 * 1024


@bp.app_template_filter("megabytes")
def megabytes(size: int) -> str:
    return toolkit.megabytes(size)


@bp.errorhandler(413)
def too_large(error):
    """A file far beyond the limit never reaches the form: say so instead of a general error."""
    return render_error(
        413,
        _(
            "Die Datei ist zu groß. Erlaubt sind höchstens %(size)s. "
            "Bitte gehen Sie zurück und wählen Sie eine kleinere PDF-Datei oder geben Sie einen Link an.",
            size=toolkit.megabytes(toolkit.max_upload_bytes()),
        ),
    )


@bp.route("/werkzeugkoffer")
def index():
    """The public toolkit, by phase."""
    waiting = []
    if current_user.is_authenticated:
        waiting = db.session.scalars(
            select(Material)
            .where(
                Material.suggested_by_id == current_user.id,
                Material.status == MaterialStatus.SUGGESTED,
            )
            .order_by(Material.created_at)
        ).all()
    return render_template(
        "toolkit/index.html",
        groups=materials.toolkit_by_phase(db.session),
        phases=PHASES,
        waiting=waiting,
        now=utcnow(),
    )


@bp.route("/werkzeugkoffer/<id:material_id>/datei")
def download(material_id: int):
    """The uploaded PDF, as a download (never shown inline, never sniffed)."""
    material = db.session.get(Material, material_id)
    if material is None or not material.has_file or not toolkit.visible_to(current_user, material):
        abort(404)
    stored = db.session.get(MaterialFile, material.id)
    if stored is None:
        abort(404)
    public = material.status == MaterialStatus.APPROVED
    response = send_file(
        io.BytesIO(stored.content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=material.file_name,
        etag=stored.sha256,
        max_age=3600 if public else 0,
        conditional=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if not public:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _allow_upload() -> None:
    """Let this request carry a PDF up to the limit (the app's usual limit is smaller).

    The app-wide CSRF check reads the body before any view, under the general limit, so
    the upload views are exempt from it; the form's own CSRF field (BaseForm) still has
    to be valid, so a forged upload is refused all the same.
    """
    request.max_content_length = toolkit.max_upload_bytes() + _FORM_ROOM


def _material_input(form: MaterialForm) -> toolkit.MaterialInput:
    upload = None
    storage = form.file.data
    if storage is not None and getattr(storage, "filename", ""):
        # One byte more than allowed is enough to know it is too large.
        content = storage.read(toolkit.max_upload_bytes() + 1)
        upload = toolkit.Upload(filename=storage.filename, content=content)
    return toolkit.MaterialInput(
        phase=form.phase.data,
        title=form.title.data or "",
        description=form.description.data or "",
        url=form.url.data or "",
        language=form.language.data,
        upload=upload,
    )


@bp.route("/werkzeugkoffer/neu", methods=["GET", "POST"])
@csrf.exempt  # see _allow_upload: MaterialForm checks its CSRF field itself
@login_required
def new():
    """Coordinators add a material; experts suggest one for the coordinators to approve."""
    coordinator = is_coordinator(current_user)
    if not coordinator and not current_user.has_role(Role.VOLUNTEER):
        abort(403)
    _allow_upload()
    form = MaterialForm()
    if request.method == "GET" and request.args.get("thema") in {p.code for p in PHASES}:
        form.phase.data = request.args["thema"]
    if form.validate_on_submit():
        added = perform(
            lambda: toolkit.add_material(
                db.session, current_user, _material_input(form), now=utcnow()
            ),
            done=_("Das Material ist jetzt im Werkzeugkoffer.")
            if coordinator
            else ngettext(
                "Danke für Ihren Vorschlag! Die Koordination schaut ihn sich an, in der Regel "
                "innerhalb von %(num)d Tag.",
                "Danke für Ihren Vorschlag! Die Koordination schaut ihn sich an, in der Regel "
                "innerhalb von %(num)d Tagen.",
                current_app.config["COORDINATOR_REMINDER_DAYS"],
            ),
            then=url_for("toolkit.manage" if coordinator else "toolkit.index"),
            form=form,
        )
        if added is not None:
            return added
    return render_template(
        "toolkit/form.html",
        form=form,
        material=None,
        coordinator=coordinator,
        max_size=toolkit.megabytes(toolkit.max_upload_bytes()),
    ), refused_status(form)


@bp.route("/koordination/werkzeugkoffer")
@role_required(Role.COORDINATOR)
def manage():
    """Suggestions waiting for a decision first, then everything in the toolkit."""
    rows = db.session.scalars(
        select(Material)
        .options(selectinload(Material.suggested_by))
        .order_by(Material.status.desc(), materials.PHASE_ORDER, Material.title, Material.id)
    ).all()
    return render_template(
        "toolkit/manage.html",
        suggested=[m for m in rows if m.status == MaterialStatus.SUGGESTED],
        approved=[m for m in rows if m.status == MaterialStatus.APPROVED],
        rejected=[m for m in rows if m.status == MaterialStatus.REJECTED],
        form=BaseForm(),
    )


@bp.route("/koordination/werkzeugkoffer/<id:material_id>/bearbeiten", methods=["GET", "POST"])
@csrf.exempt  # see _allow_upload: MaterialForm checks its CSRF field itself
@role_required(Role.COORDINATOR)
def edit(material_id: int):
    material = get_or_404(Material, material_id)
    _allow_upload()
    form = MaterialForm(obj=material)
    if form.validate_on_submit():
        saved = perform(
            lambda: toolkit.update_material(
                db.session, current_user, material, _material_input(form), now=utcnow()
            ),
            done=_("Ihre Änderungen sind gespeichert."),
            then=url_for("toolkit.manage"),
            form=form,
        )
        if saved is not None:
            return saved
    return render_template(
        "toolkit/form.html",
        form=form,
        material=material,
        coordinator=True,
        max_size=toolkit.megabytes(toolkit.max_upload_bytes()),
    ), refused_status(form)


@bp.route("/koordination/werkzeugkoffer/<id:material_id>/freigeben", methods=["POST"])
@role_required(Role.COORDINATOR)
def approve(material_id: int):
    material = get_or_404(Material, material_id)
    require_valid_post()
    return _review(material, True, "", _("Der Vorschlag ist freigegeben und jetzt öffentlich."))


@bp.route("/koordination/werkzeugkoffer/<id:material_id>/ablehnen", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def reject(material_id: int):
    """Reject a suggestion with a short reason (GET asks for it)."""
    material = get_or_404(Material, material_id)
    form = ReasonForm()
    if form.validate_on_submit():
        return _review(material, False, form.reason.data, _("Der Vorschlag ist abgelehnt."))
    return render_template("toolkit/reject.html", material=material, form=form), refused_status(
        form
    )


def _review(material: Material, approve: bool, reason: str, done: str):
    return perform(
        lambda: toolkit.review(
            db.session, current_user, material, approve, now=utcnow(), reason=reason
        ),
        done=done,
        then=url_for("toolkit.manage"),
    )


@bp.route("/koordination/werkzeugkoffer/<id:material_id>/entfernen", methods=["POST"])
@role_required(Role.COORDINATOR)
def remove(material_id: int):
    material = get_or_404(Material, material_id)
    require_valid_post()
    return perform(
        lambda: toolkit.remove(db.session, current_user, material, now=utcnow()),
        done=_("Das Material ist aus dem Werkzeugkoffer entfernt."),
        then=url_for("toolkit.manage"),
    )
