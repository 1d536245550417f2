"""Every form page answers a refused POST with 422, never with 200 as if it had worked.

The walk posts an empty form (with a valid CSRF token) to each page that both shows and
takes a form and has no id in its address, once signed out and once signed in with every
role, so that a new form page cannot slip back to 200.
"""

from __future__ import annotations

import pytest
from support import csrf_token

from matching.models import Role

# What an empty POST may get instead of the form with its messages: a redirect (signed in
# or out where the page is not for this person), or no access.
NOT_THE_FORM = {302, 303, 403, 404}


def form_pages(app) -> list[str]:
    pages = []
    for rule in app.url_map.iter_rules():
        takes_a_form = {"GET", "POST"} <= (rule.methods or set())
        if takes_a_form and not rule.arguments and not rule.rule.startswith("/api/v1/"):
            pages.append(rule.rule)
    return sorted(pages)


def walk(client, app) -> dict[str, int]:
    token = csrf_token(client, "/")
    statuses = {}
    for path in form_pages(app):
        response = client.post(path, data={"csrf_token": token})
        statuses[path] = response.status_code
    return statuses


def assert_refused_with_422(statuses: dict[str, int]) -> list[str]:
    answered_200 = [path for path, status in statuses.items() if status == 200]
    assert answered_200 == []
    unexpected = {p: s for p, s in statuses.items() if s != 422 and s not in NOT_THE_FORM}
    assert unexpected == {}
    return [path for path, status in statuses.items() if status == 422]


def test_form_pages_are_found(app):
    pages = form_pages(app)
    assert "/meine-anfragen/neu" in pages and "/koordination/anfrage-aufnehmen" in pages
    assert "/registrieren" in pages and "/anmelden" in pages


def test_signed_out_an_empty_form_is_refused_with_422(client, app, db):
    refused = assert_refused_with_422(walk(client, app))
    assert "/anmelden" in refused
    assert len(refused) >= 3


@pytest.mark.usefixtures("db")
def test_signed_in_an_empty_form_is_refused_with_422(client, app, auth, make_user, make_initiative):
    user = make_user("alle@example.org", roles=(Role.VOLUNTEER, Role.INITIATIVE, Role.COORDINATOR))
    make_initiative(member=user)
    auth.login("alle@example.org")
    refused = assert_refused_with_422(walk(client, app))
    for path in ("/meine-anfragen/neu", "/koordination/anfrage-aufnehmen", "/konto/passwort"):
        assert path in refused
