"""What every job shares: its run is recorded as a JobRun and committed once, at its end."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy.orm import Session

from matching.models import JobRun

# ``progress(done, total)``: how far a job is; the CLI draws a bar from it.
Progress = Callable[[int, int], None]
JobFunction = Callable[..., dict]


def local_today(now: datetime) -> date:
    """The calendar day ``now`` falls on where the association works (JOBS_TIMEZONE)."""
    return now.astimezone(ZoneInfo(current_app.config["JOBS_TIMEZONE"])).date()


def report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def recorded(name: str) -> Callable[[JobFunction], JobFunction]:
    """Record each run of the job as a JobRun and end it with one commit.

    A dry run throws its changes away and records only the JobRun (``dry_run=True``).
    A failing run is rolled back, recorded with ``ok=False`` and the error, and re-raised.
    """

    def decorate(func: JobFunction) -> JobFunction:
        @functools.wraps(func)
        def run(
            session: Session,
            now: datetime,
            dry_run: bool = False,
            progress: Progress | None = None,
            **options,
        ) -> dict:
            clock = time.monotonic()
            try:
                summary = func(session, now, dry_run=dry_run, progress=progress, **options)
            except Exception as exc:
                session.rollback()
                try:
                    _record(session, name, now, clock, False, dry_run, {"error": _error(exc)})
                    session.commit()
                except Exception:  # the database may be what failed; the error comes first
                    session.rollback()
                raise
            if dry_run:
                session.rollback()
            _record(session, name, now, clock, True, dry_run, summary)
            session.commit()
            return summary

        run.job_name = name
        return run

    return decorate


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _record(
    session: Session,
    name: str,
    now: datetime,
    clock: float,
    ok: bool,
    dry_run: bool,
    summary: dict,
) -> None:
    # Times follow the injected ``now``; the duration is the real one.
    finished = now + timedelta(seconds=time.monotonic() - clock)
    session.add(
        JobRun(
            job=name,
            started_at=now,
            finished_at=finished,
            ok=ok,
            dry_run=dry_run,
            summary=summary,
        )
    )
