"""The plain records the engine works on: volunteers, needs and the score weights.

They are built by the caller from whatever storage it uses; each checks its own
fields on construction, so the engine can trust them and bad data fails loudly
with a ValueError at the place where it was made.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, TypeGuard, cast

from matching.reference import (
    DISTRICT_CODES,
    FORMAT_CODES,
    LANGUAGE_CODES,
    MAX_LEVEL,
    MIN_LEVEL,
    PHASE_CODES,
    URGENCY_CODES,
)

# Ids end up in 64-bit arrays for ranking and assignment.
_ID_MIN, _ID_MAX = -(2**63), 2**63 - 1

PART_NAMES: tuple[str, ...] = ("phase", "place", "format", "load", "urgency")


def is_int(value: object) -> TypeGuard[int]:
    """Tell whether a value is an integer in the strict sense (bool does not count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_id(value: object, what: str) -> int:
    """Return a record id after checking it is a 64-bit integer."""
    if not is_int(value) or not _ID_MIN <= value <= _ID_MAX:
        raise ValueError(f"{what} must be a 64-bit integer, got {value!r}")
    return value


def _count(value: object, what: str) -> int:
    if not is_int(value) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return value


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be True or False, got {value!r}")
    return value


def _codes(values: object, allowed: tuple[str, ...], what: str) -> frozenset[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValueError(f"{what} must be a set of codes, got {values!r}")
    codes = frozenset(values)
    unknown = sorted(str(code) for code in codes - frozenset(allowed))
    if unknown:
        raise ValueError(f"unknown {what}: {', '.join(unknown)}")
    return codes


def _ids(values: object, what: str) -> frozenset[int]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValueError(f"{what} must be a set of ids, got {values!r}")
    ids = frozenset(values)
    for value in ids:
        if not is_int(value):
            raise ValueError(f"{what} must contain integer ids, got {value!r}")
    return ids


def _code(value: object, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {what}: {value!r}")
    return value


def _levels(values: object, who: str) -> Mapping[str, int]:
    if not isinstance(values, Mapping):
        raise ValueError(f"{who}: levels must map phase codes to levels, got {values!r}")
    for phase, level in values.items():
        _code(phase, PHASE_CODES, f"phase in {who} levels")
        if not is_int(level) or not MIN_LEVEL <= level <= MAX_LEVEL:
            raise ValueError(
                f"{who}: level for {phase} must be {MIN_LEVEL}..{MAX_LEVEL}, got {level!r}"
            )
    return MappingProxyType(dict(values))


def _factors(values: object, who: str) -> Mapping[str, float]:
    if not isinstance(values, Mapping):
        raise ValueError(f"{who}: phase_factors must map phase codes to factors, got {values!r}")
    for phase, factor in values.items():
        _code(phase, PHASE_CODES, f"phase in {who} phase_factors")
        if (
            not isinstance(factor, int | float)
            or isinstance(factor, bool)
            or not math.isfinite(factor)
            or not 0 < factor <= 1
        ):
            raise ValueError(f"{who}: factor for {phase} must be in (0, 1], got {factor!r}")
    return MappingProxyType({phase: float(factor) for phase, factor in values.items()})


@dataclass(frozen=True, slots=True, kw_only=True)
class Volunteer:
    """A networking expert as the engine sees them.

    ``paused_until`` is the day they are available again (paused while today is
    earlier). ``active`` counts their current engagements; ``excluded_needs``
    holds needs they declined or a coordinator rejected them for;
    ``initiatives`` the initiatives they belong to. Unset flags fail closed:
    a volunteer is only a candidate once ``confirmed`` and ``approved`` are set.
    ``phase_factors`` lowers the weight of phases they said do not fit them
    (a factor in (0, 1]; missing phases count fully); ``advised_initiatives`` are
    initiatives they advised before, which earns the continuity bonus.
    """

    id: int
    confirmed: bool = False
    approved: bool = False
    paused_until: date | None = None
    capacity: int = 2
    active: int = 0
    languages: frozenset[str] = frozenset({"de"})
    districts: frozenset[str] = frozenset()
    whole_city: bool = False
    formats: frozenset[str] = frozenset({"in_person"})
    levels: Mapping[str, int] = field(default_factory=dict, hash=False)
    excluded_needs: frozenset[int] = frozenset()
    initiatives: frozenset[int] = frozenset()
    first_name: str = ""
    phase_factors: Mapping[str, float] = field(default_factory=dict, hash=False)
    advised_initiatives: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if not _plainly_valid(self):  # the checks below, with a message for what is wrong
            self._check_and_normalise()

    def _check_and_normalise(self) -> None:
        check_id(self.id, "volunteer id")
        who = f"volunteer {self.id}"
        _flag(self.confirmed, f"{who}: confirmed")
        _flag(self.approved, f"{who}: approved")
        _flag(self.whole_city, f"{who}: whole_city")
        _count(self.capacity, f"{who}: capacity")
        _count(self.active, f"{who}: active")
        paused = self.paused_until
        if isinstance(paused, datetime):
            paused = paused.date()
        elif paused is not None and not isinstance(paused, date):
            raise ValueError(f"{who}: paused_until must be a date or None, got {paused!r}")
        if not isinstance(self.first_name, str):
            raise ValueError(f"{who}: first_name must be a string")
        set_ = object.__setattr__  # frozen: normalise inputs once, here
        set_(self, "paused_until", paused)
        set_(self, "languages", _codes(self.languages, LANGUAGE_CODES, f"language of {who}"))
        set_(self, "districts", _codes(self.districts, DISTRICT_CODES, f"district of {who}"))
        set_(self, "formats", _codes(self.formats, FORMAT_CODES, f"format of {who}"))
        set_(self, "levels", _levels(self.levels, who))
        set_(self, "excluded_needs", _ids(self.excluded_needs, f"{who}: excluded_needs"))
        set_(self, "initiatives", _ids(self.initiatives, f"{who}: initiatives"))
        set_(self, "phase_factors", _factors(self.phase_factors, who))
        set_(
            self,
            "advised_initiatives",
            _ids(self.advised_initiatives, f"{who}: advised_initiatives"),
        )

    def phase_factor(self, phases: Iterable[str]) -> float:
        """The lowest factor among the given phases (1.0 when none is lowered)."""
        return min((self.phase_factors.get(phase, 1.0) for phase in phases), default=1.0)

    @property
    def free(self) -> int:
        """Engagements this volunteer can still take on."""
        return max(0, self.capacity - self.active)


_LANGUAGES, _DISTRICTS, _FORMATS = map(frozenset, (LANGUAGE_CODES, DISTRICT_CODES, FORMAT_CODES))
_PHASES = frozenset(PHASE_CODES)


def _plain_ids(values: object) -> bool:
    return type(values) is frozenset and all(type(v) is int for v in values)


def _plainly_valid(v: Volunteer) -> bool:
    """The common case, checked without building a message per field: every field already of
    its plain type and valid. Then only the mappings are frozen; anything else (another
    iterable, a datetime for a date, a bad value) goes through the full checks.

    Loading 50,000 volunteers spent more time formatting the messages of checks that passed
    than doing anything else.
    """
    set_ = object.__setattr__
    if not (
        type(v.id) is int
        and _ID_MIN <= v.id <= _ID_MAX
        and type(v.confirmed) is bool
        and type(v.approved) is bool
        and type(v.whole_city) is bool
        and type(v.capacity) is int
        and v.capacity >= 0
        and type(v.active) is int
        and v.active >= 0
        and (v.paused_until is None or type(v.paused_until) is date)
        and type(v.first_name) is str
        and type(v.languages) is frozenset
        and v.languages <= _LANGUAGES
        and type(v.districts) is frozenset
        and v.districts <= _DISTRICTS
        and type(v.formats) is frozenset
        and v.formats <= _FORMATS
        and type(v.levels) is dict
        and all(
            p in _PHASES and type(n) is int and MIN_LEVEL <= n <= MAX_LEVEL
            for p, n in v.levels.items()
        )
        and type(v.phase_factors) is dict
        and all(
            p in _PHASES and type(f) is float and 0 < f <= 1 for p, f in v.phase_factors.items()
        )
        and _plain_ids(v.excluded_needs)
        and _plain_ids(v.initiatives)
        and _plain_ids(v.advised_initiatives)
    ):
        return False
    set_(v, "levels", MappingProxyType(dict(v.levels)))
    set_(v, "phase_factors", MappingProxyType(dict(v.phase_factors)))
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class Need:
    """An initiative's advice need as the engine sees it.

    ``wanted`` is how many experts it still wants; ``opened_at`` when it was
    opened (None counts as just now). Naive datetimes are taken as UTC when
    compared with aware ones.
    """

    id: int
    initiative_id: int
    phases: tuple[str, ...]
    district: str
    language: str = "de"
    formats: frozenset[str] = frozenset({"in_person"})
    urgency: str = "normal"
    wanted: int = 1
    opened_at: datetime | None = None

    def __post_init__(self) -> None:
        if not _plain_need(self):  # the checks below, with a message for what is wrong
            self._check_and_normalise()

    def _check_and_normalise(self) -> None:
        check_id(self.id, "need id")
        who = f"need {self.id}"
        if not is_int(self.initiative_id):
            raise ValueError(f"{who}: initiative_id must be an integer")
        if isinstance(self.phases, str) or not isinstance(self.phases, Iterable):
            raise ValueError(f"{who}: phases must be a sequence of phase codes")
        phases = tuple(dict.fromkeys(self.phases))  # drop repeats, keep order
        if not phases:
            raise ValueError(f"{who}: needs at least one phase")
        for phase in phases:
            _code(phase, PHASE_CODES, f"phase of {who}")
        _code(self.district, DISTRICT_CODES, f"district of {who}")
        _code(self.language, LANGUAGE_CODES, f"language of {who}")
        _code(self.urgency, URGENCY_CODES, f"urgency of {who}")
        _count(self.wanted, f"{who}: wanted")
        formats = _codes(self.formats, FORMAT_CODES, f"format of {who}")
        if not formats:
            raise ValueError(f"{who}: needs at least one format")
        if self.opened_at is not None and not isinstance(self.opened_at, datetime):
            raise ValueError(f"{who}: opened_at must be a datetime or None")
        object.__setattr__(self, "phases", phases)
        object.__setattr__(self, "formats", formats)


_DISTRICT_SET, _URGENCIES = frozenset(DISTRICT_CODES), frozenset(URGENCY_CODES)


def _plain_need(n: Need) -> bool:
    """The common case without a message per check (see ``_plainly_valid``): phases a tuple
    of distinct known codes, the other fields of their plain types and valid."""
    phases = n.phases
    return (
        type(n.id) is int
        and _ID_MIN <= n.id <= _ID_MAX
        and type(n.initiative_id) is int
        and type(phases) is tuple
        and all(type(p) is str and p in _PHASES for p in phases)
        and 0 < len(phases) == len(set(phases))
        and type(n.district) is str
        and n.district in _DISTRICT_SET
        and type(n.language) is str
        and n.language in _LANGUAGES
        and type(n.urgency) is str
        and n.urgency in _URGENCIES
        and type(n.wanted) is int
        and n.wanted >= 0
        and type(n.formats) is frozenset
        and bool(n.formats)
        and n.formats <= _FORMATS
        and (n.opened_at is None or type(n.opened_at) is datetime)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Weights:
    """Weights of the score parts (normalised to sum 1) and the assignment's load penalty.

    ``load_penalty`` is subtracted for each further pair a volunteer gets in one
    proposal round (2nd pair: once, 3rd: twice, ...); ``waiting_horizon_days`` is
    how long a need waits until its waiting time counts fully. ``continuity`` is
    added to the score of an expert who advised the need's initiative before; it is
    a bonus on top of the parts, not one of them, so it leaves their balance alone.
    """

    phase: float = 0.45
    place: float = 0.25
    format: float = 0.10
    load: float = 0.10
    urgency: float = 0.10
    load_penalty: float = 0.15
    waiting_horizon_days: float = 28.0
    continuity: float = 0.10

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ValueError(f"weight {f.name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"weight {f.name} must be finite and >= 0, got {value!r}")
        if sum(getattr(self, name) for name in PART_NAMES) <= 0:
            raise ValueError("at least one score weight must be positive")
        if self.waiting_horizon_days <= 0:
            raise ValueError("waiting_horizon_days must be positive")

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Weights:
        """Build weights from configuration; missing keys keep their defaults."""
        if not isinstance(values, Mapping):
            raise ValueError(f"weights must be a mapping, got {values!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(key) for key in values if key not in known)
        if unknown:
            raise ValueError(f"unknown weight(s): {', '.join(unknown)}")
        return cls(**cast("Mapping[str, Any]", values))  # each value is checked on creation

    def normalised(self) -> tuple[float, ...]:
        """The part weights in PART_NAMES order, scaled to sum 1."""
        raw = tuple(float(getattr(self, name)) for name in PART_NAMES)
        total = sum(raw)
        return tuple(w / total for w in raw)
