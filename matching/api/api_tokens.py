"""Personal API tokens: create (the secret is shown once), revoke, and look one up by its secret.

Only the SHA-256 of a token is stored. A salted slow hash is not needed: the secret is
32 random bytes, so there is nothing to guess, and a lookup must stay one indexed query.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from matching import audit, limits
from matching.database import lock_row
from matching.errors import InvalidInput, PermissionDenied, TransitionError
from matching.models import ApiToken, User

PREFIX = "vb_"
SECRET_RE = re.compile(r"^vb_[A-Za-z0-9_-]{43}$")
MAX_ACTIVE_TOKENS = 10
# Writing last_used_at on every request would turn each read into a write.
USE_RECORDING_INTERVAL = timedelta(minutes=5)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _active_count(session: Session, user: User, now: datetime) -> int:
    return session.scalar(
        select(func.count())
        .select_from(ApiToken)
        .where(
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now),
        )
    )


def create_token(
    session: Session,
    actor: User,
    name: str,
    expires_at: datetime | None,
    *,
    now: datetime,
    read_only: bool = False,
) -> tuple[ApiToken, str]:
    """A new token for the actor; returns it and its secret, which is never stored."""
    name = name.strip()
    if not name or len(name) > limits.TOKEN_NAME_MAX:
        raise InvalidInput(
            _l(
                "Bitte geben Sie einen Namen mit höchstens %(max)d Zeichen an.",
                max=limits.TOKEN_NAME_MAX,
            )
        )
    if expires_at is not None and expires_at <= now:
        raise InvalidInput(_l("Das Ablaufdatum muss in der Zukunft liegen."))
    if _active_count(session, actor, now) >= MAX_ACTIVE_TOKENS:
        raise TransitionError(
            _l(
                "Sie haben schon %(n)d gültige Zugangsschlüssel. Bitte widerrufen Sie zuerst einen.",
                n=MAX_ACTIVE_TOKENS,
            )
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=actor.id,
        name=name,
        prefix=secret[:11],
        secret_hash=hash_secret(secret),
        created_at=now,
        expires_at=expires_at,
        read_only=bool(read_only),
    )
    session.add(token)
    session.flush()
    audit.record(session, actor, "api_token.create", "api_token", token.id, now=now)
    return token, secret


def revoke_token(session: Session, actor: User, token: ApiToken, *, now: datetime) -> ApiToken:
    """The owner ends a token at once."""
    lock_row(session, token)
    if token.user_id != actor.id:
        raise PermissionDenied(_l("Dieser Zugangsschlüssel gehört nicht zu Ihrem Konto."))
    if token.revoked_at is not None:
        raise TransitionError(_l("Dieser Zugangsschlüssel ist schon widerrufen."))
    token.revoked_at = now
    audit.record(session, actor, "api_token.revoke", "api_token", token.id, now=now)
    return token


def revoke_all(session: Session, user: User, *, now: datetime) -> int:
    """End every token of ``user`` (a new password, an erasure); returns how many."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount or 0


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first."""
    return session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    ).all()


class TokenRefused(Exception):
    """A presented secret that does not authenticate: ``reason`` is unknown, revoked or expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def authenticate(session: Session, secret: str, now: datetime) -> ApiToken:
    """The usable token for a secret, or TokenRefused."""
    if not SECRET_RE.match(secret):
        raise TokenRefused("unknown")
    token = session.scalar(select(ApiToken).where(ApiToken.secret_hash == hash_secret(secret)))
    if token is None:
        raise TokenRefused("unknown")
    if token.revoked_at is not None:
        raise TokenRefused("revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRefused("expired")
    user = token.user
    if not user.is_active or not user.is_confirmed:
        raise TokenRefused("unknown")
    return token


def record_use(token: ApiToken, now: datetime) -> bool:
    """Note that the token was used; True when that needs writing (at most every few minutes)."""
    if token.last_used_at is not None and now - token.last_used_at < USE_RECORDING_INTERVAL:
        return False
    token.last_used_at = now
    return True
