"""The mail seam against a real SMTP server on loopback."""

import pytest
from smtp import SmtpSink, body
from support import DEFAULT_PASSWORD, IsolatedClient, post_form

from config import TestingConfig
from matching import create_app
from matching.mail import absolute_url


@pytest.fixture()
def smtp():
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture()
def smtp_client(app, db, smtp):
    """The test app, but sending through SMTP to the loopback server."""
    backend = app.extensions["mail_backend"]
    from matching.mail.backends import SmtpBackend

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    app.extensions["mail_backend"] = SmtpBackend(app)
    app.test_client_class = IsolatedClient
    try:
        yield app.test_client()
    finally:
        app.extensions["mail_backend"] = backend
        app.config.update(MAIL_SERVER="localhost", MAIL_PORT=25)


def test_confirmation_mail_arrives_with_text_and_html_in_german(smtp_client, smtp):
    response = post_form(
        smtp_client,
        "/registrieren",
        {
            "role": "initiative",
            "first_name": "Hans",
            "email": "hans@example.org",
            "password": DEFAULT_PASSWORD,
            "privacy": "y",
        },
    )
    assert response.status_code == 302
    [message] = smtp.to("hans@example.org")
    assert message["Subject"] == "Bitte bestätigen Sie Ihre E-Mail-Adresse"
    assert message["From"].addresses[0].addr_spec == "vernetzerboerse@example.org"
    text, html = body(message, "plain"), body(message, "html")
    assert "Hallo Hans," in text
    assert "http://localhost/bestaetigen/" in text
    assert 'lang="de"' in html and "E-Mail-Adresse bestätigen" in html
    assert "<script" not in html


def test_reset_mail_arrives(smtp_client, smtp, make_user):
    make_user("grete@example.org", first_name="Grete")
    post_form(smtp_client, "/passwort-vergessen", {"email": "grete@example.org"})
    [message] = smtp.to("grete@example.org")
    assert "Passwort" in message["Subject"]
    assert "/passwort-neu/" in body(message)


def test_smtp_backend_is_chosen_from_the_environment(monkeypatch, smtp):
    monkeypatch.setenv("MAIL_BACKEND", "smtp")
    config = TestingConfig()
    assert config.MAIL_BACKEND == "smtp"
    monkeypatch.setenv("MAIL_BACKEND", "pigeon")
    with pytest.raises(RuntimeError, match="MAIL_BACKEND"):
        create_app(TestingConfig())


def test_links_in_mail_use_base_url_outside_a_request(app):
    with app.app_context():
        assert absolute_url("auth.login") == "http://localhost/anmelden"
