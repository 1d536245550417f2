"""Proposals without a command (DESIGN §5: "it runs by itself").

Whatever changes the picture (a need published or edited, a profile approved or changed, a
match declined, released or cancelled) calls ``want`` in its own transaction. The proposal run
(``run``) serves those wishes:

- in production the jobs process runs ``propose_matches`` every MATCHING_INTERVAL_MINUTES and,
  within a minute, whenever a wish is waiting (``wanted``);
- without a jobs process (``make run``, MATCHING_AFTER_COMMIT) a request that committed a wish
  runs the proposal right after its commit, as development mail is sent.

Runs never overlap: each takes one lock before it reads, so a button press during a job run
waits and then sees the job's proposals (no pair twice, no volunteer over capacity).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import delete, event, func, select, text
from sqlalchemy.orm import Session

from matching.models import MatchingRequest, User

log = logging.getLogger("matching.matches")

_PENDING = "matching_wanted_pending"
_COMMITTED = "matching_wanted_committed"
# pg_advisory_xact_lock key: "matching" in ASCII, fits a bigint.
_LOCK_KEY = 0x6D61746368696E67


def want(session: Session, reason: str, now: datetime) -> None:
    """Ask for a proposal run soon; the wish is committed (or rolled back) with the change."""
    session.add(MatchingRequest(reason=reason[:40], requested_at=now))
    session.info[_PENDING] = True


def wanted(session: Session) -> bool:
    """Whether a committed change waits for a proposal run."""
    return session.scalar(select(MatchingRequest.id).limit(1)) is not None


def serialise(session: Session) -> None:
    """Wait until no other proposal run holds the lock, then hold it until this transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: a write statement first, which takes
    the database's write lock (SQLite has one writer at a time anyway).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    else:
        session.execute(delete(MatchingRequest).where(MatchingRequest.id < 0))


def run(
    session: Session,
    actor: User | None,
    now: datetime,
    dry_run: bool = False,
    progress=None,
    clock: Callable[[], float] = time.monotonic,
    force: bool = False,
):
    """One proposal run over the whole open picture, serving the wishes seen at its start.

    ``clock`` measures the run against MATCHING_MAX_SECONDS (the lock wait counts too);
    ``force`` runs even when nothing changed since the last complete run."""
    from matching.matches.proposals import propose_matches

    start = clock()
    serialise(session)
    seen = session.scalar(select(func.max(MatchingRequest.id)))
    result = propose_matches(
        session,
        actor,
        now,
        dry_run=dry_run,
        progress=progress,
        clock=clock,
        start=start,
        force=force,
    )
    result.requests = 0
    if seen is not None:
        result.requests = (
            session.scalar(
                select(func.count()).select_from(MatchingRequest).where(MatchingRequest.id <= seen)
            )
            or 0  # a count is never NULL; this tells the type checker
        )
        if not dry_run:
            session.execute(delete(MatchingRequest).where(MatchingRequest.id <= seen))
    return result


def _committed(session: Session) -> None:
    if session.info.pop(_PENDING, False):
        session.info[_COMMITTED] = True


def _rolled_back(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


def run_after_commit(session: Session) -> dict | None:
    """Run the proposal job now if this session committed a wish (MATCHING_AFTER_COMMIT)."""
    if not session.info.pop(_COMMITTED, False):
        return None
    from jobs import registry
    from matching.models import utcnow

    try:
        return registry.BY_NAME["propose_matches"].run(session, utcnow())
    except Exception:  # the page the person asked for is done; the jobs process tries again
        log.exception("Vorschläge nach der Änderung konnten nicht berechnet werden")
        session.rollback()
        return None


def init_app(app: Flask) -> None:
    """Under MATCHING_AFTER_COMMIT, a request that committed a wish runs the proposal after it."""
    for name, listener in (("after_commit", _committed), ("after_soft_rollback", _rolled_back)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)

    @app.after_request
    def propose_after_commit(response):
        from matching.extensions import db

        if current_app.config.get("MATCHING_AFTER_COMMIT"):
            run_after_commit(db.session)
        else:
            db.session.info.pop(_COMMITTED, None)
        return response
