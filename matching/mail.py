"""The one place that builds and sends mail.

``build`` renders a text and an HTML part from ``templates/emails/<kind>.txt|.html``
in the recipient's language; ``send`` hands the message to the configured backend
(``MAIL_BACKEND``: ``console`` prints it, ``smtp`` delivers it, ``memory`` keeps it
for tests). The durable outbox slots in behind ``send``.
"""

from __future__ import annotations

import smtplib
import sys
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import Flask, current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Mail:
    """A rendered message, ready for a backend."""

    to: str
    subject: str
    text: str
    html: str
    kind: str
    headers: dict[str, str] = field(default_factory=dict)


def absolute_url(endpoint: str, **values) -> str:
    """A full URL for a link in a mail, based on BASE_URL so it works outside a request too."""
    base = current_app.config["BASE_URL"].rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context(base_url=base):
        return base + url_for(endpoint, **values)


def build(to: str, kind: str, locale: str, subject, **context) -> Mail:
    """Render mail ``kind`` for one recipient in ``locale``; ``subject`` may be a lazy string."""
    with force_locale(locale):
        context = {"site_name": current_app.config["SITE_NAME"], **context}
        text = render_template(f"emails/{kind}.txt", **context)
        html = render_template(f"emails/{kind}.html", **context)
        return Mail(to=to, subject=str(subject), text=text, html=html, kind=kind)


def to_email_message(mail: Mail, sender: str) -> EmailMessage:
    """The MIME message with a plain text part and an HTML alternative."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or None)
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


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
    """Deliver one message through the configured backend."""
    current_app.extensions["mail_backend"].send(mail)


def send_to_user(user, kind: str, subject, **context) -> Mail:
    """Build mail ``kind`` for a user in their language and send it."""
    mail = build(user.email, kind, user.locale, subject, user=user, **context)
    send(mail)
    return mail


_PENDING = "vernetzer_pending_mail"


def enqueue(session: Session, mail: Mail) -> Mail:
    """Deliver ``mail`` once the session's transaction commits; forget it on rollback.

    So a mail never announces a change that did not happen. (The durable outbox
    replaces the delivery after commit with a row in the same transaction.)
    """
    session.info.setdefault(_PENDING, []).append(mail)
    return mail


def enqueue_for_user(session: Session, user, kind: str, subject, **context) -> Mail:
    """Build mail ``kind`` for a user in their language and deliver it after commit."""
    return enqueue(session, build(user.email, kind, user.locale, subject, user=user, **context))


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    for mail in session.info.pop(_PENDING, []):
        try:
            send(mail)
        except Exception:  # the change is committed; a failed mail must not turn it into a 500
            current_app.logger.exception("mail %s to %s could not be sent", mail.kind, mail.to)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING, None)
