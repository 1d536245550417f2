"""Security headers, the log-in manager and the current user."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, Response, g, request, session
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin

from matching.extensions import db, login_manager

QUERY_CONTROL_MESSAGE = _l(
    "Die Adresse enthält ein unzulässiges Zeichen. Bitte gehen Sie zurück und "
    "versuchen Sie es noch einmal."
)

FORM_ENCODING_MESSAGE = _l(
    "Das Formular enthält Zeichen, die wir nicht lesen können. Bitte gehen Sie zurück, "
    "prüfen Sie den Text und schicken Sie ihn noch einmal."
)

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

    @app.before_request
    def refuse_nul_in_query():
        """A NUL byte in the query string (PostgreSQL refuses it in any text) changes nothing.

        Other control characters are harmless here: nothing stores a query parameter, and
        safe_next() refuses them in a return address.
        """
        if request.path.startswith("/api/"):  # the API answers with a problem of its own
            return None
        for key, value in request.args.items(multi=True):
            if "\x00" in key or "\x00" in value:
                from matching.main.errors import render_error

                return render_error(400, QUERY_CONTROL_MESSAGE)
        return None

    def refuse_undecodable_form():
        """A form whose text is not UTF-8 (only a crafted request sends one) changes nothing
        and says so. Werkzeug keeps "%FF" as the literal text "%FF", and a raw byte breaks the
        whole body, which then looked like a form sent twice; so this runs before the CSRF
        check, and the API answers with a problem of its own."""
        if (
            request.method != "POST"
            or request.mimetype != "application/x-www-form-urlencoded"
            or request.path.startswith("/api/")
        ):
            return None
        try:
            for pair in request.get_data(cache=True).split(b"&"):  # the form is parsed from it
                unquote_to_bytes(pair.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            from matching.main.errors import render_error

            return render_error(400, FORM_ENCODING_MESSAGE)
        return None

    app.before_request_funcs.setdefault(None, []).insert(0, refuse_undecodable_form)

    @app.after_request
    def keep_personal_pages_out_of_caches(response: Response) -> Response:
        """No browser or proxy cache keeps a page for a logged-in person or from a mail link."""
        if request.endpoint == "static" or "no-store" in response.headers.get("Cache-Control", ""):
            return response
        # Who is logged in is read from the session, not the database: this runs on error
        # pages too, when the database may be away.
        logged_in = "_user_id" in session or getattr(g.get("_login_user"), "id", None)
        from_mail_link = bool(request.view_args and "token" in request.view_args)
        if logged_in or from_mail_link:
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response

    @app.after_request
    def leave_the_date_to_the_server(response: Response) -> Response:
        """No ``Date`` header from the app: the HTTP server always sends its own.

        Werkzeug's ``make_conditional`` (the Atom feeds, ``send_file`` for the toolkit's PDFs
        and the static files) adds one when there is none. gunicorn drops it and sends its
        own, but Werkzeug's development server (``flask run``) sends both, 304s included.
        """
        response.headers.pop("Date", None)
        return response

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
    """Find the user for a session that the server still knows; a new password ends the rest."""
    from matching.auth import sessions
    from matching.models import utcnow

    user_id, _, version = session_id.partition(".")
    if not (user_id.isascii() and user_id.isdigit() and version.isascii() and version.isdigit()):
        return None
    if len(user_id) > 10:
        return None
    user = sessions.find_user(db.session, int(user_id), session.get(sessions.COOKIE_KEY), utcnow())
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
