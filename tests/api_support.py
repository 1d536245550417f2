"""Helpers for the API tests: tokens for users, requests with a token, problem checks."""

from __future__ import annotations

from datetime import timedelta

from matching.api import api_tokens
from matching.extensions import db
from matching.models import utcnow

PROBLEM = "application/problem+json"


def token_for(user, *, name: str = "Test", expires_in: timedelta | None = None) -> str:
    """A fresh token's secret for ``user`` (committed)."""
    now = utcnow()
    expires_at = now + expires_in if expires_in is not None else None
    _token, secret = api_tokens.create_token(db.session, user, name, expires_at, now=now)
    db.session.commit()
    return secret


def bearer(secret: str | None, **headers) -> dict:
    """Request headers with the token (none when ``secret`` is None)."""
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    return headers


def assert_problem(response, status: int, slug: str | None = None) -> dict:
    """The response is problem+json with this status (and type); returns the body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["title"]
    if slug:
        assert body["type"].endswith(f"#problem-{slug}"), body["type"]
    return body


NEED_BODY = {
    "title": "Wie finden wir Mitstreiter:innen?",
    "description": "Wir sind zu dritt.",
    "phases": ["start"],
    "district": "ost",
    "language": "de",
    "formats": ["in_person"],
    "urgency": "normal",
    "experts_wanted": 1,
    "expires_on": None,
}

PROFILE_BODY = {
    "levels": {
        "start": 3,
        "planning": 0,
        "results": 0,
        "cooperation": 2,
        "resources": 0,
        "inclusion": 0,
        "conflicts": 0,
        "exchange": 0,
    },
    "districts": ["ost", "mitte"],
    "whole_city": False,
    "languages": ["de"],
    "formats": ["in_person", "phone"],
    "capacity": 2,
    "paused_until": None,
    "bio": "Ich habe einen Nachbarschaftstreff gegründet.",
    "phone": "0711 123456",
}
