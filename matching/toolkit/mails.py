"""Mails about the toolkit's materials."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from matching import mail
from matching.mail.recipients import coordinators
from matching.models import User


def material_suggested(session: Session, material, author: User) -> None:
    """Coordinators learn that a volunteer suggested a material for the toolkit."""
    for coordinator in coordinators(session):
        mail.queue_for_user(
            session,
            coordinator,
            "material_suggested",
            _l("Vorschlag für den Werkzeugkoffer: „%(title)s“", title=material.title),
            key=f"material:{material.id}:{coordinator.id}",
            material=material,
            author=author,
            review_url=mail.absolute_url("toolkit.manage"),
        )
