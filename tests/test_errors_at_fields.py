"""Refused forms name every mistake at once, each at its field, as the registration does.

The standard: 422, an error summary whose items link to the field, the field marked
``aria-invalid="true"`` and its message next to it, tied to it by ``aria-describedby``.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from after_match import build_scene
from html_reader import Page
from sqlalchemy import func, select
from support import post_form
from test_meetings import day, times_form

from matching import matches
from matching.errors import InvalidInput
from matching.matches import finishing, meetings
from matching.models import (
    AuditEntry,
    Meeting,
    MeetingOption,
    ProfileStatus,
    Role,
    utcnow,
)

PLACE_MISSING = "Bitte geben Sie die Adresse des Treffpunkts an."
END_BEFORE_START = "Das Ende muss nach dem Beginn liegen."
NO_OUTCOME = "Bitte wählen Sie: ja, verschoben oder nein."
NO_REASON = "Bitte schreiben Sie kurz, was im Profil noch fehlt."
EMPTY_LOOK_BACK = (
    "Bitte beantworten Sie mindestens eine der beiden Fragen: was geholfen hat "
    "oder welches Thema als Nächstes ansteht."
)


@pytest.fixture()
def scene(db, make_user, make_volunteer, make_initiative, make_need):
    return build_scene(db, make_user, make_volunteer, make_initiative, make_need, status="accepted")


def assert_error_at(page: Page, field_id: str, message: str, *, control_id: str | None = None):
    """``message`` linked from the summary, shown at ``field_id`` and tied to its control.

    ``control_id`` is the element the summary links to and that is marked invalid (the first
    radio button of a group); the group's fieldset carries ``aria-describedby`` then.
    """
    control_id = control_id or field_id
    summary = page.find("div", class_="error-summary")
    assert summary is not None, "no error summary"
    links = {a.get("href"): a.text for a in summary.find_all("a")}
    assert links.get(f"#{control_id}") == message, links
    control = page.by_id(control_id)
    assert control is not None and control.get("aria-invalid") == "true", control
    assert page.field_error(field_id) == message
    described = control if control.get("type") != "radio" else control.parent.parent
    assert f"{field_id}-error" in (described.get("aria-describedby") or "").split()


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- 1a: the meeting form ------------------------------------------------------------------


def test_the_meeting_form_names_every_mistake_at_its_field_at_once(client, db, auth, scene):
    auth.login("vera@example.org")
    data = times_form((day(3), "11:00", "10:00"), kind="address", place="")
    response = post_form(client, f"/vermittlungen/{scene.match.id}/treffen", data)
    assert response.status_code == 422
    page = Page.of(response)
    assert_error_at(page, "times-0-end", END_BEFORE_START)
    assert_error_at(page, "place", PLACE_MISSING)
    # Nothing said as plain text only, and nothing else marked.
    assert [
        li.find("a") is not None for li in page.find("div", class_="error-summary").find_all("li")
    ] == [True, True]
    assert len(page.find_all(aria_invalid="true")) == 2
    assert count(db, Meeting) == 0 and count(db, MeetingOption) == 0


@pytest.mark.parametrize(
    ("rows", "field_id", "message"),
    [
        (
            [(day(-1), "10:00", "11:00")],
            "times-0-day",
            "Eine der Zeiten liegt in der Vergangenheit.",
        ),
        (
            [(day(3), "10:00", "11:00"), (day(3), "10:00", "11:30")],
            "times-1-start",
            "Bitte schlagen Sie verschiedene Zeiten vor.",
        ),
        (
            [(day(3), "10:00", "18:30")],
            "times-0-end",
            "Ein Treffen dauert zwischen 15 Minuten und 8 Stunden.",
        ),
        ([], "times-0-day", "Bitte schlagen Sie mindestens eine Zeit vor."),
    ],
)
def test_each_rule_of_the_meeting_service_is_said_at_its_field(
    client, db, auth, scene, rows, field_id, message
):
    auth.login("vera@example.org")
    response = post_form(client, f"/vermittlungen/{scene.match.id}/treffen", times_form(*rows))
    assert response.status_code == 422
    assert_error_at(Page.of(response), field_id, message)
    assert count(db, Meeting) == 0


def test_a_video_meeting_without_a_link_is_said_at_the_place(client, db, auth, scene):
    auth.login("ines@example.org")
    data = times_form((day(3), "10:00", "11:00"), kind="video", place="meet.example.org")
    response = post_form(client, f"/vermittlungen/{scene.match.id}/treffen", data)
    assert response.status_code == 422
    message = "Bitte geben Sie den Link zum Video-Treffen an (beginnt mit https://)."
    assert_error_at(Page.of(response), "place", message)


# --- 1b: a profile sent back without a reason ----------------------------------------------


def test_returning_a_profile_without_a_reason_marks_the_reason(
    client, db, auth, make_user, make_volunteer, mailbox
):
    profile = make_volunteer("vera@example.org", status=ProfileStatus.PENDING)
    make_user("koo@example.org", roles=(Role.COORDINATOR,))
    auth.login("koo@example.org")
    response = post_form(
        client,
        f"/koordination/profile/{profile.id}/zurueck",
        {"reason": ""},
        token_from=f"/koordination/profile/{profile.id}",
    )
    assert response.status_code == 422
    page = Page.of(response)
    assert_error_at(page, "reason", NO_REASON)
    assert page.find("form", action=f"/koordination/profile/{profile.id}/zurueck") is not None
    db.session.refresh(profile)
    assert profile.status == ProfileStatus.PENDING and mailbox == []


# --- 1c: "Hat das Treffen stattgefunden?" without an answer --------------------------------


def _ended_meeting(db, scene) -> Meeting:
    now = utcnow()
    time = meetings.ProposedTime(now + timedelta(hours=1), now + timedelta(hours=2))
    meeting = meetings.propose(
        db.session, scene.volunteer.user, scene.match, [time], "phone", "", now=now
    )
    meetings.pick(db.session, scene.member, meeting, meeting.options[0].id, now=now)
    meeting.starts_at = now - timedelta(hours=3)  # it has happened
    db.session.commit()
    return meeting


def test_a_meeting_outcome_without_an_answer_marks_the_question(client, db, auth, scene):
    meeting = _ended_meeting(db, scene)
    auth.login("vera@example.org")
    detail = f"/vermittlungen/{scene.match.id}"
    response = post_form(client, f"{detail}/treffen/{meeting.id}/ergebnis", {}, token_from=detail)
    assert response.status_code == 422
    page = Page.of(response)
    assert_error_at(page, "outcome", NO_OUTCOME, control_id="outcome-0")
    assert all(r.get("aria-invalid") == "true" for r in page.find_all("input", name="outcome"))
    assert page.find("h1") is not None and "Leute finden" in page.h1
    db.session.refresh(meeting)
    assert meeting.outcome is None

    # Answered, the question goes and the page is plain again.
    answered = post_form(
        client,
        f"{detail}/treffen/{meeting.id}/ergebnis",
        {"outcome": "held"},
        token_from=detail,
    )
    assert answered.status_code == 302
    db.session.refresh(meeting)
    assert meeting.outcome == "held"


def test_the_outcome_question_on_the_match_page_is_unmarked_at_first(client, db, auth, scene):
    _ended_meeting(db, scene)
    auth.login("ines@example.org")
    page = Page.of(client.get(f"/vermittlungen/{scene.match.id}"))
    radios = page.find_all("input", name="outcome")
    assert [r.get("value") for r in radios] == ["held", "moved", "not_held"]
    assert page.find("div", class_="error-summary") is None
    assert page.find_all(aria_invalid="true") == []


# --- 2: an empty look back ------------------------------------------------------------------


def test_an_empty_look_back_is_refused_and_stores_nothing(client, db, auth, scene):
    matches.change_status(db.session, scene.volunteer.user, scene.match, "complete", now=utcnow())
    db.session.commit()
    url = f"/vermittlungen/{scene.match.id}/rueckblick"
    auth.login("vera@example.org")
    for data in ({}, {"helped": "   ", "next_phase": ""}):
        response = post_form(client, url, data)
        assert response.status_code == 422
        assert_error_at(Page.of(response), "helped", EMPTY_LOOK_BACK)
    db.session.refresh(scene.match)
    assert scene.match.volunteer_feedback_at is None
    assert not scene.match.volunteer_feedback and scene.match.volunteer_next_phase is None
    logged = select(AuditEntry).where(AuditEntry.action == "match.volunteer_feedback")
    assert db.session.scalars(logged).all() == []
    # Not locked: the form is still there, and one answer is enough.
    assert client.get(url).status_code == 200
    assert post_form(client, url, {"next_phase": "cooperation"}).status_code == 302
    db.session.refresh(scene.match)
    assert scene.match.volunteer_next_phase == "cooperation"
    assert scene.match.volunteer_feedback == ""


def test_the_service_refuses_an_empty_look_back_at_the_first_question(db, scene):
    matches.change_status(db.session, scene.volunteer.user, scene.match, "complete", now=utcnow())
    with pytest.raises(InvalidInput) as refused:
        finishing.look_back(db.session, scene.volunteer.user, scene.match, " ", "", now=utcnow())
    assert refused.value.field == "helped"
    assert scene.match.volunteer_feedback_at is None


def test_required_marks_are_explained_and_belong_to_groups_not_boxes(client, db, auth):
    """A refused sign-up: the privacy box says it is invalid, every required group is marked
    and the mark is explained; a group's boxes are not each "required"."""
    from support import post_form

    page = post_form(client, "/registrieren", {"role": "", "first_name": ""})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Felder mit * müssen Sie ausfüllen." in html
    privacy_box = re.search(r'<input[^>]*id="privacy"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in privacy_box
    legend = re.search(r"<legend>Ich mache mit als.*?</legend>", html, re.S).group(0)
    assert 'class="req"' in legend


def test_a_group_of_checkboxes_is_required_as_a_group(client, db, auth, make_initiative):
    _initiative, member = make_initiative()
    auth.login(member.email)
    html = client.get("/meine-anfragen/neu").get_data(as_text=True)
    boxes = re.findall(r'<input[^>]*name="phases"[^>]*>', html)
    assert boxes and not any(" required" in box for box in boxes)
    legend = re.search(r"<legend>Zu welchem Thema.*?</legend>", html, re.S).group(0)
    assert 'class="req"' in legend
