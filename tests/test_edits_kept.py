"""An edit saved and a status changed in one POST keep the edit.

Every transition function re-reads its row under a lock; a re-read that threw away
what the same request had just written published old text while the page said
"Ihre Änderungen sind gespeichert". These tests press every form that saves and
changes a status in one POST, and call the services the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from api_support import NEED_BODY, PROFILE_BODY, assert_problem, bearer, token_for
from support import NEED_FORM, post_form

from matching import needs, profiles
from matching.models import Need, NeedStatus, Role, VolunteerProfile
from matching.needs import NeedInput

NOW = datetime(2030, 3, 4, 9, 30, tzinfo=UTC)


def _input(**changes) -> NeedInput:
    data = {
        "title": "Neuer Titel",
        "description": "Neue Beschreibung",
        "phases": ["planning", "cooperation"],
        "district": "mitte",
        "language": "de",
        "formats": ["phone"],
        "urgency": "soon",
        "experts_wanted": 2,
        "expires_on": None,
    }
    data.update(changes)
    return NeedInput(**data)


def _reread(db, need_id: int) -> Need:
    db.session.expire_all()
    return db.session.get(Need, need_id)


def test_update_then_publish_in_one_transaction_keeps_the_edit(db, make_initiative, make_need):
    initiative, member = make_initiative()
    need = make_need(initiative, status=NeedStatus.DRAFT, title="Platzhalter")

    needs.update_need(db.session, member, need, _input(), now=NOW)
    needs.change_status(db.session, member, need, "publish", now=NOW)
    db.session.commit()

    stored = _reread(db, need.id)
    assert stored.status == NeedStatus.OPEN
    assert stored.title == "Neuer Titel"
    assert stored.description == "Neue Beschreibung"
    assert stored.district == "mitte"
    assert stored.urgency == "soon"
    assert stored.experts_wanted == 2
    assert sorted(stored.phases) == ["cooperation", "planning"]
    assert stored.formats == {"phone"}


@pytest.mark.parametrize("action", ["withdraw", "close"])
def test_any_transition_after_an_edit_keeps_the_edit(db, make_initiative, make_need, action):
    initiative, member = make_initiative()
    need = make_need(initiative, status=NeedStatus.OPEN, title="Alt")

    needs.update_need(db.session, member, need, _input(title="Geändert"), now=NOW)
    needs.change_status(db.session, member, need, action, now=NOW, reason="Erledigt")
    db.session.commit()

    assert _reread(db, need.id).title == "Geändert"


def test_publish_button_on_the_edit_page_publishes_the_new_text(
    client, db, auth, make_initiative, make_need
):
    initiative, member = make_initiative()
    need = make_need(initiative, status=NeedStatus.DRAFT, title="Platzhalter aus dem Feedback")
    auth.login(member.email)

    response = post_form(
        client,
        f"/anfragen/{need.id}/bearbeiten",
        {**NEED_FORM, "title": "Wie gewinnen wir Vereine?", "action": "publish"},
    )

    assert response.status_code == 302
    stored = _reread(db, need.id)
    assert stored.status == NeedStatus.OPEN
    assert stored.title == "Wie gewinnen wir Vereine?"
    assert stored.description == NEED_FORM["description"]
    page = client.get(f"/anfragen/{need.id}").get_data(as_text=True)
    assert "Wie gewinnen wir Vereine?" in page
    assert "Platzhalter aus dem Feedback" not in page


def test_save_as_draft_on_the_edit_page_keeps_it_a_draft_with_the_new_text(
    client, db, auth, make_initiative, make_need
):
    initiative, member = make_initiative()
    need = make_need(initiative, status=NeedStatus.DRAFT, title="Platzhalter")
    auth.login(member.email)

    post_form(
        client,
        f"/anfragen/{need.id}/bearbeiten",
        {**NEED_FORM, "title": "Entwurf mit neuem Titel", "action": "draft"},
    )

    stored = _reread(db, need.id)
    assert (stored.status, stored.title) == (NeedStatus.DRAFT, "Entwurf mit neuem Titel")


def test_new_need_published_at_once_keeps_its_text(client, db, auth, make_initiative):
    initiative, member = make_initiative()
    auth.login(member.email)

    post_form(client, "/meine-anfragen/neu", {**NEED_FORM, "action": "publish"})

    [stored] = db.session.query(Need).filter_by(initiative_id=initiative.id).all()
    assert (stored.status, stored.title) == (NeedStatus.OPEN, NEED_FORM["title"])


def test_a_profile_edited_and_reviewed_in_one_transaction_keeps_the_edit(
    db, make_user, make_volunteer
):
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    profile = make_volunteer(status="pending")

    profile.bio = "Ich helfe gern beim Start."
    profiles.approve_profile(db.session, coordinator, profile, now=NOW)
    db.session.commit()

    db.session.expire_all()
    stored = db.session.get(VolunteerProfile, profile.id)
    assert (stored.status, stored.bio) == ("approved", "Ich helfe gern beim Start.")


def test_every_row_lock_goes_through_lock_row():
    """A bare ``refresh(..., with_for_update=True)`` would throw away unflushed edits again."""
    import pathlib

    import matching

    root = pathlib.Path(matching.__file__).parent
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if path.name != "database.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if ".refresh(" in line and "with_for_update" in line
    ]
    assert offenders == []


def test_a_save_from_an_older_form_does_not_undo_the_save_in_between(
    client, db, auth, make_initiative, make_need
):
    """Two windows on one need: the second save came from a form opened before the first
    save and silently undid it. It is refused with what was typed kept; saved again, it
    goes through."""
    import re

    from support import NEED_FORM, csrf_token

    initiative, member = make_initiative()
    need = make_need(initiative, title="Alter Titel")
    db.session.commit()
    auth.login(member.email)
    path = f"/anfragen/{need.id}/bearbeiten"
    first = client.get(path).get_data(as_text=True)
    seen = re.search(r'name="seen"[^>]*value="([^"]*)"', first).group(1)
    token = csrf_token(client, path)
    form = {**NEED_FORM, "csrf_token": token, "seen": seen}
    assert client.post(path, data={**form, "title": "Titel aus Fenster B"}).status_code == 302
    stale = client.post(path, data={**form, "title": "Titel aus Fenster A", "urgency": "soon"})
    assert stale.status_code == 409
    text = stale.get_data(as_text=True)
    assert "wurde inzwischen geändert" in text and "Titel aus Fenster A" in text
    db.session.refresh(need)
    assert need.title == "Titel aus Fenster B"
    fresh = re.search(r'name="seen"[^>]*value="([^"]*)"', text).group(1)
    again = client.post(path, data={**form, "seen": fresh, "title": "Titel aus Fenster A"})
    assert again.status_code == 302
    db.session.refresh(need)
    assert need.title == "Titel aus Fenster A"


def test_a_profile_saved_from_an_older_form_does_not_undo_the_save_in_between(
    client, db, auth, make_volunteer
):
    import re

    from support import PROFILE_FORM, csrf_token

    profile = make_volunteer("vera@example.org")
    db.session.commit()
    auth.login("vera@example.org")
    page = client.get("/profil").get_data(as_text=True)
    seen = re.search(r'name="seen"[^>]*value="([^"]*)"', page).group(1)
    form = {**PROFILE_FORM, "csrf_token": csrf_token(client, "/profil"), "seen": seen}
    assert client.post("/profil", data={**form, "capacity": "3"}).status_code == 302
    stale = client.post("/profil", data={**form, "capacity": "1", "phone": "0711 999"})
    assert stale.status_code == 409
    assert "wurde inzwischen in einem anderen Fenster geändert" in stale.get_data(as_text=True)
    db.session.refresh(profile)
    assert profile.capacity == 3


# --- The API: ETag and If-Match ------------------------------------------------------------------


def _api_need(db, make_initiative, make_need):

    initiative, member = make_initiative()
    need = make_need(initiative, title="Wie finden wir Leute?")
    return need, token_for(member)


def test_an_api_client_with_an_older_need_version_gets_412_and_changes_nothing(
    client, db, make_initiative, make_need
):
    """PUT replaces the whole need: a client that read it before a colleague's edit would undo
    that edit. With If-Match (the ETag of GET) the service refuses it under its row lock."""

    need, secret = _api_need(db, make_initiative, make_need)
    url = f"/api/v1/initiative/needs/{need.id}"
    first = client.get(url, headers=bearer(secret))
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and etag.endswith('"')

    colleague = client.put(
        url,
        json={**NEED_BODY, "title": "Titel der Kollegin"},
        headers=bearer(secret, **{"If-Match": etag}),
    )
    assert colleague.status_code == 200
    assert colleague.headers["ETag"] != etag  # the new version, for the next change

    stale = client.put(
        url,
        json={**NEED_BODY, "title": "Alter Stand"},
        headers=bearer(secret, **{"If-Match": etag}),
    )
    body = assert_problem(stale, 412, "precondition-failed")
    assert "inzwischen geändert" in body["detail"]
    assert _reread(db, need.id).title == "Titel der Kollegin"

    current = client.get(url, headers=bearer(secret)).headers["ETag"]
    assert current == colleague.headers["ETag"]
    again = client.put(
        url,
        json={**NEED_BODY, "title": "Neu gelesen"},
        headers=bearer(secret, **{"If-Match": f'"x", {current}'}),
    )
    assert again.status_code == 200 and _reread(db, need.id).title == "Neu gelesen"


@pytest.mark.parametrize(
    ("if_match", "status"),
    [(None, 200), ("*", 200), ('W/"{v}"', 412), ('"kaputt"', 412), ("", 412)],
)
def test_if_match_on_a_need_follows_http(client, db, make_initiative, make_need, if_match, status):
    """No header: replaced as before. "*": any version of an existing need. A weak tag never
    matches for a change (RFC 9110 13.1.1), nor a version that never was."""

    need, secret = _api_need(db, make_initiative, make_need)
    url = f"/api/v1/initiative/needs/{need.id}"
    version = client.get(url, headers=bearer(secret)).headers["ETag"].strip('"')
    headers = {} if if_match is None else {"If-Match": if_match.format(v=version)}
    response = client.put(
        url, json={**NEED_BODY, "title": "Geändert"}, headers=bearer(secret, **headers)
    )
    assert response.status_code == status
    assert (_reread(db, need.id).title == "Geändert") == (status == 200)


def test_an_api_client_with_an_older_profile_version_gets_412_and_changes_nothing(
    client, db, make_volunteer
):

    profile = make_volunteer(first_name="Vera")
    secret = token_for(profile.user)
    url = "/api/v1/volunteer/profile"
    etag = client.get(url, headers=bearer(secret)).headers["ETag"]
    phone = client.put(
        url,
        json={**PROFILE_BODY, "capacity": 2, "phone": "0711 123456"},
        headers=bearer(secret, **{"If-Match": etag}),
    )
    assert phone.status_code == 200 and phone.headers["ETag"] != etag
    stale = client.put(
        url, json={**PROFILE_BODY, "capacity": 1}, headers=bearer(secret, **{"If-Match": etag})
    )
    assert_problem(stale, 412, "precondition-failed")
    db.session.expire_all()
    stored = db.session.get(VolunteerProfile, profile.id)
    assert stored.capacity == 2 and stored.user.phone == "0711 123456"


def test_if_match_for_a_profile_that_does_not_exist_yet_is_412(client, db, make_user):

    user = make_user("neu@example.org", roles=(Role.VOLUNTEER,))
    secret = token_for(user)
    response = client.put(
        "/api/v1/volunteer/profile", json=PROFILE_BODY, headers=bearer(secret, **{"If-Match": "*"})
    )
    assert_problem(response, 412, "precondition-failed")
    db.session.expire_all()
    assert db.session.get(type(user), user.id).volunteer_profile is None
