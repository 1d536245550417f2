"""The Engagementnachweis: initiatives, phases, dates and meetings; no message content."""

from __future__ import annotations

from datetime import timedelta

import pytest
from after_match import build_scene

from matching import matches
from matching.matches import meetings, messages
from matching.models import utcnow


@pytest.fixture()
def scene(db, make_user, make_volunteer, make_initiative, make_need):
    scene = build_scene(
        db, make_user, make_volunteer, make_initiative, make_need, status="accepted"
    )
    now = utcnow()
    messages.post(db.session, scene.member, scene.match, "Geheimer Inhalt", now=now)
    times = [meetings.ProposedTime(now + timedelta(hours=2), now + timedelta(hours=3))]
    meeting = meetings.propose(db.session, scene.member, scene.match, times, "phone", "", now=now)
    meetings.pick(db.session, scene.volunteer.user, meeting, meeting.options[0].id, now=now)
    meeting.starts_at = now - timedelta(days=1)  # it took place
    matches.change_status(db.session, scene.volunteer.user, scene.match, "complete", now=now)
    db.session.commit()
    return scene


def test_the_volunteer_prints_the_record(client, auth, scene):
    auth.login("vera@example.org")
    assert "/engagementnachweis" in client.get("/uebersicht").get_data(as_text=True)
    page = client.get("/engagementnachweis").get_data(as_text=True)
    assert "Engagementnachweis" in page and "Vera Muster" in page
    assert "Nachbarschaft Gablenberg" in page and "Start / Akquise" in page
    assert '<td class="num" data-label="Treffen">1</td>' in page  # one meeting
    assert "Geheimer Inhalt" not in page and "Leute finden" not in page


def test_only_volunteers_have_one(client, auth, scene):
    auth.login("ines@example.org")
    assert client.get("/engagementnachweis").status_code == 404
