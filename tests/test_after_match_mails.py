"""Snapshots of the mails after the match (thread, meeting, finishing), as in test_mail_snapshots."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from itsdangerous.timed import TimestampSigner
from test_mail_snapshots import assert_mail_snapshot

from matching import mail

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
THREAD = "http://localhost/vermittlungen/31/nachrichten#neu"
SETTINGS = "http://localhost/konto/nachrichten-mail"


@pytest.fixture(autouse=True)
def fixed_time(app, monkeypatch):
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(NOW.timestamp()))
    with app.app_context():
        yield


def _need():
    return SimpleNamespace(
        title="Wie finden wir Mitstreiter:innen?",
        district="ost",
        initiative=SimpleNamespace(name="Nachbarschaft Gablenberg"),
    )


INES = SimpleNamespace(first_name="Ines", email="ines@example.org")
VERA = SimpleNamespace(first_name="Vera", email="vera@example.org")


def _message(body):
    return SimpleNamespace(body=body)


def test_thread_messages_mail():
    message = mail.build(
        INES.email,
        "thread_messages",
        "de",
        "Neue Nachricht zu „Wie finden wir Mitstreiter:innen?“",
        user=INES,
        need=_need(),
        messages=[
            ("Vera (Expert:in)", _message("Geht es um einen Verein oder eine lose Gruppe?")),
            ("Vera (Expert:in)", _message("Und: <b>wie viele</b> seid ihr?\nhttps://example.org")),
        ],
        thread_url=THREAD,
        settings_url=SETTINGS,
    )
    assert_mail_snapshot("thread_messages", message)
    assert "&lt;b&gt;wie viele&lt;/b&gt;" in message.html  # text stays text
    assert 'href="https://example.org"' not in message.html


def test_thread_summary_mail():
    message = mail.build(
        VERA.email,
        "thread_summary",
        "de",
        "Ihre Nachrichten des Tages",
        user=VERA,
        sections=[
            (
                _need(),
                THREAD,
                [("Ines (Initiative)", _message("Eine lose Gruppe, wir sind zu zwölft."))],
            )
        ],
        settings_url=SETTINGS,
    )
    assert_mail_snapshot("thread_summary", message)
