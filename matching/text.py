"""Which characters a text may hold: one rule for forms, the API and the CLI.

No field keeps control characters: NUL, which PostgreSQL refuses (a 500 instead of a
message), and the others, which a keyboard does not type. A multi-line text keeps its line
breaks and tabs; a one-line text (a title, a name, which may end up in a mail subject
header) keeps none.
"""

from __future__ import annotations

_MULTI_LINE_ALLOWED = frozenset("\n\r\t")


def is_control(char: str) -> bool:
    """A C0 or C1 control character."""
    code = ord(char)
    return code < 32 or 127 <= code < 160


def has_forbidden_characters(value: str, *, multi_line: bool) -> bool:
    """True when the text holds a character that a field of its kind may not keep."""
    allowed = _MULTI_LINE_ALLOWED if multi_line else frozenset()
    return any(is_control(c) and c not in allowed for c in value)
