"""Assisted and offline: a need taken down by phone for people without an account.

A coordinator records the initiative, a contact and the need in one step, noting
the day the person agreed that we store their contact. Later the coordinator can
invite them (by e-mail) to take the initiative over with an account of their own;
the one who does becomes its member, and the stored phone contact is erased.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching import audit, initiatives, limits, mail, needs
from matching.errors import InvalidInput, PermissionDenied, TransitionError
from matching.models import Initiative, InitiativeMember, Need, Role, User
from matching.permissions import is_coordinator
from matching.text import looks_blank
from matching.tokens import TokenError, make_token, read_token

TAKEOVER = "takeover"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The consent is asked for on the phone and noted at once, or within a few days at most.
CONSENT_LOOKBACK = timedelta(days=90)


@dataclass
class PhoneContact:
    """Whom to reach at an initiative that called, and their consent to store it."""

    name: str
    phone: str
    email: str
    consent: bool
    consent_on: date | None


def _validate(contact: PhoneContact, today: date) -> None:
    if looks_blank(contact.name) or len(contact.name) > limits.CONTACT_NAME_MAX:
        raise InvalidInput(_l("Bitte geben Sie den Namen der Kontaktperson an."))
    if looks_blank(contact.phone) and looks_blank(contact.email):
        raise InvalidInput(_l("Bitte geben Sie eine Telefonnummer oder eine E-Mail-Adresse an."))
    if len(contact.phone) > limits.PHONE_MAX:
        raise InvalidInput(
            _l("Die Telefonnummer darf höchstens %(max)d Zeichen lang sein.", max=limits.PHONE_MAX)
        )
    if contact.email.strip() and not _EMAIL.match(contact.email.strip()):
        raise InvalidInput(
            _l("Bitte prüfen Sie die E-Mail-Adresse, zum Beispiel name@beispiel.de.")
        )
    if not contact.consent or contact.consent_on is None:
        raise InvalidInput(
            _l(
                "Bitte fragen Sie, ob wir die Kontaktdaten speichern dürfen, und notieren Sie "
                "das Datum. Ohne Einwilligung können wir die Anfrage nicht aufnehmen."
            )
        )
    if contact.consent_on > today:
        raise InvalidInput(
            _l("Das Datum der Einwilligung darf nicht in der Zukunft liegen."), field="consent_on"
        )
    if contact.consent_on < today - CONSENT_LOOKBACK:
        raise InvalidInput(
            _l(
                "Die Einwilligung darf höchstens %(days)d Tage zurückliegen. Bitte fragen Sie "
                "noch einmal nach und notieren Sie das Datum.",
                days=CONSENT_LOOKBACK.days,
            ),
            field="consent_on",
        )


def _name_key(name: str) -> str:
    return "".join(name.split()).casefold()


def initiatives_named(session: Session, name: str) -> list[Initiative]:
    """Initiatives whose name is ``name`` but for upper/lower case and spaces."""
    key = _name_key(name)
    if not key:
        return []
    # Compared here, not in SQL: SQLite's lower() leaves umlauts alone ("Ü" ≠ "ü").
    rows = session.execute(select(Initiative.id, Initiative.name).order_by(Initiative.id)).all()
    ids = [row.id for row in rows if _name_key(row.name) == key]
    if not ids:
        return []
    return list(session.scalars(select(Initiative).where(Initiative.id.in_(ids))))


def record_need_by_phone(
    session: Session,
    actor: User,
    details: initiatives.InitiativeInput,
    contact: PhoneContact,
    data: needs.NeedInput,
    *,
    now: datetime,
    publish: bool,
    existing: Initiative | None = None,
) -> Need:
    """A coordinator records a need that came in by phone, in one step.

    For a new initiative without an account, or for ``existing`` (chosen because the
    name was already known): one without an account gets the new contact and consent;
    one with an account keeps managing its needs itself, so no contact is stored.
    """
    if not is_coordinator(actor):
        raise PermissionDenied(_l("Nur die Koordination kann Anfragen am Telefon aufnehmen."))
    _validate(contact, now.date())
    initiative = existing or initiatives.new_initiative(details, now=now)
    if not initiative.member_rows:
        initiative.contact_name = contact.name.strip()
        initiative.contact_phone = contact.phone.strip()
        initiative.contact_email = contact.email.strip().lower()
        initiative.contact_consent_on = contact.consent_on
        initiative.recorded_by_id = actor.id
    if existing is None:
        session.add(initiative)
    session.flush()
    audit.record(
        session,
        actor,
        "initiative.record_by_phone",
        "initiative",
        initiative.id,
        detail={
            "consent_on": contact.consent_on.isoformat(),
            **({"existing": True} if existing is not None else {}),
        },
        now=now,
    )
    need = needs.create_need(session, actor, initiative, data, now=now, publish=publish)
    audit.record(session, actor, "need.record_by_phone", "need", need.id, now=now)
    return need


def can_invite(initiative: Initiative) -> bool:
    """Recorded by phone, still without a member, and with an address to write to."""
    return bool(
        initiative.recorded_by_phone and not initiative.member_rows and initiative.contact_email
    )


def invite(session: Session, actor: User, initiative: Initiative, *, now: datetime) -> bool:
    """Mail the contact a link to take the initiative over; False if already sent today."""
    if not is_coordinator(actor):
        raise PermissionDenied(_l("Nur die Koordination kann zur Übernahme einladen."))
    if not can_invite(initiative):
        raise TransitionError(
            _l("Diese Initiative hat schon ein Konto oder keine E-Mail-Adresse zum Einladen.")
        )
    token = make_token(TAKEOVER, {"initiative": initiative.id, "email": initiative.contact_email})
    built = mail.build(
        initiative.contact_email,
        "takeover_invitation",
        "de",
        _l("Ihre Anfrage bei der Vernetzerbörse: Jetzt selbst verwalten"),
        name=initiative.contact_name,
        initiative=initiative,
        needs=list(initiative.needs),
        takeover_url=mail.absolute_url("digests.take_over", token=token),
        valid_days=current_app.config["TAKEOVER_MAX_AGE"] // 86400,
    )
    row = mail.queue(session, built, key=f"takeover:{initiative.id}:{now.date().isoformat()}")
    if row is None:
        return False
    initiative.invited_at = now
    audit.record(session, actor, "initiative.invite", "initiative", initiative.id, now=now)
    return True


def read_invitation(session: Session, token: str) -> Initiative:
    """The initiative a take-over link names, while it still waits to be taken over."""
    payload = read_token(TAKEOVER, token, current_app.config["TAKEOVER_MAX_AGE"])
    initiative_id = payload.get("initiative")
    if not isinstance(initiative_id, int) or isinstance(initiative_id, bool):
        raise TokenError()
    initiative = session.get(Initiative, initiative_id)
    if initiative is None or payload.get("email") != initiative.contact_email:
        raise TokenError()  # a newer contact, or taken over already (the contact was erased)
    return initiative


def take_over(session: Session, user: User, initiative: Initiative, *, now: datetime) -> None:
    """The person becomes the initiative's member; the stored phone contact is erased."""
    if initiative.member_rows:
        raise TransitionError(_l("Diese Initiative wurde schon übernommen."))
    others = [i for i in user.initiatives if i.id != initiative.id]
    if others:
        raise TransitionError(
            _l(
                "Sie handeln schon für eine andere Initiative. Bitte melden Sie sich bei der "
                "Koordination, dann finden wir eine Lösung."
            )
        )
    user.add_role(Role.INITIATIVE)
    initiative.member_rows.append(InitiativeMember(user=user, joined_at=now))
    initiative.contact_name = initiative.contact_phone = initiative.contact_email = ""
    initiative.updated_at = now
    audit.record(session, user, "initiative.take_over", "initiative", initiative.id, now=now)
