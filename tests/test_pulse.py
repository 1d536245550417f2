"""Coordinators see the pulse of accepted matches: last contact, and the ones gone quiet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from after_match import build_scene
from sqlalchemy import select

from matching import digests
from matching.matches import meetings, messages, pulse
from matching.models import OutboxMessage, utcnow


@pytest.fixture()
def scene(db, make_user, make_volunteer, make_initiative, make_need):
    return build_scene(db, make_user, make_volunteer, make_initiative, make_need, status="accepted")


def test_a_match_quiet_for_ten_days_is_highlighted_and_in_the_digest(client, db, auth, scene):
    now = utcnow()
    scene.match.accepted_at = now - timedelta(days=11)
    db.session.commit()

    [quiet] = pulse.silent(db.session, now)
    assert quiet.id == scene.match.id and quiet.days_quiet == 11
    assert quiet.volunteer_name == "Vera Muster" and quiet.initiative == "Nachbarschaft Gablenberg"

    auth.login("koo@example.org")
    page = client.get("/koordination/").get_data(as_text=True)
    assert "Laufende Beratungen: letzter Kontakt" in page
    assert 'class="highlight"' in page and "Kein Kontakt seit 11 Tagen" in page
    auth.logout()

    run = digests.queue_digests(db.session, now, kinds=["coordinator"])
    assert run.queued["coordinator"] == 1
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "digest_coordinator"))
    assert "1 Beratung ohne Nachricht und ohne Treffen seit mehr als 10 Tagen" in row.text_body
    assert f"http://localhost/vermittlungen/{scene.match.id}" in row.text_body


def test_nine_days_is_not_yet_quiet(db, scene):
    scene.match.accepted_at = utcnow() - timedelta(days=9)
    db.session.commit()
    assert pulse.silent(db.session, utcnow()) == []


def test_a_message_or_a_meeting_counts_as_contact(client, db, auth, scene):
    now = utcnow()
    scene.match.accepted_at = now - timedelta(days=20)
    messages.post(db.session, scene.member, scene.match, "Hallo!", now=now - timedelta(days=15))
    db.session.commit()
    [row] = pulse.accepted(db.session, now)
    assert not row.silent and row.last_contact_at == now - timedelta(days=15)

    times = [meetings.ProposedTime(now + timedelta(days=2), now + timedelta(days=2, hours=1))]
    meeting = meetings.propose(db.session, scene.member, scene.match, times, "phone", "", now=now)
    meetings.pick(db.session, scene.volunteer.user, meeting, meeting.options[0].id, now=now)
    db.session.commit()
    [row] = pulse.accepted(db.session, now)
    assert row.next_meeting_at == now + timedelta(days=2)

    auth.login("koo@example.org")
    page = client.get(f"/vermittlungen/{scene.match.id}").get_data(as_text=True)
    assert "Letzter Kontakt:" in page and "Nächstes Treffen:" in page
    dashboard = client.get("/koordination/").get_data(as_text=True)
    assert 'class="highlight"' not in dashboard


def test_an_accepted_match_without_its_time_still_shows_on_the_overview(client, db, auth, scene):
    """Matches accepted before the time was recorded have no accepted_at: no 500, no alarm."""
    scene.match.accepted_at = None
    db.session.commit()

    [row] = pulse.accepted(db.session, utcnow())
    assert row.id == scene.match.id and not row.silent
    auth.login("koo@example.org")
    assert client.get("/koordination/").status_code == 200


def test_a_meeting_only_proposed_is_no_silence_and_the_row_says_so(client, db, auth, scene):
    """Times proposed but no meeting held yet: the match is not quiet, and its row says a
    meeting is being arranged instead of "noch keiner" next to no alarm."""
    now = utcnow()
    scene.match.accepted_at = now - timedelta(days=20)
    times = [meetings.ProposedTime(now + timedelta(days=2), now + timedelta(days=2, hours=1))]
    meetings.propose(db.session, scene.member, scene.match, times, "phone", "", now=now)
    db.session.commit()
    [row] = pulse.accepted(db.session, now)
    assert not row.silent and row.last_contact_at is None
    assert row.meeting_activity_at is not None
    auth.login("koo@example.org")
    dashboard = client.get("/koordination/").get_data(as_text=True)
    assert "Termin besprochen am" in dashboard
    assert "noch keiner" not in dashboard
