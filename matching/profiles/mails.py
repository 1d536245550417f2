"""Mails that follow a profile's review."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from matching import mail


def profile_approved(session: Session, profile) -> None:
    """The volunteer learns that their profile is approved."""
    mail.queue_for_user(
        session,
        profile.user,
        "profile_approved",
        _l("Ihr Profil ist freigegeben"),
        overview_url=mail.absolute_url("profiles.overview"),
    )


def profile_returned(session: Session, profile) -> None:
    """The volunteer learns what the coordinators ask them to add."""
    mail.queue_for_user(
        session,
        profile.user,
        "profile_returned",
        _l("Bitte ergänzen Sie Ihr Profil"),
        reason=profile.review_reason,
        profile_url=mail.absolute_url("profiles.profile"),
    )
