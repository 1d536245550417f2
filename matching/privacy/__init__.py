"""Data protection pages: "Meine Daten" (download, erase) and agreeing to a new privacy text."""

# The feature's state changes, called by pages, the API and jobs alike.
from matching.privacy.data import (  # noqa: F401
    erase,
    export,
    log_contact_view,
)
