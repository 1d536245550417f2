"""Commands for the jobs: ``jobs run|list|once``, ``digest send`` and ``outbox drain``."""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext

from matching.extensions import db
from matching.models import DigestKind, utcnow

DIGEST_KINDS = tuple(kind.value for kind in DigestKind)

# Words for the numbers in a job's summary line.
LABELS = {
    "due": "fällig",
    "sent": "gesendet",
    "retried": "später erneut",
    "failed": "fehlgeschlagen",
    "expired": "abgelaufen",
    "skipped": "übersprungen",
    "reminded": "erinnert",
    "purged": "gelöscht",
    "queued": "eingereiht",
    "empty": "leer",
    "already": "schon eingereiht",
    "switched_off": "abbestellt",
    "week": "Woche",
    "volunteer": "Ehrenamtliche",
    "coordinator": "Koordination",
    "initiative": "Initiativen",
    "needs_open": "offene Anfragen",
    "needs_covered": "davon mit neuem Vorschlag",
    "experts_proposed": "vorgeschlagen",
    "mean_score": "mittlere Übereinstimmung",
    "requests": "Anstöße durch Änderungen",
    "unchanged_since": "unverändert seit",
    "proposals": "Vorschläge",
    "mails": "E-Mails",
    "released": "weitergegeben",
    "alerted": "gemeldet",
    "cleared": "erledigt",
    "asked": "gefragt",
    "threads": "Gespräche",
    "waiting": "wartend",
    "people": "Personen",
    "sessions_ended": "Anmeldungen beendet",
    "messages_deleted": "Nachrichten gelöscht",
    "mails_deleted": "E-Mails gelöscht",
    "ips_dropped": "IP-Adressen entfernt",
    "need_texts_blanked": "Anfragetexte geleert",
    "barrier_reports_deleted": "Barriere-Meldungen gelöscht",
    "total_queued": "insgesamt eingereiht",
}


def summary_line(summary: dict) -> str:
    """A job's summary in one line: "gesendet 3, später erneut 1"; nested counts in brackets."""
    parts = []
    for key, value in summary.items():
        label = LABELS.get(key, key)
        if isinstance(value, dict):
            parts.append(f"{label} ({summary_line(value)})")
        elif not isinstance(value, bool | list):  # the dry-run flag is said elsewhere
            parts.append(f"{label} {value}")
    return ", ".join(parts) or "nichts zu tun"


def digest_line(summary: dict) -> str:
    """A digest run in one line: what was queued per kind, and why the others were not."""
    queued = summary.get("queued", {})
    per_kind = ", ".join(f"{LABELS.get(kind, kind)} {n}" for kind, n in queued.items())
    others = ", ".join(
        f"{LABELS[key]} {sum(summary.get(key, {}).values())}"
        for key in ("empty", "already", "switched_off")
    )
    week = f" ({LABELS['week']} {summary['week']})" if "week" in summary else ""
    return f"{sum(queued.values())} eingereiht{week}: {per_kind}; nicht eingereiht: {others}"


@contextmanager
def progress_bar(label: str, stream: TextIO | None = None) -> Iterator:
    """A ``progress(done, total)`` callback that draws a bar when ``stream`` is a terminal."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield None
        return
    bars: list = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(click.progressbar(length=max(total, 1), label=label, file=stream))
            bars[0].__enter__()
        bar = bars[0]
        bar.length = max(total, done, 1)
        bar.update(done - bar.pos)

    try:
        yield progress
    finally:
        if bars:
            bars[0].__exit__(None, None, None)


def run_once(name: str, label: str, dry_run: bool, **options) -> dict:
    """Run a registered job now with a progress bar; it records itself and commits."""
    from jobs import registry

    job = registry.BY_NAME[name]
    with progress_bar(label) as progress:
        return job.run(db.session, utcnow(), dry_run=dry_run, progress=progress, **options)


def _dry(dry_run: bool) -> str:
    return " (Probelauf, nichts gespeichert oder gesendet)" if dry_run else ""


# --- jobs ---------------------------------------------------------------------------------


@click.group("jobs")
def jobs_group() -> None:
    """Scheduled jobs: the scheduler process and single runs by hand."""


def _job_name(ctx, param, value: str) -> str:
    from jobs import registry

    if value not in registry.BY_NAME:
        raise click.BadParameter(
            f"unbekannter Job {value!r}; bekannt sind: {', '.join(registry.BY_NAME)}"
        )
    return value


@jobs_group.command("once")
@click.argument("name", callback=_job_name)
@click.option("--dry-run", is_flag=True, help="Nur zählen, nichts ändern oder senden.")
@with_appcontext
def jobs_once(name: str, dry_run: bool) -> None:
    """Run the job NAME once now (names: see `jobs list`)."""
    summary = run_once(name, name, dry_run)
    click.echo(f"{name}{_dry(dry_run)}: {summary_line(summary)}")


@jobs_group.command("list")
@with_appcontext
def jobs_list() -> None:
    """List the jobs with their schedule, next and last run."""
    from jobs import registry
    from jobs.scheduler import last_runs, trigger_for

    zone = ZoneInfo(current_app.config["JOBS_TIMEZONE"])
    now = utcnow().astimezone(zone)
    latest = last_runs(db.session)
    for job in registry.JOBS:
        fields = job.schedule(current_app.config)
        upcoming = trigger_for(job, current_app.config).get_next_fire_time(None, now)
        run = latest.get(job.name)
        if run is None:
            last = "noch nie"
        else:
            state = "ok" if run.ok else "FEHLER"
            last = f"{_when(run.started_at, zone)}, {state}: {summary_line(run.summary or {})}"
        also = " und binnen einer Minute nach Änderungen" if job.wanted else ""
        click.echo(f"{job.name} – {registry.describe(fields)}{also}")
        click.echo(f"    {job.description}")
        click.echo(f"    nächster Lauf: {_when(upcoming, zone)} · letzter Lauf: {last}")


_WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "–"
    local = moment.astimezone(zone)
    return f"{_WEEKDAYS[local.weekday()]} {local:%d.%m.%Y %H:%M}"


@jobs_group.command("run")
@click.option(
    "--wait",
    is_flag=True,
    help="Läuft schon ein Scheduler, warten und übernehmen, sobald er endet (Bereitschaft).",
)
@with_appcontext
def jobs_run(wait: bool) -> None:
    """Start the scheduler process (one per site; beside the web process, never inside it)."""
    from jobs.lock import scheduler_lock
    from jobs.scheduler import build_scheduler, watch_lock

    app = current_app._get_current_object()
    # Logging goes where create_app sent it (matching.logs); APScheduler's own line per run
    # of a job every minute says nothing that the job's log line does not.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    lock = scheduler_lock(app, db.engine)
    while not lock.acquire():
        held_by = f", Prozess {lock.holder()}" if lock.holder() else ""
        if not wait:
            raise click.ClickException(
                f"Ein anderer Scheduler läuft bereits ({lock.where}{held_by}). "
                "Es läuft immer nur einer; mit --wait wartet dieser Prozess und übernimmt, "
                "sobald der andere endet."
            )
        retry = app.config["JOBS_LOCK_RETRY_SECONDS"]
        click.echo(
            f"Ein anderer Scheduler läuft ({lock.where}); nächster Versuch in {retry} s.", err=True
        )
        time.sleep(retry)
    lost: list[bool] = []
    try:
        scheduler = build_scheduler(app)
        watch_lock(scheduler, lock, lost)
        # SIGTERM (systemd, docker stop) ends like Ctrl-C: running jobs finish first.
        previous = signal.signal(signal.SIGTERM, _exit_on_signal)
        click.echo(f"Scheduler läuft ({lock.where}); beenden mit Strg+C.", err=True)
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            scheduler.shutdown(wait=True)
        finally:
            signal.signal(signal.SIGTERM, previous)
    finally:
        lock.release()
    if lost:
        raise click.ClickException(
            "Die Scheduler-Sperre ging verloren; der Scheduler hat angehalten."
        )
    click.echo("Scheduler beendet.", err=True)


def _exit_on_signal(signum, frame) -> None:
    raise SystemExit(0)


# --- digest -------------------------------------------------------------------------------


@click.group("digest")
def digest_group() -> None:
    """Weekly e-mail digests."""


def _digest_kinds(ctx, param, values: tuple[str, ...]) -> list[str] | None:
    unknown = [value for value in values if value not in DIGEST_KINDS]
    if unknown:
        raise click.BadParameter(
            f"unbekannte Übersicht {unknown[0]!r}; möglich sind: {', '.join(DIGEST_KINDS)}"
        )
    return list(dict.fromkeys(values)) or None


@digest_group.command("send")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    callback=_digest_kinds,
    metavar="|".join(DIGEST_KINDS),
    help="Nur diese Übersicht (mehrfach möglich); ohne Angabe alle.",
)
@click.option("--dry-run", is_flag=True, help="Nur zählen, nichts einreihen.")
@with_appcontext
def digest_send(kinds: list[str] | None, dry_run: bool) -> None:
    """Queue this week's digests now; a second run in the same week queues nothing."""
    summary = run_once("send_weekly_digests", "Übersichten", dry_run, kinds=kinds)
    click.echo(f"Übersichten{_dry(dry_run)}: {digest_line(summary)}")


# --- outbox -------------------------------------------------------------------------------


@click.group("outbox")
def outbox_group() -> None:
    """The mail outbox."""


@outbox_group.command("drain")
@click.option("--dry-run", is_flag=True, help="Nur zählen, was fällig ist; nichts senden.")
@with_appcontext
def outbox_drain(dry_run: bool) -> None:
    """Send all mail that is due now."""
    summary = run_once("drain_outbox", "E-Mails", dry_run)
    click.echo(f"Postausgang{_dry(dry_run)}: {summary_line(summary)}")
