"""Pages for everyone: error pages, health check, security headers, cookies, language, and
the structure every page shares (skip link, one <main>, one <h1>, labelled inputs, no inline
script or style, which the Content-Security-Policy would block anyway)."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from flask import abort
from flask_babel import force_locale
from html_reader import Page
from support import DEFAULT_PASSWORD, csrf_token, post_form

from config import ProductionConfig, TestingConfig
from matching import create_app
from matching.main.errors import CSRF_MESSAGE, MESSAGES
from matching.models import User
from matching.tokens import make_token

ERROR_TITLES = {
    400: "Das hat nicht geklappt",
    403: "Kein Zugriff",
    404: "Seite nicht gefunden",
    405: "So geht das nicht",
    413: "Zu viele Daten",
    429: "Zu viele Versuche",
    500: "Ein Fehler auf unserer Seite",
    503: "Gerade nicht erreichbar",
}
SECRET_IN_ERROR = "geheimes Detail aus dem Stacktrace"
UNREACHABLE_DATABASE = "postgresql+psycopg://vernetzer@127.0.0.1:1/x?connect_timeout=2"


def assert_error_page(response, code: int, lang: str = "de", text=None) -> Page:
    """The friendly page for ``code``: status, language, heading and explanation, no internals."""
    assert response.status_code == code
    assert response.mimetype == "text/html"
    page = Page.of(response)
    assert page.lang == lang
    if lang == "de":
        assert page.h1 == ERROR_TITLES[code]
        lead = page.find("p", class_="lead")
        with force_locale("de"):
            assert lead.text == str(text or MESSAGES[code][1])
    for internal in ("Traceback", "File &#34;", 'File "', "RuntimeError", SECRET_IN_ERROR):
        assert internal not in page.html
    assert page.find("a", href="/") is not None  # a way back to the start
    return page


@pytest.fixture(scope="module")
def throwaway_app():
    """A separate app with routes that fail on purpose (the shared app stays untouched)."""
    app = create_app(TestingConfig())

    @app.route("/fehler/<int:code>")
    def fail_with(code: int):
        abort(code)

    @app.route("/kaputt")
    def crash():
        raise RuntimeError(SECRET_IN_ERROR)

    return app


# ---------------------------------------------------------------- error pages


@pytest.mark.parametrize("code", [400, 403, 404, 405, 413, 429, 500])
def test_every_error_has_a_friendly_german_page(code, throwaway_app):
    assert_error_page(throwaway_app.test_client().get(f"/fehler/{code}"), code)


def test_an_unexpected_exception_shows_the_500_page_without_a_stack_trace(throwaway_app):
    response = throwaway_app.test_client().get("/kaputt")

    assert_error_page(response, 500)


def test_an_unknown_page_is_404(client):
    assert_error_page(client.get("/gibt-es-nicht"), 404)


def test_an_unknown_page_in_english(client):
    response = client.get("/gibt-es-nicht", headers={"Accept-Language": "en-GB,en;q=0.9"})

    assert_error_page(response, 404, lang="en")


@pytest.mark.parametrize("path", ["/abmelden", "/sprache"])
def test_the_wrong_method_is_405_and_says_which_is_right(path, client):
    response = client.get(path)

    assert_error_page(response, 405)
    assert response.headers["Allow"].split(", ").count("POST") == 1


def test_a_form_too_large_to_read_is_413(client):
    token = csrf_token(client, "/anmelden")
    huge = "x" * (client.application.config["MAX_CONTENT_LENGTH"] + 1)

    response = client.post(
        "/anmelden", data={"csrf_token": token, "email": "a@example.org", "password": huge}
    )

    assert_error_page(response, 413)


def test_a_missing_csrf_token_is_the_friendly_400_page(client):
    response = client.post("/anmelden", data={"email": "a@example.org", "password": "x"})

    assert_error_page(response, 400, text=CSRF_MESSAGE)


# ---------------------------------------------------------------- health check


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


@pytest.fixture(scope="module")
def app_without_database():
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = UNREACHABLE_DATABASE
    return create_app(config)


def test_healthz_answers_503_quickly_when_the_database_is_unreachable(app_without_database):
    started = time.monotonic()
    response = app_without_database.test_client().get("/healthz")

    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}


def test_a_page_needing_the_database_says_it_is_unreachable(app_without_database):
    client = app_without_database.test_client()

    response = post_form(
        client, "/anmelden", {"email": "konto@example.org", "password": DEFAULT_PASSWORD}
    )

    assert_error_page(response, 503)


# ---------------------------------------------------------------- headers and cookies

ANONYMOUS_PAGES = [
    "/",
    "/registrieren",
    "/registrieren?rolle=initiative",
    "/registrieren/post",
    "/anmelden",
    "/passwort-vergessen",
    "/bestaetigen/neu",
    "/datenschutz",
    "/impressum",
]


def csp_directives(headers) -> dict[str, list[str]]:
    policy = headers["Content-Security-Policy"]
    directives = [d.split() for d in policy.split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


@pytest.mark.parametrize(
    "path",
    [
        *ANONYMOUS_PAGES,
        "/gibt-es-nicht",
        "/healthz",
        "/konto",
        "/bestaetigen/kaputt",
        "/static/css/app.css",
    ],
)
def test_security_headers_on_every_response(path, client):
    with client.get(path) as response:
        headers = response.headers

    csp = csp_directives(headers)
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp.get("style-src", csp["default-src"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in {"same-origin", "strict-origin-when-cross-origin"}
    assert "Strict-Transport-Security" not in headers  # only behind HTTPS


def session_cookie(response) -> list[str]:
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return [part.strip() for part in cookie.split(";")]


def test_the_session_cookie_is_httponly_and_samesite_lax(client):
    attributes = session_cookie(client.get("/anmelden"))

    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
    assert "Secure" not in attributes  # tests and development run over plain HTTP


@pytest.fixture()
def production_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "ein-langes-geheimnis-nur-fuer-diesen-test")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("BASE_URL", "https://vernetzerboerse.example.org")
    monkeypatch.delenv("MAIL_BACKEND", raising=False)
    return monkeypatch


def test_production_cookies_are_secure(production_env, tmp_path):
    app = create_app(ProductionConfig())

    assert app.config["SECRET_KEY"] == "ein-langes-geheimnis-nur-fuer-diesen-test"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'prod.db'}"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not app.testing
    response = app.test_client().get("/anmelden")
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= set(session_cookie(response))
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize(
    "missing", [("SECRET_KEY",), ("DATABASE_URL",), ("SECRET_KEY", "DATABASE_URL")]
)
def test_production_refuses_to_start_without_secret_or_database(missing, production_env):
    for name in missing:
        production_env.delenv(name)

    with pytest.raises(RuntimeError, match=", ".join(missing)):
        create_app(ProductionConfig())


# ---------------------------------------------------------------- language


def test_the_language_switch_sticks(client):
    response = post_form(client, "/sprache", {"lang": "en", "next": "/impressum"}, token_from="/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/impressum"
    assert Page.of(client.get("/impressum")).lang == "en"
    assert Page.of(client.get("/anmelden")).lang == "en"

    post_form(client, "/sprache", {"lang": "de", "next": "/"}, token_from="/")
    assert Page.of(client.get("/anmelden")).lang == "de"


def test_the_language_choice_is_kept_with_the_account(app, client, db, make_user, auth):
    user = make_user(email="konto@example.org")
    auth.login(user.email)

    post_form(client, "/sprache", {"lang": "en", "next": "/konto"}, token_from="/konto")

    db.session.refresh(user)
    assert user.locale == "en"
    other_browser = app.test_client()
    assert Page.of(other_browser.get("/")).lang == "de"
    post_form(other_browser, "/anmelden", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert Page.of(other_browser.get("/")).lang == "en"


# ---------------------------------------------------------------- structure of every page


@pytest.fixture()
def open_page(client, db, make_user, auth):
    """Fetch a page by name, logging in or making a link first where it needs one."""

    def fetch(name: str):
        if name.startswith("/"):
            return client.get(name)
        if name == "signup with errors":
            return post_form(client, "/registrieren", {"email": "kein@", "password": "kurz"})
        if name == "login with errors":
            return post_form(client, "/anmelden", {"email": "", "password": ""})
        if name == "unconfirmed login":
            make_user(email="neu@example.org", confirmed=False)
            return post_form(
                client, "/anmelden", {"email": "neu@example.org", "password": DEFAULT_PASSWORD}
            )
        user = make_user(email="konto@example.org", confirmed=name != "confirm link")
        if name == "confirm link":
            return client.get("/bestaetigen/" + _token("confirm", user))
        if name == "reset link":
            return client.get("/passwort-neu/" + _token("reset", user))
        if name == "email link":
            return client.get("/konto/email/" + _token("email", user))
        auth.login(user.email)
        if name == "account":
            return client.get("/konto")
        if name == "change email with errors":
            return post_form(client, "/konto/email", {"email": "", "current_password": ""})
        assert name == "change email"
        return client.get("/konto/email")

    return fetch


def _token(purpose: str, user: User) -> str:
    payload = {
        "confirm": {"uid": user.id, "email": user.email},
        "reset": {"uid": user.id, "h": user.password_hash[-16:]},
        "email": {"uid": user.id, "email": "neu@example.org"},
    }[purpose]
    return make_token(purpose, payload)


EVERY_PAGE = [
    *ANONYMOUS_PAGES,
    "/gibt-es-nicht",
    "/bestaetigen/kaputt",
    "signup with errors",
    "login with errors",
    "unconfirmed login",
    "confirm link",
    "reset link",
    "email link",
    "account",
    "change email",
    "change email with errors",
]


@pytest.mark.parametrize("name", EVERY_PAGE)
def test_every_page_has_the_shared_structure(name, open_page):
    response = open_page(name)
    assert response.status_code in {200, 400, 403, 404, 422}, response.status_code
    page = Page.of(response)
    assert page.lang == "de"

    # A skip link first in the body, to the one <main>.
    body = page.find("body")
    first_link = body.find("a")
    assert "skip-link" in first_link.classes
    (main,) = page.find_all("main")
    assert first_link.get("href") == "#" + main.get("id")

    assert page.h1  # exactly one <h1>, and it is not empty

    ids = [el.get("id") for el in page.find_all() if el.get("id")]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates

    for control in page.find_all():
        if control.tag not in {"input", "select", "textarea"} or control.get("type") == "hidden":
            continue
        inside_label = any(a.tag == "label" for a in control.ancestors())
        has_label = control.get("id") and page.find("label", for_=control.get("id"))
        assert inside_label or has_label, f"no label for {control}"
        for described_by in (control.get("aria-describedby") or "").split():
            assert page.by_id(described_by), f"{control} describes itself by missing {described_by}"

    for element in page.find_all():
        assert "style" not in element.attrs, f"inline style on {element}"
        assert not [a for a in element.attrs if a.startswith("on")], f"handler on {element}"
        if element.tag == "script":
            assert element.get("src"), "inline <script>"
            assert not element.text
        assert element.tag != "style", "<style> element"


# ---------------------------------------------------------------- an ended match


def test_an_ended_match_no_longer_tells_the_volunteer_why_they_fit(
    client, db, auth, make_user, make_volunteer, make_initiative, make_need
):
    """ "Warum Sie gut passen" with the score above "Zusagen ist nicht mehr möglich" read as
    an invitation; once the match ended, only the coordination still sees the reasons."""
    from after_match import build_scene

    from matching import matches
    from matching.models import utcnow

    scene = build_scene(db, make_user, make_volunteer, make_initiative, make_need)
    scene.match.score = 0.8
    scene.match.explanation = [
        {
            "name": "place",
            "contribution": 0.25,
            "de": "Berät im Stadtbezirk Ost",
            "en": "Is active in the district of Ost",
            "for": {"volunteer": {"de": "Die Initiative ist in Ihrem Stadtbezirk Ost", "en": ""}},
        }
    ]
    db.session.commit()
    auth.login("vera@example.org")
    page = client.get(f"/vermittlungen/{scene.match.id}").get_data(as_text=True)
    assert "Warum Sie gut passen" in page  # still asked: the reasons help to decide
    matches.change_status(db.session, scene.volunteer.user, scene.match, "decline", now=utcnow())
    db.session.commit()
    page = client.get(f"/vermittlungen/{scene.match.id}").get_data(as_text=True)
    assert "Warum Sie gut passen" not in page and "Übereinstimmung" not in page
    auth.logout()
    auth.login("koo@example.org")
    page = client.get(f"/vermittlungen/{scene.match.id}").get_data(as_text=True)
    assert "Warum diese Vermittlung passt" in page
