"""``rank_needs``: the best needs for every volunteer at once, as the weekly digest uses them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_matching import NOW, WEIGHTS, _distinct, need, needs, volunteer, volunteers

from matching.engine import Pool, proposal, rank_needs, score


def _by_hand(vols, all_needs, k, skip):
    """Every pair scored one by one, sorted best first with ties by need id."""
    expected = {}
    for v in vols:
        scored = [
            (n, s)
            for n in all_needs
            if n.id not in skip.get(v.id, ()) and (s := score(v, n, WEIGHTS, NOW)) is not None
        ]
        scored.sort(key=lambda pair: (-pair[1].value, pair[0].id))
        if scored[:k]:
            expected[v.id] = scored[:k]
    return expected


@settings(max_examples=50, derandomize=True, deadline=None)
@given(
    st.lists(volunteers(), max_size=10).map(_distinct),
    st.lists(needs(), max_size=6).map(_distinct),
    st.integers(0, 4),
    st.data(),
)
def test_rank_needs_equals_scoring_every_pair(vols, all_needs, k, data):
    skip = {
        v.id: data.draw(st.frozensets(st.integers(1, 6), max_size=2))
        for v in vols[: len(vols) // 2]
    }
    assert rank_needs(Pool(vols), all_needs, WEIGHTS, NOW, k=k, skip=skip) == _by_hand(
        vols, all_needs, k, skip
    )


def test_rank_needs_keeps_the_best_across_rounds(monkeypatch):
    """Needs scored in several rounds still give each volunteer their overall best."""
    monkeypatch.setattr(proposal, "_NEEDS_PER_ROUND", 2)
    vols = [volunteer(id=1), volunteer(id=2, districts={"ost"})]
    all_needs = [
        need(id=i, urgency=("urgent" if i % 3 == 0 else "normal"), district=d)
        for i, d in enumerate(["mitte", "ost", "mitte", "ost", "mitte", "sued", "mitte"], 1)
    ]
    got = rank_needs(Pool(vols), all_needs, WEIGHTS, NOW, k=3)
    assert got == _by_hand(vols, all_needs, 3, {})
    # Urgent in Mitte first, then the other needs in Mitte by id; urgent in Süd is further away.
    assert [n.id for n, _ in got[1]] == [3, 1, 5]


def test_rank_needs_with_nothing_or_bad_k():
    assert rank_needs(Pool([]), [need()], WEIGHTS, NOW) == {}
    assert rank_needs(Pool([volunteer()]), [], WEIGHTS, NOW) == {}
    with pytest.raises(ValueError, match="k must be"):
        rank_needs(Pool([volunteer()]), [need()], WEIGHTS, NOW, k=-1)
