"""Which characters a text may hold: one rule for forms, the API and the CLI.

No field keeps control characters: NUL, which PostgreSQL refuses (a 500 instead of a
message), and the others, which a keyboard does not type. A multi-line text keeps its line
breaks and tabs; a one-line text (a title, a name, which may end up in a mail subject
header) keeps none, and neither the Unicode line and paragraph separators (U+2028, U+2029):
str.splitlines() breaks a line there, so Python's mail policy refuses a subject holding one
and the mail could never be sent.

No field keeps the bidirectional embedding, override and isolate controls (U+202A–U+202E,
U+2066–U+2069) either: they reorder what a reader sees, so a message, a place or a name could
show other words than it holds ("Trojan Source"), and no keyboard types them.
"""

from __future__ import annotations

import re
import unicodedata

_MULTI_LINE_ALLOWED = frozenset("\n\r\t")
_LINE_SEPARATORS = frozenset("\u2028\u2029")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_control(char: str) -> bool:
    """A C0 or C1 control character."""
    code = ord(char)
    return code < 32 or 127 <= code < 160


def has_forbidden_characters(value: str, *, multi_line: bool) -> bool:
    """True when the text holds a character that a field of its kind may not keep."""
    if multi_line:
        return any(
            (is_control(c) and c not in _MULTI_LINE_ALLOWED) or c in _BIDI_CONTROLS for c in value
        )
    return any(is_control(c) or c in _LINE_SEPARATORS or c in _BIDI_CONTROLS for c in value)


def looks_blank(value: str) -> bool:
    """True when the text shows nothing: only spaces and invisible format characters
    (zero-width space, byte order mark, word joiner), which str.strip() leaves in place."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in value)


# A phone number as people write it: digits, spaces and + ( ) / -, 4 to 40 characters.
PHONE_PATTERN = r"^[0-9 +()/-]{4,40}$"
_PHONE = re.compile(PHONE_PATTERN)


def is_phone_number(value: str) -> bool:
    """True for a phone number as PHONE_PATTERN has it (the form and the API both ask this)."""
    return _PHONE.fullmatch(value) is not None
