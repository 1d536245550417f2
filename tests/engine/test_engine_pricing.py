"""The pruned assignment: the same optimum as the flow over every pair, proven by pricing."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from datetime import timedelta

import numpy as np
import pytest
import scipy.sparse
from scipy.sparse.csgraph import bellman_ford
from test_engine_matching import NOW, WEIGHTS, need, volunteer

from matching.engine import Pool, plan, pricing
from matching.engine.assignment import flow_network, solve
from matching.engine.pricing import assign_chunks, potentials
from matching.reference import PHASE_CODES


def chunked(vol, need_rows, score, per=3, rnd=None):
    """The pairs as ``assign_chunks`` reads them: a few needs per chunk, in a given order."""
    order = np.unique(need_rows).tolist()
    if rnd is not None:
        rnd.shuffle(order)

    def edges(only):
        wanted = order if only is None else [n for n in order if n in set(only.tolist())]
        for start in range(0, len(wanted), per):
            at = np.flatnonzero(np.isin(need_rows, wanted[start : start + per]))
            at = at[np.argsort(need_rows[at], kind="stable")]  # each need's pairs together
            yield vol[at], need_rows[at], score[at]

    return edges


def objective(vol, need_rows, score, chosen_vol, chosen_need, penalty):
    pairs = zip(vol.tolist(), need_rows.tolist(), strict=True)
    scores = dict(zip(pairs, score.tolist(), strict=True))
    load = Counter(chosen_vol.tolist())
    total = sum(scores[p] for p in zip(chosen_vol.tolist(), chosen_need.tolist(), strict=True))
    return total - penalty * sum(k * (k - 1) / 2 for k in load.values())


def instance(rnd, n_vol, n_need, density, ties, penalty):
    """Random pairs (``density`` of all; the missing ones are exclusions), capacity 0..5
    (mostly 1..5), wanted 0..3 (mostly 1..3); scores from a few values when ``ties``."""
    pairs = [(v, n) for v in range(n_vol) for n in range(n_need) if rnd.random() < density]
    vol = np.array([v for v, _ in pairs], np.int64)
    need_rows = np.array([n for _, n in pairs], np.int64)
    if ties:
        score = np.array([rnd.choice([0.2, 0.3, 0.45, 0.6, 1.0]) for _ in pairs])
    else:
        score = np.array([rnd.uniform(0.01, 1.0) for _ in pairs])
    capacity = np.array([rnd.choice([0, 1, 1, 2, 3, 4, 5]) for _ in range(n_vol)], np.int64)
    wanted = np.array([rnd.choice([0, 1, 1, 2, 3]) for _ in range(n_need)], np.int64)
    return vol, need_rows, score, capacity, wanted, penalty


CASES = [
    # (volunteers, needs, density, ties, penalty): small and medium, dense and sparse
    (6, 4, 1.0, False, 0.0),
    (6, 4, 0.7, True, 0.15),
    (15, 8, 1.0, False, 0.15),
    (15, 8, 0.3, True, 0.0),
    (40, 25, 1.0, True, 0.3),
    (40, 25, 0.15, False, 0.05),
    (80, 30, 0.9, False, 0.15),
    (80, 30, 0.9, True, 0.15),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seed", range(12))
def test_pruned_solve_equals_the_solve_over_all_pairs(case, seed):
    rnd = random.Random(f"{case}-{seed}")
    vol, need_rows, score, capacity, wanted, penalty = instance(rnd, *case)
    full = solve(vol, need_rows, score, capacity, wanted, penalty)
    margin = rnd.choice([1, 2, 3])
    got_vol, got_need, found = assign_chunks(
        chunked(vol, need_rows, score, per=rnd.choice([1, 3, 7]), rnd=rnd),
        capacity,
        wanted,
        penalty,
        prune_above=0,
        margin=margin,
    )
    assert found.pruned and found.edges == vol.size and found.kept <= vol.size
    assert 0 <= found.gap <= got_vol.size  # at most a unit of the integer costs per pair
    best = objective(vol, need_rows, score, vol[full], need_rows[full], penalty)
    assert objective(vol, need_rows, score, got_vol, got_need, penalty) == pytest.approx(
        best, rel=1e-9, abs=1e-12
    )
    pairs = sorted(zip(got_vol.tolist(), got_need.tolist(), strict=True))
    assert len(set(pairs)) == len(pairs)
    assert all(k <= capacity[v] for v, k in Counter(got_vol.tolist()).items())
    assert all(k <= wanted[n] for n, k in Counter(got_need.tolist()).items())
    if not case[3]:  # distinct random scores: the optimum is unique, so are its pairs
        assert pairs == sorted(zip(vol[full].tolist(), need_rows[full].tolist(), strict=True))


@pytest.mark.parametrize("room", [0, 7, 40, 10**9])
@pytest.mark.parametrize("case", CASES[2:])
def test_pairs_beyond_the_memory_kept_are_read_again(monkeypatch, case, room):
    """With room for only a few pairs (or none), the suspects' other pairs are generated
    again, and the result is the same optimum."""
    monkeypatch.setattr(pricing, "SUSPECT_PAIRS", room)
    rnd = random.Random(f"{case}-room")
    vol, need_rows, score, capacity, wanted, penalty = instance(rnd, *case)
    full = solve(vol, need_rows, score, capacity, wanted, penalty)
    edges = chunked(vol, need_rows, score, per=2, rnd=rnd)
    asked: list[object] = []

    def counted(only):
        asked.append(only)
        return edges(only)

    got_vol, got_need, found = assign_chunks(
        counted, capacity, wanted, penalty, prune_above=0, margin=1
    )
    best = objective(vol, need_rows, score, vol[full], need_rows[full], penalty)
    assert objective(vol, need_rows, score, got_vol, got_need, penalty) == pytest.approx(
        best, rel=1e-9, abs=1e-12
    )
    if found.priced and room < vol.size:
        assert len(asked) > 1  # read again: not everything could be kept
    if room >= vol.size:
        assert asked == [None]  # everything kept from the first reading


def _trap():
    """Three volunteers and needs (capacity and wanted 1) where pruning drops the pair the
    optimum needs: volunteer 0 is only third at need 1 and its own best pair is need 0, so
    with a margin of 1 nobody keeps (0, 1). Kept, the best is 1.0 + 0.6 = 1.6; the optimum
    1.0 + 0.3 + 0.4 = 1.7 sends volunteer 0 to need 1 and frees volunteer 2 for need 2."""
    vol = np.array([0, 1, 2, 0, 1, 2, 2])
    need_rows = np.array([0, 0, 0, 1, 1, 1, 2])
    score = np.array([0.6, 1.0, 0.3, 0.3, 0.35, 0.6, 0.4])
    return vol, need_rows, score, np.ones(3, np.int64), np.ones(3, np.int64)


def test_pricing_adds_back_the_pair_pruning_dropped():
    vol, need_rows, score, capacity, wanted = _trap()
    got_vol, got_need, found = assign_chunks(
        chunked(vol, need_rows, score), capacity, wanted, 0.0, prune_above=0, margin=1
    )
    assert sorted(zip(got_vol.tolist(), got_need.tolist(), strict=True)) == [
        (0, 1),
        (1, 0),
        (2, 2),
    ]
    assert found.rounds == 2 and found.added >= 1


def test_without_pricing_the_trap_stays_unsolved(monkeypatch):
    """The instance above really needs the pricing: with no need priced, 1.6 is all."""
    vol, need_rows, score, capacity, wanted = _trap()
    monkeypatch.setattr(pricing, "_suspect_needs", lambda *args: np.empty(0, np.int64))
    got_vol, got_need, found = assign_chunks(
        chunked(vol, need_rows, score), capacity, wanted, 0.0, prune_above=0, margin=1
    )
    assert objective(vol, need_rows, score, got_vol, got_need, 0.0) == pytest.approx(1.6)
    assert found.rounds == 1


@pytest.mark.parametrize("seed", range(6))
def test_potentials_are_shortest_paths_and_prove_the_flow(seed):
    """Checked against SciPy's Bellman-Ford on the same residual network."""
    rnd = random.Random(seed)
    vol, need_rows, score, capacity, wanted, penalty = instance(rnd, 30, 20, 0.5, seed % 2, 0.15)
    slots = np.minimum(capacity, np.bincount(vol, minlength=capacity.size))
    network = flow_network(vol, need_rows, score, slots, wanted, penalty)
    found = potentials(network)
    forward, backward = network.flows < network.caps, network.flows > 0
    tail = np.concatenate([network.tails[forward], network.heads[backward]])
    head = np.concatenate([network.heads[forward], network.tails[backward]])
    cost = np.concatenate([network.costs[forward], -network.costs[backward]])
    assert (cost + found[tail] - found[head] >= 0).all()  # every residual arc priced out
    # The same lengths from a root joined to every node at cost 0 (parallel arcs: cheapest).
    n = found.size
    cheapest: dict[tuple[int, int], int] = {}
    for t, h, c in zip(tail.tolist(), head.tolist(), cost.tolist(), strict=True):
        cheapest[t, h] = min(c, cheapest.get((t, h), c))
    rows = [n] * n + [t for t, _ in cheapest]
    cols = list(range(n)) + [h for _, h in cheapest]
    data = [0.0] * n + [float(c) for c in cheapest.values()]
    graph = scipy.sparse.csr_array((data, (rows, cols)), shape=(n + 1, n + 1))
    assert bellman_ford(graph, indices=n)[:n].tolist() == found.astype(float).tolist()


def test_a_need_split_over_chunks_is_refused():
    vol, need_rows, score = np.array([0, 1]), np.array([0, 0]), np.array([0.5, 0.6])

    def edges(only):
        yield vol[:1], need_rows[:1], score[:1]
        yield vol[1:], need_rows[1:], score[1:]

    with pytest.raises(ValueError, match="one chunk"):
        assign_chunks(edges, np.ones(2, np.int64), np.ones(1, np.int64), 0.0, prune_above=0)


def _city(rnd, n_vol, n_need, dense):
    """Volunteers and needs in three districts, knowing one to all phases, some exclusions."""
    districts = ["mitte", "ost", "sued"]
    vols = [
        volunteer(
            id=i,
            capacity=rnd.randint(1, 5),
            active=0,
            districts={rnd.choice(districts)},
            levels={
                p: rnd.randint(1, 3)
                for p in (PHASE_CODES if dense else rnd.sample(PHASE_CODES, rnd.randint(1, 2)))
            },
            excluded_needs={rnd.randint(1, n_need)} if rnd.random() < 0.2 else (),
            initiatives={rnd.randint(1, 5)} if rnd.random() < 0.05 else (),
        )
        for i in range(1, n_vol + 1)
    ]
    needs = [
        need(
            id=j,
            initiative_id=rnd.randint(1, 5),
            phases=tuple(rnd.sample(PHASE_CODES, rnd.randint(1, 2))),
            district=rnd.choice(districts),
            urgency=rnd.choice(["normal", "soon", "urgent"]),
            wanted=rnd.randint(1, 3),
            opened_at=NOW - timedelta(days=rnd.uniform(0, 60)),
        )
        for j in range(1, n_need + 1)
    ]
    return vols, needs


def _plan_objective(found, penalty):
    load = Counter(p.volunteer_id for p in found.proposals)
    total = sum(p.score.value for p in found.proposals)
    return total - penalty * sum(k * (k - 1) / 2 for k in load.values())


@pytest.mark.parametrize(
    ("seed", "dense", "penalty"),
    [(0, True, 0.15), (1, True, 0.0), (2, False, 0.15), (3, True, 0.4)],
)
def test_plan_pruned_equals_plan_over_all_pairs(seed, dense, penalty):
    rnd = random.Random(seed)
    vols, needs = _city(rnd, 120, 60, dense)
    weights = dataclasses.replace(WEIGHTS, load_penalty=penalty)
    pool = Pool(vols)
    whole = plan(pool, needs, weights, NOW)
    pruned = plan(pool, needs, weights, NOW, prune_above=0, margin=1)
    assert whole.pricing is not None and not whole.pricing.pruned
    assert pruned.pricing is not None and pruned.pricing.pruned
    assert pruned.pricing.edges == whole.pricing.edges
    assert pruned.pricing.kept < whole.pricing.edges
    assert pruned.without_candidate == whole.without_candidate
    assert _plan_objective(pruned, penalty) == pytest.approx(
        _plan_objective(whole, penalty), rel=1e-9
    )


@pytest.mark.parametrize("seed", range(40))
def test_slot_counts_streamed_equal_the_slots_over_all_pairs(seed):
    """The slots worth filling, counted per volunteer while the pairs stream past in chunks,
    are those ``_worthwhile_slots`` finds with every pair at hand (capacities above 16 keep
    the best pairs instead; scores on the thresholds themselves included)."""
    from matching.engine.assignment import _worthwhile_slots
    from matching.engine.pricing import _SlotCounts

    rng = np.random.default_rng(seed)
    n_vol, n_pairs = 30, 400
    penalty = float(rng.choice([0.0, 0.05, 0.1, 0.25]))
    top = 20 if seed % 4 == 0 else 4
    capacity = rng.integers(0, top + 1, n_vol)
    vol = rng.integers(0, n_vol, n_pairs)
    need = rng.integers(0, 50, n_pairs)
    score = rng.choice([0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 0.75, 1.0], n_pairs)
    counts = _SlotCounts(capacity, penalty)
    for part in np.array_split(np.arange(n_pairs), 7):
        counts.add(vol[part], need[part], score[part])
    counts.finish()
    clipped = np.minimum(capacity, np.bincount(vol, minlength=n_vol))
    expected = _worthwhile_slots(vol, score, clipped, penalty)
    assert counts.slots(clipped).tolist() == expected.tolist()
