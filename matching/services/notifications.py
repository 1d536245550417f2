"""Mails that follow a change, built in each recipient's language and sent after commit."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching import mail
from matching.models import Match, Role, User, UserRole
from matching.services import mail_links


def coordinators(session: Session) -> list[User]:
    """Everyone who coordinates (coordinators and admins), enabled accounts only."""
    return session.scalars(
        select(User)
        .join(UserRole)
        .where(UserRole.role.in_([Role.COORDINATOR, Role.ADMIN]), User.disabled_at.is_(None))
        .distinct()
        .order_by(User.id)
    ).all()


def _match_url(match: Match) -> str:
    return mail.absolute_url("matches.detail", match_id=match.id)


def match_approved(session: Session, match: Match) -> None:
    """The volunteer is asked to accept: one button accepts, the match page has the rest."""
    volunteer = match.volunteer.user
    mail.queue_for_user(
        session,
        volunteer,
        "match_approved",
        _l("Eine Initiative braucht Ihren Rat"),
        match=match,
        need=match.need,
        accept_url=mail_links.accept_url(volunteer.id, match.id),
        match_url=_match_url(match),
    )


def match_reminder(session: Session, match: Match) -> None:
    """The volunteer is reminded, once, that an approved match waits for their answer."""
    volunteer = match.volunteer.user
    mail.queue_for_user(
        session,
        volunteer,
        "match_reminder",
        _l("Erinnerung: „%(name)s“ wartet auf Ihre Antwort", name=match.need.initiative.name),
        key=f"remind:{match.id}",
        match=match,
        need=match.need,
        accept_url=mail_links.accept_url(volunteer.id, match.id),
        match_url=_match_url(match),
    )


def match_accepted(session: Session, match: Match) -> None:
    """Introduction mail to both sides, each with the other's contact."""
    need = match.need
    volunteer = match.volunteer.user
    members = [row.user for row in need.initiative.member_rows if row.user.disabled_at is None]
    mail.queue_for_user(
        session,
        volunteer,
        "match_introduction_volunteer",
        _l("Sie beraten jetzt: %(name)s", name=need.initiative.name),
        need=need,
        contacts=members,
        match_url=_match_url(match),
    )
    for member in members:
        mail.queue_for_user(
            session,
            member,
            "match_introduction_initiative",
            _l("Ihre Expert:in für „%(title)s“", title=need.title),
            need=need,
            volunteer=volunteer,
            match_url=_match_url(match),
        )


def match_declined(session: Session, match: Match) -> None:
    """Coordinators learn that a volunteer declined, so they can find someone else."""
    for coordinator in coordinators(session):
        mail.queue_for_user(
            session,
            coordinator,
            "match_declined",
            _l("Absage für „%(title)s“", title=match.need.title),
            match=match,
            need=match.need,
            volunteer=match.volunteer.user,
            need_url=mail.absolute_url("needs.detail", need_id=match.need_id),
        )


def new_offer(session: Session, match: Match) -> None:
    """Coordinators learn that a volunteer offered help."""
    for coordinator in coordinators(session):
        mail.queue_for_user(
            session,
            coordinator,
            "new_offer",
            _l("Neues Hilfsangebot für „%(title)s“", title=match.need.title),
            need=match.need,
            volunteer=match.volunteer.user,
            queue_url=mail.absolute_url("coordination.queue"),
        )
