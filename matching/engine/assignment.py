"""Global assignment: the optimal volunteer–need pairs under capacity, wanted and load penalty.

It is a min-cost flow. Source → volunteer has one unit arc per slot, the k-th
costing ``load_penalty * (k - 1)``; as these costs rise, the solver fills the
slots in order, which is exactly the convex cost ``load_penalty * n(n-1)/2``.
Volunteer → need unit arcs cost ``-score``; need → sink arcs carry ``wanted``.
A free source → sink bypass takes whatever supply is not worth sending, so a
pair is only used when it raises the objective. The solver needs integer costs:
scores are divided by the best score and scaled by about 1e12, which keeps the
rounding error relative to the optimum (the optimum is at least the best score).

The flow is solved by LEMON's network simplex (the ``pylmcf`` package), which takes
costs of at least 0 only. Every unit of supply leaves the source either by the bypass
or by a slot, a volunteer and one pair: adding the scale to the cost of every pair and
of the bypass adds the same to every unit's path, so the optimal flows are those of
the costs above (node potentials of -scale on the needs and the sink, in other words).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from operator import itemgetter
from typing import Any, NamedTuple, SupportsFloat, cast

import numpy as np

_INT64_MAX = 2**63 - 1
_SCALE = 2**40


def _is_int_type(kind: type) -> bool:
    return (issubclass(kind, int) and not issubclass(kind, bool)) or issubclass(kind, np.integer)


def _is_real_type(kind: type) -> bool:
    return _is_int_type(kind) or issubclass(kind, float | np.floating)


def _read_ids(values: tuple[Any, ...], what: str) -> tuple[Any, ...]:
    kinds = set(map(type, values))
    for kind in kinds:
        if not _is_int_type(kind):
            bad = next(value for value in values if type(value) is kind)
            raise ValueError(f"{what} must be an integer, got {bad!r}")
    if kinds - {int}:  # numpy integers: hand back plain ints
        values = tuple(map(int, values))
    return values


def _read_edges(edges: object) -> tuple[tuple[Any, ...], tuple[Any, ...], np.ndarray]:
    if isinstance(edges, str | bytes | Mapping) or not isinstance(edges, Iterable):
        raise ValueError("edges must be an iterable of (volunteer_id, need_id, score) tuples")
    rows = edges if isinstance(edges, list) else list(edges)
    if not rows:
        return (), (), np.empty(0)
    try:
        lengths = set(map(len, rows))
    except TypeError:
        lengths = set()
    if lengths != {3} or any(issubclass(kind, str | bytes) for kind in set(map(type, rows))):
        raise ValueError("each edge must be a (volunteer_id, need_id, score) tuple")
    # Column by column: much faster than zip(*rows) on a million edges.
    vols = _read_ids(tuple(map(itemgetter(0), rows)), "volunteer id")
    needs = _read_ids(tuple(map(itemgetter(1), rows)), "need id")
    scores = tuple(map(itemgetter(2), rows))
    for kind in set(map(type, scores)):
        if not _is_real_type(kind):
            bad = next(value for value in scores if type(value) is kind)
            raise ValueError(f"score must be a number in (0, 1], got {bad!r}")
    try:
        values = np.array(scores, dtype=np.float64)
    except OverflowError:
        raise ValueError("score must be a number in (0, 1], got a huge integer") from None
    bad = np.flatnonzero(~((values > 0) & (values <= 1)))  # NaN fails both tests
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"score of edge ({vols[i]}, {needs[i]}) must be in (0, 1], got {scores[i]!r}"
        )
    return vols, needs, values


def _read_slots(slots: object, what: str) -> Mapping[int, int]:
    if not isinstance(slots, Mapping):
        raise ValueError(f"{what} must be a mapping of id to count, got {slots!r}")
    for kind in set(map(type, slots)):
        if not _is_int_type(kind):
            bad = next(key for key in slots if type(key) is kind)
            raise ValueError(f"{what}: ids must be integers, got {bad!r}")
    kinds = set(map(type, slots.values()))
    if not all(map(_is_int_type, kinds)) or (slots and min(slots.values()) < 0):
        key = next(k for k, n in slots.items() if not _is_int_type(type(n)) or n < 0)
        raise ValueError(f"{what} of {key} must be a non-negative integer, got {slots[key]!r}")
    if (kinds | set(map(type, slots))) <= {int}:
        return slots
    return {int(key): int(count) for key, count in slots.items()}


def _read_penalty(penalty: object) -> float:
    if not _is_real_type(type(penalty)):
        raise ValueError(f"load_penalty must be a number, got {penalty!r}")
    penalty = float(cast(SupportsFloat, penalty))
    if not math.isfinite(penalty) or penalty < 0:
        raise ValueError(f"load_penalty must be finite and >= 0, got {penalty!r}")
    return penalty


def _dense(ids: tuple[Any, ...]) -> tuple[list[int], np.ndarray]:
    """Distinct ids ascending, and each id's position among them."""
    try:
        values = np.array(ids, dtype=np.int64)
    except OverflowError:  # ids beyond 64 bits: slower, but still correct
        keys = sorted(set(ids))
        position = {key: i for i, key in enumerate(keys)}
        return keys, np.array([position[value] for value in ids], np.int64)
    low = int(values.min())
    span = int(values.max()) - low + 1
    if span > 4 * values.size + 1024:  # sparse ids: sort them
        distinct, rows = np.unique(values, return_inverse=True)
        return distinct.tolist(), rows.reshape(-1).astype(np.int64)
    present = np.zeros(span, bool)  # database ids are dense: count instead of sorting
    present[values - low] = True
    rank = np.cumsum(present) - 1
    return (np.flatnonzero(present) + low).tolist(), rank[values - low]


def _canonical(
    vol_rows: np.ndarray, need_rows: np.ndarray, n_need: int
) -> tuple[np.ndarray, int | None]:
    """Edge order by (volunteer, need), and the first repeated edge's index or None.

    Solving in this order makes the result independent of the order edges came in.
    """
    pair = vol_rows * n_need + need_rows
    order = np.argsort(pair, kind="stable")
    repeated = np.flatnonzero(pair[order[1:]] == pair[order[:-1]])
    return order, (int(order[repeated[0]]) if repeated.size else None)


def assign(
    edges: Iterable[tuple[int, int, float]],
    capacity: Mapping[int, int],
    wanted: Mapping[int, int],
    load_penalty: float = 0.0,
) -> list[tuple[int, int]]:
    """Pairs maximising sum(score) - load_penalty * sum(n_v * (n_v - 1) / 2), sorted."""
    vol_ids, need_ids, scores = _read_edges(edges)
    capacity = _read_slots(capacity, "capacity")
    wanted = _read_slots(wanted, "wanted")
    penalty = _read_penalty(load_penalty)
    if not vol_ids:
        return []
    vol_keys, vol_rows = _dense(vol_ids)
    need_keys, need_rows = _dense(need_ids)
    order, repeated = _canonical(vol_rows, need_rows, len(need_keys))
    if repeated is not None:
        raise ValueError(f"edge ({vol_ids[repeated]}, {need_ids[repeated]}) appears more than once")
    # More slots than the other side has members are never used; clip before int64.
    cap = np.array([min(capacity.get(k, 0), len(need_keys)) for k in vol_keys], np.int64)
    want = np.array([min(wanted.get(k, 0), len(vol_keys)) for k in need_keys], np.int64)
    chosen = _solve_in_order(order, vol_rows, need_rows, scores, cap, want, penalty)
    return sorted(
        (vol_keys[v], need_keys[n])
        for v, n in zip(vol_rows[chosen].tolist(), need_rows[chosen].tolist(), strict=True)
    )


def solve(
    vol_rows: np.ndarray,
    need_rows: np.ndarray,
    scores: np.ndarray,
    capacity: np.ndarray,
    wanted: np.ndarray,
    penalty: float,
) -> np.ndarray:
    """Indices of the chosen edges, for checked input given as dense rows and arrays."""
    order, repeated = _canonical(vol_rows, need_rows, wanted.size)
    if repeated is not None:
        raise ValueError(f"edge number {repeated} appears more than once")
    return _solve_in_order(order, vol_rows, need_rows, scores, capacity, wanted, penalty)


def _solve_in_order(
    order: np.ndarray,
    vol_rows: np.ndarray,
    need_rows: np.ndarray,
    scores: np.ndarray,
    capacity: np.ndarray,
    wanted: np.ndarray,
    penalty: float,
) -> np.ndarray:
    capacity = np.minimum(capacity, np.bincount(vol_rows, minlength=capacity.size))
    wanted = np.minimum(wanted, np.bincount(need_rows, minlength=wanted.size))
    edge: np.ndarray = order[(capacity[vol_rows[order]] > 0) & (wanted[need_rows[order]] > 0)]
    if edge.size == 0:
        return edge
    vol, need, score = vol_rows[edge], need_rows[edge], scores[edge]
    slots = _worthwhile_slots(vol, score, capacity, penalty)
    chosen = _min_cost_flow(vol, need, score, slots, wanted, penalty)
    chosen = _drop_unprofitable(vol, score, np.flatnonzero(chosen), penalty)
    solved: np.ndarray = edge[chosen]
    return solved


def _worthwhile_slots(
    vol: np.ndarray, score: np.ndarray, capacity: np.ndarray, penalty: float
) -> np.ndarray:
    """Slots per volunteer that can pay off: the k-th needs a k-th best score > penalty*(k-1).

    A later slot only pays if an earlier one does, so the slots form a prefix.
    """
    rounds = int(capacity.max())
    if penalty == 0:
        return capacity
    if rounds > 16:  # large capacities: rank each volunteer's scores instead of counting
        by_score = np.lexsort((-score, vol))
        ranked = vol[by_score]
        rank = np.arange(ranked.size) - np.searchsorted(ranked, ranked)
        worth = score[by_score] > penalty * rank
        paying: np.ndarray = np.minimum(
            capacity, np.bincount(ranked[worth], minlength=capacity.size)
        )
        return paying
    slots = np.zeros(capacity.size, np.int64)
    still = capacity > 0
    for k in range(1, rounds + 1):
        # k-th best score > penalty*(k-1)  <=>  at least k scores above penalty*(k-1)
        above = np.bincount(vol[score > penalty * (k - 1)], minlength=capacity.size)
        still &= (above >= k) & (capacity >= k)
        slots += still
    return slots


def _compact(rows: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Renumber the rows in use as 0..k-1 (keeping their order) and list them."""
    used = np.zeros(size, bool)
    used[rows] = True
    return (np.cumsum(used) - 1)[rows], np.flatnonzero(used)


def _min_cost_flow(
    vol: np.ndarray,
    need: np.ndarray,
    score: np.ndarray,
    slots: np.ndarray,
    wanted: np.ndarray,
    penalty: float,
) -> np.ndarray:
    """Which edges the optimal flow uses; the network only has nodes that have edges."""
    return flow_network(vol, need, score, slots, wanted, penalty).used


class Network(NamedTuple):
    """A solved flow network: its arcs, their integer costs and the optimal flow on them.

    Nodes are 0 (source), 1 (sink), then the volunteer rows ``vols`` in use, then the need
    rows ``needs`` in use. Arcs are the slot arcs source -> volunteer, one arc per edge
    (``edges`` = the slice of them), need -> sink and the free bypass source -> sink.
    Scores became integer costs as ``-rint(score / best * scale)``.
    """

    tails: np.ndarray
    heads: np.ndarray
    caps: np.ndarray
    costs: np.ndarray
    flows: np.ndarray
    edges: slice
    vols: np.ndarray
    needs: np.ndarray
    best: float
    scale: int

    @property
    def used(self) -> np.ndarray:
        """Per edge, whether the optimal flow takes it."""
        used: np.ndarray = self.flows[self.edges] > 0
        return used

    @property
    def first_need(self) -> int:
        return 2 + self.vols.size

    def edge_costs(self, score: np.ndarray) -> np.ndarray:
        """Integer costs of edges with these scores, exactly as the network's own."""
        return _pair_costs(score, self.best, self.scale)


def _pair_costs(score: np.ndarray, best: float, scale: int) -> np.ndarray:
    """Integer costs of pairs: -score / best * scale, rounded, and not below -scale (which
    floating point may overstep by a unit when the scale is no power of 2)."""
    costs: np.ndarray = np.maximum(-np.rint(score / best * scale).astype(np.int64), -scale)
    return costs


def cost_scale(nodes: int) -> int:
    """The integer cost scale for a network of this many nodes: node potentials are path
    lengths of up to ``nodes`` arcs, and stay far below 2**63 (``pricing`` adds them)."""
    return min(_SCALE, _INT64_MAX // (16 * (nodes + 1)))


def flow_network(
    vol: np.ndarray,
    need: np.ndarray,
    score: np.ndarray,
    slots: np.ndarray,
    wanted: np.ndarray,
    penalty: float,
    nodes: int | None = None,
    best: float | None = None,
) -> Network:
    """The optimal flow for edges given as rows, with their slots and wanted counts.

    ``nodes`` and ``best`` fix the cost scale (by default this network's node count and best
    score), so that a network over part of the edges has the very costs of the whole one.
    """
    # Imported here: the web processes import the engine for scoring, not for flows.
    from pylmcf import pylmcf_cpp

    vol, vols = _compact(vol, slots.size)
    need, needs = _compact(need, wanted.size)
    slots, wanted = slots[vols], wanted[needs]
    slot_vol = np.repeat(np.arange(vols.size), slots)
    slot_rank = np.arange(slot_vol.size) - np.repeat(np.cumsum(slots) - slots, slots)
    supply = int(slots.sum())
    source, sink, first_vol, first_need = 0, 1, 2, 2 + vols.size
    tails = np.concatenate(
        [
            np.full(slot_vol.size, source),
            first_vol + vol,
            first_need + np.arange(needs.size),
            [source],
        ]
    ).astype(np.int64)
    heads = np.concatenate(
        [first_vol + slot_vol, first_need + need, np.full(needs.size, sink), [sink]]
    ).astype(np.int64)
    caps = np.concatenate([np.ones(slot_vol.size + vol.size, np.int64), wanted, [supply]])
    n_nodes = first_need + needs.size
    scale = cost_scale(n_nodes if nodes is None else nodes)
    # The solver's total cost must stay well inside int64: every unit of supply costs at
    # most twice the scale, its shifted pair and its slot (a slot worth filling costs less
    # than the best score, ``_worthwhile_slots``).
    scale = min(scale, _INT64_MAX // (8 * (supply + 1)))
    best = float(score.max()) if best is None else best
    edges = slice(slot_vol.size, slot_vol.size + vol.size)
    costs = np.concatenate(  # in int64 throughout: a float holds 53 bits only
        [
            np.rint(penalty * slot_rank / best * scale).astype(np.int64),
            _pair_costs(score, best, scale),
            np.zeros(needs.size + 1, np.int64),  # need -> sink, and the free bypass
        ]
    )
    shifted = costs.copy()  # at least 0, the same optimal flows (see the module's note)
    shifted[edges] += scale
    shifted[-1] = scale
    supplies = np.zeros(n_nodes, np.int64)
    supplies[source], supplies[sink] = supply, -supply
    try:
        flows = np.asarray(pylmcf_cpp.lmcf(supplies, tails, heads, caps, shifted), np.int64)
    except (RuntimeError, ValueError, OverflowError) as error:
        raise RuntimeError(f"min-cost flow failed: {error}") from error
    return Network(tails, heads, caps, costs, flows, edges, vols, needs, best, scale)


def _drop_unprofitable(
    vol: np.ndarray, score: np.ndarray, picked: np.ndarray, penalty: float
) -> np.ndarray:
    """Drop pairs whose marginal value is not positive; this never lowers the objective.

    Integer rounding can let the solver take a pair worth exactly (or about) nothing.
    """
    if picked.size == 0:
        return picked
    picked = picked[np.lexsort((-score[picked], vol[picked]))]  # per volunteer, best first
    pv = vol[picked]
    count = np.bincount(pv)
    last = np.append(np.flatnonzero(pv[1:] != pv[:-1]), pv.size - 1)
    weak = last[score[picked[last]] - penalty * (count[pv[last]] - 1) <= 0]
    keep = np.ones(picked.size, bool)
    for end in weak.tolist():  # rare: walk each weak volunteer's pairs from the worst
        n = int(count[pv[end]])
        while n and score[picked[end]] - penalty * (n - 1) <= 0:
            keep[end] = False
            end, n = end - 1, n - 1
    return picked[keep]
