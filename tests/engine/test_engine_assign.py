"""The global assignment: optimal, feasible, deterministic, and strict about its input."""

from __future__ import annotations

import math
import random
from collections import Counter
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from matching.engine import assign

# Scores and penalties that tie and that make marginal values exactly zero
# (0.3 - 0.15 * 2 == 0.0), plus arbitrary floats down to tiny ones.
SCORES = st.one_of(
    st.sampled_from([0.1, 0.15, 0.3, 0.45, 0.5, 0.6, 1.0]),
    st.floats(min_value=1e-12, max_value=1.0),
)
PENALTIES = st.one_of(st.sampled_from([0.0, 0.05, 0.15, 0.3, 1.0]), st.floats(0, 2))


@st.composite
def instances(draw, max_vol=4, max_need=4, max_edges=9, max_slots=3):
    """Edges, capacity, wanted and penalty; some ids lack capacity or wanted entries."""
    ids = st.integers(-(2**40), 2**40)
    vols = draw(st.lists(ids, min_size=1, max_size=max_vol, unique=True))
    needs = draw(st.lists(ids, min_size=1, max_size=max_need, unique=True))
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(vols), st.sampled_from(needs)),
            unique=True,
            max_size=max_edges,
        )
    )
    edges = [(v, n, draw(SCORES)) for v, n in pairs]
    slots = st.integers(0, max_slots)
    capacity = {v: draw(slots) for v in vols if draw(st.integers(0, 5))}
    wanted = {n: draw(slots) for n in needs if draw(st.integers(0, 5))}
    return edges, capacity, wanted, draw(PENALTIES)


def objective(pairs, edges, penalty) -> float:
    scores = {(v, n): s for v, n, s in edges}
    load = Counter(v for v, _ in pairs)
    return sum(scores[p] for p in pairs) - penalty * sum(k * (k - 1) / 2 for k in load.values())


def feasible(pairs, edges, capacity, wanted) -> bool:
    known = {(v, n) for v, n, _ in edges}
    by_vol, by_need = Counter(v for v, _ in pairs), Counter(n for _, n in pairs)
    return (
        len(set(pairs)) == len(pairs)
        and set(pairs) <= known
        and all(k <= capacity.get(v, 0) for v, k in by_vol.items())
        and all(k <= wanted.get(n, 0) for n, k in by_need.items())
    )


def brute_force(edges, capacity, wanted, penalty) -> float:
    best = 0.0
    pairs = [(v, n) for v, n, _ in edges]
    for size in range(1, len(pairs) + 1):
        for subset in combinations(pairs, size):
            if feasible(subset, edges, capacity, wanted):
                best = max(best, objective(subset, edges, penalty))
    return best


def milp_optimum(edges, capacity, wanted, penalty) -> float:
    """An independent optimum: x per edge, one 0/1 slot per unit of capacity costing penalty*(k-1)."""
    if not edges:
        return 0.0
    vols = sorted({v for v, _, _ in edges})
    needs = sorted({n for _, n, _ in edges})
    slots = [(v, k) for v in vols for k in range(capacity.get(v, 0))]
    n_x = len(edges)
    cost = np.array([-s for _, _, s in edges] + [penalty * k for _, k in slots])
    rows, upper, lower = [], [], []
    for v in vols:  # pairs of v == slots of v in use
        row = [1.0 if e[0] == v else 0.0 for e in edges] + [
            -1.0 if s[0] == v else 0.0 for s in slots
        ]
        rows.append(row)
        lower.append(0)
        upper.append(0)
    for n in needs:
        rows.append([1.0 if e[1] == n else 0.0 for e in edges] + [0.0] * len(slots))
        lower.append(0)
        upper.append(wanted.get(n, 0))
    result = milp(
        cost,
        constraints=LinearConstraint(np.array(rows), lower, upper),
        integrality=np.ones(n_x + len(slots)),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0},
    )
    assert result.success
    return -result.fun


def check_rules(pairs, edges, capacity, wanted, penalty) -> None:
    assert all(type(v) is int and type(n) is int for v, n in pairs)
    assert pairs == sorted(pairs)
    assert feasible(pairs, edges, capacity, wanted)
    scores = {(v, n): s for v, n, s in edges}
    load = Counter(v for v, _ in pairs)
    for v, n in pairs:  # no pair is taken whose marginal value is not positive
        assert scores[v, n] - penalty * (load[v] - 1) > 0


@settings(max_examples=150, derandomize=True, deadline=None)
@given(instances())
def test_small_instances_reach_the_brute_force_optimum(instance):
    edges, capacity, wanted, penalty = instance
    pairs = assign(edges, capacity, wanted, penalty)
    check_rules(pairs, edges, capacity, wanted, penalty)
    best = brute_force(edges, capacity, wanted, penalty)
    assert objective(pairs, edges, penalty) == pytest.approx(best, rel=1e-6, abs=1e-300)


@settings(max_examples=40, derandomize=True, deadline=None)
@given(instances(max_vol=12, max_need=10, max_edges=60))
def test_medium_instances_reach_the_milp_optimum(instance):
    edges, capacity, wanted, penalty = instance
    pairs = assign(edges, capacity, wanted, penalty)
    check_rules(pairs, edges, capacity, wanted, penalty)
    best = milp_optimum(edges, capacity, wanted, penalty)
    assert objective(pairs, edges, penalty) == pytest.approx(best, rel=1e-6, abs=1e-6)


@settings(max_examples=40, derandomize=True, deadline=None)
@given(instances(max_vol=8, max_need=8, max_edges=40), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_input_order(instance, rnd):
    edges, capacity, wanted, penalty = instance
    first = assign(edges, capacity, wanted, penalty)
    shuffled = edges[:]
    rnd.shuffle(shuffled)
    capacity_items = list(capacity.items())
    rnd.shuffle(capacity_items)
    assert assign(iter(shuffled), dict(capacity_items), wanted, penalty) == first
    assert assign(edges, capacity, wanted, penalty) == first


def test_empty_and_degenerate_inputs():
    assert assign([], {}, {}) == []
    assert assign([], {1: 2}, {3: 1}, 0.5) == []
    assert assign([(1, 2, 0.5)], {}, {2: 1}) == []  # missing capacity means 0
    assert assign([(1, 2, 0.5)], {1: 1}, {}) == []  # missing wanted means 0
    assert assign([(1, 2, 0.5)], {1: 0}, {2: 5}) == []
    assert assign([(1, 2, 0.5)], {1: 3}, {2: 1, 3: 2}) == [(1, 2)]  # need 3 has no edge


def test_load_penalty_spreads_pairs_and_drops_worthless_ones():
    edges = [(1, 10, 0.9), (1, 11, 0.8), (2, 11, 0.7)]
    assert assign(edges, {1: 2, 2: 1}, {10: 1, 11: 1}, 0.0) == [(1, 10), (1, 11)]
    # 0.9 + 0.8 - 0.15 < 0.9 + 0.7: the penalty hands need 11 to volunteer 2.
    assert assign(edges, {1: 2, 2: 1}, {10: 1, 11: 1}, 0.15) == [(1, 10), (2, 11)]
    # A second pair for volunteer 1 is worth 0.3 - 0.3 = 0: not taken.
    assert assign([(1, 10, 0.9), (1, 11, 0.3)], {1: 2}, {10: 1, 11: 1}, 0.3) == [(1, 10)]
    assert assign([(1, 10, 0.9), (1, 11, 0.31)], {1: 2}, {10: 1, 11: 1}, 0.3) == [
        (1, 10),
        (1, 11),
    ]


def test_beats_greedy_where_greedy_is_wrong():
    # Greedy takes (1, 10) at 1.0 and leaves need 11 unserved: 1.0 in total.
    edges = [(1, 10, 1.0), (1, 11, 0.9), (2, 10, 0.9)]
    assert assign(edges, {1: 1, 2: 1}, {10: 1, 11: 1}) == [(1, 11), (2, 10)]


def test_accepts_numpy_and_huge_or_sparse_ids():
    edges = [(np.int64(3), np.int32(4), np.float64(0.5)), (2**70, -(2**70), 1)]
    pairs = assign(edges, {3: 1, 2**70: 1}, {4: 1, -(2**70): 1}, np.float64(0.1))
    assert pairs == [(3, 4), (2**70, -(2**70))]
    assert all(type(v) is int and type(n) is int for v, n in pairs)
    sparse = [(10**12 * i, 10**15 * j, 0.5) for i in range(3) for j in range(3)]
    capacity = {10**12 * i: 1 for i in range(3)}
    wanted = {10**15 * j: 1 for j in range(3)}
    assert len(assign(sparse, capacity, wanted)) == 3


def test_larger_random_instance_matches_milp():
    rnd = random.Random(7)
    edges = [(v, n, rnd.choice([0.2, 0.4, 0.6, 0.8, 1.0])) for v in range(40) for n in range(25)]
    edges = [e for e in edges if rnd.random() < 0.2]
    capacity = {v: rnd.randint(0, 3) for v in range(40)}
    wanted = {n: rnd.randint(1, 2) for n in range(25)}
    pairs = assign(edges, capacity, wanted, 0.15)
    check_rules(pairs, edges, capacity, wanted, 0.15)
    best = milp_optimum(edges, capacity, wanted, 0.15)
    assert math.isclose(objective(pairs, edges, 0.15), best, rel_tol=1e-6)


GOOD = ([(1, 2, 0.5)], {1: 1}, {2: 1}, 0.1)


@pytest.mark.parametrize(
    ("position", "bad", "message"),
    [
        (0, 5, "iterable"),
        (0, "abc", "iterable"),
        (0, {1: 2}, "iterable"),
        (0, [(1, 2)], "tuple"),
        (0, [(1, 2, 0.5, 4)], "tuple"),
        (0, [5], "tuple"),
        (0, [("1", 2, 0.5)], "volunteer id"),
        (0, [(1.0, 2, 0.5)], "volunteer id"),
        (0, [(True, 2, 0.5)], "volunteer id"),
        (0, [(None, 2, 0.5)], "volunteer id"),
        (0, [(1, False, 0.5)], "need id"),
        (0, [(1, np.bool_(True), 0.5)], "need id"),
        (0, [(1, 2, 0.5), (1, 2, 0.6)], "more than once"),
        (0, [(1, 2, 0.0)], r"\(0, 1\]"),
        (0, [(1, 2, -0.1)], r"\(0, 1\]"),
        (0, [(1, 2, 1.000001)], r"\(0, 1\]"),
        (0, [(1, 2, math.nan)], r"\(0, 1\]"),
        (0, [(1, 2, math.inf)], r"\(0, 1\]"),
        (0, [(1, 2, "0.5")], "score"),
        (0, [(1, 2, True)], "score"),
        (0, [(1, 2, 10**400)], "score"),
        (1, [1], "capacity"),
        (1, {1: -1}, "capacity"),
        (1, {1: 1.5}, "capacity"),
        (1, {1: True}, "capacity"),
        (1, {"1": 1}, "capacity"),
        (2, {2: -1}, "wanted"),
        (2, {2: None}, "wanted"),
        (2, {2.0: 1}, "wanted"),
        (3, -0.1, "load_penalty"),
        (3, math.nan, "load_penalty"),
        (3, math.inf, "load_penalty"),
        (3, "0.1", "load_penalty"),
        (3, True, "load_penalty"),
    ],
)
def test_bad_input_raises_value_error(position, bad, message):
    args = list(GOOD)
    args[position] = bad
    with pytest.raises(ValueError, match=message):
        assign(*args)


def test_the_cost_scale_keeps_the_solvers_sums_inside_int64(monkeypatch):
    """However fine the wanted scale, the costs are clipped so that path lengths and the
    total cost fit in int64 (the solver checks nothing of the kind itself)."""
    from matching.engine import assignment

    monkeypatch.setattr(assignment, "_SCALE", 2**62)
    edges = [(1, 10, 1.0), (1, 11, 0.9), (2, 10, 0.9), (3, 11, 0.5)]
    capacity = {1: 10**6, 2: 1, 3: 10**6}  # huge supply: many slots from the source
    assert assign(edges, capacity, {10: 1, 11: 1}) == [(1, 10), (1, 11)]  # 1.9 beats 1.8
    vol, need = np.array([0, 0, 1]), np.array([0, 1, 0])
    network = assignment.flow_network(
        vol, need, np.array([1.0, 0.9, 0.9]), np.array([2, 1]), np.array([1, 1]), 0.01
    )
    supply = int(network.caps[-1])
    assert network.scale * 2 * (supply + 1) < 2**63 // 4
    assert network.scale * 16 * (network.first_need + network.needs.size + 1) < 2**63


def test_pairs_worth_nothing_after_rounding_are_dropped():
    from matching.engine.assignment import _drop_unprofitable

    vol = np.array([0, 0, 0, 1])
    score = np.array([0.9, 0.3, 0.3, 0.2])
    # As if the solver had taken all four: volunteer 0's third pair is worth 0.3 - 2 * 0.15 = 0.
    kept = _drop_unprofitable(vol, score, np.arange(4), 0.15)
    assert sorted(kept.tolist()) == [0, 1, 3]
    assert _drop_unprofitable(vol, score, np.arange(4), 0.5).tolist() == [0, 3]
