"""Account operations: register, confirm, authenticate, reset, change e-mail."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching import audit
from matching.api import api_tokens
from matching.auth import sessions
from matching.auth.passwords import hash_password, needs_rehash, verify_password
from matching.models import ConsentRecord, Role, User

SIGNUP_ROLES = (Role.VOLUNTEER, Role.INITIATIVE)


class EmailTaken(Exception):
    """Another account already uses this address."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(session: Session, email: str) -> User | None:
    """The account with this address (case-insensitive), if any."""
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def register(
    session: Session,
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    role: Role | str,
    locale: str,
    privacy_version: str,
    now: datetime,
) -> User:
    """Create an unconfirmed account with one role and the recorded privacy consent."""
    if role not in set(Role):
        raise ValueError(f"unknown role {role!r}")
    if find_by_email(session, email) is not None:
        raise EmailTaken(email)
    user = User(
        email=normalise_email(email),
        password_hash=hash_password(password),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        locale=locale,
        created_at=now,
        privacy_version=privacy_version,
    )
    user.add_role(role)
    session.add(user)
    session.flush()
    session.add(ConsentRecord(user_id=user.id, version=privacy_version, given_at=now))
    audit.record(session, user, "account.register", "user", user.id, detail={"role": role}, now=now)
    return user


def confirm(session: Session, user: User, now: datetime) -> bool:
    """Mark the address confirmed; False when it already was."""
    if user.confirmed_at is not None:
        return False
    user.confirmed_at = now
    audit.record(session, user, "account.confirm", "user", user.id, now=now)
    return True


def authenticate(session: Session, email: str, password: str, now: datetime) -> User | None:
    """The user when the password is right (confirmed or not), else None."""
    user = find_by_email(session, email)
    if user is None:
        # Spend the same time as a real check so timing does not reveal the address.
        verify_password(dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def record_login(session: Session, user: User, now: datetime) -> None:
    user.last_login_at = now
    audit.record(session, user, "account.login", "user", user.id, now=now)


def set_password(
    session: Session, user: User, password: str, now: datetime, *, keep: str | None = None
) -> None:
    """Store a new password, end every other session and revoke every API token.

    ``keep`` is the key of the session that changed the password while logged in.
    """
    user.password_hash = hash_password(password)
    user.session_version += 1
    sessions.end_all(session, user, keep=keep)
    api_tokens.revoke_all(session, user, now=now)
    audit.record(session, user, "account.password", "user", user.id, now=now)


def end_all_sessions(session: Session, user: User, now: datetime) -> None:
    """ "Überall abmelden": every session of the user ends, on every device, and every API
    token: a lost device, or someone else's, may have been used to make one."""
    user.session_version += 1
    sessions.end_all(session, user)
    api_tokens.revoke_all(session, user, now=now)
    audit.record(session, user, "account.logout_everywhere", "user", user.id, now=now)


def request_email_change(session: Session, user: User) -> str:
    """Start a change of address; returns the key that only the newest link carries."""
    user.email_change_key = secrets.token_urlsafe(24)
    return user.email_change_key


def is_current_email_request(user: User, key, from_email) -> bool:
    """True for the newest request, made while the account still had today's address."""
    return (
        isinstance(key, str)
        and user.email_change_key is not None
        and hmac.compare_digest(key, user.email_change_key)
        and from_email == user.email
    )


def stand_in(email: str, locale: str) -> SimpleNamespace:
    """An account that does not exist, to spend the same work on an unknown address."""
    return SimpleNamespace(
        id=0,
        email=normalise_email(email),
        first_name="",
        last_name="",
        locale=locale,
        password_hash=dummy_hash(),
    )


def change_email(session: Session, user: User, new_email: str, now: datetime) -> None:
    """Switch to a confirmed new address; EmailTaken if someone else has it meanwhile."""
    new_email = normalise_email(new_email)
    other = find_by_email(session, new_email)
    if other is not None and other.id != user.id:
        raise EmailTaken(new_email)
    old = user.email
    user.email = new_email
    user.email_change_key = None  # the link worked once; no other link of the request will
    audit.record(
        session,
        user,
        "account.email",
        "user",
        user.id,
        detail={"from": old, "to": new_email},
        now=now,
    )


_DUMMY: dict[str, str] = {}


def dummy_hash() -> str:
    if "hash" not in _DUMMY:
        _DUMMY["hash"] = hash_password("timing-equaliser-not-a-password")
    return _DUMMY["hash"]
