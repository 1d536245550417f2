"""Wrong, hostile or stale input to the API: a problem+json answer with the right status,
and every row of every table as it was before."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from api_support import NEED_BODY, PROFILE_BODY, assert_problem, bearer, token_for
from db_state import changed_tables, snapshot
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from matching.api import api_tokens
from matching.models import ApiToken, Match, MatchStatus, NeedStatus, Role, utcnow


@pytest.fixture()
def world(db, make_volunteer, make_initiative, make_need, make_user):
    volunteer = make_volunteer("vera@example.org", districts=("ost",))
    other = make_volunteer("otto@example.org", districts=("ost",), first_name="Otto")
    initiative_a, owner = make_initiative("Nachbarschaft Ost")
    _initiative_b, other_member = make_initiative("Nachbarschaft West", district="west")
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    draft = make_need(initiative_a, status=NeedStatus.DRAFT)
    open_need = make_need(initiative_a)
    approved = Match(need_id=open_need.id, volunteer_id=volunteer.id, status=MatchStatus.APPROVED)
    db.session.add(approved)
    db.session.commit()
    revoked_user = make_user("rev@example.org", roles=(Role.INITIATIVE,))
    revoked = token_for(revoked_user, name="alt")
    api_tokens.revoke_token(
        db.session, revoked_user, db.session.scalar(select(ApiToken)), now=utcnow()
    )
    expired = token_for(owner, name="kurz", expires_in=timedelta(days=1))
    db.session.scalar(select(ApiToken).where(ApiToken.name == "kurz")).expires_at = (
        utcnow() - timedelta(minutes=1)
    )
    db.session.commit()
    tokens = {
        "volunteer": token_for(volunteer.user),
        "other_volunteer": token_for(other.user),
        "owner": token_for(owner),
        "other_member": token_for(other_member),
        "coordinator": token_for(coordinator),
        "revoked": revoked,
        "expired": expired,
    }
    ids = {"draft": draft.id, "open": open_need.id, "approved": approved.id}
    return ids, tokens


JSON = "application/json"
HUGE = json.dumps({**NEED_BODY, "description": "x" * 70_000})

# (caller, method, path, body: dict | str | bytes | None, content type, status, problem type)
CASES = {
    "wrong type: number as text": (
        "volunteer",
        "PUT",
        "/volunteer/profile",
        {**PROFILE_BODY, "capacity": "2"},
        JSON,
        422,
        "invalid-input",
    ),
    "wrong type: text for a list": (
        "owner",
        "POST",
        "/initiative/needs",
        {**NEED_BODY, "phases": "start"},
        JSON,
        422,
        "invalid-input",
    ),
    "wrong type: boolean for a number": (
        "owner",
        "PUT",
        "/initiative/needs/{draft}",
        {**NEED_BODY, "experts_wanted": True},
        JSON,
        422,
        "invalid-input",
    ),
    "unknown code": (
        "owner",
        "POST",
        "/initiative/needs",
        {**NEED_BODY, "district": "atlantis"},
        JSON,
        422,
        "invalid-input",
    ),
    "unknown field": (
        "owner",
        "POST",
        "/initiative/needs",
        {**NEED_BODY, "status": "open"},
        JSON,
        422,
        "invalid-input",
    ),
    "unknown nested field": (
        "volunteer",
        "PUT",
        "/volunteer/profile",
        {**PROFILE_BODY, "levels": {**PROFILE_BODY["levels"], "cooking": 3}},
        JSON,
        422,
        "invalid-input",
    ),
    "missing field": (
        "owner",
        "POST",
        "/initiative/needs",
        {"title": "Nur ein Titel"},
        JSON,
        422,
        "invalid-input",
    ),
    "a date in the past (a service rule)": (
        "owner",
        "POST",
        "/initiative/needs",
        {**NEED_BODY, "expires_on": "2000-01-01"},
        JSON,
        422,
        "invalid-input",
    ),
    "only blanks": (
        "owner",
        "POST",
        "/initiative/needs",
        {**NEED_BODY, "title": "   "},
        JSON,
        422,
        "invalid-input",
    ),
    "a JSON array instead of an object": (
        "owner",
        "POST",
        "/initiative/needs",
        "[1, 2]",
        JSON,
        422,
        "invalid-input",
    ),
    "null body": ("owner", "POST", "/initiative/needs", "null", JSON, 422, "invalid-input"),
    "invalid JSON": (
        "owner",
        "POST",
        "/initiative/needs",
        '{"title": ',
        JSON,
        400,
        "invalid-json",
    ),
    "invalid UTF-8": (
        "owner",
        "POST",
        "/initiative/needs",
        b'{"title": "\xff\xfe"}',
        JSON,
        400,
        "invalid-json",
    ),
    "deeply nested JSON": (
        "owner",
        "POST",
        "/initiative/needs",
        "[" * 5000 + "]" * 5000,
        JSON,
        400,
        "invalid-json",
    ),
    "empty body": ("owner", "POST", "/initiative/needs", "", JSON, 400, "invalid-json"),
    "not JSON": (
        "owner",
        "POST",
        "/initiative/needs",
        "title=Hallo",
        "application/x-www-form-urlencoded",
        415,
        "unsupported-media-type",
    ),
    "huge body": ("owner", "POST", "/initiative/needs", HUGE, JSON, 413, "too-large"),
    "revoked token": ("revoked", "GET", "/initiative/needs", None, None, 401, "unauthorized"),
    "expired token": ("expired", "POST", "/initiative/needs", NEED_BODY, JSON, 401, "unauthorized"),
    "a volunteer on an initiative's endpoint": (
        "volunteer",
        "POST",
        "/initiative/needs",
        NEED_BODY,
        JSON,
        403,
        "forbidden",
    ),
    "an initiative on a coordinator's endpoint": (
        "owner",
        "POST",
        "/matches/{approved}/approve",
        None,
        None,
        403,
        "forbidden",
    ),
    "an initiative accepting for the volunteer": (
        "owner",
        "POST",
        "/matches/{approved}/accept",
        None,
        None,
        403,
        "forbidden",
    ),
    "another initiative's need": (
        "other_member",
        "PUT",
        "/initiative/needs/{draft}",
        NEED_BODY,
        JSON,
        404,
        "not-found",
    ),
    "another initiative's need, withdrawn": (
        "other_member",
        "POST",
        "/initiative/needs/{open}/withdraw",
        {"reason": "weg"},
        JSON,
        404,
        "not-found",
    ),
    "another volunteer's match": (
        "other_volunteer",
        "POST",
        "/matches/{approved}/accept",
        None,
        None,
        404,
        "not-found",
    ),
    "a step the state does not allow": (
        "coordinator",
        "POST",
        "/matches/{approved}/approve",
        None,
        None,
        409,
        "conflict",
    ),
    "publishing an open need": (
        "owner",
        "POST",
        "/initiative/needs/{open}/publish",
        None,
        None,
        409,
        "conflict",
    ),
    "an offer on a draft": (
        "volunteer",
        "POST",
        "/needs/{draft}/offer",
        None,
        None,
        404,
        "not-found",
    ),
    "an id beyond any column": (
        "owner",
        "GET",
        "/initiative/needs/99999999999",
        None,
        None,
        404,
        "not-found",
    ),
    "a query parameter of the wrong type": (
        "volunteer",
        "GET",
        "/volunteer/needs?limit=viele",
        None,
        None,
        422,
        "invalid-input",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input_changes_nothing(client, db, world, case):
    caller, method, path, body, content_type, status, slug = CASES[case]
    ids, tokens = world
    secret = tokens[caller]
    if caller not in ("revoked", "expired"):  # record the token's first use beforehand
        client.get("/api/v1/me", headers=bearer(secret))
    kwargs = {"headers": bearer(secret)}
    if body is not None:
        kwargs["data"] = json.dumps(body) if isinstance(body, dict) else body
        kwargs["content_type"] = content_type
    before = snapshot(db.session)
    response = client.open("/api/v1" + path.format(**ids), method=method, **kwargs)
    assert_problem(response, status, slug)
    db.session.expire_all()
    assert changed_tables(before, snapshot(db.session)) == []


def test_every_invalid_field_is_listed_once(client, world):
    _ids, tokens = world
    body = {**PROFILE_BODY, "capacity": 99, "languages": [], "bio": 5, "extra": 1}
    del body["formats"]
    response = client.put(
        "/api/v1/volunteer/profile", json=body, headers=bearer(tokens["volunteer"])
    )
    errors = assert_problem(response, 422)["errors"]
    assert sorted(e["field"] for e in errors) == [
        "bio",
        "capacity",
        "extra",
        "formats",
        "languages",
    ]
    by_field = {e["field"]: e for e in errors}
    assert by_field["capacity"]["message"] == "Bitte höchstens 10."
    assert by_field["formats"]["code"] == "missing"
    assert by_field["languages"]["pointer"] == "#/languages"


@pytest.mark.parametrize("day", ["2000-01-01", "9999-12-31"])
def test_an_end_date_out_of_range_names_the_field(client, world, day):
    _ids, tokens = world
    response = client.post(
        "/api/v1/initiative/needs",
        json={**NEED_BODY, "expires_on": day},
        headers=bearer(tokens["owner"]),
    )
    errors = assert_problem(response, 422, "invalid-input")["errors"]
    assert [(e["field"], e["pointer"]) for e in errors] == [("expires_on", "#/expires_on")]


@pytest.mark.parametrize("day", ["2000-01-01", "9999-12-31"])
def test_a_pause_out_of_range_names_the_field(client, world, db, day):
    _ids, tokens = world
    client.get("/api/v1/volunteer/profile", headers=bearer(tokens["volunteer"]))  # token used
    before = snapshot(db.session)
    response = client.put(
        "/api/v1/volunteer/profile",
        json={**PROFILE_BODY, "paused_until": day},
        headers=bearer(tokens["volunteer"]),
    )
    errors = assert_problem(response, 422, "invalid-input")["errors"]
    assert [(e["field"], e["pointer"]) for e in errors] == [("paused_until", "#/paused_until")]
    db.session.expire_all()
    assert changed_tables(before, snapshot(db.session)) == []


def test_the_body_limit_holds_without_a_content_length(client, world):
    """A chunked body is cut off at the limit too."""
    _ids, tokens = world
    response = client.post(
        "/api/v1/initiative/needs",
        input_stream=io.BytesIO(b"x" * 100 * 1024),
        headers={**bearer(tokens["owner"]), "Transfer-Encoding": "chunked"},
        content_type=JSON,
        # What a server such as gunicorn says for a chunked body it has de-chunked.
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_problem(response, 413, "too-large")


def _outage(*args, **kwargs):
    raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database is away"))


def test_database_outage_is_503_not_500(client, world, monkeypatch):
    _ids, tokens = world
    monkeypatch.setattr(api_tokens, "authenticate", _outage)
    response = client.get("/api/v1/me", headers=bearer(tokens["volunteer"]))
    assert_problem(response, 503, "unavailable")
    assert response.headers["Retry-After"]


def test_database_outage_inside_a_view_is_503(client, monkeypatch):
    from matching.needs import queries

    monkeypatch.setattr(queries, "open_needs_page", _outage)
    assert_problem(client.get("/api/v1/needs"), 503, "unavailable")
