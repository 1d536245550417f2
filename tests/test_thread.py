"""The thread of a match: a question before the yes, the conversation after it, its mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from after_match import build_scene
from sqlalchemy import func, select
from support import post_form

from jobs import tasks
from matching.errors import InvalidInput, PermissionDenied, TransitionError
from matching.matches import messages
from matching.models import MatchMessage, MessageMail, OutboxMessage, utcnow

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture()
def scene(db, make_user, make_volunteer, make_initiative, make_need):
    return build_scene(db, make_user, make_volunteer, make_initiative, make_need)


def thread_url(scene) -> str:
    return f"/vermittlungen/{scene.match.id}/nachrichten"


def stored(db) -> int:
    return db.session.scalar(select(func.count()).select_from(MatchMessage))


def mails(db, kind: str) -> list[OutboxMessage]:
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    ).all()


def test_question_before_accepting_and_answer_without_contacts(client, db, auth, scene):
    auth.login("vera@example.org")
    page = client.get(thread_url(scene)).get_data(as_text=True)
    assert "Noch keine Nachrichten" in page and "noch nicht zugesagt" in page
    response = post_form(
        client,
        thread_url(scene),
        {"body": "Geht es um einen Verein oder eine lose Gruppe? https://example.org/<b>x</b>"},
    )
    assert response.status_code == 302
    auth.logout()

    auth.login("ines@example.org")
    page = client.get(thread_url(scene)).get_data(as_text=True)
    assert "Geht es um einen Verein" in page
    assert "Vera (Expert:in)" in page
    # Links are text, markup is escaped; no contact of the volunteer before the yes.
    assert '<a href="https://example.org' not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert "vera@example.org" not in page and "0711 555" not in page and "Muster" not in page
    post_form(client, thread_url(scene), {"body": "Eine lose Gruppe, noch kein Verein."})
    auth.logout()

    auth.login("koo@example.org")  # coordinators read the thread
    page = client.get(thread_url(scene)).get_data(as_text=True)
    assert "Eine lose Gruppe" in page and "Ines (Initiative)" in page
    auth.logout()
    assert stored(db) == 2


@pytest.mark.parametrize(
    ("frequency", "said"),
    [
        ("each", "Die andere Seite bekommt in den nächsten 15 Minuten eine E-Mail dazu."),
        ("daily", "Die andere Seite erfährt davon mit ihrer täglichen Zusammenfassung per E-Mail."),
        ("off", "Die andere Seite bekommt keine E-Mail dazu, sie sieht die Nachricht, wenn"),
    ],
)
def test_the_author_is_told_what_mail_the_other_side_gets(
    client, app, db, auth, scene, frequency, said
):
    app.config["MESSAGE_MAIL_MINUTES"] = 15
    messages.set_mail_frequency(db.session, scene.member, frequency, now=utcnow())
    db.session.commit()
    auth.login("vera@example.org")
    response = post_form(client, thread_url(scene), {"body": "Passt Ihnen Dienstag?"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ihre Nachricht ist angekommen." in page
    assert said in unescape(page)
    assert "Die andere Seite bekommt eine E-Mail." not in page


def test_the_initiative_answers_but_does_not_start_before_the_yes(db, scene):
    with pytest.raises(TransitionError):
        messages.post(db.session, scene.member, scene.match, "Hallo!", now=NOW)
    messages.post(db.session, scene.volunteer.user, scene.match, "Eine Frage", now=NOW)
    messages.post(db.session, scene.member, scene.match, "Eine Antwort", now=NOW)
    assert stored(db) == 2


def test_outsiders_get_404(client, auth, scene):
    auth.login("otto@example.org")
    assert client.get(thread_url(scene)).status_code == 404
    response = post_form(client, thread_url(scene), {"body": "x"}, token_from="/")
    assert response.status_code == 404


def test_outsiders_cannot_post_through_the_service(db, scene):
    with pytest.raises(PermissionDenied):
        messages.post(db.session, scene.outsider, scene.match, "x", now=NOW)
    assert stored(db) == 0


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("   ", "Bitte schreiben Sie eine Nachricht."),
        # Blank to the eye: zero-width spaces, a byte order mark, a word joiner.
        ("\u200b\u200b", "Bitte schreiben Sie eine Nachricht."),
        ("\ufeff \u2060", "Bitte schreiben Sie eine Nachricht."),
        ("x" * 2001, "Bitte höchstens 2000 Zeichen."),
        ("Hallo\x00Welt", "Steuerzeichen"),
        ("Hallo\x1bWelt", "Steuerzeichen"),
        ("Treffen am \u202eDienstag", "Steuerzeichen"),
        ("Treffen am \u2066Dienstag\u2069", "Steuerzeichen"),
    ],
)
def test_bad_messages_are_refused_in_german_and_store_nothing(client, db, auth, scene, body, error):
    auth.login("vera@example.org")
    response = post_form(client, thread_url(scene), {"body": body})
    assert response.status_code == 422
    assert error in response.get_data(as_text=True)
    assert stored(db) == 0


@pytest.mark.parametrize("bidi", ["\u202a", "\u202e", "\u2066", "\u2069"], ids=repr)
def test_the_service_refuses_bidi_controls_too(db, scene, bidi):
    """The API and the CLI reach the thread without the page's form."""
    with pytest.raises(InvalidInput, match="Steuerzeichen"):
        messages.post(db.session, scene.volunteer.user, scene.match, f"Ja{bidi}nein", now=NOW)
    assert stored(db) == 0


def test_lines_and_tabs_are_text(db, scene):
    message = messages.post(
        db.session, scene.volunteer.user, scene.match, "Erste Zeile\r\n\tzweite", now=NOW
    )
    assert message.body == "Erste Zeile\n\tzweite"


def test_no_messages_once_the_match_ended(db, scene):
    from matching import matches

    matches.change_status(
        db.session, scene.coordinator, scene.match, "cancel", now=NOW, reason="Test"
    )
    with pytest.raises(TransitionError):
        messages.post(db.session, scene.volunteer.user, scene.match, "Noch da?", now=NOW)


def test_mail_is_batched_per_thread(db, scene):
    match = scene.match
    messages.post(db.session, scene.volunteer.user, match, "Erste Frage", now=NOW)
    messages.post(db.session, scene.volunteer.user, match, "Zweite Frage", now=NOW)
    db.session.commit()

    summary = tasks.mail_new_messages(db.session, NOW + timedelta(minutes=1))
    assert summary == {"threads": 1, "mails": 1, "waiting": 0}
    [first] = mails(db, "thread_messages")
    assert first.recipient == "ines@example.org"
    assert first.subject == "Neue Nachricht zu „Leute finden“"
    assert "Erste Frage" in first.text_body and "Zweite Frage" in first.text_body
    assert "Vera (Expert:in):" in first.text_body
    assert "vera@example.org" not in first.text_body and "Muster" not in first.text_body
    assert f"http://localhost/vermittlungen/{match.id}/nachrichten#neu" in first.text_body

    # A third message five minutes later waits for the quarter of an hour to pass.
    messages.post(
        db.session, scene.volunteer.user, match, "Dritte Frage", now=NOW + timedelta(minutes=5)
    )
    db.session.commit()
    assert tasks.mail_new_messages(db.session, NOW + timedelta(minutes=6))["waiting"] == 1
    assert len(mails(db, "thread_messages")) == 1
    assert tasks.mail_new_messages(db.session, NOW + timedelta(minutes=16))["mails"] == 1
    second = mails(db, "thread_messages")[-1]
    assert "Dritte Frage" in second.text_body and "Erste Frage" not in second.text_body
    # Nothing left: a further run sends nothing.
    assert tasks.mail_new_messages(db.session, NOW + timedelta(hours=1))["mails"] == 0


def test_an_english_reader_gets_the_role_in_english(db, scene):
    """The job runs in German; the role in "Vera (Expert:in):" was fixed before the mail took
    the reader's language."""
    scene.member.locale = "en"
    messages.post(db.session, scene.volunteer.user, scene.match, "Erste Frage", now=NOW)
    db.session.commit()
    tasks.mail_new_messages(db.session, NOW + timedelta(minutes=1))
    [mail_row] = mails(db, "thread_messages")
    assert "Vera (Expert):" in mail_row.text_body and "Expert:in" not in mail_row.text_body


def test_coordinator_messages_reach_both_sides_and_the_author_gets_none(db, scene):
    messages.post(db.session, scene.volunteer.user, scene.match, "Frage", now=NOW)
    messages.post(db.session, scene.coordinator, scene.match, "Ich schaue mit", now=NOW)
    db.session.commit()
    tasks.mail_new_messages(db.session, NOW + timedelta(minutes=1))
    by_person = {row.recipient: row.text_body for row in mails(db, "thread_messages")}
    assert set(by_person) == {"ines@example.org", "vera@example.org"}
    assert "Katrin (Koordination)" in by_person["vera@example.org"]
    assert "Frage\n" not in by_person["vera@example.org"].split("Katrin")[0].split("Vera")[-1]


def test_personal_setting_off_and_daily(client, db, auth, scene):
    auth.login("ines@example.org")
    assert client.get("/konto/nachrichten-mail").status_code == 200
    response = post_form(client, "/konto/nachrichten-mail", {"frequency": "weekly"})
    assert "angebotenen Möglichkeiten" in response.get_data(as_text=True)
    post_form(client, "/konto/nachrichten-mail", {"frequency": "daily"})
    auth.logout()
    assert messages.mail_frequency(db.session, scene.member) == MessageMail.DAILY

    start = utcnow()
    messages.post(db.session, scene.volunteer.user, scene.match, "Frage am Morgen", now=start)
    db.session.commit()
    assert tasks.mail_new_messages(db.session, start + timedelta(minutes=1))["mails"] == 0
    assert tasks.mail_message_summaries(db.session, start + timedelta(hours=8)) == {
        "people": 1,
        "mails": 1,
    }
    [summary] = mails(db, "thread_summary")
    assert summary.recipient == "ines@example.org" and "Frage am Morgen" in summary.text_body
    assert tasks.mail_message_summaries(db.session, start + timedelta(hours=9))["mails"] == 0

    messages.set_mail_frequency(db.session, scene.member, "off", now=start)
    messages.post(
        db.session, scene.volunteer.user, scene.match, "Noch eine", now=start + timedelta(hours=10)
    )
    db.session.commit()
    assert tasks.mail_new_messages(db.session, start + timedelta(hours=11))["mails"] == 0
    with pytest.raises(InvalidInput):
        messages.set_mail_frequency(db.session, scene.member, "weekly", now=start)


def test_a_refused_mail_setting_answers_422_and_keeps_the_old_one(
    client, db, auth, scene, monkeypatch
):
    auth.login("ines@example.org")

    def refuse(*_args, **_kwargs):
        raise InvalidInput("Diese Einstellung geht gerade nicht.")

    monkeypatch.setattr(messages, "set_mail_frequency", refuse)
    response = post_form(client, "/konto/nachrichten-mail", {"frequency": "off"})
    assert response.status_code == 422
    assert "Diese Einstellung geht gerade nicht." in response.get_data(as_text=True)
    assert messages.mail_frequency(db.session, scene.member) == MessageMail.EACH


def test_reminder_mentions_an_open_question(db, scene):
    match = scene.match
    match.decided_at = NOW - timedelta(days=8)
    messages.post(db.session, scene.volunteer.user, match, "Eine offene Frage", now=NOW)
    db.session.commit()
    tasks.remind_unanswered(db.session, NOW)
    [reminder] = mails(db, "match_reminder")
    assert "Ihre Frage an die Initiative ist noch offen" in reminder.text_body
    assert f"/vermittlungen/{match.id}/nachrichten" in reminder.text_body


def test_reminder_without_a_question_says_nothing_of_it(db, scene):
    scene.match.decided_at = NOW - timedelta(days=8)
    db.session.commit()
    tasks.remind_unanswered(db.session, NOW)
    [reminder] = mails(db, "match_reminder")
    assert "Frage" not in reminder.text_body


def test_a_message_refused_where_no_form_is_shown_says_why(client, db, auth, scene):
    """A message sent to a thread nobody may write in (an old tab, a forged form) was refused
    with 422 and a page that said only "Noch keine Nachrichten": the reason sat at a form
    the page does not show."""
    from matching import matches

    matches.change_status(
        db.session, scene.coordinator, scene.match, "cancel", now=NOW, reason="Test"
    )
    db.session.commit()
    auth.login("vera@example.org")
    response = post_form(client, thread_url(scene), {"body": "Noch da?"})
    assert response.status_code == 422
    page = unescape(response.get_data(as_text=True))
    assert 'role="alert"' in page and "beendet" in page
    assert stored(db) == 0


def test_a_proposal_thread_says_when_writing_opens(
    client, db, auth, make_user, make_volunteer, make_initiative, make_need
):
    proposal = build_scene(
        db, make_user, make_volunteer, make_initiative, make_need, status="proposed"
    )
    auth.login("koo@example.org")
    page = client.get(f"/vermittlungen/{proposal.match.id}/nachrichten").get_data(as_text=True)
    assert "sobald die Koordination die Vermittlung freigegeben hat" in page
