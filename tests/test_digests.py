"""Weekly digests: content per kind, idempotency, headers, unsubscribing, and mail-link pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from db_state import changed_tables, snapshot
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select
from support import post_form

from matching import digests, mail_links
from matching.mail import Mail, to_email_message
from matching.matches import mails as match_mails
from matching.models import (
    DigestSetting,
    DigestShown,
    Match,
    MatchOrigin,
    MatchStatus,
    NeedStatus,
    OutboxMessage,
    ProfileStatus,
    Role,
)
from matching.tokens import make_token

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday, 07:00 in Stuttgart
WEEK = timedelta(days=7)


def text_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def path_of(url: str) -> str:
    return urlsplit(url).path


def digest_rows(db, kind: str) -> list[OutboxMessage]:
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == f"digest_{kind}")
        .order_by(OutboxMessage.id)
    ).all()


def shown_needs(db, user_id: int) -> set[int]:
    return set(
        db.session.scalars(select(DigestShown.need_id).where(DigestShown.user_id == user_id))
    )


@pytest.fixture()
def issued_at(monkeypatch):
    """``with issued_at(when): make_token(...)`` signs tokens as if made at that moment."""
    from contextlib import contextmanager

    @contextmanager
    def at(when: datetime):
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(when.timestamp()))
        try:
            yield
        finally:
            monkeypatch.undo()

    return at


# --- The volunteer digest ----------------------------------------------------------------------


@pytest.fixture()
def seven_needs(make_initiative, make_need):
    """Seven open needs that fit the default volunteer equally well, and one that does not."""
    initiative, _member = make_initiative("Nachbarschaft Ost")
    needs = [
        make_need(initiative, title=f"Anfrage {i}", published_at=NOW - timedelta(days=3))
        for i in range(7)
    ]
    make_need(initiative, title="Ganz anderes Thema", phases=("conflicts",), published_at=NOW)
    return needs


def test_volunteer_digest_has_the_best_five_needs_with_reasons_and_offer_links(
    db, make_volunteer, seven_needs
):
    profile = make_volunteer(first_name="Vera")
    run = digests.queue_digests(db.session, NOW)
    db.session.commit()

    assert run.queued["volunteer"] == 1
    [row] = digest_rows(db, "volunteer")
    assert row.recipient == profile.user.email and row.user_id == profile.user_id
    assert row.subject == "5 neue Anfragen, die zu Ihnen passen"
    for need in seven_needs[:5]:
        assert f"{need.title}\n" in row.text_body
    for missing in [*(n.title for n in seven_needs[5:]), "Ganz anderes Thema"]:
        assert missing not in row.text_body
    assert "Sie haben viel Erfahrung in Start / Akquise" in row.text_body  # written for her
    assert row.text_body.count("Ich kann helfen: http://localhost/mail/helfen/") == 5
    assert row.html_body.count(">Ich kann helfen</a>") == 5
    assert shown_needs(db, profile.user_id) == {n.id for n in seven_needs[:5]}


def test_needs_shown_in_an_earlier_digest_are_not_shown_again(db, make_volunteer, seven_needs):
    profile = make_volunteer()
    digests.queue_digests(db.session, NOW)
    digests.queue_digests(db.session, NOW + WEEK)
    third = digests.queue_digests(db.session, NOW + 2 * WEEK)

    _first, second = digest_rows(db, "volunteer")
    assert second.subject == "2 neue Anfragen, die zu Ihnen passen"
    for need in seven_needs[:5]:
        assert need.title not in second.text_body
    for need in seven_needs[5:]:
        assert need.title in second.text_body
    # Nothing new in the third week: no mail at all.
    assert third.queued["volunteer"] == 0 and third.empty["volunteer"] == 1
    assert shown_needs(db, profile.user_id) == {n.id for n in seven_needs}


def test_volunteers_without_fitting_needs_paused_or_unapproved_get_nothing(
    db, make_volunteer, make_initiative, make_need
):
    initiative, _ = make_initiative()
    make_need(initiative, phases=("conflicts",), published_at=NOW)
    make_volunteer()  # knows start and cooperation only
    make_volunteer(status=ProfileStatus.PENDING, levels={"conflicts": 3})
    run = digests.queue_digests(db.session, NOW, kinds=["volunteer"])
    assert run.queued["volunteer"] == 0
    assert run.empty["volunteer"] == 1  # the pending profile is not even a recipient
    assert digest_rows(db, "volunteer") == []


def test_a_switched_off_kind_is_not_queued_but_the_others_are(
    db, make_volunteer, make_initiative, make_need
):
    profile = make_volunteer()
    initiative, member = make_initiative()
    make_need(initiative, published_at=NOW)
    db.session.add(DigestSetting(user_id=profile.user_id, kind="volunteer", enabled=False))
    db.session.commit()

    run = digests.queue_digests(db.session, NOW)
    assert run.switched_off["volunteer"] == 1 and run.queued["volunteer"] == 0
    assert run.queued["initiative"] == 1
    assert [r.user_id for r in digest_rows(db, "initiative")] == [member.id]


def test_twice_in_a_week_queues_nothing_new_and_next_week_does(db, make_user, make_volunteer):
    make_user(roles=(Role.COORDINATOR,))
    make_volunteer(status=ProfileStatus.PENDING)  # something to tell the coordinators
    first = digests.queue_digests(db.session, NOW)
    again = digests.queue_digests(db.session, NOW + timedelta(days=4, hours=12))  # Friday
    next_week = digests.queue_digests(db.session, NOW + WEEK)

    assert first.queued["coordinator"] == 1
    assert again.total_queued == 0 and again.already["coordinator"] == 1
    assert next_week.queued["coordinator"] == 1
    keys = [r.idempotency_key for r in digest_rows(db, "coordinator")]
    assert [k.rsplit(":", 1)[1] for k in keys] == ["2026-W10", "2026-W11"]
    assert first.as_dict()["week"] == "2026-W10"


def test_the_week_is_the_week_in_stuttgart(db):
    # Sunday 23:30 UTC is already Monday in Stuttgart.
    sunday_night = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)
    assert digests.iso_week(sunday_night) == "2026-W11"


def test_a_dry_run_writes_nothing(db, make_volunteer, seven_needs):
    make_volunteer()
    before = snapshot(db.session)
    run = digests.queue_digests(db.session, NOW, dry_run=True)
    assert run.dry_run and run.queued["volunteer"] == 1 and run.queued["initiative"] == 1
    assert changed_tables(before, snapshot(db.session)) == []


def test_only_the_kinds_asked_for_and_unknown_kinds_refused(db, make_volunteer, seven_needs):
    make_volunteer()
    run = digests.queue_digests(db.session, NOW, kinds=["initiative"])
    assert run.queued == {"volunteer": 0, "coordinator": 0, "initiative": 1}
    with pytest.raises(ValueError, match="unknown digest kind weekly"):
        digests.queue_digests(db.session, NOW, kinds=["weekly"])


def test_progress_follows_the_recipients(db, make_volunteer, seven_needs):
    make_volunteer()
    make_volunteer()
    seen = []
    digests.queue_digests(db.session, NOW, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (3, 3)  # two volunteers and the initiative's member


def test_disabled_and_unconfirmed_people_get_no_digest(db, make_user, make_volunteer):
    make_volunteer(status=ProfileStatus.PENDING)
    off = make_user(roles=(Role.COORDINATOR,))
    off.disabled_at = NOW
    make_user(roles=(Role.COORDINATOR,), confirmed=False)
    db.session.commit()
    run = digests.queue_digests(db.session, NOW, kinds=["coordinator"])
    assert run.queued["coordinator"] == 0 and run.empty["coordinator"] == 0


# --- The coordinator digest ---------------------------------------------------------------------


def _match(db, need, profile, status, *, created, decided=None):
    match = Match(
        need_id=need.id,
        volunteer_id=profile.id,
        status=status,
        origin=MatchOrigin.ENGINE,
        created_at=created,
        updated_at=created,
        decided_at=decided,
    )
    db.session.add(match)
    db.session.commit()
    return match


def test_coordinator_digest_lists_what_waits(
    db, make_user, make_volunteer, make_initiative, make_need
):
    make_user(roles=(Role.COORDINATOR,), first_name="Kora")
    vera, walter = make_volunteer(first_name="Vera"), make_volunteer(first_name="Walter")
    make_volunteer(status=ProfileStatus.PENDING)
    initiative, _ = make_initiative("Nachbarschaft Ost")
    stale = make_need(initiative, title="Lange offen", published_at=NOW - timedelta(days=20))
    fresh = make_need(initiative, title="Neu", published_at=NOW - timedelta(days=2))
    asked = make_need(initiative, title="Gefragt", published_at=NOW - timedelta(days=20))
    _match(db, fresh, vera, MatchStatus.PROPOSED, created=NOW - timedelta(days=3))
    _match(
        db,
        asked,
        walter,
        MatchStatus.APPROVED,
        created=NOW - timedelta(days=10),
        decided=NOW - timedelta(days=9),
    )

    digests.queue_digests(db.session, NOW, kinds=["coordinator"])
    [row] = digest_rows(db, "coordinator")
    text = row.text_body
    assert row.subject == "Wochenüberblick für die Koordination"
    assert "1 Vorschlag wartet auf Ihre Entscheidung. Der älteste ist vom 27.02.2026." in text
    assert "1 Anfrage ist seit mehr als 14 Tagen offen, ohne Expert:in:" in text
    assert (
        f"„Lange offen“ (Nachbarschaft Ost, Ost), seit 20 Tagen offen: http://localhost/anfragen/{stale.id}"
        in text
    )
    assert "„Gefragt“ (" not in text  # an expert was asked: no longer a gap
    assert "1 Profil wartet auf Freigabe." in text
    assert "Walter Muster, „Gefragt“, seit 9 Tagen" in text
    assert "http://localhost/koordination/vorschlaege" in text


def test_an_empty_coordinator_digest_is_not_sent(db, make_user):
    make_user(roles=(Role.ADMIN,))
    run = digests.queue_digests(db.session, NOW)
    assert run.empty["coordinator"] == 1 and run.total_queued == 0


# --- The initiative digest ----------------------------------------------------------------------


def test_initiative_digest_shows_each_need_and_what_happens_next(
    db, make_initiative, make_need, make_volunteer, make_user
):
    initiative, member = make_initiative("Nachbarschaft Ost")
    make_need(initiative, title="Noch ein Entwurf", status=NeedStatus.DRAFT)
    make_need(initiative, title="Wir suchen", published_at=NOW - timedelta(days=5))
    asked = make_need(initiative, title="Jemand gefragt", published_at=NOW - timedelta(days=8))
    make_need(initiative, title="Gefunden", status=NeedStatus.MATCHED, published_at=NOW)
    recent = make_need(initiative, title="Gerade fertig", status=NeedStatus.CLOSED)
    old = make_need(initiative, title="Lange her", status=NeedStatus.CLOSED)
    recent.closed_at, old.closed_at = NOW - timedelta(days=2), NOW - timedelta(days=40)
    _match(db, asked, make_volunteer(), MatchStatus.APPROVED, created=NOW, decided=NOW)
    # An initiative whose needs all ended long ago hears nothing.
    quiet, _member = make_initiative("Ruhige Ecke")
    gone = make_need(quiet, title="Längst erledigt", status=NeedStatus.WITHDRAWN)
    gone.closed_at = NOW - timedelta(days=30)
    db.session.commit()

    run = digests.queue_digests(db.session, NOW, kinds=["initiative"])
    [row] = digest_rows(db, "initiative")
    assert run.queued["initiative"] == 1 and row.user_id == member.id
    text = row.text_body
    assert row.subject == "Wochenüberblick: So steht es um Ihre Anfragen"
    expected = [
        (
            "„Noch ein Entwurf“: Entwurf",
            "Nächster Schritt: Prüfen Sie den Entwurf und veröffentlichen Sie ihn.",
        ),
        ("„Wir suchen“: Offen (seit 5 Tagen)", "Wir suchen eine passende Expert:in."),
        ("„Jemand gefragt“: Offen (seit 8 Tagen)", "Wir haben eine Expert:in gefragt."),
        ("„Gefunden“: Expert:in gefunden", "Die Kontaktdaten stehen bei der Anfrage."),
        ("„Gerade fertig“: Abgeschlossen", "Danke für Ihr Vertrauen!"),
    ]
    positions = []
    for state, step in expected:
        assert state in text and step in text
        positions.append(text.index(state))
    assert positions == sorted(positions)  # drafts first, ended needs last
    assert "Lange her" not in text and "Ruhige Ecke" not in text


def test_initiative_digest_asks_for_feedback_on_advice_not_yet_rated(
    db, make_initiative, make_need, make_volunteer
):
    initiative, _member = make_initiative("Nachbarschaft Ost")
    unrated = make_need(initiative, title="Beraten, ohne Rückmeldung", status=NeedStatus.CLOSED)
    rated = make_need(initiative, title="Beraten, bewertet", status=NeedStatus.CLOSED)
    unrated.closed_at = rated.closed_at = NOW - timedelta(days=2)
    waiting = _match(db, unrated, make_volunteer(), MatchStatus.COMPLETED, created=NOW)
    done = _match(db, rated, make_volunteer("zwei@example.org"), MatchStatus.COMPLETED, created=NOW)
    done.feedback_rating, done.feedback_at = 5, NOW
    db.session.commit()

    digests.queue_digests(db.session, NOW, kinds=["initiative"])
    [row] = digest_rows(db, "initiative")
    link = f"http://localhost/vermittlungen/{waiting.id}/rueckmeldung"
    assert row.text_body.count("Wie war die Beratung?") == 1
    assert link in row.text_body and link in unescape(row.html_body)
    assert f"/vermittlungen/{done.id}/rueckmeldung" not in row.text_body


@pytest.mark.parametrize(
    "opened, wording",
    [
        (NOW - timedelta(hours=1), "Offen (seit heute)"),
        # 23:30 on Sunday in Stuttgart: less than a day ago, and still yesterday.
        (datetime(2026, 3, 1, 22, 30, tzinfo=UTC), "Offen (seit gestern)"),
        (NOW - timedelta(days=2), "Offen (seit 2 Tagen)"),
    ],
)
def test_initiative_digest_counts_calendar_days_in_words(
    db, make_initiative, make_need, opened, wording
):
    initiative, _member = make_initiative("Nachbarschaft Ost")
    make_need(initiative, title="Wir suchen", published_at=opened)
    db.session.commit()

    digests.queue_digests(db.session, NOW, kinds=["initiative"])
    [row] = digest_rows(db, "initiative")
    assert f"„Wir suchen“: {wording}" in row.text_body
    assert wording in unescape(row.html_body)
    assert "seit 0 Tagen" not in row.text_body


def test_a_member_of_two_initiatives_gets_one_digest_with_both(db, make_initiative, make_need):
    first, member = make_initiative("Erste Initiative")
    second, _ = make_initiative("Zweite Initiative", member=member)
    make_need(first, title="Anfrage A", published_at=NOW)
    make_need(second, title="Anfrage B", published_at=NOW)
    digests.queue_digests(db.session, NOW, kinds=["initiative"])
    [row] = digest_rows(db, "initiative")
    assert "Erste Initiative" in row.text_body and "Zweite Initiative" in row.text_body


# --- Headers and links in every digest ----------------------------------------------------------


def test_every_digest_has_the_unsubscribe_headers_and_links(
    app, db, make_user, make_volunteer, seven_needs
):
    make_user(roles=(Role.COORDINATOR,))
    make_volunteer()
    make_volunteer(status=ProfileStatus.PENDING)  # something for the coordinators
    digests.queue_digests(db.session, NOW)
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert sorted(r.kind for r in rows) == [
        "digest_coordinator",
        "digest_initiative",
        "digest_volunteer",
    ]
    for row in rows:
        kind = row.kind.removeprefix("digest_")
        one_click, mailto = row.headers["List-Unsubscribe"].split(", ")
        assert one_click.startswith("<http://localhost/abbestellen/") and one_click.endswith(">")
        assert (
            mailto
            == f"<mailto:abbestellen@vernetzerboerse.example.org?subject=Abbestellen%20{kind}>"
        )
        assert row.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        token = one_click[1:-1].rsplit("/", 1)[1]
        assert mail_links.read_unsubscribe(token) == (row.user_id, kind)
        # The same link is visible in both parts, next to the settings page.
        assert one_click[1:-1] in row.text_body and one_click[1:-1] in row.html_body
        assert "http://localhost/konto/benachrichtigungen" in row.text_body
        assert "http://localhost/konto/benachrichtigungen" in row.html_body
        # Sent as it is written: no encoded words a mail program would not read.
        sent = Mail(row.recipient, row.subject, row.text_body, row.html_body, row.kind, row.headers)
        message = to_email_message(sent, app.config["MAIL_DEFAULT_SENDER"])
        raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n")).decode()
        assert f"List-Unsubscribe: {one_click},\r\n {mailto}\r\n" in raw
        assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw


def test_html_parts_are_simple(db, make_user, make_volunteer, seven_needs):
    make_user(roles=(Role.COORDINATOR,))
    make_volunteer()
    digests.queue_digests(db.session, NOW)
    for row in db.session.scalars(select(OutboxMessage)):
        html = row.html_body.lower()
        assert "<script" not in html and "<img" not in html and "<link" not in html
        assert html.startswith("<!doctype html>") and '<html lang="de">' in html


# --- One-click unsubscribe ----------------------------------------------------------------------


def _setting(db, user_id: int, kind: str) -> bool | None:
    db.session.expire_all()
    setting = db.session.get(DigestSetting, (user_id, kind))
    return None if setting is None else setting.enabled


@pytest.mark.parametrize(
    "body", ["List-Unsubscribe=One-Click", "", "something=else"], ids=["rfc8058", "empty", "wrong"]
)
def test_one_click_unsubscribe_needs_no_cookie_or_csrf_and_does_not_redirect(
    client, db, make_volunteer, body
):
    profile = make_volunteer()
    url = path_of(mail_links.unsubscribe_url(profile.user_id, "volunteer"))
    response = client.post(url, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert "nicht mehr" in text_of(response)
    assert _setting(db, profile.user_id, "volunteer") is False
    assert digests.queue_digests(db.session, NOW).switched_off["volunteer"] == 1
    # Again: still a friendly answer, nothing more changes.
    assert client.post(url).status_code == 200


def test_the_unsubscribe_link_asks_first_and_its_button_unsubscribes(client, db, make_user):
    user = make_user(roles=(Role.COORDINATOR,))
    url = path_of(mail_links.unsubscribe_url(user.id, "coordinator"))
    before = snapshot(db.session)
    page = client.get(url)
    assert page.status_code == 200
    assert "Ja, abbestellen" in text_of(page) and '<form method="post">' in text_of(page)
    assert changed_tables(before, snapshot(db.session)) == []
    client.post(url)
    assert "schon nicht mehr" in text_of(client.get(url))


@pytest.mark.parametrize("damage", ["tampered", "expired", "other purpose", "unknown kind"])
def test_a_bad_unsubscribe_link_is_400_and_changes_nothing(
    client, db, make_volunteer, issued_at, damage
):
    profile = make_volunteer()
    payload = {"uid": profile.user_id, "kind": "volunteer"}
    if damage == "tampered":
        token = make_token("unsubscribe", payload)[:-3] + "abc"
    elif damage == "expired":
        with issued_at(datetime.now(UTC) - timedelta(days=400)):
            token = make_token("unsubscribe", payload)
    elif damage == "other purpose":
        token = make_token("offer", {"uid": profile.user_id, "need": 1})
    else:
        token = make_token("unsubscribe", {"uid": profile.user_id, "kind": "daily"})
    before = snapshot(db.session)
    for method in ("get", "post"):
        response = getattr(client, method)(f"/abbestellen/{token}")
        assert response.status_code == 400
        text = text_of(response)
        assert ("abgelaufen" in text) == (damage == "expired")
        assert "E-Mail-Benachrichtigungen" in text  # the next step
    assert changed_tables(before, snapshot(db.session)) == []


# --- Settings -----------------------------------------------------------------------------------


def checked(page: str) -> dict[str, str]:
    """The chosen value of each radio group on a page."""
    return dict(re.findall(r'<input checked id="[^"]*" name="(\w+)"[^>]*value="(\w+)"', page))


def test_settings_offer_the_kinds_of_the_person_and_save_them(client, db, auth, make_user):
    user = make_user("both@example.org", roles=(Role.VOLUNTEER, Role.COORDINATOR))
    auth.login(user.email)
    assert "/konto/benachrichtigungen" in client.get("/konto").get_data(as_text=True)
    page = text_of(client.get("/konto/benachrichtigungen"))
    assert 'name="initiative"' not in page
    assert checked(page) == {"volunteer": "weekly", "coordinator": "weekly"}

    response = post_form(
        client, "/konto/benachrichtigungen", {"volunteer": "off", "coordinator": "weekly"}
    )
    assert response.status_code == 302
    assert _setting(db, user.id, "volunteer") is False
    assert _setting(db, user.id, "coordinator") is None  # weekly is the default
    page = text_of(client.get("/konto/benachrichtigungen"))
    assert checked(page) == {"volunteer": "off", "coordinator": "weekly"}

    post_form(client, "/konto/benachrichtigungen", {"volunteer": "weekly", "coordinator": "weekly"})
    assert _setting(db, user.id, "volunteer") is True


def test_settings_refuse_an_unknown_choice(client, db, auth, make_user):
    user = make_user()
    auth.login(user.email)
    response = post_form(client, "/konto/benachrichtigungen", {"volunteer": "daily"})
    assert response.status_code == 422
    assert "Bitte wählen Sie „Einmal pro Woche“ oder „Nicht mehr schicken“." in text_of(response)
    assert _setting(db, user.id, "volunteer") is None


def test_settings_need_a_login(client):
    response = client.get("/konto/benachrichtigungen")
    assert response.status_code == 302 and path_of(response.headers["Location"]) == "/anmelden"


# --- "Ich kann helfen" from a digest ------------------------------------------------------------


@pytest.fixture()
def offer_case(make_user, make_volunteer, make_initiative, make_need):
    make_user("koo@example.org", roles=(Role.COORDINATOR,))
    profile = make_volunteer(first_name="Vera")
    initiative, _ = make_initiative("Nachbarschaft Ost")
    need = make_need(initiative, title="Wie finden wir Leute?")
    return profile, need, path_of(mail_links.offer_url(profile.user_id, need.id))


def _matches(db, need_id: int) -> list[Match]:
    db.session.expire_all()
    return db.session.scalars(select(Match).where(Match.need_id == need_id)).all()


def test_offer_from_a_digest_asks_then_offers_once(client, db, offer_case, mailbox):
    profile, need, url = offer_case
    before = snapshot(db.session)
    page = client.get(url)
    assert page.status_code == 200 and "Ja, ich biete meine Hilfe an" in text_of(page)
    assert "Die Anfrage" in text_of(page) and "Dringlichkeit" in text_of(page)  # read it here
    assert changed_tables(before, snapshot(db.session)) == []

    response = post_form(client, url, {})
    assert response.status_code == 200 and "Danke für Ihr Angebot!" in text_of(response)
    [match] = _matches(db, need.id)
    assert (match.status, match.origin, match.volunteer_id) == ("proposed", "offer", profile.id)
    assert match.score is not None and match.explanation
    assert [m.to for m in mailbox] == ["koo@example.org"]  # the coordinators hear of it

    used = client.get(url)
    assert used.status_code == 200 and "Schon angeboten" in text_of(used)
    assert client.post(url).status_code == 400  # no CSRF token: the friendly 400
    assert len(_matches(db, need.id)) == 1


def test_offer_for_a_need_that_is_no_longer_open_explains_it(client, db, offer_case):
    _profile, need, url = offer_case
    need.status = NeedStatus.CLOSED
    db.session.commit()
    response = client.get(url)
    assert response.status_code == 409
    assert "Das geht leider nicht mehr" in text_of(response)
    assert "Meine Übersicht" in text_of(response)


@pytest.mark.parametrize("damage", ["tampered", "expired", "other purpose", "disabled account"])
def test_a_bad_offer_link_is_400_and_changes_nothing(client, db, offer_case, issued_at, damage):
    profile, need, url = offer_case
    payload = {"uid": profile.user_id, "need": need.id}
    if damage == "tampered":
        url = url[:-3] + "abc"
    elif damage == "expired":
        with issued_at(datetime.now(UTC) - timedelta(days=15)):
            url = "/mail/helfen/" + make_token("offer", payload)
    elif damage == "other purpose":
        url = "/mail/helfen/" + make_token("accept", {"uid": profile.user_id, "match": need.id})
    else:
        profile.user.disabled_at = NOW
        db.session.commit()
    before = snapshot(db.session)
    response = client.get(url)
    assert response.status_code == 400
    assert ("abgelaufen" in text_of(response)) == (damage == "expired")
    assert "Meine Übersicht" in text_of(response)
    assert changed_tables(before, snapshot(db.session)) == []


# --- "Zusagen" from the mail that asks ----------------------------------------------------------


@pytest.fixture()
def approved(db, make_volunteer, make_initiative, make_need):
    profile = make_volunteer(first_name="Vera")
    initiative, _ = make_initiative("Nachbarschaft Ost")
    need = make_need(initiative, title="Wie finden wir Leute?")
    match = _match(db, need, profile, MatchStatus.APPROVED, created=NOW, decided=NOW)
    return match, path_of(mail_links.accept_url(profile.user_id, match.id))


def test_the_approval_mail_has_the_accept_link_first_and_the_match_page(db, approved):
    match, _url = approved
    match_mails.match_approved(db.session, match)
    row = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "match_approved")
    ).one()
    accept_at = row.text_body.index("http://localhost/mail/zusagen/")
    page_at = row.text_body.index(f"http://localhost/vermittlungen/{match.id}")
    assert accept_at < page_at
    assert ">Ja, ich sage zu</a>" in row.html_body


def test_the_accept_page_says_what_the_yes_is_for(client, db, approved):
    """Opened from the mail on a phone, not logged in: the whole need (its facts and all of
    its text, not a link to a page without a way back), and why this volunteer was asked."""
    match, url = approved
    ending = "Das ist der letzte Satz unserer langen Beschreibung."
    match.need.description = "Wir suchen Leute für unseren Nachbarschaftstreff. " * 12 + ending
    match.explanation = [
        {
            "name": "district",
            "contribution": 0.2,
            "de": "Im Stadtbezirk",
            "en": "In the district",
            "for": {
                "volunteer": {
                    "de": "Die Initiative ist in Ihrem Stadtbezirk Ost",
                    "en": "The initiative is in your district, Ost",
                }
            },
        }
    ]
    db.session.commit()
    text = text_of(client.get(url))
    assert ending in text  # the whole text: it was cut after 500 characters
    assert "Nachbarschaft Ost" in text and "Stadtbezirk" in text and "Themen" in text
    assert "Warum Sie gut passen" in text
    assert "Die Initiative ist in Ihrem Stadtbezirk Ost" in text
    assert f'href="/anfragen/{match.need_id}"' not in text  # everything is here already


def test_the_decline_page_from_the_mail_leads_back_to_the_request(client, approved):
    _match, url = approved
    no = url.replace("/mail/zusagen/", "/mail/absagen/")
    page = text_of(client.get(no))
    assert f'href="{url}"' in page and "Zurück zur Anfrage" in page


def test_no_from_the_mail_needs_no_log_in_and_asks_first(client, db, approved):
    """ "Diesmal nicht" on the page the mail opened led to the log-in page; it asks (the
    reason is optional) and declines with the same link's proof."""
    match, url = approved
    no = url.replace("/mail/zusagen/", "/mail/absagen/")
    before = snapshot(db.session)
    ask = client.get(no)
    assert ask.status_code == 200 and "Absagen" in text_of(ask)
    assert changed_tables(before, snapshot(db.session)) == []
    done = post_form(client, no, {"reason": ""})
    assert done.status_code == 200 and "Wir fragen jemand anderen" in text_of(done)
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == MatchStatus.DECLINED
    again = client.get(no)  # the same link later: said, nothing changes
    assert again.status_code == 200 and "abgesagt" in text_of(again)
    assert client.get(url).status_code == 409  # and "Zusagen" is no longer possible
    assert client.get("/mail/absagen/kaputt").status_code == 400


def test_accept_from_mail_asks_then_accepts(client, db, approved, mailbox):
    match, url = approved
    before = snapshot(db.session)
    page = client.get(url)
    assert page.status_code == 200 and "Ja, ich sage zu" in text_of(page)
    assert url.replace("/mail/zusagen/", "/mail/absagen/") in text_of(page)  # "Diesmal nicht"
    assert changed_tables(before, snapshot(db.session)) == []

    response = post_form(client, url, {})
    assert response.status_code == 200 and "Danke für Ihre Zusage!" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == MatchStatus.ACCEPTED
    assert {m.kind for m in mailbox} == {
        "match_introduction_volunteer",
        "match_introduction_initiative",
    }
    again = client.get(url)
    assert again.status_code == 200 and "Schon zugesagt" in text_of(again)


def test_an_accept_link_opened_by_another_signed_in_person_changes_nothing(
    client, db, approved, auth, make_user
):
    match, url = approved
    make_user("nachbarin@example.org", first_name="Nora")
    auth.login("nachbarin@example.org")
    before = snapshot(db.session)
    for method in ("get", "post"):
        response = post_form(client, url, {}) if method == "post" else client.get(url)
        assert response.status_code == 403
        assert "Dieser Link ist für eine andere Person" in text_of(response)
        assert "Sie sind als Nora angemeldet" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == MatchStatus.APPROVED
    assert changed_tables(before, snapshot(db.session)) == []
    auth.logout()  # the person the mail was for still can
    assert post_form(client, url, {}).status_code == 200


def test_accept_when_the_match_no_longer_waits_explains_it(client, db, approved):
    match, url = approved
    match.status = MatchStatus.CANCELLED
    db.session.commit()
    response = client.get(url)
    assert response.status_code == 409
    assert "wartet nicht (mehr) auf Ihre Zusage" in text_of(response)


@pytest.mark.parametrize("damage", ["tampered", "expired", "someone else"])
def test_a_bad_accept_link_is_400_and_changes_nothing(
    client, db, approved, make_volunteer, issued_at, damage
):
    match, url = approved
    if damage == "tampered":
        url = url[:-3] + "abc"
    elif damage == "expired":
        with issued_at(datetime.now(UTC) - timedelta(days=15)):
            url = path_of(mail_links.accept_url(match.volunteer.user_id, match.id))
    else:
        url = path_of(mail_links.accept_url(make_volunteer().user_id, match.id))
    before = snapshot(db.session)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code == 400
    assert changed_tables(before, snapshot(db.session)) == []


# --- Statements per run -------------------------------------------------------------------------


def _population(make_user, make_volunteer, make_initiative, make_need, volunteers: int) -> None:
    make_user(roles=(Role.COORDINATOR,))
    for i in range(volunteers):
        make_volunteer(first_name=f"V{i}", districts=("ost", "mitte"))
        initiative, _ = make_initiative(f"Initiative {i}")
        make_need(initiative, title=f"Anfrage {i}", published_at=NOW - timedelta(days=20))


def test_the_statements_of_a_run_do_not_grow_with_the_digests(
    db, count_queries, make_user, make_volunteer, make_initiative, make_need
):
    _population(make_user, make_volunteer, make_initiative, make_need, 3)
    with count_queries() as few:
        small = digests.queue_digests(db.session, NOW)
    _population(make_user, make_volunteer, make_initiative, make_need, 27)
    with count_queries() as many:
        large = digests.queue_digests(db.session, NOW + WEEK)
    assert small.total_queued == 3 + 1 + 3
    assert large.total_queued == 30 + 2 + 30
    assert len(many) == len(few), "\n".join(many)


def test_shown_needs_count_once_per_pair(db, make_volunteer, seven_needs):
    profile = make_volunteer()
    digests.queue_digests(db.session, NOW)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(DigestShown)
            .where(DigestShown.user_id == profile.user_id)
        )
        == 5
    )


# --- Every page behind a mail link is a proper page ---------------------------------------------


def _pages(client, auth, db, offer_case, approved) -> dict:
    """Each state of each page of this feature, as a response."""
    profile, need, offer_url = offer_case
    match, accept_url = approved
    unsubscribe_url = path_of(mail_links.unsubscribe_url(profile.user_id, "volunteer"))
    pages = {
        "unsubscribe ask": client.get(unsubscribe_url),
        "unsubscribe done": client.post(unsubscribe_url),
        "unsubscribe off": client.get(unsubscribe_url),
        "unsubscribe broken": client.get("/abbestellen/kaputt"),
        "offer ask": client.get(offer_url),
        "offer done": post_form(client, offer_url, {}),
        "offer used": client.get(offer_url),
        "offer broken": client.get("/mail/helfen/kaputt"),
        "accept ask": client.get(accept_url),
        "accept done": post_form(client, accept_url, {}),
        "accept used": client.get(accept_url),
        "accept broken": client.get("/mail/zusagen/kaputt"),
    }
    need.status = NeedStatus.CLOSED
    db.session.commit()
    pages["offer closed"] = client.get(
        path_of(mail_links.offer_url(match.volunteer.user_id, need.id))
    )
    auth.login(profile.user.email)
    pages["settings"] = client.get("/konto/benachrichtigungen")
    pages["settings with error"] = post_form(client, "/konto/benachrichtigungen", {})
    return pages


def test_every_page_of_the_mail_links_has_the_shared_structure(
    client, auth, db, offer_case, approved
):
    from html_reader import Page

    pages = _pages(client, auth, db, offer_case, approved)
    assert {name: r.status_code for name, r in pages.items() if r.status_code != 200} == {
        "unsubscribe broken": 400,
        "offer broken": 400,
        "accept broken": 400,
        "offer closed": 409,
        "settings with error": 422,
    }
    for name, response in pages.items():
        page = Page.of(response)
        assert page.lang == "de", name
        assert page.h1, name  # exactly one, not empty
        assert page.find("main").find("a") or page.find("main").find("button"), name
        for element in page.find_all():
            assert "style" not in element.attrs, f"{name}: inline style on {element}"
            if element.tag in {"input", "select", "textarea"} and element.get("type") != "hidden":
                labelled = any(a.tag == "label" for a in element.ancestors()) or page.find(
                    "label", for_=element.get("id")
                )
                assert labelled, f"{name}: no label for {element}"


def test_without_an_unsubscribe_mailbox_the_header_has_the_link_only(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_UNSUBSCRIBE_ADDRESS", "")
    headers = digests.unsubscribe_headers("https://example.org/abbestellen/x", "volunteer")
    assert headers["List-Unsubscribe"] == "<https://example.org/abbestellen/x>"


def test_a_mail_link_page_speaks_the_language_of_its_mail(client, db, approved):
    """An English volunteer's approval mail is English; the page its "accept" link opens in a
    German browser was German. Unless this browser chose a language, it follows the person."""
    match, url = approved
    match.volunteer.user.locale = "en"
    db.session.commit()
    page = client.get(url, headers={"Accept-Language": "de-DE"})
    text = text_of(page)
    assert "Ja, ich sage zu" not in text and 'lang="en"' in text
