"""Meine Daten as a readable, printable page beside the JSON file: same facts, plain words."""

from __future__ import annotations

from datetime import UTC, datetime

from matching import privacy
from matching.models import Match, MatchStatus

PAGE = "/konto/meine-daten/ansehen"


def test_the_page_shows_the_stored_data_in_words_and_local_time(
    client, db, auth, make_volunteer, make_initiative, make_need
):
    profile = make_volunteer("vera@example.org", districts=("bad-cannstatt", "ost"))
    user = profile.user
    user.created_at = datetime(2025, 7, 1, 22, 15, tzinfo=UTC)  # 00:15 on 2 July in Stuttgart
    initiative, _ = make_initiative("Garten West", district="west")
    need = make_need(initiative, title="Wie finden wir Mitstreiter?")
    db.session.add(Match(need=need, volunteer=profile, status=MatchStatus.ACCEPTED))
    db.session.commit()
    auth.login("vera@example.org")

    assert f'href="{PAGE}"' in client.get("/konto/meine-daten").get_data(as_text=True)
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "vera@example.org" in html
    assert "Vernetzungs-Expert:in" in html and "volunteer" not in html
    assert "Bad Cannstatt, Ost" in html and "bad-cannstatt" not in html
    assert "<dt>Start / Akquise</dt><dd>Expert:in</dd>" in html
    assert "<dt>Stand</dt><dd>Freigegeben</dd>" in html
    assert "Wie finden wir Mitstreiter?" in html and "Zugesagt" in html
    assert "02.07.2025, 00:15" in html  # Berlin summer time, not 22:15 UTC
    assert 'media="print"' in html  # the print styles apply


def test_every_part_of_the_download_has_a_place_on_the_page(client, db, auth, make_volunteer):
    profile = make_volunteer("vera@example.org")
    auth.login("vera@example.org")
    keys = set(privacy.export(db.session, profile.user))
    html = client.get(PAGE).get_data(as_text=True)
    titles = {
        "account": "Ihr Konto",
        "consents": "Ihre Einwilligungen",
        "digest_settings": "Ihre E-Mail-Benachrichtigungen",
        "volunteer_profile": "Ihr Profil als Expert:in",
        "matches": "Ihre Vermittlungen",
        "initiatives": "Initiativen, für die Sie handeln",
        "needs_created": "Anfragen, die Sie angelegt haben",
        "feedback_given": "Ihre Rückmeldungen zu Beratungen",
        "mails": "E-Mails an Sie",
        "not_this_time": "„Diesmal nicht“",
        "materials_suggested": "Materialien, die Sie vorgeschlagen haben",
        "barriers_reported": "Barrieren, die Sie gemeldet haben",
        "messages_written": "Ihre Nachrichten",
        "message_mail": "E-Mails zu neuen Nachrichten",
        "meetings": "Treffen Ihrer Vermittlungen",
        "activity": "Was Sie getan haben",
    }
    assert keys == set(titles), "a new part of the export needs its section on the page"
    for title in titles.values():
        assert title in html, title


def test_only_the_person_themself_sees_it(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/anmelden" in response.headers["Location"]


def test_the_page_speaks_english_too(client, db, auth, make_volunteer):
    make_volunteer("vera@example.org")
    auth.login("vera@example.org")
    with client.session_transaction() as session:
        session["lang"] = "en"
    html = client.get(PAGE).get_data(as_text=True)
    assert "What we have stored about you" in html and "Your account" in html


def test_the_page_speaks_words_not_codes_and_holds_what_one_wrote(
    client, db, auth, make_volunteer, make_initiative, make_need
):
    """The history said "account.login · user 1" and the consent "privacy"; the look back a
    volunteer wrote was in neither the page nor the download."""
    from matching import matches
    from matching.models import MatchOrigin, MatchStatus, utcnow

    profile = make_volunteer("vera@example.org")
    initiative, _member = make_initiative()
    need = make_need(initiative)
    match = matches.create_match(
        db.session, None, need, profile, origin=MatchOrigin.ENGINE, now=utcnow()
    )
    match.status = MatchStatus.COMPLETED
    match.volunteer_feedback = "Der Verein hat sich gegründet."
    db.session.commit()
    auth.login("vera@example.org")
    html = client.get(PAGE).get_data(as_text=True)
    assert "Angemeldet" in html and "account.login" not in html
    assert "Datenschutzerklärung" in html and ">privacy<" not in html
    assert "Der Verein hat sich gegründet." in html
    download = privacy.export(db.session, profile.user)
    assert download["matches"][0]["look_back"] == "Der Verein hat sich gegründet."
