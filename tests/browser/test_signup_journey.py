"""Sign up, confirm from the mail, log in and out, as a person does it in Chromium."""

import pytest
from browser_support import screenshot
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "Mein Garten blüht im Mai"


@pytest.mark.parametrize("width", [1280, 375])
def test_landing_sign_up_and_log_in_pages_in_german(live_server, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gemeinsam die Nachbarschaft stärken")
    screenshot(page, f"landing-{width}")
    # Nothing sticks out sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_role("link", name="Registrieren").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registrieren")
    screenshot(page, f"signup-{width}")
    page.goto(live_server.url + "/anmelden")
    screenshot(page, f"login-{width}")


def test_sign_up_confirm_log_in_log_out(live_server, page):
    email = "gisela@example.org"
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Als Expert:in mitmachen").click()
    expect(page.get_by_label("Expert:in – ich möchte Initiativen beraten")).to_be_checked()

    # A first try without agreeing to the privacy text shows the error summary.
    page.get_by_label("Vorname").fill("Gisela")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Konto anlegen").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Bitte stimmen Sie der Datenschutzerklärung zu.")
    expect(summary).to_be_focused()
    screenshot(page, "signup-error-1280")

    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_label("Ich habe die Datenschutzerklärung gelesen").check()
    page.get_by_role("button", name="Konto anlegen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bitte schauen Sie in Ihr Postfach")

    page.goto(live_server.link_in_mail(email, "/bestaetigen/"))
    page.get_by_role("button", name="Ja, das ist meine Adresse").click()
    expect(page.get_by_role("status")).to_contain_text("Ihre E-Mail-Adresse ist bestätigt")

    expect(page.get_by_label("E-Mail-Adresse")).to_have_value(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("link", name="Mein Konto")).to_be_visible()

    page.get_by_role("button", name="Abmelden").click()
    expect(page.get_by_role("status")).to_contain_text("Sie sind abgemeldet")
    expect(page.get_by_role("link", name="Anmelden", exact=True)).to_be_visible()
