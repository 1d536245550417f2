"""Changing how many experts a need wants settles its matches, as a match's own step does.

Lowering "experts wanted" to the number already accepted left the need open for good: still
listed, its waiting proposals in the queue (approving them could only be refused), offers
still taken, the digest saying "we look for more". Lowering it below the experts already
asked left a second expert asked for a place that no longer existed.
"""

from __future__ import annotations

import pytest
from db_state import changed_tables, snapshot

from matching import matches, needs
from matching.errors import InvalidInput
from matching.models import MatchOrigin, MatchStatus, NeedStatus, Role, utcnow


@pytest.fixture()
def two_places(db, make_user, make_volunteer, make_initiative, make_need):
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    initiative, member = make_initiative()
    need = make_need(initiative, title="Leute finden")
    need.experts_wanted = 2
    people = [make_volunteer(f"v{i}@example.org", first_name=f"V{i}") for i in range(3)]
    db.session.commit()
    made = [
        matches.create_match(db.session, None, need, p, origin=MatchOrigin.ENGINE, now=utcnow())
        for p in people
    ]
    matches.change_status(db.session, coordinator, made[0], "approve", now=utcnow())
    matches.change_status(db.session, people[0].user, made[0], "accept", now=utcnow())
    db.session.commit()
    return coordinator, member, need, made


def _edit(need, wanted: int) -> needs.NeedInput:
    return needs.NeedInput(
        title=need.title,
        description=need.description or "Wir brauchen Rat.",
        phases=list(need.phases),
        district=need.district,
        language=need.language,
        formats=sorted(need.formats),
        urgency=need.urgency,
        experts_wanted=wanted,
        expires_on=need.expires_on,
    )


def test_lowering_to_the_accepted_experts_matches_the_need_and_ends_the_proposals(db, two_places):
    _coordinator, member, need, made = two_places
    needs.update_need(db.session, member, need, _edit(need, 1), now=utcnow())
    db.session.commit()
    db.session.refresh(need)
    assert need.status == NeedStatus.MATCHED
    for match in made[1:]:
        db.session.refresh(match)
        assert match.status == MatchStatus.CANCELLED


def test_lowering_below_the_experts_asked_is_refused_and_changes_nothing(db, two_places):
    coordinator, member, need, made = two_places
    matches.change_status(db.session, coordinator, made[1], "approve", now=utcnow())
    db.session.commit()
    before = snapshot(db.session)
    with pytest.raises(InvalidInput, match="Schon vergeben: 2"):
        needs.update_need(db.session, member, need, _edit(need, 1), now=utcnow())
    db.session.rollback()
    assert changed_tables(before, snapshot(db.session)) == []
    db.session.refresh(need)
    assert need.experts_wanted == 2 and need.status == NeedStatus.OPEN


def test_raising_the_places_keeps_the_proposals(db, two_places):
    _coordinator, member, need, made = two_places
    needs.update_need(db.session, member, need, _edit(need, 3), now=utcnow())
    db.session.commit()
    db.session.refresh(need)
    assert need.status == NeedStatus.OPEN and need.experts_wanted == 3
    for match in made[1:]:
        db.session.refresh(match)
        assert match.status == MatchStatus.PROPOSED


def test_an_edit_rescores_waiting_proposals_and_ends_those_that_no_longer_fit(
    db, make_user, make_volunteer, make_initiative, make_need
):
    """The queue and the approval mail read a proposal's stored reasons: after the need moved
    to another district they still said "Berät im Stadtbezirk Ost"."""
    initiative, member = make_initiative()
    need = make_need(initiative, title="Leute finden")
    need.district = "ost"
    ost = make_volunteer("ost@example.org", districts=("ost",))
    city = make_volunteer("stadt@example.org", districts=(), whole_city=True)
    db.session.commit()
    only_ost, anywhere = (
        matches.create_match(db.session, None, need, p, origin=MatchOrigin.ENGINE, now=utcnow())
        for p in (ost, city)
    )
    db.session.commit()
    edit = _edit(need, 1)
    edit.district = "zuffenhausen"
    edit.formats = ["in_person"]  # on site only: no phone to reach it from Ost
    needs.update_need(db.session, member, need, edit, now=utcnow())
    db.session.commit()
    db.session.refresh(only_ost)
    db.session.refresh(anywhere)
    assert only_ost.status == MatchStatus.CANCELLED  # Ost's volunteer does not serve there
    assert anywhere.status == MatchStatus.PROPOSED
    words = " ".join(part["de"] for part in anywhere.explanation)
    assert "Ost" not in words and "ganz Stuttgart" in words
