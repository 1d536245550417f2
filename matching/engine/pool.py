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
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, cast

import numpy as np

from matching.engine.records import Need, Volunteer, Weights, check_id
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
_PHASE_INDEX = {code: i for i, code in enumerate(PHASE_CODES)}
_DISTRICT_BIT = {code: 1 << i for i, code in enumerate(DISTRICT_CODES)}
_FORMAT_BIT = {code: 1 << i for i, code in enumerate(FORMAT_CODES)}
_WHOLE_CITY = "*"
_REMOTE = tuple(code for code in FORMAT_CODES if code in REMOTE_FORMATS)
_POPCOUNT = np.array([bin(i).count("1") for i in range(1 << len(FORMAT_CODES))], np.int64)
# The format part by (volunteer's formats, need's formats): shared formats / accepted ones.
with np.errstate(divide="ignore", invalid="ignore"):  # a need accepts at least one format
    _FORMAT_SHARE = (
        _POPCOUNT[np.bitwise_and.outer(np.arange(_POPCOUNT.size), np.arange(_POPCOUNT.size))]
        / _POPCOUNT
    )
_EMPTY = np.empty(0, np.int64)
_ALL_PHASES = (1 << len(PHASE_CODES)) - 1
_PHASE_SHIFTS = np.arange(len(PHASE_CODES), dtype=np.int64)
# The key of ``Pool.available_counts`` among the pool's counts for the day.
_AVAILABLE = ("available",)
# Candidate pairs per chunk in ``Pool.pair_chunks``: a few tens of MB while they are scored.
CHUNK_PAIRS = 1 << 19


def _in_sorted(ascending: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per value, whether it is in ``ascending`` (a sorted array)."""
    if not ascending.size:
        return np.zeros(values.size, bool)
    at = np.minimum(np.searchsorted(ascending, values), ascending.size - 1)
    found: np.ndarray = ascending[at] == values
    return found


def _fits_31_bits(*arrays: np.ndarray) -> bool:
    """Whether every number in the arrays lies in [0, 2**31)."""
    return all(
        not array.size or (int(array.min()) >= 0 and int(array.max()) < 1 << 31) for array in arrays
    )


def _mask(codes: Iterable[str], bits: dict[str, int]) -> int:
    mask = 0
    for code in codes:
        mask |= bits[code]
    return mask


class NeedTable:
    """The needs' attributes as arrays, so pairs can be scored in bulk."""

    def __init__(self, needs: Sequence[Need], weights: Weights, now: datetime):
        self.phase_count = np.array([len(n.phases) for n in needs], np.int64)
        # Each need's phase columns, padded with its first (a repeat changes neither the
        # maximum nor the sum over the first phase_count): a pair's levels are a few gathers.
        widest = int(self.phase_count.max(initial=1))
        padded = np.zeros((len(needs), widest), np.int64)
        for i, need in enumerate(needs):
            columns = [_PHASE_INDEX[phase] for phase in need.phases] or [0]
            padded[i] = columns + columns[:1] * (widest - len(columns))
        self.phase_columns = list(padded.T.copy())  # j-th phase of each need, one array per j
        self.district_bit = np.array([_DISTRICT_BIT[n.district] for n in needs], np.int64)
        self.neighbour_mask = np.array(
            [_mask(NEIGHBOURS[n.district], _DISTRICT_BIT) for n in needs], np.int64
        )
        self.format_mask = np.array([_mask(n.formats, _FORMAT_BIT) for n in needs], np.int64)
        self.urgency = np.array([urgency_value(n, now, weights) for n in needs], np.float64)
        self.wanted = np.array([n.wanted for n in needs], np.int64)
        initiatives = [n.initiative_id for n in needs]
        try:
            self.initiative_ids = np.array(initiatives, np.int64)
        except OverflowError:  # any integer is an initiative id to the engine
            self.initiative_ids = np.array(initiatives, object)


# The per-row arrays of a Pool, in the order the rows are built and spliced.
_COLUMNS = (
    "ids",
    "levels",
    "known_phases",
    "district_mask",
    "format_mask",
    "whole_city",
    "active",
    "load",
    "free",
    "paused_until",
    "factors",
    "has_advised",
)
# A change touching more volunteers than this share of the pool builds a new one from scratch.
_REBUILD_SHARE = 8


def _checked(volunteers: Iterable[Volunteer]) -> tuple[Volunteer, ...]:
    """The records in id order, after checking that they are records with distinct ids."""
    vols = tuple(volunteers)
    seen: set[int] = set()
    for v in vols:
        if not isinstance(v, Volunteer):
            raise ValueError(f"expected Volunteer records, got {type(v).__name__}")
        if v.id in seen:
            raise ValueError(f"volunteer id {v.id} appears more than once")
        seen.add(v.id)
    return tuple(sorted(vols, key=lambda v: v.id))


def _columns(vols: Sequence[Volunteer]) -> dict[str, np.ndarray]:
    """One row per record, for every name in ``_COLUMNS``."""
    levels = np.array([[v.levels.get(p, 0) for p in PHASE_CODES] for v in vols], np.uint8).reshape(
        len(vols), len(PHASE_CODES)
    )
    known = (levels >= 1).astype(np.int64) << np.arange(len(PHASE_CODES))
    return {
        "ids": np.array([v.id for v in vols], np.int64),
        "levels": levels,
        "known_phases": known.sum(axis=1),
        "district_mask": np.array([_mask(v.districts, _DISTRICT_BIT) for v in vols], np.int64),
        "format_mask": np.array([_mask(v.formats, _FORMAT_BIT) for v in vols], np.int64),
        "whole_city": np.array([v.whole_city for v in vols], bool),
        "active": np.array([v.active for v in vols], np.int64),
        "load": np.array([1 / (1 + v.active) for v in vols], np.float64),  # the load part
        "free": np.array([v.free for v in vols], np.int64),
        "paused_until": np.array(
            [v.paused_until.toordinal() if v.paused_until else 0 for v in vols], np.int64
        ),
        "factors": np.array(
            [[v.phase_factors.get(p, 1.0) for p in PHASE_CODES] for v in vols], np.float64
        ).reshape(len(vols), len(PHASE_CODES)),
        "has_advised": np.array([bool(v.advised_initiatives) for v in vols], bool),
    }


def _bucket_keys(v: Volunteer) -> list[tuple[str, str]]:
    """The (language, place) buckets a volunteer is found in; none unless they can take a need."""
    if not (v.confirmed and v.approved and v.free > 0):
        return []
    places = list(v.districts)
    if v.whole_city:
        places.append(_WHOLE_CITY)
    places.extend(f for f in _REMOTE if f in v.formats)
    return [(language, place) for language in v.languages for place in places]


class Pool:
    """Volunteers indexed for candidate lookup; build once, rank and propose many times.

    Rows are in volunteer id order. A pool is never changed once built (its arrays are
    read-only): ``with_changes`` returns a new one, sharing what did not change, so a pool in
    use elsewhere stays valid.
    """

    ids: np.ndarray
    levels: np.ndarray
    known_phases: np.ndarray
    district_mask: np.ndarray
    format_mask: np.ndarray
    whole_city: np.ndarray
    active: np.ndarray
    load: np.ndarray
    free: np.ndarray
    paused_until: np.ndarray
    factors: np.ndarray
    has_advised: np.ndarray

    def __init__(self, volunteers: Iterable[Volunteer]):
        # Rows in id order: results do not depend on the order records came in.
        vols = _checked(volunteers)
        self.volunteers: tuple[Volunteer, ...] = vols
        for name, column in _columns(vols).items():
            column.flags.writeable = False  # pools made by with_changes share columns
            setattr(self, name, column)
        self._lowered = bool((self.factors < 1.0).any())
        # (volunteer id, initiative id) of every expert who advised an initiative before; few.
        self._advised = frozenset(
            (v.id, initiative) for v in vols for initiative in v.advised_initiatives
        )
        self._buckets = self._index(vols)
        # need id → ids of volunteers who declined it; initiative id → ids of its members.
        # Ids, not rows: a change that moves rows leaves these as they are.
        self._declined = self._group((n, v.id) for v in vols for n in v.excluded_needs)
        self._members = self._group((n, v.id) for v in vols for n in v.initiatives)
        # Counts for one day (pauses end by the day): Pool.knowing, Pool.available_counts.
        self._daily: tuple[int, dict[tuple[Any, ...], Any]] = (0, {})
        self._advised_packed: tuple[np.ndarray | None] | None = None

    def __len__(self) -> int:
        return len(self.volunteers)

    def volunteer(self, volunteer_id: int) -> Volunteer | None:
        """The record of one volunteer, or None if the pool holds none with that id."""
        row = int(np.searchsorted(self.ids, volunteer_id))
        if row < len(self.ids) and int(self.ids[row]) == volunteer_id:
            return self.volunteers[row]
        return None

    def with_changes(self, changed: Iterable[Volunteer], removed: Iterable[int] = ()) -> Pool:
        """A new pool in which ``changed`` records replace those with their ids (or are added)
        and the volunteers with ``removed`` ids are gone (ids not in the pool are ignored).

        Equal, array for array, to ``Pool`` built from the resulting records, at the cost of
        the changed rows: the arrays are copied with those rows replaced, added or dropped, and
        only the buckets and exclusions the old and new records name are built again. This pool
        is left as it was.
        """
        new = _checked(changed)
        gone = frozenset(check_id(i, "removed volunteer id") for i in removed)
        both = gone & {v.id for v in new}
        if both:
            raise ValueError(f"volunteer ids both changed and removed: {sorted(both)}")
        out_ids = np.array(sorted(gone | {v.id for v in new}), np.int64)
        at = np.searchsorted(self.ids, out_ids)
        found = at < len(self.ids)
        found[found] = self.ids[at[found]] == out_ids[found]
        dropped = at[found]  # rows of the records leaving or being replaced, ascending
        if len(dropped) + len(new) > max(64, len(self.volunteers) // _REBUILD_SHARE):
            keep = [v for v in self.volunteers if v.id not in gone]
            by_id = {v.id: v for v in keep}
            by_id.update((v.id, v) for v in new)
            return Pool(by_id.values())
        return self._spliced(new, dropped)

    def _spliced(self, new: tuple[Volunteer, ...], dropped: np.ndarray) -> Pool:
        n = len(self.volunteers)
        keep = np.ones(n, bool)
        keep[dropped] = False
        kept = np.flatnonzero(keep)
        new_ids = np.array([v.id for v in new], np.int64)
        at = np.searchsorted(self.ids[kept], new_ids)  # where each new record goes among kept
        added = at + np.arange(len(new))  # the new records' rows in the result
        remap = np.full(n, -1, np.int64)  # old row → new row, -1 for dropped rows
        remap[kept] = np.arange(len(kept)) + np.searchsorted(at, np.arange(len(kept)), "right")
        moved = not np.array_equal(remap[kept], kept)

        pool = object.__new__(Pool)
        columns = _columns(new)
        vols = list(self.volunteers)
        leaving = [vols[r] for r in dropped.tolist()]
        if not moved and len(dropped) == len(new):  # the same ids: rows replaced where they are
            for name in _COLUMNS:
                column = getattr(self, name)
                if not np.array_equal(column[added], columns[name]):  # else shared, as it is
                    column = column.copy()
                    column[added] = columns[name]
                    column.flags.writeable = False
                setattr(pool, name, column)
            for row, v in zip(added.tolist(), new, strict=True):
                vols[row] = v
        else:
            for name in _COLUMNS:
                column = np.insert(getattr(self, name)[kept], at, columns[name], axis=0)
                column.flags.writeable = False
                setattr(pool, name, column)
            for row in reversed(dropped.tolist()):
                del vols[row]
            for row, v in zip(added.tolist(), new, strict=True):
                vols.insert(row, v)
        pool.volunteers = tuple(vols)
        pool._lowered = bool((pool.factors < 1.0).any())

        advised_out = {(v.id, i) for v in leaving for i in v.advised_initiatives}
        advised_in = {(v.id, i) for v in new for i in v.advised_initiatives}
        pool._advised = (
            (self._advised - advised_out) | advised_in
            if advised_out or advised_in
            else self._advised
        )

        buckets = dict(self._buckets)
        touched = {key for v in leaving for key in _bucket_keys(v)}
        joining: dict[tuple[str, str], list[int]] = defaultdict(list)
        for row, v in zip(added.tolist(), new, strict=True):
            for key in _bucket_keys(v):
                joining[key].append(row)
        for key in (set(buckets) if moved else touched) | joining.keys():
            rows = remap[buckets[key]] if key in buckets else _EMPTY
            rows = rows[rows >= 0]
            if key in joining:
                rows = np.sort(np.concatenate([rows, np.array(joining[key], np.int64)]))
            if rows.size:
                buckets[key] = rows
            else:
                buckets.pop(key, None)
        pool._buckets = buckets

        out = np.array([v.id for v in leaving], np.int64)
        pool._declined = self._regrouped(
            self._declined, out, leaving, new, lambda v: v.excluded_needs
        )
        pool._members = self._regrouped(self._members, out, leaving, new, lambda v: v.initiatives)
        pool._daily = (0, {})
        pool._advised_packed = None
        return pool

    @staticmethod
    def _regrouped(
        groups: dict[int, np.ndarray],
        out: np.ndarray,
        leaving: Sequence[Volunteer],
        new: Sequence[Volunteer],
        keys_of: Callable[[Volunteer], frozenset[int]],
    ) -> dict[int, np.ndarray]:
        """``groups`` (key → ascending volunteer ids) without the leaving and with the new."""
        joining: dict[int, list[int]] = defaultdict(list)
        for v in new:
            for key in keys_of(v):
                joining[key].append(v.id)
        touched = {key for v in leaving for key in keys_of(v)} | joining.keys()
        if not touched:
            return groups
        groups = dict(groups)
        for key in touched:
            ids = groups.get(key, _EMPTY)
            if out.size:
                ids = ids[~np.isin(ids, out)]
            if key in joining:
                ids = np.sort(np.concatenate([ids, np.array(joining[key], np.int64)]))
            if ids.size:
                groups[key] = ids
            else:
                groups.pop(key, None)
        return groups

    @staticmethod
    def _index(vols: Sequence[Volunteer]) -> dict[tuple[str, str], np.ndarray]:
        buckets: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, v in enumerate(vols):
            for key in _bucket_keys(v):
                buckets[key].append(i)
        return {key: np.array(rows, np.int64) for key, rows in buckets.items()}

    @staticmethod
    def _group(pairs: Iterable[tuple[int, int]]) -> dict[int, np.ndarray]:
        groups: dict[int, list[int]] = defaultdict(list)
        for key, row in pairs:
            groups[key].append(row)
        return {key: np.array(rows, np.int64) for key, rows in groups.items()}

    def reachable(self, need: Need, now: datetime) -> np.ndarray:
        """Rows of volunteers passing every filter except the per-need exclusions."""
        return self._reachable(
            need.language, need.district, need.formats, _mask(need.phases, _PHASE_BIT), now
        )

    def _reachable(
        self, language: str, district: str, formats: frozenset[str], phases: int, now: datetime
    ) -> np.ndarray:
        keys = [(language, district), (language, _WHOLE_CITY)]
        keys += [(language, f) for f in _REMOTE if f in formats]
        found = [self._buckets[key] for key in keys if key in self._buckets]
        if not found:
            return _EMPTY
        if len(found) == 1:
            rows = found[0]  # a bucket's rows are ascending and distinct
        else:  # the union, by marking: no sort of the thousands of rows of a busy district
            marked = np.zeros(len(self.volunteers), bool)
            for bucket in found:
                marked[bucket] = True
            rows = np.flatnonzero(marked)
        keep: np.ndarray = (self.known_phases[rows] & phases) != 0
        keep &= self.paused_until[rows] <= now.toordinal()
        reached: np.ndarray = rows[keep]
        return reached

    def _without_excluded(self, rows: np.ndarray, need: Need) -> np.ndarray:
        """The rows minus volunteers who declined the need or belong to its initiative."""
        for excluded in (self._declined.get(need.id), self._members.get(need.initiative_id)):
            if excluded is not None and rows.size:
                rows = rows[~np.isin(self.ids[rows], excluded)]
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

        A volunteer reaches a need by knowing one of its phases, so a need is covered exactly
        when one of its phases alone is. Needs alike in language, place and remote formats share
        one lookup of the volunteers there, and the phases anyone there knows are one OR over
        their phase bits; only a need with exclusions that could leave nobody in one of its
        phases (no more know it there than are excluded) looks at its own volunteers again.
        The counts per place are kept with the pool for the day (the pool never changes).
        """
        found = []
        for need in needs:
            knowing = self.knowing(need.language, need.district, need.formats, now)
            at = [_PHASE_INDEX[phase] for phase in need.phases]
            excluded = self.excluded_count(need.id, need.initiative_id)
            if excluded and excluded >= min((int(knowing[i]) for i in at), default=0):
                # So few know a phase here that the excluded people may be all who do: take
                # away what those among the place's rows know.
                rows = self._reachable(need.language, need.district, need.formats, _ALL_PHASES, now)
                knowing = knowing - self._phase_counts(self._excluded_rows(rows, need))
            each = tuple(bool(knowing[i]) for i in at)
            found.append((any(each), each))
        return found

    def knowing(
        self, language: str, district: str, formats: frozenset[str], now: datetime
    ) -> np.ndarray:
        """How many volunteers know each phase (``PHASE_CODES`` order) among those passing the
        hard filters of place, language and formats for a need there, per-need exclusions
        aside. Kept with the pool for the day (the pool never changes; pauses end by the day).
        """
        key = (language, district, formats & REMOTE_FORMATS)
        known: np.ndarray | None = self._today(now).get(key)
        if known is None:
            rows = self._reachable(language, district, formats, _ALL_PHASES, now)
            known = self._daily[1][key] = self._phase_counts(rows)
            known.flags.writeable = False
        return known

    def _phase_bits(self, rows: np.ndarray) -> np.ndarray:
        """Per row, 1 for each phase (``PHASE_CODES`` order) the volunteer knows, else 0."""
        bits: np.ndarray = (self.known_phases[rows, None] >> _PHASE_SHIFTS) & 1
        return bits

    def _phase_counts(self, rows: np.ndarray) -> np.ndarray:
        """How many of the rows' volunteers know each phase (``PHASE_CODES`` order)."""
        counts: np.ndarray = self._phase_bits(rows).sum(axis=0)
        return counts

    def _today(self, now: datetime) -> dict[tuple[Any, ...], Any]:
        """The counts kept for the day of ``now`` (a new day starts with none)."""
        day = now.toordinal()
        if self._daily[0] != day:
            self._daily = (day, {})
        return self._daily[1]

    def knowers(self, phase: str) -> list[Volunteer]:
        """The volunteers who know the phase (a level of at least 1), in id order."""
        rows = np.flatnonzero(self.known_phases & _PHASE_BIT[phase])
        return [self.volunteers[row] for row in rows.tolist()]

    def excluded_count(self, need_id: int, initiative_id: int) -> int:
        """How many in the pool declined the need or belong to its initiative (at most; one
        person may be both)."""
        return self.excluded_counts([(need_id, initiative_id)])[0]

    def excluded_counts(self, needs: Iterable[tuple[int, int]]) -> list[int]:
        """``excluded_count`` of each (need id, initiative id)."""
        declined, members = self._declined, self._members
        return [
            (declined[n].size if n in declined else 0) + (members[i].size if i in members else 0)
            for n, i in needs
        ]

    def available_counts(self, now: datetime) -> tuple[np.ndarray, np.ndarray]:
        """How many volunteers could take on a need now, by what they know and where.

        Counted are the confirmed, approved volunteers with a free place who are not paused
        today, as the hard filters read them (language and format aside). The first array is
        districts × phases (``DISTRICT_CODES`` × ``PHASE_CODES`` order) of those serving their
        districts, the second per phase those serving the whole city (they count once for
        every district, whatever districts they list as well). Kept with the pool for the day.
        """
        kept: tuple[np.ndarray, np.ndarray] | None = self._today(now).get(_AVAILABLE)
        if kept is not None:
            return kept
        ready = np.fromiter(
            (v.confirmed and v.approved for v in self.volunteers), bool, len(self.volunteers)
        )
        ready &= (self.free > 0) & (self.paused_until <= now.toordinal())
        knows = self._phase_bits(ready)
        city = self.whole_city[ready]
        district_bits = np.arange(len(DISTRICT_CODES), dtype=np.int64)
        serves = ((self.district_mask[ready][~city, None] >> district_bits) & 1).astype(np.float32)
        # Summed in float32 (exact up to 2**24 people) without BLAS, whose threads would spin
        # in every web worker; integers would take a slow generic loop.
        local = np.einsum("vd,vp->dp", serves, knows[~city].astype(np.float32))
        citywide: np.ndarray = knows[city].sum(axis=0)
        counts = local.astype(np.int64), citywide
        for array in counts:
            array.flags.writeable = False
        self._daily[1][_AVAILABLE] = counts
        return counts

    def _excluded_rows(self, rows: np.ndarray, need: Need) -> np.ndarray:
        """Those of ``rows`` (ascending) whose volunteers are excluded from the need."""
        if not rows.size:
            return _EMPTY
        ids = [self._declined.get(need.id, _EMPTY), self._members.get(need.initiative_id, _EMPTY)]
        excluded = np.unique(np.concatenate(ids))
        at = np.searchsorted(self.ids, excluded[_in_sorted(self.ids, excluded)])  # id order
        inside: np.ndarray = at[_in_sorted(rows, at)]
        return inside

    def values(
        self, rows: np.ndarray, table: NeedTable, need_rows: np.ndarray, weights: Weights
    ) -> np.ndarray:
        """Score values of the pairs (rows[i], need_rows[i]); equal to ``score(...).value``."""
        count = table.phase_count[need_rows]
        columns = [column[need_rows] for column in table.phase_columns]
        best = total = self.levels[rows, columns[0]].astype(np.int64)
        for j, column in enumerate(columns[1:], start=1):
            level = self.levels[rows, column].astype(np.int64)
            best = np.maximum(best, level)
            total = total + np.where(count > j, level, 0)
        phase = (best * count + total) / (6 * count)
        if self._lowered:  # the lowest factor among the need's phases, as Volunteer.phase_factor
            factor = self.factors[rows, columns[0]]
            for column in columns[1:]:
                factor = np.minimum(factor, self.factors[rows, column])
            phase = phase * factor
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
        fmt = _FORMAT_SHARE[self.format_mask[rows], table.format_mask[need_rows]]
        load = self.load[rows]
        urgency = table.urgency[need_rows]
        combined = combine(
            weights.normalised(),
            (phase, place, fmt, load, urgency),
            self._continuity(rows, table, need_rows, weights),
        )
        return cast(np.ndarray, combined)

    def _advised_codes(self) -> np.ndarray | None:
        """The (volunteer id, initiative id) pairs of ``_advised`` packed as ``id << 31 |
        initiative``, sorted; None when some id does not fit 31 bits. Made once per pool."""
        if self._advised_packed is None:
            pairs = np.array(sorted(self._advised), object).reshape(-1, 2)
            if _fits_31_bits(pairs, self.ids):
                packed = pairs.astype(np.int64)
                self._advised_packed = (np.sort((packed[:, 0] << 31) | packed[:, 1]),)
            else:
                self._advised_packed = (None,)
        return self._advised_packed[0]

    def _continuity(
        self, rows: np.ndarray, table: NeedTable, need_rows: np.ndarray, weights: Weights
    ) -> np.ndarray | float:
        """The continuity bonus per pair (as ``continuity_bonus``), or 0.0 when nobody has one."""
        if not self._advised:
            return 0.0
        advised = np.zeros(rows.size, np.float64)
        some = np.flatnonzero(self.has_advised[rows])
        initiatives = table.initiative_ids[need_rows[some]]
        known = self._advised_codes()
        if known is not None and _fits_31_bits(initiatives):
            # (volunteer id, initiative id) as one number: all pairs looked up at once
            codes = (self.ids[rows[some]] << 31) | initiatives.astype(np.int64)
            advised[some[_in_sorted(known, codes)]] = 1.0
        else:  # ids too large (or negative) to pack: one pair at a time
            for k, initiative in zip(some.tolist(), initiatives.tolist(), strict=True):
                if (int(self.ids[rows[k]]), int(initiative)) in self._advised:
                    advised[k] = 1.0
        return weights.continuity * advised
