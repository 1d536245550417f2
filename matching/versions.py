"""Versions of what people edit, so that a save from an older copy is noticed.

An edit form carries the version it was opened with and the API hands it out as the ETag;
saving against another version would silently undo what someone saved in between (another
window, a colleague, an API client). A version is built from the edited values, not from a
last-change time that the jobs' bookkeeping moves.
"""

from __future__ import annotations

import hashlib
from typing import Any


def content_version(*values: Any) -> str:
    """A short fingerprint of the given values (their ``repr``)."""
    return hashlib.sha256(repr(values).encode("utf-8")).hexdigest()[:20]
