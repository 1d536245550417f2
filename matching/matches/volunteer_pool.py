"""The engine's pool of approved volunteers, kept between requests and brought up to date in parts.

Ranking the other candidates for the proposals a coordinator sees needs every approved volunteer
with their levels, districts, languages, load and exclusions: about ten statements and a few
hundred records, most of the proposal queue's time. Between two requests usually only a few
volunteers changed (an offer, an approval), so each process keeps the records it loaded, stamped
with a *generation*, and reloads only the volunteers that changed since:

- every commit that changed a row the records are built from (seen by the session events below)
  raises the generation after the commit and files under the new number *which* volunteers it
  touched: their profile ids and user ids, or "everything" for a bulk statement or the deletion
  of a need or an initiative (the database's cascades reach rows nobody loaded);
- a request reads the generation *before* it loads anything and files what it loaded under that
  number, so a load that raced with a commit is brought up to date by the next request;
- the generation and the change log live where every process sees them: Redis in production
  (the store the rate limits use), one counter per process in tests (``"process"``, a single
  process only). With neither (``"off"``) every request loads the whole pool, as before;
- if the store cannot be read, the request loads the whole pool; if a raise after a commit fails,
  other processes may keep old records for at most ``VOLUNTEER_POOL_MAX_AGE`` seconds.

A volunteer's record depends only on rows that name that volunteer (their profile, its levels,
districts and languages, their user, their matches and "Diesmal nicht" answers, the initiatives
they belong to), which is what makes reloading only the touched ones exact.

Writes in plain SQL text pass the session events unseen; the application makes none, and
``flask backup restore`` declares everything changed.

A session with uncommitted changes of its own to such rows neither uses nor fills the kept
records: it must see its own writes, and they may still be rolled back.

A whole load (after a bulk change, when the kept pool is ``VOLUNTEER_POOL_MAX_AGE`` old, or far
behind) takes seconds at city scale. In production no request waits for it: a thread of the
process builds the new pool beside the requests and swaps it in at once, while requests keep
using the old one, still brought up to date in parts (``VOLUNTEER_POOL_REBUILD = "background"``).
A failed build is logged and the old pool stays; once it is another ``max_age`` past due, a
request loads the pool itself. Processes that share Redis take turns (``REDIS_TURN``): while
one builds, the others keep serving their old pools and ask again later, so workers that fell
due together (forked from one master, or after one bulk change) do not all build at once; one
that has waited for half of ``max_age`` builds without its turn.

The first pool of a new process is built the same way right after its warm-up; a request that
needs it before then waits for that build. Under gunicorn the master builds it once before
forking the workers, and each worker brings the inherited pool up to date in parts
(``after_fork``), or drops it when the changes since are unknown. Tests rebuild in the request
(``"inline"``), as every load did before.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from matching import engine

log = logging.getLogger(__name__)

EXTENSION = "volunteer_pool"
_PENDING = "volunteer_pool_pending"
REDIS_KEY = "vernetzer:volunteer-pool:generation"
REDIS_CHANGES = "vernetzer:volunteer-pool:changes"
REDIS_TURN = "vernetzer:volunteer-pool:building"
TURN_RETRY_SECONDS = 5  # a process whose turn was refused asks again after this long
KEPT_CHANGES = 1000  # change log entries kept; a process further behind reloads everything
MAX_CATCH_UP = 200  # generations a process catches up on in parts before reloading everything

# table → (what its rows name: "profile" or "user", the attribute holding it, the columns that
# matter or None for every column)
_WATCHED: dict[str, tuple[str, str, frozenset[str] | None]] = {
    "volunteer_profiles": ("profile", "id", None),
    "volunteer_phase_levels": ("profile", "profile_id", None),
    "volunteer_districts": ("profile", "profile_id", None),
    "volunteer_languages": ("profile", "profile_id", None),
    "matches": ("profile", "volunteer_id", frozenset({"status", "released_at"})),
    "need_passes": ("profile", "volunteer_id", None),
    "initiative_members": ("user", "user_id", None),
    # A log-in, a new password or privacy version leaves the records as they were.
    "users": ("user", "id", frozenset({"first_name", "confirmed_at", "disabled_at"})),
}
# Deleting these removes watched rows by the database's own cascades, for anyone.
_CASCADING = frozenset({"initiatives", "needs"})


@dataclass
class Change:
    """What one commit changed: the volunteers it touched, or everything."""

    profiles: set[int] = field(default_factory=set)
    users: set[int] = field(default_factory=set)
    everything: bool = False

    def __bool__(self) -> bool:
        return self.everything or bool(self.profiles or self.users)

    def add(self, other: Change) -> None:
        self.everything |= other.everything
        self.profiles |= other.profiles
        self.users |= other.users

    def encode(self) -> str:
        if self.everything:
            return "*"
        return json.dumps({"p": sorted(self.profiles), "u": sorted(self.users)})

    @classmethod
    def decode(cls, text: str | bytes | None) -> Change:
        """A change from the log; a missing or unreadable entry counts as everything."""
        if not text or text in ("*", b"*"):
            return cls(everything=True)
        try:
            data = json.loads(text)
            return cls(set(map(int, data["p"])), set(map(int, data["u"])))
        except (ValueError, KeyError, TypeError):
            return cls(everything=True)


def _table_name(obj) -> str | None:
    return getattr(getattr(type(obj), "__table__", None), "name", None)


def _note(change: Change, obj, *, new: bool = False, deleted: bool = False) -> None:
    """Add what ``obj`` (new, deleted or changed in this flush) means for the records."""
    name = _table_name(obj)
    if deleted and name in _CASCADING:
        change.everything = True
        return
    if name not in _WATCHED:
        return
    kind, attribute, columns = _WATCHED[name]
    state = inspect(obj)
    if not (new or deleted or columns is None) and not any(
        state.attrs[column].history.has_changes() for column in columns
    ):
        return
    value = state.dict.get(attribute)  # never loads: an unloaded key means "everything"
    if not isinstance(value, int):
        change.everything = True
    elif kind == "profile":
        change.profiles.add(value)
    else:
        change.users.add(value)


def _unflushed(session: Session) -> Change:
    change = Change()
    for obj in session.new:
        _note(change, obj, new=True)
    for obj in session.deleted:
        _note(change, obj, deleted=True)
    for obj in session.dirty:
        _note(change, obj)
    return change


def _pending(session: Session) -> Change:
    return session.info.setdefault(_PENDING, Change())


def _after_flush(session: Session, _context) -> None:
    # Still the pre-flush view (new, dirty, deleted, attribute histories), with the keys the
    # flush just assigned.
    change = _unflushed(session)
    if change:
        _pending(session).add(change)


# Execution option of a bulk statement that names the volunteers (profile ids) it touches.
TOUCHES = "volunteer_pool_touches"


def _do_orm_execute(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    touched = state.execution_options.get(TOUCHES)
    if touched is not None:
        _pending(state.session).profiles.update(touched)
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)
    if name in _WATCHED or (state.is_delete and name in _CASCADING):
        _pending(state.session).everything = True  # which rows a bulk statement hit is unknown


def _after_commit(session: Session) -> None:
    change = session.info.pop(_PENDING, None)
    if change and has_app_context():
        cache = current_app.extensions.get(EXTENSION)
        if cache is not None:
            cache.changed(change)


def has_own_changes(session: Session) -> bool:
    """Whether the session holds changes of its own, not yet committed, that the records see."""
    return bool(session.info.get(_PENDING)) or bool(_unflushed(session))


class _ProcessGeneration:
    """Generation and change log in this process: right only when one process does all writes.

    One for every app of the process (tests make several): a commit through any counts for all.
    """

    def __init__(self) -> None:
        self._value = 0
        self._changes: dict[int, str] = {}
        self._lock = threading.Lock()

    def current(self) -> int:
        return self._value

    def bump(self, change: Change) -> None:
        with self._lock:
            self._value += 1
            self._changes[self._value] = change.encode()
            self._changes.pop(self._value - KEPT_CHANGES, None)

    def changes(self, first: int, last: int) -> list[str | None]:
        return [self._changes.get(g) for g in range(first, last + 1)]


# Raise the generation and file the change under it in one step: no reader ever sees a
# generation without its entry (the oldest entry beyond the kept number goes).
_BUMP = """
local generation = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], generation, ARGV[1])
redis.call('HDEL', KEYS[2], generation - tonumber(ARGV[2]))
return generation
"""


# End a turn to build only if it is still this process's (it may have lapsed and passed on).
_END_TURN = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class _RedisGeneration:
    """Generation and change log in Redis, shared by every web and jobs process."""

    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self._bump = self._client.register_script(_BUMP)
        self._end_turn = self._client.register_script(_END_TURN)

    def current(self) -> int:
        return int(self._client.get(REDIS_KEY) or 0)

    def bump(self, change: Change) -> None:
        self._bump(keys=[REDIS_KEY, REDIS_CHANGES], args=[change.encode(), KEPT_CHANGES])

    def changes(self, first: int, last: int) -> list[bytes | None]:
        return self._client.hmget(REDIS_CHANGES, list(range(first, last + 1)))

    def disconnect(self) -> None:
        self._client.connection_pool.disconnect()

    def take_turn(self, token: str, seconds: float) -> bool:
        """Whether this process may build a pool now (the turn lapses after ``seconds``)."""
        return bool(self._client.set(REDIS_TURN, token, nx=True, px=max(1, int(seconds * 1000))))

    def end_turn(self, token: str) -> None:
        self._end_turn(keys=[REDIS_TURN], args=[token])


# Loads records of approved volunteers as (user id, record): all of them when called with None,
# else those with one of the given profile or user ids.
Loader = Callable[[Session, "Iterable[int] | None", "Iterable[int] | None"], list]


@dataclass(frozen=True)
class _Entry:
    generation: int
    built_at: float
    records: dict[int, tuple[int, engine.Volunteer]]  # profile id → (user id, record)
    pool: engine.Pool
    profile_of: dict[int, int]  # user id → profile id, of every record


class VolunteerPool:
    """One process's kept records and pool (see the module's description)."""

    def __init__(
        self,
        store,
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
        rebuilder: Rebuilder | None = None,
    ):
        self.store = store
        self.max_age = max_age
        self.clock = clock
        # Builds a whole new pool beside the requests; None: the request that finds it due does.
        self.rebuilder = rebuilder
        self._entry: _Entry | None = None
        self._swap = threading.Lock()  # a request's catch-up never overwrites a rebuilt pool
        self._due_since: float | None = None  # when the kept pool first needed a whole load
        self._turn_refused_at: float | None = None  # when another process last held the turn
        # How often the whole pool or a part was loaded, for tests and benchmarks.
        self.full_loads = 0
        self.partial_loads = 0
        self.rebuilds = 0

    @property
    def loads(self) -> int:
        return self.full_loads + self.partial_loads

    def changed(self, change: Change) -> None:
        """A commit changed what the records are built from."""
        if self.store is None:
            return
        try:
            self.store.bump(change)
        except Exception:  # the commit stands; other processes catch up within max_age
            self._entry = None
            log.warning("volunteer pool: could not raise the generation", exc_info=True)

    def clear(self) -> None:
        self._entry = None

    def get(self, session: Session, load: Loader) -> engine.Pool:
        """The pool as committed now; loads only what changed since the kept one."""
        if self.store is None or has_own_changes(session):
            return self._full(session, load).pool
        try:
            generation = self.store.current()
        except Exception:
            log.warning("volunteer pool: generation unreadable, loading a pool", exc_info=True)
            return self._full(session, load).pool
        return self._at(session, load, generation).pool

    def record(self, session: Session, load: Loader, profile_id: int) -> engine.Volunteer | None:
        """One volunteer's record as committed now, or None where only a whole load could
        give it (no store, an unreadable one, changes of the session's own, or an old pool
        serving while a new one is built beside the requests after a bulk change or a long
        gap): a page for one volunteer then loads that record itself instead."""
        if self.store is None or has_own_changes(session):
            return None
        try:
            generation = self.store.current()
        except Exception:
            log.warning("volunteer pool: generation unreadable, loading one record", exc_info=True)
            return None
        entry = self._at(session, load, generation)
        if entry.generation != generation:  # an old pool serving while a new one is built
            return None
        return entry.pool.volunteer(profile_id)

    def _at(self, session: Session, load: Loader, generation: int) -> _Entry:
        """The kept entry brought up to ``generation`` (read before anything is loaded)."""
        kept = self._entry
        if kept is None and self.rebuilder is not None and self.rebuilder.wait():
            kept = self._entry  # the process's first pool, built after its warm-up
        now = self.clock()
        if kept is None:
            entry = self._full(session, load, generation, now)
        elif now - kept.built_at >= self.max_age:
            entry = self._due(session, load, kept, generation, now) or (
                kept
                if kept.generation == generation
                else self._catch_up(session, load, kept, generation, old=kept)
            )
        elif kept.generation != generation:
            entry = self._catch_up(session, load, kept, generation)
        else:
            entry = kept
        with self._swap:
            if self._entry is kept:  # else a rebuild swapped in a newer pool meanwhile
                self._entry = entry
        return entry

    def rebuild(self, session: Session, load: Loader, take_turns: bool = False) -> bool:
        """Build a whole new pool and put it in place of the kept one (beside the requests);
        whether it was built.

        ``take_turns``: processes that still have a pool to serve build one at a time (a build
        takes seconds of CPU; four at once saturate the machine): when another process holds
        the turn this one builds nothing and tries again on a later request, unless it has
        waited for half of ``max_age`` already. A process without a pool never waits.
        """
        if self.store is None:
            return False
        turn = None
        if take_turns and self._entry is not None and not self._waited_long():
            turn = self._take_turn()
            if turn is None:
                self._turn_refused_at = self.clock()
                return False
        try:
            generation = self.store.current()  # before loading, as a request does
            entry = self._full(session, load, generation, self.clock())
        finally:
            if turn is not None:
                self._end_turn(turn)
        with self._swap:
            self._entry = entry
            self._due_since = None
            self._turn_refused_at = None
            self.rebuilds += 1
        return True

    def _waited_long(self) -> bool:
        due_since = self._due_since
        return due_since is not None and self.clock() - due_since >= self.max_age / 2

    def _take_turn(self) -> str | None:
        """A token for this process's turn to build, or None while another process builds."""
        take = getattr(self.store, "take_turn", None)
        if take is None:  # a store of one process: the rebuilder builds one at a time anyway
            return ""
        token = uuid.uuid4().hex
        try:
            return token if take(token, self.max_age / 2) else None
        except Exception:  # an unreadable store must not stop the build
            log.warning("volunteer pool: could not take a turn to build", exc_info=True)
            return ""

    def _end_turn(self, token: str) -> None:
        end = getattr(self.store, "end_turn", None)
        if token and end is not None:
            try:
                end(token)
            except Exception:  # the turn ends by itself after max_age / 2
                log.warning("volunteer pool: could not end the turn to build", exc_info=True)

    def release_connections(self) -> None:
        """Close the store's connections (before the process forks: none may be shared)."""
        disconnect = getattr(self.store, "disconnect", None)
        if disconnect is not None:
            disconnect()

    def after_fork(self, session: Session, load: Loader) -> str:
        """In a process forked with its parent's pool: bring that pool up to date in parts, or,
        when that cannot be done, drop it and have a new one built beside the requests (the
        first request that needs it waits, as in a process that never had one). What was done,
        for the log."""
        kept = self._entry
        if kept is None or self.store is None:
            self.start_rebuild(load)
            return "building"
        try:
            generation = self.store.current()
        except Exception:
            log.warning("volunteer pool: generation unreadable after fork", exc_info=True)
            self.clear()
            return "dropped"
        if generation == kept.generation:
            return "current"
        entry = self._catch_up(session, load, kept, generation, old=kept)
        with self._swap:
            if self._entry is not kept:
                return "replaced"
            if entry is kept:  # the changes since are unknown: the parent's pool is no use
                self._entry = None
            else:
                self._entry = entry
        if entry is kept:
            self.start_rebuild(load)
            return "building"
        return "caught up"

    def start_rebuild(self, load: Loader) -> None:
        """Have the first pool (or a new one) built beside the requests, if a rebuilder is set."""
        if self.rebuilder is not None and self.store is not None:
            self.rebuilder.start(self, load)

    def _due(self, session, load: Loader, kept: _Entry, generation: int, now: float):
        """A whole load is due: a new entry loaded now (no rebuilder, or the old pool has been
        due for ``max_age`` already), or None when one is being built beside the requests."""
        if self.rebuilder is None:
            return self._full(session, load, generation, now)
        with self._swap:
            if self._due_since is None:
                self._due_since = now
            overdue = now - self._due_since >= self.max_age
        if overdue:
            log.warning("volunteer pool: no new pool built for %.0f s, loading one", self.max_age)
            entry = self._full(session, load, generation, now)
            with self._swap:
                self._due_since = None
            return entry
        refused = self._turn_refused_at
        if refused is None or now - refused >= TURN_RETRY_SECONDS:
            self.rebuilder.start(self, load)
        return None

    def _full(self, session, load: Loader, generation: int = -1, now: float = 0.0) -> _Entry:
        self.full_loads += 1
        records = {volunteer.id: (user_id, volunteer) for user_id, volunteer in load(session)}
        profile_of = {user_id: profile_id for profile_id, (user_id, _v) in records.items()}
        pool = engine.Pool(v for _u, v in records.values())
        return _Entry(generation, now, records, pool, profile_of)

    def _catch_up(
        self, session, load: Loader, entry: _Entry, generation: int, old: _Entry | None = None
    ) -> _Entry:
        """The kept records with the changed volunteers loaded again. When the changes are
        unknown a whole load is due: ``old`` (the kept entry) serves while it is built."""

        def everything() -> _Entry:
            if old is not None:
                return old
            return self._due(session, load, entry, generation, self.clock()) or entry

        if not 0 < generation - entry.generation <= MAX_CATCH_UP:
            return everything()
        try:
            entries = self.store.changes(entry.generation + 1, generation)
        except Exception:
            log.warning("volunteer pool: change log unreadable, loading a pool", exc_info=True)
            return everything()
        change = Change()
        for text in entries:
            change.add(Change.decode(text))
        if change.everything:
            return everything()
        self.partial_loads += 1
        # Only the touched volunteers' rows change: the pool is updated, not built again.
        touched = {p for p in change.profiles if p in entry.records}
        touched.update(entry.profile_of[u] for u in change.users if u in entry.profile_of)
        records, profile_of = dict(entry.records), dict(entry.profile_of)
        for profile_id in touched:
            user_id, _volunteer = records.pop(profile_id)
            profile_of.pop(user_id, None)
        loaded = load(session, change.profiles, change.users)
        for user_id, volunteer in loaded:
            records[volunteer.id] = (user_id, volunteer)
            profile_of[user_id] = volunteer.id
        pool = entry.pool.with_changes(
            [volunteer for _u, volunteer in loaded], touched - {v.id for _u, v in loaded}
        )
        return _Entry(generation, entry.built_at, records, pool, profile_of)


class Rebuilder:
    """Builds a process's new pool in a thread of its own, one at a time, and swaps it in."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self, kept: VolunteerPool, load: Loader) -> bool:
        """Start a build unless one is running; whether this call started one."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._thread = threading.Thread(
                target=self._run, args=(kept, load), name="volunteer-pool-rebuild", daemon=True
            )
            self._thread.start()
            return True

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a running build to end; whether there was one."""
        thread = self._thread
        if thread is None or not thread.is_alive() or thread is threading.current_thread():
            return False
        thread.join(timeout)
        return True

    def _run(self, kept: VolunteerPool, load: Loader) -> None:
        from matching.extensions import db

        started = time.monotonic()
        if kept._entry is not None:
            _yield_to_requests()
        try:
            with self.app.app_context():
                try:
                    built = kept.rebuild(db.session, load, take_turns=True)
                finally:
                    db.session.remove()
        except Exception:  # the old pool keeps serving; the next request due tries again
            log.exception("volunteer pool: building a new pool failed, the old one stays")
            return
        if not built:
            log.info("volunteer pool: another process is building its pool; this one waits")
            return
        log.info("volunteer pool: new pool built in %d ms", (time.monotonic() - started) * 1000)


# How much lower the building thread's scheduling priority is while an older pool serves.
REBUILD_NICENESS = 10


def _yield_to_requests() -> None:
    """Lower this thread's scheduling priority (Linux schedules threads one by one): a new pool
    built while the old one still serves should take the CPU the requests leave, not share
    the two cores with them. The request that met a build on a busy machine took 226-308 ms
    instead of about 50. A first pool, which requests wait for, keeps its priority."""
    if sys.platform != "linux":
        return
    try:
        thread = threading.get_native_id()
        os.setpriority(
            os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + REBUILD_NICENESS
        )
    except OSError:  # not allowed here: the build runs at the usual priority
        log.debug("volunteer pool: could not lower the building thread's priority")


def _store_for(setting: str):
    if setting == "off":
        return None
    if setting == "process":
        return _PROCESS_GENERATION
    if setting.startswith(("redis://", "rediss://", "unix://")):
        return _RedisGeneration(setting)
    raise ValueError(f"VOLUNTEER_POOL_CACHE: expected off, process or a redis:// URL: {setting!r}")


_PROCESS_GENERATION = _ProcessGeneration()


def _rebuilder_for(app: Flask) -> Rebuilder | None:
    setting = app.config["VOLUNTEER_POOL_REBUILD"]
    if setting == "inline":
        return None
    if setting == "background":
        return Rebuilder(app)
    raise ValueError(f"VOLUNTEER_POOL_REBUILD: expected background or inline: {setting!r}")


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = VolunteerPool(
        _store_for(app.config["VOLUNTEER_POOL_CACHE"]),
        app.config["VOLUNTEER_POOL_MAX_AGE"],
        rebuilder=_rebuilder_for(app),
    )
    for name, listener in (
        ("after_flush", _after_flush),
        ("do_orm_execute", _do_orm_execute),
        ("after_commit", _after_commit),
    ):  # once per process: the listeners serve every app
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def kept_pool(app: Flask) -> engine.Pool | None:
    """The app's kept pool as it is, without bringing it up to date (None before the first)."""
    return kept_pool_of(app.extensions[EXTENSION])


def kept_pool_of(kept: VolunteerPool) -> engine.Pool | None:
    entry = kept._entry
    return None if entry is None else entry.pool


def pool(session: Session, load: Loader) -> engine.Pool:
    """The current app's pool of approved volunteers (``load`` reads the records)."""
    return current_app.extensions[EXTENSION].get(session, load)


def record(session: Session, load: Loader, profile_id: int) -> engine.Volunteer | None:
    """One approved volunteer's record as committed now, from the current app's kept pool
    (brought up to date in parts like every use of it); None when the pool holds no such
    volunteer or could give one only by loading every volunteer (``VolunteerPool.record``)."""
    return current_app.extensions[EXTENSION].record(session, load, profile_id)
