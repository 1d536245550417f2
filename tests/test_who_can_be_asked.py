"""A proposal is approved only for a volunteer who can be asked now, and an erased account is
nobody to assign.

Found by walking the service: a paused volunteer was asked (and mailed) during the pause; a
profile sent back for review, or waiting for it, could be approved and then accepted; an
erased account stayed "approved", was listed in the coordinators' name search and could be
assigned by hand, filling the need's place. Erasure and the retention job also kept the
volunteer's own look back.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from db_state import changed_tables, snapshot
from sqlalchemy import select

from matching import matches, privacy
from matching.errors import TransitionError
from matching.models import Match, MatchOrigin, MatchStatus, ProfileStatus, Role, utcnow


@pytest.fixture()
def waiting(db, make_user, make_volunteer, make_initiative, make_need):
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    initiative, _member = make_initiative()
    need = make_need(initiative, title="Leute finden")
    volunteer = make_volunteer("vera@example.org", first_name="Vera")
    match = matches.create_match(
        db.session, None, need, volunteer, origin=MatchOrigin.ENGINE, now=utcnow()
    )
    db.session.commit()
    return coordinator, volunteer, match


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("pause", "macht gerade Pause"),
        ("pending", "wartet gerade auf Freigabe"),
        ("returned", "gerade nicht freigegeben"),
        ("erased", "Dieses Konto gibt es nicht mehr"),
    ],
)
def test_approval_waits_for_a_volunteer_who_can_be_asked(db, waiting, change, words):
    coordinator, volunteer, match = waiting
    if change == "pause":
        volunteer.paused_until = (utcnow() + timedelta(days=30)).date()
    elif change == "erased":
        volunteer.user.disabled_at = utcnow()
    else:
        volunteer.status = ProfileStatus(change)
    db.session.commit()
    before = snapshot(db.session)
    with pytest.raises(TransitionError, match=words):
        matches.change_status(db.session, coordinator, match, "approve", now=utcnow())
    db.session.rollback()
    assert changed_tables(before, snapshot(db.session)) == []
    assert db.session.get(Match, match.id).status == MatchStatus.PROPOSED


def test_a_pause_that_ended_is_no_obstacle(db, waiting):
    coordinator, volunteer, match = waiting
    volunteer.paused_until = (utcnow() - timedelta(days=1)).date()
    db.session.commit()
    matches.change_status(db.session, coordinator, match, "approve", now=utcnow())
    db.session.commit()
    assert match.status == MatchStatus.APPROVED


def test_an_erased_volunteer_is_out_of_use_and_keeps_no_look_back(
    client, db, auth, waiting, make_need
):
    coordinator, volunteer, match = waiting
    done = Match(
        need_id=make_need(match.need.initiative, title="Früher").id,
        volunteer_id=volunteer.id,
        status=MatchStatus.COMPLETED,
        volunteer_feedback="Mein Rückblick",
    )
    db.session.add(done)
    db.session.commit()
    privacy.erase(db.session, volunteer.user, now=utcnow())
    db.session.commit()
    db.session.refresh(volunteer)
    assert volunteer.status != ProfileStatus.APPROVED
    assert db.session.scalar(select(Match.volunteer_feedback).where(Match.id == done.id)) == ""
    auth.login(coordinator.email)
    page = client.get(f"/koordination/anfragen/{match.need_id}/zuordnen?name=Gel")
    assert "Gelöschtes Konto" not in page.get_data(as_text=True)
    with pytest.raises(TransitionError):
        matches.create_match(
            db.session,
            coordinator,
            match.need,
            volunteer,
            origin=MatchOrigin.MANUAL,
            now=utcnow(),
        )
    db.session.rollback()


def test_the_queue_says_what_stops_an_approval(client, db, auth, waiting):
    coordinator, volunteer, _match = waiting
    volunteer.paused_until = (utcnow() + timedelta(days=30)).date()
    db.session.commit()
    auth.login(coordinator.email)
    assert "Macht Pause bis" in client.get("/koordination/vorschlaege").get_data(as_text=True)
    volunteer.paused_until = None
    volunteer.status = ProfileStatus.PENDING
    db.session.commit()
    page = client.get("/koordination/vorschlaege").get_data(as_text=True)
    assert "Profil wartet auf Freigabe" in page and "Macht Pause" not in page
