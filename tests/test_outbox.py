"""The durable outbox against a real SMTP server on loopback (aiosmtpd).

Time is injected: each drain gets a ``now``, so "later" is a later ``now``, never a sleep.
Every test ends by asking the server what arrived: each message exactly once.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta

import pytest
from smtp import GarbageServer, SmtpSink
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from matching.extensions import db as _db
from matching.mail import Mail, outbox
from matching.mail.backends import SmtpBackend
from matching.models import OutboxMessage, OutboxStatus, utcnow

S = OutboxStatus


@contextmanager
def smtp_on(app, port: int):
    """The app sends through SMTP to 127.0.0.1:``port`` inside the block."""
    backend = app.extensions["mail_backend"]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5)
    app.extensions["mail_backend"] = SmtpBackend(app)
    try:
        yield
    finally:
        app.extensions["mail_backend"] = backend
        app.config.update(MAIL_SERVER="localhost", MAIL_PORT=25, MAIL_TIMEOUT=20)


@contextmanager
def running(sink):
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


def _mail(number: int, to: str | None = None) -> Mail:
    return Mail(
        to=to or f"person{number}@example.org",
        subject=f"Nachricht {number}",
        text=f"Text {number}",
        html=f"<p>Text {number}</p>",
        kind="test",
    )


def queue(session, count: int, *, start: int = 1, to: str | None = None) -> list[int]:
    """Queue ``count`` messages and commit; their ids."""
    rows = [
        outbox.enqueue(session, _mail(n, to), key=f"test:{n}") for n in range(start, start + count)
    ]
    session.commit()
    return [row.id for row in rows]


def rows(session) -> list[OutboxMessage]:
    session.expire_all()
    return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def assert_each_once(sink: SmtpSink, count: int, start: int = 1) -> None:
    arrived = Counter(sink.subjects())
    assert arrived == Counter(f"Nachricht {n}" for n in range(start, start + count))


def test_smtp_down_for_a_while_then_back_delivers_everything_once(app, db):
    sink = SmtpSink()  # its port is chosen, but nothing listens yet
    queue(db.session, 5)
    start = utcnow()
    with smtp_on(app, sink.port):
        down = outbox.drain(db.session, start)
        assert (down.sent, down.retried, down.failed) == (0, 5, 0)
        first_retry = [r.next_attempt_at for r in rows(db.session)]
        assert all(r.status == S.PENDING and r.attempts == 1 for r in rows(db.session))
        assert "ConnectionRefusedError" in rows(db.session)[0].last_error
        # Not due again before the backoff has passed.
        assert outbox.drain(db.session, start + timedelta(seconds=20)).retried == 0
        still_down = outbox.drain(db.session, start + timedelta(minutes=2))
        assert still_down.retried == 5
        assert all(r.attempts == 2 for r in rows(db.session))
        assert min(r.next_attempt_at for r in rows(db.session)) > max(first_retry)

        with running(sink):
            back = outbox.drain(db.session, start + timedelta(minutes=10))
            again = outbox.drain(db.session, start + timedelta(minutes=20))

    assert (back.sent, back.retried, back.failed) == (5, 0, 0)
    assert (again.sent, again.retried) == (0, 0)
    assert_each_once(sink, 5)
    assert {(r.status, r.attempts) for r in rows(db.session)} == {(S.SENT, 3)}


@pytest.mark.parametrize(
    ("stage", "reply"),
    [("rcpt", "450 4.2.1 Mailbox busy, try later"), ("data", "451 4.3.0 Try again later")],
)
def test_a_4xx_is_retried_and_then_succeeds(app, db, stage, reply):
    refused: set[str] = set()

    def once(item) -> str | None:
        name = str(item if stage == "rcpt" else item["To"])
        if name in refused:
            return None
        refused.add(name)
        return reply

    sink = SmtpSink(**{f"{stage}_reply": once})
    queue(db.session, 3)
    start = utcnow()
    with smtp_on(app, sink.port), running(sink):
        first = outbox.drain(db.session, start)
        assert (first.sent, first.retried, first.failed) == (0, 3, 0)
        assert reply[:3] in rows(db.session)[0].last_error
        assert sink.messages == []
        second = outbox.drain(db.session, start + timedelta(minutes=5))
    assert (second.sent, second.retried, second.failed) == (3, 0, 0)
    assert_each_once(sink, 3)


@pytest.mark.parametrize(
    ("stage", "reply"),
    [("rcpt", "550 5.1.1 No such user"), ("data", "554 5.7.1 Message refused")],
)
def test_a_5xx_fails_the_message_for_good(app, db, stage, reply):
    def refuse_nobody(item) -> str | None:
        address = str(item if stage == "rcpt" else item["To"])
        return reply if address.startswith("nobody@") else None

    sink = SmtpSink(**{f"{stage}_reply": refuse_nobody})
    queue(db.session, 1, to="nobody@example.org")
    queue(db.session, 1, start=2)
    start = utcnow()
    with smtp_on(app, sink.port), running(sink):
        result = outbox.drain(db.session, start)
        later = outbox.drain(db.session, start + timedelta(days=2))
    assert (result.sent, result.retried, result.failed) == (1, 0, 1)
    assert (later.sent, later.retried, later.failed) == (0, 0, 0)
    refused, delivered = rows(db.session)
    assert (refused.status, refused.attempts) == (S.FAILED, 1)
    assert reply[:3] in refused.last_error
    assert delivered.status == S.SENT
    assert_each_once(sink, 1, start=2)


def test_a_server_answering_garbage_is_a_logged_retried_failure(app, db, caplog):
    server = GarbageServer().start()
    try:
        queue(db.session, 1)
        with smtp_on(app, server.port):
            result = outbox.drain(db.session, utcnow())
    finally:
        server.stop()
    assert (result.sent, result.retried, result.failed) == (0, 1, 0)
    [row] = rows(db.session)
    assert row.status == S.PENDING and "SMTPConnectError" in row.last_error
    assert server.connections == 1
    assert "will be retried" in caplog.text


def test_temporary_failures_end_as_failed_after_max_attempts(app, db):
    sink = SmtpSink()  # never started: refused every time
    queue(db.session, 1)
    moment = utcnow()
    with smtp_on(app, sink.port):
        for _ in range(outbox.MAX_ATTEMPTS + 2):
            outbox.drain(db.session, moment)
            moment += timedelta(seconds=outbox.MAX_DELAY_SECONDS + 1)
    [row] = rows(db.session)
    assert (row.status, row.attempts) == (S.FAILED, outbox.MAX_ATTEMPTS)


def test_the_drain_clock_never_runs_behind_the_real_one(app, db):
    """A job's ``now`` is its start; a drain that runs long retries from the real time."""
    sink = SmtpSink()  # down
    queue(db.session, 1)
    before = utcnow()
    with smtp_on(app, sink.port):
        outbox.drain(db.session, before - timedelta(hours=1))
    [row] = rows(db.session)
    assert row.attempts == 1
    assert row.next_attempt_at >= before + timedelta(seconds=outbox.BASE_DELAY_SECONDS / 2)


def test_a_sender_killed_mid_batch_loses_nothing_and_sends_nothing_twice(app, db):
    queue(db.session, 6)
    start = utcnow()
    sink = SmtpSink()
    with smtp_on(app, sink.port), running(sink):
        # The first sender sends two, claims the other four and dies before sending them.
        assert outbox.drain(db.session, start, batch=2, max_batches=1).sent == 2
        orphaned = outbox.claim(db.session, start, limit=10)
        assert len(orphaned) == 4
        # Its claims hold for CLAIM_SECONDS: nobody else may send those four meanwhile.
        early = outbox.drain(db.session, start + timedelta(seconds=outbox.CLAIM_SECONDS - 1))
        assert early.sent == 0
        # Then another sender takes them over.
        late = outbox.drain(db.session, start + timedelta(seconds=outbox.CLAIM_SECONDS + 1))
        after = outbox.drain(db.session, start + timedelta(hours=1))
    assert (late.sent, after.sent) == (4, 0)
    assert_each_once(sink, 6)
    assert {r.status for r in rows(db.session)} == {S.SENT}


def test_backoff_grows_exponentially_with_jitter_up_to_a_ceiling():
    rng = random.Random(7)
    base, most = outbox.BASE_DELAY_SECONDS, outbox.MAX_DELAY_SECONDS
    for attempts in range(1, 12):
        ceiling = min(most, base * 2 ** (attempts - 1))
        samples = [outbox.backoff(attempts, rng).total_seconds() for _ in range(50)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        assert len(set(samples)) > 40  # jitter: two senders do not retry in step
    medians = [
        sorted(outbox.backoff(a, rng).total_seconds() for _ in range(51))[25] for a in range(1, 8)
    ]
    assert medians == sorted(medians) and medians[-1] > 30 * medians[0]
    assert outbox.backoff(50, rng) <= timedelta(seconds=most)


def test_the_idempotency_key_queues_a_message_once(db):
    first = outbox.enqueue(db.session, _mail(1), key="digest:7:volunteer:2026-W10")
    again = outbox.enqueue(db.session, _mail(1), key="digest:7:volunteer:2026-W10")
    db.session.commit()
    assert first is not None and again is None
    assert len(rows(db.session)) == 1


def test_dropping_by_key_prefix_touches_only_unsent_rows_of_that_prefix(db):
    keys = ["question:1:0:5", "question:1:0:6", "question:12:0:5", "question:1_:0:5", "other:1"]
    made = {key: outbox.enqueue(db.session, _mail(n), key=key) for n, key in enumerate(keys)}
    made["question:1:0:6"].status = OutboxStatus.SENT
    db.session.commit()
    assert outbox.drop_unsent(db.session, "question:1:") == 1
    db.session.commit()
    status = {row.idempotency_key: row.status for row in rows(db.session)}
    assert status == {
        "question:1:0:5": OutboxStatus.DROPPED,
        "question:1:0:6": OutboxStatus.SENT,
        "question:12:0:5": OutboxStatus.PENDING,
        "question:1_:0:5": OutboxStatus.PENDING,
        "other:1": OutboxStatus.PENDING,
    }
    assert outbox.due_count(db.session, utcnow()) == 3


def test_the_database_refuses_a_second_row_with_the_same_key(db):
    outbox.enqueue(db.session, _mail(1), key="same")
    db.session.commit()
    twin = OutboxMessage(
        idempotency_key="same",
        kind="test",
        recipient="x@example.org",
        subject="s",
        text_body="t",
        html_body="h",
    )
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(twin)
        db.session.flush()


# --- two senders at once: real connections, so committed rows (PostgreSQL only) -----------


@pytest.fixture()
def committed(app):
    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            pytest.skip("two senders need row locks (FOR UPDATE SKIP LOCKED): PostgreSQL only")
        try:
            yield _db
        finally:
            _db.session.rollback()
            _db.session.execute(text("TRUNCATE outbox, job_runs RESTART IDENTITY CASCADE"))
            _db.session.commit()
            _db.session.remove()


@pytest.mark.postgres
def test_two_senders_in_parallel_send_every_message_exactly_once(app, committed):
    count = 60
    queue(committed.session, count)
    barrier = threading.Barrier(2)
    results: list = [None, None]
    sink = SmtpSink()

    def sender(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results[index] = outbox.drain(_db.session, batch=5)
            finally:
                _db.session.remove()

    with smtp_on(app, sink.port), running(sink):
        threads = [threading.Thread(target=sender, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

    assert all(r is not None for r in results), "a sender did not finish"
    assert sum(r.sent for r in results) == count
    assert sum(r.retried + r.failed for r in results) == 0
    assert_each_once(sink, count)
    assert {r.status for r in rows(committed.session)} == {S.SENT}
