"""Writing the audit log."""

from __future__ import annotations

from datetime import datetime

from flask import has_request_context, request
from sqlalchemy.orm import Session

from matching.database import insert_rows
from matching.models import AuditEntry, User


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
