"""Messages and meetings in the DSGVO export, in erasure, and under the retention period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from after_match import build_scene
from sqlalchemy import func, select

from jobs import tasks
from matching import matches, privacy
from matching.matches import meetings, messages
from matching.models import MatchMessage, OutboxMessage, utcnow


@pytest.fixture()
def scene(db, make_user, make_volunteer, make_initiative, make_need):
    scene = build_scene(
        db, make_user, make_volunteer, make_initiative, make_need, status="accepted"
    )
    now = utcnow()
    messages.post(db.session, scene.volunteer.user, scene.match, "Meine Nummer: 0711 555", now=now)
    messages.post(db.session, scene.member, scene.match, "Danke, ich rufe an.", now=now)
    times = [meetings.ProposedTime(now + timedelta(days=2), now + timedelta(days=2, hours=1))]
    meeting = meetings.propose(
        db.session,
        scene.volunteer.user,
        scene.match,
        times,
        "address",
        "Gablenberger Hauptstr. 9",
        now=now,
    )
    meetings.pick(db.session, scene.member, meeting, meeting.options[0].id, now=now)
    db.session.commit()
    scene.meeting = meeting
    return scene


def test_export_holds_messages_and_meetings(db, scene):
    data = privacy.export(db.session, scene.volunteer.user)
    assert [m["text"] for m in data["messages_written"]] == ["Meine Nummer: 0711 555"]
    [meeting] = data["meetings"]
    assert meeting["place"] == "Gablenberger Hauptstr. 9" and meeting["proposed_by_you"]
    assert meeting["status"] == "confirmed" and len(meeting["proposed_times"]) == 1
    other = privacy.export(db.session, scene.member)
    assert [m["text"] for m in other["messages_written"]] == ["Danke, ich rufe an."]
    assert other["meetings"][0]["proposed_by_you"] is False


def test_erasure_leaves_a_placeholder_and_removes_meeting_details(client, db, auth, scene):
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.calendar.contains("vera@example.org"))
        )
        == 2
    )  # both invitations name her
    privacy.erase(db.session, scene.volunteer.user, now=utcnow())
    db.session.commit()

    mine, theirs = db.session.scalars(select(MatchMessage).order_by(MatchMessage.id)).all()
    assert mine.body == "" and mine.author_name == "" and mine.erased_at is not None
    assert theirs.body == "Danke, ich rufe an."
    db.session.refresh(scene.meeting)
    assert scene.meeting.place == ""
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.calendar.contains("vera@example.org"))
        )
        == 0
    )
    # The meeting ended with the match: the initiative's calendar gets the cancellation,
    # which no longer names her; she gets nothing.
    [cancelled] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "meeting_cancelled")
    ).all()
    assert cancelled.recipient == "ines@example.org" and "METHOD:CANCEL" in cancelled.calendar

    auth.login("ines@example.org")
    page = client.get(f"/vermittlungen/{scene.match.id}/nachrichten").get_data(as_text=True)
    assert "Diese Nachricht wurde gelöscht." in page and "0711 555" not in page
    assert "Danke, ich rufe an." in page


def test_retention_deletes_messages_of_matches_ended_a_year_ago(db, scene):
    now = utcnow()
    matches.change_status(db.session, scene.volunteer.user, scene.match, "complete", now=now)
    db.session.commit()
    assert tasks.apply_retention(db.session, now + timedelta(days=364))["messages_deleted"] == 0
    assert tasks.apply_retention(db.session, now + timedelta(days=366))["messages_deleted"] == 2
    assert db.session.scalar(select(func.count()).select_from(MatchMessage)) == 0


def test_retention_keeps_messages_of_live_matches(db, scene):
    later = utcnow() + timedelta(days=800)
    assert tasks.apply_retention(db.session, later)["messages_deleted"] == 0


def test_my_data_download_includes_messages(client, auth, scene):
    auth.login("vera@example.org")
    response = client.get("/konto/meine-daten.json")
    assert "Meine Nummer: 0711 555" in response.get_data(as_text=True)
