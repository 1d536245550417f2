"""``rank_each``: several needs' best candidates in one pass, as the proposal queue shows them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_matching import NOW, WEIGHTS, _distinct, need, needs, volunteer, volunteers

from matching.engine import Pool, rank, rank_each


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    st.lists(volunteers(), max_size=12).map(_distinct),
    st.lists(needs(), max_size=6).map(_distinct),
    st.integers(0, 5),
)
def test_rank_each_equals_rank_for_every_need_alone(vols, all_needs, k):
    pool = Pool(vols)
    got = rank_each(pool, all_needs, WEIGHTS, NOW, k=k)
    assert set(got) == {n.id for n in all_needs}
    for n in all_needs:
        alone = rank(n, pool, WEIGHTS, NOW, k=k)
        assert [v.id for v, _value in got[n.id]] == [v.id for v, _score in alone]
        for (_v, value), (_w, score) in zip(got[n.id], alone, strict=True):
            assert value == pytest.approx(score.value, abs=1e-12)


def test_rank_each_orders_best_first_with_ties_by_id():
    vols = [
        volunteer(id=7, districts={"mitte"}),
        volunteer(id=3, districts={"mitte"}),
        volunteer(id=5, districts={"ost"}),
    ]
    got = rank_each(Pool(vols), [need(id=1, district="mitte")], WEIGHTS, NOW, k=3)
    ids = [v.id for v, _ in got[1]]
    assert ids[:2] == [3, 7]  # the same fit in Mitte: the lower id first
    values = [value for _, value in got[1]]
    assert values == sorted(values, reverse=True)


def test_a_need_with_few_candidates_keeps_to_its_own():
    """Fewer candidates than k: the list ends there and never runs into the next need's."""
    vols = [
        volunteer(id=1, languages={"en"}),
        volunteer(id=2),
        volunteer(id=3),
        volunteer(id=4),
    ]
    english, german = need(id=1, language="en"), need(id=2)
    got = rank_each(Pool(vols), [english, german], WEIGHTS, NOW, k=3)
    assert [v.id for v, _ in got[1]] == [1]
    assert [v.id for v, _ in got[2]] == [2, 3, 4]
    assert got == {n.id: _alone(vols, n, 3) for n in (english, german)}


def _alone(vols, one_need, k):
    return [(v, s.value) for v, s in rank(one_need, Pool(vols), WEIGHTS, NOW, k=k)]


def test_rank_each_with_nothing_or_bad_input():
    assert rank_each(Pool([]), [need(id=4)], WEIGHTS, NOW) == {4: []}
    assert rank_each(Pool([volunteer()]), [], WEIGHTS, NOW) == {}
    assert rank_each(Pool([volunteer()]), [need(id=2)], WEIGHTS, NOW, k=0) == {2: []}
    with pytest.raises(ValueError, match="k must be"):
        rank_each(Pool([volunteer()]), [need()], WEIGHTS, NOW, k=-1)
    with pytest.raises(ValueError, match="more than once"):
        rank_each(Pool([volunteer()]), [need(id=1), need(id=1)], WEIGHTS, NOW)
