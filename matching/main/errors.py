"""Error pages in the user's language."""

from __future__ import annotations

import math
import time

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: (
        _l("Das hat nicht geklappt"),
        _l(
            "Das hat so nicht funktioniert. Bitte gehen Sie zurück und versuchen Sie es noch einmal."
        ),
    ),
    403: (
        _l("Kein Zugriff"),
        _l("Mit Ihrem Konto können Sie diese Seite nicht öffnen."),
    ),
    404: (
        _l("Seite nicht gefunden"),
        _l("Diese Seite gibt es nicht (mehr). Vielleicht hilft Ihnen die Startseite weiter."),
    ),
    405: (
        _l("So geht das nicht"),
        _l(
            "Diese Seite kann so nicht aufgerufen werden. Bitte nutzen Sie die Knöpfe auf der Seite."
        ),
    ),
    413: (
        _l("Zu viele Daten"),
        _l(
            "Ihre Eingaben waren zu umfangreich. Bitte kürzen Sie sie und versuchen Sie es noch einmal."
        ),
    ),
    429: (
        _l("Zu viele Versuche"),
        _l(
            "Sie haben es in kurzer Zeit sehr oft versucht. Bitte warten Sie ein paar Minuten und versuchen Sie es dann noch einmal."
        ),
    ),
    500: (
        _l("Ein Fehler auf unserer Seite"),
        _l(
            "Etwas ist auf unserer Seite schiefgegangen. Ihre letzte Eingabe wurde nicht gespeichert. Bitte versuchen Sie es in ein paar Minuten noch einmal."
        ),
    ),
    503: (
        _l("Gerade nicht erreichbar"),
        _l(
            "Die Vernetzerbörse ist gerade nicht erreichbar. Bitte versuchen Sie es in ein paar Minuten noch einmal."
        ),
    ),
}

CSRF_MESSAGE = _l(
    "Das Formular war zu lange offen oder wurde schon abgeschickt. "
    "Bitte laden Sie die Seite neu und versuchen Sie es noch einmal."
)


# How long a browser or proxy should wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 30


def render_error(code: int, message=None):
    title, text = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, text=message or text), code


def too_many_attempts():
    """The 429 page, saying how long to wait: until the limit that was hit lets one through."""
    from matching.extensions import limiter

    hit = limiter.current_limit
    if hit is None:  # not from a limit (nothing to say how long): the general words
        return render_error(429)
    seconds = max(1, int(hit.reset_at - time.time()))  # as in Retry-After
    minutes = max(1, math.ceil(seconds / 60))
    text = ngettext(
        "Sie haben es in kurzer Zeit sehr oft versucht. Bitte warten Sie %(num)d Minute "
        "und versuchen Sie es dann noch einmal.",
        "Sie haben es in kurzer Zeit sehr oft versucht. Bitte warten Sie %(num)d Minuten "
        "und versuchen Sie es dann noch einmal.",
        minutes,
    )
    response, status = render_error(429, text)
    return response, status, {"Retry-After": str(seconds)}


def database_unreachable(error: Exception) -> bool:
    """True for errors that mean the database is away (down, restarting, connection lost)."""
    # OperationalError: refused, dropped, restarting; a lost connection can also surface as
    # another DBAPI error, which SQLAlchemy marks as a disconnect.
    if isinstance(error, OperationalError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def render_unavailable():
    """The 503 page, rendered without asking the database anything (not even who is logged in)."""
    from matching.security import forget_user_for_this_request

    forget_user_for_this_request()
    response, status = render_error(503)
    return response, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def register(app: Flask) -> None:
    """Render every HTTP error with the friendly page; never show a stack trace."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        app.logger.info("CSRF check failed: %s", error.description)
        return render_error(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        if code not in MESSAGES:
            return error
        if code == 429:
            return too_many_attempts()
        response, status = render_error(code)
        if code == 405 and error.valid_methods:
            return response, status, {"Allow": ", ".join(error.valid_methods)}
        return response, status

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        from matching.extensions import db

        db.session.rollback()
        if database_unreachable(error):
            app.logger.error(
                "database unreachable on %s %s: %s", request.method, request.path, error
            )
            return render_unavailable()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)

    app.register_error_handler(InternalServerError, lambda e: render_error(500))
