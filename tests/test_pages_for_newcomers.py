"""What a new user ran into on the pages: level explanations, ended needs, counts, words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from html_reader import Page
from support import post_form

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


# Levels ---------------------------------------------------------------------------------


def test_each_level_is_explained_in_its_label(client, make_user, auth):
    make_user("vera@example.org")
    auth.login("vera@example.org")
    page = Page.of(client.get("/profil"))
    labels = {label.get("for"): label.text for label in page.find_all("label") if label.get("for")}
    assert labels["level_start-0"] == "Keine Dazu kann ich nicht beraten."
    assert labels["level_start-1"] == "Grundkenntnisse Ich kenne mich etwas aus."
    assert labels["level_start-2"] == "Praxiserfahrung Ich habe das selbst schon gemacht."
    assert labels["level_conflicts-3"].startswith("Expert:in Ich habe viel Erfahrung")


def test_level_explanations_follow_the_language(client, make_user, auth):
    make_user("vera@example.org")
    auth.login("vera@example.org")
    post_form(client, "/sprache", {"lang": "en", "next": "/profil"}, token_from="/profil")
    page = Page.of(client.get("/profil"))
    label = next(el for el in page.find_all("label") if el.get("for") == "level_start-2")
    assert label.text == "Practical experience I have done this myself."


# Ended needs ------------------------------------------------------------------------------

GONE_WORDING = {
    NeedStatus.MATCHED: "Diese Anfrage hat schon Hilfe gefunden",
    NeedStatus.CLOSED: "Diese Anfrage ist abgeschlossen",
    NeedStatus.WITHDRAWN: "Diese Anfrage wurde zurückgezogen",
    NeedStatus.EXPIRED: "Diese Anfrage ist abgelaufen",
}


@pytest.mark.parametrize("status", list(GONE_WORDING))
def test_an_old_link_to_an_ended_need_says_what_happened(
    client, make_initiative, make_need, status
):
    initiative, _member = make_initiative("Nachbarschaft Ost")
    need = make_need(
        initiative, title="Mitstreiter:innen gesucht", status=status, phases=("start",)
    )

    response = client.get(f"/anfragen/{need.id}")
    assert response.status_code == 410
    page = Page.of(response)
    assert page.h1 == GONE_WORDING[status]
    assert "Mitstreiter:innen gesucht" in page.find("main").text
    links = {a.text: a.get("href") for a in page.find("main").find_all("a")}
    assert links["Offene Anfragen zum Thema „Start / Akquise“"] == "/anfragen?thema=start"
    assert links["Alle offenen Anfragen"] == "/anfragen"
    # The initiative following its own link without a log-in is shown the way in.
    assert links["Anmelden"] == f"/anmelden?next=/anfragen/{need.id}"


def test_an_approved_volunteer_is_led_to_the_needs_that_fit_them(
    client, db, auth, make_volunteer, make_initiative, make_need
):
    profile = make_volunteer("vera@example.org")
    initiative, _member = make_initiative()
    need = make_need(initiative, status=NeedStatus.MATCHED)
    match = _match(db, need, profile, MatchStatus.DECLINED)
    auth.login("vera@example.org")

    response = client.get(f"/anfragen/{need.id}")
    assert response.status_code == 410
    links = {a.text: a.get("href") for a in Page.of(response).find("main").find_all("a")}
    assert links["Offene Anfragen, die zu Ihnen passen"] == "/uebersicht#needs-title"
    assert links["Zu Ihrer Vermittlung für diese Anfrage"] == f"/vermittlungen/{match.id}"


def test_the_ended_page_speaks_english_too(client, make_initiative, make_need):
    initiative, _member = make_initiative()
    need = make_need(initiative, status=NeedStatus.MATCHED)
    response = client.get(f"/anfragen/{need.id}", headers={"Accept-Language": "en"})
    assert response.status_code == 410
    page = Page.of(response)
    assert page.lang == "en"
    assert page.h1 == "This request has already found help"


def test_drafts_of_others_and_unknown_ids_stay_404(
    client, auth, make_user, make_initiative, make_need
):
    initiative, _member = make_initiative()
    draft = make_need(initiative, status=NeedStatus.DRAFT)
    # A draft withdrawn before it was ever published was never public either.
    never_public = make_need(initiative, status=NeedStatus.WITHDRAWN)
    never_public.published_at = None
    make_user("vera@example.org")
    auth.login("vera@example.org")

    for path in (f"/anfragen/{draft.id}", f"/anfragen/{never_public.id}", "/anfragen/999999"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Hilfe gefunden" not in response.get_data(as_text=True)


def test_the_initiative_and_coordinators_still_see_their_ended_need(
    client, auth, make_user, make_initiative, make_need
):
    initiative, member = make_initiative()
    need = make_need(initiative, status=NeedStatus.CLOSED, title="Fertig beraten")
    make_user("koo@example.org", roles=(Role.COORDINATOR,))

    for email in (member.email, "koo@example.org"):
        auth.login(email)
        response = client.get(f"/anfragen/{need.id}")
        assert response.status_code == 200, email
        assert Page.of(response).h1 == "Fertig beraten"
        auth.logout()


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


# Print ------------------------------------------------------------------------------------


def test_need_and_match_pages_offer_print_with_and_without_javascript(
    client, db, auth, make_volunteer, make_initiative, make_need
):
    profile = make_volunteer("vera@example.org")
    initiative, _member = make_initiative()
    need = make_need(initiative)
    match = _match(db, make_need(initiative, status=NeedStatus.MATCHED), profile, "accepted")
    auth.login("vera@example.org")

    for path in (f"/anfragen/{need.id}", f"/vermittlungen/{match.id}"):
        page = Page.of(client.get(path))
        action = page.find("div", class_="print-action")
        assert action is not None, path
        # After the need's facts and the next steps, not between the title and the need.
        html = page.html
        start = html.index('class="print-action"')
        assert html.index('class="card"') < start, path
        rest = html[start:]
        assert "<section" not in rest[: rest.index("</article>")], path
        button = action.find("button")
        # The button needs JavaScript: it starts hidden and app.js shows it and hides the hint.
        assert button.text == "Drucken" and button.get("type") == "button"
        assert "hidden" in button.attrs and "data-print" in button.attrs
        hint = action.find("p", class_="hint")
        assert "hidden" not in hint.attrs and "Menü Ihres Browsers" in hint.text
    assert "print-action" not in client.get("/uebersicht").get_data(as_text=True)


def test_the_print_layout_leaves_the_print_action_out(app):
    css = app.static_folder + "/css/print.css"
    with open(css, encoding="utf-8") as sheet:
        hidden = sheet.read().split("{ display: none !important; }")[0]
    assert ".print-action" in hidden
