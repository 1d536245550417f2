"""The assignment over a pruned set of candidate pairs, proven optimal for all of them.

When every volunteer fits almost every need, the candidate pairs run into tens of millions
and the min-cost flow over all of them takes minutes and gigabytes. Almost all of those
pairs cannot matter: a need is served by one of its best few candidates, a volunteer
spends their few slots on their best few needs. So the pairs are read a chunk at a time
(each need's pairs in one chunk), and only these are kept: the best ``wanted + margin`` of
each need (ties spread by a fixed pseudo-random order), the best ``capacity`` of each
volunteer, and the ``margin`` pairs in which a volunteer beats the need's best left-out
candidate by most. The flow is solved over those.

Then the proof. A flow is optimal exactly when its residual network has no negative
cycle, i.e. when there are node potentials ``d`` with ``cost + d(tail) - d(head) >= 0`` on
every residual arc. The potentials come from shortest paths in the residual network of
the kept pairs (Bellman-Ford from a virtual root joined to every node at cost 0). A pruned
pair (v, n) carries no flow, so its residual arc is v -> n with the reduced cost
``-score + d(v) - d(n)`` in the flow's integer units. If no pruned pair has a negative
reduced cost, the potentials prove the flow optimal for *all* pairs; otherwise the pairs
that could improve it are added back (each need's and volunteer's ``margin`` most negative
ones per round) and the flow is solved again, until none can.

Most needs are cleared without reading their pairs again: every pruned pair of a need
scores at most the best score the need's pruning left out, and every volunteer's
potential is at least the lowest volunteer potential, so a need whose bound
``-best_left_out + min d(volunteer) - d(need)`` is not negative has nothing to add.
Only the others' pruned pairs are priced one by one: from memory, where the first reading
kept them (up to ``SUSPECT_PAIRS``), else generated and scored again.

The last rounds often find only pairs whose reduced costs are a unit or so below 0: ties
at the resolution of the integer costs. For any flow g over all pairs, cost(g) - cost(flow)
is the sum over arcs of reduced cost times the change of flow, every term of which is at
least 0 except on the improving pairs, each of which can carry one unit: so no flow is
better by more than the sum of their reduced costs. When that sum is at most one unit per
chosen pair, no more than the rounding of the integer costs themselves, the loop stops
(``Pricing.gap`` says by how much it could be off; 0 when proven exactly).

The integer costs (score scale, best score, slots per volunteer, capacities clipped to
the candidate count) are those of the flow over all pairs, so the result is an optimum of
the very problem ``solve`` would solve with every pair: the same objective, and the same
pairs wherever that optimum is unique (with ties, either may pick another optimal set).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from matching.engine.assignment import (
    Network,
    _drop_unprofitable,
    _worthwhile_slots,
    flow_network,
    solve,
)

# Pairs kept beyond ``wanted`` per need and beyond ``capacity`` per volunteer. With 3 the
# usual instances are proven optimal after the first solve (bench/matching.py prints the
# rounds); a smaller margin only costs more rounds, never the optimum.
MARGIN = 3
# Up to this many candidate pairs the flow is solved over all of them, as it always was.
# Below it the flow is cheap (1.1M pairs: 4.0 s of CPU for plan, against 5.8 s pruned, where
# scarce volunteers make the pricing take five rounds); above it the flow's time and memory
# grow with every pair while the pruned solve grows with the kept ones (16M pairs, every
# volunteer available: 54 s and 0.9 GB pruned; 60M, every phase: 66 s and 1.2 GB).
PRUNE_ABOVE = 4_000_000
# Pairs of suspect needs kept in memory between pricing rounds (16 bytes each).
SUSPECT_PAIRS = 1 << 24

Chunk = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(volunteer rows, need rows, scores) of some candidate pairs, each need's pairs together."""

Edges = Callable[[np.ndarray | None], Iterable[Chunk]]
"""The candidate pairs a chunk at a time: all of them (None), or those of the given need rows.

Every call yields the same pairs with the same scores; a need's pairs all come in one chunk.
"""


@dataclass(frozen=True, slots=True)
class Pricing:
    """What solving took: candidate pairs, the pairs the last solve saw, and the rounds.

    ``rounds`` counts the flows solved (1: the first pruned solve was already optimal);
    ``priced`` the pruned pairs priced one by one (the others were cleared by their need's
    bound), ``added`` those of them put back because they could improve the solution;
    ``gap`` bounds in integer cost units how much better than the result any flow over all
    pairs can be (0: proven optimal; at most one unit per chosen pair, see the module).
    """

    edges: int
    kept: int
    rounds: int = 1
    priced: int = 0
    added: int = 0
    pruned: bool = False
    gap: int = 0


def assign_chunks(
    edges: Edges,
    capacity: np.ndarray,
    wanted: np.ndarray,
    penalty: float,
    *,
    prune_above: int = PRUNE_ABOVE,
    margin: int = MARGIN,
) -> tuple[np.ndarray, np.ndarray, Pricing]:
    """The optimal pairs (volunteer rows, need rows) of checked input given a chunk at a time.

    ``capacity`` and ``wanted`` are per row; the result equals ``solve`` over all pairs
    (see the module's note on ties). Up to ``prune_above`` pairs it *is* ``solve``.
    """
    if margin < 1:
        raise ValueError(f"margin must be at least 1, got {margin!r}")
    selection = _Selection(capacity, wanted, penalty, prune_above, margin)
    suspect_pairs = _SuspectPairs(edges, wanted.size)
    for vol, need, score in edges(None):
        for part in selection.add(vol, need, score):  # kept for pricing only when pruning
            suspect_pairs.keep(*part)
    selection.finish()
    if not selection.edges:
        return _EMPTY_INT, _EMPTY_INT, Pricing(edges=0, kept=0)
    if selection.buffer is not None:  # few pairs: the flow over all of them
        vol, need, score = (np.concatenate(part) for part in zip(*selection.buffer, strict=True))
        chosen = solve(vol, need, score, capacity, wanted, penalty)
        return vol[chosen], need[chosen], Pricing(edges=vol.size, kept=vol.size)
    return _solve_pruned(suspect_pairs, selection, penalty)


_EMPTY_INT = np.empty(0, np.int64)
_EMPTY_FLOAT = np.empty(0, np.float64)


class _Selection:
    """The first reading of all pairs: counts, the best score and the pairs worth keeping."""

    def __init__(
        self,
        capacity: np.ndarray,
        wanted: np.ndarray,
        penalty: float,
        prune_above: int,
        margin: int,
    ) -> None:
        self.capacity, self.wanted, self.penalty = capacity, wanted, penalty
        self.prune_above = prune_above
        self.edges = 0
        self.buffer: list[Chunk] | None = []
        # Candidates per row, before (``degree_*``) and after dropping pairs of volunteers
        # without capacity or needs wanting nobody (``useful_*``): the flow over all pairs
        # clips capacity and wanted to the former and has a node for each of the latter.
        self.degree_vol = np.zeros(capacity.size, np.int64)
        self.degree_need = np.zeros(wanted.size, np.int64)
        self.useful_vol = np.zeros(capacity.size, np.int64)
        self.useful_need = np.zeros(wanted.size, np.int64)
        self.best = 0.0
        self.seen = np.zeros(wanted.size, bool)
        self.margin = margin
        self.need_keep = wanted + margin
        # Per need: the best score its pruning left out (-inf: it kept all its pairs).
        self.left_out = np.full(wanted.size, -np.inf)
        self.by_need: list[Chunk] = []
        # Per volunteer: how many of their pairs score above each slot's load penalty, which
        # fixes the slots worth filling, and the ``margin`` pairs in which they beat the
        # need's best left out by most: where they are hard to replace, which is where a
        # need may depend on them.
        self.slot_counts = _SlotCounts(capacity, penalty)
        self.by_lead = _BestPerVolunteer(np.where(capacity > 0, margin, 0))

    def add(self, vol: np.ndarray, need: np.ndarray, score: np.ndarray) -> list[Chunk]:
        """Read a chunk; returns the chunks now read for pruning (none while the flow may
        still take every pair, then those buffered so far, then each one as it comes)."""
        vol, need = vol.astype(np.int64, copy=False), need.astype(np.int64, copy=False)
        score = score.astype(np.float64, copy=False)
        self.edges += vol.size
        if self.buffer is not None:  # no selection while the flow may take every pair
            self.buffer.append((vol, need, score))
            if self.edges <= self.prune_above:
                return []
            buffered, self.buffer = self.buffer, None
            for part in buffered:
                self._select(*part)
            return buffered
        self._select(vol, need, score)
        return [(vol, need, score)]

    def _select(self, vol: np.ndarray, need: np.ndarray, score: np.ndarray) -> None:
        self.degree_vol += np.bincount(vol, minlength=self.capacity.size)
        self.degree_need += np.bincount(need, minlength=self.wanted.size)
        useful = (self.capacity[vol] > 0) & (self.wanted[need] > 0)
        vol, need, score = vol[useful], need[useful], score[useful]
        if not vol.size:
            return
        self.useful_vol += np.bincount(vol, minlength=self.capacity.size)
        self.useful_need += np.bincount(need, minlength=self.wanted.size)
        self.best = max(self.best, float(score.max()))
        self._keep_per_need(vol, need, score)
        self.slot_counts.add(vol, need, score)
        left_out = self.left_out[need]  # -inf where the need kept all its pairs anyway
        lead = np.where(np.isfinite(left_out), score - left_out, -np.inf)
        self.by_lead.add(vol, need, score, lead)

    def _keep_per_need(self, vol: np.ndarray, need: np.ndarray, score: np.ndarray) -> None:
        """Each need's best pairs (ties broken by ``_mix``), and the best left out."""
        starts = np.flatnonzero(np.r_[True, need[1:] != need[:-1]])
        needs = need[starts]
        if self.seen[needs].any() or np.unique(needs).size != needs.size:
            raise ValueError("each need's pairs must come together, in one chunk")
        self.seen[needs] = True
        ends = np.r_[starts[1:], need.size]
        keep = self.need_keep[needs]
        big = np.flatnonzero(ends - starts > keep)
        chosen = np.ones(vol.size, bool)
        for i in big.tolist():
            start, end, k = int(starts[i]), int(ends[i]), int(keep[i])
            part = score[start:end]
            # The k-th and (k+1)-th best scores; the latter is the best left out.
            kth, next_best = -np.partition(-part, (k - 1, k))[[k - 1, k]]
            tied = np.flatnonzero(part >= kth)  # the best k and whoever ties with the k-th
            ranked = tied[np.lexsort((_mix(vol[start:end][tied], needs[i]), -part[tied]))]
            chosen[start + ranked[k:]] = False
            chosen[start + np.flatnonzero(part < kth)] = False
            self.left_out[needs[i]] = next_best
        self.by_need.append((vol[chosen], need[chosen], score[chosen]))

    def finish(self) -> None:
        self.slot_counts.finish()
        self.by_lead.finish()

    def kept(self) -> Chunk:
        """The union of the pairs kept per need and of those in which a volunteer leads, by
        (volunteer, need). Each volunteer's best scores (``slot_counts``) fix their slots, but
        their pairs are not solved over: most volunteers stay free, and their pairs only slow the flow."""
        vol, need, score = (
            np.concatenate(part) for part in zip(self.by_lead.kept, *self.by_need, strict=True)
        )
        _, first = np.unique(vol * self.wanted.size + need, return_index=True)
        return vol[first], need[first], score[first]


class _SlotCounts:
    """The slots worth filling per volunteer, as ``_worthwhile_slots`` finds them over all
    pairs, counted while the pairs stream past: the k-th slot pays off when the volunteer's
    k-th best score is above ``penalty * (k - 1)``, that is when at least k of their pairs
    score above it. So only the counts above these thresholds are kept per volunteer, not the
    pairs. For capacities above 16 the best pairs themselves are kept, as before.
    """

    def __init__(self, capacity: np.ndarray, penalty: float) -> None:
        self.penalty = penalty
        self.rounds = int(capacity.max()) if capacity.size else 0
        self.best: _BestPerVolunteer | None = None
        if penalty and self.rounds > 16:
            self.best = _BestPerVolunteer(capacity)
        # Thresholds penalty * j for j < rounds; a pair's level is how many lie below it.
        self.thresholds = penalty * np.arange(max(self.rounds, 1), dtype=np.float64)
        self.width = self.thresholds.size + 1
        self.levels = np.zeros(capacity.size * self.width, np.int64)

    def add(self, vol: np.ndarray, need: np.ndarray, score: np.ndarray) -> None:
        if not self.penalty:
            return  # every slot pays off: nothing to count
        if self.best is not None:
            self.best.add(vol, need, score, score)
            return
        level = np.searchsorted(self.thresholds, score, side="left")  # thresholds < score
        self.levels += np.bincount(vol * self.width + level, minlength=self.levels.size)

    def finish(self) -> None:
        if self.best is not None:
            self.best.finish()

    def slots(self, capacity: np.ndarray) -> np.ndarray:
        """The slots worth filling, for ``capacity`` clipped to each volunteer's pairs."""
        if not self.penalty:
            return capacity
        if self.best is not None:
            best_vol, _best_need, best_score = self.best.kept
            return _worthwhile_slots(best_vol, best_score, capacity, self.penalty)
        # above[:, k - 1]: pairs scoring above penalty * (k - 1), i.e. of level k or more.
        by_level = self.levels.reshape(capacity.size, self.width)
        above = np.cumsum(by_level[:, ::-1], axis=1)[:, ::-1][:, 1:]
        slots = np.zeros(capacity.size, np.int64)
        still = capacity > 0
        for k in range(1, self.rounds + 1):
            still &= (above[:, k - 1] >= k) & (capacity >= k)
            slots += still
        return slots


class _BestPerVolunteer:
    """Each volunteer's ``limit`` best pairs by a key (ties broken by ``_mix``), kept while
    the pairs stream past: a pair enters only if it beats the volunteer's worst kept one,
    and the entrants are merged in batches, so the work stays near the pairs' count.
    """

    def __init__(self, limit: np.ndarray) -> None:
        self.limit = limit
        self.kept: Chunk = (_EMPTY_INT, _EMPTY_INT, _EMPTY_FLOAT)
        self.key = _EMPTY_FLOAT
        # The key a new pair must beat: that of the limit-th best kept (-inf: not full).
        self.floor = np.full(limit.size, -np.inf)
        self.pending: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.pending_size = 0

    def add(self, vol: np.ndarray, need: np.ndarray, score: np.ndarray, key: np.ndarray) -> None:
        entering = key > self.floor[vol]
        self.pending.append((vol[entering], need[entering], score[entering], key[entering]))
        self.pending_size += int(entering.sum())
        if self.pending_size > max(self.key.size, 1 << 16):
            self.finish()

    def finish(self) -> None:
        """Merge the entrants into the kept pairs."""
        vol, need, score, key = (
            np.concatenate(part) for part in zip((*self.kept, self.key), *self.pending, strict=True)
        )
        self.pending, self.pending_size = [], 0
        order = np.lexsort((_mix(vol, need), -key, vol))
        vol, need, score, key = vol[order], need[order], score[order], key[order]
        starts = np.flatnonzero(np.r_[True, vol[1:] != vol[:-1]])
        position = np.arange(vol.size) - np.repeat(starts, np.diff(np.r_[starts, vol.size]))
        limit = self.limit[vol]
        keep = position < limit
        full = position == limit - 1
        self.floor[vol[full]] = key[full]
        self.kept, self.key = (vol[keep], need[keep], score[keep]), key[keep]


def _mix(vol: np.ndarray, need: np.ndarray | int) -> np.ndarray:
    """A fixed pseudo-random rank of each pair, to break ties in what is kept.

    Scores tie a lot (a need's candidates differ in a few discrete parts), and the same
    volunteers tie at the top for every need alike; ties broken by row would keep those
    few for all of them, who then cannot serve them all. Spread, the ties are served.
    """
    mixed = vol.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    mixed ^= np.asarray(need).astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
    mixed ^= mixed >> np.uint64(31)
    mixed *= np.uint64(0x94D049BB133111EB)
    mixed ^= mixed >> np.uint64(29)
    return mixed


def _solve_pruned(
    suspect_pairs: _SuspectPairs, selection: _Selection, penalty: float
) -> tuple[np.ndarray, np.ndarray, Pricing]:
    n_need = selection.wanted.size
    capacity = np.minimum(selection.capacity, selection.degree_vol)
    wanted = np.minimum(selection.wanted, selection.degree_need)
    nodes = 2 + int((selection.useful_vol > 0).sum()) + int((selection.useful_need > 0).sum())
    vol, need, score = selection.kept()
    if not vol.size:
        return _EMPTY_INT, _EMPTY_INT, Pricing(edges=selection.edges, kept=0, pruned=True)
    # The slots worth filling depend on each volunteer's best ``capacity`` scores only,
    # which ``slot_counts`` saw: they are the slots of the flow over every pair.
    slots = selection.slot_counts.slots(capacity)
    rounds = priced = added = gap = 0
    while True:
        rounds += 1
        network = flow_network(vol, need, score, slots, wanted, penalty, nodes, selection.best)
        vol_potential, need_potential = _row_potentials(network, potentials(network), slots, n_need)
        suspects = _suspect_needs(network, vol_potential, need_potential, selection.left_out)
        more = []
        if suspects.size:
            # The kept pairs of the suspects, as need-major codes: a need's pairs come with
            # ascending volunteer rows, which makes the look-ups walk forward.
            of_suspects = np.isin(need, suspects)
            codes = np.sort(need[of_suspects] * slots.size + vol[of_suspects])
            for part in suspect_pairs.read(suspects):
                found, count = _improving(
                    part, network, vol_potential, need_potential, slots, wanted, codes
                )
                priced += count
                more.append(found)
        if not sum(part[0].size for part in more):
            break
        found_vol, found_need, found_score, reduced = (
            np.concatenate(column) for column in zip(*more, strict=True)
        )
        # No flow can gain more than the sum of these reduced costs (see the module's note).
        # Within one unit per chosen pair, the resolution of the integer costs themselves
        # (each is a score rounded to 1/scale of the best), the flow is as good as proven.
        gap = -int(reduced.sum())
        if gap <= int(network.used.sum()):
            break
        gap = 0
        new_vol, new_need, new_score = _thin(
            found_vol, found_need, found_score, reduced, selection.margin
        )
        added += new_vol.size
        vol, need, score = (
            np.concatenate(part)
            for part in zip((vol, need, score), (new_vol, new_need, new_score), strict=True)
        )
        order = np.argsort(vol * n_need + need)
        vol, need, score = vol[order], need[order], score[order]
    picked = _drop_unprofitable(vol, score, np.flatnonzero(network.used), penalty)
    pricing = Pricing(
        edges=selection.edges,
        kept=vol.size,
        rounds=rounds,
        priced=priced,
        added=added,
        pruned=True,
        gap=gap,
    )
    return vol[picked], need[picked], pricing


class _SuspectPairs:
    """The pairs the pricing may have to look at again, kept in memory (up to
    ``SUSPECT_PAIRS``, 16 bytes each) from the first reading on; the pairs of needs beyond
    that are read again (generated and scored anew) when their need is a suspect."""

    def __init__(self, edges: Edges, n_need: int) -> None:
        self.edges = edges
        self.kept = np.zeros(n_need, bool)
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.size = 0

    def keep(self, vol: np.ndarray, need: np.ndarray, score: np.ndarray) -> None:
        """Keep a chunk of whole needs' pairs, if there is room."""
        if self.size + vol.size <= SUSPECT_PAIRS:
            self.parts.append((vol.astype(np.int32), need.astype(np.int32), score))
            self.size += vol.size
            self.kept[need] = True

    def read(self, suspects: np.ndarray) -> Iterator[Chunk]:
        earlier = len(self.parts)
        missing = suspects[~self.kept[suspects]]
        if missing.size:
            for vol, need, score in self.edges(missing):
                self.keep(vol, need, score)
                yield vol, need, score
        wanted = np.zeros(self.kept.size, bool)
        wanted[suspects] = True
        for vol, need, score in self.parts[:earlier]:
            mask = wanted[need]
            if mask.any():
                yield vol[mask].astype(np.int64), need[mask].astype(np.int64), score[mask]


def _suspect_needs(
    network: Network, vol_potential: np.ndarray, need_potential: np.ndarray, left_out: np.ndarray
) -> np.ndarray:
    """Need rows whose pruned pairs might have a negative reduced cost, ascending."""
    pruned = np.flatnonzero(np.isfinite(left_out))
    if not pruned.size or not network.vols.size:
        return pruned
    if (need_potential[pruned] == _NONE).any():  # cannot be: a need keeps its best pairs
        raise RuntimeError("a need with pruned pairs is missing from the network")
    lowest = int(vol_potential[vol_potential != _NONE].min())
    bound = network.edge_costs(left_out[pruned]) + lowest - need_potential[pruned]
    suspects: np.ndarray = pruned[bound < 0]
    return suspects


def _improving(
    part: Chunk,
    network: Network,
    vol_potential: np.ndarray,
    need_potential: np.ndarray,
    slots: np.ndarray,
    wanted: np.ndarray,
    kept: np.ndarray,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], int]:
    """The pruned pairs of a chunk with a negative reduced cost (and those), and how many
    were priced.

    ``kept`` holds the codes ``need * len(slots) + volunteer`` of the kept pairs, sorted.
    """
    vol, need, score = part
    useful = (slots[vol] > 0) & (wanted[need] > 0)  # no slot: the pair can carry no flow
    vol, need, score = vol[useful], need[useful], score[useful]
    tail, head = vol_potential[vol], need_potential[need]
    if (tail == _NONE).any() or (head == _NONE).any():  # cannot be: see _row_potentials
        raise RuntimeError("a pruned pair's volunteer or need is missing from the network")
    reduced = network.edge_costs(score) + tail - head
    # Kept pairs price too: unused ones never below 0, used ones may (they carry flow).
    better = np.flatnonzero(reduced < 0)
    codes = need[better] * slots.size + vol[better]
    better = better[kept[np.minimum(np.searchsorted(kept, codes), kept.size - 1)] != codes]
    return (vol[better], need[better], score[better], reduced[better]), int(vol.size)


def _thin(
    vol: np.ndarray, need: np.ndarray, score: np.ndarray, reduced: np.ndarray, margin: int
) -> Chunk:
    """Of the pairs that could improve the flow, each need's and each volunteer's ``margin``
    most negative ones: enough to move the flow on, without letting the pairs solved over
    grow by millions when the first pruning was poor. Those left out are priced again.
    """
    vol, need = vol.astype(np.int64, copy=False), need.astype(np.int64, copy=False)
    keep = np.zeros(vol.size, bool)
    # Ties in reduced cost keep a fixed pseudo-random order: sorted by ``_mix`` first, then
    # by (row, reduced cost) with a stable sort, in one int64 key where it fits (a third of
    # the work of a lexsort on three keys, over millions of pairs in the first rounds).
    by_mix = np.argsort(_mix(vol, need), kind="stable")
    spread = reduced[by_mix] - int(reduced.min())
    bits = max(int(spread.max()), 1).bit_length()
    for rows in (need, vol):
        mixed_rows = rows[by_mix]
        if bits + max(int(rows.max()), 1).bit_length() <= 62:
            order = by_mix[np.argsort((mixed_rows << bits) | spread, kind="stable")]
        else:
            order = by_mix[np.lexsort((spread, mixed_rows))]
        grouped = rows[order]
        starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
        position = np.arange(grouped.size) - np.repeat(starts, np.diff(np.r_[starts, grouped.size]))
        keep[order[position < margin]] = True
    return vol[keep], need[keep], score[keep]


def _row_potentials(
    network: Network, potential: np.ndarray, slots: np.ndarray, n_need: int
) -> tuple[np.ndarray, np.ndarray]:
    """The potential of every volunteer row with a slot and of every need row in the network;
    the others' are left at the sentinel ``_NONE``.

    A volunteer with slots but no kept pair is a node the flow over every pair would have,
    reached only by its unused slot arcs from the source; ``potential(source) + 0`` keeps
    the first of them (cost 0) and every later one (costs above 0) at a reduced cost >= 0.
    """
    vol_potential = np.full(slots.size, _NONE, np.int64)
    vol_potential[slots > 0] = potential[0]
    vol_potential[network.vols] = potential[2 : network.first_need]
    need_potential = np.full(n_need, _NONE, np.int64)
    need_potential[network.needs] = potential[network.first_need :]
    return vol_potential, need_potential


# No potential: no node in the network (a value no potential reaches: they are path lengths
# of at most nodes * cost scale, which ``assignment.cost_scale`` keeps below 2**63 / 16).
_NONE = np.iinfo(np.int64).min


def potentials(network: Network) -> np.ndarray:
    """Node potentials proving the network's flow optimal: shortest path lengths in its
    residual network from a virtual root joined to every node at cost 0.

    Bellman-Ford, relaxing only the arcs out of nodes whose length fell in the last round.
    Integer arithmetic, so the reduced costs are exact. A negative cycle (a flow that is
    not optimal) raises RuntimeError.
    """
    forward = network.flows < network.caps
    backward = network.flows > 0
    tail = np.concatenate([network.tails[forward], network.heads[backward]])
    head = np.concatenate([network.heads[forward], network.tails[backward]])
    cost = np.concatenate([network.costs[forward], -network.costs[backward]])
    order = np.argsort(tail, kind="stable")
    tail, head, cost = tail[order], head[order], cost[order]
    n_nodes = network.first_need + network.needs.size
    first = np.searchsorted(tail, np.arange(n_nodes + 1))
    length = np.zeros(n_nodes, np.int64)
    active = np.unique(tail[cost < 0])  # from all zeros only negative arcs lower anything
    for _ in range(n_nodes + 1):
        if not active.size:
            return length
        starts, counts = first[active], first[active + 1] - first[active]
        offsets = np.cumsum(counts) - counts
        arc = np.repeat(starts - offsets, counts) + np.arange(int(counts.sum()))
        reach = length[tail[arc]] + cost[arc]
        lower = reach < length[head[arc]]
        np.minimum.at(length, head[arc][lower], reach[lower])
        active = np.unique(head[arc][lower])
    raise RuntimeError("the flow's residual network has a negative cycle: it is not optimal")
