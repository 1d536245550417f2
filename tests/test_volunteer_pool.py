"""The kept pool of approved volunteers: used while nothing behind it changed, never after."""

from __future__ import annotations

import logging
import os
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, update

from config import DevelopmentConfig
from matching import engine, warmup
from matching.engine.pool import _COLUMNS
from matching.matches import proposals, volunteer_pool
from matching.models import (
    InitiativeMember,
    Match,
    MatchOrigin,
    MatchStatus,
    NeedPass,
    PassReason,
    ProfileStatus,
    Role,
    User,
    VolunteerDistrict,
    VolunteerLanguage,
)
from matching.models.base import utcnow


@pytest.fixture()
def scene(app, db, make_volunteer, make_initiative, make_need):
    """An open need in Ost (in person only) and two approved volunteers from Ost for it."""
    initiative, _member = make_initiative()
    need = make_need(initiative, phases=("start",))
    need.accepts_phone = False
    db.session.commit()
    anna = make_volunteer("anna@example.org", first_name="Anna")
    bernd = make_volunteer("bernd@example.org", first_name="Bernd")
    return {"need": need, "anna": anna, "bernd": bernd, "initiative": initiative, "db": db}


def _cache(app) -> volunteer_pool.VolunteerPool:
    return app.extensions["volunteer_pool"]


def _names(db, need) -> set[str]:
    return {p.user.first_name for p, _s in proposals.candidates_for(db.session, need, utcnow())}


def _warm(app, scene) -> int:
    assert _names(scene["db"], scene["need"]) == {"Anna", "Bernd"}
    builds = _cache(app).loads
    assert _names(scene["db"], scene["need"]) == {"Anna", "Bernd"}
    assert _cache(app).loads == builds, "nothing changed: the kept pool serves the second call"
    return builds


def _match(s, volunteer: str, status: str, need=None) -> Match:
    """A match row of one of the scene's volunteers (for the scene's need unless given)."""
    match = Match(
        need_id=(need or s["need"]).id,
        volunteer_id=s[volunteer].id,
        status=status,
        origin=MatchOrigin.ENGINE,
    )
    s["db"].session.add(match)
    return match


def _pause(s):
    s["anna"].paused_until = (utcnow() + timedelta(days=30)).date()


def _no_levels(s):
    for row in s["anna"].levels:
        row.level = 0


def _elsewhere(s):
    s["anna"].district_rows = [VolunteerDistrict(district="zuffenhausen")]


def _english_only(s):
    s["anna"].language_rows = [VolunteerLanguage(language="en")]


def _sent_back(s):
    s["anna"].status = ProfileStatus.PENDING


def _disabled(s):
    s["anna"].user.disabled_at = utcnow()


def _rejected(s):
    _match(s, "anna", MatchStatus.REJECTED)


def _passed(s):
    s["db"].session.add(
        NeedPass(
            need_id=s["need"].id,
            volunteer_id=s["anna"].id,
            reason=PassReason.NO_TIME,
            phases=["start"],
        )
    )


def _member(s):
    s["db"].session.add(
        InitiativeMember(initiative_id=s["initiative"].id, user_id=s["anna"].user_id)
    )


def _bulk_disabled(s):
    s["db"].session.execute(
        update(User).where(User.id == s["anna"].user_id).values(disabled_at=utcnow())
    )


def _bulk_deleted(s):
    s["db"].session.execute(delete(User).where(User.id == s["anna"].user_id))


@pytest.mark.parametrize(
    "change",
    [
        _pause,
        _no_levels,
        _elsewhere,
        _english_only,
        _sent_back,
        _disabled,
        _rejected,
        _passed,
        _member,
        _bulk_disabled,
        _bulk_deleted,
    ],
)
def test_a_committed_change_is_seen_at_once(app, scene, change):
    builds = _warm(app, scene)
    partial = _cache(app).partial_loads
    change(scene)
    scene["db"].session.commit()
    scene["db"].session.expire_all()
    assert _names(scene["db"], scene["need"]) == {"Bernd"}
    assert _cache(app).loads == builds + 1
    bulk = change in (_bulk_disabled, _bulk_deleted)
    assert _cache(app).partial_loads == partial + (0 if bulk else 1), "only Anna is loaded again"
    _same_as_a_fresh_load(app, scene["db"])


def _same_as_a_fresh_load(app, db):
    """The kept pool holds exactly what loading every approved volunteer now gives."""
    kept = volunteer_pool.pool(db.session, proposals.approved_volunteer_records)
    assert sorted(kept.volunteers, key=lambda v: v.id) == proposals.approved_volunteers(db.session)
    # ... and, updated in place for the changed volunteer, equals a pool built from them.
    built = engine.Pool(proposals.approved_volunteers(db.session))
    for name in _COLUMNS:
        assert getattr(kept, name).tolist() == getattr(built, name).tolist(), name
    for name in ("_buckets", "_declined", "_members"):
        assert {k: v.tolist() for k, v in getattr(kept, name).items()} == {
            k: v.tolist() for k, v in getattr(built, name).items()
        }, name
    assert (kept._advised, kept._lowered) == (built._advised, built._lowered)


def test_a_newly_approved_volunteer_is_seen_at_once(app, scene, make_volunteer):
    builds = _warm(app, scene)
    make_volunteer("clara@example.org", first_name="Clara")
    assert _names(scene["db"], scene["need"]) == {"Anna", "Bernd", "Clara"}
    assert _cache(app).loads == builds + 1
    _same_as_a_fresh_load(app, scene["db"])


def test_an_erased_account_leaves_the_candidates_at_once(app, scene):
    from matching import privacy

    builds = _warm(app, scene)
    privacy.erase(scene["db"].session, scene["anna"].user, now=utcnow())
    scene["db"].session.commit()
    assert _names(scene["db"], scene["need"]) == {"Bernd"}
    assert _cache(app).loads == builds + 1
    _same_as_a_fresh_load(app, scene["db"])


def _log_in(s):
    s["anna"].user.last_login_at = utcnow()
    s["anna"].user.privacy_version = "neu"


def _need_retitled(s):
    s["need"].title = "Neuer Titel"


def _reminded(s):
    match = _match(s, "bernd", MatchStatus.PROPOSED)
    s["db"].session.commit()
    return match


@pytest.mark.parametrize("change", [_log_in, _need_retitled])
def test_changes_the_pool_does_not_depend_on_keep_it(app, scene, change):
    builds = _warm(app, scene)
    change(scene)
    scene["db"].session.commit()
    assert _names(scene["db"], scene["need"]) == {"Anna", "Bernd"}
    assert _cache(app).loads == builds


def test_a_reminder_on_a_match_keeps_the_pool(app, scene):
    match = _reminded(scene)  # a new live match: the pool is built again once
    _names(scene["db"], scene["need"])
    builds = _cache(app).loads
    match.reminded_at = utcnow()
    scene["db"].session.commit()
    _names(scene["db"], scene["need"])
    assert _cache(app).loads == builds


def test_a_match_given_back_frees_the_capacity_at_once(app, scene, make_need):
    other = make_need(scene["initiative"], title="Andere Anfrage")
    scene["anna"].capacity = 1
    match = _match(scene, "anna", MatchStatus.APPROVED, need=other)
    scene["db"].session.commit()
    assert _names(scene["db"], scene["need"]) == {"Bernd"}, "Anna is at her capacity"
    builds = _cache(app).loads
    match.status = MatchStatus.CANCELLED
    scene["db"].session.commit()
    assert _names(scene["db"], scene["need"]) == {"Anna", "Bernd"}
    assert _cache(app).loads == builds + 1


def test_own_uncommitted_changes_are_seen_and_never_kept(app, scene):
    builds = _warm(app, scene)
    _pause(scene)
    scene["db"].session.flush()
    assert _names(scene["db"], scene["need"]) == {"Bernd"}, "a session sees its own writes"
    scene["db"].session.rollback()
    assert _names(scene["db"], scene["need"]) == {"Anna", "Bernd"}, "the rolled-back pause"
    assert _cache(app).loads == builds + 2


class _Store:
    """A generation store for the cache alone, with switches for failures."""

    def __init__(self):
        self.value = 0
        self.log = {}
        self.broken_read = False
        self.broken_write = False

    def current(self):
        if self.broken_read:
            raise ConnectionError("store down")
        return self.value

    def bump(self, change):
        if self.broken_write:
            raise ConnectionError("store down")
        self.value += 1
        self.log[self.value] = change.encode()

    def changes(self, first, last):
        return [self.log.get(g) for g in range(first, last + 1)]


def _nobody(session, profiles=None, users=None):
    return []


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_pool_loaded_while_someone_commits_is_not_used_again(db):
    store = _Store()
    cache = volunteer_pool.VolunteerPool(store, max_age=300)

    def load_during_a_commit(session, profiles=None, users=None):
        store.bump(
            volunteer_pool.Change(everything=True)
        )  # another process commits and raises the generation meanwhile
        return []

    cache.get(db.session, load_during_a_commit)
    cache.get(db.session, _nobody)
    assert cache.loads == 2, "the first pool was filed under the generation read before loading"
    cache.get(db.session, _nobody)
    assert cache.loads == 2


def test_an_unreadable_store_means_a_fresh_pool_each_time(db, caplog):
    store = _Store()
    cache = volunteer_pool.VolunteerPool(store, max_age=300)
    cache.get(db.session, _nobody)
    store.broken_read = True
    with caplog.at_level(logging.WARNING, logger="matching.matches.volunteer_pool"):
        cache.get(db.session, _nobody)
        cache.get(db.session, _nobody)
    assert cache.loads == 3
    assert "generation unreadable" in caplog.text


def test_a_failed_raise_drops_this_process_pool_and_keeps_the_commit(db, caplog):
    store = _Store()
    cache = volunteer_pool.VolunteerPool(store, max_age=300)
    cache.get(db.session, _nobody)
    store.broken_write = True
    with caplog.at_level(logging.WARNING, logger="matching.matches.volunteer_pool"):
        cache.changed(volunteer_pool.Change({1}))  # must not raise: the commit has happened
    assert "could not raise the generation" in caplog.text
    cache.get(db.session, _nobody)
    assert cache.loads == 2


def test_only_the_touched_volunteers_are_loaded_again(db):
    store = _Store()
    cache = volunteer_pool.VolunteerPool(store, max_age=300)
    asked = []

    def load(session, profiles=None, users=None):
        asked.append((profiles, users))
        return []

    cache.get(db.session, load)
    store.bump(volunteer_pool.Change({3}, {40}))
    store.bump(volunteer_pool.Change({5}))
    cache.get(db.session, load)
    assert asked == [(None, None), ({3, 5}, {40})]
    assert (cache.full_loads, cache.partial_loads) == (1, 1)


@pytest.mark.parametrize(
    "behind",
    [
        pytest.param("everything", id="a bulk statement"),
        pytest.param("lost", id="a change log entry gone"),
        pytest.param("far", id="too far behind"),
    ],
)
def test_unknown_changes_mean_a_whole_load(db, behind):
    store = _Store()
    cache = volunteer_pool.VolunteerPool(store, max_age=300)
    cache.get(db.session, _nobody)
    if behind == "everything":
        store.bump(volunteer_pool.Change(everything=True))
    elif behind == "lost":
        store.bump(volunteer_pool.Change({1}))
        store.log.clear()
    else:
        for _ in range(volunteer_pool.MAX_CATCH_UP + 1):
            store.bump(volunteer_pool.Change({1}))
    cache.get(db.session, _nobody)
    assert (cache.full_loads, cache.partial_loads) == (2, 0)


def test_changes_travel_as_text():
    change = volunteer_pool.Change({2, 1}, {9})
    assert volunteer_pool.Change.decode(change.encode()) == change
    assert volunteer_pool.Change.decode(b'{"p": [1], "u": []}') == volunteer_pool.Change({1})
    for text in (None, "*", b"*", "kaputt", '{"p": 1}'):
        assert volunteer_pool.Change.decode(text).everything


def test_a_kept_pool_is_loaded_again_after_its_maximum_age(db):
    clock = _Clock()
    cache = volunteer_pool.VolunteerPool(_Store(), max_age=300, clock=clock)
    cache.get(db.session, _nobody)
    clock.now += 299
    cache.get(db.session, _nobody)
    assert cache.loads == 1
    clock.now += 2
    cache.get(db.session, _nobody)
    assert cache.loads == 2


def test_off_loads_a_pool_for_every_call(db):
    cache = volunteer_pool.VolunteerPool(None, max_age=300)
    cache.get(db.session, _nobody)
    cache.get(db.session, _nobody)
    assert cache.loads == 2


class _ByHand:
    """A rebuilder that only notes what it was asked to build; the test runs the build."""

    def __init__(self):
        self.asked = []

    def start(self, kept, load):
        self.asked.append(load)
        return True

    def wait(self, timeout=None):
        return False


def _records(*ids):
    """A loader of approved volunteers with these profile ids (user id = profile id + 100)."""

    def load(session, profiles=None, users=None):
        chosen = [i for i in ids if profiles is None or i in profiles or i + 100 in (users or ())]
        return [(i + 100, engine.Volunteer(id=i, confirmed=True, approved=True)) for i in chosen]

    return load


def _ids(pool) -> set[int]:
    return {int(i) for i in pool.ids}


def test_a_request_during_a_rebuild_keeps_the_old_pool_until_the_new_one_replaces_it(db):
    store, by_hand = _Store(), _ByHand()
    cache = volunteer_pool.VolunteerPool(store, max_age=300, rebuilder=by_hand)
    assert _ids(cache.get(db.session, _records(1, 2))) == {1, 2}  # nothing kept yet: loaded
    store.bump(volunteer_pool.Change(everything=True))  # a bulk change: a whole load is due

    new = _records(1, 2, 3)
    assert _ids(cache.get(db.session, new)) == {1, 2}, "the old pool serves meanwhile"
    assert _ids(cache.get(db.session, new)) == {1, 2}
    assert cache.full_loads == 1, "no request loaded the whole pool"
    assert by_hand.asked == [new, new]

    cache.rebuild(db.session, by_hand.asked[-1])  # the build beside the requests ends
    assert _ids(cache.get(db.session, new)) == {1, 2, 3}
    assert (cache.full_loads, cache.partial_loads, cache.rebuilds) == (2, 0, 1)
    store.bump(volunteer_pool.Change({4}))
    assert _ids(cache.get(db.session, _records(1, 2, 3, 4))) == {1, 2, 3, 4}
    assert (cache.full_loads, cache.partial_loads) == (2, 1), "changes in parts load as before"
    assert len(by_hand.asked) == 2


def test_an_old_pool_is_rebuilt_beside_the_requests_after_its_maximum_age(db):
    clock, by_hand = _Clock(), _ByHand()
    cache = volunteer_pool.VolunteerPool(_Store(), max_age=300, clock=clock, rebuilder=by_hand)
    cache.get(db.session, _records(1))
    clock.now += 301
    assert _ids(cache.get(db.session, _records(1, 2))) == {1}
    assert cache.full_loads == 1
    assert len(by_hand.asked) == 1
    cache.rebuild(db.session, by_hand.asked[0])
    assert _ids(cache.get(db.session, _records(1, 2))) == {1, 2}
    assert len(by_hand.asked) == 1, "the new pool is fresh for another max_age"


def test_a_catch_up_in_a_request_never_overwrites_a_rebuilt_pool(db):
    store, by_hand = _Store(), _ByHand()
    cache = volunteer_pool.VolunteerPool(store, max_age=300, rebuilder=by_hand)
    cache.get(db.session, _records(1, 2))
    store.bump(volunteer_pool.Change({2}))

    def load_while_a_rebuild_ends(session, profiles=None, users=None):
        cache.rebuild(session, _records(1, 2, 3))  # swaps in while this request loads a part
        return _records(1, 2)(session, profiles, users)

    assert _ids(cache.get(db.session, load_while_a_rebuild_ends)) == {1, 2}
    assert _ids(cache.get(db.session, _records())) == {1, 2, 3}, "the rebuilt pool was kept"


def test_a_failing_rebuild_keeps_the_old_pool_and_logs(app, db, caplog):
    store = _Store()
    rebuilder = volunteer_pool.Rebuilder(app)
    cache = volunteer_pool.VolunteerPool(store, max_age=300, rebuilder=rebuilder)
    cache.get(db.session, _records(1))
    store.bump(volunteer_pool.Change(everything=True))

    def broken(session, profiles=None, users=None):
        raise ConnectionError("database restarting")

    with caplog.at_level(logging.ERROR, logger="matching.matches.volunteer_pool"):
        assert _ids(cache.get(db.session, broken)) == {1}
        rebuilder.wait(timeout=10)
    assert "building a new pool failed, the old one stays" in caplog.text
    assert "database restarting" in caplog.text
    assert _ids(cache.get(db.session, broken)) == {1}, "still the old pool; a new build starts"
    rebuilder.wait(timeout=10)
    assert cache.rebuilds == 0
    assert _ids(cache.get(db.session, _records(1, 2))) == {1}
    rebuilder.wait(timeout=10)
    assert _ids(cache.get(db.session, _records(1, 2))) == {1, 2}, "a build that works replaces it"


def test_a_pool_due_for_long_without_a_new_one_is_loaded_by_the_request(db, caplog):
    clock, by_hand = _Clock(), _ByHand()
    store = _Store()
    cache = volunteer_pool.VolunteerPool(store, max_age=300, clock=clock, rebuilder=by_hand)
    cache.get(db.session, _records(1))
    store.bump(volunteer_pool.Change(everything=True))
    assert _ids(cache.get(db.session, _records(1, 2))) == {1}
    clock.now += 299
    assert _ids(cache.get(db.session, _records(1, 2))) == {1}
    clock.now += 1  # every build since the change failed or never ended: the bound holds
    with caplog.at_level(logging.WARNING, logger="matching.matches.volunteer_pool"):
        assert _ids(cache.get(db.session, _records(1, 2))) == {1, 2}
    assert "no new pool built for 300 s" in caplog.text
    assert cache.full_loads == 2


def test_a_build_in_a_thread_serves_the_old_pool_meanwhile(app, db):
    store = _Store()
    rebuilder = volunteer_pool.Rebuilder(app)
    cache = volunteer_pool.VolunteerPool(store, max_age=300, rebuilder=rebuilder)
    cache.get(db.session, _records(1))
    store.bump(volunteer_pool.Change(everything=True))
    loading, release = threading.Event(), threading.Event()

    def slow(session, profiles=None, users=None):
        loading.set()
        assert release.wait(10)
        return _records(1, 2)(session, profiles, users)

    try:
        assert _ids(cache.get(db.session, slow)) == {1}
        assert loading.wait(10), "the build runs in its own thread"
        assert _ids(cache.get(db.session, slow)) == {1}, "a request during the build"
        assert not rebuilder.start(cache, slow), "one build at a time"
    finally:
        release.set()
    rebuilder.wait(timeout=10)
    assert _ids(cache.get(db.session, _records())) == {1, 2}
    assert (cache.full_loads, cache.rebuilds) == (2, 1)


def test_a_first_request_waits_for_the_build_its_warm_up_started(app, db, scene, monkeypatch):
    kept = _cache(app)
    monkeypatch.setattr(kept, "rebuilder", volunteer_pool.Rebuilder(app))
    kept.clear()
    loads, rebuilds = kept.full_loads, kept.rebuilds
    assert warmup._volunteer_pool(app) == 0, "the warm-up does not wait for the pool"
    assert _names(scene["db"], scene["need"]) == {"Anna", "Bernd"}
    assert kept.full_loads == loads + 1, "the request used the pool the warm-up's build made"
    assert kept.rebuilds == rebuilds + 1


def test_an_unknown_rebuild_setting_is_refused(app, monkeypatch):
    monkeypatch.setitem(app.config, "VOLUNTEER_POOL_REBUILD", "sometimes")
    with pytest.raises(ValueError, match="VOLUNTEER_POOL_REBUILD"):
        volunteer_pool._rebuilder_for(app)


def _redis_or_skip(url: str):
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"needs Redis at {url}; CI starts it")
    return client


def test_processes_sharing_redis_see_each_others_changes(db):
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
    client = _redis_or_skip(url)
    client.delete(volunteer_pool.REDIS_KEY)
    try:
        web = volunteer_pool.VolunteerPool(volunteer_pool._store_for(url), max_age=300)
        jobs = volunteer_pool.VolunteerPool(volunteer_pool._store_for(url), max_age=300)
        web.get(db.session, _nobody)
        web.get(db.session, _nobody)
        assert web.loads == 1
        jobs.changed(volunteer_pool.Change({7}))  # a commit in the other process
        web.get(db.session, _nobody)
        assert web.loads == 2
        assert int(client.get(volunteer_pool.REDIS_KEY)) == 1
    finally:
        client.delete(volunteer_pool.REDIS_KEY)


@pytest.mark.parametrize(
    ("limits", "setting", "expected"),
    [
        ("memory://", "", "off"),
        ("redis://127.0.0.1:6379/0", "", "redis://127.0.0.1:6379/0"),
        ("redis://127.0.0.1:6379/0", "off", "off"),
        ("memory://", "process", "process"),
    ],
)
def test_the_setting_follows_the_rate_limit_store(monkeypatch, limits, setting, expected):
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", limits)
    monkeypatch.setenv("VOLUNTEER_POOL_CACHE", setting)  # empty: not set
    config = DevelopmentConfig()
    assert expected == config.VOLUNTEER_POOL_CACHE


def test_an_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="VOLUNTEER_POOL_CACHE"):
        volunteer_pool._store_for("memcached://somewhere")


def test_the_queue_names_the_other_candidates_with_their_fit(
    app, scene, client, auth, make_user, make_volunteer
):
    make_volunteer("clara@example.org", first_name="Clara")
    make_user("koo@example.org", roles=(Role.COORDINATOR,))
    _match(scene, "anna", MatchStatus.PROPOSED)
    scene["db"].session.commit()
    fits = {
        p.user.first_name: round(s.value * 100)
        for p, s in proposals.candidates_for(scene["db"].session, scene["need"], utcnow())
    }
    auth.login("koo@example.org")
    page = client.get("/koordination/vorschlaege").get_data(as_text=True)
    line = page.split("Weitere passende Personen:", 1)[1].split("</p>", 1)[0]
    assert "Anna" not in line, "the proposed volunteer is not among the others"
    for name in ("Bernd", "Clara"):
        assert f"({fits[name]} %)" in line.split(name, 1)[1].split(",", 1)[0]


def test_processes_sharing_redis_build_their_pools_one_at_a_time(db):
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
    client = _redis_or_skip(url)
    client.delete(volunteer_pool.REDIS_KEY, volunteer_pool.REDIS_TURN)
    now = [0.0]
    try:
        first, second, fresh = (
            volunteer_pool.VolunteerPool(
                volunteer_pool._store_for(url), max_age=300, clock=lambda: now[0]
            )
            for _ in range(3)
        )
        for kept in (first, second):
            kept.get(db.session, _records(1))
        now[0] = 300.0  # both pools are due at once, as for workers forked together
        second._due_since = 300.0
        turn = first._take_turn()
        assert turn  # the first process is building
        assert not second.rebuild(db.session, _records(1, 2), take_turns=True)
        assert _ids(volunteer_pool.kept_pool_of(second)) == {1}, "keeps serving the old pool"
        assert fresh.rebuild(db.session, _records(1, 2), take_turns=True), "none to serve: builds"
        first._end_turn(turn)
        assert client.get(volunteer_pool.REDIS_TURN) is None
        assert second.rebuild(db.session, _records(1, 2), take_turns=True), "its turn now"
        assert _ids(volunteer_pool.kept_pool_of(second)) == {1, 2}
        assert client.get(volunteer_pool.REDIS_TURN) is None, "the turn ends with the build"

        # One that has waited for half of max_age builds without its turn.
        turn = first._take_turn()
        second._due_since, now[0] = 600.0, 600.0
        assert not second.rebuild(db.session, _records(1, 2, 3), take_turns=True)
        now[0] = 750.0
        assert second.rebuild(db.session, _records(1, 2, 3), take_turns=True)
        assert _ids(volunteer_pool.kept_pool_of(second)) == {1, 2, 3}
        first._end_turn(turn)
    finally:
        client.delete(volunteer_pool.REDIS_KEY, volunteer_pool.REDIS_TURN)


def test_a_process_refused_its_turn_asks_again_only_after_a_while(db):
    store = _Store()
    store.turns = []

    def take_turn(token, seconds):
        store.turns.append(seconds)
        return False  # another process is always building

    store.take_turn = take_turn
    now = [0.0]
    cache = volunteer_pool.VolunteerPool(store, max_age=300, clock=lambda: now[0])
    cache.rebuilder = _InlineRebuilder(db)
    cache.get(db.session, _records(1))
    for now[0] in (300.0, 301.0, 302.0):
        cache.get(db.session, _records(1, 2))  # due: one refused turn, then no asking
    assert store.turns == [150.0]
    now[0] = 300.0 + volunteer_pool.TURN_RETRY_SECONDS
    cache.get(db.session, _records(1, 2))
    assert store.turns == [150.0, 150.0]
    assert _ids(volunteer_pool.kept_pool_of(cache)) == {1}


class _InlineRebuilder:
    """Runs the rebuild at once in the calling thread, as the Rebuilder's thread would."""

    def __init__(self, db):
        self.db = db

    def start(self, kept, load):
        kept.rebuild(self.db.session, load, take_turns=True)
        return True

    def wait(self, timeout=None):
        return False


def test_one_record_never_loads_the_whole_pool_when_the_store_is_unreadable(db, caplog):
    """A page for one volunteer (Meine Übersicht) asks for their record: with the store down
    it gets None and loads that record itself, where a whole pool would take seconds at city
    scale on every visit."""
    store = _Store()
    cache = volunteer_pool.VolunteerPool(store, max_age=300)
    assert cache.record(db.session, _nobody, 1) is None  # nobody in the pool: no such record
    assert cache.loads == 1
    store.broken_read = True
    with caplog.at_level(logging.WARNING, logger="matching.matches.volunteer_pool"):
        assert cache.record(db.session, _nobody, 1) is None
    assert cache.loads == 1
    assert "loading one record" in caplog.text
    assert volunteer_pool.VolunteerPool(None, max_age=300).record(db.session, _nobody, 1) is None


@pytest.mark.skipif(sys.platform != "linux", reason="threads have their own priority on Linux")
def test_a_rebuild_beside_an_old_pool_runs_at_a_lower_priority(app, db):
    """While the old pool serves, the new one is built with the CPU the requests leave; a
    process's first pool, which requests wait for, is built at the usual priority."""
    store = _Store()
    rebuilder = volunteer_pool.Rebuilder(app)
    cache = volunteer_pool.VolunteerPool(store, max_age=300, rebuilder=rebuilder)
    usual = os.getpriority(os.PRIO_PROCESS, 0)
    seen = []
    records = _records(1, 2)

    def watching(session, profiles=None, users=None):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return records(session, profiles, users)

    cache.start_rebuild(watching)  # the first pool: requests wait for it
    rebuilder.wait(timeout=10)
    store.bump(volunteer_pool.Change(everything=True))
    assert _ids(cache.get(db.session, watching)) == {1, 2}  # the old pool; a build starts
    rebuilder.wait(timeout=10)
    lowered = min(usual + volunteer_pool.REBUILD_NICENESS, 19)  # Linux's lowest is 19
    assert seen == [usual, lowered]
    assert os.getpriority(os.PRIO_PROCESS, 0) == usual, "the request's thread is left alone"
