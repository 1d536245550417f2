"""Who takes part in a match, and in which role: the volunteer, the initiative, coordinators."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from matching.models import SERVED_MATCH_STATUSES, Match, MatchStatus, Need, ThreadRole, User
from matching.permissions import is_coordinator, is_member

ROLE_LABELS = {
    ThreadRole.VOLUNTEER: _l("Expert:in"),
    ThreadRole.INITIATIVE: _l("Initiative"),
    ThreadRole.COORDINATOR: _l("Koordination"),
}


def initiative_knows_of(match: Match) -> bool:
    """Whether the initiative knows of the match: from the coordination's yes on.

    A waiting proposal, a rejected one, or one that ended before anybody approved it stays
    between the coordination and the expert: the initiative never learns who was considered.
    """
    return match.status in SERVED_MATCH_STATUSES or (
        match.status in (MatchStatus.DECLINED, MatchStatus.CANCELLED)
        and match.decided_at is not None
    )


def role_in(session: Session, user: User | None, match: Match) -> ThreadRole | None:
    """The user's part in the match, or None for someone outside it (a member of the
    initiative is outside a match the initiative does not know of)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if match.volunteer.user_id == user.id:
        return ThreadRole.VOLUNTEER
    if initiative_knows_of(match) and is_member(session, user, match.need.initiative_id):
        return ThreadRole.INITIATIVE
    if is_coordinator(user):
        return ThreadRole.COORDINATOR
    return None


def readable_reason(session: Session, reader: User | None, match: Match) -> str:
    """The match's written reason as far as ``reader`` may read it.

    Reasons are written to the coordination: a coordinator's why of a rejection or a cancel,
    a volunteer's why of a "no". Coordinators read them all; the volunteer reads their own
    "no" and a rejection's reason the coordinator chose to share; the initiative reads none.
    """
    role = role_in(session, reader, match)
    if role == ThreadRole.COORDINATOR:
        return match.reason or ""
    if role == ThreadRole.VOLUNTEER and (
        match.reason_shared or match.status == MatchStatus.DECLINED
    ):
        return match.reason or ""
    return ""


def initiative_people(match: Match) -> list[User]:
    """The initiative's members who can be mailed (enabled accounts)."""
    return need_people(match.need)


def need_people(need: Need) -> list[User]:
    """The members of the need's initiative who can be mailed (enabled accounts)."""
    return [row.user for row in need.initiative.member_rows if row.user.disabled_at is None]


def sides(match: Match) -> list[User]:
    """Everyone on the two sides of the match: the volunteer and the initiative's members."""
    volunteer = match.volunteer.user
    people = [volunteer] if volunteer.disabled_at is None else []
    return people + initiative_people(match)


def other_side(match: Match, role: str) -> list[User]:
    """Whom a message or meeting from ``role`` concerns: the other side (both for coordinators)."""
    if role == ThreadRole.VOLUNTEER:
        return initiative_people(match)
    if role == ThreadRole.INITIATIVE:
        volunteer = match.volunteer.user
        return [volunteer] if volunteer.disabled_at is None else []
    return sides(match)
