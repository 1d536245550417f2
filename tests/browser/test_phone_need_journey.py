"""A coordinator takes a need down by phone as a draft, edits it, publishes it: it is open.

At 375 and 1280 px, with and without JavaScript; every page is checked with axe-core and
for sideways scrolling. A second call from the same initiative (its name typed in other
letters) is offered the initiative we already have instead of a duplicate.
"""

from __future__ import annotations

import re

import pytest
from browser_support import DESKTOP, PHONE, axe_violations, describe, screenshot
from playwright.sync_api import expect
from sqlalchemy import func, select

from matching.auth.passwords import hash_password
from matching.extensions import db
from matching.models import Initiative, Role, User, utcnow

pytestmark = pytest.mark.browser

PASSWORD = "Am Telefon ist Frau Özdemir"


@pytest.fixture(scope="module")
def coordinator_emails(live_server):
    """One coordinator per run, as the runs share one server."""
    emails = {}
    with live_server.app.app_context():
        for width in (PHONE["width"], DESKTOP["width"]):
            for js in (True, False):
                email = f"telefon-{width}-{'js' if js else 'nojs'}@example.org"
                user = User(
                    email=email,
                    password_hash=hash_password(PASSWORD),
                    first_name="Margit",
                    confirmed_at=utcnow(),
                    privacy_version=live_server.app.config["PRIVACY_VERSION"],
                )
                user.add_role(Role.COORDINATOR)
                db.session.add(user)
                emails[width, js] = email
        db.session.commit()
    return emails


def check(page, name: str, problems: list[str], js: bool) -> None:
    """A screenshot to look at; with JavaScript on, axe-core clean and nothing too wide.

    axe-core and the width are measured by scripts in the page, which cannot run with
    JavaScript off; the pages there are the same HTML and CSS.
    """
    width = page.viewport_size["width"]
    screenshot(page, f"phone-need-{name}-{width}")
    if not js:
        return
    found = axe_violations(page)
    if found:
        problems.append(f"{name} at {width} px ({page.url}):\n{describe(found)}")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        problems.append(f"{name} at {width} px is {scroll_width} px wide")


def fill_call(page, initiative: str, title: str) -> None:
    page.get_by_label("Name der Initiative").fill(initiative)
    page.get_by_label("Stadtbezirk").select_option(label="Bad Cannstatt")
    page.get_by_label("Stadtteil (freiwillig)").fill("Hallschlag")
    page.get_by_label("Name der Kontaktperson").fill("Frau Özdemir")
    page.get_by_role("textbox", name="Telefon").fill("0711 987654")
    page.get_by_label("Die Person ist einverstanden").check()
    page.get_by_label("Worum geht es? (kurzer Titel)").fill(title)
    page.get_by_label("Beschreibung").fill("Wir sind zu dritt und suchen mehr Leute.")
    page.get_by_role("checkbox", name=re.compile(r"^Start \/ Akquise")).check()


@pytest.mark.parametrize("width", [PHONE["width"], DESKTOP["width"]])
@pytest.mark.parametrize("js", [True, False], ids=["javascript", "no-javascript"])
def test_phone_need_from_draft_to_open(live_server, browser, coordinator_emails, width, js):
    viewport = PHONE if width == PHONE["width"] else DESKTOP
    context = browser.new_context(locale="de-DE", viewport=viewport, java_script_enabled=js)
    page = context.new_page()
    page.set_default_timeout(10_000)
    tag = f"{width}-{'js' if js else 'nojs'}"
    initiative = f"Seniorentreff Hallschlag {tag}"
    problems: list[str] = []
    try:
        page.goto(live_server.url + "/anmelden")
        page.get_by_label("E-Mail-Adresse").fill(coordinator_emails[width, js])
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.goto(live_server.url + "/koordination/")
        page.get_by_role("link", name="Anfrage am Telefon aufnehmen").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Anfrage am Telefon aufnehmen")
        check(page, f"form-{tag}", problems, js)

        # Taken down as a draft.
        fill_call(page, initiative, "Mitstreiter gesucht")
        page.get_by_role("button", name="Als Entwurf speichern").click()
        expect(page.get_by_role("status")).to_contain_text("als Entwurf gespeichert")
        expect(page.locator(".badge-state-draft")).to_have_text("Entwurf")
        check(page, f"draft-{tag}", problems, js)

        # Edited: a clearer title.
        page.get_by_role("link", name="Bearbeiten").click()
        check(page, f"edit-{tag}", problems, js)
        page.get_by_label("Worum geht es? (kurzer Titel)").fill(
            "Wie finden wir Mitstreiter:innen für den Seniorentreff?"
        )
        page.get_by_role("button", name="Als Entwurf speichern").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Wie finden wir Mitstreiter:innen für den Seniorentreff?"
        )

        # Published: it is open, and on the public list.
        page.get_by_role("button", name="Jetzt veröffentlichen").click()
        expect(page.locator(".badge-state-open")).to_have_text("Offen")
        check(page, f"open-{tag}", problems, js)
        need_url = page.url
        page.goto(live_server.url + "/anfragen?bezirk=bad-cannstatt")
        path = need_url.removeprefix(live_server.url)
        expect(page.locator(f'a[href="{path}"]')).to_have_count(1)

        # The next call from the same initiative, its name typed in other letters.
        page.goto(live_server.url + "/koordination/anfrage-aufnehmen")
        fill_call(page, f"  {initiative.upper()} ", "Wie kommen wir an Räume?")
        page.get_by_role("button", name="Als Entwurf speichern").click()
        expect(page.get_by_role("alert")).to_contain_text(
            "Eine Initiative mit diesem Namen gibt es schon"
        )
        check(page, f"known-{tag}", problems, js)
        page.get_by_role("radio", name=re.compile(re.escape(initiative))).check()
        page.get_by_role("button", name="Als Entwurf speichern").click()
        expect(page.get_by_role("status")).to_contain_text("als Entwurf gespeichert")
        assert page.url != need_url
        with live_server.app.app_context():
            try:
                same = db.session.scalar(
                    select(func.count())
                    .select_from(Initiative)
                    .where(Initiative.name == initiative)
                )
            finally:
                db.session.remove()  # no read transaction left open on the shared file
        assert same == 1
    finally:
        context.close()
    assert not problems, "\n\n".join(problems)
