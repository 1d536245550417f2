"""Snapshots of the mails after the match (thread, meeting, finishing), as in test_mail_snapshots."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from itsdangerous.timed import TimestampSigner
from test_mail_snapshots import assert_mail_snapshot

from matching import mail

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
THREAD = "http://localhost/vermittlungen/31/nachrichten#neu"
SETTINGS = "http://localhost/konto/nachrichten-mail"


@pytest.fixture(autouse=True)
def fixed_time(app, monkeypatch):
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(NOW.timestamp()))
    with app.app_context():
        yield


def _need():
    return SimpleNamespace(
        title="Wie finden wir Mitstreiter:innen?",
        district="ost",
        initiative=SimpleNamespace(name="Nachbarschaft Gablenberg"),
    )


INES = SimpleNamespace(first_name="Ines", email="ines@example.org")
VERA = SimpleNamespace(first_name="Vera", email="vera@example.org")


def _message(body):
    return SimpleNamespace(body=body)


def test_thread_messages_mail():
    message = mail.build(
        INES.email,
        "thread_messages",
        "de",
        "Neue Nachricht zu „Wie finden wir Mitstreiter:innen?“",
        user=INES,
        need=_need(),
        messages=[
            ("Vera (Expert:in)", _message("Geht es um einen Verein oder eine lose Gruppe?")),
            ("Vera (Expert:in)", _message("Und: <b>wie viele</b> seid ihr?\nhttps://example.org")),
        ],
        thread_url=THREAD,
        settings_url=SETTINGS,
    )
    assert_mail_snapshot("thread_messages", message)
    assert "&lt;b&gt;wie viele&lt;/b&gt;" in message.html  # text stays text
    assert 'href="https://example.org"' not in message.html


def test_thread_summary_mail():
    message = mail.build(
        VERA.email,
        "thread_summary",
        "de",
        "Ihre Nachrichten des Tages",
        user=VERA,
        sections=[
            (
                _need(),
                THREAD,
                [("Ines (Initiative)", _message("Eine lose Gruppe, wir sind zu zwölft."))],
            )
        ],
        settings_url=SETTINGS,
    )
    assert_mail_snapshot("thread_summary", message)


def _meeting(status="confirmed", sequence=0):
    from datetime import timedelta

    from matching.models import Meeting, MeetingOption

    start = datetime(2026, 3, 5, 17, 30, tzinfo=UTC)  # Thursday 18:30 in Stuttgart
    vera = SimpleNamespace(
        first_name="Vera", display_name="Vera Muster", email="vera@example.org", disabled_at=None
    )
    ines = SimpleNamespace(
        first_name="Ines", display_name="Ines Muster", email="ines@example.org", disabled_at=None
    )
    need = _need()
    need.initiative.member_rows = [SimpleNamespace(user=ines)]
    match = SimpleNamespace(id=31, need=need, volunteer=SimpleNamespace(user=vera))
    meeting = Meeting(
        id=7,
        uid="treffen-0123456789abcdef01234567",
        sequence=sequence,
        status=status,
        place_kind="phone",
        place="",
        starts_at=start,
        duration_minutes=45,
        proposed_by_role="initiative",
    )
    meeting.options = [
        MeetingOption(id=1, starts_at=start, duration_minutes=45),
        MeetingOption(id=2, starts_at=start + timedelta(days=1, hours=-8), duration_minutes=60),
    ]
    # A plain stand-in for the relationship, so no session is needed.
    object.__setattr__(meeting, "__dict__", {**meeting.__dict__, "match": match})
    return meeting


def _meeting_context(meeting):
    from matching.matches.calendar import place_text

    return {
        "need": meeting.match.need,
        "meeting": meeting,
        "place": place_text(meeting),
        "match_url": "http://localhost/vermittlungen/31#treffen",
    }


def test_meeting_proposed_mail():
    meeting = _meeting(status="proposed")
    message = mail.build(
        VERA.email,
        "meeting_proposed",
        "de",
        "Terminvorschläge für „Wie finden wir Mitstreiter:innen?“",
        user=VERA,
        sender="Ines (Initiative)",
        moved=False,
        options=[(o, f"http://localhost/mail/treffen/TOKEN{o.id}") for o in meeting.options],
        **_meeting_context(meeting),
    )
    assert_mail_snapshot("meeting_proposed", message)


@pytest.mark.parametrize("update", [False, True])
def test_meeting_confirmed_mail_and_invitation(update):
    from matching.matches.calendar import invitation

    meeting = _meeting(sequence=1 if update else 0)
    message = mail.build(
        VERA.email,
        "meeting_confirmed",
        "de",
        "Termin steht: Wie finden wir Mitstreiter:innen?",
        user=VERA,
        update=update,
        **_meeting_context(meeting),
    )
    name = "meeting_confirmed_update" if update else "meeting_confirmed"
    assert_mail_snapshot(name, message)
    from test_mail_snapshots import assert_snapshot

    assert_snapshot(f"{name}.ics", invitation(meeting, now=NOW).replace("\r\n", "\n"))


def test_meeting_cancelled_mail_and_cancellation():
    from matching.matches.calendar import invitation

    meeting = _meeting(status="cancelled", sequence=2)
    message = mail.build(
        INES.email,
        "meeting_cancelled",
        "de",
        "Treffen abgesagt: Wie finden wir Mitstreiter:innen?",
        user=INES,
        was_confirmed=True,
        **_meeting_context(meeting),
    )
    assert_mail_snapshot("meeting_cancelled", message)
    from test_mail_snapshots import assert_snapshot

    assert_snapshot("meeting_cancelled.ics", invitation(meeting, now=NOW).replace("\r\n", "\n"))


@pytest.mark.parametrize(
    ("kind", "subject", "extra"),
    [
        ("meeting_reminder", "Morgen: Treffen zu „Wie finden wir Mitstreiter:innen?“", {}),
        ("meeting_question", "Hat das Treffen stattgefunden?", {}),
        (
            "meeting_not_held",
            "Treffen nicht zustande gekommen: Wie finden wir Mitstreiter:innen?",
            {"reporter": "Ines"},
        ),
    ],
)
def test_meeting_follow_up_mails(kind, subject, extra):
    meeting = _meeting()
    kora = SimpleNamespace(first_name="Kora", email="kora@example.org")
    user = kora if kind == "meeting_not_held" else VERA
    message = mail.build(
        user.email, kind, "de", subject, user=user, **extra, **_meeting_context(meeting)
    )
    assert_mail_snapshot(kind, message)


@pytest.mark.parametrize(
    ("locale", "when", "day"),
    [
        ("de", "Donnerstag, 5. März 2026, 18:30", "5. März 2026"),
        ("en", "Thursday, 5 March 2026, 18:30", "5 March 2026"),
    ],
)
def test_meeting_dates_in_the_readers_language(locale, when, day):
    """ "5. December 2026" is German with English words: each language its own pattern."""
    meeting = _meeting()
    context = _meeting_context(meeting)
    kora = SimpleNamespace(first_name="Kora", email="kora@example.org")
    options = [(o, f"http://localhost/mail/treffen/TOKEN{o.id}") for o in meeting.options]
    built = {
        "meeting_proposed": {"sender": "Ines", "moved": False, "options": options},
        "meeting_confirmed": {"update": False},
        "meeting_reminder": {},
        "meeting_cancelled": {"was_confirmed": True},
    }
    for kind, extra in built.items():
        message = mail.build(VERA.email, kind, locale, "–", user=VERA, **extra, **context)
        assert when in message.text, kind
        assert when in message.html, kind
    question = mail.build(VERA.email, "meeting_question", locale, "–", user=VERA, **context)
    assert when.rsplit(",", 1)[0] in question.text  # the day without the time
    not_held = mail.build(
        kora.email, "meeting_not_held", locale, "–", user=kora, reporter="Ines", **context
    )
    assert day in not_held.text
    if locale == "en":
        for message in (question, not_held):
            assert not re.search(r"\d\. (March|Thursday)", message.text + message.html)


def test_coordinator_digest_lists_silent_matches():
    from datetime import timedelta

    from matching import digests
    from matching.digests import CoordinatorDigest, Recipient
    from matching.matches.pulse import Pulse

    kora = Recipient(id=8, email="kora@example.org", first_name="Kora", locale="de")
    quiet = Pulse(
        id=31,
        need_id=22,
        need_title="Wie finden wir Mitstreiter:innen?",
        initiative="Nachbarschaft Gablenberg",
        volunteer_name="Vera Muster",
        accepted_at=NOW - timedelta(days=12),
        last_message_at=None,
        last_meeting_at=None,
        next_meeting_at=None,
        silent=True,
        days_quiet=12,
    )
    content = CoordinatorDigest(
        waiting_proposals=0,
        oldest_proposal_at=None,
        stale_needs=[],
        waiting_profiles=0,
        unanswered_matches=[],
        silent_matches=[quiet],
    )
    assert content  # a digest with only a silent match is still sent
    assert_mail_snapshot(
        "digest_coordinator_silent", digests.render_digest("coordinator", kora, content)
    )


def test_match_done_mails():
    to_initiative = mail.build(
        INES.email,
        "match_done_initiative",
        "de",
        "Wie war die Beratung zu „Wie finden wir Mitstreiter:innen?“?",
        user=INES,
        need=_need(),
        volunteer_name="Vera",
        advised=True,
        feedback_url="http://localhost/vermittlungen/31/rueckmeldung",
    )
    to_volunteer = mail.build(
        VERA.email,
        "match_done_volunteer",
        "de",
        "Danke für Ihre Beratung von Nachbarschaft Gablenberg",
        user=VERA,
        need=_need(),
        look_back_url="http://localhost/vermittlungen/31/rueckblick",
    )
    assert_mail_snapshot("match_done_initiative", to_initiative)
    assert_mail_snapshot("match_done_volunteer", to_volunteer)


@pytest.mark.parametrize("was_accepted", [True, False])
def test_match_ended_initiative_mail(was_accepted):
    message = mail.build(
        INES.email,
        "match_ended_initiative",
        "de",
        "Neuigkeiten zu „Wie finden wir Mitstreiter:innen?“",
        user=INES,
        need=_need(),
        was_accepted=was_accepted,
        searching=not was_accepted,
        need_url="http://localhost/anfragen/22",
    )
    suffix = "accepted" if was_accepted else "asked"
    assert_mail_snapshot(f"match_ended_initiative_{suffix}", message)


def test_offer_rejected_mail():
    other = SimpleNamespace(
        id=12,
        title="Mit dem Sportverein zusammenarbeiten",
        district="mitte",
        initiative=SimpleNamespace(name="Leonhardsviertel miteinander"),
    )
    message = mail.build(
        VERA.email,
        "offer_rejected",
        "de",
        "Ihr Angebot für „Wie finden wir Mitstreiter:innen?“",
        user=VERA,
        need=_need(),
        reason="Die Initiative wünscht sich jemand aus dem Stadtteil.",
        others=[(other, "http://localhost/anfragen/12", "http://localhost/mail/helfen/TOKEN")],
        overview_url="http://localhost/meine-uebersicht",
    )
    assert_mail_snapshot("offer_rejected", message)
