"""Volunteers: their profile and their overview ("Meine Übersicht")."""

# The feature's state changes, called by pages, the API and jobs alike.
from matching.profiles.lifecycle import (  # noqa: F401
    PAUSE_HORIZON,
    PAUSE_TOO_FAR,
    ProfileInput,
    approve_profile,
    profile_version,
    return_profile,
    save_profile,
)
