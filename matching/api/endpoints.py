"""The API's route table: each endpoint declared once, with its access, input and output.

``RouteTable.endpoint`` registers a view on the blueprint and records what the OpenAPI
document needs; the wrapper around every view checks the token and the role, parses
the query and the body into their models (problem+json when that fails), calls the
view in the caller's language and turns the model it returns into JSON.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from flask import Blueprint, Response, json, request
from flask_babel import force_locale
from pydantic import BaseModel, TypeAdapter, ValidationError

from matching.api import auth
from matching.api.problems import ApiProblem, api_locale, field_errors
from matching.api.schemas import MAX_ID

PUBLIC = None  # no token needed
ANY_TOKEN: tuple[str, ...] = ()  # any valid token
JSON_TYPES = ("application/json",)
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # OpenAPI form below the prefix, e.g. "/needs/{need_id}"
    view: Callable
    tag: str
    access: tuple[str, ...] | None
    response: Any  # a model or list[model]
    status: int = 200
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_required: bool = True
    problems: tuple[int, ...] = ()  # statuses beyond those every endpoint can answer
    headers: tuple[str, ...] = ()  # documented response headers (e.g. Link)

    @property
    def summary(self) -> str:
        """The first line of the view's docstring."""
        return (self.view.__doc__ or "").strip().splitlines()[0]

    @property
    def description(self) -> str:
        """The rest of the view's docstring."""
        lines = (self.view.__doc__ or "").strip().splitlines()[1:]
        return inspect.cleandoc("\n".join(lines)) if lines else ""

    @property
    def operation_id(self) -> str:
        return self.view.__name__

    @property
    def path_params(self) -> list[str]:
        return _PARAM.findall(self.path)

    @property
    def is_list(self) -> bool:
        return typing.get_origin(self.response) is list

    @property
    def response_model(self) -> type[BaseModel]:
        return typing.get_args(self.response)[0] if self.is_list else self.response


@dataclass
class RouteTable:
    blueprint: Blueprint
    endpoints: list[Endpoint] = field(default_factory=list)

    def endpoint(self, method: str, path: str, **spec) -> Callable:
        """Declare a view: ``@table.endpoint("GET", "/needs/{need_id}", response=..., ...)``."""

        def decorator(view: Callable) -> Callable:
            ep = Endpoint(method=method, path=path, view=view, **spec)
            self.endpoints.append(ep)
            # Plain int: the range is checked in dispatch, so a huge id is a 404 for every
            # method (a converter that refuses it makes the router answer 405 instead).
            rule = _PARAM.sub(r"<int:\1>", path)
            self.blueprint.add_url_rule(
                rule, endpoint=view.__name__, view_func=_dispatcher(ep), methods=[method]
            )
            return view

        return decorator


def _dispatcher(ep: Endpoint) -> Callable:
    def dispatch(**path_values):
        user = auth.require(ep.access)
        if not all(1 <= value <= MAX_ID for value in path_values.values()):
            raise ApiProblem("not-found")
        kwargs = dict(path_values)
        if ep.access is not PUBLIC:
            kwargs["user"] = user
        if ep.query is not None:
            kwargs["query"] = parse_query(ep.query)
        if ep.body is not None:
            kwargs["body"] = parse_body(ep.body, required=ep.body_required)
        with force_locale(api_locale()):
            result = ep.view(**kwargs)
        headers = {}
        if isinstance(result, tuple):
            result, headers = result
        return json_response(
            _adapter(ep.response).dump_python(result, mode="json"), ep.status, headers
        )

    dispatch.__name__ = ep.view.__name__
    dispatch.__doc__ = ep.view.__doc__
    return dispatch


@cache
def _adapter(kind) -> TypeAdapter:
    return TypeAdapter(kind)


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False), status, headers or {}, mimetype="application/json"
    )


def parse_query(model: type[BaseModel]) -> BaseModel:
    """The query string as the model; 422 listing each bad parameter."""
    try:
        return model.model_validate(request.args.to_dict(flat=True))
    except ValidationError as error:
        raise ApiProblem("invalid-input", errors=field_errors(error, "query")) from None


def parse_body(model: type[BaseModel], *, required: bool) -> BaseModel:
    """The JSON body as the model: 415 for another type, 400 for broken JSON, 422 per field.

    Reading the body enforces the request's size limit (413).
    """
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # A streamed body without Content-Length is cut at the limit rather than refused.
        raise ApiProblem("too-large")
    if not raw and not required:
        return model()
    if request.mimetype not in JSON_TYPES and not request.mimetype.endswith("+json"):
        raise ApiProblem("unsupported-media-type")
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        if any(e["type"] == "json_invalid" for e in error.errors()):
            raise ApiProblem("invalid-json") from None
        raise ApiProblem("invalid-input", errors=field_errors(error, "body")) from None
