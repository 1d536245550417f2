"""Errors as application/problem+json (RFC 9457), titled in the caller's language.

Every answer of the API that is not a success goes through here: problems the views
raise, refusals from the services, invalid input, HTTP errors from routing, the size
limit and the rate limiter, and anything unexpected (logged; the caller sees 500 or 503).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from matching.errors import ServiceError
from matching.extensions import db
from matching.main.errors import RETRY_AFTER_SECONDS, database_unreachable, render_error
from matching.reference import UI_LOCALES

PROBLEM_MEDIA_TYPE = "application/problem+json"
API_PREFIX = "/api/"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: object  # a lazy string, rendered in the caller's language
    meaning: str  # for the docs page


PROBLEM_TYPES: dict[str, ProblemType] = {
    t.slug: t
    for t in (
        ProblemType(
            "invalid-json", 400, _l("Ungültiges JSON"), "The body could not be read as JSON."
        ),
        ProblemType("bad-request", 400, _l("Ungültige Anfrage"), "The request is malformed."),
        ProblemType(
            "unauthorized",
            401,
            _l("Anmeldung erforderlich"),
            "No token, or a token that is unknown, revoked or expired.",
        ),
        ProblemType(
            "forbidden",
            403,
            _l("Keine Berechtigung"),
            "The token's account may not do this (wrong role, or not its object).",
        ),
        ProblemType(
            "not-found",
            404,
            _l("Nicht gefunden"),
            "No such resource, or one the caller may not see.",
        ),
        ProblemType(
            "method-not-allowed",
            405,
            _l("Methode nicht erlaubt"),
            "The path exists, but not with this HTTP method (see the Allow header).",
        ),
        ProblemType(
            "conflict",
            409,
            _l("Im jetzigen Zustand nicht möglich"),
            "The object is not in a state that allows this step (any more).",
        ),
        ProblemType(
            "precondition-failed",
            412,
            _l("Inzwischen geändert"),
            "If-Match names an older version: someone changed the object since it was read. "
            "GET it again (its ETag is the current version) and repeat the change.",
        ),
        ProblemType("too-large", 413, _l("Anfrage zu groß"), "The body is larger than the limit."),
        ProblemType(
            "unsupported-media-type",
            415,
            _l("Nur JSON wird angenommen"),
            "A body must be sent as application/json.",
        ),
        ProblemType(
            "invalid-input",
            422,
            _l("Ungültige Eingaben"),
            "The input breaks the schema (see `errors`, one entry per field) or a rule.",
        ),
        ProblemType(
            "too-many-requests",
            429,
            _l("Zu viele Anfragen"),
            "The rate limit is used up; wait for the number of seconds in Retry-After.",
        ),
        ProblemType(
            "server-error",
            500,
            _l("Fehler auf unserer Seite"),
            "Something went wrong on the server; nothing was saved.",
        ),
        ProblemType(
            "unavailable",
            503,
            _l("Gerade nicht erreichbar"),
            "The service is briefly unavailable; try again in a few minutes.",
        ),
    )
}
_BY_STATUS = {t.status: t for t in reversed(PROBLEM_TYPES.values())}

SERVICE_DETAIL_STATUSES = (403, 409, 412, 422)

# German wording for pydantic's error types; the ctx values fill the placeholders.
FIELD_MESSAGES = {
    "missing": _l("Dieses Feld fehlt."),
    "extra_forbidden": _l("Dieses Feld gibt es nicht."),
    "string_type": _l("Bitte geben Sie einen Text an."),
    "string_too_short": _l("Bitte mindestens %(min_length)s Zeichen."),
    "string_too_long": _l("Bitte höchstens %(max_length)s Zeichen."),
    "string_pattern_mismatch": _l("Bitte geben Sie nicht nur Leerzeichen an."),
    "int_type": _l("Bitte geben Sie eine ganze Zahl an."),
    "int_parsing": _l("Bitte geben Sie eine ganze Zahl an."),
    "int_from_float": _l("Bitte geben Sie eine ganze Zahl an."),
    "bool_type": _l("Bitte geben Sie true oder false an."),
    "bool_parsing": _l("Bitte geben Sie true oder false an."),
    "greater_than_equal": _l("Bitte mindestens %(ge)s."),
    "less_than_equal": _l("Bitte höchstens %(le)s."),
    "literal_error": _l("Bitte einen dieser Werte: %(expected)s."),
    "list_type": _l("Bitte geben Sie eine Liste an."),
    "too_short": _l("Bitte mindestens %(min_length)s Einträge."),
    "too_long": _l("Bitte höchstens %(max_length)s Einträge."),
    "date_type": _l("Bitte geben Sie ein Datum an, zum Beispiel 2026-05-31."),
    "date_parsing": _l("Bitte geben Sie ein Datum an, zum Beispiel 2026-05-31."),
    "date_from_datetime_parsing": _l("Bitte geben Sie ein Datum an, zum Beispiel 2026-05-31."),
    "date_from_datetime_inexact": _l("Bitte geben Sie ein Datum an, zum Beispiel 2026-05-31."),
    "datetime_type": _l("Bitte geben Sie einen Zeitpunkt mit Zeitzone an (RFC 3339)."),
    "datetime_parsing": _l("Bitte geben Sie einen Zeitpunkt mit Zeitzone an (RFC 3339)."),
    "datetime_from_date_parsing": _l("Bitte geben Sie einen Zeitpunkt mit Zeitzone an (RFC 3339)."),
    "timezone_aware": _l("Bitte geben Sie einen Zeitpunkt mit Zeitzone an (RFC 3339)."),
    "model_type": _l("Bitte geben Sie ein JSON-Objekt an."),
    "model_attributes_type": _l("Bitte geben Sie ein JSON-Objekt an."),
    "dict_type": _l("Bitte geben Sie ein JSON-Objekt an."),
    "cursor_invalid": _l("Diese Position ist ungültig. Bitte folgen Sie einem next-Link."),
    "datetime_range": _l("Dieser Zeitpunkt liegt außerhalb des möglichen Bereichs."),
    "text_one_line": _l(
        "Bitte schreiben Sie alles in eine Zeile, ohne Zeilenumbruch oder Steuerzeichen."
    ),
    "text_control": _l("Der Text enthält ein unzulässiges Steuerzeichen. Bitte entfernen Sie es."),
}
FALLBACK_FIELD_MESSAGE = _l("Dieser Wert ist ungültig.")


class ApiProblem(Exception):
    """Raised by API code to answer with a problem of the given kind."""

    def __init__(
        self,
        kind: str,
        detail=None,
        *,
        errors: list[dict] | None = None,
        headers: dict | None = None,
    ) -> None:
        super().__init__(kind)
        self.kind = PROBLEM_TYPES[kind]
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def api_locale() -> str:
    """The caller's language from Accept-Language (the API ignores the session)."""
    return request.accept_languages.best_match(UI_LOCALES) or "de"


def type_uri(slug: str) -> str:
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/api/v1/docs#problem-{slug}"


def problem_response(
    kind: ProblemType,
    detail=None,
    *,
    errors: list[dict] | None = None,
    headers: dict | None = None,
) -> Response:
    """The problem+json response; lazy texts are rendered in the caller's language."""
    locale = api_locale()
    with force_locale(locale):
        body = {
            "type": type_uri(kind.slug),
            "title": str(kind.title),
            "status": kind.status,
            "instance": request.path,
        }
        if detail is not None:
            body["detail"] = str(detail)
        if errors is not None:
            body["errors"] = [{**error, "message": str(error["message"])} for error in errors]
    response = Response(
        json.dumps(body, ensure_ascii=False), kind.status, mimetype=PROBLEM_MEDIA_TYPE
    )
    response.headers["Content-Language"] = locale
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _pointer(loc: tuple) -> str:
    # RFC 6901: "~" and "/" inside a name are escaped as ~0 and ~1.
    return "#/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in loc)


def field_errors(error: ValidationError, where: str) -> list[dict]:
    """Each invalid field of a body ("body") or query ("query"), with a message."""
    result = []
    for item in error.errors(include_url=False, include_input=False):
        loc = tuple(item["loc"])
        template = FIELD_MESSAGES.get(item["type"], FALLBACK_FIELD_MESSAGE)
        context = {k: _plain(v) for k, v in (item.get("ctx") or {}).items()}
        entry = {
            "field": ".".join(str(part) for part in loc),
            "code": item["type"],
            "message": _Formatted(template, context),
        }
        if where == "body":
            entry["pointer"] = _pointer(loc)
        result.append(entry)
    return result


def _plain(value) -> str:
    return value if isinstance(value, str | int | float) else str(value)


class _Formatted:
    """A lazy message with placeholders, filled in when rendered in the caller's language."""

    def __init__(self, template, context: dict) -> None:
        self.template = template
        self.context = context

    def __str__(self) -> str:
        text = str(self.template)
        try:
            return text % self.context if self.context else text
        except (KeyError, TypeError, ValueError):
            return text


def _http_problem(error: HTTPException) -> Response:
    code = error.code or 500
    kind = _BY_STATUS.get(code)
    headers = {}
    if code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if kind is None:  # a status we have no type for: RFC 9457's about:blank
        body = {"type": "about:blank", "title": error.name, "status": code}
        return Response(json.dumps(body), code, headers, mimetype=PROBLEM_MEDIA_TYPE)
    if code == 429:
        detail = _l("Bitte warten Sie kurz und versuchen Sie es dann noch einmal.")
        return problem_response(kind, detail, headers=headers)
    return problem_response(kind, headers=headers)


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def register(bp: Blueprint) -> None:
    """Answer every error of the API blueprint (and unknown /api/ paths) with a problem."""

    @bp.errorhandler(ApiProblem)
    def api_problem(error: ApiProblem):
        db.session.rollback()
        return problem_response(
            error.kind, error.detail, errors=error.errors, headers=error.headers
        )

    @bp.errorhandler(ServiceError)
    def service_refused(error: ServiceError):
        db.session.rollback()
        kind = _BY_STATUS[error.status if error.status in SERVICE_DETAIL_STATUSES else 409]
        field = getattr(error, "field", None)
        errors = None
        if field is not None:
            errors = [
                {
                    "field": field,
                    "code": "rule",
                    "message": error.message,
                    "pointer": _pointer((field,)),
                }
            ]
        return problem_response(kind, error.message, errors=errors)

    @bp.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        return _http_problem(error)

    @bp.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        db.session.rollback()
        if database_unreachable(error):
            current_app.logger.error("database unreachable on %s: %s", request.path, error)
            return problem_response(
                PROBLEM_TYPES["unavailable"],
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        current_app.logger.exception("unhandled API error on %s %s", request.method, request.path)
        return problem_response(PROBLEM_TYPES["server-error"])

    # Routing fails before a blueprint is known, so unknown /api/ paths and wrong methods
    # are caught app-wide; every other path keeps the site's friendly error page.
    @bp.app_errorhandler(404)
    @bp.app_errorhandler(405)
    def routing_error(error: HTTPException):
        if is_api_request():
            return _http_problem(error)
        response, status = render_error(error.code)
        if error.code == 405 and error.valid_methods:
            return response, status, {"Allow": ", ".join(error.valid_methods)}
        return response, status
