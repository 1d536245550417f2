"""Plain-language sentences for the score parts, in German and English.

The engine is pure, so it cannot use Flask-Babel; it returns both locales and
the caller picks one. Each function returns a ``(de, en)`` pair.
"""

from __future__ import annotations

from collections.abc import Iterable

from matching.reference import CITY, DISTRICT_BY_CODE, FORMAT_CODES, FORMATS, PHASE_BY_CODE

_LEVEL_WORDS = {
    1: ("Grundkenntnisse in", "basic knowledge of"),
    2: ("Praxiserfahrung in", "practical experience in"),
    3: ("viel Erfahrung in", "a lot of experience in"),
}
_FORMAT_LABELS = {f.code: (f.de, f.en) for f in FORMATS}
_URGENCY_WORDS = {
    "normal": ("Die Anfrage ist nicht eilig", "The request is not pressing"),
    "soon": ("Die Anfrage soll bald beginnen", "The request should start soon"),
    "urgent": ("Die Anfrage ist dringend", "The request is urgent"),
}


def _join(items: list[str], last: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def phase_text(levels: Iterable[tuple[str, int]], lowered: bool = False) -> tuple[str, str]:
    """Sentence for the levels in the need's phases, e.g. 'Hat Praxiserfahrung in Kooperation'.

    ``lowered``: the volunteer said "passt fachlich nicht" to a need in one of these phases.
    """
    known_de, known_en, unknown_de, unknown_en = [], [], [], []
    for code, level in levels:
        phase = PHASE_BY_CODE[code]
        if level >= 1:
            word_de, word_en = _LEVEL_WORDS[level]
            known_de.append(f"{word_de} {phase.de}")
            known_en.append(f"{word_en} {phase.en}")
        else:
            unknown_de.append(phase.de)
            unknown_en.append(phase.en)
    de = f"Hat {_join(known_de, 'und')}"
    en = f"Has {_join(known_en, 'and')}"
    if unknown_de:
        de += f", aber keine Kenntnisse in {_join(unknown_de, 'und')}"
        en += f", but no knowledge of {_join(unknown_en, 'and')}"
    if lowered:
        de += " (zählt weniger: „passt fachlich nicht“ bei einer ähnlichen Anfrage)"
        en += " (counts less: “not my field” for a similar request)"
    return de, en


def continuity_text() -> tuple[str, str]:
    """Sentence for the continuity bonus: the expert advised this initiative before."""
    return "Hat Ihre Initiative schon beraten", "Has advised your initiative before"


def place_text(kind: str, district: str, remote: Iterable[str]) -> tuple[str, str]:
    """Sentence for how the volunteer reaches the need's district."""
    if kind == "district":
        name = DISTRICT_BY_CODE[district].name
        return f"Berät im Stadtbezirk {name}", f"Is active in the district of {name}"
    if kind == "neighbour":
        name = DISTRICT_BY_CODE[district].name
        return (
            f"Berät im benachbarten Stadtbezirk {name}",
            f"Is active in the neighbouring district of {name}",
        )
    if kind == "city":
        return f"Berät in ganz {CITY}", f"Advises across {CITY}"
    codes = [code for code in FORMAT_CODES if code in set(remote)]
    de = _join([_FORMAT_LABELS[code][0] for code in codes], "oder")
    en = _join([_FORMAT_LABELS[code][1].lower() for code in codes], "or")
    return f"Kann per {de} beraten", f"Can advise by {en}"


def format_text(shared: Iterable[str], wanted: Iterable[str]) -> tuple[str, str]:
    """Sentence for how many of the need's preferred formats the volunteer offers."""
    shared, wanted = set(shared), set(wanted)
    if not shared:
        return (
            "Bietet keine der gewünschten Arten der Beratung an",
            "Offers none of the preferred formats",
        )
    codes = [code for code in FORMAT_CODES if code in shared]
    de = ", ".join(_FORMAT_LABELS[code][0] for code in codes)
    en = ", ".join(_FORMAT_LABELS[code][1] for code in codes)
    if shared == wanted:
        return (
            f"Bietet jede gewünschte Art der Beratung an: {de}",
            f"Offers all preferred formats: {en}",
        )
    n, m = len(shared), len(wanted)
    return (
        f"Bietet {n} von {m} gewünschten Arten der Beratung an: {de}",
        f"Offers {n} of {m} preferred formats: {en}",
    )


def load_text(active: int) -> tuple[str, str]:
    """Sentence for the volunteer's current engagements."""
    if active == 0:
        return "Berät zurzeit keine Initiative", "Currently advises no initiative"
    if active == 1:
        return "Berät zurzeit eine Initiative", "Currently advises one initiative"
    return f"Berät zurzeit {active} Initiativen", f"Currently advises {active} initiatives"


def urgency_text(urgency: str, days: int) -> tuple[str, str]:
    """Sentence for the need's urgency and how long it has been waiting."""
    de, en = _URGENCY_WORDS[urgency]
    if days <= 0:
        return f"{de} und ist seit heute offen", f"{en} and was opened today"
    if days == 1:
        return f"{de} und wartet seit 1 Tag", f"{en} and has been waiting for 1 day"
    return f"{de} und wartet seit {days} Tagen", f"{en} and has been waiting for {days} days"
