"""Every link in a mail acts for the person it was sent to, and for nobody else.

Opened while another person is signed in (a shared computer, a forwarded mail), the links to
unsubscribe, to confirm a new address and to choose a new password change nothing and say
why, as the links to accept, offer and pick a meeting already did; the person the mail was
for can still use them.
"""

from __future__ import annotations

import pytest
from db_state import changed_tables, snapshot
from support import DEFAULT_PASSWORD, post_form
from test_auth_accounts import mail_link

from matching import mail_links
from matching.models import User

OTHER = "Dieser Link ist für eine andere Person"
NEW_PASSWORD = "ein ganz neuer Satz zum Merken"


@pytest.fixture()
def people(db, make_user):
    owner = make_user(email="owner@example.org", first_name="Olga")
    make_user(email="nachbarin@example.org", first_name="Nora")
    return owner


def _link(kind: str, client, auth, owner, mailbox) -> str:
    if kind == "unsubscribe":
        url = mail_links.unsubscribe_url(owner.id, "volunteer")
        return url.removeprefix("http://localhost")
    if kind == "reset":
        post_form(client, "/passwort-vergessen", {"email": owner.email})
        return mail_link(mailbox[-1], "/passwort-neu/")
    assert auth.login(owner.email).status_code == 302
    post_form(
        client, "/konto/email", {"email": "neu@example.org", "current_password": DEFAULT_PASSWORD}
    )
    auth.logout()
    return mail_link(mailbox[-1], "/konto/email/")


FORMS = {
    "unsubscribe": {},
    "reset": {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD},
    "email": {},
}


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_a_link_opened_by_another_signed_in_person_changes_nothing(
    client, db, auth, people, mailbox, kind
):
    owner = people
    path = _link(kind, client, auth, owner, mailbox)
    auth.login("nachbarin@example.org")
    before = snapshot(db.session)
    for method in ("get", "post"):
        if method == "get":
            response = client.get(path)
        else:
            response = post_form(client, path, FORMS[kind], token_from="/konto")
        assert response.status_code == 403
        text = response.get_data(as_text=True)
        assert OTHER in text
        assert "Sie sind als Nora angemeldet" in text
    assert changed_tables(before, snapshot(db.session)) == []
    auth.logout()
    # The person the mail was for still can.
    response = post_form(client, path, FORMS[kind], token_from=path)
    assert response.status_code in (200, 302)
    db.session.expire_all()
    changed = db.session.get(User, owner.id)
    if kind == "email":
        assert changed.email == "neu@example.org"
    elif kind == "reset":
        assert auth.login(owner.email, NEW_PASSWORD).status_code == 302
