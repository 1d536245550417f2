"""Mail backends chosen by MAIL_BACKEND: console (prints), smtp (delivers), memory (tests)."""

from __future__ import annotations

import smtplib
import sys

from flask import Flask, current_app

from matching.mail.message import Mail, to_email_message


class ConsoleBackend:
    """Prints each message, for development."""

    def __init__(self, app: Flask) -> None:
        self.sender = app.config["MAIL_DEFAULT_SENDER"]

    def send(self, mail: Mail) -> None:
        message = to_email_message(mail, self.sender)
        print("-" * 72, file=sys.stdout)
        print(f"Mail an {mail.to}: {mail.subject}", file=sys.stdout)
        print("-" * 72, file=sys.stdout)
        print(mail.text, file=sys.stdout, flush=True)
        current_app.logger.debug("mail %s printed (%d bytes)", mail.kind, len(bytes(message)))


class MemoryBackend:
    """Keeps messages in a list, for tests."""

    def __init__(self, app: Flask) -> None:
        self.outbox: list[Mail] = []

    def send(self, mail: Mail) -> None:
        self.outbox.append(mail)


class SmtpBackend:
    """Delivers over SMTP with the MAIL_* settings."""

    def __init__(self, app: Flask) -> None:
        self.config = app.config

    def send(self, mail: Mail) -> None:
        cfg = self.config
        message = to_email_message(mail, cfg["MAIL_DEFAULT_SENDER"])
        with smtplib.SMTP(
            cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"]
        ) as smtp:
            if cfg["MAIL_USE_TLS"]:
                smtp.starttls()
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            smtp.send_message(message)


BACKENDS = {"console": ConsoleBackend, "smtp": SmtpBackend, "memory": MemoryBackend}


def init_app(app: Flask) -> None:
    """Choose the backend named by MAIL_BACKEND."""
    name = app.config["MAIL_BACKEND"]
    if name not in BACKENDS:
        raise RuntimeError(f"MAIL_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")
    app.extensions["mail_backend"] = BACKENDS[name](app)


def send(mail: Mail) -> None:
    """Deliver one message through the configured backend now (the outbox calls this)."""
    current_app.extensions["mail_backend"].send(mail)
