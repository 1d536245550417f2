"""The durable outbox: every mail is a row written with the change that caused it.

A sender claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; one atomic
UPDATE under SQLite's write lock), sends them, and marks each sent; a temporary
failure is retried with exponential backoff and jitter, a permanent one (5xx)
marks the row failed. A claim expires, so a sender that dies mid-batch loses
nothing; two senders never hold the same row, so nothing is sent twice.
"""

from __future__ import annotations

import hashlib
import random
import smtplib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matching.mail.backends import send
from matching.mail.message import Mail
from matching.models import OutboxMessage, OutboxStatus, utcnow

S = OutboxStatus
CLAIM_SECONDS = 300
MAX_ATTEMPTS = 8
BASE_DELAY_SECONDS = 60
MAX_DELAY_SECONDS = 6 * 3600
_NEW = "outbox_new"
_COMMITTED = "outbox_committed"


class PermanentFailure(Exception):
    """The server refused the message for good (5xx); retrying will not help."""


def enqueue(session: Session, mail: Mail, *, key: str | None = None, user_id: int | None = None):
    """Write ``mail`` to the outbox in the session's transaction; None if ``key`` was used before."""
    fresh = key is None  # a key made here cannot have been used: no look-up, no savepoint
    key = key or f"{mail.kind}:{uuid.uuid4().hex}"
    if not fresh and session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)
    ):
        return None
    row = OutboxMessage(
        idempotency_key=key,
        kind=mail.kind,
        recipient=mail.to,
        user_id=user_id,
        subject=mail.subject,
        text_body=mail.text,
        html_body=mail.html,
        headers=dict(mail.headers) or None,
        calendar=mail.calendar or None,
        status=S.PENDING,
        next_attempt_at=utcnow(),
    )
    if fresh:
        session.add(row)
        session.flush()
    else:
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # the same key, written by a concurrent transaction
            return None
    session.info.setdefault(_NEW, []).append(row.id)
    return row


def drop_unsent(session: Session, key_prefix: str) -> int:
    """Mark the not yet sent rows whose key starts with ``key_prefix`` as dropped.

    For a mail that the change being made outdates (a question already answered): the sender
    only sends rows it holds as pending or sending, so a dropped row stays unsent.
    """
    dropped = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.idempotency_key.startswith(key_prefix, autoescape=True),
            OutboxMessage.status.in_((S.PENDING, S.SENDING)),
        )
        .values(status=S.DROPPED, claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return dropped.rowcount or 0


def committed_ids(session: Session) -> list[int]:
    """Ids of outbox rows whose transaction has committed since the last call."""
    return session.info.pop(_COMMITTED, [])


def mark_committed(session: Session) -> None:
    session.info.setdefault(_COMMITTED, []).extend(session.info.pop(_NEW, []))


def forget_uncommitted(session: Session) -> None:
    session.info.pop(_NEW, None)


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential delay with full jitter: up to 1, 2, 4 … minutes, at most six hours."""
    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))


def _due(now: datetime):
    claim_expired = (OutboxMessage.status == S.SENDING) & (OutboxMessage.claimed_until < now)
    waiting = (OutboxMessage.status == S.PENDING) & (OutboxMessage.next_attempt_at <= now)
    return waiting | claim_expired


def due_count(session: Session, now: datetime) -> int:
    """How many rows a sender would take at ``now`` (for a dry run and a progress bar)."""
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(_due(now)))


def claim(session: Session, now: datetime, limit: int, ids: list[int] | None = None) -> list[int]:
    """Take up to ``limit`` due rows for this sender and commit the claim."""
    sender = uuid.uuid4().hex
    until = now + timedelta(seconds=CLAIM_SECONDS)
    due = select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id).limit(limit)
    if ids is not None:
        due = due.where(OutboxMessage.id.in_(ids))
    if session.get_bind().dialect.name == "postgresql":
        chosen = session.scalars(due.with_for_update(skip_locked=True)).all()
        condition = OutboxMessage.id.in_(chosen)
    else:
        # SQLite: one UPDATE is atomic under the database write lock.
        condition = OutboxMessage.id.in_(due.scalar_subquery()) & _due(now)
    session.execute(
        update(OutboxMessage)
        .where(condition)
        .values(status=S.SENDING, claimed_by=sender, claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.claimed_by == sender, OutboxMessage.status == S.SENDING)
        .order_by(OutboxMessage.id)
    ).all()


def _classify(exc: Exception) -> Exception:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return PermanentFailure(str(exc)) if codes and min(codes) >= 500 else exc
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500:
        return PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}")
    return exc


@dataclass
class DrainResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"sent": self.sent, "retried": self.retried, "failed": self.failed}


def _to_mail(row: OutboxMessage) -> Mail:
    # One Message-ID per outbox row: if a crash between the server's "250" and marking the
    # row sent makes us send it again, mail programs see the same message and drop the copy.
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    domain = sender.rpartition("@")[2].strip("> ") or "vernetzerboerse.invalid"
    digest = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:16]
    headers = {"Message-ID": f"<outbox-{row.id}-{digest}@{domain}>"}
    headers.update(row.headers or {})
    return Mail(
        to=row.recipient,
        subject=row.subject,
        text=row.text_body,
        html=row.html_body,
        kind=row.kind,
        headers=headers,
        calendar=row.calendar or "",
    )


def _send_one(session: Session, row_id: int, result: DrainResult, now_fn) -> None:
    row = session.get(OutboxMessage, row_id)
    if row is None or row.status != S.SENDING:
        return
    try:
        send(_to_mail(row))
    except Exception as raw:
        exc = _classify(raw)
        row.attempts += 1
        row.last_error = f"{type(raw).__name__}: {raw}"[:2000]
        row.claimed_by = None
        row.claimed_until = None
        if isinstance(exc, PermanentFailure) or row.attempts >= MAX_ATTEMPTS:
            row.status = S.FAILED
            result.failed += 1
            current_app.logger.error("outbox %s failed for good: %s", row.id, row.last_error)
        else:
            row.status = S.PENDING
            row.next_attempt_at = now_fn() + backoff(row.attempts)
            result.retried += 1
            current_app.logger.warning("outbox %s will be retried: %s", row.id, row.last_error)
        result.errors.append(row.last_error)
    else:
        row.status = S.SENT
        row.sent_at = now_fn()
        row.attempts += 1
        row.claimed_by = None
        row.claimed_until = None
        result.sent += 1
    session.commit()


def drain(
    session: Session,
    now: datetime | None = None,
    *,
    batch: int = 50,
    ids: list[int] | None = None,
    max_batches: int | None = None,
    progress=None,
) -> DrainResult:
    """Send due mail in batches until none is due (or ``max_batches`` ran).

    A given ``now`` is the earliest the drain's clock may read (claims, retry and sent
    times): a job's ``now`` is its start, and a long drain moves on with the real clock so
    that its claims do not expire early; a ``now`` in the future (a test's "later") holds,
    so a row retried in this drain is not due again before the drain ends.
    """
    result = DrainResult()
    now_fn = (lambda: max(now, utcnow())) if now is not None else utcnow
    rounds = 0
    while max_batches is None or rounds < max_batches:
        claimed = claim(session, now_fn(), batch, ids)
        if not claimed:
            break
        rounds += 1
        for row_id in claimed:
            _send_one(session, row_id, result, now_fn)
            if progress:
                progress(1)
        if ids is not None:
            break
    return result


def deliver_committed(session: Session) -> DrainResult | None:
    """Send the rows this session committed, right away (development and small setups)."""
    ids = committed_ids(session)
    if not ids:
        return None
    try:
        return drain(session, ids=ids)
    except (OSError, smtplib.SMTPException):  # the rows stay for the sender job
        current_app.logger.exception("sending right after the change failed; the outbox keeps it")
        session.rollback()
        return None
