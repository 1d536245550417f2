"""The first meeting: propose up to three times, pick one (page or mail), move, cancel, follow up."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from after_match import build_scene
from sqlalchemy import func, select
from support import post_form

from jobs import tasks
from matching import matches
from matching.errors import InvalidInput, PermissionDenied, TransitionError
from matching.mail import to_email_message
from matching.matches import meetings
from matching.models import (
    AuditEntry,
    Meeting,
    MeetingOption,
    MeetingStatus,
    OutboxMessage,
    OutboxStatus,
    utcnow,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture()
def scene(db, make_user, make_volunteer, make_initiative, make_need):
    return build_scene(db, make_user, make_volunteer, make_initiative, make_need, status="accepted")


def day(offset: int) -> str:
    return (utcnow().astimezone(BERLIN) + timedelta(days=offset)).date().isoformat()


def times_form(*rows, kind="phone", place="") -> dict:
    data = {"place_kind": kind, "place": place}
    for index, (d, start, end) in enumerate(rows):
        data |= {f"times-{index}-day": d, f"times-{index}-start": start, f"times-{index}-end": end}
    return data


THREE = (
    (day(3), "10:00", "11:00"),
    (day(4), "18:30", "19:15"),
    (day(5), "09:00", "10:00"),
)


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def mails(db, kind: str) -> list[OutboxMessage]:
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    ).all()


def propose_url(scene) -> str:
    return f"/vermittlungen/{scene.match.id}/treffen"


def links(text: str) -> list[str]:
    return [
        u.removeprefix("http://localhost")
        for u in re.findall(r"http://localhost/mail/treffen/\S+", text)
    ]


def parse(calendar: str) -> icalendar.Event:
    parsed = icalendar.Calendar.from_ical(calendar)
    [event] = [c for c in parsed.walk() if c.name == "VEVENT"]
    return parsed, event


def test_propose_pick_from_mail_move_and_cancel(client, db, auth, scene):
    auth.login("ines@example.org")
    assert client.get(propose_url(scene)).status_code == 200
    response = post_form(client, propose_url(scene), times_form(*THREE))
    assert response.status_code == 302
    auth.logout()
    meeting = db.session.scalar(select(Meeting))
    assert meeting.status == MeetingStatus.PROPOSED and len(meeting.options) == 3
    assert meeting.proposed_by_role == "initiative"

    [proposal] = mails(db, "meeting_proposed")
    assert proposal.recipient == "vera@example.org"  # the other side only
    assert "Ines (Initiative) schlägt Zeiten" in proposal.text_body
    assert "Ort: Telefon" in proposal.text_body
    pick_links = links(proposal.text_body)
    assert len(pick_links) == 3

    # GET shows the choice and changes nothing; POST confirms (no log-in needed).
    page = client.get(pick_links[1])
    assert page.status_code == 200 and "Diese Zeit passt mir" in page.get_data(as_text=True)
    db.session.refresh(meeting)
    assert meeting.status == MeetingStatus.PROPOSED
    done = post_form(client, pick_links[1], {})
    assert "Der Termin steht" in done.get_data(as_text=True)
    db.session.refresh(meeting)
    assert meeting.status == MeetingStatus.CONFIRMED
    # The picked option's own day (THREE is reckoned once, when the module loads: a "day(4)"
    # reckoned again here would name the next day once Stuttgart's midnight passed between).
    picked_day = THREE[1][0]
    assert meeting.starts_at == datetime.fromisoformat(f"{picked_day}T18:30").replace(tzinfo=BERLIN)
    assert meeting.duration_minutes == 45

    confirmations = mails(db, "meeting_confirmed")
    assert {m.recipient for m in confirmations} == {"vera@example.org", "ines@example.org"}
    uid = None
    for row in confirmations:
        parsed, event = parse(row.calendar)
        assert parsed["METHOD"] == "REQUEST"
        assert event["SEQUENCE"] == 0
        uid = uid or str(event["UID"])
        assert str(event["UID"]) == uid and uid.startswith(meeting.uid)
        assert str(event["ORGANIZER"]) == "mailto:vernetzerboerse@example.org"
        attendees = {str(a) for a in event["ATTENDEE"]}
        assert attendees == {"mailto:vera@example.org", "mailto:ines@example.org"}
        assert event.decoded("DTSTART") == meeting.starts_at
        assert event.decoded("DTEND") == meeting.starts_at + timedelta(minutes=45)
        assert str(event["LOCATION"]) == "Telefon"
    # The mail itself carries the invitation as text/calendar and as an attachment.
    from matching.mail.outbox import _to_mail

    message = to_email_message(_to_mail(confirmations[0]), "Vernetzerbörse <v@example.org>")
    types = [part.get_content_type() for part in message.walk()]
    assert "text/calendar" in types and "application/ics" in types
    calendar_part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert calendar_part.get_param("method") == "REQUEST"

    # The same link again: the meeting is already confirmed, nothing changes.
    again = client.get(pick_links[0])
    assert again.status_code == 409 and "schon eine Zeit gewählt" in again.get_data(as_text=True)

    # The .ics is on the match page for both sides.
    auth.login("vera@example.org")
    detail = client.get(f"/vermittlungen/{scene.match.id}").get_data(as_text=True)
    ics_url = f"/vermittlungen/{scene.match.id}/treffen/{meeting.id}.ics"
    assert ics_url in detail
    download = client.get(ics_url)
    assert download.mimetype == "text/calendar"
    assert str(parse(download.get_data(as_text=True))[1]["UID"]) == uid

    # Moving: new times, same UID, higher SEQUENCE once the other side picks again.
    post_form(
        client,
        propose_url(scene),
        times_form((day(6), "17:00", "18:00"), kind="video", place="https://meet.example.org/x"),
    )
    auth.logout()
    db.session.refresh(meeting)
    assert meeting.status == MeetingStatus.PROPOSED and meeting.sequence == 1
    stale = client.get(pick_links[2])
    assert stale.status_code == 409 and "verschoben" in stale.get_data(as_text=True)
    [moved] = [m for m in mails(db, "meeting_proposed") if m.recipient == "ines@example.org"]
    assert "verschieben" in moved.text_body
    auth.login("ines@example.org")
    form_page = client.get(f"/vermittlungen/{scene.match.id}").get_data(as_text=True)
    [option_id] = re.findall(r'name="option" id="option-\d+" value="(\d+)"', form_page)
    post_form(
        client,
        f"/vermittlungen/{scene.match.id}/treffen/{meeting.id}/waehlen",
        {"option": option_id},
        token_from=f"/vermittlungen/{scene.match.id}",
    )
    db.session.refresh(meeting)
    assert meeting.status == MeetingStatus.CONFIRMED
    update = [m for m in mails(db, "meeting_confirmed") if "verschoben" in m.text_body]
    assert len(update) == 2
    parsed, event = parse(update[0].calendar)
    assert str(event["UID"]) == uid and event["SEQUENCE"] == 1
    assert str(event["LOCATION"]) == "https://meet.example.org/x"

    # Cancelling: METHOD:CANCEL with the same UID and a higher SEQUENCE.
    post_form(
        client,
        f"/vermittlungen/{scene.match.id}/treffen/{meeting.id}/absagen",
        {},
        token_from=f"/vermittlungen/{scene.match.id}",
    )
    auth.logout()
    db.session.refresh(meeting)
    assert meeting.status == MeetingStatus.CANCELLED and meeting.sequence == 2
    cancels = mails(db, "meeting_cancelled")
    assert len(cancels) == 2
    parsed, event = parse(cancels[0].calendar)
    assert parsed["METHOD"] == "CANCEL" and str(event["UID"]) == uid and event["SEQUENCE"] == 2
    gone = client.get(links(moved.text_body)[0])
    assert gone.status_code == 409 and "abgesagt" in gone.get_data(as_text=True)
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "meeting").order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "meeting.propose",
        "meeting.confirm",
        "meeting.move",
        "meeting.confirm",
        "meeting.cancel",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (times_form((day(-1), "10:00", "11:00")), "in der Vergangenheit"),
        (times_form(("9999-12-31", "23:00", "23:59")), "mehr als ein Jahr voraus"),
        (times_form(("31.12.9999", "10:00", "11:00")), "mehr als ein Jahr voraus"),
        (times_form((day(3), "10:00", "11:00"), (day(380), "10:00", "11:00")), "ein Jahr voraus"),
        (times_form((day(3), "11:00", "10:00")), "Das Ende muss nach dem Beginn liegen."),
        (times_form(*THREE, (day(6), "10:00", "11:00")), "höchstens drei Zeiten"),
        (times_form((day(3), "10:00", "")), "Bitte geben Sie Tag, Beginn und Ende an."),
        (times_form(), "mindestens eine Zeit"),
        (
            times_form((day(3), "10:00", "11:00"), kind="video", place="meet.example.org"),
            "https://",
        ),
        (times_form((day(3), "10:00", "11:00"), kind="address"), "Adresse"),
        (times_form((day(3), "10:00", "11:00"), kind="fax"), "Telefon, Video oder eine Adresse"),
        (times_form((day(3), "10:00", "18:30")), "zwischen 15 Minuten und 8 Stunden"),
    ],
)
def test_bad_proposals_are_refused_clearly_and_store_nothing(
    client, db, auth, scene, data, message
):
    auth.login("vera@example.org")
    response = post_form(client, propose_url(scene), data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(db, Meeting) == 0 and count(db, MeetingOption) == 0
    assert mails(db, "meeting_proposed") == []


def _propose(db, scene, by=None, hours=(72, 96)):
    now = utcnow()
    times = [
        meetings.ProposedTime(now + timedelta(hours=h), now + timedelta(hours=h, minutes=60))
        for h in hours
    ]
    meeting = meetings.propose(
        db.session, by or scene.volunteer.user, scene.match, times, "phone", "", now=now
    )
    db.session.commit()
    return meeting


@pytest.mark.parametrize("place", ["Hauptstr. 1\u202e", "Hauptstr.\u2066 1", "Haupt\x00str. 1"])
def test_the_service_refuses_hidden_characters_in_the_place(db, scene, place):
    """The API reaches the meeting without the page's form: the service checks the place."""
    now = utcnow()
    time = meetings.ProposedTime(now + timedelta(days=3), now + timedelta(days=3, hours=1))
    with pytest.raises(InvalidInput, match="Steuerzeichen"):
        meetings.propose(
            db.session, scene.volunteer.user, scene.match, [time], "address", place, now=now
        )
    assert count(db, Meeting) == 0


def test_a_time_more_than_a_year_ahead_is_refused_by_the_service(db, scene):
    now = utcnow()
    far = now + meetings.HORIZON + timedelta(minutes=1)
    with pytest.raises(InvalidInput, match="ein Jahr"):
        meetings.propose(
            db.session,
            scene.volunteer.user,
            scene.match,
            [meetings.ProposedTime(far, far + timedelta(hours=1))],
            "phone",
            "",
            now=now,
        )
    assert count(db, Meeting) == 0


def test_the_match_page_stops_asking_for_a_meeting_once_one_is_arranged(client, auth, db, scene):
    auth.login("vera@example.org")
    page = client.get(f"/vermittlungen/{scene.match.id}").get_data(as_text=True)
    assert "vereinbaren Sie ein Treffen" in page
    meeting = _propose(db, scene)
    meetings.pick(db.session, scene.member, meeting, meeting.options[0].id, now=utcnow())
    db.session.commit()
    page = client.get(f"/vermittlungen/{scene.match.id}").get_data(as_text=True)
    assert "vereinbaren Sie ein Treffen" not in page
    assert "Wenn die Beratung fertig ist, tragen Sie das hier ein." in page
    # It did not take place: the page asks for a meeting again.
    meetings.record_outcome(
        db.session, scene.member, meeting, "not_held", now=meeting.ends_at + timedelta(hours=1)
    )
    db.session.commit()
    page = client.get(f"/vermittlungen/{scene.match.id}").get_data(as_text=True)
    assert "vereinbaren Sie ein Treffen" in page


def test_a_meeting_link_opened_by_another_signed_in_person_changes_nothing(client, db, auth, scene):
    meeting = _propose(db, scene)
    [mail] = mails(db, "meeting_proposed")
    link = links(mail.text_body)[0]
    auth.login("vera@example.org")  # the proposer, not the person the mail went to
    for response in (client.get(link), post_form(client, link, {})):
        assert response.status_code == 403
        assert "Dieser Link ist für eine andere Person" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == MeetingStatus.PROPOSED
    auth.logout()
    assert post_form(client, link, {}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == MeetingStatus.CONFIRMED


def test_a_meeting_that_began_or_was_answered_is_not_cancelled(client, db, auth, scene):
    meeting = _propose(db, scene, hours=(72,))
    meetings.pick(db.session, scene.member, meeting, meeting.options[0].id, now=utcnow())
    db.session.commit()
    started = meeting.starts_at + timedelta(minutes=5)
    with pytest.raises(TransitionError, match="schon begonnen"):
        meetings.cancel(db.session, scene.volunteer.user, meeting, now=started)
    after_it = meeting.ends_at + timedelta(minutes=1)
    meetings.record_outcome(db.session, scene.member, meeting, "held", now=after_it)
    db.session.commit()
    sent = count(db, OutboxMessage)

    # A page from before, or a crafted form, posts "absagen" after the answer "held".
    auth.login("vera@example.org")
    detail = f"/vermittlungen/{scene.match.id}"
    response = post_form(
        client,
        f"/vermittlungen/{scene.match.id}/treffen/{meeting.id}/absagen",
        {},
        token_from=detail,
        follow_redirects=True,
    )
    assert "kann nicht mehr abgesagt werden" in response.get_data(as_text=True)
    db.session.expire_all()
    kept = db.session.get(Meeting, meeting.id)
    assert kept.status == MeetingStatus.CONFIRMED and kept.outcome == "held"
    assert count(db, OutboxMessage) == sent  # no "Treffen abgesagt" for a meeting that was held


def test_the_cancel_button_goes_once_the_meeting_began(db, scene):
    from matching.matches import after

    meeting = _propose(db, scene, hours=(72,))
    meetings.pick(db.session, scene.member, meeting, meeting.options[0].id, now=utcnow())
    db.session.commit()
    user, match = scene.volunteer.user, scene.match
    assert after.overview(db.session, match, user, utcnow()).may_cancel
    started = meeting.starts_at + timedelta(minutes=1)
    assert not after.overview(db.session, match, user, started).may_cancel


def test_outsiders_get_404_for_meetings_and_ics(client, db, auth, scene):
    meeting = _propose(db, scene)
    meetings.pick(db.session, scene.member, meeting, meeting.options[0].id, now=utcnow())
    db.session.commit()
    base = f"/vermittlungen/{scene.match.id}/treffen"
    auth.login("otto@example.org")
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/{meeting.id}.ics").status_code == 404
    response = post_form(client, f"{base}/{meeting.id}/absagen", {}, token_from="/")
    assert response.status_code == 404
    auth.logout()
    # A meeting id of another match under this match's address is not found either.
    auth.login("vera@example.org")
    assert (
        client.get(f"/vermittlungen/{scene.match.id + 1}/treffen/{meeting.id}.ics").status_code
        == 404
    )


def test_rules_of_the_service(db, scene):
    meeting = _propose(db, scene)
    with pytest.raises(PermissionDenied):  # the proposer does not pick
        meetings.pick(
            db.session, scene.volunteer.user, meeting, meeting.options[0].id, now=utcnow()
        )
    with pytest.raises(PermissionDenied):  # coordinators do not arrange the meeting
        meetings.cancel(db.session, scene.coordinator, meeting, now=utcnow())
    with pytest.raises(InvalidInput):
        meetings.pick(db.session, scene.member, meeting, 99999, now=utcnow())
    late = meeting.options[0].starts_at + timedelta(minutes=1)
    with pytest.raises(InvalidInput):  # a time that has passed cannot be picked
        meetings.pick(db.session, scene.member, meeting, meeting.options[0].id, now=late)
    with pytest.raises(TransitionError):  # a stale sequence from an old mail
        meetings.pick(
            db.session, scene.member, meeting, meeting.options[0].id, now=utcnow(), sequence=5
        )


def test_reminder_the_day_before_and_the_question_afterwards(db, scene):
    meeting = _propose(db, scene)
    meetings.pick(db.session, scene.member, meeting, meeting.options[0].id, now=utcnow())
    db.session.commit()
    start = meeting.starts_at
    day_before = datetime.combine(
        start.astimezone(BERLIN).date() - timedelta(days=1),
        datetime.min.time().replace(hour=17),
        tzinfo=BERLIN,
    ).astimezone(UTC)
    two_days_before = day_before - timedelta(days=1)
    assert tasks.remind_meetings(db.session, two_days_before)["reminded"] == 0
    assert tasks.remind_meetings(db.session, day_before) == {"reminded": 1, "mails": 2}
    assert tasks.remind_meetings(db.session, day_before + timedelta(hours=1))["reminded"] == 0
    reminder = mails(db, "meeting_reminder")
    assert {m.recipient for m in reminder} == {"vera@example.org", "ines@example.org"}
    assert reminder[0].subject == "Morgen: Treffen zu „Leute finden“"

    assert tasks.ask_meeting_outcomes(db.session, start + timedelta(minutes=30))["asked"] == 0
    after = start + timedelta(hours=2)
    assert tasks.ask_meeting_outcomes(db.session, after) == {"asked": 1, "mails": 2}
    assert tasks.ask_meeting_outcomes(db.session, after + timedelta(hours=1))["asked"] == 0
    [question, _other] = mails(db, "meeting_question")
    assert question.subject == "Hat das Treffen stattgefunden?"

    with pytest.raises(InvalidInput):
        meetings.record_outcome(db.session, scene.member, meeting, "maybe", now=after)
    meetings.record_outcome(db.session, scene.member, meeting, "not_held", now=after)
    db.session.commit()
    # The answer is given: the question still queued for either side is not sent any more.
    db.session.expire_all()
    assert {m.status for m in mails(db, "meeting_question")} == {OutboxStatus.DROPPED}
    [told] = mails(db, "meeting_not_held")
    assert told.recipient == "koo@example.org" and "Ines meldet" in told.text_body
    with pytest.raises(TransitionError):
        meetings.record_outcome(db.session, scene.volunteer.user, meeting, "held", now=after)
    # "no" offers a new date: a new meeting can be proposed, with a new UID.
    again = _propose(db, scene, by=scene.member, hours=(200,))
    assert again.id != meeting.id and again.uid != meeting.uid


@pytest.mark.parametrize("action", ["cancel", "complete"])
def test_a_match_that_ended_gets_no_reminder_and_no_question(db, scene, action):
    """Cancelled (its need withdrawn, say) or finished early: nobody is left to meet."""
    meeting = _propose(db, scene)
    meetings.pick(db.session, scene.member, meeting, meeting.options[0].id, now=utcnow())
    actor = None if action == "cancel" else scene.member
    reason = "Die Initiative hat die Anfrage zurückgezogen." if action == "cancel" else ""
    matches.change_status(db.session, actor, scene.match, action, now=utcnow(), reason=reason)
    db.session.commit()
    start = meeting.starts_at
    day_before = datetime.combine(
        start.astimezone(BERLIN).date() - timedelta(days=1),
        datetime.min.time().replace(hour=17),
        tzinfo=BERLIN,
    ).astimezone(UTC)
    assert tasks.remind_meetings(db.session, day_before) == {"reminded": 0, "mails": 0}
    after = start + timedelta(hours=2)
    assert tasks.ask_meeting_outcomes(db.session, after) == {"asked": 0, "mails": 0}
    assert not mails(db, "meeting_reminder") and not mails(db, "meeting_question")


def test_a_meeting_that_did_not_happen_is_no_contact(db, scene):
    """ "Letzter Kontakt" on the match page and in the coordinators' list of running advice
    counts a meeting once its time came, unless a side said it did not take place."""
    from matching.matches import after, pulse

    meeting = _propose(db, scene)
    meetings.pick(db.session, scene.member, meeting, meeting.options[0].id, now=utcnow())
    db.session.commit()
    later = meeting.starts_at + timedelta(hours=2)
    assert after.overview(db.session, scene.match, scene.member, later).last_meeting_at
    [row] = [r for r in pulse.accepted(db.session, later) if r.id == scene.match.id]
    assert row.last_contact_at is not None
    meetings.record_outcome(db.session, scene.member, meeting, "not_held", now=later)
    db.session.commit()
    assert after.overview(db.session, scene.match, scene.member, later).last_meeting_at is None
    [row] = [r for r in pulse.accepted(db.session, later) if r.id == scene.match.id]
    assert row.last_contact_at is None


def test_outcome_on_the_page(client, db, auth, scene):
    meeting = _propose(db, scene, hours=(1,))
    meetings.pick(db.session, scene.member, meeting, meeting.options[0].id, now=utcnow())
    meeting.starts_at = utcnow() - timedelta(hours=3)  # it has happened
    db.session.commit()
    auth.login("vera@example.org")
    page = client.get(f"/vermittlungen/{scene.match.id}").get_data(as_text=True)
    assert "Hat das Treffen stattgefunden?" in page
    post_form(
        client,
        f"/vermittlungen/{scene.match.id}/treffen/{meeting.id}/ergebnis",
        {"outcome": "held"},
        token_from=f"/vermittlungen/{scene.match.id}",
    )
    db.session.refresh(meeting)
    assert meeting.outcome == "held"
    page = client.get(f"/vermittlungen/{scene.match.id}").get_data(as_text=True)
    assert "Das Treffen hat stattgefunden." in page and "Weiteres Treffen vorschlagen" in page
    # After a meeting that took place, the next one is not called the first.
    assert "Erstes Treffen" not in page and "für ein erstes Treffen" not in page


GERMAN_DAY = (
    r"(Mon|Diens|Mittwo|Donners|Frei|Sams|Son)[a-z]*, \d{1,2}\. [A-Z][a-zä]+ \d{4}, \d\d:\d\d"
)
ENGLISH_DAY = r"(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, \d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d"


@pytest.mark.parametrize(
    ("locale", "past", "weekday"),
    [
        ("de", "5. Dezember 2025, 14:00 – ", GERMAN_DAY),
        ("en", "5 December 2025, 14:00 – ", ENGLISH_DAY),
    ],
)
def test_meeting_dates_on_the_page_in_the_readers_language(
    client, db, auth, scene, locale, past, weekday
):
    """A meeting that did not take place under "Frühere Termine", and the times of a new
    proposal: "5. December 2025" was German with English words."""
    meeting = _propose(db, scene, hours=(1,))
    meetings.pick(db.session, scene.member, meeting, meeting.options[0].id, now=utcnow())
    meeting.starts_at = datetime(2025, 12, 5, 13, 0, tzinfo=UTC)  # 14:00 in Stuttgart
    meetings.record_outcome(db.session, scene.member, meeting, "not_held", now=utcnow())
    db.session.commit()
    _propose(db, scene)
    scene.volunteer.user.locale = locale
    db.session.commit()
    auth.login("vera@example.org")
    page = client.get(f"/vermittlungen/{scene.match.id}").get_data(as_text=True)
    assert past in page
    assert re.search(weekday, page)  # the proposed times
    if locale == "en":
        assert not re.search(
            r"\d\. (January|February|March|April|May|June|July|August|"
            r"September|October|November|December)",
            page,
        )


def test_a_match_that_ends_calls_its_meeting_off_and_out_of_the_calendars(client, db, auth, scene):
    """The need was withdrawn after a meeting was agreed: the meeting stayed "confirmed" in
    both calendars and on the match page with its .ics (METHOD:REQUEST), and nobody was told.
    It is now called off with the match, and both sides get the calendar's cancellation."""
    meeting = _propose(db, scene)
    meetings.pick(db.session, scene.member, meeting, meeting.options[0].id, now=utcnow())
    db.session.commit()
    matches.change_status(
        db.session,
        None,
        scene.match,
        "cancel",
        now=utcnow(),
        reason="Die Initiative hat die Anfrage zurückgezogen.",
    )
    db.session.commit()
    db.session.refresh(meeting)
    assert meeting.status == MeetingStatus.CANCELLED
    told = mails(db, "meeting_cancelled")
    assert {m.recipient for m in told} == {"vera@example.org", "ines@example.org"}
    from matching.mail.outbox import _to_mail

    for row in told:
        assert "Die Vermittlung ist beendet" in row.text_body
        assert "neue Zeiten vorschlagen" not in row.text_body
        message = to_email_message(_to_mail(row), "Vernetzerbörse <v@example.org>")
        [calendar] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        assert "METHOD:CANCEL" in calendar.get_content()
    auth.login("vera@example.org")
    ics = client.get(f"/vermittlungen/{scene.match.id}/treffen/{meeting.id}.ics")
    assert "METHOD:REQUEST" not in ics.get_data(as_text=True)


def test_a_meeting_that_began_is_kept_when_the_match_ends(db, scene):
    meeting = _propose(db, scene)
    meetings.pick(db.session, scene.member, meeting, meeting.options[0].id, now=utcnow())
    db.session.commit()
    later = meeting.starts_at + timedelta(minutes=5)
    matches.change_status(db.session, None, scene.match, "cancel", now=later, reason="Test")
    db.session.commit()
    db.session.refresh(meeting)
    assert meeting.status == MeetingStatus.CONFIRMED and not mails(db, "meeting_cancelled")
