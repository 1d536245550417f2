"""``Pool.covered``: whether anyone fits each need and each of its phases, as the coverage page
counts them, equals asking ``candidates`` need by need."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_matching import NOW, _distinct, needs, volunteers

from matching.engine import Pool
from matching.reference import PHASE_CODES


@settings(max_examples=80, derandomize=True, deadline=None)
@given(
    st.lists(volunteers(), max_size=12).map(_distinct),
    st.lists(needs(), max_size=8).map(_distinct),
)
def test_covered_equals_candidates_need_by_need(vols, all_needs):
    pool = Pool(vols)
    expected = [
        (
            bool(len(pool.candidates(n, NOW))),
            tuple(bool(len(pool.candidates(replace(n, phases=(p,)), NOW))) for p in n.phases),
        )
        for n in all_needs
    ]
    assert pool.covered(all_needs, NOW) == expected


@settings(max_examples=40, derandomize=True, deadline=None)
@given(st.lists(volunteers(), max_size=12).map(_distinct), st.sampled_from(PHASE_CODES))
def test_knowers_are_who_has_a_level_in_the_phase(vols, phase):
    pool = Pool(vols)
    expected = sorted((v for v in vols if v.levels.get(phase, 0) >= 1), key=lambda v: v.id)
    assert pool.knowers(phase) == expected
