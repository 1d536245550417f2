"""The "Wirkung" report in Chromium: at 375 and 1280 px, on A4, with axe.

Screenshots go to artifacts/screenshots/wirkung-*.png, the print as wirkung-a4.pdf.
"""

from __future__ import annotations

import pytest
from browser_support import ARTIFACTS, DESKTOP, PHONE, axe_violations, describe, screenshot

from matching.auth.passwords import hash_password
from matching.extensions import db
from matching.models import (
    ProfileStatus,
    Role,
    User,
    VolunteerDistrict,
    VolunteerLanguage,
    VolunteerPhaseLevel,
    VolunteerProfile,
    utcnow,
)
from matching.reference import PHASE_CODES
from tests.impact_scene import build_impact_scene

pytestmark = pytest.mark.browser

PASSWORD = "Am Marktplatz gibt es Kaffee"
COORDINATOR = "wirkung.koordination@example.org"
REPORT = "/koordination/wirkung?art=jahr&jahr=2026"


class _Session:
    session = db.session


def _volunteer(email: str) -> VolunteerProfile:
    user = User(
        email=email,
        password_hash=hash_password(PASSWORD),
        first_name="Vera",
        last_name="Muster",
        confirmed_at=utcnow(),
        privacy_version="test",
    )
    user.add_role(Role.VOLUNTEER)
    profile = VolunteerProfile(user=user, status=ProfileStatus.APPROVED, submitted_at=utcnow())
    profile.levels = [VolunteerPhaseLevel(phase=p, level=2) for p in PHASE_CODES]
    profile.district_rows = [VolunteerDistrict(district="ost")]
    profile.language_rows = [VolunteerLanguage(language="de")]
    db.session.add(profile)
    db.session.commit()
    return profile


@pytest.fixture(scope="module")
def impact_scene(live_server):
    with live_server.app.app_context():
        if db.session.scalar(db.select(User).where(User.email == COORDINATOR)) is None:
            coordinator = User(
                email=COORDINATOR,
                password_hash=hash_password(PASSWORD),
                first_name="Katrin",
                last_name="Koordination",
                confirmed_at=utcnow(),
                privacy_version=live_server.app.config["PRIVACY_VERSION"],
            )
            coordinator.add_role(Role.COORDINATOR)
            db.session.add(coordinator)
            db.session.commit()
            build_impact_scene(_Session, lambda email: _volunteer("wirkung-" + email))
        db.session.remove()
    return live_server


def _log_in(page, url: str) -> None:
    page.goto(url + "/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(COORDINATOR)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(lambda u: "/anmelden" not in u)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_the_report_on_screen(impact_scene, browser, viewport):
    # The page runs no script of its own; axe-core and the width check are scripts Playwright
    # runs in the page, and those hang with JavaScript switched off.
    context = browser.new_context(locale="de-DE", viewport=viewport)
    page = context.new_page()
    try:
        _log_in(page, impact_scene.url)
        page.goto(impact_scene.url + REPORT)
        assert page.locator("h1").inner_text() == "Wirkung"
        assert page.locator("svg.chart").count() == 4
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= viewport["width"], f"the page is {width} px wide"
        screenshot(page, f"wirkung-{viewport['width']}")
        violations = axe_violations(page)
        assert not violations, describe(violations)
        # The period form works without JavaScript.
        page.get_by_label("Ein Quartal des Jahres").check()
        page.get_by_label("Jahr", exact=True).select_option("2026")
        page.get_by_label("Quartal", exact=True).select_option("1")
        page.get_by_role("button", name="Zahlen anzeigen").click()
        assert "1. Januar 2026 – 31. März 2026" in page.locator(".lead").inner_text()
        # A bad period: a message, this year, and still nothing for axe.
        page.get_by_label("Eigener Zeitraum (von … bis …)").check()
        page.get_by_label("Von", exact=True).fill("2026-05-01")
        page.get_by_label("Bis", exact=True).fill("2026-04-01")
        page.get_by_role("button", name="Zahlen anzeigen").click()
        assert "endet, bevor er beginnt" in page.get_by_role("alert").inner_text()
        violations = axe_violations(page)
        assert not violations, describe(violations)
    finally:
        context.close()


def test_the_report_on_a4(impact_scene, browser):
    context = browser.new_context(locale="de-DE", viewport=DESKTOP)
    page = context.new_page()
    try:
        _log_in(page, impact_scene.url)
        page.goto(impact_scene.url + REPORT)
        page.emulate_media(media="print")
        head = page.locator(".impact-print-head")
        assert head.is_visible()
        assert "Stadtteilvernetzer Stuttgart" in head.inner_text()
        assert "1. Januar 2026 – 31. Dezember 2026" in head.inner_text()
        assert not page.locator("form.impact-period").is_visible()
        assert not page.locator(".site-nav").is_visible()
        screenshot(page, "wirkung-print")
        violations = axe_violations(page)
        assert not violations, describe(violations)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pdf = page.pdf(format="A4", print_background=True)
        (ARTIFACTS / "wirkung-a4.pdf").write_bytes(pdf)
        assert pdf.startswith(b"%PDF")
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_the_public_page(impact_scene, browser, viewport, monkeypatch):
    monkeypatch.setitem(impact_scene.app.config, "PUBLIC_IMPACT", True)
    context = browser.new_context(locale="de-DE", viewport=viewport)
    page = context.new_page()
    try:
        page.goto(impact_scene.url + "/wirkung?jahr=2026")
        assert page.locator("h1").inner_text() == "Was wir bewirken"
        assert "< 3" in page.locator("main").inner_text()
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= viewport["width"], f"the page is {width} px wide"
        screenshot(page, f"wirkung-public-{viewport['width']}")
        violations = axe_violations(page)
        assert not violations, describe(violations)
    finally:
        context.close()
