"""Needs that fit one volunteer: reading a bounded set gives what scoring every open need gives."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from matching import engine
from matching.extensions import db as _db
from matching.matches import fitting, passes, volunteer_pool
from matching.matches.proposals import load_volunteers, open_need_records, weights
from matching.models import (
    Initiative,
    InitiativeMember,
    Match,
    MatchStatus,
    Need,
    NeedPass,
    NeedPhase,
    NeedStatus,
    PassReason,
    ProfileStatus,
    VolunteerDistrict,
    VolunteerLanguage,
    VolunteerPhaseLevel,
    VolunteerProfile,
    utcnow,
)
from matching.reference import DISTRICT_CODES, LANGUAGE_CODES, PHASE_CODES, URGENCY_CODES

LANGUAGES = LANGUAGE_CODES[:3]  # few, so that languages meet often enough


def _full_ranking(session, profile, now, k):
    """What the volunteer's overview computed before: every open need scored by the engine."""
    [volunteer] = load_volunteers(session, [profile])
    scored = []
    for need in open_need_records(session):
        result = engine.score(volunteer, need, weights(), now)
        if result is not None:
            scored.append((need.id, result))
    scored.sort(key=lambda pair: (-pair[1].value, pair[0]))
    return [(need_id, s.value, s.explain()) for need_id, s in scored[:k]]


def _generate(make_user, seed: int, volunteers: int, needs: int):
    """Volunteers and open needs drawn at random; some paused, full, declined, members, or
    having advised an initiative before or passed a need as "not my field"."""
    rng = random.Random(seed)
    now = utcnow()
    initiatives = []
    for i in range(12):
        initiative = Initiative(name=f"Initiative {i}", district=rng.choice(DISTRICT_CODES))
        _db.session.add(initiative)
        initiatives.append(initiative)
    open_needs = []
    for i in range(needs):
        formats = rng.sample(["in_person", "phone", "video"], rng.randint(1, 3))
        need = Need(
            initiative=rng.choice(initiatives),
            title=f"Anfrage {i}",
            description="",
            district=rng.choice(DISTRICT_CODES),
            language=rng.choice(LANGUAGES),
            status=rng.choice([NeedStatus.OPEN] * 5 + [NeedStatus.CLOSED]),
            urgency=rng.choice(URGENCY_CODES),
            accepts_in_person="in_person" in formats,
            accepts_phone="phone" in formats,
            accepts_video="video" in formats,
            published_at=now - timedelta(days=rng.uniform(0, 60)),
        )
        need.phase_rows = [NeedPhase(phase=p) for p in rng.sample(PHASE_CODES, rng.randint(1, 3))]
        _db.session.add(need)
        open_needs.append(need)
    profiles = []
    for i in range(volunteers):
        user = make_user(f"vol{seed}-{i}@example.org", first_name=f"Vol{i}")
        formats = rng.sample(["in_person", "phone", "video"], rng.randint(1, 3))
        profile = VolunteerProfile(
            user=user,
            status=ProfileStatus.APPROVED,
            whole_city=rng.random() < 0.2,
            capacity=rng.randint(1, 3),
            offers_in_person="in_person" in formats,
            offers_phone="phone" in formats,
            offers_video="video" in formats,
            paused_until=(now + timedelta(days=3)).date() if rng.random() < 0.1 else None,
        )
        profile.levels = [
            VolunteerPhaseLevel(phase=p, level=rng.choice([0, 0, 1, 2, 3])) for p in PHASE_CODES
        ]
        profile.district_rows = [
            VolunteerDistrict(district=d) for d in rng.sample(DISTRICT_CODES, rng.randint(0, 4))
        ]
        profile.language_rows = [
            VolunteerLanguage(language=lang) for lang in rng.sample(LANGUAGES, rng.randint(1, 2))
        ]
        _db.session.add(profile)
        profiles.append(profile)
    _db.session.flush()
    for profile in profiles:
        for status in rng.sample(
            [MatchStatus.DECLINED, MatchStatus.COMPLETED, MatchStatus.ACCEPTED, None], 2
        ):
            if status is not None:
                _db.session.add(
                    Match(need=rng.choice(open_needs), volunteer=profile, status=status, score=0.5)
                )
        if rng.random() < 0.3:
            _db.session.add(
                InitiativeMember(initiative=rng.choice(initiatives), user_id=profile.user_id)
            )
        if rng.random() < 0.3:
            passed = rng.choice(open_needs)
            _db.session.add(
                NeedPass(
                    need_id=passed.id,
                    volunteer_id=profile.id,
                    reason=PassReason.NOT_MY_FIELD,
                    phases=[row.phase for row in passed.phase_rows],
                )
            )
    _db.session.commit()
    return profiles


@pytest.mark.parametrize(("seed", "first_batch", "k"), [(1, 40, 10), (2, 1, 10), (3, 3, 4)])
def test_the_ranking_equals_scoring_every_open_need(
    db, make_user, monkeypatch, seed, first_batch, k
):
    monkeypatch.setattr(fitting, "FIRST_BATCH", first_batch)  # small batches: many rounds
    profiles = _generate(make_user, seed, volunteers=25, needs=160)
    now = utcnow()
    compared = 0
    for profile in profiles:
        expected = _full_ranking(db.session, profile, now, k)
        found = [
            (need.id, s.value, s.explain())
            for need, s in fitting.ranked_needs(db.session, profile, now, k)
        ]
        assert found == expected, profile.id
        compared += bool(expected)
    assert compared >= 10  # most volunteers have fitting needs: the comparison says something


def test_a_visit_reads_far_fewer_needs_than_are_open(db, make_user, monkeypatch):
    profiles = _generate(make_user, 7, volunteers=6, needs=400)
    scored = []
    real = fitting.score_value
    monkeypatch.setattr(
        fitting, "score_value", lambda *args: scored.append(args[1].id) or real(*args)
    )
    now = utcnow()
    reachable = 0
    for profile in profiles:
        [volunteer] = load_volunteers(db.session, [profile])
        reachable = max(
            reachable,
            sum(
                engine.score(volunteer, need, weights(), now) is not None
                for need in open_need_records(db.session)
            ),
        )
        scored.clear()
        fitting.ranked_needs(db.session, profile, now, k=3)
        assert len(scored) <= max(fitting.FIRST_BATCH * 3, 1)
    assert reachable > fitting.FIRST_BATCH * 3  # someone could have read many more


def test_nothing_is_read_for_a_paused_or_full_volunteer(db, make_volunteer, count_queries):
    profile = make_volunteer()
    profile.paused_until = (utcnow() + timedelta(days=5)).date()
    db.session.commit()
    with count_queries() as statements:
        assert fitting.ranked_needs(db.session, profile, utcnow()) == []
    assert not any("FROM needs" in s for s in statements)


def test_the_kept_pool_gives_the_record_a_profile_loads(db, make_user):
    """ "Meine Übersicht" takes the volunteer's record from the process's kept pool: it must be
    the very record loading the profile gives (exclusions, memberships, lowered phases, load)."""
    profiles = _generate(make_user, 11, volunteers=25, needs=80)
    for profile in profiles:
        [loaded] = load_volunteers(db.session, [profile])
        assert fitting._record_of(db.session, profile) == loaded, profile.id


def test_a_warm_visit_loads_no_volunteer_and_sees_a_new_pass(db, make_user, count_queries):
    [profile] = [
        p
        for p in _generate(make_user, 5, volunteers=12, needs=120)
        if fitting.ranked_needs(db.session, p, utcnow(), k=3)
    ][:1]
    now = utcnow()
    with count_queries() as statements:
        first = fitting.ranked_needs(db.session, profile, now, k=3)
    assert not any("volunteer_profiles" in s or "need_passes" in s for s in statements)
    # "Diesmal nicht" for the best need, committed: the next visit leaves it out at once.
    best = first[0][0]
    passes.pass_need(db.session, profile.user, best, profile, now=now)
    db.session.commit()
    again = fitting.ranked_needs(db.session, profile, now, k=3)
    assert best.id not in [need.id for need, _score in again]
    [loaded] = load_volunteers(db.session, [profile])
    assert best.id in loaded.excluded_needs


def test_uncommitted_changes_of_the_session_load_the_record_itself(db, make_user, count_queries):
    [profile] = _generate(make_user, 6, volunteers=1, needs=10)
    profile.capacity = profile.capacity + 1  # not committed: the kept pool cannot know it
    with count_queries() as statements:
        record = fitting._record_of(db.session, profile)
    assert record.capacity == profile.capacity
    assert any("volunteer_profiles" in s or "matches" in s for s in statements)
    db.session.rollback()


class _StillBuilding:
    """A rebuilder whose thread is still building the new pool: the old one serves meanwhile."""

    def start(self, kept, load):
        return True

    def wait(self, timeout=None):
        return False


@pytest.mark.parametrize("gap", ["bulk change", "far behind"])
def test_an_old_pool_serving_during_a_rebuild_never_hides_ones_own_change(
    app, db, make_user, monkeypatch, gap
):
    """After a bulk change, or more changes than a process catches up on in parts, the old pool
    serves while a new one is built beside the requests: fine for the coordinators' queue, but
    a volunteer's own page must still see their own committed "Diesmal nicht" at once."""
    kept = app.extensions[volunteer_pool.EXTENSION]
    [profile] = [
        p
        for p in _generate(make_user, 5, volunteers=12, needs=120)
        if fitting.ranked_needs(db.session, p, utcnow(), k=3)
    ][:1]
    now = utcnow()
    first = fitting.ranked_needs(db.session, profile, now, k=3)  # the pool is kept now
    monkeypatch.setattr(kept, "rebuilder", _StillBuilding())  # production: "background"
    if gap == "bulk change":
        kept.store.bump(volunteer_pool.Change(everything=True))  # a need deleted elsewhere
    else:
        for _ in range(volunteer_pool.MAX_CATCH_UP):  # other volunteers' commits meanwhile
            kept.store.bump(volunteer_pool.Change({10**9}))
    best = first[0][0]
    passes.pass_need(db.session, profile.user, best, profile, now=now)
    db.session.commit()
    again = fitting.ranked_needs(db.session, profile, now, k=3)
    assert best.id not in [need.id for need, _score in again]
