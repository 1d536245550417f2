"""Why a match fits, for whoever reads it: the stored reasons per reader, and words for the fit."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from matching.engine.explanation import COORDINATOR, INITIATIVE, READERS, VOLUNTEER

__all__ = ["COORDINATOR", "INITIATIVE", "VOLUNTEER", "fit_words", "reasons"]

# Lower bounds of a score (0–1) and the words an older reader understands, best first.
FIT_WORDS = (
    (0.75, _l("passt sehr gut")),
    (0.55, _l("passt gut")),
    (0.35, _l("passt")),
    (0.0, _l("passt teilweise")),
)


def fit_words(value: float | None) -> str:
    """The fit in plain words ("passt sehr gut"), shown next to the percentage."""
    if value is None:
        return ""
    for bound, words in FIT_WORDS:
        if value >= bound:
            return str(words)
    return str(FIT_WORDS[-1][1])


def reasons(explanation: list | None, reader: str, locale: str = "de") -> list[str]:
    """A match's stored reasons for the reader, largest part first.

    Rows written before the reasons were kept per reader have the coordinator's sentences
    only (no "for"); the volunteer and the initiative then read nothing rather than "Hat …"
    about themselves. A reader missing from a part's "for" reads the coordinator's sentence,
    which was the same (``proposals.explanation_record`` stores it once).
    """
    if reader not in READERS:
        raise ValueError(f"unknown reader {reader!r}")
    lang = "en" if str(locale).startswith("en") else "de"
    ordered = sorted(explanation or [], key=lambda part: -part.get("contribution", 0))
    sentences = []
    for part in ordered:
        if reader == COORDINATOR:
            text = part.get(lang) or part.get("de")
        elif "for" not in part:
            text = None
        elif reader in (part["for"] or {}):
            text = part["for"][reader].get(lang)
        else:
            text = part.get(lang) or part.get("de")
        if text:
            sentences.append(text)
    return sentences
