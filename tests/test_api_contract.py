"""Who may call which API endpoint: one table, one test per endpoint and caller.

Callers: no token, an approved volunteer (who owns the matches below), another volunteer,
a member of initiative A (which owns the needs), a member of initiative B, a coordinator.
A refused call (anything but 2xx) must leave every row of every table as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from api_support import NEED_BODY, PROFILE_BODY, bearer, token_for
from db_state import changed_tables, snapshot

from matching.api.routes import table
from matching.models import Match, MatchStatus, NeedStatus, Role

CALLERS = ("anonymous", "volunteer", "other_volunteer", "owner", "other_member", "coordinator")

OK, CREATED = 200, 201
NO_TOKEN, WRONG_ROLE, HIDDEN = 401, 403, 404


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # with {draft}, {open}, {spare}, {proposed}, {approved}, {accepted}
    expected: dict[str, int]
    body: dict | None = field(default=None, hash=False)

    @property
    def template(self) -> str:
        """The path as the route table writes it, e.g. /needs/{need_id}."""
        path = self.path
        for need in ("{draft}", "{open}", "{spare}"):
            path = path.replace(need, "{need_id}")
        for match in ("{proposed}", "{approved}", "{accepted}"):
            path = path.replace(match, "{match_id}")
        return path

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def call(method, path, *expected, body=None) -> Call:
    assert len(expected) == len(CALLERS)
    return Call(method, path, dict(zip(CALLERS, expected, strict=True)), body)


REASON = {"reason": "Passt gerade nicht"}
ASSIGN = {"volunteer_id": "{other_volunteer_profile}"}

# fmt: off
CALLS = [
    #    method  path                                   anonymous  volunteer  other_vol  owner      other_mem  coordinator
    call("GET",  "/phases",                             OK,        OK,        OK,        OK,        OK,        OK),
    call("GET",  "/districts",                          OK,        OK,        OK,        OK,        OK,        OK),
    # Off unless PUBLIC_IMPACT is set (tests/test_public_impact.py turns it on): 404 for all.
    call("GET",  "/impact",                             HIDDEN,    HIDDEN,    HIDDEN,    HIDDEN,    HIDDEN,    HIDDEN),
    call("GET",  "/needs",                              OK,        OK,        OK,        OK,        OK,        OK),
    call("GET",  "/needs/{open}",                       OK,        OK,        OK,        OK,        OK,        OK),
    call("GET",  "/me",                                 NO_TOKEN,  OK,        OK,        OK,        OK,        OK),
    # The initiative learns of a match from the coordination's yes on (test_initiative_knows).
    call("GET",  "/matches/{proposed}",                 NO_TOKEN,  OK,        HIDDEN,    HIDDEN,    HIDDEN,    OK),
    call("GET",  "/matches/{approved}",                 NO_TOKEN,  OK,        HIDDEN,    OK,        HIDDEN,    OK),
    call("POST", "/matches/{approved}/accept",          NO_TOKEN,  OK,        HIDDEN,    WRONG_ROLE, WRONG_ROLE, WRONG_ROLE),
    call("POST", "/matches/{approved}/decline",         NO_TOKEN,  OK,        HIDDEN,    WRONG_ROLE, WRONG_ROLE, WRONG_ROLE,
         body=REASON),
    call("POST", "/matches/{accepted}/complete",        NO_TOKEN,  OK,        HIDDEN,    OK,        HIDDEN,    OK),
    call("GET",  "/matches/{accepted}/messages",        NO_TOKEN,  OK,        HIDDEN,    OK,        HIDDEN,    OK),
    call("GET",  "/matches/{accepted}/meetings",        NO_TOKEN,  OK,        HIDDEN,    OK,        HIDDEN,    OK),
    call("POST", "/matches/{proposed}/approve",         NO_TOKEN,  WRONG_ROLE, WRONG_ROLE, WRONG_ROLE, WRONG_ROLE, OK),
    call("POST", "/matches/{proposed}/reject",          NO_TOKEN,  WRONG_ROLE, WRONG_ROLE, WRONG_ROLE, WRONG_ROLE, OK,
         body=REASON),
    call("GET",  "/volunteer/profile",                  NO_TOKEN,  OK,        OK,        WRONG_ROLE, WRONG_ROLE, WRONG_ROLE),
    call("PUT",  "/volunteer/profile",                  NO_TOKEN,  OK,        OK,        WRONG_ROLE, WRONG_ROLE, WRONG_ROLE,
         body=PROFILE_BODY),
    call("GET",  "/volunteer/needs",                    NO_TOKEN,  OK,        OK,        WRONG_ROLE, WRONG_ROLE, WRONG_ROLE),
    call("GET",  "/volunteer/matches",                  NO_TOKEN,  OK,        OK,        WRONG_ROLE, WRONG_ROLE, WRONG_ROLE),
    call("POST", "/needs/{spare}/offer",                NO_TOKEN,  CREATED,   CREATED,   WRONG_ROLE, WRONG_ROLE, WRONG_ROLE),
    call("GET",  "/initiative/needs",                   NO_TOKEN,  WRONG_ROLE, WRONG_ROLE, OK,       OK,        WRONG_ROLE),
    call("POST", "/initiative/needs",                   NO_TOKEN,  WRONG_ROLE, WRONG_ROLE, CREATED,  CREATED,   WRONG_ROLE,
         body=NEED_BODY),
    call("GET",  "/initiative/needs/{draft}",           NO_TOKEN,  WRONG_ROLE, WRONG_ROLE, OK,       HIDDEN,    WRONG_ROLE),
    call("PUT",  "/initiative/needs/{draft}",           NO_TOKEN,  WRONG_ROLE, WRONG_ROLE, OK,       HIDDEN,    WRONG_ROLE,
         body=NEED_BODY),
    call("POST", "/initiative/needs/{draft}/publish",   NO_TOKEN,  WRONG_ROLE, WRONG_ROLE, OK,       HIDDEN,    WRONG_ROLE),
    call("POST", "/initiative/needs/{open}/withdraw",   NO_TOKEN,  WRONG_ROLE, WRONG_ROLE, OK,       HIDDEN,    WRONG_ROLE,
         body=REASON),
    call("POST", "/initiative/needs/{open}/close",      NO_TOKEN,  WRONG_ROLE, WRONG_ROLE, OK,       HIDDEN,    WRONG_ROLE),
    call("GET",  "/coordination/queue",                 NO_TOKEN,  WRONG_ROLE, WRONG_ROLE, WRONG_ROLE, WRONG_ROLE, OK),
    call("GET",  "/coordination/needs/{open}/candidates",
                                                        NO_TOKEN,  WRONG_ROLE, WRONG_ROLE, WRONG_ROLE, WRONG_ROLE, OK),
    call("POST", "/coordination/needs/{spare}/assignments",
                                                        NO_TOKEN,  WRONG_ROLE, WRONG_ROLE, WRONG_ROLE, WRONG_ROLE, CREATED,
         body=ASSIGN),
]
# fmt: on


def test_the_table_covers_every_endpoint():
    routed = {(ep.method, ep.path) for ep in table.endpoints}
    tabled = {(c.method, c.template) for c in CALLS}
    assert tabled == routed


@pytest.fixture()
def world(db, make_volunteer, make_initiative, make_need, make_user):
    """The objects and a token per caller."""
    volunteer = make_volunteer("vera@example.org", districts=("ost",), capacity=3)
    other_volunteer = make_volunteer("otto@example.org", districts=("ost",), first_name="Otto")
    initiative_a, owner = make_initiative("Nachbarschaft Ost")
    _initiative_b, other_member = make_initiative("Nachbarschaft West", district="west")
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    needs = {
        "draft": make_need(initiative_a, status=NeedStatus.DRAFT, title="Entwurf"),
        "open": make_need(initiative_a, title="Offen"),
        "spare": make_need(initiative_a, title="Noch frei"),
        "approved_need": make_need(initiative_a, title="Freigegeben"),
        "accepted_need": make_need(initiative_a, status=NeedStatus.MATCHED, title="Zugesagt"),
    }
    matches = {
        "proposed": Match(need_id=needs["open"].id, volunteer_id=volunteer.id),
        "approved": Match(
            need_id=needs["approved_need"].id,
            volunteer_id=volunteer.id,
            status=MatchStatus.APPROVED,
        ),
        "accepted": Match(
            need_id=needs["accepted_need"].id,
            volunteer_id=volunteer.id,
            status=MatchStatus.ACCEPTED,
        ),
    }
    db.session.add_all(matches.values())
    db.session.commit()
    ids = {name: obj.id for name, obj in {**needs, **matches}.items()}
    ids["other_volunteer_profile"] = other_volunteer.id
    users = {
        "volunteer": volunteer.user,
        "other_volunteer": other_volunteer.user,
        "owner": owner,
        "other_member": other_member,
        "coordinator": coordinator,
    }
    tokens = {name: token_for(user) for name, user in users.items()}
    tokens["anonymous"] = None
    return ids, tokens


def _fill(value, ids: dict):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("entry", CALLS, ids=str)
def test_permission(client, db, world, entry: Call, caller: str):
    ids, tokens = world
    secret = tokens[caller]
    if secret:  # the first use is recorded; later ones within minutes write nothing
        assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    path = "/api/v1" + entry.path.format(**ids)
    kwargs = {"headers": bearer(secret)}
    if entry.body is not None:
        kwargs["json"] = _fill(entry.body, ids)
    before = snapshot(db.session)
    response = client.open(path, method=entry.method, **kwargs)
    expected = entry.expected[caller]
    assert response.status_code == expected, response.get_data(as_text=True)
    if expected >= 400:
        assert response.mimetype == "application/problem+json"
        db.session.expire_all()
        assert changed_tables(before, snapshot(db.session)) == []
