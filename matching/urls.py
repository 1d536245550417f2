"""URL helpers."""

from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter


def safe_next(target: str | None) -> str | None:
    """A same-site path to return to after log-in, or None (no open redirects)."""
    if not target or len(target) > 500:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


MAX_ID = 2**31 - 1


def parse_id(raw) -> int | None:
    """A database id posted in a form field, or None for anything else.

    str.isdigit() also accepts "²", which int() refuses, and a huge number overflows the
    database's integer: both are None here, like an id that does not exist.
    """
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


class IdConverter(IntegerConverter):
    """A database id in a URL: 1 up to the largest 32-bit integer, so a huge number is a 404."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)
