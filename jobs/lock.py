"""The lock a running scheduler holds, so that a second one does not run the same jobs.

PostgreSQL: a session-level advisory lock on a connection of its own, held for the
scheduler's whole life. The server releases it when that connection ends, so a
scheduler that crashes (or whose machine disappears) frees it without help.

SQLite: ``flock`` on a file beside the instance (``instance/scheduler.lock``); the
kernel releases it when the process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

# One fixed 64-bit key for "the Vernetzerbörse scheduler" (the bytes spell vb-jobs!).
ADVISORY_LOCK_KEY = int.from_bytes(b"vb-jobs!", "big")


class AdvisoryLock:
    """``pg_try_advisory_lock`` on a dedicated connection, kept open while the scheduler runs."""

    def __init__(self, engine: Engine, key: int = ADVISORY_LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self.connection: Connection | None = None

    @property
    def where(self) -> str:
        return f"PostgreSQL-Advisory-Lock {self.key} in der Datenbank {self.engine.url.database}"

    def holder(self) -> str:
        """Who holds the lock; PostgreSQL knows only its own backend, so: unknown."""
        return ""

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits."""
        # Autocommit: the connection must not sit "idle in transaction" for days.
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            taken = connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
        except Exception:
            connection.close()
            raise
        if not taken:
            connection.close()
            return False
        self.connection = connection
        return True

    def still_held(self) -> bool:
        """False when the connection (and with it the lock) is gone."""
        if self.connection is None:
            return False
        try:
            self.connection.scalar(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def release(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        except SQLAlchemyError:  # the connection is gone: so is the lock
            pass
        finally:
            self.connection.close()
            self.connection = None


class FileLock:
    """An exclusive ``flock`` on a file; the file names the process that holds it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.handle: IO[str] | None = None

    @property
    def where(self) -> str:
        return f"Sperrdatei {self.path}"

    def holder(self) -> str:
        """The process id written by the holder, or "" when unknown."""
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""

    def acquire(self) -> bool:
        """Take the lock if no other process (or open file) holds it; never waits."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self.handle = handle
        return True

    def still_held(self) -> bool:
        return self.handle is not None and not self.handle.closed

    def release(self) -> None:
        if self.handle is None:
            return
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()
        self.handle = None


def scheduler_lock(app: Flask, engine: Engine) -> AdvisoryLock | FileLock:
    """The lock that fits the database: advisory on PostgreSQL, a file lock otherwise."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    path = app.config.get("JOBS_LOCK_FILE") or Path(app.instance_path) / "scheduler.lock"
    return FileLock(Path(path))
