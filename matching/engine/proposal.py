"""Per-need ranking and the global proposal of volunteer–need pairs."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from matching.engine.assignment import solve
from matching.engine.pool import NeedTable, Pool
from matching.engine.records import Need, Volunteer, Weights
from matching.engine.scoring import Score, check_inputs, score, value


@dataclass(frozen=True, slots=True)
class Proposal:
    """A pair the global assignment chose, with its explained score."""

    need_id: int
    volunteer_id: int
    score: Score


def _check_need(need: object) -> None:
    if not isinstance(need, Need):
        raise ValueError(f"expected a Need, got {type(need).__name__}")


def rank(
    need: Need,
    volunteers: Pool | Iterable[Volunteer],
    weights: Weights,
    now: datetime,
    k: int | None = 10,
) -> list[tuple[Volunteer, Score]]:
    """The k best candidates for a need, best first (ties by volunteer id); k=None for all.

    Pass a Pool when ranking many needs against the same volunteers.
    """
    _check_need(need)
    check_inputs(weights, now)
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 0):
        raise ValueError(f"k must be a non-negative integer or None, got {k!r}")
    if isinstance(volunteers, Pool):
        best = _rank_pool(need, volunteers, weights, now, k)
    else:
        best = _rank_records(need, volunteers, weights, now, k)
    return [(v, score(v, need, weights, now)) for v in best]


def _rank_pool(need, pool: Pool, weights, now, k) -> list[Volunteer]:
    rows = pool.candidates(need, now)
    table = NeedTable([need], weights, now)
    values = pool.values(rows, table, np.zeros(rows.size, np.int64), weights)
    order = np.lexsort((pool.ids[rows], -values))[:k]
    return [pool.volunteers[i] for i in rows[order].tolist()]


def _rank_records(need, volunteers, weights, now, k) -> list[Volunteer]:
    scored = []
    for i, v in enumerate(volunteers):
        if not isinstance(v, Volunteer):
            raise ValueError(f"expected Volunteer records, got {type(v).__name__}")
        fit = value(v, need, weights, now)
        if fit is not None:
            scored.append((-fit, v.id, i, v))  # i: records themselves never get compared
    best = sorted(scored) if k is None else heapq.nsmallest(k, scored)
    return [v for *_, v in best]


def _check_needs(needs: Iterable[Need]) -> tuple[Need, ...]:
    """The needs in id order, after checking they are Needs with distinct ids."""
    needs = tuple(needs)
    seen: set[int] = set()
    for need in needs:
        _check_need(need)
        if need.id in seen:
            raise ValueError(f"need id {need.id} appears more than once")
        seen.add(need.id)
    return tuple(sorted(needs, key=lambda need: need.id))


def propose(
    volunteers: Pool | Iterable[Volunteer],
    needs: Iterable[Need],
    weights: Weights,
    now: datetime,
) -> list[Proposal]:
    """Assign volunteers to all given needs at once, optimally; sorted by need, then volunteer."""
    check_inputs(weights, now)
    pool = volunteers if isinstance(volunteers, Pool) else Pool(volunteers)
    needs = _check_needs(needs)
    table = NeedTable(needs, weights, now)
    vol_rows, need_rows = pool.pairs(needs, now)
    values = pool.values(vol_rows, table, need_rows, weights)
    chosen = solve(vol_rows, need_rows, values, pool.free, table.wanted, weights.load_penalty)
    proposals = []
    for v, n in zip(vol_rows[chosen].tolist(), need_rows[chosen].tolist(), strict=True):
        volunteer, need = pool.volunteers[v], needs[n]
        proposals.append(Proposal(need.id, volunteer.id, score(volunteer, need, weights, now)))
    proposals.sort(key=lambda p: (p.need_id, p.volunteer_id))
    return proposals
