"""Initiatives and the people who act for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from matching import audit, limits
from matching.errors import InvalidInput, PermissionDenied
from matching.models import Initiative, InitiativeMember, Role, User
from matching.permissions import is_member
from matching.reference import DISTRICT_CODES
from matching.text import looks_blank


@dataclass
class InitiativeInput:
    name: str
    district: str
    sub_district: str
    description: str
    website: str


def _validate(data: InitiativeInput) -> None:
    if looks_blank(data.name) or len(data.name) > limits.INITIATIVE_NAME_MAX:
        raise InvalidInput(
            _l(
                "Bitte geben Sie den Namen der Initiative an (höchstens %(max)d Zeichen).",
                max=limits.INITIATIVE_NAME_MAX,
            )
        )
    if data.district not in DISTRICT_CODES:
        raise InvalidInput(_l("Bitte wählen Sie einen Stadtbezirk aus der Liste."))
    if data.website and not data.website.startswith(("https://", "http://")):
        raise InvalidInput(_l("Die Webseite muss mit https:// beginnen."))


def _apply(initiative: Initiative, data: InitiativeInput) -> None:
    initiative.name = data.name.strip()
    initiative.district = data.district
    initiative.sub_district = data.sub_district.strip()
    initiative.description = data.description.strip()
    initiative.website = data.website.strip()


def new_initiative(data: InitiativeInput, *, now: datetime) -> Initiative:
    """A checked, not yet added initiative without members (the callers add them or a contact)."""
    _validate(data)
    initiative = Initiative(created_at=now)
    _apply(initiative, data)
    return initiative


def create_initiative(
    session: Session, actor: User, data: InitiativeInput, *, now: datetime
) -> Initiative:
    """A new initiative with the actor as its first member."""
    if not actor.has_role(Role.INITIATIVE):
        raise PermissionDenied(_l("Nur Konten von Initiativen können eine Initiative anlegen."))
    initiative = new_initiative(data, now=now)
    initiative.member_rows.append(InitiativeMember(user=actor, joined_at=now))
    session.add(initiative)
    session.flush()
    audit.record(session, actor, "initiative.create", "initiative", initiative.id, now=now)
    return initiative


def update_initiative(
    session: Session, actor: User, initiative: Initiative, data: InitiativeInput, *, now: datetime
) -> Initiative:
    """Change an initiative's details (members only)."""
    if not is_member(session, actor, initiative.id):
        raise PermissionDenied(_l("Sie gehören nicht zu dieser Initiative."))
    _validate(data)
    _apply(initiative, data)
    initiative.updated_at = now
    audit.record(session, actor, "initiative.update", "initiative", initiative.id, now=now)
    return initiative
