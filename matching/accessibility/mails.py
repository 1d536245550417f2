"""Mails about reported barriers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from matching import mail
from matching.mail.recipients import coordinators


def barrier_reported(session: Session, report) -> None:
    """Coordinators learn of a barrier someone reported (BITV 2.0 feedback)."""
    for coordinator in coordinators(session):
        mail.queue_for_user(
            session,
            coordinator,
            "barrier_reported",
            _l("Gemeldete Barriere auf der Vernetzerbörse"),
            key=f"barrier:{report.id}:{coordinator.id}",
            report=report,
            dashboard_url=mail.absolute_url("reports.dashboard"),
        )
