"""The OpenAPI 3.1 document, built from the route table and the pydantic models.

Nothing is written twice: paths, methods, parameters, bodies, responses and who may
call what come from the table the views are registered with; the JSON Schema comes
from the same models that validate requests and shape responses.
"""

from __future__ import annotations

import copy
import json

from flask import current_app
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from matching.api.endpoints import ANY_TOKEN, PUBLIC, Endpoint, RouteTable
from matching.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES
from matching.api.schemas import MAX_ID, Problem

PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"

DESCRIPTION = """\
The Vernetzerbörse pairs volunteer networking experts with neighbourhood initiatives
in Stuttgart. This API offers the reference data and the open needs to everyone,
and to holders of a personal token the same operations as the website.

**Tokens.** Create a token on the website under *Mein Konto → API-Zugang für Programme* (in English: *My account → API access for programs*). It is
shown once; send it as `Authorization: Bearer <token>`. A token acts with the roles of
its account (volunteer, initiative, coordinator). Cookies are never read here.

**Errors** are `application/problem+json` (RFC 9457). The `title` is German or
English, following `Accept-Language`; invalid input lists each field in `errors`.

**Rate limits** apply per token (anonymous callers: per address) and are announced in
the `RateLimit` and `RateLimit-Policy` headers; a 429 carries `Retry-After`.

**Bodies** are JSON, at most 64 KB; unknown fields are refused.
"""

TAGS = [
    {"name": "Reference data", "description": "Phases and districts; public."},
    {"name": "Open needs", "description": "Open needs of initiatives; public, no personal data."},
    {
        "name": "Impact",
        "description": "Yearly figures in aggregate, where published; no count below 3.",
    },
    {"name": "Account", "description": "The token's own account."},
    {"name": "Volunteers", "description": "For tokens of volunteers (Vernetzungs-Expert:innen)."},
    {"name": "Initiatives", "description": "For tokens of people acting for an initiative."},
    {"name": "Coordination", "description": "For tokens of coordinators."},
    {"name": "Matches", "description": "The steps of a match; each for the role named."},
]

RESPONSE_NAMES = {
    "invalid-json": "InvalidJson",
    "unauthorized": "Unauthorized",
    "forbidden": "Forbidden",
    "not-found": "NotFound",
    "conflict": "Conflict",
    "precondition-failed": "PreconditionFailed",
    "too-large": "TooLarge",
    "unsupported-media-type": "UnsupportedMediaType",
    "invalid-input": "InvalidInput",
    "too-many-requests": "TooManyRequests",
    "unavailable": "Unavailable",
}
_SLUG_BY_STATUS = {PROBLEM_TYPES[slug].status: slug for slug in RESPONSE_NAMES}

RATE_LIMIT_HEADERS = {
    "RateLimit": {
        "description": 'Remaining requests and seconds until the window resets: `"api";r=57;t=42`.',
        "schema": {"type": "string"},
    },
    "RateLimit-Policy": {
        "description": 'The quota and its window in seconds: `"api";q=120;w=60`.',
        "schema": {"type": "string"},
    },
}
OTHER_HEADERS = {
    "Link": {
        "description": 'The next page, as `<url>; rel="next"` (RFC 8288); absent on the last.',
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": "The object's version; send it back as `If-Match` when you change it.",
        "schema": {"type": "string"},
    },
}
# On every change that can be refused as made against an older version (412).
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The `ETag` of the version you read: the change is made only if the object "
    "is still that version (else 412, and nothing changes). Without it the change is made.",
    "schema": {"type": "string"},
}


def document(table: RouteTable) -> dict:
    """The whole document (built once per application and copied for each caller)."""
    cache = current_app.extensions.setdefault("api_openapi", {})
    if id(table) not in cache:
        cache[id(table)] = build(table)
    return copy.deepcopy(cache[id(table)])


def build(table: RouteTable) -> dict:
    refs, definitions = _schemas(table.endpoints)
    paths: dict[str, dict] = {}
    for ep in table.endpoints:
        paths.setdefault(ep.path, {})[ep.method.lower()] = _operation(ep, refs)
    headers = {**RATE_LIMIT_HEADERS, **OTHER_HEADERS}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vernetzerbörse API",
            "version": "1.0.0",
            "description": DESCRIPTION,
        },
        "servers": [{"url": PREFIX}],
        "tags": TAGS,
        "paths": paths,
        "components": {
            "schemas": definitions,
            "responses": {name: _problem_response(slug) for slug, name in RESPONSE_NAMES.items()},
            "headers": headers,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token from Mein Konto → API-Zugang für Programme (My account → API access for programs).",
                }
            },
        },
    }


def _schemas(endpoints: list[Endpoint]) -> tuple[dict, dict]:
    """JSON Schema for every body (as validated) and response (as serialised) model."""
    pairs: list[tuple[type[BaseModel], str]] = [(Problem, "serialization")]
    for ep in endpoints:
        if ep.body is not None:
            pairs.append((ep.body, "validation"))
        pairs.append((ep.response_model, "serialization"))
    unique = list(dict.fromkeys(pairs))
    refs, top = models_json_schema(unique, ref_template=REF)
    definitions = top.get("$defs", {})
    for schema in definitions.values():
        _drop_titles(schema)
    return refs, definitions


def _drop_titles(schema) -> None:
    """Pydantic titles every property after its name ("Need Id"); they only add noise."""
    if isinstance(schema, dict):
        properties = schema.get("properties", {})
        for sub in properties.values():
            sub.pop("title", None)
        for value in schema.values():
            _drop_titles(value)
    elif isinstance(schema, list):
        for value in schema:
            _drop_titles(value)


def _operation(ep: Endpoint, refs: dict) -> dict:
    operation = {
        "operationId": ep.operation_id,
        "summary": ep.summary,
        "tags": [ep.tag],
        "parameters": _path_parameters(ep)
        + _query_parameters(ep)
        + ([IF_MATCH] if 412 in ep.problems else []),
        "responses": _responses(ep, refs),
        "security": [] if ep.access is PUBLIC else [{"bearerAuth": []}],
    }
    description = ep.description
    who = _who(ep)
    operation["description"] = f"{description}\n\n{who}".strip() if description else who
    if ep.body is not None:
        operation["requestBody"] = {
            "required": ep.body_required,
            "content": {"application/json": {"schema": refs[(ep.body, "validation")]}},
        }
    return operation


def _who(ep: Endpoint) -> str:
    if ep.access is PUBLIC:
        return "Public: no token needed."
    if ep.access == ANY_TOKEN:
        return "Needs a token (any role)."
    roles = " or ".join(ep.access)
    return f"Needs a token of an account with the role {roles}."


def _path_parameters(ep: Endpoint) -> list[dict]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        }
        for name in ep.path_params
    ]


def _query_parameters(ep: Endpoint) -> list[dict]:
    if ep.query is None:
        return []
    schema = ep.query.model_json_schema(mode="validation")
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        prop.pop("title", None)
        description = prop.pop("description", "")
        options = prop.pop("anyOf", None)
        if options:  # "x or null": in a query string, null is simply leaving it out
            prop.update(next(o for o in options if o.get("type") != "null"))
        if "default" in prop and prop["default"] is None:
            del prop["default"]
        parameters.append(
            {
                "name": name,
                "in": "query",
                "required": name in required,
                "description": description,
                "schema": prop,
            }
        )
    return parameters


def _responses(ep: Endpoint, refs: dict) -> dict:
    schema = refs[(ep.response_model, "serialization")]
    if ep.is_list:
        schema = {"type": "array", "items": schema}
    headers = {name: {"$ref": f"#/components/headers/{name}"} for name in RATE_LIMIT_HEADERS}
    for name in ep.headers:
        headers[name] = {"$ref": f"#/components/headers/{name}"}
    responses = {
        str(ep.status): {
            "description": "Created" if ep.status == 201 else "OK",
            "headers": headers,
            "content": {"application/json": {"schema": schema}},
        }
    }
    statuses = {401, 429, 503, *ep.problems}
    if ep.body is not None:
        statuses |= {400, 413, 415, 422}
    if ep.path_params:
        statuses.add(404)
    if ep.access not in (PUBLIC, ANY_TOKEN):
        statuses.add(403)
    for status in sorted(statuses):
        name = RESPONSE_NAMES[_SLUG_BY_STATUS[status]]
        responses[str(status)] = {"$ref": f"#/components/responses/{name}"}
    return responses


def _problem_response(slug: str) -> dict:
    kind = PROBLEM_TYPES[slug]
    response = {
        "description": kind.meaning,
        "headers": {name: {"$ref": f"#/components/headers/{name}"} for name in RATE_LIMIT_HEADERS},
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": REF.format(model="Problem")}}},
    }
    if slug == "too-many-requests":
        response["headers"]["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
    return response


# --- For the docs page --------------------------------------------------------------------


def operations(doc: dict) -> list[dict]:
    """The operations in document order, simplified for the docs page."""
    result = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody")
            result.append(
                {
                    "method": method.upper(),
                    "path": PREFIX + path,
                    "id": op["operationId"],
                    "summary": op["summary"],
                    "description": op["description"],
                    "tag": op["tags"][0],
                    "parameters": [
                        {**p, "type": _type_text(p["schema"])} for p in op["parameters"]
                    ],
                    "body": body
                    and {
                        "required": body["required"],
                        "schema": _type_text(body["content"]["application/json"]["schema"]),
                    },
                    "responses": [
                        _response_text(doc, status, response)
                        for status, response in op["responses"].items()
                    ],
                }
            )
    return result


def _response_text(doc: dict, status: str, response: dict) -> dict:
    if "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    content = response.get("content", {})
    media_type, body = next(iter(content.items()), ("", {}))
    return {
        "status": status,
        "description": response["description"],
        "media_type": media_type,
        "schema": _type_text(body.get("schema", {})),
    }


def _type_text(schema: dict) -> str:
    """A short reading of a schema: "PublicNeed", "array of Match", "integer 1–100"."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return "array of " + _type_text(schema.get("items", {}))
    text = schema.get("type", "any")
    if "format" in schema:
        text += f" ({schema['format']})"
    if "enum" in schema:
        text += ": " + ", ".join(str(v) for v in schema["enum"])
    if "minimum" in schema or "maximum" in schema:
        text += f" {schema.get('minimum', '')}–{schema.get('maximum', '')}"
    if "maxLength" in schema:
        text += f", at most {schema['maxLength']} characters"
    if "default" in schema:
        text += f", default {schema['default']}"
    return text


def pretty_schemas(doc: dict) -> dict[str, str]:
    """Each component schema as indented JSON."""
    return {
        name: json.dumps(schema, indent=2, ensure_ascii=False)
        for name, schema in doc["components"]["schemas"].items()
    }
