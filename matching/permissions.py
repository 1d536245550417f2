"""Who may do what: small predicates shared by services and views."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.models import InitiativeMember, Need, Role, User


def is_coordinator(user: User | None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.has_role(Role.COORDINATOR) or user.has_role(Role.ADMIN)


def is_member(session: Session, user: User | None, initiative_id: int) -> bool:
    """True when the user acts for this initiative."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (
        session.scalar(
            select(InitiativeMember.user_id).where(
                InitiativeMember.initiative_id == initiative_id,
                InitiativeMember.user_id == user.id,
            )
        )
        is not None
    )


def can_manage_need(session: Session, user: User | None, need: Need) -> bool:
    """Members of the need's initiative manage it; coordinators may act for them."""
    return is_coordinator(user) or is_member(session, user, need.initiative_id)


def acts_for_initiative(session: Session, user: User | None, need: Need) -> bool:
    """Who edits and publishes a need on the initiative's behalf.

    Its members; and the coordinators while the initiative has no member yet (it called
    by phone, and coordination took the need down). Once someone takes the initiative
    over with an account, the initiative speaks for itself.
    """
    if is_member(session, user, need.initiative_id):
        return True
    return is_coordinator(user) and not need.initiative.member_rows
