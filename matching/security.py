"""Security headers, the log-in manager and the current user."""

from __future__ import annotations

from flask import Flask, Response, g
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin

from matching.extensions import db, login_manager

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)


def init_app(app: Flask) -> None:
    """Install the response headers and the log-in manager's settings."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Bitte melden Sie sich an, um diese Seite zu sehen.")
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user)
    login_manager.anonymous_user = AnonymousUser

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response


class AnonymousUser(AnonymousUserMixin):
    """A visitor who is not logged in: holds no role, so role checks need no special case."""

    roles: frozenset[str] = frozenset()
    id = None

    def has_role(self, role) -> bool:
        return False


def load_user(session_id: str):
    """Find the user for a session; a changed password ends older sessions."""
    from matching.models import User

    user_id, _, version = session_id.partition(".")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if (
        user is None
        or user.session_version != int(version)
        or not user.is_confirmed
        or not user.is_active  # a disabled account is logged out at its next request
    ):
        return None
    return user


def forget_user_for_this_request() -> None:
    """Serve the rest of this request as a visitor; the session (and so the log-in) stays."""
    # Flask-Login keeps the loaded user in g._login_user and loads only when it is missing:
    # an error page rendered while the database is away must not ask it who is logged in.
    g._login_user = AnonymousUser()
