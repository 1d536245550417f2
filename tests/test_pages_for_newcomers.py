"""What a new user ran into on the pages: counts, and the words that go with them."""

from __future__ import annotations

from datetime import timedelta

from html_reader import Page

from matching.models import Match, MatchOrigin, MatchStatus, NeedStatus, Role, utcnow


def _match(db, need, profile, status):
    now = utcnow()
    match = Match(
        need_id=need.id,
        volunteer_id=profile.id,
        status=status,
        origin=MatchOrigin.ENGINE,
        created_at=now,
        updated_at=now,
        decided_at=now,
    )
    db.session.add(match)
    db.session.commit()
    return match


# Counts -----------------------------------------------------------------------------------


def _facts(page: Page) -> dict[str, str]:
    facts = page.find("dl", class_="facts")
    terms = [el.text for el in facts.find_all("dt")]
    values = [el.text for el in facts.find_all("dd")]
    return dict(zip(terms, values, strict=True))


def test_overview_shows_waiting_and_running_engagements_apart(
    client, db, auth, make_volunteer, make_initiative, make_need
):
    profile = make_volunteer("vera@example.org", capacity=3)
    initiative, _member = make_initiative()
    _match(db, make_need(initiative, status=NeedStatus.OPEN), profile, MatchStatus.APPROVED)
    _match(db, make_need(initiative, status=NeedStatus.MATCHED), profile, MatchStatus.ACCEPTED)
    _match(db, make_need(initiative, status=NeedStatus.MATCHED), profile, MatchStatus.ACCEPTED)
    auth.login("vera@example.org")

    facts = _facts(Page.of(client.get("/uebersicht")))
    assert facts["Laufende Beratungen"] == "2"
    assert facts["Warten auf Ihre Zusage"] == "1 Vermittlung"
    assert facts["Höchstens gleichzeitig"] == "3 Beratungen"
    assert "1 von 2" not in str(facts) and "2 von 3" not in str(facts)


def test_overview_of_a_volunteer_without_engagements(client, auth, make_volunteer):
    make_volunteer("vera@example.org", capacity=1)
    auth.login("vera@example.org")
    facts = _facts(Page.of(client.get("/uebersicht")))
    assert facts["Laufende Beratungen"] == "0"
    assert "Warten auf Ihre Zusage" not in facts
    assert facts["Höchstens gleichzeitig"] == "1 Beratung"


def test_waiting_times_from_the_settings_are_counted_in_words(
    app, client, db, auth, make_volunteer, make_user, make_initiative, make_need, monkeypatch
):
    monkeypatch.setitem(app.config, "COORDINATOR_REMINDER_DAYS", 1)
    monkeypatch.setitem(app.config, "HIGHLIGHT_AFTER_DAYS", 1)
    profile = make_volunteer("vera@example.org")
    initiative, _member = make_initiative()
    offer = _match(db, make_need(initiative), profile, MatchStatus.PROPOSED)
    offer.origin, offer.created_at = MatchOrigin.OFFER, utcnow() - timedelta(days=3)
    db.session.commit()
    make_user("koo@example.org", roles=(Role.COORDINATOR,))

    auth.login("vera@example.org")
    page = client.get("/uebersicht").get_data(as_text=True)
    assert "Antwort in der Regel innerhalb von 1 Tag." in page
    auth.logout()
    auth.login("koo@example.org")
    headings = [h.text for h in Page.of(client.get("/koordination/")).find_all("h2")]
    assert "Vorschläge, die seit mehr als 1 Tag auf Entscheidung warten" in headings
