"""Volunteers: their profile and their overview ("Meine Übersicht")."""

# The feature's state changes, called by pages, the API and jobs alike.
from matching.profiles.lifecycle import (  # noqa: F401
    ProfileInput,
    approve_profile,
    return_profile,
    save_profile,
)
