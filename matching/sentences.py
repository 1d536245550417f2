"""Sentences the service writes into a record itself, and how a reader sees them.

Reasons and notes are kept as they were written, and a person writes them in their own words.
Where the service writes one (a proposal that ends because the need found its expert, an
erased account), it writes it in German, like every stored reason, so that a job in one
language and a request in another keep the same record. Shown, such a sentence is translated
into the reader's language; a person's own words are shown as they are.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

PLACED = "Anfrage ist vermittelt."
PLACES_FULL = "Alle Plätze der Anfrage sind vergeben."
WITHDRAWN = "Die Initiative hat die Anfrage zurückgezogen."
CLOSED = "Die Initiative hat die Anfrage abgeschlossen."
EXPIRED = "Die Anfrage ist abgelaufen."
ACCOUNT_ERASED = "Konto gelöscht."
NEED_CHANGED = "Die Anfrage wurde geändert und passt nicht mehr."
VOLUNTEER_PAUSED = "Die Expert:in macht gerade eine Pause."
# The name an erased account keeps, shown wherever its name was.
ERASED_NAME = "Gelöschtes Konto"

# The same sentences once more as literals: the catalogue is extracted from _l("…") calls.
_SHOWN = {
    PLACED: _l("Anfrage ist vermittelt."),
    PLACES_FULL: _l("Alle Plätze der Anfrage sind vergeben."),
    WITHDRAWN: _l("Die Initiative hat die Anfrage zurückgezogen."),
    CLOSED: _l("Die Initiative hat die Anfrage abgeschlossen."),
    EXPIRED: _l("Die Anfrage ist abgelaufen."),
    ACCOUNT_ERASED: _l("Konto gelöscht."),
    NEED_CHANGED: _l("Die Anfrage wurde geändert und passt nicht mehr."),
    VOLUNTEER_PAUSED: _l("Die Expert:in macht gerade eine Pause."),
    ERASED_NAME: _l("Gelöschtes Konto"),
}


def shown(text: str | None) -> str:
    """A stored reason as the reader reads it: the service's own sentences translated."""
    if not text:
        return ""
    sentence = _SHOWN.get(text)
    return str(sentence) if sentence is not None else text
