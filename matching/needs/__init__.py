"""Public pages of open needs: the list with filters and each need's own page."""

# The feature's state changes, called by pages, the API and jobs alike.
from matching.needs.lifecycle import (  # noqa: F401
    EXPIRY_HORIZON,
    EXPIRY_TOO_FAR,
    STATUS_LABELS,
    TRANSITIONS,
    NeedInput,
    change_status,
    create_need,
    need_version,
    not_open,
    refused_from,
    update_need,
)
