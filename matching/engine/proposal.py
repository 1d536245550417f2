"""Per-need ranking and the global proposal of volunteer–need pairs."""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from matching.engine.pool import NeedTable, Pool
from matching.engine.pricing import MARGIN, PRUNE_ABOVE, Chunk, Pricing, assign_chunks
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
    return [(v, _known_score(v, need, weights, now)) for v in best]


def rank_each(
    pool: Pool, needs: Iterable[Need], weights: Weights, now: datetime, k: int = 3
) -> dict[int, list[tuple[Volunteer, float]]]:
    """For each need, its k best candidates with their score values, best first (ties by
    volunteer id), all needs scored in one pass.

    The order and values are ``rank``'s for each need alone; the explanations are left out,
    for lists that show who fits and how well (a proposal's other candidates).
    """
    check_inputs(weights, now)
    if not isinstance(k, int) or isinstance(k, bool) or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    needs = _check_needs(needs)
    best: dict[int, list[tuple[Volunteer, float]]] = {need.id: [] for need in needs}
    vol_rows, need_rows = pool.pairs(needs, now)
    if not vol_rows.size or not k:
        return best
    values = pool.values(vol_rows, NeedTable(needs, weights, now), need_rows, weights)
    order = np.lexsort((pool.ids[vol_rows], -values, need_rows))
    need_rows = need_rows[order]
    starts = np.flatnonzero(np.r_[True, need_rows[1:] != need_rows[:-1]])
    for start in starts.tolist():
        group = order[start : start + k]
        group = group[need_rows[start : start + k] == need_rows[start]]
        best[needs[int(need_rows[start])].id] = [
            (pool.volunteers[int(vol_rows[i])], float(values[i])) for i in group.tolist()
        ]
    return best


def _known_score(volunteer: Volunteer, need: Need, weights: Weights, now: datetime) -> Score:
    """The score of a pair that passed the hard filters, so it has one."""
    found = score(volunteer, need, weights, now)
    if found is None:  # the candidate filters and the scoring disagree: a bug
        raise RuntimeError(f"volunteer {volunteer.id} is no candidate for need {need.id}")
    return found


def _rank_pool(
    need: Need, pool: Pool, weights: Weights, now: datetime, k: int | None
) -> list[Volunteer]:
    rows = pool.candidates(need, now)
    table = NeedTable([need], weights, now)
    values = pool.values(rows, table, np.zeros(rows.size, np.int64), weights)
    order = np.lexsort((pool.ids[rows], -values))[:k]
    return [pool.volunteers[i] for i in rows[order].tolist()]


def _rank_records(
    need: Need, volunteers: Iterable[object], weights: Weights, now: datetime, k: int | None
) -> list[Volunteer]:
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


@dataclass(frozen=True)
class Plan:
    """A global proposal, the needs nobody passes the hard filters for (ids, ascending),
    and what solving it took."""

    proposals: list[Proposal]
    without_candidate: list[int]
    pricing: Pricing | None = None


def propose(
    volunteers: Pool | Iterable[Volunteer],
    needs: Iterable[Need],
    weights: Weights,
    now: datetime,
) -> list[Proposal]:
    """Assign volunteers to all given needs at once, optimally; sorted by need, then volunteer."""
    return plan(volunteers, needs, weights, now).proposals


def plan(
    volunteers: Pool | Iterable[Volunteer],
    needs: Iterable[Need],
    weights: Weights,
    now: datetime,
    *,
    prune_above: int = PRUNE_ABOVE,
    margin: int = MARGIN,
) -> Plan:
    """``propose``, and from the same candidate pairs the needs that have no candidate at all.

    The pairs are generated and scored a chunk at a time; beyond ``prune_above`` of them
    the assignment keeps each need's and each volunteer's best (``margin`` more than they
    can take) and proves the result optimal for all pairs (``matching.engine.pricing``).
    """
    check_inputs(weights, now)
    pool = volunteers if isinstance(volunteers, Pool) else Pool(volunteers)
    needs = _check_needs(needs)
    table = NeedTable(needs, weights, now)
    reached = np.zeros(len(needs), bool)

    def edges(only: np.ndarray | None) -> Iterator[Chunk]:
        for vol_rows, need_rows in pool.pair_chunks(needs, now, only):
            reached[need_rows] = True
            yield vol_rows, need_rows, pool.values(vol_rows, table, need_rows, weights)

    vol_rows, need_rows, pricing = assign_chunks(
        edges,
        pool.free,
        table.wanted,
        weights.load_penalty,
        prune_above=prune_above,
        margin=margin,
    )
    without = [needs[j].id for j in np.flatnonzero(~reached).tolist()]
    proposals = []
    for v, n in zip(vol_rows.tolist(), need_rows.tolist(), strict=True):
        volunteer, need = pool.volunteers[v], needs[n]
        proposals.append(
            Proposal(need.id, volunteer.id, _known_score(volunteer, need, weights, now))
        )
    proposals.sort(key=lambda p: (p.need_id, p.volunteer_id))
    return Plan(proposals, without, pricing)


# Needs scored per round in ``rank_needs``; bounds the memory of the pair arrays.
_NEEDS_PER_ROUND = 64
_EMPTY_INT = np.empty(0, np.int64)


def rank_needs(
    pool: Pool,
    needs: Iterable[Need],
    weights: Weights,
    now: datetime,
    k: int = 5,
    skip: Mapping[int, Collection[int]] | None = None,
) -> dict[int, list[tuple[Need, Score]]]:
    """For every volunteer in the pool, the k needs that fit them best, best first.

    Ties go to the lower need id; ``skip`` maps a volunteer id to need ids left
    out for them (e.g. needs already shown). Volunteers with no candidate need
    are missing from the result. The needs are scored a round at a time, keeping
    each volunteer's k best so far, so memory stays flat however many needs.
    """
    check_inputs(weights, now)
    if not isinstance(k, int) or isinstance(k, bool) or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    needs = _check_needs(needs)
    if not needs or not len(pool) or k == 0:
        return {}
    skipped = _skip_codes(pool, needs, skip or {})
    best_vol, best_need, best_value = _EMPTY_INT, _EMPTY_INT, np.empty(0, np.float64)
    for start in range(0, len(needs), _NEEDS_PER_ROUND):
        part = needs[start : start + _NEEDS_PER_ROUND]
        vol_rows, need_rows = pool.pairs(part, now)
        need_rows = need_rows + start
        if skipped.size:
            keep = ~np.isin(vol_rows * len(needs) + need_rows, skipped)
            vol_rows, need_rows = vol_rows[keep], need_rows[keep]
        values = pool.values(vol_rows, NeedTable(part, weights, now), need_rows - start, weights)
        best_vol, best_need, best_value = _top_per_volunteer(
            np.concatenate((best_vol, vol_rows)),
            np.concatenate((best_need, need_rows)),
            np.concatenate((best_value, values)),
            k,
        )
    result: dict[int, list[tuple[Need, Score]]] = {}
    for v, n in zip(best_vol.tolist(), best_need.tolist(), strict=True):
        volunteer, need = pool.volunteers[v], needs[n]
        result.setdefault(volunteer.id, []).append(
            (need, _known_score(volunteer, need, weights, now))
        )
    return result


def _skip_codes(
    pool: Pool, needs: tuple[Need, ...], skip: Mapping[int, Collection[int]]
) -> np.ndarray:
    """The skipped pairs as sorted codes ``volunteer row * len(needs) + need row``."""
    row_of_volunteer = {vid: i for i, vid in enumerate(pool.ids.tolist())}
    row_of_need = {need.id: j for j, need in enumerate(needs)}
    codes = [
        row_of_volunteer[vid] * len(needs) + row_of_need[nid]
        for vid, need_ids in skip.items()
        if vid in row_of_volunteer
        for nid in need_ids
        if nid in row_of_need
    ]
    return np.unique(np.array(codes, np.int64))


def _top_per_volunteer(
    vol_rows: np.ndarray, need_rows: np.ndarray, values: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k best pairs of each volunteer, grouped by volunteer, best first, ties by need."""
    order = np.lexsort((need_rows, -values, vol_rows))
    vol_sorted = vol_rows[order]
    starts = np.flatnonzero(np.r_[True, vol_sorted[1:] != vol_sorted[:-1]])
    sizes = np.diff(np.r_[starts, vol_sorted.size])
    position = np.arange(vol_sorted.size) - np.repeat(starts, sizes)
    chosen = order[position < k]
    return vol_rows[chosen], need_rows[chosen], values[chosen]
