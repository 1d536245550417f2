"""``Pool.with_changes``: a pool updated for some volunteers equals, array for array and result
for result, a pool built from scratch on the same records, and leaves the old pool as it was."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_matching import NOW, WEIGHTS, need, needs, volunteer, volunteers

from matching.engine import Pool
from matching.engine.pool import _COLUMNS, NeedTable

# Few ids, so that changes hit volunteers already in the pool as often as new ones.
IDS = st.integers(1, 25)
some_volunteers = st.builds(lambda v, i: replace(v, id=i), volunteers(), IDS)


def _by_id(records):
    return {v.id: v for v in records}


def snapshot(pool: Pool) -> dict:
    """Everything a pool holds, as plain values (arrays as lists)."""
    return {
        **{name: getattr(pool, name).tolist() for name in _COLUMNS},
        "volunteers": pool.volunteers,
        "lowered": pool._lowered,
        "advised": pool._advised,
        "buckets": {key: rows.tolist() for key, rows in pool._buckets.items()},
        "declined": {key: ids.tolist() for key, ids in pool._declined.items()},
        "members": {key: ids.tolist() for key, ids in pool._members.items()},
    }


def results(pool: Pool, all_needs) -> dict:
    """Every answer a pool gives about the needs."""
    vol_rows, need_rows = pool.pairs(all_needs, NOW)
    table = NeedTable(all_needs, WEIGHTS, NOW)
    return {
        "candidates": [pool.candidates(n, NOW).tolist() for n in all_needs],
        "reachable": [pool.reachable(n, NOW).tolist() for n in all_needs],
        "pairs": (vol_rows.tolist(), need_rows.tolist()),
        "covered": pool.covered(all_needs, NOW),
        "values": pool.values(vol_rows, table, need_rows, WEIGHTS).tolist(),
        "len": len(pool),
    }


def assert_same_as_built(old: Pool, changed, removed, all_needs) -> Pool:
    before = snapshot(old)
    updated = old.with_changes(changed, removed)
    records = {i: v for i, v in _by_id(old.volunteers).items() if i not in set(removed)}
    records.update(_by_id(changed))
    built = Pool(records.values())
    assert snapshot(updated) == snapshot(built)
    assert results(updated, all_needs) == results(built, all_needs)
    assert snapshot(old) == before  # requests still using the old pool see it unchanged
    return updated


@settings(max_examples=150, derandomize=True, deadline=None)
@given(
    st.lists(some_volunteers, max_size=14).map(lambda r: list(_by_id(r).values())),
    st.lists(some_volunteers, max_size=5).map(lambda r: list(_by_id(r).values())),
    st.lists(IDS, max_size=4),
    st.lists(needs(), max_size=6).map(lambda r: list({n.id: n for n in r}.values())),
)
def test_a_changed_pool_equals_one_built_from_the_same_records(vols, changed, removed, all_needs):
    removed = sorted(set(removed) - {v.id for v in changed})
    assert_same_as_built(Pool(vols), changed, removed, all_needs)


@settings(max_examples=40, derandomize=True, deadline=None)
@given(
    st.lists(some_volunteers, min_size=1, max_size=14).map(lambda r: list(_by_id(r).values())),
    st.lists(st.tuples(some_volunteers, IDS), min_size=1, max_size=6),
    st.lists(needs(), min_size=1, max_size=6).map(lambda r: list({n.id: n for n in r}.values())),
)
def test_changes_one_after_another_equal_a_pool_built_at_the_end(vols, steps, all_needs):
    pool = Pool(vols)
    for changed, removed in steps:
        pool = assert_same_as_built(
            pool, [changed], [removed] if removed != changed.id else [], all_needs
        )


def test_losing_approval_added_removed_and_a_new_language_and_district():
    anna = volunteer(id=5, languages={"de"}, districts={"mitte"}, excluded_needs={10})
    ben = volunteer(id=7, languages={"de"}, districts={"mitte"}, initiatives={100})
    cleo = volunteer(id=9, languages={"de"}, districts={"mitte"}, advised_initiatives={100})
    pool = Pool([anna, ben, cleo])
    german, elsewhere = need(id=10), need(id=11, district="vaihingen", language="en")
    every = [german, need(id=12, initiative_id=200), elsewhere]
    assert pool.candidates(german, NOW).tolist() == [2]  # anna declined, ben is a member
    assert pool.candidates(elsewhere, NOW).tolist() == []

    # Anna loses her approval: gone from every bucket, her row stays.
    pool = assert_same_as_built(pool, [replace(anna, approved=False)], [], every)
    assert pool.ids.tolist() == [5, 7, 9] and pool.candidates(every[1], NOW).tolist() == [1, 2]
    # Someone new, speaking English in a district nobody served: a bucket of their own, first row.
    dora = volunteer(id=2, languages={"en"}, districts={"vaihingen"}, excluded_needs={11})
    eve = volunteer(id=8, languages={"en"}, districts={"vaihingen"})
    pool = assert_same_as_built(pool, [dora, eve], [], every)
    assert pool.ids.tolist() == [2, 5, 7, 8, 9]
    assert pool.ids[pool.candidates(elsewhere, NOW)].tolist() == [8]  # dora declined it
    # Ben leaves (and an id never in the pool is ignored); cleo no longer advised anyone.
    pool = assert_same_as_built(
        pool, [replace(cleo, advised_initiatives=frozenset())], [7, 99], every
    )
    assert pool.ids.tolist() == [2, 5, 8, 9] and not pool._advised and 100 not in pool._members
    # Dora changes her mind about need 11; everyone leaves.
    pool = assert_same_as_built(pool, [replace(dora, excluded_needs=frozenset())], [], every)
    assert 11 not in pool._declined
    pool = assert_same_as_built(pool, [], [2, 5, 8, 9], every)
    assert len(pool) == 0 and not pool._buckets


def test_a_change_of_many_volunteers_is_built_from_scratch_and_equal():
    vols = [volunteer(id=i, districts={"mitte" if i % 2 else "west"}) for i in range(1, 200)]
    changed = [replace(v, active=1, excluded_needs=frozenset({10})) for v in vols[::2]]
    assert_same_as_built(Pool(vols), changed, [2, 4, 6], [need(id=10), need(id=11)])


def test_bad_changes_are_refused():
    pool = Pool([volunteer(id=1)])
    with pytest.raises(ValueError, match="both changed and removed"):
        pool.with_changes([volunteer(id=2)], [2])
    with pytest.raises(ValueError, match="more than once"):
        pool.with_changes([volunteer(id=2), volunteer(id=2)])
    with pytest.raises(ValueError, match="expected Volunteer"):
        pool.with_changes([{"id": 2}])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="64-bit integer"):
        pool.with_changes([], [True])


def test_a_changed_pool_shares_what_the_change_did_not_touch():
    vols = [volunteer(id=i, excluded_needs={i}) for i in range(1, 50)]
    pool = Pool(vols)
    updated = pool.with_changes([replace(vols[10], active=1)])
    assert updated._declined[1] is pool._declined[1]
    assert not np.shares_memory(updated.active, pool.active)  # copied, never written in place
    assert pool.active[10] == 0 and updated.active[10] == 1
    assert updated.factors is pool.factors  # a column the change left as it was is shared
    assert not updated.active.flags.writeable and not pool.factors.flags.writeable
