"""Hard filters and the explained score of one volunteer for one need (DESIGN §5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from matching.engine import explanation
from matching.engine.records import PART_NAMES, Need, Volunteer, Weights
from matching.reference import DISTRICT_CODES, NEIGHBOURS, REMOTE_FORMATS

# Same district > neighbouring district > whole city > remote only (DESIGN §5).
PLACE_VALUES = {"district": 1.0, "neighbour": 0.7, "city": 0.4, "remote": 0.2}
URGENCY_VALUES = {"normal": 0.0, "soon": 0.5, "urgent": 1.0}
# The name of the continuity part: only present when the expert advised the initiative before.
CONTINUITY = "continuity"
# Assignment needs scores in (0, 1]; a candidate never scores below this.
MIN_SCORE = 0.001

EXCLUSIONS: dict[str, tuple[str, str]] = {
    "unconfirmed": (
        "Hat die E-Mail-Adresse noch nicht bestätigt",
        "Has not confirmed their e-mail address yet",
    ),
    "unapproved": ("Das Profil ist noch nicht freigegeben", "The profile is not approved yet"),
    "paused": ("Macht gerade eine Pause", "Is taking a break"),
    "full": ("Hat keine freien Kapazitäten", "Has no free capacity"),
    "language": (
        "Spricht die Sprache der Anfrage nicht",
        "Does not speak the language of the request",
    ),
    "district": (
        "Berät nicht in diesem Stadtbezirk und nicht per Telefon oder Video",
        "Is not active in the district and does not advise by phone or video",
    ),
    "declined": (
        "Hat diese Anfrage abgelehnt oder wurde dafür abgelehnt",
        "Declined this request or was rejected for it",
    ),
    "member": ("Gehört selbst zur Initiative", "Is a member of the initiative"),
    "phase": (
        "Kennt sich mit keinem Thema der Anfrage aus",
        "Has no knowledge of any phase of the request",
    ),
}


@dataclass(frozen=True, slots=True)
class Part:
    """One weighted part of a score with its raw value and its sentence in both locales.

    ``de`` and ``en`` speak to the coordinator; ``readers`` holds the (de, en) sentences
    for the volunteer and the initiative.
    """

    name: str
    value: float
    weight: float
    contribution: float
    de: str
    en: str
    readers: Mapping[str, tuple[str, str]] = field(default_factory=dict, hash=False)

    def text(self, locale: str = "de", reader: str = explanation.COORDINATOR) -> str:
        """The sentence for the reader in the given locale (German unless English is asked for)."""
        de, en = self.readers.get(reader, (self.de, self.en))
        return en if locale.startswith("en") else de


@dataclass(frozen=True, slots=True)
class Score:
    """How well a volunteer fits a need: ``value`` in [0, 1] and the parts it is made of."""

    value: float
    parts: tuple[Part, ...]

    def part(self, name: str) -> Part:
        """The part with the given name (one of PART_NAMES, or CONTINUITY when present)."""
        for part in self.parts:
            if part.name == name:
                return part
        raise KeyError(name)

    def explain(self, locale: str = "de", reader: str = explanation.COORDINATOR) -> list[str]:
        """The parts' sentences for the reader, largest contribution first."""
        return explain(self, locale, reader)


def explain(score: Score, locale: str = "de", reader: str = explanation.COORDINATOR) -> list[str]:
    """Render a score's explanation as sentences in 'de' or 'en' for a reader (coordinator,
    volunteer or initiative), largest contribution first."""
    if reader not in explanation.READERS:
        raise ValueError(f"reader must be one of {', '.join(explanation.READERS)}, got {reader!r}")
    ordered = sorted(score.parts, key=lambda part: -part.contribution)
    return [part.text(locale, reader) for part in ordered]


def check_inputs(weights: object, now: object) -> None:
    """Raise ValueError unless weights are Weights and now is a datetime."""
    if not isinstance(weights, Weights):
        raise ValueError(f"weights must be Weights, got {type(weights).__name__}")
    if not isinstance(now, datetime):
        raise ValueError(f"now must be a datetime, got {now!r}")


def _check_pair(volunteer: object, need: object) -> None:
    if not isinstance(volunteer, Volunteer):
        raise ValueError(f"expected a Volunteer, got {type(volunteer).__name__}")
    if not isinstance(need, Need):
        raise ValueError(f"expected a Need, got {type(need).__name__}")


def exclusion(volunteer: Volunteer, need: Need, now: datetime) -> str | None:
    """The first hard filter that rules the pair out (a key of EXCLUSIONS), or None."""
    v = volunteer
    if not v.confirmed:
        return "unconfirmed"
    if not v.approved:
        return "unapproved"
    if v.paused_until is not None and now.date() < v.paused_until:
        return "paused"
    if v.capacity - v.active <= 0:
        return "full"
    if need.language not in v.languages:
        return "language"
    if not (
        need.district in v.districts or v.whole_city or need.formats & v.formats & REMOTE_FORMATS
    ):
        return "district"
    if need.id in v.excluded_needs:
        return "declined"
    if need.initiative_id in v.initiatives:
        return "member"
    if not any(v.levels.get(phase, 0) >= 1 for phase in need.phases):
        return "phase"
    return None


def phase_value(levels: Sequence[int]) -> float:
    """Mean of best and average level in the need's phases, scaled to [0, 1]."""
    count = len(levels)
    # One division of exact integers, so the vectorised pool gets the same float.
    return (max(levels) * count + sum(levels)) / (6 * count)


def place_of(volunteer: Volunteer, need: Need) -> tuple[str, str]:
    """How the volunteer reaches the need: a PLACE_VALUES kind and the district to name."""
    if need.district in volunteer.districts:
        return "district", need.district
    near = volunteer.districts & NEIGHBOURS[need.district]
    if near:
        return "neighbour", min(near, key=DISTRICT_CODES.index)
    return ("city" if volunteer.whole_city else "remote"), need.district


def waited_days(opened_at: datetime | None, now: datetime) -> float:
    """Days a need has been open at ``now``; a naive datetime is taken as UTC."""
    if opened_at is None:
        return 0.0
    if (opened_at.tzinfo is None) != (now.tzinfo is None):
        opened_at, now = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (opened_at, now))
    return max(0.0, (now - opened_at).total_seconds() / 86400)


def urgency_value(need: Need, now: datetime, weights: Weights) -> float:
    """Half urgency, half waiting time (full after the weights' horizon)."""
    waiting = min(1.0, waited_days(need.opened_at, now) / weights.waiting_horizon_days)
    return (URGENCY_VALUES[need.urgency] + waiting) / 2


def combine(weights: Sequence[float], values: Sequence[Any], bonus: object = 0.0) -> object:
    """Weighted sum of the part values plus a bonus, clamped to [MIN_SCORE, 1].

    Works on floats and on numpy arrays alike, summing in the same order, so the
    pool's vectorised scores equal ``score(...).value`` to the last bit (a bonus of
    0.0 leaves a sum unchanged, bit for bit).
    """
    total = weights[0] * values[0]
    for weight, value in zip(weights[1:], values[1:], strict=True):
        total = total + weight * value
    total = total + bonus
    if isinstance(total, float):
        return max(MIN_SCORE, min(1.0, total))
    return total.clip(MIN_SCORE, 1.0)


def _raw_values(volunteer: Volunteer, need: Need, kind: str, urgency: float) -> tuple[float, ...]:
    levels = [volunteer.levels.get(phase, 0) for phase in need.phases]
    shared = len(need.formats & volunteer.formats)
    return (
        phase_value(levels) * volunteer.phase_factor(need.phases),
        PLACE_VALUES[kind],
        shared / len(need.formats),
        1 / (1 + volunteer.active),
        urgency,
    )


def value(volunteer: Volunteer, need: Need, weights: Weights, now: datetime) -> float | None:
    """The score's value alone, without building the explanation (None when excluded)."""
    if exclusion(volunteer, need, now) is not None:
        return None
    kind, _ = place_of(volunteer, need)
    raw = _raw_values(volunteer, need, kind, urgency_value(need, now, weights))
    return cast(
        float, combine(weights.normalised(), raw, continuity_bonus(volunteer, need, weights))
    )


def advised_before(volunteer: Volunteer, need: Need) -> bool:
    """The volunteer already advised the need's initiative (the continuity bonus)."""
    return need.initiative_id in volunteer.advised_initiatives


def continuity_bonus(volunteer: Volunteer, need: Need, weights: Weights) -> float:
    """What is added for an expert who advised this initiative before (0.0 otherwise)."""
    return weights.continuity * (1.0 if advised_before(volunteer, need) else 0.0)


def score(volunteer: Volunteer, need: Need, weights: Weights, now: datetime) -> Score | None:
    """Score a volunteer for a need with its explanation, or None when a hard filter applies."""
    _check_pair(volunteer, need)
    check_inputs(weights, now)
    if exclusion(volunteer, need, now) is not None:
        return None
    kind, district = place_of(volunteer, need)
    raw = _raw_values(volunteer, need, kind, urgency_value(need, now, weights))
    texts = {reader: _texts(volunteer, need, kind, district, now, reader) for reader in _READERS}
    weights_ = weights.normalised()
    parts = tuple(
        Part(
            name,
            raw_value,
            weight,
            weight * raw_value,
            texts[_COORD][i][0],
            texts[_COORD][i][1],
            _others(texts, i),
        )
        for i, (name, raw_value, weight) in enumerate(zip(PART_NAMES, raw, weights_, strict=True))
    )
    bonus = continuity_bonus(volunteer, need, weights)
    if advised_before(volunteer, need):
        de, en = explanation.continuity_text()
        readers = {r: explanation.continuity_text(r) for r in _READERS if r != _COORD}
        parts += (Part(CONTINUITY, 1.0, weights.continuity, bonus, de, en, readers),)
    return Score(cast(float, combine(weights_, raw, bonus)), parts)


_READERS = explanation.READERS
_COORD = explanation.COORDINATOR


Texts = tuple[tuple[str, str], ...]


def _others(texts: dict[str, Texts], index: int) -> dict[str, tuple[str, str]]:
    return {reader: texts[reader][index] for reader in _READERS if reader != _COORD}


def _texts(
    volunteer: Volunteer, need: Need, kind: str, district: str, now: datetime, reader: str
) -> Texts:
    """The five parts' sentences for one reader, in PART_NAMES order."""
    if kind == "neighbour" and volunteer.whole_city:
        # Someone who comes everywhere is not "from next door": say so, whatever they listed.
        kind, district = "city", need.district
    return (
        explanation.phase_text(
            ((p, volunteer.levels.get(p, 0)) for p in need.phases),
            lowered=volunteer.phase_factor(need.phases) < 1.0,
            reader=reader,
        ),
        explanation.place_text(
            kind,
            district,
            need.formats & volunteer.formats & REMOTE_FORMATS,
            need_district=need.district,
            reader=reader,
        ),
        explanation.format_text(need.formats & volunteer.formats, need.formats, reader=reader),
        explanation.load_text(volunteer.active, reader=reader),
        explanation.urgency_text(need.urgency, int(waited_days(need.opened_at, now)), reader),
    )
