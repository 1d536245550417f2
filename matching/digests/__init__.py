"""Digest settings and the pages behind links in mail: unsubscribe, "Ich kann helfen", "Zusagen"."""

# The feature's state changes, called by pages, the API and jobs alike.
from matching.digests.building import (  # noqa: F401
    KIND_LABELS,
    CoordinatorDigest,
    InitiativeDigest,
    InitiativeSection,
    NeedState,
    Recipient,
    SuggestedNeed,
    VolunteerDigest,
    enabled_kinds,
    iso_week,
    kinds_for,
    queue_digests,
    render_digest,
    set_enabled,
    unsubscribe_headers,
)
