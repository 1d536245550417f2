"""The toolkit ("Werkzeugkoffer"): materials per phase that travel with the match.

Coordinators add materials (approved at once) and review volunteers' suggestions.
A material is a link, an uploaded PDF, or both. PDFs are checked by their content
(they start with ``%PDF-``) and their size (TOOLKIT_MAX_UPLOAD_BYTES), and kept in
the database beside the material, so every web host serves them and the backup
holds them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from matching import audit, limits
from matching.errors import InvalidInput, PermissionDenied, TransitionError
from matching.models import Material, MaterialFile, MaterialStatus, Role, User
from matching.permissions import is_coordinator
from matching.reference import LANGUAGE_CODES, PHASE_CODES
from matching.text import looks_blank
from matching.toolkit import mails

PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class Upload:
    """A file as it came from the form."""

    filename: str
    content: bytes


@dataclass
class MaterialInput:
    phase: str
    title: str
    description: str
    url: str
    language: str
    upload: Upload | None = None


def max_upload_bytes() -> int:
    return int(current_app.config["TOOLKIT_MAX_UPLOAD_BYTES"])


def megabytes(size: int) -> str:
    """A file size for people: "3 KB", "1,2 MB", "5 MB" (decimal comma, as in German)."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    text = f"{size / (1024 * 1024):.1f}".replace(".", ",")
    return (text[:-2] if text.endswith(",0") else text) + " MB"


def check_upload(upload: Upload) -> None:
    """Refuse anything but a PDF within the size limit, with a message that says how to fix it."""
    if not upload.content:
        raise InvalidInput(_l("Die Datei ist leer. Bitte wählen Sie eine PDF-Datei aus."))
    if len(upload.content) > max_upload_bytes():
        raise InvalidInput(
            _l(
                "Die Datei ist zu groß. Erlaubt sind höchstens %(size)s. "
                "Bitte verkleinern Sie die PDF-Datei oder geben Sie einen Link an.",
                size=megabytes(max_upload_bytes()),
            )
        )
    if not upload.content.startswith(PDF_MAGIC):
        raise InvalidInput(
            _l(
                "Das ist keine PDF-Datei. Bitte laden Sie eine PDF-Datei hoch oder geben Sie einen Link an."
            )
        )


def safe_file_name(name: str, material_id: int) -> str:
    """A plain file name ending in .pdf, for the download."""
    stem = secure_filename(name or "").rsplit(".", 1)[0][:80]
    return f"{stem or f'material-{material_id}'}.pdf"


def _validate(data: MaterialInput, has_file: bool) -> None:
    if data.phase not in PHASE_CODES:
        raise InvalidInput(_l("Bitte wählen Sie ein Thema aus der Liste."))
    if looks_blank(data.title) or len(data.title) > limits.MATERIAL_TITLE_MAX:
        raise InvalidInput(
            _l(
                "Bitte geben Sie einen Titel mit höchstens %(max)d Zeichen an.",
                max=limits.MATERIAL_TITLE_MAX,
            )
        )
    if len(data.description) > limits.MATERIAL_DESCRIPTION_MAX:
        raise InvalidInput(
            _l(
                "Die Beschreibung darf höchstens %(max)d Zeichen lang sein.",
                max=limits.MATERIAL_DESCRIPTION_MAX,
            )
        )
    if data.language not in LANGUAGE_CODES:
        raise InvalidInput(_l("Bitte wählen Sie eine Sprache aus der Liste."))
    url = data.url.strip()
    if url and (len(url) > limits.MATERIAL_URL_MAX or not url.startswith(("https://", "http://"))):
        raise InvalidInput(
            _l("Bitte geben Sie eine vollständige Adresse an, zum Beispiel https://beispiel.de.")
        )
    if data.upload is not None:
        check_upload(data.upload)
    if not url and data.upload is None and not has_file:
        raise InvalidInput(_l("Bitte geben Sie einen Link an oder laden Sie eine PDF-Datei hoch."))


def _apply(session: Session, material: Material, data: MaterialInput, now: datetime) -> None:
    material.phase = data.phase
    material.title = data.title.strip()
    material.description = data.description.strip()
    material.url = data.url.strip()
    material.language = data.language
    material.updated_at = now
    if data.upload is not None:
        session.flush()  # the material's id names the file if the upload has no usable name
        stored = session.get(MaterialFile, material.id)
        if stored is None:
            stored = MaterialFile(material_id=material.id)
            session.add(stored)
        stored.content = data.upload.content
        stored.sha256 = hashlib.sha256(data.upload.content).hexdigest()
        stored.uploaded_at = now
        material.file_name = safe_file_name(data.upload.filename, material.id)
        material.file_size = len(data.upload.content)


def add_material(session: Session, actor: User, data: MaterialInput, *, now: datetime) -> Material:
    """A coordinator's material is public at once; a volunteer's waits as a suggestion."""
    coordinator = is_coordinator(actor)
    if not coordinator and not (actor and actor.has_role(Role.VOLUNTEER)):
        raise PermissionDenied(
            _l("Materialien vorschlagen können Expert:innen und die Koordination.")
        )
    _validate(data, has_file=False)
    material = Material(
        status=MaterialStatus.APPROVED if coordinator else MaterialStatus.SUGGESTED,
        suggested_by_id=actor.id,
        created_at=now,
    )
    if coordinator:
        material.reviewed_by_id, material.reviewed_at = actor.id, now
    session.add(material)
    _apply(session, material, data, now)
    session.flush()
    audit.record(
        session,
        actor,
        "material.add" if coordinator else "material.suggest",
        "material",
        material.id,
        to_state=material.status,
        now=now,
    )
    if not coordinator:
        mails.material_suggested(session, material, actor)
    return material


def update_material(
    session: Session, actor: User, material: Material, data: MaterialInput, *, now: datetime
) -> Material:
    """Coordinators change a material (a new PDF replaces the old one)."""
    if not is_coordinator(actor):
        raise PermissionDenied(_l("Nur die Koordination kann Materialien ändern."))
    _validate(data, has_file=material.has_file)
    _apply(session, material, data, now)
    audit.record(session, actor, "material.update", "material", material.id, now=now)
    return material


def review(
    session: Session,
    actor: User,
    material: Material,
    approve: bool,
    *,
    now: datetime,
    reason: str = "",
) -> Material:
    """A coordinator approves a suggestion (it becomes public) or rejects it."""
    if not is_coordinator(actor):
        raise PermissionDenied(_l("Nur die Koordination kann Vorschläge freigeben."))
    if material.status != MaterialStatus.SUGGESTED:
        raise TransitionError(_l("Über diesen Vorschlag wurde schon entschieden."))
    before = material.status
    material.status = MaterialStatus.APPROVED if approve else MaterialStatus.REJECTED
    material.review_reason = reason.strip()
    material.reviewed_by_id, material.reviewed_at = actor.id, now
    audit.record(
        session,
        actor,
        "material.approve" if approve else "material.reject",
        "material",
        material.id,
        from_state=before,
        to_state=material.status,
        now=now,
    )
    return material


def remove(session: Session, actor: User, material: Material, *, now: datetime) -> None:
    """Coordinators take a material out of the toolkit (its PDF goes with it)."""
    if not is_coordinator(actor):
        raise PermissionDenied(_l("Nur die Koordination kann Materialien entfernen."))
    audit.record(
        session,
        actor,
        "material.remove",
        "material",
        material.id,
        detail={"title": material.title},
        now=now,
    )
    session.delete(material)


def visible_to(user: User | None, material: Material) -> bool:
    """Approved materials are public; a suggestion only to its author and coordinators."""
    if material.status == MaterialStatus.APPROVED:
        return True
    if is_coordinator(user):
        return True
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and material.suggested_by_id == user.id
    )
