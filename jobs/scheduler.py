"""The scheduler process: APScheduler 3 running the registered jobs, one process per site.

Started only by ``flask --app wsgi jobs run``; ``create_app`` and the web workers never
import this module. A database lock (``jobs.lock``) keeps a second scheduler from
running the same jobs.

Catching up: the jobs live in APScheduler's memory store, so after a restart APScheduler
itself does not know what it missed. The JobRun table does: a job whose last scheduled
time passed (within JOBS_MISFIRE_GRACE_SECONDS) without a successful run since is run
once at start. Coalescing and the misfire grace time cover the same while it runs
(a machine that slept, a job still busy): missed runs become one run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobs import registry
from matching.extensions import db
from matching.models import JobRun, utcnow

log = logging.getLogger("matching.jobs")  # matching.logs sends it where the app's logs go
LOCK_CHECK_SECONDS = 60
# How soon a job with ``wanted`` (propose_matches) follows a change that asked for it.
WANTED_CHECK_SECONDS = 60


def job_defaults(config: Mapping) -> dict:
    """Missed runs become one run, never two at once, made up within the grace time."""
    return {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": config["JOBS_MISFIRE_GRACE_SECONDS"],
    }


def trigger_for(job: registry.Job, config: Mapping) -> CronTrigger:
    return CronTrigger(timezone=ZoneInfo(config["JOBS_TIMEZONE"]), **job.schedule(config))


def last_successful_runs(session: Session) -> dict[str, datetime]:
    """When each job last ran to the end for real (not a dry run)."""
    rows = session.execute(
        select(JobRun.job, func.max(JobRun.started_at))
        .where(JobRun.ok.is_(True), JobRun.dry_run.is_(False))
        .group_by(JobRun.job)
    ).all()
    return dict(rows)


def last_runs(session: Session) -> dict[str, JobRun]:
    """The latest real (not dry) run of each job, successful or not, for ``jobs list``."""
    latest = select(func.max(JobRun.id)).where(JobRun.dry_run.is_(False)).group_by(JobRun.job)
    return {run.job: run for run in session.scalars(select(JobRun).where(JobRun.id.in_(latest)))}


def missed_run(
    trigger: CronTrigger, last_run: datetime | None, now: datetime, grace: timedelta
) -> datetime | None:
    """The scheduled time a job missed (since its last run, within ``grace``), if any."""
    since = now - grace if last_run is None else max(last_run, now - grace)
    due = trigger.get_next_fire_time(None, since + timedelta(microseconds=1))
    return due if due is not None and due <= now else None


def run_job(app: Flask, name: str) -> None:
    """Run one registered job now, in an app context of its own (the scheduler calls this)."""
    with app.app_context():
        try:
            summary = registry.BY_NAME[name].run(db.session, utcnow())
        except Exception:  # recorded as a failed JobRun; the next run tries again
            log.exception("Job %s ist fehlgeschlagen", name)
        else:  # a run with nothing to do is not worth a line every minute
            level = logging.INFO if _counts_anything(summary) else logging.DEBUG
            log.log(level, "Job %s: %s", name, summary)


def run_if_wanted(app: Flask, name: str) -> None:
    """Run the job now if a committed change asked for it (checked every minute)."""
    job = registry.BY_NAME[name]
    with app.app_context():
        try:
            due = job.wanted(db.session)
        finally:
            db.session.rollback()
    if due:
        run_job(app, name)


def _counts_anything(summary: dict) -> bool:
    return any(
        _counts_anything(value) if isinstance(value, dict) else isinstance(value, int) and value
        for value in summary.values()
    )


def build_scheduler(
    app: Flask,
    *,
    now: datetime | None = None,
    catch_up: bool = True,
    scheduler_class: type[BaseScheduler] = BlockingScheduler,
) -> BaseScheduler:
    """A scheduler with every registered job; jobs that missed a run start at once."""
    config = app.config
    zone = ZoneInfo(config["JOBS_TIMEZONE"])
    defaults = job_defaults(config)
    scheduler = scheduler_class(timezone=zone, job_defaults=defaults)
    now = (now or utcnow()).astimezone(zone)
    last_runs: dict[str, datetime] = {}
    if catch_up:
        with app.app_context():
            last_runs = last_successful_runs(db.session)
            db.session.rollback()
    grace = timedelta(seconds=config["JOBS_MISFIRE_GRACE_SECONDS"])
    for job in registry.JOBS:
        trigger = trigger_for(job, config)
        options = dict(defaults)  # also on each job, so a job added before start shows them
        if catch_up and missed_run(trigger, last_runs.get(job.name), now, grace):
            log.info("Job %s hat einen Lauf verpasst und läuft gleich einmal", job.name)
            options["next_run_time"] = now
        scheduler.add_job(
            run_job,
            trigger,
            args=(app, job.name),
            id=job.name,
            name=job.description,
            **options,
        )
        if job.wanted is not None:
            scheduler.add_job(
                run_if_wanted,
                IntervalTrigger(seconds=WANTED_CHECK_SECONDS),
                args=(app, job.name),
                id=f"{job.name}:wanted",
                name=f"{job.description} (nach Änderungen)",
                **defaults,
            )
    return scheduler


def watch_lock(scheduler: BaseScheduler, lock, lost: list[bool]) -> None:
    """Stop the scheduler when its lock is gone, so that two never run side by side."""

    def check() -> None:
        if not lock.still_held():
            log.error("Die Scheduler-Sperre ist verloren (%s); der Scheduler hält an", lock.where)
            lost.append(True)
            scheduler.shutdown(wait=False)

    scheduler.add_job(
        check,
        IntervalTrigger(seconds=LOCK_CHECK_SECONDS),
        id="_lock_watch",
        name="Scheduler-Sperre prüfen",
        coalesce=True,
        max_instances=1,
    )
