"""The scheduled jobs with injected time, the scheduler's configuration and lock, the CLI.

Each job runs twice: the second run finds nothing left to do.
"""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import has_app_context
from sqlalchemy import func, select

from config import BASE_DIR
from jobs import registry, scheduler, tasks
from jobs.cli import progress_bar, summary_line
from jobs.lock import AdvisoryLock, FileLock, scheduler_lock
from matching.extensions import db as _db
from matching.mail import Mail, outbox
from matching.models import (
    AuditEntry,
    ConsentRecord,
    JobRun,
    Match,
    MatchStatus,
    NeedStatus,
    OutboxMessage,
    User,
    UserRole,
)

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 2 March 2026, 07:00 in Berlin (winter time, UTC+1).
MONDAY_7 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def job_runs(session, name: str) -> list[JobRun]:
    return session.scalars(select(JobRun).where(JobRun.job == name).order_by(JobRun.id)).all()


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


# --- expire_needs ---------------------------------------------------------------------------


def test_expire_needs_uses_the_day_in_berlin_and_runs_once(db, make_initiative, make_need):
    initiative, _member = make_initiative()
    # 23:30 UTC on 1 March is already 2 March in Berlin.
    now = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    past = make_need(initiative, title="Gestern abgelaufen")
    today = make_need(initiative, title="Läuft heute ab")
    draft = make_need(initiative, status=NeedStatus.DRAFT, title="Entwurf")
    matched = make_need(initiative, status=NeedStatus.MATCHED, title="Vermittelt")
    past.expires_on = date(2026, 3, 1)
    today.expires_on = date(2026, 3, 2)
    draft.expires_on = matched.expires_on = date(2026, 2, 1)
    db.session.commit()

    assert tasks.expire_needs(db.session, now) == {"expired": 1, "skipped": 0}
    assert tasks.expire_needs(db.session, now + timedelta(hours=1)) == {
        "expired": 0,
        "skipped": 0,
    }

    assert (past.status, past.closed_at) == (NeedStatus.EXPIRED, now)
    assert today.status == NeedStatus.OPEN
    assert (draft.status, matched.status) == (NeedStatus.DRAFT, NeedStatus.MATCHED)
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "need.expire"))
    assert (entry.object_id, entry.actor_id, entry.to_state) == (past.id, None, "expired")
    first, second = job_runs(db.session, "expire_needs")
    assert (first.ok, first.dry_run, first.summary, first.started_at) == (
        True,
        False,
        {"expired": 1, "skipped": 0},
        now,
    )
    assert first.finished_at >= first.started_at
    assert second.summary["expired"] == 0


def test_a_dry_run_changes_nothing_but_is_recorded(db, make_initiative, make_need):
    initiative, _member = make_initiative()
    need = make_need(initiative)
    need.expires_on = date(2026, 1, 1)
    db.session.commit()

    assert tasks.expire_needs(db.session, MONDAY_7, dry_run=True)["expired"] == 1

    db.session.refresh(need)
    assert need.status == NeedStatus.OPEN
    [run] = job_runs(db.session, "expire_needs")
    assert run.dry_run is True and run.ok is True


def test_a_failing_job_is_rolled_back_and_recorded_as_failed(db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("Datenbank weg")

    monkeypatch.setattr(tasks.outbox, "due_count", broken)
    with pytest.raises(RuntimeError):
        tasks.drain_outbox(db.session, MONDAY_7)
    [run] = job_runs(db.session, "drain_outbox")
    assert run.ok is False
    assert run.summary == {"error": "RuntimeError: Datenbank weg"}


# --- remind_unanswered ----------------------------------------------------------------------


@pytest.fixture()
def approved_match(db, make_initiative, make_need, make_volunteer):
    """``approved_match(decided_days_ago, status=..., locale=...)`` → Match."""
    counter = {"n": 0}

    def factory(days_ago: float, *, status: str = MatchStatus.APPROVED, reminded: bool = False):
        counter["n"] += 1
        n = counter["n"]
        initiative, _member = make_initiative(f"Initiative {n}")
        need = make_need(initiative, title=f"Anfrage {n}")
        profile = make_volunteer(f"vera{n}@example.org", first_name=f"Vera{n}")
        match = Match(
            need_id=need.id,
            volunteer_id=profile.id,
            status=status,
            decided_at=MONDAY_7 - timedelta(days=days_ago),
            reminded_at=MONDAY_7 if reminded else None,
        )
        db.session.add(match)
        db.session.commit()
        return match

    return factory


def test_remind_unanswered_mails_each_volunteer_once(db, approved_match):
    due = approved_match(8)
    next_week = approved_match(6)  # not yet a week
    approved_match(9, reminded=True)  # reminded before
    approved_match(20, status=MatchStatus.ACCEPTED)  # answered
    approved_match(20, status=MatchStatus.PROPOSED)  # not yet asked

    assert tasks.remind_unanswered(db.session, MONDAY_7) == {"reminded": 1}
    assert tasks.remind_unanswered(db.session, MONDAY_7 + timedelta(hours=1)) == {"reminded": 0}

    assert due.reminded_at == MONDAY_7
    [row] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "match_reminder"))
    assert row.idempotency_key == f"remind:{due.id}"
    assert row.recipient == due.volunteer.user.email
    assert row.subject == "Erinnerung: „Initiative 1“ wartet auf Ihre Antwort"
    assert "Hallo Vera1," in row.text_body and "„Anfrage 1“" in row.text_body
    assert f"http://localhost/vermittlungen/{due.id}" in row.text_body
    assert "mit einem Klick zu:\nhttp://localhost/" in row.text_body  # the one-click accept
    assert 'lang="de"' in row.html_body and "Ja, ich sage zu" in row.html_body
    assert count(db.session, AuditEntry, AuditEntry.action == "match.remind") == 1
    # The other one's week is up a day later.
    assert tasks.remind_unanswered(db.session, MONDAY_7 + timedelta(days=1)) == {"reminded": 1}
    assert next_week.reminded_at == MONDAY_7 + timedelta(days=1)


def test_a_reminder_is_never_mailed_twice_even_if_runs_overlap(db, approved_match):
    match = approved_match(8)
    tasks.remind_unanswered(db.session, MONDAY_7)
    match.reminded_at = None  # as if a second run had selected it before the first committed
    db.session.commit()
    tasks.remind_unanswered(db.session, MONDAY_7)
    assert count(db.session, OutboxMessage, OutboxMessage.kind == "match_reminder") == 1


def test_the_reminder_speaks_the_volunteers_language(db, approved_match):
    match = approved_match(8)
    match.volunteer.user.locale = "en"
    db.session.commit()
    tasks.remind_unanswered(db.session, MONDAY_7)
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "match_reminder"))
    assert row.subject == "Reminder: “Initiative 1” is waiting for your answer"
    assert "Hello Vera1," in row.text_body and 'lang="en"' in row.html_body


# --- purge_unconfirmed ----------------------------------------------------------------------


def test_purge_deletes_week_old_unconfirmed_accounts_with_their_rows(db, make_user):
    old = make_user("alt@example.org", confirmed=False, first_name="Otto")
    fresh = make_user("neu@example.org", confirmed=False)
    confirmed = make_user("fest@example.org")
    old.created_at = MONDAY_7 - timedelta(days=7, minutes=1)
    fresh.created_at = MONDAY_7 - timedelta(days=6)
    confirmed.created_at = MONDAY_7 - timedelta(days=30)
    db.session.add(ConsentRecord(user_id=old.id, version="test"))
    mail = Mail(
        to=old.email, subject="Bitte bestätigen", text="Hallo Otto", html="", kind="confirm"
    )
    outbox.enqueue(db.session, mail, key="confirm:old", user_id=old.id)
    db.session.commit()
    old_id = old.id

    assert tasks.purge_unconfirmed(db.session, MONDAY_7) == {"purged": 1}
    assert tasks.purge_unconfirmed(db.session, MONDAY_7 + timedelta(hours=1)) == {"purged": 0}

    db.session.expire_all()
    assert db.session.get(User, old_id) is None
    assert {u.email for u in db.session.scalars(select(User))} == {
        "neu@example.org",
        "fest@example.org",
    }
    assert count(db.session, UserRole, UserRole.user_id == old_id) == 0
    assert count(db.session, ConsentRecord, ConsentRecord.user_id == old_id) == 0
    assert count(db.session, OutboxMessage, OutboxMessage.recipient == "alt@example.org") == 0
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "account.purge"))
    assert (entry.object_id, entry.actor_id) == (old_id, None)
    written = " ".join(str(e.detail) for e in db.session.scalars(select(AuditEntry)))
    assert "alt@example.org" not in written and "Otto" not in written


def test_purge_dry_run_counts_only(db, make_user):
    old = make_user(confirmed=False)
    old.created_at = MONDAY_7 - timedelta(days=8)
    db.session.commit()
    assert tasks.purge_unconfirmed(db.session, MONDAY_7, dry_run=True) == {"purged": 1}
    assert count(db.session, User) == 1


# --- drain_outbox and the digests job ---------------------------------------------------------


def _queue(session, n: int) -> None:
    for i in range(n):
        mail = Mail(to=f"p{i}@example.org", subject=f"Nr. {i}", text="t", html="h", kind="test")
        outbox.enqueue(session, mail, key=f"job-test:{i}")
    session.commit()


def test_drain_outbox_sends_what_is_due_once(db, mailbox):
    _queue(db.session, 2)
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert tasks.drain_outbox(db.session, later, dry_run=True) == {"due": 2}
    assert mailbox == []
    first = tasks.drain_outbox(db.session, later)
    second = tasks.drain_outbox(db.session, later + timedelta(minutes=1))
    assert first == {"due": 2, "sent": 2, "retried": 0, "failed": 0}
    assert second == {"due": 0, "sent": 0, "retried": 0, "failed": 0}
    assert sorted(m.subject for m in mailbox) == ["Nr. 0", "Nr. 1"]


class FakeDigestRun:
    def __init__(self, summary: dict) -> None:
        self.summary = summary

    def as_dict(self) -> dict:
        return self.summary


@pytest.fixture()
def fake_digests(monkeypatch):
    """Stands in for matching.digests.building (built separately): records its calls."""
    calls: list[dict] = []

    def queue_digests(session, now, kinds=None, dry_run=False, progress=None):
        calls.append({"now": now, "kinds": kinds, "dry_run": dry_run})
        if progress:
            progress(1, 1)
        queued = {"volunteer": 0 if dry_run else 3, "coordinator": 1, "initiative": 0}
        return FakeDigestRun(
            {
                "week": "2026-W10",
                "dry_run": dry_run,
                "queued": queued,
                "empty": {"volunteer": 1, "coordinator": 0, "initiative": 2},
                "already": {"volunteer": 0, "coordinator": 0, "initiative": 0},
                "switched_off": {"volunteer": 1, "coordinator": 0, "initiative": 0},
                "total_queued": sum(queued.values()),
            }
        )

    import matching.digests

    monkeypatch.setattr(matching.digests, "queue_digests", queue_digests)
    return calls


def test_send_weekly_digests_hands_over_to_queue_digests_and_records_the_run(db, fake_digests):
    summary = tasks.send_weekly_digests(db.session, MONDAY_7, kinds=["volunteer"])
    assert summary["total_queued"] == 4
    assert fake_digests == [{"now": MONDAY_7, "kinds": ["volunteer"], "dry_run": False}]
    [run] = job_runs(db.session, "send_weekly_digests")
    assert run.summary == summary


# --- the scheduler ----------------------------------------------------------------------------


def test_scheduler_configuration(app):
    sched = scheduler.build_scheduler(app, catch_up=False)
    assert isinstance(sched, BlockingScheduler)
    assert sched.timezone == BERLIN
    jobs = {job.id: job for job in sched.get_jobs()}
    wanted = jobs.pop("propose_matches:wanted")
    assert set(jobs) == set(registry.BY_NAME)
    # Proposals also follow a change within a minute, one check at a time.
    assert wanted.func is scheduler.run_if_wanted and wanted.args[1] == "propose_matches"
    assert (wanted.coalesce, wanted.max_instances) == (True, 1)
    assert wanted.trigger.interval.total_seconds() == 60
    assert str(jobs["propose_matches"].trigger) == "cron[minute='*/15']"
    for job in jobs.values():
        assert (job.coalesce, job.max_instances) == (True, 1)
        assert job.misfire_grace_time == app.config["JOBS_MISFIRE_GRACE_SECONDS"] >= 3600
        assert job.func is scheduler.run_job and job.args[1] == job.id
        assert job.trigger.timezone == BERLIN
    digests = jobs["send_weekly_digests"].trigger
    assert str(digests) == "cron[day_of_week='mon', hour='7', minute='0']"
    sunday = datetime(2026, 3, 1, 12, 0, tzinfo=BERLIN)
    assert digests.get_next_fire_time(None, sunday) == datetime(2026, 3, 2, 7, 0, tzinfo=BERLIN)
    summer = digests.get_next_fire_time(None, datetime(2026, 7, 1, tzinfo=BERLIN))
    assert summer.astimezone(UTC) == datetime(2026, 7, 6, 5, 0, tzinfo=UTC)  # 07:00 CEST
    assert str(jobs["drain_outbox"].trigger) == "cron[minute='*']"


def test_the_digest_time_comes_from_the_configuration(app, monkeypatch):
    monkeypatch.setitem(app.config, "DIGEST_DAY_OF_WEEK", "fri")
    monkeypatch.setitem(app.config, "DIGEST_HOUR", 16)
    monkeypatch.setitem(app.config, "DIGEST_MINUTE", 30)
    sched = scheduler.build_scheduler(app, catch_up=False)
    trigger = sched.get_job("send_weekly_digests").trigger
    assert str(trigger) == "cron[day_of_week='fri', hour='16', minute='30']"
    assert registry.describe(registry.BY_NAME["send_weekly_digests"].schedule(app.config)) == (
        "freitags 16:30"
    )


def test_a_run_missed_while_the_scheduler_was_down_is_made_up_once():
    trigger = scheduler.trigger_for(registry.BY_NAME["send_weekly_digests"], _config())
    grace = timedelta(hours=6)
    last_week = MONDAY_7 - timedelta(days=7)
    at_nine = MONDAY_7 + timedelta(hours=2)
    assert scheduler.missed_run(trigger, last_week, at_nine, grace) == MONDAY_7
    # Already ran this morning: nothing to make up.
    assert scheduler.missed_run(trigger, MONDAY_7 + timedelta(seconds=5), at_nine, grace) is None
    # Down for longer than the grace time: wait for next week.
    assert scheduler.missed_run(trigger, last_week, MONDAY_7 + timedelta(hours=7), grace) is None
    assert scheduler.missed_run(trigger, None, at_nine, grace) == MONDAY_7


def test_build_scheduler_starts_a_job_at_once_when_it_missed_a_run(app, db):
    db.session.add(
        JobRun(job="send_weekly_digests", started_at=MONDAY_7 - timedelta(days=7), ok=True)
    )
    db.session.add(JobRun(job="purge_unconfirmed", started_at=MONDAY_7, ok=True))
    db.session.commit()
    at_nine = MONDAY_7 + timedelta(hours=2)
    sched = scheduler.build_scheduler(app, now=at_nine)
    assert sched.get_job("send_weekly_digests").next_run_time == at_nine
    assert not hasattr(sched.get_job("purge_unconfirmed"), "next_run_time")


def test_run_job_runs_in_an_app_context_and_survives_a_failure(app, monkeypatch, caplog):
    seen = []

    def probe(session, now):
        seen.append((has_app_context(), now.tzinfo))
        return {"probed": 1}

    for name, run in (("probe", probe), ("boom", lambda session, now: 1 / 0)):
        job = registry.Job(name, run, "Test", lambda config: {"minute": 1})
        monkeypatch.setitem(registry.BY_NAME, name, job)
    scheduler.run_job(app, "probe")
    scheduler.run_job(app, "boom")  # does not raise: logged, the next run tries again
    assert seen == [(True, UTC)]
    assert "Job boom ist fehlgeschlagen" in caplog.text


def _config() -> dict:
    return {
        "JOBS_TIMEZONE": "Europe/Berlin",
        "DIGEST_DAY_OF_WEEK": "mon",
        "DIGEST_HOUR": 7,
        "DIGEST_MINUTE": 0,
        "MATCHING_INTERVAL_MINUTES": 15,
    }


def test_create_app_never_starts_or_imports_the_scheduler():
    code = (
        "import sys; from config import TestingConfig; from matching import create_app; "
        "create_app(TestingConfig()); "
        "print(sorted(m for m in sys.modules if m.startswith(('apscheduler', 'jobs.scheduler'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --- the lock ---------------------------------------------------------------------------------


def test_a_second_file_lock_is_refused_until_the_first_is_released(tmp_path):
    first, second = FileLock(tmp_path / "scheduler.lock"), FileLock(tmp_path / "scheduler.lock")
    try:
        assert first.acquire() is True
        assert second.acquire() is False
        assert second.holder().isdigit()
        assert first.still_held()
        first.release()
        assert second.acquire() is True
    finally:
        first.release()
        second.release()


def test_sqlite_uses_the_file_lock_postgresql_the_advisory_lock(app, tmp_path, monkeypatch):
    with app.app_context():
        lock = scheduler_lock(app, _db.engine)
        if _db.engine.dialect.name == "postgresql":
            assert isinstance(lock, AdvisoryLock)
        else:
            assert isinstance(lock, FileLock)
            assert lock.path == BASE_DIR / "instance" / "scheduler.lock"
            monkeypatch.setitem(app.config, "JOBS_LOCK_FILE", str(tmp_path / "x.lock"))
            assert scheduler_lock(app, _db.engine).path == tmp_path / "x.lock"


@pytest.mark.postgres
def test_the_advisory_lock_admits_one_connection(app):
    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            pytest.skip("advisory locks are PostgreSQL's (set TEST_DATABASE_URL)")
        first, second = AdvisoryLock(_db.engine), AdvisoryLock(_db.engine)
        try:
            assert first.acquire() is True
            assert second.acquire() is False
            assert first.still_held()
            first.release()
            assert not first.still_held()
            assert second.acquire() is True
        finally:
            first.release()
            second.release()


class _StubScheduler:
    def __init__(self) -> None:
        self.stopped = False

    def add_job(self, func, trigger, **options) -> None:
        self.check = func

    def shutdown(self, wait: bool = True) -> None:
        self.stopped = True


class _LostLock:
    where = "Testsperre"

    def still_held(self) -> bool:
        return False


def test_the_scheduler_stops_when_its_lock_is_lost():
    stub, lost = _StubScheduler(), []
    scheduler.watch_lock(stub, _LostLock(), lost)
    stub.check()
    assert stub.stopped and lost == [True]


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture()
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture()
def lock_file(app, tmp_path, monkeypatch):
    path = tmp_path / "scheduler.lock"
    monkeypatch.setitem(app.config, "JOBS_LOCK_FILE", str(path))
    monkeypatch.setitem(app.config, "JOBS_LOCK_RETRY_SECONDS", 0)
    return path


def _other_scheduler(app):
    """The lock a second scheduler would need, taken as a running scheduler would."""
    with app.app_context():
        return scheduler_lock(app, _db.engine)


def test_jobs_run_refuses_when_another_scheduler_holds_the_lock(app, runner, lock_file):
    other = _other_scheduler(app)
    assert other.acquire()
    try:
        result = runner.invoke(args=["jobs", "run"])
    finally:
        other.release()
    assert result.exit_code == 1
    assert "Ein anderer Scheduler läuft bereits" in result.output
    assert "--wait" in result.output


def test_jobs_run_starts_the_scheduler_and_frees_the_lock_at_the_end(
    app, runner, lock_file, monkeypatch
):
    started = []
    monkeypatch.setattr(BlockingScheduler, "start", lambda self, *a, **k: started.append(self))
    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    [sched] = started
    assert {job.id for job in sched.get_jobs()} == set(registry.BY_NAME) | {
        "_lock_watch",
        "propose_matches:wanted",
    }
    assert "Scheduler beendet." in result.output
    again = _other_scheduler(app)
    assert again.acquire()
    again.release()


def test_jobs_run_wait_takes_over_when_the_other_scheduler_ends(
    app, runner, lock_file, monkeypatch
):
    other = _other_scheduler(app)
    assert other.acquire()
    started = []
    monkeypatch.setattr(BlockingScheduler, "start", lambda self, *a, **k: started.append(self))
    monkeypatch.setattr("jobs.cli.time.sleep", lambda seconds: other.release())
    try:
        result = runner.invoke(args=["jobs", "run", "--wait"])
    finally:
        other.release()
    assert result.exit_code == 0, result.output
    assert "nächster Versuch" in result.output
    assert len(started) == 1


def test_jobs_list_shows_schedule_next_and_last_run(runner, db):
    db.session.add(
        JobRun(job="drain_outbox", started_at=MONDAY_7, ok=True, summary={"sent": 4, "failed": 0})
    )
    db.session.commit()
    result = runner.invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    for name in registry.BY_NAME:
        assert name in result.output
    assert "send_weekly_digests – montags 07:00" in result.output
    assert "drain_outbox – jede Minute" in result.output
    assert "Mo 02.03.2026 07:00, ok: gesendet 4, fehlgeschlagen 0" in result.output
    assert "letzter Lauf: noch nie" in result.output
    assert result.output.count("nächster Lauf: ") == len(registry.JOBS)


def test_jobs_once_runs_a_job_and_prints_one_line(runner, db, make_initiative, make_need):
    initiative, _member = make_initiative()
    need = make_need(initiative)
    need.expires_on = date(2020, 1, 1)
    db.session.commit()
    dry = runner.invoke(args=["jobs", "once", "expire_needs", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output == (
        "expire_needs (Probelauf, nichts gespeichert oder gesendet): abgelaufen 1, übersprungen 0\n"
    )
    assert runner.invoke(args=["jobs", "once", "expire_needs"]).output == (
        "expire_needs: abgelaufen 1, übersprungen 0\n"
    )
    db.session.refresh(need)
    assert need.status == NeedStatus.EXPIRED
    assert [r.dry_run for r in job_runs(db.session, "expire_needs")] == [True, False]


def test_jobs_once_refuses_an_unknown_job(runner, db):
    result = runner.invoke(args=["jobs", "once", "mail_everyone"])
    assert result.exit_code == 2
    assert "unbekannter Job 'mail_everyone'" in result.output
    assert "drain_outbox" in result.output
    assert count(db.session, JobRun) == 0


def test_digest_send_refuses_an_unknown_kind(runner, db, fake_digests):
    result = runner.invoke(args=["digest", "send", "--kind", "newsletter"])
    assert result.exit_code == 2
    assert "unbekannte Übersicht 'newsletter'" in result.output
    assert "volunteer, coordinator, initiative" in result.output
    assert fake_digests == []


def test_digest_send_passes_kinds_and_dry_run(runner, db, fake_digests):
    result = runner.invoke(args=["digest", "send", "--kind", "volunteer", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert fake_digests[0]["kinds"] == ["volunteer"] and fake_digests[0]["dry_run"] is True
    assert result.output == (
        "Übersichten (Probelauf, nichts gespeichert oder gesendet): 1 eingereiht (Woche 2026-W10): "
        "Ehrenamtliche 0, Koordination 1, Initiativen 0; "
        "nicht eingereiht: leer 3, schon eingereiht 0, abbestellt 1\n"
    )
    runner.invoke(args=["digest", "send"])
    assert fake_digests[1]["kinds"] is None and fake_digests[1]["dry_run"] is False


def test_digest_send_twice_in_a_week_queues_nothing_the_second_time(
    runner, db, make_volunteer, make_initiative, make_need
):
    make_volunteer("vera@example.org")
    initiative, _member = make_initiative()
    make_need(initiative, title="Wie gründen wir einen Verein?")
    first = runner.invoke(args=["digest", "send"])
    assert first.exit_code == 0, first.output
    queued = count(db.session, OutboxMessage, OutboxMessage.kind.like("digest%"))
    assert queued >= 2  # the volunteer's and the initiative's
    assert first.output.startswith(f"Übersichten: {queued} eingereiht (Woche ")

    second = runner.invoke(args=["digest", "send"])
    assert second.exit_code == 0, second.output
    assert second.output.startswith("Übersichten: 0 eingereiht (Woche ")
    assert f"schon eingereiht {queued}" in second.output
    assert count(db.session, OutboxMessage, OutboxMessage.kind.like("digest%")) == queued
    assert [r.summary["total_queued"] for r in job_runs(db.session, "send_weekly_digests")] == [
        queued,
        0,
    ]


def test_send_weekly_digests_twice_in_a_week_queues_once(
    db, make_volunteer, make_initiative, make_need
):
    make_volunteer("vera@example.org")
    initiative, _member = make_initiative()
    make_need(initiative, title="Wie gründen wir einen Verein?", published_at=MONDAY_7)
    first = tasks.send_weekly_digests(db.session, MONDAY_7)
    # Later the same ISO week (Sunday evening in Berlin): nothing new.
    again = tasks.send_weekly_digests(db.session, MONDAY_7 + timedelta(days=6, hours=15))
    assert first["total_queued"] >= 2 and again["total_queued"] == 0
    assert sum(again["already"].values()) == first["total_queued"]


def test_outbox_drain_sends_and_sums_up(runner, db, mailbox):
    _queue(db.session, 3)
    result = runner.invoke(args=["outbox", "drain"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Postausgang: fällig 3, gesendet 3, später erneut 0, fehlgeschlagen 0\n"
    )
    assert len(mailbox) == 3
    assert runner.invoke(args=["outbox", "drain"]).output.startswith("Postausgang: fällig 0")
    assert len(mailbox) == 3


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_on_a_terminal_only():
    terminal = _Terminal()
    with progress_bar("E-Mails", terminal) as progress:
        for done in range(1, 4):
            progress(done, 3)
    assert "E-Mails" in terminal.getvalue() and "100%" in terminal.getvalue()
    with progress_bar("E-Mails", io.StringIO()) as progress:
        assert progress is None


def test_summary_line_reads_nested_counts():
    assert summary_line({}) == "nichts zu tun"
    summary = {"dry_run": False, "coordinator": {"queued": 2, "already": 1}, "errors": ["x"]}
    assert summary_line(summary) == "Koordination (eingereiht 2, schon eingereiht 1)"


def test_every_job_is_registered_with_a_german_description():
    assert list(registry.BY_NAME) == [
        "send_weekly_digests",
        "drain_outbox",
        "expire_needs",
        "remind_unanswered",
        "remind_coordinators",
        "release_unanswered",
        "alert_uncovered_needs",
        "apply_retention",
        "purge_unconfirmed",
        "propose_matches",
        "mail_new_messages",
        "mail_message_summaries",
        "remind_meetings",
        "ask_meeting_outcomes",
    ]
    assert all(job.run.job_name == job.name for job in registry.JOBS)
    assert [registry.describe(job.schedule(_config())) for job in registry.JOBS] == [
        "montags 07:00",
        "jede Minute",
        "stündlich um :05",
        "täglich 09:00",
        "täglich 08:00",
        "täglich 09:30",
        "täglich 08:30",
        "täglich 03:45",
        "täglich 03:30",
        "alle 15 Minuten",
        "jede Minute",
        "täglich 18:00",
        "täglich 17:00",
        "stündlich um :20",
    ]


# --- apply_retention ---------------------------------------------------------------------------


def test_retention_blanks_old_texts_deletes_old_mail_and_drops_old_ips(
    db, make_initiative, make_need, make_volunteer
):
    initiative, _member = make_initiative()
    old = make_need(initiative, status=NeedStatus.CLOSED, title="Alt")
    old.description, old.status_reason = "Heikle Details", "Erledigt"
    old.closed_at = MONDAY_7 - timedelta(days=400)
    db.session.flush()
    old_match = Match(
        need_id=old.id,
        volunteer_id=make_volunteer().id,
        status=MatchStatus.COMPLETED,
        feedback_comment="Kommentar der Initiative",
        volunteer_feedback="Rückblick der Expertin",
    )
    db.session.add(old_match)
    recent = make_need(initiative, status=NeedStatus.CLOSED, title="Neu")
    recent.description = "Noch gebraucht"
    recent.closed_at = MONDAY_7 - timedelta(days=10)
    still_open = make_need(initiative, title="Offen")
    still_open.description = "Offen und lang her"
    still_open.created_at = MONDAY_7 - timedelta(days=500)
    for key, status, age in (
        ("alt", "sent", 91),
        ("frisch", "sent", 30),
        ("wartet", "pending", 200),
    ):
        db.session.add(
            OutboxMessage(
                idempotency_key=key,
                kind="x",
                recipient="a@example.org",
                subject="s",
                text_body="t",
                html_body="h",
                status=status,
                created_at=MONDAY_7 - timedelta(days=age),
            )
        )
    db.session.add(
        AuditEntry(
            action="x",
            object_type="need",
            object_id=1,
            ip="203.0.113.9",
            at=MONDAY_7 - timedelta(days=31),
        )
    )
    db.session.add(
        AuditEntry(
            action="y",
            object_type="need",
            object_id=1,
            ip="203.0.113.8",
            at=MONDAY_7 - timedelta(days=2),
        )
    )
    db.session.commit()

    assert tasks.apply_retention(db.session, MONDAY_7) == {
        "need_texts_blanked": 1,
        "mails_deleted": 1,
        "ips_dropped": 1,
        "barrier_reports_deleted": 0,
        "sessions_ended": 0,
        "messages_deleted": 0,
    }
    assert tasks.apply_retention(db.session, MONDAY_7) == {
        "need_texts_blanked": 0,
        "mails_deleted": 0,
        "ips_dropped": 0,
        "barrier_reports_deleted": 0,
        "sessions_ended": 0,
        "messages_deleted": 0,
    }
    db.session.expire_all()
    assert (old.description, old.status_reason, old.title) == ("", "", "Alt")
    # Both sides' words about the advice go with the need's text.
    assert (old_match.feedback_comment, old_match.volunteer_feedback) == ("", "")
    assert recent.description == "Noch gebraucht" and still_open.description == "Offen und lang her"
    assert set(db.session.scalars(select(OutboxMessage.idempotency_key))) == {"frisch", "wartet"}
    assert set(
        db.session.scalars(select(AuditEntry.ip).where(AuditEntry.action.in_(["x", "y"])))
    ) == {None, "203.0.113.8"}


def test_a_reminder_does_not_promise_a_handover_after_the_need_has_ended(
    client, db, auth, approved_match
):
    """Asked 8 days ago, the need valid 3 more days: the reminder said "if we hear nothing by
    <release day>, we ask someone else", a day after the need would expire and nobody else
    would be asked. It now names the need's last day, as the match page does."""
    match = approved_match(8)
    match.need.expires_on = (MONDAY_7 + timedelta(days=3)).date()
    db.session.commit()
    assert tasks.remind_unanswered(db.session, MONDAY_7) == {"reminded": 1}
    [row] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "match_reminder"))
    assert "Die Anfrage gilt nur noch bis zum 05.03.2026" in row.text_body
    assert "fragen wir jemand anderen" not in row.text_body
    auth.login(match.volunteer.user.email)
    page = client.get(f"/vermittlungen/{match.id}").get_data(as_text=True)
    assert "Die Anfrage gilt nur noch bis zum" in page and "Danach fragen wir" not in page
