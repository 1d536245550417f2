"""Meine Daten to read and print: accessible and no wider than the screen, at 375 and 1280 px."""

from __future__ import annotations

import pytest
from browser_support import DESKTOP, PHONE, axe_violations, describe, screenshot
from playwright.sync_api import expect

from matching.auth.passwords import hash_password
from matching.extensions import db
from matching.models import Role, User, utcnow

pytestmark = pytest.mark.browser

PASSWORD = "Meine Daten gehören mir"
EMAIL = "sehr.lange.adresse.zum.testen@beispiel-verein.example.org"


@pytest.fixture(scope="module")
def person(live_server):
    with live_server.app.app_context():
        user = User(
            email=EMAIL,
            password_hash=hash_password(PASSWORD),
            first_name="Hildegard",
            last_name="Müller-Lüdenscheidt",
            confirmed_at=utcnow(),
            privacy_version=live_server.app.config["PRIVACY_VERSION"],
        )
        user.add_role(Role.INITIATIVE)
        db.session.add(user)
        db.session.commit()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_my_data_page_reads_and_prints(live_server, browser, person, viewport):
    context = browser.new_context(locale="de-DE", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(live_server.url + "/anmelden")
        page.get_by_label("E-Mail-Adresse").fill(EMAIL)
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.goto(live_server.url + "/konto/meine-daten")
        page.get_by_role("link", name="Zum Lesen und Drucken ansehen").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Was wir über Sie gespeichert haben"
        )
        expect(page.get_by_text(EMAIL)).to_be_visible()
        width = viewport["width"]
        screenshot(page, f"my-data-{width}")
        found = axe_violations(page)
        assert not found, describe(found)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.emulate_media(media="print")
        expect(page.get_by_role("link", name="← Zurück zu „Meine Daten“")).to_be_hidden()
        screenshot(page, f"my-data-print-{width}")
    finally:
        context.close()
