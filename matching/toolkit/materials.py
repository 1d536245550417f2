"""The toolkit's read side: approved materials for some phases, or all of them by phase.

Apart from ``toolkit`` (which notifies coordinators) so that mails can list materials.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from matching.models import Material, MaterialStatus
from matching.reference import PHASE_CODES

PHASE_ORDER = case({code: i for i, code in enumerate(PHASE_CODES)}, value=Material.phase)


def materials_for(
    session: Session, phases: Iterable[str], limit: int | None = None
) -> list[Material]:
    """Approved materials for these phases, in phase order, then by title; one statement."""
    wanted = [p for p in PHASE_CODES if p in set(phases)]
    if not wanted:
        return []
    query = (
        select(Material)
        .where(Material.status == MaterialStatus.APPROVED, Material.phase.in_(wanted))
        .order_by(PHASE_ORDER, Material.title, Material.id)
        .limit(limit or current_app.config["TOOLKIT_MATERIALS_LISTED"])
    )
    return list(session.scalars(query))


def toolkit_by_phase(session: Session) -> list[tuple[str, list[Material]]]:
    """The public toolkit: every phase with its approved materials; one statement."""
    rows = session.scalars(
        select(Material)
        .where(Material.status == MaterialStatus.APPROVED)
        .order_by(PHASE_ORDER, Material.title, Material.id)
    ).all()
    grouped: dict[str, list[Material]] = {code: [] for code in PHASE_CODES}
    for material in rows:
        grouped[material.phase].append(material)
    return list(grouped.items())
