"""Who receives mail meant for a role."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.models import Role, User, UserRole


def coordinators(session: Session) -> list[User]:
    """Everyone who coordinates (coordinators and admins), enabled accounts only."""
    return session.scalars(
        select(User)
        .join(UserRole)
        .where(UserRole.role.in_([Role.COORDINATOR, Role.ADMIN]), User.disabled_at.is_(None))
        .distinct()
        .order_by(User.id)
    ).all()
