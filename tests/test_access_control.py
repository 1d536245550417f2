"""Who may open which marketplace page: one table of routes, one test per route and actor.

Objects: a draft and an open need of initiative A, a profile waiting for approval.
Actors: nobody logged in, an approved volunteer, the volunteer whose profile waits,
a member of initiative A, a member of initiative B, a coordinator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from db_state import changed_tables, snapshot
from sqlalchemy import func, select
from support import NEED_FORM, csrf_token

from matching.models import AuditEntry, NeedStatus, ProfileStatus, Role

ACTORS = ("anonymous", "volunteer", "other_volunteer", "owner", "other_member", "coordinator")

OK = 200
DENIED = 403  # logged in, but the wrong role
HIDDEN = 404  # the object is not theirs: answered as if it did not exist
LOGIN = "login"  # 302 to /anmelden
DONE = "done"  # 302 to the next page, and the change is made

REASON = {"reason": "Hat sich erledigt"}
EDIT = {**NEED_FORM, "title": "Neuer Titel", "action": "draft"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {draft}, {open} or {pending} for the ids
    expected: dict[str, int | str]
    data: dict = field(default_factory=dict)
    # For DONE: (object, attribute, value afterwards).
    effect: tuple[str, str, str] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def route(method, path, *expected, data=None, effect=None) -> Route:
    assert len(expected) == len(ACTORS)
    return Route(method, path, dict(zip(ACTORS, expected, strict=True)), data or {}, effect)


# fmt: off
ROUTES = [
    #     method  path                                  anonymous volunteer other_vol owner   other_member coordinator
    route("GET", "/anfragen",                           OK,     OK,     OK,     OK,     OK,     OK),
    route("GET", "/anfragen/{open}",                    OK,     OK,     OK,     OK,     OK,     OK),
    route("GET", "/anfragen/{draft}",                   HIDDEN, HIDDEN, HIDDEN, OK,     HIDDEN, OK),
    route("GET", "/profil",                             LOGIN,  OK,     OK,     DENIED, DENIED, DENIED),
    route("GET", "/uebersicht",                         LOGIN,  OK,     OK,     DENIED, DENIED, DENIED),
    route("GET", "/initiative",                         LOGIN,  DENIED, DENIED, OK,     OK,     DENIED),
    route("GET", "/meine-anfragen",                     LOGIN,  DENIED, DENIED, OK,     OK,     DENIED),
    route("GET", "/meine-anfragen/neu",                 LOGIN,  DENIED, DENIED, OK,     OK,     DENIED),
    route("GET", "/anfragen/{draft}/bearbeiten",        LOGIN,  DENIED, DENIED, OK,     HIDDEN, DENIED),
    route("GET", "/anfragen/{open}/bearbeiten",         LOGIN,  DENIED, DENIED, OK,     HIDDEN, DENIED),
    route("GET", "/anfragen/{open}/abschliessen",       LOGIN,  DENIED, DENIED, OK,     HIDDEN, DENIED),
    route("GET", "/anfragen/{open}/zurueckziehen",      LOGIN,  DENIED, DENIED, OK,     HIDDEN, DENIED),
    route("POST", "/anfragen/{draft}/bearbeiten",       LOGIN,  DENIED, DENIED, DONE,   HIDDEN, DENIED,
          data=EDIT, effect=("draft", "title", "Neuer Titel")),
    route("POST", "/anfragen/{draft}/veroeffentlichen", LOGIN,  DENIED, DENIED, DONE,   HIDDEN, DENIED,
          effect=("draft", "status", NeedStatus.OPEN)),
    route("POST", "/anfragen/{open}/abschliessen",      LOGIN,  DENIED, DENIED, DONE,   HIDDEN, DENIED,
          effect=("open", "status", NeedStatus.CLOSED)),
    route("POST", "/anfragen/{open}/zurueckziehen",     LOGIN,  DENIED, DENIED, DONE,   HIDDEN, DENIED,
          data=REASON, effect=("open", "status", NeedStatus.WITHDRAWN)),
    route("GET", "/koordination/profile",               LOGIN,  DENIED, DENIED, DENIED, DENIED, OK),
    route("GET", "/koordination/profile/{pending}",     LOGIN,  DENIED, DENIED, DENIED, DENIED, OK),
    route("POST", "/koordination/profile/{pending}/freigeben",
                                                        LOGIN,  DENIED, DENIED, DENIED, DENIED, DONE,
          effect=("pending", "status", ProfileStatus.APPROVED)),
    route("POST", "/koordination/profile/{pending}/zurueck",
                                                        LOGIN,  DENIED, DENIED, DENIED, DENIED, DONE,
          data=REASON, effect=("pending", "status", ProfileStatus.RETURNED)),
]
# fmt: on


@dataclass
class World:
    emails: dict[str, str]
    objects: dict[str, object]

    @property
    def ids(self) -> dict[str, int]:
        return {name: obj.id for name, obj in self.objects.items()}


@pytest.fixture()
def world(make_user, make_volunteer, make_initiative, make_need) -> World:
    make_volunteer("vera@example.org")
    pending = make_volunteer("paul@example.org", status=ProfileStatus.PENDING, first_name="Paul")
    initiative, owner = make_initiative("Nachbarschaft Ost")
    _, other_member = make_initiative("Garten West", district="west")
    make_user("koo@example.org", roles=(Role.COORDINATOR,))
    return World(
        emails={
            "volunteer": "vera@example.org",
            "other_volunteer": "paul@example.org",
            "owner": owner.email,
            "other_member": other_member.email,
            "coordinator": "koo@example.org",
        },
        objects={
            "draft": make_need(initiative, status=NeedStatus.DRAFT, title="Entwurf von A"),
            "open": make_need(initiative, title="Offene Anfrage von A"),
            "pending": pending,
        },
    )


def _audit_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def _request(client, method: str, path: str, data: dict):
    if method == "GET":
        return client.get(path)
    return client.post(path, data={"csrf_token": csrf_token(client, "/"), **data})


@pytest.mark.parametrize(
    ("route", "actor"),
    [(r, actor) for r in ROUTES for actor in ACTORS],
    ids=lambda value: str(value),
)
def test_route_answers_each_actor_as_the_table_says(client, db, auth, world, route, actor):
    if actor != "anonymous":
        auth.login(world.emails[actor])
    expected = route.expected[actor]
    before, audits_before = snapshot(db.session), _audit_count(db)

    response = _request(client, route.method, route.path.format(**world.ids), route.data)

    location = urlsplit(response.headers.get("Location", "")).path
    if expected == LOGIN:
        assert (response.status_code, location) == (302, "/anmelden")
    elif expected == DONE:
        assert response.status_code == 302 and location != "/anmelden", response.status_code
        name, attribute, value = route.effect
        obj = world.objects[name]
        db.session.refresh(obj)
        assert getattr(obj, attribute) == value
        assert _audit_count(db) == audits_before + 1
        return
    else:
        assert response.status_code == expected, response.get_data(as_text=True)[-2000:]
    # A refused request, and any GET, leaves every table as it was — except that a
    # coordinator's look at a volunteer's contact data is written to the audit log.
    changed = changed_tables(before, snapshot(db.session))
    if changed == ["audit_log"] and actor == "coordinator" and route.method == "GET":
        new = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert set(new[audits_before:]) == {"contact.view"}
        return
    assert changed == []


def _rules(app, blueprint: str) -> list[tuple[str, str]]:
    """(method, path with <id> for each variable) of every route of a blueprint."""
    return sorted(
        (method, re.sub(r"<[^>]+>", "<id>", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(f"{blueprint}.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def test_table_covers_every_route_of_volunteers_initiatives_and_needs(app):
    """A new route there must get a row in the table (this test names the missing ones)."""
    tested = {(r.method, re.sub(r"\{\w+\}", "<id>", r.path)) for r in ROUTES}
    # Form pages that only save the user's own data are covered by the GET of the same page.
    own_forms = {"/profil", "/initiative", "/meine-anfragen/neu", "/profil/themen-zuruecksetzen"}
    missing = [
        (method, path)
        for blueprint in ("volunteers", "initiatives", "needs")
        for method, path in _rules(app, blueprint)
        if (method, path) not in tested and path not in own_forms
    ]
    assert missing == []


@pytest.mark.parametrize("actor", ["anonymous", "volunteer", "owner"])
def test_every_coordination_route_is_for_coordinators_only(app, client, db, auth, world, actor):
    """Read from the URL map, so coordination routes added later are checked too."""
    if actor != "anonymous":
        auth.login(world.emails[actor])
    token = csrf_token(client, "/")
    before = snapshot(db.session)
    for method, path in _rules(app, "coordination"):
        data = {"csrf_token": token, "reason": "x"} if method == "POST" else None
        response = client.open(path.replace("<id>", "1"), method=method, data=data)
        location = urlsplit(response.headers.get("Location", "")).path
        if actor == "anonymous":
            assert (response.status_code, location) == (302, "/anmelden"), (method, path)
        else:
            assert response.status_code == 403, (method, path)
    assert changed_tables(before, snapshot(db.session)) == []


def _normalised(response, path: str) -> str:
    html = response.get_data(as_text=True).replace(path, "PATH")
    return re.sub(r'name="csrf_token"( type="hidden")? value="[^"]*"', "", html)


@pytest.mark.parametrize(
    ("path", "actor"),
    [
        ("/anfragen/{draft}", "anonymous"),
        ("/anfragen/{draft}", "volunteer"),
        ("/anfragen/{draft}/bearbeiten", "other_member"),
        ("/anfragen/{open}/zurueckziehen", "other_member"),
    ],
)
def test_someone_elses_need_looks_like_a_missing_one(client, auth, world, path, actor):
    if actor != "anonymous":
        auth.login(world.emails[actor])
    foreign_path = path.format(**world.ids)
    missing_path = path.format(draft=999_999, open=999_999)
    foreign, missing = client.get(foreign_path), client.get(missing_path)
    assert foreign.status_code == missing.status_code == 404
    assert _normalised(foreign, foreign_path) == _normalised(missing, missing_path)


@pytest.mark.parametrize("actor", ["owner", "coordinator"])
@pytest.mark.parametrize("need", ["draft", "open"])
def test_every_action_offered_on_a_need_page_is_allowed(client, auth, world, actor, need):
    """The page offers only what the actor may do: no button that ends in 403 or 404."""
    auth.login(world.emails[actor])
    page = client.get(f"/anfragen/{world.ids[need]}").get_data(as_text=True)
    prefix = f"/anfragen/{world.ids[need]}/"
    links = re.findall(rf'href="({re.escape(prefix)}[^"]+)"', page)
    forms = re.findall(rf'<form method="post" action="({re.escape(prefix)}[^"]+)"', page)
    if actor == "owner":
        assert links, "the owner should be offered the next steps"
    for link in links:
        assert client.get(link).status_code == 200, link
    for action in forms:
        response = client.post(action, data={"csrf_token": csrf_token(client, "/")})
        assert response.status_code == 302, action
