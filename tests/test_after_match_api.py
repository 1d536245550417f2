"""Read access to a match's thread and meetings through the API, for its participants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from after_match import build_scene
from api_support import assert_problem, bearer, token_for

from matching.matches import meetings, messages
from matching.models import utcnow


@pytest.fixture()
def scene(db, make_user, make_volunteer, make_initiative, make_need):
    scene = build_scene(
        db, make_user, make_volunteer, make_initiative, make_need, status="accepted"
    )
    now = utcnow()
    messages.post(db.session, scene.volunteer.user, scene.match, "Frage <b>eins</b>", now=now)
    times = [
        meetings.ProposedTime(now + timedelta(days=d), now + timedelta(days=d, hours=1))
        for d in (2, 3)
    ]
    meetings.propose(
        db.session, scene.member, scene.match, times, "video", "https://m.example.org/a", now=now
    )
    db.session.commit()
    return scene


def test_participants_read_the_thread_and_meetings(client, scene):
    base = f"/api/v1/matches/{scene.match.id}"
    for person in (scene.volunteer.user, scene.member, scene.coordinator):
        headers = bearer(token_for(person))
        [message] = client.get(f"{base}/messages", headers=headers).get_json()
        assert message["text"] == "Frage <b>eins</b>" and message["author_role"] == "volunteer"
        assert message["author_first_name"] == "Vera" and message["erased"] is False
        assert "email" not in str(message)
        [meeting] = client.get(f"{base}/meetings", headers=headers).get_json()
        assert meeting["status"] == "proposed" and meeting["place_kind"] == "video"
        assert len(meeting["options"]) == 2 and meeting["sequence"] == 0


def test_outsiders_get_404(client, scene):
    headers = bearer(token_for(scene.outsider))
    base = f"/api/v1/matches/{scene.match.id}"
    assert_problem(client.get(f"{base}/messages", headers=headers), 404, "not-found")
    assert_problem(client.get(f"{base}/meetings", headers=headers), 404, "not-found")
    assert client.get(f"{base}/messages").status_code == 401


def test_the_initiative_completes_through_the_api(client, db, scene):
    headers = bearer(token_for(scene.member))
    response = client.post(f"/api/v1/matches/{scene.match.id}/complete", headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "completed"


def test_the_openapi_document_describes_them(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "get" in doc["paths"]["/matches/{match_id}/messages"]
    assert "get" in doc["paths"]["/matches/{match_id}/meetings"]
    assert {"ThreadMessage", "Meeting", "MeetingTime"} <= set(doc["components"]["schemas"])
