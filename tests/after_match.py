"""A match with its people, in the state a test needs, for the after-the-match tests."""

from __future__ import annotations

from dataclasses import dataclass

from matching import matches
from matching.models import Match, MatchOrigin, Need, Role, User, VolunteerProfile, utcnow


@dataclass
class Scene:
    volunteer: VolunteerProfile
    member: User
    coordinator: User
    outsider: User
    need: Need
    match: Match


def build_scene(db, make_user, make_volunteer, make_initiative, make_need, status="approved"):
    """Vera (volunteer), Ines (initiative), Katrin (coordinator), Otto (outsider), one match."""
    volunteer = make_volunteer("vera@example.org", first_name="Vera")
    volunteer.user.phone = "0711 555"
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,), first_name="Katrin")
    outsider = make_user("otto@example.org", roles=(Role.VOLUNTEER,), first_name="Otto")
    member = make_user("ines@example.org", roles=(Role.INITIATIVE,), first_name="Ines")
    initiative, member = make_initiative("Nachbarschaft Gablenberg", member=member)
    need = make_need(initiative, title="Leute finden")
    now = utcnow()
    match = matches.create_match(
        db.session, coordinator, need, volunteer, origin=MatchOrigin.MANUAL, now=now
    )
    if status in ("approved", "accepted", "completed"):
        matches.change_status(db.session, coordinator, match, "approve", now=now)
    if status in ("accepted", "completed"):
        matches.change_status(db.session, volunteer.user, match, "accept", now=now)
    if status == "completed":
        matches.change_status(db.session, volunteer.user, match, "complete", now=now)
    db.session.commit()
    return Scene(volunteer, member, coordinator, outsider, need, match)
