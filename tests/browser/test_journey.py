"""The whole journey of issue 8, as the three people live it, in Chromium.

A volunteer signs up on a phone, an initiative asks for advice, the weekly digest brings
them together, the coordination team approves, both get each other's contact, the advice
ends with feedback and the coordination team reads the history. Only what a person sees
is used: roles, labels, link texts and the links in the mails.

The same journey runs again with JavaScript switched off. With JavaScript on, every page
is also photographed and checked with axe-core at 375 and 1280 px; both runs check that
no page ships more than 100 KB of CSS and JavaScript or loads anything from elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from browser_support import (
    ARTIFACTS,
    ASSET_BUDGET,
    DESKTOP,
    PHONE,
    PageWeight,
    axe_violations,
    describe,
    link_after,
    mail_to,
    screenshot,
    small_text,
)
from playwright.sync_api import expect

from jobs.tasks import send_weekly_digests
from matching import mail
from matching.auth.passwords import hash_password
from matching.extensions import db
from matching.models import Need, Role, User, utcnow

pytestmark = pytest.mark.browser

PASSWORD = "Im Hof blühen die Tomaten"


@dataclass(frozen=True)
class Cast:
    """The people and texts of one run; each run has its own, as they share one server."""

    tag: str
    volunteer_first: str
    volunteer_last: str
    volunteer_phone: str
    member_first: str
    initiative: str
    title: str
    coordinator_first: str

    def email(self, first: str) -> str:
        return f"{first.lower()}.{self.tag}@example.org"

    @property
    def volunteer(self) -> str:
        return self.email(self.volunteer_first)

    @property
    def member(self) -> str:
        return self.email(self.member_first)

    @property
    def coordinator(self) -> str:
        return self.email(self.coordinator_first)

    @property
    def volunteer_name(self) -> str:
        return f"{self.volunteer_first} {self.volunteer_last}"


CASTS = {
    True: Cast(
        tag="js",
        volunteer_first="Hanne",
        volunteer_last="Vogel",
        volunteer_phone="0711 135790",
        member_first="Bernd",
        initiative="Nachbarschaftstreff Hallschlag",
        title="Wie gewinnen wir die Kirchengemeinde als Partnerin?",
        coordinator_first="Margit",
    ),
    False: Cast(
        tag="nojs",
        volunteer_first="Yusuf",
        volunteer_last="Demir",
        volunteer_phone="0711 975310",
        member_first="Petra",
        initiative="Hofgemeinschaft Seelberg",
        title="Wer macht beim Hoffest mit – Schule, Verein, Moschee?",
        coordinator_first="Sabine",
    ),
}


@dataclass
class Journey:
    """Opens one browser context per person and looks at every page they reach."""

    browser: object
    js: bool
    weight: PageWeight
    viewports: dict = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    step: int = 0

    def person(self, viewport: dict):
        context = self.browser.new_context(
            locale="de-DE", viewport=viewport, java_script_enabled=self.js
        )
        self.weight.watch(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        self.viewports[page] = viewport
        return page

    def look(self, page, name: str, exceptions: dict[str, str] | None = None) -> None:
        """Photograph the page at both widths and check it with axe-core (JavaScript run only).

        ``exceptions`` names an axe rule that is wrong for this one page, with the reason.
        None is needed today.
        """
        if not self.js:
            return
        self.step += 1
        own = self.viewports[page]
        for viewport in (own, DESKTOP if own is PHONE else PHONE):
            page.set_viewport_size(viewport)
            width = viewport["width"]
            screenshot(page, f"journey-{self.step:02d}-{name}-{width}")
            found = axe_violations(page, exceptions)
            if found:
                self.violations.append(f"{name} at {width} px ({page.url}):\n{describe(found)}")
            # Nothing sticks out sideways: a phone user would have to scroll both ways.
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                self.violations.append(f"{name} at {width} px is {scroll_width} px wide")
            tiny = small_text(page)
            if tiny:
                self.violations.append(f"{name} at {width} px, type below 16 px: {tiny}")
        page.set_viewport_size(own)


@pytest.fixture(scope="module")
def coordinators(live_server):
    """The coordination team; its accounts are made by an admin, not by signing up."""
    with live_server.app.app_context():
        for cast in CASTS.values():
            user = User(
                email=cast.coordinator,
                password_hash=hash_password(PASSWORD),
                first_name=cast.coordinator_first,
                last_name="Koordination",
                confirmed_at=utcnow(),
                privacy_version=live_server.app.config["PRIVACY_VERSION"],
            )
            user.add_role(Role.COORDINATOR)
            db.session.add(user)
        db.session.commit()


def log_in(page, journey: Journey, url: str, email: str, name: str) -> None:
    page.goto(url + "/")
    page.get_by_role("link", name="Anmelden", exact=True).click()
    journey.look(page, name)
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def sign_up(page, journey: Journey, live_server, way_in: str, first: str, last: str, email: str):
    """From the start page through the confirmation mail to the first page after logging in."""
    page.goto(live_server.url + "/")
    journey.look(page, f"start-{first.lower()}")
    page.get_by_role("link", name=way_in).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registrieren")
    page.get_by_label("Vorname").fill(first)
    page.get_by_label("Nachname (freiwillig)").fill(last)
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_label("Ich habe die Datenschutzerklärung gelesen").check()
    journey.look(page, f"signup-{first.lower()}")
    page.get_by_role("button", name="Konto anlegen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bitte schauen Sie in Ihr Postfach")
    journey.look(page, f"check-mail-{first.lower()}")

    text = mail_to(live_server.smtp, email, "Bitte bestätigen Sie Ihre E-Mail-Adresse")
    page.goto(link_after(text, f"Hallo {first}", "/bestaetigen/"))
    journey.look(page, f"confirm-{first.lower()}")
    page.get_by_role("button", name="Ja, das ist meine Adresse").click()
    expect(page.get_by_role("status")).to_contain_text("Ihre E-Mail-Adresse ist bestätigt")
    expect(page.get_by_label("E-Mail-Adresse")).to_have_value(email)
    journey.look(page, f"login-{first.lower()}")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


@pytest.mark.parametrize("js", [True, False], ids=["javascript", "no-javascript"])
def test_journey(live_server, browser, coordinators, js):
    cast = CASTS[js]
    url = live_server.url
    journey = Journey(browser, js, PageWeight(origin=url))
    if js:  # this run's screenshots replace the last run's, whose steps may differ
        for old in ARTIFACTS.glob("journey-*.png"):
            old.unlink()
    volunteer = journey.person(PHONE)
    member = journey.person(DESKTOP)
    coordinator = journey.person(DESKTOP)
    try:
        # 1. The volunteer signs up, confirms and fills in the profile on the phone.
        sign_up(
            volunteer,
            journey,
            live_server,
            "Als Expert:in mitmachen",
            cast.volunteer_first,
            cast.volunteer_last,
            cast.volunteer,
        )
        expect(volunteer.get_by_role("heading", level=1)).to_have_text("Mein Profil")
        volunteer.get_by_role("group", name="Kooperation").get_by_label("Expert:in").check()
        volunteer.get_by_role("group", name="Start / Akquise").get_by_label(
            "Praxiserfahrung"
        ).check()
        volunteer.get_by_label("Bad Cannstatt").check()
        volunteer.get_by_label("Münster").check()
        volunteer.get_by_label("Video").check()
        volunteer.get_by_label("Wie viele Initiativen möchten Sie gleichzeitig beraten?").fill("1")
        volunteer.get_by_label("Kurz über Sie (freiwillig)").fill(
            "Ich habe den Runden Tisch in Bad Cannstatt mit aufgebaut."
        )
        volunteer.get_by_label("Telefonnummer (freiwillig)").fill(cast.volunteer_phone)
        journey.look(volunteer, "profile-form")
        volunteer.get_by_role("button", name="Profil speichern").click()
        expect(volunteer.get_by_role("status")).to_contain_text(
            "Die Koordination schaut es sich an"
        )
        expect(volunteer.get_by_text("Wartet auf Freigabe")).to_be_visible()
        journey.look(volunteer, "overview-waiting")

        # The coordination team approves the profile.
        log_in(coordinator, journey, url, cast.coordinator, "login-coordinator")
        expect(coordinator.get_by_role("heading", level=1)).to_have_text("Überblick")
        journey.look(coordinator, "dashboard")
        coordinator.get_by_role("link", name=re.compile(r"Profile? warte")).click()
        expect(coordinator.get_by_role("heading", level=1)).to_have_text("Profile zur Freigabe")
        journey.look(coordinator, "waiting-profiles")
        coordinator.get_by_role("link", name=f"Ansehen – {cast.volunteer_name}").click()
        expect(coordinator.get_by_role("heading", level=1)).to_contain_text(cast.volunteer_name)
        journey.look(coordinator, "review-profile")
        coordinator.get_by_role("button", name="Profil freigeben").click()
        expect(coordinator.get_by_role("status")).to_contain_text("ist freigegeben")
        mail_to(live_server.smtp, cast.volunteer, "Ihr Profil ist freigegeben")

        # 2. The initiative signs up, confirms, describes itself and asks for advice.
        sign_up(
            member,
            journey,
            live_server,
            "Als Initiative mitmachen",
            cast.member_first,
            "Kaiser",
            cast.member,
        )
        expect(member.get_by_role("heading", level=1)).to_have_text("Unsere Initiative")
        member.get_by_label("Name der Initiative").fill(cast.initiative)
        member.get_by_label("Stadtbezirk").select_option(label="Bad Cannstatt")
        member.get_by_label("Stadtteil (freiwillig)").fill("Hallschlag")
        journey.look(member, "initiative-form")
        member.get_by_role("button", name="Speichern").click()
        expect(member.get_by_role("heading", level=1)).to_have_text("Meine Anfragen")
        journey.look(member, "my-requests-empty")
        member.get_by_role("link", name="Neue Anfrage stellen").click()
        member.get_by_label("Worum geht es?").fill(cast.title)
        member.get_by_label("Beschreibung").fill(
            "Wir sind ein kleiner Treff im Viertel. Die Gemeinde hat Räume, wir haben Ideen.\n"
            "Wie sprechen wir sie an, ohne dass es nach Bitten klingt?"
        )
        member.get_by_label("Kooperation").check()
        # The district is filled in from the initiative's details.
        district = member.get_by_label("Stadtbezirk")
        assert district.evaluate("select => select.selectedOptions[0].text") == "Bad Cannstatt"
        journey.look(member, "request-form")
        member.get_by_role("button", name="Veröffentlichen").click()
        expect(member.get_by_role("status")).to_contain_text("Ihre Anfrage ist veröffentlicht")
        expect(member.get_by_role("heading", level=1)).to_have_text(cast.title)
        journey.look(member, "request-published")
        need_url = member.url

        # 3. The weekly digest job runs; the volunteer offers help from the mail.
        with live_server.app.app_context():
            send_weekly_digests(db.session, utcnow())
            mail.drain(db.session)
        digest = mail_to(live_server.smtp, cast.volunteer, "die zu Ihnen pass")
        assert cast.title in digest
        volunteer.goto(link_after(digest, cast.title, "/mail/helfen/"))
        expect(volunteer.get_by_role("heading", level=1)).to_have_text("Ich kann helfen")
        journey.look(volunteer, "offer-from-mail")
        volunteer.get_by_role("button", name="Ja, ich biete meine Hilfe an").click()
        expect(volunteer.get_by_role("heading", level=1)).to_have_text("Danke für Ihr Angebot!")
        journey.look(volunteer, "offer-sent")
        # The digest says how to change which mail comes; the link leads to the settings.
        volunteer.goto(link_after(digest, "Alle E-Mail-Einstellungen", "/konto/benachrichtigungen"))
        expect(volunteer.get_by_role("heading", level=1)).to_have_text("E-Mail-Benachrichtigungen")
        journey.look(volunteer, "mail-settings")
        volunteer.get_by_role("link", name="Zurück").click()
        expect(volunteer.get_by_role("heading", level=1)).to_have_text("Mein Konto")
        journey.look(volunteer, "account")

        # 4. The coordination team approves the offer; the volunteer accepts from the mail.
        coordinator.get_by_role("link", name="Koordination").click()
        coordinator.get_by_role(
            "link", name=re.compile(r"Vorschl(a|ä)ge? warte\w* auf Entscheidung")
        ).click()
        expect(coordinator.get_by_role("heading", level=1)).to_have_text("Vorschläge")
        journey.look(coordinator, "proposals")
        offer = coordinator.get_by_role("listitem").filter(has_text=cast.title)
        expect(offer).to_contain_text(cast.volunteer_name)
        expect(offer).to_contain_text("„Ich kann helfen“")
        offer.get_by_role("button", name="Freigeben").click()
        expect(coordinator.get_by_role("status")).to_contain_text(
            f"{cast.volunteer_first} wird gebeten zuzusagen"
        )
        journey.look(coordinator, "proposal-approved")

        asked = mail_to(live_server.smtp, cast.volunteer, "wurde angenommen")  # the offer's answer
        volunteer.goto(link_after(asked, "mit einem Klick zu", "/mail/zusagen/"))
        expect(volunteer.get_by_role("heading", level=1)).to_have_text("Beratung zusagen")
        journey.look(volunteer, "accept-from-mail")
        volunteer.get_by_role("button", name="Ja, ich sage zu").click()
        expect(volunteer.get_by_role("heading", level=1)).to_have_text("Danke für Ihre Zusage!")
        journey.look(volunteer, "accepted")

        to_member = mail_to(live_server.smtp, cast.member, "Ihre Expert:in für")
        assert cast.volunteer in to_member and cast.volunteer_phone in to_member
        to_volunteer = mail_to(live_server.smtp, cast.volunteer, "Sie beraten jetzt")
        assert cast.member in to_volunteer and cast.initiative in to_volunteer

        member.get_by_role("link", name="Meine Anfragen").click()
        journey.look(member, "my-requests-matched")
        member.get_by_role("heading", name=cast.title).get_by_role("link").click()
        experts = member.get_by_role("region", name="Expert:innen für diese Anfrage")
        expect(experts).to_contain_text(cast.volunteer)
        expect(experts).to_contain_text(cast.volunteer_phone)
        journey.look(member, "request-with-contact")

        # 5. The volunteer marks the advice done; the initiative gives feedback and closes.
        volunteer.get_by_role("link", name="Meine Übersicht").click()
        journey.look(volunteer, "overview-accepted")
        mine = volunteer.get_by_role("region", name="Meine Vermittlungen")
        mine.get_by_role("link", name=cast.title).click()
        expect(volunteer.get_by_role("region", name="Kontakt")).to_contain_text(cast.member)
        journey.look(volunteer, "match")
        volunteer.get_by_role("button", name="Beratung ist abgeschlossen").click()
        volunteer.get_by_role("button", name="Ja, die Beratung ist abgeschlossen").click()
        expect(volunteer.get_by_role("status")).to_contain_text("als abgeschlossen eingetragen")
        journey.look(volunteer, "match-completed")

        member.reload()
        member.get_by_role("region", name="Expert:innen für diese Anfrage").get_by_role(
            "link", name=cast.volunteer_name
        ).click()
        journey.look(member, "match-for-initiative")
        member.get_by_role("link", name="Rückmeldung geben").click()
        member.get_by_label("5 – sehr hilfreich").check()
        member.get_by_label("Was möchten Sie uns noch sagen?").fill("Sehr hilfreich, danke!")
        journey.look(member, "feedback-form")
        member.get_by_role("button", name="Rückmeldung senden").click()
        expect(member.get_by_role("status")).to_contain_text("Danke für Ihre Rückmeldung")
        member.get_by_role("link", name="Meine Anfragen").click()
        member.get_by_role("heading", name=cast.title).get_by_role("link").click()
        member.get_by_role("link", name="Abschließen").click()
        journey.look(member, "close-request")
        member.get_by_role("button", name="Ja, abschließen").click()
        expect(member.get_by_role("status")).to_contain_text("Die Anfrage ist abgeschlossen")
        journey.look(member, "request-closed")

        # The coordination team reads the history, from the request they looked at before.
        coordinator.goto(need_url)
        journey.look(coordinator, "request-for-coordination")
        coordinator.get_by_role("link", name="Verlauf ansehen").click()
        history = coordinator.get_by_role("table")
        for done in (
            "Anfrage veröffentlicht",
            "Vorschlag gemacht",
            "Vorschlag freigegeben",
            "Expert:in hat zugesagt",
            "Beratung abgeschlossen",
            "Rückmeldung gegeben",
            "Anfrage abgeschlossen",
        ):
            expect(history).to_contain_text(done)
        journey.look(coordinator, "history")
    finally:
        for page in (volunteer, member, coordinator):
            page.context.close()

    with live_server.app.app_context():
        need = db.session.scalar(db.select(Need).where(Need.title == cast.title))
        assert need.status == "closed"

    assert not journey.violations, "\n\n".join(journey.violations)
    weight = journey.weight
    assert not weight.foreign, f"requests to other origins: {weight.foreign}"
    assert not weight.unmeasured, f"assets without Content-Length: {weight.unmeasured}"
    assert len(weight.pages) >= 20 and all(weight.pages.values()), weight.pages
    heavy = {page: size for page, size in weight.pages.items() if size > ASSET_BUDGET}
    assert not heavy, f"pages over {ASSET_BUDGET} bytes of CSS/JS: {heavy}"
