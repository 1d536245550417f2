"""Reference data: phases, districts and their neighbours, levels, languages, formats.

Plain data without Flask or a database, so the matching engine can use it too.
Phases and districts come from ``data/<city>.toml``; another city swaps that file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Choice:
    """A code with its German and English label, and an optional plain explanation."""

    code: str
    de: str
    en: str
    explain_de: str = ""
    explain_en: str = ""

    def label(self, locale: str) -> str:
        return self.en if locale == "en" else self.de

    def explain(self, locale: str) -> str:
        return self.explain_en if locale == "en" else self.explain_de


@dataclass(frozen=True, slots=True)
class District:
    """A Stadtbezirk: code, name, ring (inner/outer) and the codes of bordering districts."""

    code: str
    name: str
    ring: str
    neighbours: frozenset[str]

    def label(self, locale: str) -> str:  # district names are proper names
        return self.name


def _load(city_file: str) -> dict:
    raw = resources.files("matching").joinpath("data", city_file).read_text(encoding="utf-8")
    return tomllib.loads(raw)


_DATA = _load("stuttgart.toml")

CITY: str = _DATA["city"]

PHASES: tuple[Choice, ...] = tuple(Choice(**p) for p in _DATA["phases"])
PHASE_CODES: tuple[str, ...] = tuple(p.code for p in PHASES)
PHASE_BY_CODE = MappingProxyType({p.code: p for p in PHASES})

DISTRICTS: tuple[District, ...] = tuple(
    District(d["code"], d["name"], d["ring"], frozenset(d["neighbours"]))
    for d in _DATA["districts"]
)
DISTRICT_CODES: tuple[str, ...] = tuple(d.code for d in DISTRICTS)
DISTRICT_BY_CODE = MappingProxyType({d.code: d for d in DISTRICTS})
NEIGHBOURS = MappingProxyType({d.code: d.neighbours for d in DISTRICTS})
RINGS = (
    Choice("inner", "Innenstadtbezirke", "Inner-city districts"),
    Choice("outer", "Äußere Stadtbezirke", "Outer districts"),
)

LEVELS: tuple[Choice, ...] = (
    Choice("0", "Keine", "None", "Dazu kann ich nicht beraten.", "I cannot advise on this."),
    Choice(
        "1",
        "Grundkenntnisse",
        "Basic knowledge",
        "Ich kenne mich etwas aus.",
        "I know a little about it.",
    ),
    Choice(
        "2",
        "Praxiserfahrung",
        "Practical experience",
        "Ich habe das selbst schon gemacht.",
        "I have done this myself.",
    ),
    Choice(
        "3",
        "Expert:in",
        "Expert",
        "Ich habe viel Erfahrung und kann andere anleiten.",
        "I have a lot of experience and can guide others.",
    ),
)
MIN_LEVEL, MAX_LEVEL = 0, 3

LANGUAGES: tuple[Choice, ...] = (
    Choice("de", "Deutsch", "German"),
    Choice("en", "Englisch", "English"),
    Choice("tr", "Türkisch", "Turkish"),
    Choice("ar", "Arabisch", "Arabic"),
    Choice("ru", "Russisch", "Russian"),
    Choice("uk", "Ukrainisch", "Ukrainian"),
    Choice("it", "Italienisch", "Italian"),
    Choice("el", "Griechisch", "Greek"),
    Choice("hr", "Kroatisch", "Croatian"),
    Choice("pl", "Polnisch", "Polish"),
    Choice("ro", "Rumänisch", "Romanian"),
    Choice("fr", "Französisch", "French"),
    Choice("es", "Spanisch", "Spanish"),
    Choice("fa", "Persisch", "Persian"),
)
LANGUAGE_CODES: tuple[str, ...] = tuple(c.code for c in LANGUAGES)

FORMATS: tuple[Choice, ...] = (
    Choice("in_person", "Vor Ort", "In person"),
    Choice("phone", "Telefon", "Phone"),
    Choice("video", "Video", "Video"),
)
FORMAT_CODES: tuple[str, ...] = tuple(c.code for c in FORMATS)
REMOTE_FORMATS = frozenset({"phone", "video"})

URGENCIES: tuple[Choice, ...] = (
    Choice("normal", "Normal", "Normal", "In den nächsten Wochen.", "In the coming weeks."),
    Choice("soon", "Bald", "Soon", "In den nächsten Tagen.", "In the next few days."),
    Choice("urgent", "Dringend", "Urgent", "So schnell wie möglich.", "As soon as possible."),
)
URGENCY_CODES: tuple[str, ...] = tuple(c.code for c in URGENCIES)

# The interface speaks these locales; German first.
UI_LOCALES: tuple[str, ...] = ("de", "en")
