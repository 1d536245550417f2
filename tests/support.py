"""Helpers shared by the tests: form payloads, CSRF-aware posting, log-in actions.

Kept out of conftest.py so that test modules import them by a unique module name.
"""

from __future__ import annotations

import contextvars
import re

from flask.testing import FlaskClient

from matching.reference import PHASE_CODES

DEFAULT_PASSWORD = "ein langer Satz als Passwort"
CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


class IsolatedClient(FlaskClient):
    """Runs each request outside the test's app context, as a real server would.

    Otherwise a request reuses the test's app context, and with it ``g`` and the
    scoped session, which hides bugs (a CSRF token cached in ``g`` is one).
    """

    def open(self, *args, **kwargs):
        # Buffered, as a server sends the whole answer and then closes it: work a page does
        # after its answer (response.call_on_close) has happened when the test goes on.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token from the form on ``path``."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def post_form(
    client: FlaskClient, path: str, data: dict, *, token_from: str | None = None, **kwargs
):
    """POST ``data`` to ``path`` with a valid CSRF token taken from the page, like a browser."""
    payload = {"csrf_token": csrf_token(client, token_from or path), **data}
    return client.post(path, data=payload, **kwargs)


class AuthActions:
    """Log in and out through the real pages."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, email: str, password: str = DEFAULT_PASSWORD):
        return post_form(self.client, "/anmelden", {"email": email, "password": password})

    def logout(self):
        return post_form(self.client, "/abmelden", {}, token_from="/")


PROFILE_FORM = {
    **{f"level_{code}": "0" for code in PHASE_CODES},
    "level_start": "3",
    "level_cooperation": "2",
    "districts": ["ost", "mitte"],
    "languages": ["de"],
    "formats": ["in_person", "phone"],
    "capacity": "2",
    "paused_until": "",
    "bio": "Ich habe einen Nachbarschaftstreff gegründet.",
    "phone": "0711 123456",
}

NEED_FORM = {
    "title": "Wie finden wir Mitstreiter:innen?",
    "description": "Wir sind zu dritt und suchen mehr Leute.",
    "phases": ["start"],
    "district": "ost",
    "language": "de",
    "formats": ["in_person"],
    "urgency": "normal",
    "experts_wanted": "1",
    "expires_on": "",
}
