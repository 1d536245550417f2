"""An initiative edits its draft and presses "Veröffentlichen": the new text is what is published.

The edit and the publishing happen in one POST; the page must show the edited text, the
need must be open with it, and the old placeholder must be gone. At 375 and 1280 px, with
and without JavaScript; with JavaScript every page is checked with axe-core.
"""

from __future__ import annotations

import pytest
from browser_support import DESKTOP, PHONE, axe_violations, describe, screenshot
from playwright.sync_api import expect
from sqlalchemy import select

from matching.auth.passwords import hash_password
from matching.extensions import db
from matching.models import (
    Initiative,
    InitiativeMember,
    Need,
    NeedPhase,
    NeedStatus,
    Role,
    User,
    utcnow,
)

pytestmark = pytest.mark.browser

PASSWORD = "Unser Garten braucht Hände"
PLACEHOLDER = "Nächster Schritt: Kooperation"
EDITED = "Mit welchen Vereinen können wir zusammenarbeiten?"


@pytest.fixture(scope="module")
def drafts(live_server):
    """One initiative member with one draft per run, as the runs share one server."""
    made = {}
    with live_server.app.app_context():
        for width in (PHONE["width"], DESKTOP["width"]):
            for js in (True, False):
                tag = f"{width}-{'js' if js else 'nojs'}"
                user = User(
                    email=f"entwurf-{tag}@example.org",
                    password_hash=hash_password(PASSWORD),
                    first_name="Ines",
                    confirmed_at=utcnow(),
                    privacy_version=live_server.app.config["PRIVACY_VERSION"],
                )
                user.add_role(Role.INITIATIVE)
                initiative = Initiative(name=f"Gartenfreunde {tag}", district="ost")
                initiative.member_rows.append(InitiativeMember(user=user))
                need = Need(
                    initiative=initiative,
                    title=PLACEHOLDER,
                    description="Platzhalter",
                    district="ost",
                    status=NeedStatus.DRAFT,
                    language="de",
                )
                need.phase_rows = [NeedPhase(phase="cooperation")]
                db.session.add_all([user, initiative, need])
                db.session.flush()
                made[width, js] = (user.email, need.id)
        db.session.commit()
    return made


@pytest.mark.parametrize("width", [PHONE["width"], DESKTOP["width"]])
@pytest.mark.parametrize("js", [True, False], ids=["javascript", "no-javascript"])
def test_edit_and_publish_in_one_step_publishes_the_edit(live_server, browser, drafts, width, js):
    viewport = PHONE if width == PHONE["width"] else DESKTOP
    context = browser.new_context(locale="de-DE", viewport=viewport, java_script_enabled=js)
    page = context.new_page()
    page.set_default_timeout(10_000)
    email, need_id = drafts[width, js]
    problems: list[str] = []
    try:
        page.goto(live_server.url + "/anmelden")
        page.get_by_label("E-Mail-Adresse").fill(email)
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.goto(f"{live_server.url}/anfragen/{need_id}/bearbeiten")
        title = page.get_by_label("Worum geht es? (kurzer Titel)")
        expect(title).to_have_value(PLACEHOLDER)
        title.fill(EDITED)
        page.get_by_label("Beschreibung").fill("Wir möchten mit dem Sportverein ein Fest planen.")
        page.get_by_role("button", name="Veröffentlichen", exact=True).click()

        expect(page.get_by_role("heading", level=1)).to_have_text(EDITED)
        expect(page.locator(".badge-state-open")).to_have_text("Offen")
        expect(page.locator("main")).not_to_contain_text(PLACEHOLDER)
        screenshot(page, f"edit-publish-{width}-{'js' if js else 'nojs'}")
        if js:
            found = axe_violations(page)
            if found:
                problems.append(f"need page at {width} px:\n{describe(found)}")
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                problems.append(f"need page at {width} px is {scroll_width} px wide")

        # The public list carries the edited title too.
        page.goto(live_server.url + "/anfragen?bezirk=ost")
        link = page.locator(f'a[href="/anfragen/{need_id}"]')
        expect(link).to_have_count(1)
        expect(link).to_have_text(EDITED)
        with live_server.app.app_context():
            try:
                stored = db.session.scalar(select(Need).where(Need.id == need_id))
                assert (stored.status, stored.title) == (NeedStatus.OPEN, EDITED)
            finally:
                db.session.remove()
    finally:
        context.close()
    assert not problems, "\n\n".join(problems)
