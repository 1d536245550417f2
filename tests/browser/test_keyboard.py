"""Every step by keyboard alone: sign up, log in, the profile, approving, offering help.

Only ``page.keyboard`` acts: Tab to move, Enter and Space to press, arrow keys inside a
group of radio buttons (as in every browser). At every stop the focus must be visible.
"""

from __future__ import annotations

import re

import pytest
from browser_support import DESKTOP, link_after, mail_to
from playwright.sync_api import expect

from matching.auth.passwords import hash_password
from matching.extensions import db
from matching.models import (
    Initiative,
    InitiativeMember,
    Need,
    NeedPhase,
    Role,
    User,
    utcnow,
)

pytestmark = pytest.mark.browser

PASSWORD = "Tastatur statt Maus im Quartier"
TITLE = "Wie halten wir unseren Stammtisch lebendig?"
VOLUNTEER = "lotte.tasten@example.org"
COORDINATOR = "kemal.tasten@example.org"

# Visible focus: an outline of at least 2 px or a box shadow on the focused element.
_FOCUS_SHOWN = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return "nothing has the focus";
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  if (outline || style.boxShadow !== "none") return "";
  const name = element.id || element.getAttribute("name") || element.textContent.trim().slice(0, 40);
  return `no visible focus on <${element.localName} type="${element.type || ""}"> “${name}” (outline ${style.outlineStyle} ${style.outlineWidth})`;
}"""


@pytest.fixture(scope="module")
def scene(live_server):
    """A coordinator, and an initiative with an open need about networking in Zuffenhausen."""
    with live_server.app.app_context():
        people = []
        for email, first, role in (
            (COORDINATOR, "Kemal", Role.COORDINATOR),
            ("rosa.tasten@example.org", "Rosa", Role.INITIATIVE),
        ):
            user = User(
                email=email,
                password_hash=hash_password(PASSWORD),
                first_name=first,
                last_name="Tasten",
                confirmed_at=utcnow(),
                privacy_version=live_server.app.config["PRIVACY_VERSION"],
            )
            user.add_role(role)
            people.append(user)
        initiative = Initiative(name="Stadtteilrunde Rot", district="zuffenhausen")
        initiative.member_rows.append(InitiativeMember(user=people[1]))
        need = Need(
            initiative=initiative,
            title=TITLE,
            description="Wir treffen uns seit Jahren. Jetzt kommen immer weniger.",
            district="zuffenhausen",
            status="open",
            published_at=utcnow(),
        )
        need.phase_rows = [NeedPhase(phase="exchange")]
        db.session.add_all([*people, need])
        db.session.commit()


def press(page, key: str) -> None:
    page.keyboard.press(key)


_STYLED = """() => {
  const link = document.querySelector(".skip-link");
  return !link || getComputedStyle(link).position === "absolute";
}"""


def tab_to(page, target, limit: int = 150) -> None:
    """Press Tab until ``target`` has the focus; every stop on the way must show it."""
    # The focus ring comes from the stylesheet: judge it only once the sheet applies (on a
    # busy machine the first Tab after a reload can come before it does).
    page.wait_for_function(_STYLED)
    for _ in range(limit):
        press(page, "Tab")
        problem = page.evaluate(_FOCUS_SHOWN)
        assert not problem, problem
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def fill_by_keyboard(page, field, text: str) -> None:
    tab_to(page, field)
    page.keyboard.type(text)


def person(browser):
    context = browser.new_context(locale="de-DE", viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def test_the_journey_by_keyboard_alone(live_server, browser, scene):
    url = live_server.url
    volunteer = person(browser)
    coordinator = person(browser)
    try:
        # The first Tab reaches the skip link; Enter jumps over the menu.
        volunteer.goto(url + "/")
        tab_to(volunteer, volunteer.get_by_role("link", name="Zum Inhalt springen"))
        press(volunteer, "Enter")
        tab_to(volunteer, volunteer.get_by_role("link", name="Als Expert:in mitmachen"))
        press(volunteer, "Enter")
        expect(volunteer.get_by_role("heading", level=1)).to_have_text("Registrieren")

        # A first try without agreeing to the privacy statement fails: focus on the summary.
        fill_by_keyboard(volunteer, volunteer.get_by_label("Vorname"), "Lotte")
        fill_by_keyboard(volunteer, volunteer.get_by_label("E-Mail-Adresse"), VOLUNTEER)
        fill_by_keyboard(volunteer, volunteer.get_by_label("Passwort"), PASSWORD)
        tab_to(volunteer, volunteer.get_by_role("button", name="Konto anlegen"))
        press(volunteer, "Enter")
        summary = volunteer.get_by_role("alert")
        expect(summary).to_contain_text("Bitte stimmen Sie der Datenschutzerklärung zu.")
        expect(summary).to_be_focused()
        assert not volunteer.evaluate(_FOCUS_SHOWN)

        # The summary's link leads to the checkbox; Space ticks it.
        privacy = volunteer.get_by_label("Ich habe die Datenschutzerklärung gelesen")
        tab_to(volunteer, summary.get_by_role("link"))
        press(volunteer, "Enter")
        expect(privacy).to_be_focused()
        press(volunteer, "Space")
        expect(privacy).to_be_checked()
        press(volunteer, "Shift+Tab")  # back to the password, which is never sent back
        press(volunteer, "Shift+Tab")
        expect(volunteer.get_by_label("Passwort")).to_be_focused()
        volunteer.keyboard.type(PASSWORD)
        tab_to(volunteer, volunteer.get_by_role("button", name="Konto anlegen"))
        press(volunteer, "Enter")
        expect(volunteer.get_by_role("heading", level=1)).to_have_text(
            "Bitte schauen Sie in Ihr Postfach"
        )

        # Confirm from the mail, then log in: Enter in the password field sends the form.
        text = mail_to(live_server.smtp, VOLUNTEER, "Bitte bestätigen Sie Ihre E-Mail-Adresse")
        volunteer.goto(link_after(text, "Hallo Lotte", "/bestaetigen/"))
        tab_to(volunteer, volunteer.get_by_role("button", name="Ja, das ist meine Adresse"))
        press(volunteer, "Enter")
        expect(volunteer.get_by_role("status")).to_contain_text("Ihre E-Mail-Adresse ist bestätigt")
        fill_by_keyboard(volunteer, volunteer.get_by_label("Passwort"), PASSWORD)
        press(volunteer, "Enter")
        expect(volunteer.get_by_role("heading", level=1)).to_have_text("Mein Profil")

        # The profile: arrow keys choose a level, Space ticks a district, Enter saves.
        expect(volunteer.get_by_role("heading", level=1)).to_have_text("Mein Profil")
        exchange = volunteer.get_by_role("group", name="Netzwerk / Austausch")
        tab_to(volunteer, exchange.get_by_label("Keine"))
        for _ in range(3):
            press(volunteer, "ArrowDown")
        expect(exchange.get_by_label("Expert:in")).to_be_checked()
        tab_to(volunteer, volunteer.get_by_label("Zuffenhausen"))
        press(volunteer, "Space")
        tab_to(volunteer, volunteer.get_by_role("button", name="Profil speichern"))
        press(volunteer, "Enter")
        expect(volunteer.get_by_role("status")).to_contain_text(
            "Die Koordination schaut es sich an"
        )

        # The coordination team logs in and approves the profile.
        coordinator.goto(url + "/anmelden")
        fill_by_keyboard(coordinator, coordinator.get_by_label("E-Mail-Adresse"), COORDINATOR)
        fill_by_keyboard(coordinator, coordinator.get_by_label("Passwort"), PASSWORD)
        press(coordinator, "Enter")
        expect(coordinator.get_by_role("heading", level=1)).to_have_text("Überblick")
        tab_to(coordinator, coordinator.get_by_role("link", name=re.compile(r"Profile? warte")))
        press(coordinator, "Enter")
        expect(coordinator.get_by_role("heading", level=1)).to_have_text("Profile zur Freigabe")
        tab_to(coordinator, coordinator.get_by_role("link", name="Ansehen – Lotte"))
        press(coordinator, "Enter")
        expect(coordinator.get_by_role("heading", level=1)).to_have_text("Profil von Lotte")
        tab_to(coordinator, coordinator.get_by_role("button", name="Profil freigeben"))
        press(coordinator, "Enter")
        expect(coordinator.get_by_role("status")).to_contain_text("ist freigegeben")

        # The volunteer offers help for the fitting request.
        volunteer.reload()
        expect(volunteer.get_by_role("heading", level=1)).to_have_text("Meine Übersicht")
        tab_to(volunteer, volunteer.get_by_role("link", name=TITLE))
        press(volunteer, "Enter")
        expect(volunteer.get_by_role("heading", level=1)).to_have_text(TITLE)
        tab_to(volunteer, volunteer.get_by_role("link", name="Ich kann helfen"))
        press(volunteer, "Enter")
        expect(volunteer.get_by_role("heading", level=1)).to_have_text("Ich kann helfen")
        tab_to(volunteer, volunteer.get_by_role("button", name="Ja, ich biete meine Hilfe an"))
        press(volunteer, "Enter")
        expect(volunteer.get_by_role("status")).to_contain_text(
            "Ihr Angebot liegt bei der Koordination"
        )

        # The coordination team approves the offer.
        tab_to(coordinator, coordinator.get_by_role("link", name="Koordination"))
        press(coordinator, "Enter")
        expect(coordinator.get_by_role("heading", level=1)).to_have_text("Überblick")
        tab_to(
            coordinator,
            coordinator.get_by_role(
                "link", name=re.compile(r"Vorschl(a|ä)ge? warte\w* auf Entscheidung")
            ),
        )
        press(coordinator, "Enter")
        expect(coordinator.get_by_role("heading", level=1)).to_have_text("Vorschläge")
        tab_to(coordinator, coordinator.get_by_role("button", name=f"Freigeben – Lotte, {TITLE}"))
        press(coordinator, "Space")
        expect(coordinator.get_by_role("status")).to_contain_text("Lotte wird gebeten zuzusagen")
    finally:
        volunteer.context.close()
        coordinator.context.close()


def test_error_summary_has_the_focus_without_javascript(live_server, browser):
    context = browser.new_context(locale="de-DE", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/anmelden")
        page.get_by_role("button", name="Anmelden").click()
        expect(page.get_by_role("alert")).to_be_focused()
    finally:
        context.close()
