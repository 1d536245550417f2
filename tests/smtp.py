"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Collect:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self.sink.rcpt_reply(address) if self.sink.rcpt_reply else None
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        refusal = self.sink.data_reply(message) if self.sink.data_reply else None
        if refusal:
            return refusal
        with self.sink.lock:
            self.sink.messages.append(message)
            self.sink.recipients.append(list(envelope.rcpt_tos))
        self.sink.arrived.set()
        return "250 Message accepted"


# A hook answers a recipient address or a received message with None (accept) or an
# SMTP reply that refuses it, e.g. "451 4.3.0 Try again later" or "550 5.1.1 No such user".
ReplyHook = Callable[[Any], str | None]


class SmtpSink:
    """Start with ``start()``; received mails are in ``messages`` (EmailMessage objects).

    ``rcpt_reply`` and ``data_reply`` let a test play a server that refuses, for a while
    or for good; a refused message is not kept.
    """

    def __init__(
        self, *, rcpt_reply: ReplyHook | None = None, data_reply: ReplyHook | None = None
    ) -> None:
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.lock = threading.Lock()
        self.arrived = threading.Event()
        self.controller: Controller | None = None

    def start(self) -> SmtpSink:
        # Made here, not in __init__: a sink that is never started (a server that is
        # "down") leaves no event loop behind.
        self.controller = Controller(_Collect(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.recipients.clear()
        self.arrived.clear()

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(m["Subject"]) for m in self.messages]

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


def body(message: EmailMessage, subtype: str = "plain") -> str:
    """The text or HTML part of a received mail."""
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no {subtype} part"
    return part.get_content()


class GarbageServer:
    """A TCP server on loopback that answers every connection with a line that is not SMTP."""

    def __init__(self, line: bytes = b"hello? this is not smtp\r\n") -> None:
        self.line = line
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.05)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _addr = self.server.accept()
            except TimeoutError:
                continue
            with conn:
                self.connections += 1
                conn.sendall(self.line)

    def start(self) -> GarbageServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.server.close()
