"""What a proposal run means, in words: why a need has nobody, the spread of work, and what a
first-come choice would have given instead (DESIGN §5: a coordinator "can preview one").

Pure like the rest of the engine; sentences come as (de, en) pairs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from matching.engine.pool import Pool
from matching.engine.proposal import Proposal
from matching.engine.records import Need, Volunteer, Weights
from matching.engine.scoring import check_inputs, exclusion, score, waited_days
from matching.reference import (
    DISTRICT_BY_CODE,
    FORMATS,
    LANGUAGES,
    NEIGHBOURS,
    PHASE_BY_CODE,
    REMOTE_FORMATS,
)

# Why a need has no candidate (or, in a run, no proposal), in the order they are checked.
PHASE = "phase"  # nobody with the phase in the district, its neighbours or by phone/video
LANGUAGE = "language"  # people with the phase nearby, but nobody speaks the language
FORMAT = "format"  # someone speaks it, but not in a format the need accepts for its district
DECLINED = "declined"  # everyone left declined this need or was rejected for it
BUSY = "busy"  # everyone fitting is fully booked or paused
TAKEN = "taken"  # candidates exist, but the run gave them to needs where they fit better
REASONS = (PHASE, LANGUAGE, FORMAT, DECLINED, BUSY, TAKEN)

_LANGUAGE_NAMES = {c.code: (c.de, c.en) for c in LANGUAGES}
_FORMAT_NAMES = {c.code: (c.de, c.en) for c in FORMATS}


@dataclass(frozen=True, slots=True)
class Nobody:
    """Why a need has nobody: one of REASONS, and for BUSY the day the first pause ends."""

    need_id: int
    reason: str
    pause_ends: date | None = None


def _near(volunteer: Volunteer, need: Need) -> bool:
    return bool(
        need.district in volunteer.districts
        or volunteer.whole_city
        or volunteer.districts & NEIGHBOURS[need.district]
    )


def _reaches(volunteer: Volunteer, need: Need) -> bool:
    """The engine's place filter: the district, the whole city, or a remote format both accept."""
    return bool(
        need.district in volunteer.districts
        or volunteer.whole_city
        or need.formats & volunteer.formats & REMOTE_FORMATS
    )


def why_nobody(need: Need, volunteers: Iterable[Volunteer], now: datetime) -> Nobody | None:
    """The reason class of a need without candidate, or None when someone passes every filter.

    Narrows the volunteers step by step (phase and place, language, format, earlier answers,
    free time); the first step that leaves nobody is the reason.
    """
    knows = [
        v
        for v in volunteers
        if v.confirmed
        and v.approved
        and need.initiative_id not in v.initiatives
        and any(v.levels.get(phase, 0) >= 1 for phase in need.phases)
    ]
    nearby = [v for v in knows if _near(v, need) or v.formats & REMOTE_FORMATS]
    if not nearby:
        return Nobody(need.id, PHASE)
    speaking = [v for v in nearby if need.language in v.languages]
    if not speaking:
        return Nobody(need.id, LANGUAGE)
    reaching = [v for v in speaking if _reaches(v, need)]
    if not reaching:
        return Nobody(need.id, FORMAT)
    willing = [v for v in reaching if need.id not in v.excluded_needs]
    if not willing:
        return Nobody(need.id, DECLINED)
    if any(exclusion(v, need, now) is None for v in willing):
        return None
    today = now.date()
    pauses = [v.paused_until for v in willing if v.paused_until and today < v.paused_until]
    return Nobody(need.id, BUSY, min(pauses) if pauses else None)


def _join(items: list[str], last: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def nobody_text(nobody: Nobody, need: Need) -> tuple[str, str]:
    """The reason in one plain sentence (de, en); the same for the initiative and coordinators."""
    district = DISTRICT_BY_CODE[need.district].name
    if nobody.reason == PHASE:
        de = _join([PHASE_BY_CODE[p].de for p in need.phases], "oder")
        en = _join([PHASE_BY_CODE[p].en for p in need.phases], "or")
        return (
            f"Zurzeit berät niemand mit Kenntnissen in {de} in {district} "
            "oder den Nachbarbezirken, auch nicht per Telefon oder Video.",
            f"At present nobody with knowledge of {en} advises in {district} "
            "or the neighbouring districts, nor by phone or video.",
        )
    if nobody.reason == LANGUAGE:
        de, en = _LANGUAGE_NAMES[need.language]
        return (
            f"Von den Expert:innen, die in Frage kommen, spricht niemand {de}.",
            f"None of the experts who would fit speaks {en}.",
        )
    if nobody.reason == FORMAT:
        formats = [code for code, _names in _FORMAT_NAMES.items() if code in need.formats]
        de = _join([_FORMAT_NAMES[c][0] for c in formats], "oder")
        en = _join([_FORMAT_NAMES[c][1].lower() for c in formats], "or")
        return (
            f"Niemand, der passt, kann in der gewünschten Art ({de}) in {district} beraten.",
            f"Nobody who fits can advise in the requested way ({en}) in {district}.",
        )
    if nobody.reason == DECLINED:
        return (
            "Alle, die passen, haben diese Anfrage schon abgelehnt oder wurden dafür abgelehnt.",
            "Everyone who fits has already turned this request down or was rejected for it.",
        )
    if nobody.reason == BUSY:
        de = "Alle, die passen, sind gerade ausgelastet oder machen Pause."
        en = "Everyone who fits is fully booked or taking a break at the moment."
        if nobody.pause_ends:
            day = nobody.pause_ends
            de += f" Die erste Pause endet am {day:%d.%m.%Y}."
            en += f" The first break ends on {day.day} {day:%B %Y}."
        return de, en
    return (
        "Wer passt, ist in diesem Vorschlag bei Anfragen eingeplant, wo er oder sie "
        "besser passt oder dringender gebraucht wird.",
        "Everyone who fits is planned for requests in this proposal where they fit better "
        "or are needed more urgently.",
    )


def first_come(
    pool: Pool, needs: Iterable[Need], weights: Weights, now: datetime
) -> list[Proposal]:
    """What a first-come choice gives: the longest-waiting need first takes its best free
    candidates, then the next; the baseline the optimal proposal is compared with."""
    check_inputs(weights, now)
    ordered = sorted(needs, key=lambda n: (-waited_days(n.opened_at, now), n.id))
    free = {v.id: v.free for v in pool.volunteers}
    chosen: list[Proposal] = []
    for need in ordered:
        rows = pool.candidates(need, now)
        scored = [
            (volunteer, fit)
            for volunteer in (pool.volunteers[i] for i in rows.tolist())
            if free[volunteer.id] > 0 and (fit := score(volunteer, need, weights, now)) is not None
        ]
        scored.sort(key=lambda pair: (-pair[1].value, pair[0].id))
        for volunteer, fit in scored[: need.wanted]:
            free[volunteer.id] -= 1
            chosen.append(Proposal(need.id, volunteer.id, fit))
    chosen.sort(key=lambda p: (p.need_id, p.volunteer_id))
    return chosen


SPREAD_LABELS = ("0", "1", "2", "3+")


def spread(loads: Iterable[int]) -> tuple[int, int, int, int]:
    """How many volunteers have 0, 1, 2 and 3 or more engagements."""
    counts = Counter(min(3, load) for load in loads)
    return counts[0], counts[1], counts[2], counts[3]


@dataclass(frozen=True, slots=True)
class Comparison:
    """The optimal proposal against a first-come choice, need by need."""

    covered: int  # needs with a proposal in the optimum
    covered_first_come: int
    better_fit: int  # needs whose proposed experts fit better on average than first-come's
    worse_fit: int

    @property
    def more_covered(self) -> int:
        return self.covered - self.covered_first_come


def compare(optimal: Sequence[Proposal], baseline: Sequence[Proposal]) -> Comparison:
    """Count where the optimum covers more needs and where it fits better or worse."""

    def means(proposals: Sequence[Proposal]) -> dict[int, float]:
        by_need: dict[int, list[float]] = {}
        for p in proposals:
            by_need.setdefault(p.need_id, []).append(p.score.value)
        return {need: sum(values) / len(values) for need, values in by_need.items()}

    best, first = means(optimal), means(baseline)
    both = best.keys() & first.keys()
    # Equal within rounding is equal: the same person chosen both ways is no "better fit".
    better = sum(1 for n in both if best[n] > first[n] + 1e-9)
    worse = sum(1 for n in both if best[n] < first[n] - 1e-9)
    return Comparison(len(best), len(first), better, worse)
