"""Signed, expiring, single-purpose tokens for links in mail."""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class TokenError(Exception):
    """The token is forged, damaged, for another purpose or expired."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"vernetzer.{purpose}")


def make_token(purpose: str, payload: dict[str, Any]) -> str:
    """Sign ``payload`` for one purpose (the purpose is part of the signature)."""
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age: int) -> dict[str, Any]:
    """The payload of a valid token, or TokenError."""
    if not token or len(token) > 2000:
        raise TokenError()
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError(expired=True) from exc
    except BadSignature as exc:
        raise TokenError() from exc
    if not isinstance(payload, dict):
        raise TokenError()
    return payload
