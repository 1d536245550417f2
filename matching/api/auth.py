"""Bearer tokens for the API; the session cookie is never looked at.

The token is read once per request (the rate limiter needs it before the view runs)
and kept on ``g``. A request without a token is anonymous; a request with a token
that does not authenticate is refused even on public endpoints, so a client notices
at once that its token was revoked or has expired.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l

from matching.api import api_tokens
from matching.api.problems import ApiProblem
from matching.extensions import db
from matching.models import ApiToken, Role, User, utcnow
from matching.permissions import is_coordinator

_REFUSALS = {
    "missing": _l("Bitte senden Sie einen Zugangsschlüssel: Authorization: Bearer …"),
    "malformed": _l("Der Authorization-Kopf muss die Form „Bearer <Schlüssel>“ haben."),
    "unknown": _l("Diesen Zugangsschlüssel gibt es nicht."),
    "revoked": _l("Dieser Zugangsschlüssel wurde widerrufen."),
    "expired": _l("Dieser Zugangsschlüssel ist abgelaufen."),
}


READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token and its user, or nobody; ``refused`` names a bad token."""

    token: ApiToken | None = None
    refused: str | None = None

    @property
    def user(self) -> User | None:
        return self.token.user if self.token else None


def caller() -> Caller:
    """The caller of this request, read from the Authorization header once."""
    if "api_caller" not in g:
        g.api_caller = _read_caller()
    return g.api_caller


def resolved_caller() -> Caller | None:
    """The caller if this request already read it (None when that failed, e.g. no database)."""
    return g.get("api_caller")


def _read_caller() -> Caller:
    header = request.headers.get("Authorization")
    if header is None:
        return Caller()
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return Caller(refused="malformed")
    try:
        token = api_tokens.authenticate(db.session, secret.strip(), utcnow())
    except api_tokens.TokenRefused as refusal:
        return Caller(refused=refusal.reason)
    return Caller(token=token)


def _challenge(reason: str) -> dict:
    if reason == "missing":
        return {"WWW-Authenticate": 'Bearer realm="api"'}
    return {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'}


def refuse_bad_token() -> None:
    """401 when a token was sent but does not authenticate."""
    refused = caller().refused
    if refused:
        raise ApiProblem("unauthorized", _REFUSALS[refused], headers=_challenge(refused))


def require(access: tuple[str, ...] | None) -> User | None:
    """The user behind the token if it may use an endpoint open to ``access``.

    ``None`` is public; ``()`` is any token; otherwise the user needs one of the roles
    (admins pass where coordinators do, as on the pages).
    """
    refuse_bad_token()
    token = caller().token
    if token is not None and token.read_only and request.method not in READING_METHODS:
        raise ApiProblem("forbidden", _l("Dieser Zugangsschlüssel darf nur lesen, nichts ändern."))
    if access is None:
        return caller().user
    user = caller().user
    if user is None:
        raise ApiProblem("unauthorized", _REFUSALS["missing"], headers=_challenge("missing"))
    if access and not any(_holds(user, role) for role in access):
        raise ApiProblem(
            "forbidden", _l("Ihr Konto hat nicht die Rolle, die diese Schnittstelle braucht.")
        )
    return user


def _holds(user: User, role: str) -> bool:
    return is_coordinator(user) if role == Role.COORDINATOR else user.has_role(role)


def record_use() -> None:
    """Write the token's last use, after the request's own transaction has ended.

    A separate short transaction, so that it is kept when the request itself was refused.
    """
    known = resolved_caller()
    token = known.token if known else None
    if token is None:
        return
    try:
        if api_tokens.record_use(token, utcnow()):
            db.session.commit()
    except Exception:  # bookkeeping must never turn an answer into an error
        db.session.rollback()
        current_app.logger.warning("could not record the use of an API token", exc_info=True)
