"""Plain-language sentences for the score parts, in German and English, for three readers.

The engine is pure, so it cannot use Flask-Babel; it returns both locales and
the caller picks one. Each function returns a ``(de, en)`` pair, written for its
reader: the coordinator (third person, the default), the volunteer ("Sie haben …")
or the initiative once the expert said yes ("Hat …", "Ihre Anfrage …").
"""

from __future__ import annotations

from collections.abc import Iterable

from matching.reference import CITY, DISTRICT_BY_CODE, FORMAT_CODES, FORMATS, PHASE_BY_CODE

COORDINATOR, VOLUNTEER, INITIATIVE = "coordinator", "volunteer", "initiative"
READERS = (COORDINATOR, VOLUNTEER, INITIATIVE)

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


def phase_text(
    levels: Iterable[tuple[str, int]], lowered: bool = False, reader: str = COORDINATOR
) -> tuple[str, str]:
    """Sentence for the levels in the need's phases, e.g. 'Hat Praxiserfahrung in Kooperation'.

    ``lowered``: the volunteer said "passt fachlich nicht" to a need in one of these phases.
    The initiative reads only what the expert knows.
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
    if reader == VOLUNTEER:
        de = f"Sie haben {_join(known_de, 'und')}"
        en = f"You have {_join(known_en, 'and')}"
    else:
        de = f"Hat {_join(known_de, 'und')}"
        en = f"Has {_join(known_en, 'and')}"
    if reader == INITIATIVE:
        return de, en
    if unknown_de:
        de += f", aber keine Kenntnisse in {_join(unknown_de, 'und')}"
        en += f", but no knowledge of {_join(unknown_en, 'and')}"
    if lowered and reader == VOLUNTEER:
        de += " (zählt weniger: Sie sagten bei einer ähnlichen Anfrage „passt fachlich nicht“)"
        en += " (counts less: you said “not my field” for a similar request)"
    elif lowered:
        de += " (zählt weniger: „passt fachlich nicht“ bei einer ähnlichen Anfrage)"
        en += " (counts less: “not my field” for a similar request)"
    return de, en


def continuity_text(reader: str = COORDINATOR) -> tuple[str, str]:
    """Sentence for the continuity bonus: the expert advised this initiative before."""
    if reader == VOLUNTEER:
        return "Sie haben diese Initiative schon beraten", "You have advised this initiative before"
    return "Hat Ihre Initiative schon beraten", "Has advised your initiative before"


def place_text(
    kind: str,
    district: str,
    remote: Iterable[str],
    need_district: str | None = None,
    reader: str = COORDINATOR,
) -> tuple[str, str]:
    """Sentence for how the volunteer reaches the need's district.

    ``district`` is the one to name (for "neighbour": the volunteer's own), ``need_district``
    the need's; the volunteer reads where the initiative is.
    """
    if reader == VOLUNTEER:
        return _place_for_volunteer(kind, need_district or district, remote)
    if reader == INITIATIVE and kind == "district":
        name = DISTRICT_BY_CODE[district].name
        return f"Berät in Ihrem Stadtbezirk {name}", f"Is active in your district, {name}"
    if kind == "district":
        name = DISTRICT_BY_CODE[district].name
        return f"Berät im Stadtbezirk {name}", f"Is active in the district of {name}"
    if kind == "neighbour":
        # The district named is the volunteer's; it lies next to the need's (the reader's
        # own, for the initiative). "The neighbouring district of X" would say the opposite.
        name = DISTRICT_BY_CODE[district].name
        next_to = "yours" if reader == INITIATIVE else "the request's district"
        return (
            f"Berät im benachbarten Stadtbezirk {name}",
            f"Is active in {name}, next to {next_to}",
        )
    if kind == "city":
        return f"Berät in ganz {CITY}", f"Advises across {CITY}"
    # Said as the way to reach the need's district, not as the formats offered (the format
    # part says those): "Kann per Telefon beraten" beside "Bietet … an: Vor Ort, Telefon".
    de, en = _remote_words(remote)
    if reader == INITIATIVE:
        return (
            f"Berät nicht vor Ort in Ihrem Stadtbezirk, aber per {de}",
            f"Not on site in your district, but by {en}",
        )
    name = DISTRICT_BY_CODE[need_district or district].name
    return f"Berät nicht vor Ort in {name}, aber per {de}", f"Not on site in {name}, but by {en}"


def _remote_words(remote: Iterable[str]) -> tuple[str, str]:
    codes = [code for code in FORMAT_CODES if code in set(remote)]
    de = _join([_FORMAT_LABELS[code][0] for code in codes], "oder")
    en = _join([_FORMAT_LABELS[code][1].lower() for code in codes], "or")
    return de, en


def _place_for_volunteer(kind: str, need_district: str, remote: Iterable[str]) -> tuple[str, str]:
    name = DISTRICT_BY_CODE[need_district].name
    if kind == "district":
        return (
            f"Die Initiative ist in Ihrem Stadtbezirk {name}",
            f"The initiative is in your district, {name}",
        )
    if kind == "neighbour":
        return (
            f"Die Initiative ist im Nachbarbezirk {name}",
            f"The initiative is in {name}, a district next to yours",
        )
    if kind == "city":
        return (
            f"Die Initiative ist in {name}, und Sie beraten in ganz {CITY}",
            f"The initiative is in {name}, and you advise across {CITY}",
        )
    de, en = _remote_words(remote)
    return (
        f"Die Initiative ist in {name}: Sie können per {de} beraten",
        f"The initiative is in {name}: you can advise by {en}",
    )


def format_text(
    shared: Iterable[str], wanted: Iterable[str], reader: str = COORDINATOR
) -> tuple[str, str]:
    """Sentence for how many of the need's preferred formats the volunteer offers."""
    shared, wanted = set(shared), set(wanted)
    if reader == VOLUNTEER:
        return _format_for_volunteer(shared, wanted)
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


def _format_for_volunteer(shared: set[str], wanted: set[str]) -> tuple[str, str]:
    if not shared:
        return (
            "Sie bieten keine der gewünschten Arten der Beratung an",
            "You offer none of the preferred formats",
        )
    codes = [code for code in FORMAT_CODES if code in shared]
    de = ", ".join(_FORMAT_LABELS[code][0] for code in codes)
    en = ", ".join(_FORMAT_LABELS[code][1] for code in codes)
    if shared == wanted:
        return (
            f"Sie bieten jede gewünschte Art der Beratung an: {de}",
            f"You offer all preferred formats: {en}",
        )
    n, m = len(shared), len(wanted)
    return (
        f"Sie bieten {n} von {m} gewünschten Arten der Beratung an: {de}",
        f"You offer {n} of {m} preferred formats: {en}",
    )


def load_text(active: int, reader: str = COORDINATOR) -> tuple[str, str]:
    """Sentence for the volunteer's live matches: waiting proposals, asked ones and running
    advice alike (each holds a place), so it says "Vermittlung", not "berät"."""
    if reader == VOLUNTEER:
        if active == 0:
            return "Sie haben zurzeit keine andere Vermittlung", "You currently have no other match"
        if active == 1:
            return "Sie haben zurzeit eine andere Vermittlung", "You currently have one other match"
        return (
            f"Sie haben zurzeit {active} andere Vermittlungen",
            f"You currently have {active} other matches",
        )
    if active == 0:
        return "Hat zurzeit keine andere Vermittlung", "Currently has no other match"
    if active == 1:
        return "Hat zurzeit eine andere Vermittlung", "Currently has one other match"
    return f"Hat zurzeit {active} andere Vermittlungen", f"Currently has {active} other matches"


def urgency_text(urgency: str, days: int, reader: str = COORDINATOR) -> tuple[str, str]:
    """Sentence for the need's urgency and how long it has been waiting."""
    de, en = _URGENCY_WORDS[urgency]
    if reader == INITIATIVE:  # "Ihre Anfrage …"
        de, en = "Ihre" + de.removeprefix("Die"), "Your" + en.removeprefix("The")
    if days <= 0:
        return f"{de} und ist seit heute offen", f"{en} and was opened today"
    if days == 1:
        return f"{de} und wartet seit 1 Tag", f"{en} and has been waiting for 1 day"
    return f"{de} und wartet seit {days} Tagen", f"{en} and has been waiting for {days} days"
