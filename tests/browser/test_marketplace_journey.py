"""A volunteer fills in a profile and an initiative posts a need, on a phone-sized screen."""

import pytest
from browser_support import screenshot
from playwright.sync_api import expect

from matching.auth.passwords import hash_password
from matching.extensions import db
from matching.models import Role, User, utcnow

pytestmark = pytest.mark.browser

PASSWORD = "Kaffee und Kuchen im Hof"
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def people(live_server):
    """Confirmed accounts for a volunteer, an initiative and a coordinator."""
    with live_server.app.app_context():
        for email, first, role in (
            ("vera@example.org", "Vera", Role.VOLUNTEER),
            ("ines@example.org", "Ines", Role.INITIATIVE),
            ("katrin@example.org", "Katrin", Role.COORDINATOR),
        ):
            user = User(
                email=email,
                password_hash=hash_password(PASSWORD),
                first_name=first,
                confirmed_at=utcnow(),
                privacy_version="test",
            )
            user.add_role(role)
            db.session.add(user)
        db.session.commit()


def log_in(page, url, email):
    page.goto(url + "/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def log_out(page):
    page.get_by_role("button", name="Abmelden").click()


def test_profile_approval_need_and_fitting_list(live_server, people, browser):
    context = browser.new_context(locale="de-DE", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    url = live_server.url
    try:
        # The initiative describes itself and posts a need in Ost about finding people.
        log_in(page, url, "ines@example.org")
        expect(page.get_by_role("heading", level=1)).to_have_text("Unsere Initiative")
        page.get_by_label("Name der Initiative").fill("Repair-Café Ostheim")
        page.get_by_label("Stadtbezirk").select_option(label="Ost")
        page.get_by_role("button", name="Speichern").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Meine Anfragen")
        page.get_by_role("link", name="Neue Anfrage stellen").click()
        page.get_by_label("Worum geht es?").fill("Wie finden wir Mitstreiter:innen?")
        page.get_by_label("Beschreibung").fill("Wir sind zu dritt und möchten mehr werden.")
        page.get_by_label("Start / Akquise").check()
        screenshot(page, "need-form-375")
        page.get_by_role("button", name="Veröffentlichen").click()
        expect(page.get_by_role("status")).to_contain_text("Ihre Anfrage ist veröffentlicht")
        log_out(page)

        # The volunteer fills in the profile on the phone.
        log_in(page, url, "vera@example.org")
        expect(page.get_by_role("heading", level=1)).to_have_text("Mein Profil")
        page.get_by_role("group", name="Start / Akquise").get_by_label("Expert:in").check()
        page.get_by_role("group", name="Kooperation").get_by_label("Praxiserfahrung").check()
        page.get_by_label("Ost", exact=True).check()
        page.get_by_label("Kurz über Sie").fill("Ich habe das Stadtteilcafé mit aufgebaut.")
        screenshot(page, "profile-form-375")
        page.get_by_role("button", name="Profil speichern").click()
        expect(page.get_by_role("status")).to_contain_text("Die Koordination schaut es sich an")
        expect(page.get_by_text("Wartet auf Freigabe")).to_be_visible()
        log_out(page)

        # The coordinator approves it.
        log_in(page, url, "katrin@example.org")
        expect(page.get_by_role("heading", level=1)).to_have_text("Überblick")
        page.get_by_role("link", name="1 Profil wartet auf Freigabe").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Profile zur Freigabe")
        page.get_by_role("link", name="Ansehen").click()
        page.get_by_role("button", name="Profil freigeben").click()
        expect(page.get_by_role("status")).to_contain_text("ist freigegeben")
        log_out(page)

        # Now the need shows up on the volunteer's overview.
        log_in(page, url, "vera@example.org")
        expect(page.get_by_role("heading", level=1)).to_have_text("Meine Übersicht")
        expect(page.get_by_role("link", name="Wie finden wir Mitstreiter:innen?")).to_be_visible()
        screenshot(page, "overview-375")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.goto(url + "/anfragen")
        screenshot(page, "open-needs-375")
    finally:
        context.close()
