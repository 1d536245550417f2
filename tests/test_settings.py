"""Settings read once and checked at start-up: one line for a wrong value, weak secrets refused
in production, mail links that follow the served address in development, contact data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import CSRF_RE

from config import (
    ConfigError,
    DevelopmentConfig,
    ProductionConfig,
    Settings,
    TestingConfig,
    secret_key_problem,
)
from matching import create_app
from matching.mail import absolute_url

ROOT = Path(__file__).resolve().parents[1]
STRONG_KEY = "kB7-Ue3vXq9_Lm2Rt8Yp4Wz6Hs1Jd5Nc0Fg"


def _environment(tmp_path: Path, **values: str) -> dict[str, str]:
    """The current environment without any setting of the app, plus ``values``."""
    names = set(Settings.model_fields)
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}", **values)
    return env


def _start(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _flask(env: dict[str, str]) -> subprocess.CompletedProcess:
    return _start([sys.executable, "-m", "flask", "--app", "wsgi", "routes"], env)


# ---------------------------------------------------------------- a wrong value stops the start


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("VOLUNTEER_POOL_MAX_AGE", "abc", "expected a number"),
        ("MAIL_PORT", "x", "expected a whole number"),
        ("MAIL_PORT", "70000", "expected a number at most 65535"),
        ("PORT", "-1", "expected a number at least 1"),
        ("MAIL_USE_TLS", "vielleicht", "expected true or false"),
        ("VERNETZER_ENV", "prod", "expected one of 'development', 'testing' or 'production'"),
        ("LOG_FORMAT", "xml", "expected one of 'text' or 'json'"),
        ("RETENTION_SENT_MAIL_DAYS", "0", "expected a number above 0"),
        ("DIGEST_HOUR", "24", "expected a number at most 23"),
        ("DIGEST_DAY_OF_WEEK", "sonntag", "expected a weekday"),
        ("LOGIN_LIMIT_PER_ADDRESS", "viele", "expected a rate limit"),
        ("BASE_URL", "vernetzerboerse.example.org", "expected a web address"),
        ("ACCESSIBILITY_STATEMENT_DATE", "26.11.2026", "expected a date"),
        ("VOLUNTEER_POOL_CACHE", "memcached://x", 'expected "off", "process" or a redis:// URL'),
        ("MATCHING_WEIGHT_PHASE", "-0.5", "expected a number at least 0"),
        ("MATCHING_WEIGHT_PLACE", "viel", "expected a number"),
        ("MATCHING_LOAD_PENALTY", "nan", "expected a finite number"),
        ("MATCHING_LOAD_PENALTY", "inf", "expected a finite number"),
        ("NOT_MY_FIELD_FACTOR", "1.5", "expected a number at most 1"),
        ("PASSWORD_MIN_LENGTH", "6", "expected a number at least 8"),
    ],
)
def test_a_wrong_value_stops_the_start_with_one_line(tmp_path, name, value, expected):
    result = _flask(_environment(tmp_path, **{name: value}))

    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0
    assert "Traceback" not in output
    assert output.splitlines() == [output]
    assert f"{name}={value} is not valid" in output
    assert expected in output


def test_weights_that_add_up_to_nothing_stop_the_start(tmp_path):
    zero = {
        f"MATCHING_WEIGHT_{part}": "0" for part in ("PHASE", "PLACE", "FORMAT", "LOAD", "URGENCY")
    }
    result = _flask(_environment(tmp_path, **zero))

    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0
    assert "Traceback" not in output and output.splitlines() == [output]
    assert "at least one score weight must be above 0" in output


def test_several_wrong_values_are_named_on_the_one_line(tmp_path):
    result = _flask(_environment(tmp_path, MAIL_PORT="x", VOLUNTEER_POOL_MAX_AGE="abc"))

    output = (result.stdout + result.stderr).strip()
    assert output.splitlines() == [output]
    assert "MAIL_PORT=x" in output and "VOLUNTEER_POOL_MAX_AGE=abc" in output


def test_gunicorn_stops_with_one_line_and_no_new_workers(tmp_path):
    env = _environment(tmp_path, VERNETZER_ENV="production", MAIL_PORT="x")
    result = _start(
        [
            *(sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"),
            *("-w", "2", "-b", "127.0.0.1:0", "wsgi:app"),
        ],
        env,
    )

    ours = [line for line in result.stderr.splitlines() if "Vernetzerbörse" in line]
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert ours == [
        "Vernetzerbörse cannot start: MAIL_PORT=x is not valid: expected a whole number"
    ]
    assert "Booting worker" not in result.stderr


def test_gunicorn_without_its_config_file_stops_too(tmp_path):
    env = _environment(tmp_path, VOLUNTEER_POOL_MAX_AGE="abc")
    result = _start(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", "127.0.0.1:0", "wsgi:app"], env
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "VOLUNTEER_POOL_MAX_AGE=abc is not valid: expected a number" in result.stderr


def test_good_values_arrive_typed(monkeypatch):
    monkeypatch.setenv("MAIL_PORT", "587")
    monkeypatch.setenv("MAIL_USE_TLS", "yes")
    monkeypatch.setenv("VOLUNTEER_POOL_MAX_AGE", "2.5")
    monkeypatch.setenv("LOG_LEVEL", "warning")
    monkeypatch.setenv("MATCHING_WEIGHT_PHASE", "0.6")
    monkeypatch.setenv("ACCESSIBILITY_STATEMENT_DATE", "2027-01-15")
    monkeypatch.setenv("PASSWORD_MIN_LENGTH", "16")
    config = DevelopmentConfig()

    assert config.MAIL_PORT == 587
    assert config.MAIL_USE_TLS is True
    assert config.VOLUNTEER_POOL_MAX_AGE == 2.5
    assert config.LOG_LEVEL == "WARNING"
    assert config.MATCHING_WEIGHTS["phase"] == 0.6
    assert config.MATCHING_WEIGHTS["load_penalty"] == 0.15
    assert config.ACCESSIBILITY_STATEMENT_DATE.isoformat() == "2027-01-15"
    assert config.PASSWORD_MIN_LENGTH == 16


def test_the_test_configuration_keeps_its_own_secret_and_database(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("DATABASE_URL", "postgresql://somewhere/production")
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    config = TestingConfig()

    assert config.SECRET_KEY == "test-secret-key"
    assert config.SQLALCHEMY_DATABASE_URI == "sqlite://"


# ---------------------------------------------------------------- weak secrets in production


@pytest.fixture()
def production(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("BASE_URL", "https://vernetzerboerse.example.org")
    return monkeypatch


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("change-me-to-64-random-characters", "placeholder"),  # deploy/env.example's
        ("CHANGE_ME_" + "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5", "placeholder"),
        ("please-replace-me-with-something-long-enough", "placeholder"),
        ("dev-only-not-secret-but-long-enough-for-32", "placeholder"),
        ("x", "too short (1 bytes, at least 32)"),
        ("Kurz-aber-nicht-genug-31-Bytes!", "too short (31 bytes, at least 32)"),
        ("x" * 64, "easy to guess"),
    ],
)
def test_production_refuses_a_weak_secret(production, key, message):
    production.setenv("SECRET_KEY", key)

    with pytest.raises(ConfigError, match="SECRET_KEY") as refused:
        create_app(ProductionConfig())

    assert message in str(refused.value)
    assert "secrets.token_urlsafe(48)" in str(refused.value)  # says how to make one


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "DATABASE_URL", "BASE_URL"], ids=lambda name: f"no {name}"
)
def test_production_needs_secret_database_and_address(production, missing):
    production.delenv(missing)

    with pytest.raises(ConfigError, match=f"needs these environment variables: {missing}"):
        create_app(ProductionConfig())


def test_a_32_byte_random_key_is_accepted(production):
    assert secret_key_problem("aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF") is None
    assert secret_key_problem(STRONG_KEY) is None
    app = create_app(ProductionConfig())
    assert app.config["SECRET_KEY"] == STRONG_KEY


def test_production_with_the_example_key_stops_with_one_line(tmp_path):
    env = _environment(
        tmp_path,
        VERNETZER_ENV="production",
        SECRET_KEY="change-me-to-64-random-characters",
        BASE_URL="https://vernetzerboerse.example.org",
    )
    result = _flask(env)

    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0
    assert "Traceback" not in output and output.splitlines() == [output]
    assert "SECRET_KEY is a placeholder" in output


# ---------------------------------------------------------------- links in mail


def test_development_links_follow_the_port_outside_a_request(monkeypatch, tmp_path):
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "8000")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'dev.db'}")
    app = create_app(DevelopmentConfig())

    with app.app_context():
        assert absolute_url("auth.login") == "http://127.0.0.1:8000/anmelden"
    with app.test_request_context(base_url="http://192.168.0.7:8000"):
        assert absolute_url("auth.login") == "http://192.168.0.7:8000/anmelden"


def test_development_keeps_a_base_url_that_is_set(monkeypatch, tmp_path):
    monkeypatch.setenv("BASE_URL", "https://vernetzer.example.org/")
    monkeypatch.setenv("PORT", "8000")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'dev.db'}")
    app = create_app(DevelopmentConfig())

    with app.test_request_context(base_url="http://127.0.0.1:8000"):
        assert absolute_url("auth.login") == "https://vernetzer.example.org/anmelden"


def test_production_links_never_follow_the_request(production):
    app = create_app(ProductionConfig())

    with app.test_request_context(base_url="http://attacker.example.net"):
        assert absolute_url("auth.login") == "https://vernetzerboerse.example.org/anmelden"


def test_a_mail_sent_in_a_request_links_to_the_served_address(
    app, client, make_user, mailbox, monkeypatch
):
    monkeypatch.setitem(app.config, "BASE_URL_FROM_REQUEST", True)
    user = make_user(email="grete@example.org")
    served = "http://127.0.0.1:8000"

    page = client.get("/passwort-vergessen", base_url=served).get_data(as_text=True)
    token = next(group for group in CSRF_RE.search(page).groups() if group)
    client.post(
        "/passwort-vergessen", data={"csrf_token": token, "email": user.email}, base_url=served
    )

    [mail] = mailbox
    assert f"{served}/passwort-neu/" in mail.text
    assert "127.0.0.1:5000" not in mail.text and "http://localhost" not in mail.text


def test_make_run_hands_the_port_to_the_app():
    makefile = (ROOT / "Makefile").read_text()
    assert "export PORT" in makefile
    assert "--port $(PORT)" in makefile


# ---------------------------------------------------------------- phone and postal address

PHONE = "0711 123456-0"
ADDRESS = "Musterstraße 1, 70173 Stuttgart"


@pytest.fixture()
def contact(app, monkeypatch):
    monkeypatch.setitem(app.config, "CONTACT_PHONE", PHONE)
    monkeypatch.setitem(app.config, "CONTACT_ADDRESS", ADDRESS)


@pytest.mark.parametrize("path", ["/", "/barrierefreiheit", "/gibt-es-nicht"])
def test_phone_and_address_are_shown_where_set(client, contact, path):
    html = client.get(path).get_data(as_text=True)

    assert PHONE in html
    assert 'href="tel:0711123456-0"' in html
    assert ADDRESS in html


def test_the_statement_offers_the_phone_where_set(client, contact):
    html = client.get("/barrierefreiheit").get_data(as_text=True)

    assert "Wer nicht online ist, kann anrufen" in html
    assert "einen Brief schreiben" in html


def test_an_error_page_offers_the_phone(client, contact):
    response = client.get("/gibt-es-nicht")

    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Rufen Sie uns an:" in html


@pytest.mark.parametrize("path", ["/", "/barrierefreiheit", "/gibt-es-nicht"])
def test_no_page_promises_a_phone_where_none_is_set(client, path):
    html = client.get(path).get_data(as_text=True)

    assert "anrufen" not in html and "Rufen Sie" not in html
    assert "tel:" not in html
    assert "Telefon:" not in html and "Post:" not in html
    assert "kontakt@example.org" in html  # the e-mail address is always there


def test_development_and_the_example_environment_set_phone_and_address(monkeypatch):
    monkeypatch.delenv("CONTACT_PHONE", raising=False)
    monkeypatch.delenv("CONTACT_ADDRESS", raising=False)
    config = DevelopmentConfig()
    assert config.CONTACT_PHONE and config.CONTACT_ADDRESS

    example = (ROOT / "deploy" / "env.example").read_text()
    assert "\nCONTACT_PHONE=" in example and "\nCONTACT_ADDRESS=" in example
