"""Initiatives: their profile and their needs ("Meine Anfragen")."""

# The feature's state changes, called by pages, the API and jobs alike.
from matching.initiatives.lifecycle import (  # noqa: F401
    InitiativeInput,
    create_initiative,
    new_initiative,
    update_initiative,
)
