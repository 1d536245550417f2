"""need → offer → approval → acceptance → contacts → completion → feedback, in Chromium."""

import re

import pytest
from browser_support import screenshot
from playwright.sync_api import expect

from matching.auth.passwords import hash_password
from matching.extensions import db
from matching.models import (
    Initiative,
    InitiativeMember,
    Need,
    NeedPhase,
    ProfileStatus,
    Role,
    User,
    VolunteerDistrict,
    VolunteerLanguage,
    VolunteerPhaseLevel,
    VolunteerProfile,
    utcnow,
)

pytestmark = pytest.mark.browser

PASSWORD = "Zusammen geht mehr im Viertel"
TITLE = "Streit im Orga-Team – wie weiter?"


@pytest.fixture(scope="module")
def scene(live_server):
    """An approved volunteer, an initiative with an open need, a coordinator."""
    with live_server.app.app_context():

        def person(email, first, role, phone=""):
            user = User(
                email=email,
                password_hash=hash_password(PASSWORD),
                first_name=first,
                last_name="Beispiel",
                phone=phone,
                confirmed_at=utcnow(),
                privacy_version="test",
            )
            user.add_role(role)
            db.session.add(user)
            return user

        volunteer = person("otto@example.org", "Otto", Role.VOLUNTEER, phone="0711 246810")
        member = person("irma@example.org", "Irma", Role.INITIATIVE)
        person("kora@example.org", "Kora", Role.COORDINATOR)
        profile = VolunteerProfile(user=volunteer, status=ProfileStatus.APPROVED, capacity=2)
        profile.levels = [VolunteerPhaseLevel(phase="conflicts", level=3)]
        profile.district_rows = [VolunteerDistrict(district="west")]
        profile.language_rows = [VolunteerLanguage(language="de")]
        initiative = Initiative(name="Westquartier miteinander", district="west")
        initiative.member_rows.append(InitiativeMember(user=member))
        need = Need(
            initiative=initiative,
            title=TITLE,
            description="Zwei Lager, keine Einigung.",
            district="west",
            status="open",
            published_at=utcnow(),
        )
        need.phase_rows = [NeedPhase(phase="conflicts")]
        db.session.add_all([profile, need])
        db.session.commit()
        return need.id


def log_in(page, url, email):
    page.goto(url + "/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def log_out(page):
    page.get_by_role("button", name="Abmelden").click()


def test_offer_to_feedback(live_server, scene, page):
    url = live_server.url

    log_in(page, url, "otto@example.org")
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("link", name="Ich kann helfen").click()
    page.get_by_role("button", name="Ja, ich biete meine Hilfe an").click()
    expect(page.get_by_role("status")).to_contain_text("Ihr Angebot liegt bei der Koordination")
    log_out(page)

    log_in(page, url, "kora@example.org")
    # Other walks on the same server may have left proposals too: find this one by its need.
    page.get_by_role("link", name=re.compile(r"Vorschl(a|ä)ge? warte\w* auf Entscheidung")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vorschläge")
    screenshot(page, "queue-1280")
    page.locator("li.queue-item", has_text=TITLE).get_by_role("button", name="Freigeben").click()
    expect(page.get_by_role("status")).to_contain_text("Otto wird gebeten zuzusagen")
    page.goto(url + "/koordination/abdeckung")
    screenshot(page, "coverage-1280")
    log_out(page)

    # The volunteer follows the link from the mail.
    match_url = live_server.link_in_mail("otto@example.org", "/vermittlungen/")
    log_in(page, url, "otto@example.org")
    page.goto(match_url)
    page.get_by_role("button", name="Ja, ich übernehme die Beratung").click()
    expect(page.get_by_role("status")).to_contain_text("Danke für Ihre Zusage")
    expect(page.get_by_text("irma@example.org")).to_be_visible()
    log_out(page)

    log_in(page, url, "irma@example.org")
    page.goto(f"{url}/anfragen/{scene}")
    expect(page.get_by_text("otto@example.org")).to_be_visible()
    expect(page.get_by_text("0711 246810")).to_be_visible()
    log_out(page)

    log_in(page, url, "otto@example.org")
    page.goto(match_url)
    page.get_by_role("button", name="Beratung ist abgeschlossen").click()
    page.get_by_role("button", name="Ja, die Beratung ist abgeschlossen").click()
    expect(page.get_by_role("status")).to_contain_text("als abgeschlossen eingetragen")
    log_out(page)

    log_in(page, url, "irma@example.org")
    page.goto(match_url)
    page.get_by_role("link", name="Rückmeldung geben").click()
    page.get_by_label("5 – sehr hilfreich").check()
    page.get_by_label("Was möchten Sie uns noch sagen?").fill("Sehr hilfreich, danke!")
    page.get_by_role("button", name="Rückmeldung senden").click()
    expect(page.get_by_role("status")).to_contain_text("Danke für Ihre Rückmeldung")
    page.goto(f"{url}/anfragen/{scene}")
    page.get_by_role("link", name="Abschließen").click()
    page.get_by_role("button", name="Ja, abschließen").click()
    expect(page.get_by_role("status")).to_contain_text("Die Anfrage ist abgeschlossen")
    log_out(page)

    log_in(page, url, "kora@example.org")
    page.goto(f"{url}/anfragen/{scene}")
    page.get_by_role("link", name="Verlauf ansehen").click()
    history = page.get_by_role("table")
    for step in (
        "Vorschlag gemacht",
        "Vorschlag freigegeben",
        "Expert:in hat zugesagt",
        "Beratung abgeschlossen",
        "Rückmeldung gegeben",
        "Anfrage abgeschlossen",
    ):
        expect(history).to_contain_text(step)
    with live_server.app.app_context():
        assert db.session.get(Need, scene).status == "closed"
