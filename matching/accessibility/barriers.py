"""Barriers reported from the accessibility statement; they reach the coordinators at once."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching import audit, limits
from matching.accessibility import mails
from matching.errors import InvalidInput, PermissionDenied, TransitionError
from matching.models import BarrierReport, User
from matching.permissions import is_coordinator
from matching.text import looks_blank


def report_barrier(
    session: Session,
    user: User | None,
    description: str,
    *,
    page: str = "",
    contact: str = "",
    now: datetime,
) -> BarrierReport:
    """Store a report and mail every coordinator about it."""
    description = description.strip()
    if looks_blank(description) or len(description) > limits.BARRIER_DESCRIPTION_MAX:
        raise InvalidInput(
            _l(
                "Bitte beschreiben Sie die Barriere in höchstens %(max)d Zeichen.",
                max=limits.BARRIER_DESCRIPTION_MAX,
            )
        )
    if len(page) > limits.BARRIER_PAGE_MAX or len(contact) > limits.EMAIL_MAX:
        raise InvalidInput(_l("Bitte kürzen Sie Ihre Angaben."))
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    report = BarrierReport(
        description=description,
        page=page.strip(),
        contact=contact.strip(),
        user_id=user.id if signed_in else None,
        created_at=now,
    )
    session.add(report)
    session.flush()
    audit.record(
        session, user if signed_in else None, "barrier.report", "barrier", report.id, now=now
    )
    mails.barrier_reported(session, report)
    return report


def open_reports(session: Session) -> list[BarrierReport]:
    """Reports nobody marked as handled yet, oldest first."""
    return list(
        session.scalars(
            select(BarrierReport)
            .where(BarrierReport.handled_at.is_(None))
            .order_by(BarrierReport.created_at, BarrierReport.id)
        )
    )


def mark_handled(session: Session, actor: User, report: BarrierReport, *, now: datetime) -> None:
    """A coordinator marks a report as handled."""
    if not is_coordinator(actor):
        raise PermissionDenied(_l("Nur die Koordination kann Meldungen erledigen."))
    if report.handled_at is not None:
        raise TransitionError(_l("Diese Meldung ist schon erledigt."))
    report.handled_at, report.handled_by_id = now, actor.id
    audit.record(session, actor, "barrier.handled", "barrier", report.id, now=now)
