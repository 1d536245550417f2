"""Opaque positions for keyset pagination: where the previous page ended."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from pydantic_core import PydanticCustomError


def encode(at: datetime, item_id: int) -> str:
    """The position after an item that sorts at ``at`` with id ``item_id``."""
    raw = json.dumps([at.isoformat(), item_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, int]:
    """The position in a cursor; a damaged one raises a validation error for the field."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, item_id = json.loads(raw)
        position = datetime.fromisoformat(at), item_id
        position[0].astimezone(UTC)  # a time that does not exist in UTC cannot be compared
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError):
        position = None
    if (
        position is None
        or position[0].tzinfo is None
        or not isinstance(item_id, int)
        or isinstance(item_id, bool)
        or not 0 < item_id < 2**31
    ):
        raise PydanticCustomError("cursor_invalid", "The cursor is not valid.")
    return position
