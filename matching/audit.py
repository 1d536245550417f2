"""Writing the audit log."""

from __future__ import annotations

from datetime import datetime

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from matching.database import insert_rows
from matching.models import AuditEntry, User

# Each audit action in the reader's words: the history of a need, "Meine Daten".
ACTION_LABELS = {
    "need.create": _l("Anfrage angelegt"),
    "need.update": _l("Anfrage geändert"),
    "need.publish": _l("Anfrage veröffentlicht"),
    "need.withdraw": _l("Anfrage zurückgezogen"),
    "need.close": _l("Anfrage abgeschlossen"),
    "need.expire": _l("Anfrage abgelaufen"),
    "need.mark_matched": _l("Expert:in gefunden"),
    "need.reopen": _l("Anfrage wieder offen"),
    "match.propose": _l("Vorschlag gemacht"),
    "match.approve": _l("Vorschlag freigegeben"),
    "match.reject": _l("Vorschlag abgelehnt"),
    "match.accept": _l("Expert:in hat zugesagt"),
    "match.decline": _l("Expert:in hat abgesagt"),
    "match.complete": _l("Beratung abgeschlossen"),
    "match.cancel": _l("Vermittlung abgebrochen"),
    "match.feedback": _l("Rückmeldung gegeben"),
    "match.release": _l("Ohne Antwort an andere weitergegeben"),
    "match.remind": _l("Expert:in erinnert"),
    "match.remind_coordinators": _l("Koordination erinnert"),
    "need.pass": _l("Expert:in sagt „Diesmal nicht“"),
    "need.uncovered": _l("Koordination informiert: niemand passt"),
    "need.follow_up": _l("Folge-Anfrage als Entwurf angelegt"),
    "need.record_by_phone": _l("Anfrage am Telefon aufgenommen"),
    "need.mark_advised": _l("Beraten"),
    "match.message": _l("Nachricht geschrieben"),
    "match.volunteer_feedback": _l("Rückblick der Expert:in"),
    "account.register": _l("Konto angelegt"),
    "account.confirm": _l("E-Mail-Adresse bestätigt"),
    "account.consent": _l("Datenschutzerklärung zugestimmt"),
    "account.login": _l("Angemeldet"),
    "account.logout_everywhere": _l("Überall abgemeldet"),
    "account.password": _l("Passwort geändert"),
    "account.email": _l("E-Mail-Adresse geändert"),
    "account.reset_request": _l("Neues Passwort angefordert"),
    "account.erase": _l("Konto gelöscht"),
    "account.purge": _l("Unbestätigtes Konto entfernt"),
    "account.make_admin": _l("Verwaltungsrechte erhalten"),
    "contact.view": _l("Kontaktdaten angesehen"),
    "profile.save": _l("Profil gespeichert"),
    "profile.change": _l("Profil geändert"),
    "profile.approve": _l("Profil freigegeben"),
    "profile.reset_field_feedback": _l("Themen zählen wieder voll"),
    "initiative.create": _l("Initiative angelegt"),
    "initiative.update": _l("Initiative geändert"),
    "initiative.invite": _l("Zur Initiative eingeladen"),
    "initiative.take_over": _l("Initiative übernommen"),
    "initiative.record_by_phone": _l("Initiative am Telefon aufgenommen"),
    "meeting.propose": _l("Zeiten für ein Treffen vorgeschlagen"),
    "meeting.confirm": _l("Treffen vereinbart"),
    "meeting.move": _l("Treffen verschoben"),
    "meeting.cancel": _l("Treffen abgesagt"),
    "meeting.outcome": _l("Gesagt, ob das Treffen stattfand"),
    "meeting.remind": _l("An das Treffen erinnert"),
    "meeting.ask": _l("Gefragt, ob das Treffen stattfand"),
    "material.suggest": _l("Material vorgeschlagen"),
    "material.add": _l("Material hinzugefügt"),
    "material.update": _l("Material geändert"),
    "material.approve": _l("Material freigegeben"),
    "material.reject": _l("Material abgelehnt"),
    "material.remove": _l("Material entfernt"),
    "barrier.report": _l("Barriere gemeldet"),
    "barrier.handled": _l("Barriere-Meldung erledigt"),
    "digest.subscribe": _l("Wöchentliche E-Mail bestellt"),
    "digest.unsubscribe": _l("Wöchentliche E-Mail abbestellt"),
    "user.message_mail": _l("E-Mails zu Nachrichten eingestellt"),
}
# What an audit entry is about, in the reader's words.
OBJECT_LABELS = {
    "need": _l("Anfrage Nr."),
    "match": _l("Vermittlung Nr."),
    "user": _l("Konto"),
    "volunteer_profile": _l("Profil"),
    "initiative": _l("Initiative"),
    "meeting": _l("Treffen Nr."),
    "material": _l("Material"),
    "barrier_report": _l("Barriere-Meldung"),
}


def record(
    session: Session,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: int | None,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    detail: dict | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Add one audit entry to the session (committed with the change it describes)."""
    entry = AuditEntry(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        from_state=from_state,
        to_state=to_state,
        detail=detail,
        ip=request.remote_addr if has_request_context() else None,
    )
    if now is not None:
        entry.at = now
    session.add(entry)
    return entry


def record_many(
    session: Session,
    actor: User | None,
    action: str,
    object_type: str,
    entries: list[dict],
    *,
    now: datetime,
) -> None:
    """Audit entries for many objects at once, in one bulk INSERT: each of ``entries`` holds
    ``object_id`` and optionally ``from_state``, ``to_state`` and ``detail``."""
    if not entries:
        return
    ip = request.remote_addr if has_request_context() else None
    rows = [
        {
            "at": now,
            "actor_id": actor.id if actor is not None else None,
            "action": action,
            "object_type": object_type,
            "object_id": entry["object_id"],
            "from_state": entry.get("from_state"),
            "to_state": entry.get("to_state"),
            "detail": entry.get("detail"),
            "ip": ip,
        }
        for entry in entries
    ]
    insert_rows(session, AuditEntry, rows)
