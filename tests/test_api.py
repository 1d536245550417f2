"""The JSON API: public data, each role's operations through the services, tokens,
problem+json in two languages, rate limits, and the OpenAPI document and docs page."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from api_support import NEED_BODY, PROFILE_BODY, assert_problem, bearer, token_for
from sqlalchemy import func, select
from support import DEFAULT_PASSWORD

from matching.api import api_tokens
from matching.extensions import db as _db
from matching.models import (
    ApiToken,
    AuditEntry,
    Match,
    MatchOrigin,
    MatchStatus,
    Need,
    NeedStatus,
    ProfileStatus,
    Role,
    utcnow,
)
from matching.reference import DISTRICT_CODES, PHASE_CODES


@pytest.fixture()
def volunteer(make_volunteer):
    profile = make_volunteer("vera@example.org", districts=("ost",))
    return profile, token_for(profile.user)


@pytest.fixture()
def initiative(make_initiative):
    initiative, member = make_initiative("Nachbarschaft Ost")
    return initiative, token_for(member)


@pytest.fixture()
def coordinator(make_user):
    user = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    return user, token_for(user)


# --- Public --------------------------------------------------------------------------------


def test_phases_and_districts_are_public_reference_data(client):
    phases = client.get("/api/v1/phases").get_json()
    assert [p["code"] for p in phases] == list(PHASE_CODES)
    assert phases[0]["label_de"] == "Start / Akquise"
    assert phases[0]["label_en"] == "Start / acquisition"
    districts = {d["code"]: d for d in client.get("/api/v1/districts").get_json()}
    assert set(districts) == set(DISTRICT_CODES)
    assert "ost" in districts["mitte"]["neighbours"]
    for code, district in districts.items():  # the relation is symmetric in the API too
        for other in district["neighbours"]:
            assert code in districts[other]["neighbours"]


def test_open_needs_list_has_no_personal_data(client, make_initiative, make_need):
    initiative, member = make_initiative()
    open_need = make_need(initiative, title="Offen")
    make_need(initiative, status=NeedStatus.DRAFT, title="Entwurf")
    make_need(initiative, status=NeedStatus.CLOSED, title="Zu")
    response = client.get("/api/v1/needs")
    assert response.status_code == 200
    page = response.get_json()
    assert [n["title"] for n in page["items"]] == ["Offen"]
    assert page["next"] is None
    item = page["items"][0]
    assert item["id"] == open_need.id
    assert item["initiative"] == {
        "name": "Nachbarschaft Ost",
        "district": "ost",
        "sub_district": "",
    }
    assert item["url"] == f"http://localhost/anfragen/{open_need.id}"
    text = response.get_data(as_text=True)
    assert member.email not in text and "@" not in text
    assert "created_by" not in text and "Muster" not in text


def test_open_needs_filters(client, make_initiative, make_need):
    initiative, _ = make_initiative()
    start = make_need(initiative, phases=("start",), district="ost", title="A")
    make_need(initiative, phases=("conflicts",), district="west", title="B")

    def titles(query):
        return [n["title"] for n in client.get("/api/v1/needs" + query).get_json()["items"]]

    assert titles("?phase=start") == ["A"]
    assert titles("?district=west") == ["B"]
    assert titles("?phase=start&district=west") == []
    later = (start.updated_at + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    assert titles("?updated_since=" + later) == []
    earlier = (start.updated_at - timedelta(days=1)).isoformat().replace("+", "%2B")
    assert sorted(titles("?updated_since=" + earlier)) == ["A", "B"]


def test_open_needs_unknown_filter_values_are_422_with_the_field(client):
    body = assert_problem(client.get("/api/v1/needs?phase=nope&limit=0"), 422, "invalid-input")
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"phase", "limit"}
    assert all("pointer" not in e for e in body["errors"])
    naive = assert_problem(client.get("/api/v1/needs?updated_since=2026-01-01T00:00:00"), 422)
    assert naive["errors"][0]["field"] == "updated_since"
    unknown = assert_problem(client.get("/api/v1/needs?page=2"), 422)
    assert unknown["errors"][0]["code"] == "extra_forbidden"


def test_cursor_pagination_walks_every_open_need_once(client, make_initiative, make_need):
    initiative, _ = make_initiative()
    now = utcnow()
    made = [
        make_need(initiative, title=f"N{i}", published_at=now - timedelta(minutes=i % 3))
        for i in range(7)
    ]
    seen, url, pages = [], "/api/v1/needs?limit=3&phase=start", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.get_json()
        seen += [n["id"] for n in page["items"]]
        pages += 1
        if page["next"]:
            assert response.headers["Link"] == f'<{page["next"]}>; rel="next"'
            parts = urlsplit(page["next"])
            assert parse_qs(parts.query)["phase"] == ["start"]  # filters are kept
            url = parts.path + "?" + parts.query
        else:
            assert "Link" not in response.headers
            url = None
    assert pages == 3
    assert sorted(seen) == sorted(n.id for n in made)
    assert len(seen) == len(set(seen))
    # Newest publication first, then the higher id.
    by_id = {n.id: n for n in made}
    keys = [(by_id[i].published_at, i) for i in seen]
    assert keys == sorted(keys, reverse=True)


def test_a_damaged_cursor_is_422_for_that_field(client):
    for bad in ("abc", "W10", "WyIyMDI2LTAxLTAxIiwgMV0", "%00"):
        body = assert_problem(client.get(f"/api/v1/needs?cursor={bad}"), 422)
        assert body["errors"][0]["field"] == "cursor"
        assert body["errors"][0]["code"] == "cursor_invalid"


def test_needs_list_runs_a_fixed_number_of_queries(
    client, make_initiative, make_need, count_queries
):
    initiative, _ = make_initiative()
    for i in range(3):
        make_need(initiative, title=f"N{i}")
    with count_queries() as few:
        client.get("/api/v1/needs")
    for i in range(10):
        make_need(initiative, title=f"M{i}")
    with count_queries() as many:
        client.get("/api/v1/needs")
    assert len(many) == len(few) <= 3


def test_one_open_need_and_hidden_states(client, make_initiative, make_need):
    initiative, _ = make_initiative()
    need = make_need(initiative)
    draft = make_need(initiative, status=NeedStatus.DRAFT)
    assert client.get(f"/api/v1/needs/{need.id}").get_json()["id"] == need.id
    assert_problem(client.get(f"/api/v1/needs/{draft.id}"), 404, "not-found")
    assert_problem(client.get("/api/v1/needs/99999"), 404)
    assert_problem(client.get("/api/v1/needs/abc"), 404)
    assert_problem(client.get(f"/api/v1/needs/{2**40}"), 404)


# --- Tokens and the session ------------------------------------------------------------


def test_me_and_the_token_is_stored_hashed(client, volunteer):
    profile, secret = volunteer
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200
    me = response.get_json()
    assert me["roles"] == ["volunteer"]
    assert me["token"]["name"] == "Test"
    assert response.headers["Cache-Control"] == "no-store"
    stored = _db.session.scalar(select(ApiToken).where(ApiToken.user_id == profile.user_id))
    assert stored.secret_hash == api_tokens.hash_secret(secret)
    assert secret not in (stored.secret_hash, stored.prefix) and secret.startswith(stored.prefix)
    _db.session.refresh(stored)
    assert stored.last_used_at is not None


def test_last_use_is_written_at_most_every_few_minutes(client, volunteer, db):
    _profile, secret = volunteer
    client.get("/api/v1/me", headers=bearer(secret))
    token = db.session.scalar(select(ApiToken))
    first = token.last_used_at
    client.get("/api/v1/me", headers=bearer(secret))
    db.session.refresh(token)
    assert token.last_used_at == first


@pytest.mark.parametrize(
    "header",
    [
        "Bearer vb_" + "x" * 43,  # well-formed, unknown
        "Bearer nonsense",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "Bearer " + "a" * 5000,
    ],
)
def test_bad_tokens_are_401_also_on_public_endpoints(client, header):
    for path in ("/api/v1/me", "/api/v1/phases"):
        response = client.get(path, headers={"Authorization": header})
        assert_problem(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_token_is_401_with_a_challenge(client):
    response = client.get("/api/v1/volunteer/profile")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_revoked_and_expired_tokens_are_refused(client, volunteer, db):
    profile, secret = volunteer
    token = db.session.scalar(select(ApiToken))
    api_tokens.revoke_token(db.session, profile.user, token, now=utcnow())
    db.session.commit()
    body = assert_problem(client.get("/api/v1/me", headers=bearer(secret)), 401)
    assert "widerrufen" in body["detail"]
    assert (
        'error="invalid_token"'
        in client.get("/api/v1/me", headers=bearer(secret)).headers["WWW-Authenticate"]
    )
    expiring = token_for(profile.user, expires_in=timedelta(seconds=1))
    row = db.session.scalar(select(ApiToken).order_by(ApiToken.id.desc()))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    body = assert_problem(client.get("/api/v1/me", headers=bearer(expiring)), 401)
    assert "abgelaufen" in body["detail"]


def test_a_disabled_account_loses_api_access(client, volunteer, db):
    profile, secret = volunteer
    profile.user.disabled_at = utcnow()
    db.session.commit()
    assert_problem(client.get("/api/v1/me", headers=bearer(secret)), 401)


def test_the_session_cookie_never_authenticates(client, auth, make_volunteer):
    make_volunteer("vera@example.org")
    auth.login("vera@example.org", DEFAULT_PASSWORD)
    assert client.get("/uebersicht").status_code == 200  # the browser session works
    response = client.get("/api/v1/volunteer/profile")
    assert_problem(response, 401)
    assert "Set-Cookie" not in response.headers


def test_the_api_never_loads_the_sessions_user(client, auth, app, make_volunteer, monkeypatch):
    profile = make_volunteer("vera@example.org")
    secret = token_for(profile.user)
    auth.login("vera@example.org", DEFAULT_PASSWORD)

    def refuse(session_id):
        raise AssertionError("the API read the session to load a user")

    monkeypatch.setattr(app.login_manager, "_user_callback", refuse)
    for path in ("/api/v1/docs", "/api/v1/phases", "/api/v1/nowhere", "/api/v1/openapi.json"):
        assert client.get(path).status_code in (200, 404)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    assert_problem(client.get("/api/v1/me"), 401)


def test_writes_need_no_csrf_token(client, initiative):
    _initiative, secret = initiative
    response = client.post("/api/v1/initiative/needs", json=NEED_BODY, headers=bearer(secret))
    assert response.status_code == 201, response.get_data(as_text=True)


# --- Volunteers --------------------------------------------------------------------------


def test_volunteer_profile_read_and_replace(client, make_user):
    user = make_user("neu@example.org", roles=(Role.VOLUNTEER,))
    secret = token_for(user)
    assert_problem(client.get("/api/v1/volunteer/profile", headers=bearer(secret)), 404)
    response = client.put("/api/v1/volunteer/profile", json=PROFILE_BODY, headers=bearer(secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    saved = response.get_json()
    assert saved["status"] == ProfileStatus.PENDING
    assert saved["levels"]["start"] == 3
    assert saved["districts"] == ["mitte", "ost"]
    assert saved["phone"] == "0711 123456"
    again = client.get("/api/v1/volunteer/profile", headers=bearer(secret)).get_json()
    assert again == saved


def test_volunteer_profile_service_rules_answer_422(client, make_user):
    user = make_user(roles=(Role.VOLUNTEER,))
    secret = token_for(user)
    nothing = {**PROFILE_BODY, "levels": dict.fromkeys(PROFILE_BODY["levels"], 0)}
    body = assert_problem(
        client.put("/api/v1/volunteer/profile", json=nothing, headers=bearer(secret)), 422
    )
    assert "mindestens ein Thema" in body["detail"]


def test_ranked_needs_with_score_and_explanation(client, volunteer, make_initiative, make_need):
    _profile, secret = volunteer
    initiative, _ = make_initiative()
    need = make_need(initiative, phases=("start",), district="ost")
    ranked = client.get("/api/v1/volunteer/needs", headers=bearer(secret)).get_json()
    assert ranked["profile_status"] == "approved"
    [item] = ranked["items"]
    assert item["need"]["id"] == need.id
    assert 0 < item["score"] <= 1
    names = {part["name"] for part in item["explanation"]}
    assert {"phase", "place"} <= names
    assert all(part["de"] and part["en"] for part in item["explanation"])


def test_ranked_needs_are_empty_until_approved(client, make_volunteer):
    profile = make_volunteer(status=ProfileStatus.PENDING)
    secret = token_for(profile.user)
    ranked = client.get("/api/v1/volunteer/needs", headers=bearer(secret)).get_json()
    assert ranked == {"profile_status": "pending", "items": []}


def test_the_match_chain_offer_approve_accept_complete(
    client, volunteer, coordinator, make_initiative, make_need, mailbox
):
    _profile, v_secret = volunteer
    _coordinator, c_secret = coordinator
    initiative, member = make_initiative()
    i_secret = token_for(member)
    need = make_need(initiative, phases=("start",), district="ost")

    offer = client.post(f"/api/v1/needs/{need.id}/offer", headers=bearer(v_secret))
    assert offer.status_code == 201, offer.get_data(as_text=True)
    match = offer.get_json()
    assert match["origin"] == MatchOrigin.OFFER and match["status"] == MatchStatus.PROPOSED
    assert match["score"] is not None and match["explanation"]

    again = client.post(f"/api/v1/needs/{need.id}/offer", headers=bearer(v_secret))
    assert_problem(again, 409, "conflict")

    queue = client.get("/api/v1/coordination/queue", headers=bearer(c_secret)).get_json()
    assert [item["match"]["id"] for item in queue] == [match["id"]]
    assert queue[0]["volunteer"]["first_name"] == "Vera"

    approved = client.post(f"/api/v1/matches/{match['id']}/approve", headers=bearer(c_secret))
    assert approved.get_json()["status"] == MatchStatus.APPROVED
    seen = client.get(f"/api/v1/matches/{match['id']}", headers=bearer(i_secret))
    assert seen.get_json()["status"] == MatchStatus.APPROVED
    accepted = client.post(f"/api/v1/matches/{match['id']}/accept", headers=bearer(v_secret))
    assert accepted.get_json()["status"] == MatchStatus.ACCEPTED
    _db.session.expire_all()
    assert _db.session.get(Need, need.id).status == NeedStatus.MATCHED
    done = client.post(f"/api/v1/matches/{match['id']}/complete", headers=bearer(v_secret))
    assert done.get_json()["status"] == MatchStatus.COMPLETED
    mine = client.get("/api/v1/volunteer/matches", headers=bearer(v_secret)).get_json()
    assert [m["status"] for m in mine] == [MatchStatus.COMPLETED]
    actions = _db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "match")
    ).all()
    assert {"match.propose", "match.approve", "match.accept", "match.complete"} <= set(actions)
    assert mailbox  # the same notifications as the pages


def test_decline_with_an_optional_reason(
    client, volunteer, coordinator, make_initiative, make_need
):
    profile, v_secret = volunteer
    initiative, _ = make_initiative()
    need = make_need(initiative)
    match = Match(need_id=need.id, volunteer_id=profile.id, status=MatchStatus.APPROVED)
    _db.session.add(match)
    _db.session.commit()
    response = client.post(
        f"/api/v1/matches/{match.id}/decline",
        json={"reason": "Keine Zeit"},
        headers=bearer(v_secret),
    )
    assert response.get_json()["status"] == MatchStatus.DECLINED
    assert response.get_json()["reason"] == "Keine Zeit"


def test_reject_needs_a_reason(client, volunteer, coordinator, make_initiative, make_need):
    profile, _ = volunteer
    _c, c_secret = coordinator
    initiative, _ = make_initiative()
    need = make_need(initiative)
    match = Match(need_id=need.id, volunteer_id=profile.id, status=MatchStatus.PROPOSED)
    _db.session.add(match)
    _db.session.commit()
    url = f"/api/v1/matches/{match.id}/reject"
    body = assert_problem(client.post(url, json={}, headers=bearer(c_secret)), 422)
    assert body["errors"][0]["field"] == "reason"
    assert body["errors"][0]["pointer"] == "#/reason"
    done = client.post(url, json={"reason": "Passt nicht"}, headers=bearer(c_secret))
    assert done.get_json()["status"] == MatchStatus.REJECTED


# --- Initiatives -------------------------------------------------------------------------


def test_initiative_need_life_cycle(client, initiative):
    _initiative, secret = initiative
    created = client.post("/api/v1/initiative/needs", json=NEED_BODY, headers=bearer(secret))
    assert created.status_code == 201
    need = created.get_json()
    assert need["status"] == NeedStatus.DRAFT
    url = f"/api/v1/initiative/needs/{need['id']}"
    assert_problem(client.get(f"/api/v1/needs/{need['id']}"), 404)  # a draft is not public

    changed = client.put(url, json={**NEED_BODY, "title": "Neu"}, headers=bearer(secret))
    assert changed.get_json()["title"] == "Neu"
    published = client.post(url + "/publish", headers=bearer(secret)).get_json()
    assert published["status"] == NeedStatus.OPEN and published["published_at"]
    assert client.get(f"/api/v1/needs/{need['id']}").status_code == 200
    assert_problem(client.post(url + "/publish", headers=bearer(secret)), 409, "conflict")

    withdrawn = client.post(url + "/withdraw", json={"reason": "Erledigt"}, headers=bearer(secret))
    assert withdrawn.get_json()["status"] == NeedStatus.WITHDRAWN
    assert withdrawn.get_json()["status_reason"] == "Erledigt"
    listed = client.get("/api/v1/initiative/needs", headers=bearer(secret)).get_json()
    assert [n["status"] for n in listed] == [NeedStatus.WITHDRAWN]


def test_publish_at_once_and_close(client, initiative):
    _initiative, secret = initiative
    need = client.post(
        "/api/v1/initiative/needs", json={**NEED_BODY, "publish": True}, headers=bearer(secret)
    ).get_json()
    assert need["status"] == NeedStatus.OPEN
    closed = client.post(f"/api/v1/initiative/needs/{need['id']}/close", headers=bearer(secret))
    assert closed.get_json()["status"] == NeedStatus.CLOSED


def test_an_initiative_user_without_initiative_gets_409(client, make_user):
    user = make_user(roles=(Role.INITIATIVE,))
    secret = token_for(user)
    assert client.get("/api/v1/initiative/needs", headers=bearer(secret)).get_json() == []
    response = client.post("/api/v1/initiative/needs", json=NEED_BODY, headers=bearer(secret))
    assert "Initiative" in assert_problem(response, 409)["detail"]


# --- Coordination ------------------------------------------------------------------------


def test_candidates_and_manual_assignment(
    client, volunteer, coordinator, make_initiative, make_need
):
    profile, _ = volunteer
    _c, secret = coordinator
    initiative, _ = make_initiative()
    need = make_need(initiative, phases=("start",), district="ost")
    found = client.get(
        f"/api/v1/coordination/needs/{need.id}/candidates", headers=bearer(secret)
    ).get_json()
    assert [c["volunteer"]["id"] for c in found] == [profile.id]
    assert "email" not in found[0]["volunteer"]
    url = f"/api/v1/coordination/needs/{need.id}/assignments"
    unknown = assert_problem(
        client.post(url, json={"volunteer_id": 999}, headers=bearer(secret)), 422
    )
    assert unknown["errors"][0]["field"] == "volunteer_id"
    response = client.post(url, json={"volunteer_id": profile.id}, headers=bearer(secret))
    assert response.status_code == 201
    assert response.get_json()["status"] == MatchStatus.APPROVED
    assert response.get_json()["origin"] == MatchOrigin.MANUAL


# --- Problems ----------------------------------------------------------------------------


def test_problem_titles_follow_accept_language(client):
    german = assert_problem(client.get("/api/v1/me"), 401)
    english = assert_problem(
        client.get("/api/v1/me", headers={"Accept-Language": "en-GB,en;q=0.8"}), 401
    )
    assert german["title"] == "Anmeldung erforderlich"
    assert english["title"] == "Authentication required"
    assert english["detail"].startswith("Please send")
    response = client.get("/api/v1/me", headers={"Accept-Language": "fr, en;q=0.5"})
    assert response.headers["Content-Language"] == "en"
    assert "Accept-Language" in response.headers["Vary"]


def test_validation_messages_in_both_languages(client, initiative):
    _initiative, secret = initiative
    bad = {**NEED_BODY, "title": "x" * 121, "experts_wanted": "2", "colour": "green"}
    de = assert_problem(
        client.post("/api/v1/initiative/needs", json=bad, headers=bearer(secret)), 422
    )
    en = assert_problem(
        client.post(
            "/api/v1/initiative/needs",
            json=bad,
            headers=bearer(secret, **{"Accept-Language": "en"}),
        ),
        422,
    )
    by_field = {e["field"]: e for e in de["errors"]}
    assert set(by_field) == {"title", "experts_wanted", "colour"}
    assert by_field["title"]["message"] == "Bitte höchstens 120 Zeichen."
    assert by_field["colour"]["code"] == "extra_forbidden"
    assert by_field["experts_wanted"]["pointer"] == "#/experts_wanted"
    english = {e["field"]: e["message"] for e in en["errors"]}
    assert english["title"] == "At most 120 characters, please."


def test_unknown_api_paths_and_methods_are_problems(client):
    assert_problem(client.get("/api/v1/nowhere"), 404, "not-found")
    response = client.delete("/api/v1/phases")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["Allow"]
    # The website keeps its HTML error pages.
    page = client.get("/nirgendwo")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_rate_limit_per_token_with_headers(client, app, monkeypatch, volunteer, coordinator):
    _profile, secret = volunteer
    _c, other = coordinator
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    responses = [client.get("/api/v1/me", headers=bearer(secret)) for _ in range(4)]
    assert [r.status_code for r in responses[:3]] == [200, 200, 200]
    assert responses[0].headers["RateLimit-Policy"] == '"api";q=3;w=60'
    assert responses[0].headers["RateLimit"].startswith('"api";r=2;t=')
    limited = assert_problem(responses[3], 429, "too-many-requests")
    assert limited["detail"]
    assert int(responses[3].headers["Retry-After"]) > 0
    # Another token has its own budget.
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200


def test_anonymous_callers_are_limited_per_address(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT_ANONYMOUS", "2 per minute")
    statuses = [client.get("/api/v1/phases").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


# --- The document ------------------------------------------------------------------------


def test_the_openapi_document_covers_every_api_route(client, app):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    documented = {
        (method.upper(), "/api/v1" + re.sub(r"\{(\w+)\}", r"<int:\1>", path))
        for path, methods in doc["paths"].items()
        for method in methods
    }
    undocumented = ("api.openapi_document", "api.docs")
    routed = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint not in undocumented
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == routed
    for methods in doc["paths"].values():
        for operation in methods.values():
            assert operation["summary"] and operation["operationId"]
            assert "401" in operation["responses"] and "429" in operation["responses"]
    assert doc["paths"]["/needs"]["get"]["security"] == []
    assert doc["paths"]["/me"]["get"]["security"] == [{"bearerAuth": []}]
    schema = doc["components"]["schemas"]["NeedIn"]
    assert schema["additionalProperties"] is False


def test_the_docs_page_is_plain_html_from_the_document(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<script" not in html
    # Nothing loaded from elsewhere (no CDN): every stylesheet, icon and image is our own.
    assert not re.search(r'<(link|img)[^>]+(href|src)="(https?:)?//', html)
    for text in (
        "GET /api/v1/needs",
        "POST /api/v1/initiative/needs",
        'id="schema-NeedIn"',
        'id="problem-invalid-input"',
        "/konto/api-zugang",
    ):
        assert text in html


def test_audit_log_names_the_actor_of_api_writes(client, initiative):
    _initiative, secret = initiative
    client.post("/api/v1/initiative/needs", json=NEED_BODY, headers=bearer(secret))
    count = _db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "need.create")
    )
    assert count == 1
