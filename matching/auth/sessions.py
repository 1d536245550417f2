"""Log-in sessions kept on the server, so that log-out really ends them.

The signed session cookie carries a random key; the database keeps its SHA-256 in
``user_sessions``. Each request is served as the logged-in person only while that row
exists: log-out deletes it, "Überall abmelden", a new password and erasure delete all
of a person's rows, so a copied or replayed cookie is worth nothing afterwards.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from matching.models import User, UserSession

COOKIE_KEY = "sid"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def max_age() -> timedelta:
    """How long a log-in lasts at most before the person logs in again."""
    return timedelta(days=current_app.config["LOGIN_SESSION_MAX_DAYS"])


def start(session: Session, user: User, now: datetime) -> str:
    """A new session for ``user``; returns the key that goes into the cookie."""
    key = secrets.token_urlsafe(32)
    session.add(UserSession(user_id=user.id, key_hash=_hash(key), created_at=now))
    return key


def find_user(session: Session, user_id: int, key, now: datetime) -> User | None:
    """The user of a live session with this key, or None; with their roles, in the same
    statement (every page a logged-in person opens asks for them)."""
    if not isinstance(key, str) or not key:
        return None
    return (
        session.scalars(
            select(User)
            .join(UserSession, UserSession.user_id == User.id)
            .options(joinedload(User.role_rows))
            .where(
                User.id == user_id,
                UserSession.key_hash == _hash(key),
                UserSession.created_at > now - max_age(),
            )
        )
        .unique()
        .first()
    )


def end(session: Session, key) -> None:
    """End one session (log-out)."""
    if isinstance(key, str) and key:
        session.execute(delete(UserSession).where(UserSession.key_hash == _hash(key)))


def end_all(session: Session, user: User, *, keep=None) -> None:
    """End every session of ``user``, except the one with the key ``keep``."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if isinstance(keep, str) and keep:
        query = query.where(UserSession.key_hash != _hash(keep))
    session.execute(query)


def purge_expired(session: Session, now: datetime) -> int:
    """Delete the rows of sessions that have run out; returns how many."""
    result = session.execute(delete(UserSession).where(UserSession.created_at <= now - max_age()))
    return result.rowcount or 0
