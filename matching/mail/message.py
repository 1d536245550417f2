"""Building a mail: text and HTML part from ``templates/emails/<kind>.txt|.html``."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import formatdate, make_msgid

from flask import current_app, has_request_context, render_template, request, url_for
from flask_babel import force_locale


@dataclass(frozen=True)
class Mail:
    """A rendered message, ready for a backend."""

    to: str
    subject: str
    text: str
    html: str
    kind: str
    headers: dict[str, str] = field(default_factory=dict)
    # An RFC 5545 calendar (a meeting invitation), sent as text/calendar beside the text.
    calendar: str = ""


class UrlListHeader(UnstructuredHeader):
    """A list of <URL>s (RFC 2369, e.g. List-Unsubscribe), folded only between the URLs.

    The default folding turns a long URL into RFC 2047 encoded words, which mail
    programs do not decode in these headers, so the one-click unsubscribe would be lost.
    """

    def fold(self, *, policy) -> str:
        value = str(self)
        if not value.isascii():
            return super().fold(policy=policy)
        return f"{self.name}: " + f",{policy.linesep} ".join(value.split(", ")) + policy.linesep


_headers = HeaderRegistry()
_headers.map_to_type("list-unsubscribe", UrlListHeader)
POLICY = default_policy.clone(header_factory=_headers)


def link_base() -> str:
    """Where links in mail point: BASE_URL; in development without it, the address that the
    request came to (outside a request: PORT's, config.DevelopmentConfig)."""
    if current_app.config.get("BASE_URL_FROM_REQUEST") and has_request_context():
        return request.host_url.rstrip("/")
    return current_app.config["BASE_URL"].rstrip("/")


def absolute_url(endpoint: str, **values) -> str:
    """A full URL for a link in a mail, based on BASE_URL so it works outside a request too."""
    base = link_base()
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
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    if "Message-ID" not in mail.headers:
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or None)
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    if mail.calendar:
        _attach_calendar(message, mail.calendar)
    return message


def _attach_calendar(message: EmailMessage, calendar: str) -> None:
    """The invitation as a text/calendar part with its METHOD, and as an invite.ics download."""
    method = "CANCEL" if "METHOD:CANCEL" in calendar else "REQUEST"
    message.add_alternative(calendar, subtype="calendar", params={"method": method})
    message.make_mixed()
    message.add_attachment(
        calendar.encode(), maintype="application", subtype="ics", filename="invite.ics"
    )
