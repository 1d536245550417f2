"""Mein Konto → API-Zugang: create a token (shown once), see it listed, revoke it."""

from __future__ import annotations

import re

from api_support import bearer, token_for
from sqlalchemy import func, select
from support import csrf_token, post_form

from matching.api import api_tokens
from matching.models import ApiToken, AuditEntry, Role

PAGE = "/konto/api-zugang"
SECRET = re.compile(r'value="(vb_[A-Za-z0-9_-]{43})"')


def test_login_required(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/anmelden" in response.headers["Location"]


def test_the_account_page_links_to_it(client, auth, make_user):
    make_user("erika@example.org")
    auth.login("erika@example.org")
    assert PAGE in client.get("/konto").get_data(as_text=True)


def test_create_shows_the_secret_once_and_stores_its_hash(client, auth, db, make_user):
    user = make_user("erika@example.org", roles=(Role.INITIATIVE,))
    auth.login("erika@example.org")
    response = post_form(client, PAGE, {"name": "Webseite", "expires": "30"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    [secret] = SECRET.findall(response.get_data(as_text=True))
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert token.name == "Webseite"
    assert token.secret_hash == api_tokens.hash_secret(secret)
    assert (token.expires_at - token.created_at).days == 30
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    listed = client.get(PAGE).get_data(as_text=True)
    assert secret not in listed and token.prefix in listed and "Webseite" in listed
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "api_token.create" in actions


def test_a_token_needs_a_name_and_a_known_expiry(client, auth, db, make_user):
    make_user("erika@example.org")
    auth.login("erika@example.org")
    html = post_form(client, PAGE, {"name": "", "expires": "forever"}).get_data(as_text=True)
    assert "Bitte geben Sie dem Schlüssel einen Namen." in html
    assert "Bitte wählen Sie nur aus der Liste." in html
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_csrf_protects_the_page(client, auth, db, make_user):
    make_user("erika@example.org")
    auth.login("erika@example.org")
    response = client.post(PAGE, data={"name": "Ohne", "expires": "30"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_revoke_ends_the_token_at_once(client, auth, db, make_user):
    user = make_user("erika@example.org")
    secret = token_for(user)
    auth.login("erika@example.org")
    token = db.session.scalar(select(ApiToken))
    response = post_form(client, f"{PAGE}/{token.id}/widerrufen", {}, token_from=PAGE)
    assert response.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert "Widerrufen" in client.get(PAGE).get_data(as_text=True)


def test_nobody_revokes_anothers_token(client, auth, db, make_user):
    owner = make_user("owner@example.org")
    secret = token_for(owner)
    make_user("erika@example.org")
    auth.login("erika@example.org")
    token = db.session.scalar(select(ApiToken))
    response = client.post(
        f"{PAGE}/{token.id}/widerrufen", data={"csrf_token": csrf_token(client, PAGE)}
    )
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_at_most_ten_valid_tokens(client, auth, db, make_user):
    user = make_user("erika@example.org")
    for i in range(api_tokens.MAX_ACTIVE_TOKENS):
        token_for(user, name=f"T{i}")
    auth.login("erika@example.org")
    html = post_form(client, PAGE, {"name": "Noch einer", "expires": "365"}).get_data(as_text=True)
    assert "Bitte widerrufen Sie zuerst einen." in html
    assert not SECRET.search(html)
