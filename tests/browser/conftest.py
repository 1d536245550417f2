"""A live server with a real SMTP sink, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from smtp import SmtpSink, body, free_port
from werkzeug.serving import make_server

from config import TestingConfig
from matching import create_app

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class LiveServer:
    url: str
    app: Flask
    smtp: SmtpSink

    def link_in_mail(self, address: str, path_prefix: str) -> str:
        """The first link starting with ``path_prefix`` in the newest mail to ``address``."""
        assert self.smtp.arrived.wait(10), "no mail arrived"
        messages = self.smtp.to(address)
        assert messages, f"no mail to {address}"
        text = body(messages[-1])
        match = re.search(rf"{re.escape(self.url)}{re.escape(path_prefix)}\S+", text)
        assert match, text
        return match.group(0)


class LiveConfig(TestingConfig):
    """A file database (the server thread has its own connections) and SMTP on loopback."""

    def __init__(self, db_path: Path, port: int, smtp_port: int) -> None:
        super().__init__()
        self.SQLALCHEMY_DATABASE_URI = f"sqlite:///{db_path}"
        self.MAIL_BACKEND = "smtp"
        self.MAIL_SERVER = "127.0.0.1"
        self.MAIL_PORT = smtp_port
        self.BASE_URL = f"http://127.0.0.1:{port}"
        # Every browser test signs up from 127.0.0.1: the per-address limits on mail-sending
        # forms would count the whole suite as one person.
        self.MAIL_LIMIT_PER_ADDRESS = "200 per hour"
        self.SIGNUP_LIMIT_PER_ADDRESS = "200 per hour"


def _buffered(app):
    """Read each response to the end and close it before sending.

    The development server does not close a response whose client went away (the browser
    drops a favicon request it no longer needs), which leaves a static file open and shows
    up as a ResourceWarning in a later test.
    """

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> LiveServer:
    smtp = SmtpSink().start()
    port = free_port()
    db_path = tmp_path_factory.mktemp("live") / "live.db"
    app = create_app(LiveConfig(db_path, port, smtp.port))
    with app.app_context():
        upgrade()
    server = make_server("127.0.0.1", port, _buffered(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", app=app, smtp=smtp)
    finally:
        server.shutdown()
        thread.join(5)
        smtp.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()
