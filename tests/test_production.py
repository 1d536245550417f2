"""Production settings: proxy headers, JSON log lines, refusal without secrets."""

import json
import logging

import pytest

from config import ProductionConfig
from matching import create_app
from matching.logs import JsonFormatter


@pytest.fixture()
def production_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "kB7-production-test-key-qZ4mW9xR2vT6yN8")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("BASE_URL", "https://vernetzerboerse.example.org")
    monkeypatch.setenv("PROXY_COUNT", "1")


def test_production_trusts_one_proxy_for_address_and_scheme(production_env):
    app = create_app(ProductionConfig())
    seen = {}

    @app.get("/_probe")
    def probe():
        from flask import request

        seen.update(addr=request.remote_addr, scheme=request.scheme)
        return "ok"

    client = app.test_client()
    client.get("/_probe", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    assert seen == {"addr": "203.0.113.7", "scheme": "https"}
    assert app.config["LOG_FORMAT"] == "json"
    assert app.config["OUTBOX_SEND_AFTER_COMMIT"] is False


def test_json_log_line_is_one_object():
    record = logging.LogRecord(
        "matching", logging.WARNING, __file__, 1, "Hallo %s", ("Welt",), None
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    event = json.loads(line)
    assert (
        event["msg"] == "Hallo Welt"
        and event["level"] == "warning"
        and event["ts"].endswith("+00:00")
    )
