"""An index of volunteers for finding and scoring candidates without a double loop.

Volunteers who pass the filters that do not depend on the need (confirmed,
approved, free capacity) are bucketed by language and district, language and
"whole city", and language and remote format. A need's candidates are the union
of at most four buckets, narrowed with numpy by phase knowledge, pause and the
sparse per-need exclusions; their scores are computed for all pairs at once,
with the same arithmetic as ``score`` so both agree exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

import numpy as np

from matching.engine.records import Need, Volunteer, Weights
from matching.engine.scoring import PLACE_VALUES, combine, urgency_value
from matching.reference import (
    DISTRICT_CODES,
    FORMAT_CODES,
    NEIGHBOURS,
    PHASE_CODES,
    REMOTE_FORMATS,
)

# Districts, phases and formats are sets of bits in an int64.
if max(len(DISTRICT_CODES), len(PHASE_CODES), len(FORMAT_CODES)) > 62:
    raise RuntimeError("the engine's Pool handles at most 62 districts, phases or formats")

_PHASE_BIT = {code: 1 << i for i, code in enumerate(PHASE_CODES)}
_DISTRICT_BIT = {code: 1 << i for i, code in enumerate(DISTRICT_CODES)}
_FORMAT_BIT = {code: 1 << i for i, code in enumerate(FORMAT_CODES)}
_WHOLE_CITY = "*"
_REMOTE = tuple(code for code in FORMAT_CODES if code in REMOTE_FORMATS)
_POPCOUNT = np.array([bin(i).count("1") for i in range(1 << len(FORMAT_CODES))], np.int64)
_EMPTY = np.empty(0, np.int64)
# Candidate pairs per chunk in ``Pool.pair_chunks``: a few tens of MB while they are scored.
CHUNK_PAIRS = 1 << 19


def _mask(codes: Iterable[str], bits: dict[str, int]) -> int:
    mask = 0
    for code in codes:
        mask |= bits[code]
    return mask


class NeedTable:
    """The needs' attributes as arrays, so pairs can be scored in bulk."""

    def __init__(self, needs: Sequence[Need], weights: Weights, now: datetime):
        self.phase_mask = np.array([_mask(n.phases, _PHASE_BIT) for n in needs], np.int64)
        bits = 1 << np.arange(len(PHASE_CODES), dtype=np.int64)
        self.phase_rows = ((self.phase_mask[:, None] & bits) != 0).astype(np.uint8)
        self.phase_count = np.array([len(n.phases) for n in needs], np.int64)
        self.district_bit = np.array([_DISTRICT_BIT[n.district] for n in needs], np.int64)
        self.neighbour_mask = np.array(
            [_mask(NEIGHBOURS[n.district], _DISTRICT_BIT) for n in needs], np.int64
        )
        self.format_mask = np.array([_mask(n.formats, _FORMAT_BIT) for n in needs], np.int64)
        self.format_count = np.array([len(n.formats) for n in needs], np.int64)
        self.urgency = np.array([urgency_value(n, now, weights) for n in needs], np.float64)
        self.wanted = np.array([n.wanted for n in needs], np.int64)
        self.initiatives = [n.initiative_id for n in needs]


class Pool:
    """Volunteers indexed for candidate lookup; build once, rank and propose many times."""

    def __init__(self, volunteers: Iterable[Volunteer]):
        vols = tuple(volunteers)
        seen: set[int] = set()
        for v in vols:
            if not isinstance(v, Volunteer):
                raise ValueError(f"expected Volunteer records, got {type(v).__name__}")
            if v.id in seen:
                raise ValueError(f"volunteer id {v.id} appears more than once")
            seen.add(v.id)
        # Rows in id order: results do not depend on the order records came in.
        vols = tuple(sorted(vols, key=lambda v: v.id))
        self.volunteers: tuple[Volunteer, ...] = vols
        self.ids = np.array([v.id for v in vols], np.int64)
        self.levels = np.array(
            [[v.levels.get(p, 0) for p in PHASE_CODES] for v in vols], np.uint8
        ).reshape(len(vols), len(PHASE_CODES))
        known = (self.levels >= 1).astype(np.int64) << np.arange(len(PHASE_CODES))
        self.known_phases = known.sum(axis=1)
        self.district_mask = np.array([_mask(v.districts, _DISTRICT_BIT) for v in vols], np.int64)
        self.format_mask = np.array([_mask(v.formats, _FORMAT_BIT) for v in vols], np.int64)
        self.whole_city = np.array([v.whole_city for v in vols], bool)
        self.active = np.array([v.active for v in vols], np.int64)
        self.free = np.array([v.free for v in vols], np.int64)
        self.paused_until = np.array(
            [v.paused_until.toordinal() if v.paused_until else 0 for v in vols], np.int64
        )
        self.factors = np.array(
            [[v.phase_factors.get(p, 1.0) for p in PHASE_CODES] for v in vols], np.float64
        ).reshape(len(vols), len(PHASE_CODES))
        self._lowered = bool((self.factors < 1.0).any())
        # (row, initiative id) of every expert who advised an initiative before; few.
        self._advised = frozenset(
            (i, initiative) for i, v in enumerate(vols) for initiative in v.advised_initiatives
        )
        self.has_advised = np.array([bool(v.advised_initiatives) for v in vols], bool)
        self._buckets = self._index(vols)
        self._declined = self._group((n, i) for i, v in enumerate(vols) for n in v.excluded_needs)
        self._members = self._group((n, i) for i, v in enumerate(vols) for n in v.initiatives)

    def __len__(self) -> int:
        return len(self.volunteers)

    @staticmethod
    def _index(vols: Sequence[Volunteer]) -> dict[tuple[str, str], np.ndarray]:
        buckets: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, v in enumerate(vols):
            if not (v.confirmed and v.approved and v.free > 0):
                continue
            places = list(v.districts)
            if v.whole_city:
                places.append(_WHOLE_CITY)
            places.extend(f for f in _REMOTE if f in v.formats)
            for language in v.languages:
                for place in places:
                    buckets[language, place].append(i)
        return {key: np.array(rows, np.int64) for key, rows in buckets.items()}

    @staticmethod
    def _group(pairs: Iterable[tuple[int, int]]) -> dict[int, np.ndarray]:
        groups: dict[int, list[int]] = defaultdict(list)
        for key, row in pairs:
            groups[key].append(row)
        return {key: np.array(rows, np.int64) for key, rows in groups.items()}

    def reachable(self, need: Need, now: datetime) -> np.ndarray:
        """Rows of volunteers passing every filter except the per-need exclusions."""
        keys = [(need.language, need.district), (need.language, _WHOLE_CITY)]
        keys += [(need.language, f) for f in _REMOTE if f in need.formats]
        found = [self._buckets[key] for key in keys if key in self._buckets]
        if not found:
            return _EMPTY
        rows = np.unique(np.concatenate(found))
        keep: np.ndarray = (self.known_phases[rows] & _mask(need.phases, _PHASE_BIT)) != 0
        keep &= self.paused_until[rows] <= now.toordinal()
        reached: np.ndarray = rows[keep]
        return reached

    def _without_excluded(self, rows: np.ndarray, need: Need) -> np.ndarray:
        """The rows minus volunteers who declined the need or belong to its initiative."""
        for excluded in (self._declined.get(need.id), self._members.get(need.initiative_id)):
            if excluded is not None:
                rows = rows[~np.isin(rows, excluded)]
        return rows

    def candidates(self, need: Need, now: datetime) -> np.ndarray:
        """Rows of all volunteers that pass every hard filter for the need, ascending."""
        return self._without_excluded(self.reachable(need, now), need)

    def pairs(self, needs: Sequence[Need], now: datetime) -> tuple[np.ndarray, np.ndarray]:
        """All candidate pairs as (volunteer rows, need rows), grouped by need."""
        cache: dict[tuple[Any, ...], np.ndarray] = {}
        vol_rows, need_rows = [], []
        for j, need in enumerate(needs):
            # Needs alike in language, place, formats and phases share their candidates.
            key = (need.language, need.district, need.formats & REMOTE_FORMATS, need.phases)
            rows = cache.get(key)
            if rows is None:
                rows = cache[key] = self.reachable(need, now)
            rows = self._without_excluded(rows, need)
            vol_rows.append(rows)
            need_rows.append(np.full(rows.size, j, np.int64))
        if not vol_rows:
            return _EMPTY, _EMPTY
        return np.concatenate(vol_rows), np.concatenate(need_rows)

    def pair_chunks(
        self,
        needs: Sequence[Need],
        now: datetime,
        only: np.ndarray | None = None,
        size: int = CHUNK_PAIRS,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``pairs`` a chunk of about ``size`` pairs at a time, for all needs or the need rows
        ``only``; each need's pairs come together, in one chunk, needs alike one after another
        (they share one lookup), so memory stays flat however many pairs there are.
        """
        alike: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        for j in range(len(needs)) if only is None else only.tolist():
            need = needs[j]
            alike[need.language, need.district, need.formats & REMOTE_FORMATS, need.phases].append(
                j
            )
        vol_rows: list[np.ndarray] = []
        need_rows: list[np.ndarray] = []
        count = 0
        for rows_of_needs in alike.values():
            reached = self.reachable(needs[rows_of_needs[0]], now)
            for j in rows_of_needs:
                rows = self._without_excluded(reached, needs[j])
                if not rows.size:
                    continue
                vol_rows.append(rows)
                need_rows.append(np.full(rows.size, j, np.int64))
                count += rows.size
                if count >= size:
                    yield np.concatenate(vol_rows), np.concatenate(need_rows)
                    vol_rows, need_rows, count = [], [], 0
        if vol_rows:
            yield np.concatenate(vol_rows), np.concatenate(need_rows)

    def covered(self, needs: Sequence[Need], now: datetime) -> list[tuple[bool, tuple[bool, ...]]]:
        """For each need: whether anyone passes every hard filter for it, and the same for
        each of its phases asked for alone (in the need's phase order).

        Needs alike in language, place, remote formats and phases share one lookup, so
        thousands of needs cost a few hundred lookups and a check of their exclusions.
        """
        cache: dict[tuple[Any, ...], np.ndarray] = {}

        def reachable(need: Need, phases: tuple[str, ...]) -> np.ndarray:
            key = (need.language, need.district, need.formats & REMOTE_FORMATS, phases)
            rows = cache.get(key)
            if rows is None:
                alike = need if phases == need.phases else replace(need, phases=phases)
                rows = cache[key] = self.reachable(alike, now)
            return rows

        found = []
        for need in needs:
            excluded = need.id in self._declined or need.initiative_id in self._members

            def anyone(rows: np.ndarray, need: Need = need, excluded: bool = excluded) -> bool:
                if excluded and rows.size:
                    rows = self._without_excluded(rows, need)
                return bool(rows.size)

            found.append(
                (
                    anyone(reachable(need, need.phases)),
                    tuple(anyone(reachable(need, (phase,))) for phase in need.phases),
                )
            )
        return found

    def values(
        self, rows: np.ndarray, table: NeedTable, need_rows: np.ndarray, weights: Weights
    ) -> np.ndarray:
        """Score values of the pairs (rows[i], need_rows[i]); equal to ``score(...).value``."""
        levels = (self.levels[rows] * table.phase_rows[need_rows]).astype(np.int64)
        count = table.phase_count[need_rows]
        phase = (levels.max(axis=1) * count + levels.sum(axis=1)) / (6 * count)
        if self._lowered:  # the lowest factor among the need's phases, as Volunteer.phase_factor
            factors = np.where(table.phase_rows[need_rows] != 0, self.factors[rows], 1.0)
            phase = phase * factors.min(axis=1)
        districts = self.district_mask[rows]
        place = np.select(
            [
                (districts & table.district_bit[need_rows]) != 0,
                (districts & table.neighbour_mask[need_rows]) != 0,
                self.whole_city[rows],
            ],
            [PLACE_VALUES["district"], PLACE_VALUES["neighbour"], PLACE_VALUES["city"]],
            PLACE_VALUES["remote"],
        )
        shared = _POPCOUNT[self.format_mask[rows] & table.format_mask[need_rows]]
        fmt = shared / table.format_count[need_rows]
        load = 1 / (1 + self.active[rows])
        urgency = table.urgency[need_rows]
        combined = combine(
            weights.normalised(),
            (phase, place, fmt, load, urgency),
            self._continuity(rows, table, need_rows, weights),
        )
        return cast(np.ndarray, combined)

    def _continuity(
        self, rows: np.ndarray, table: NeedTable, need_rows: np.ndarray, weights: Weights
    ) -> np.ndarray | float:
        """The continuity bonus per pair (as ``continuity_bonus``), or 0.0 when nobody has one."""
        if not self._advised:
            return 0.0
        advised = np.zeros(rows.size, np.float64)
        for k in np.flatnonzero(self.has_advised[rows]).tolist():
            if (int(rows[k]), table.initiatives[int(need_rows[k])]) in self._advised:
                advised[k] = 1.0
        return weights.continuity * advised
