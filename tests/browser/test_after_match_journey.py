"""After the match, as the two sides live it (issue 16), in Chromium.

A volunteer asks a question before saying yes, the initiative answers, the volunteer
accepts, the initiative proposes three times, the volunteer picks one from the mail, both
invitations parse as calendars, the reminder comes the day before, "Hat das Treffen
stattgefunden? – Ja", the advice is marked done, both sides give feedback and the need
shows "Beraten" on its pages and in the digest. Only what a person sees is used.

It runs with JavaScript on a desktop and without JavaScript on a phone; with JavaScript
each new page is checked with axe-core at 375 and 1280 px.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from browser_support import DESKTOP, PHONE, axe_violations, describe, screenshot
from playwright.sync_api import expect
from smtp import body

from jobs import tasks
from matching import matches
from matching.auth.passwords import hash_password
from matching.extensions import db
from matching.models import (
    Initiative,
    InitiativeMember,
    Match,
    MatchOrigin,
    Meeting,
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
BERLIN = ZoneInfo("Europe/Berlin")


def _scene(app, tag: str) -> tuple[int, int, str, str]:
    """An approved match waiting for the volunteer's answer; (match id, need id, emails)."""
    volunteer_mail, member_mail = f"vera-{tag}@example.org", f"ines-{tag}@example.org"
    with app.app_context():

        def person(email, first, role):
            user = User(
                email=email,
                password_hash=hash_password(PASSWORD),
                first_name=first,
                last_name="Beispiel",
                confirmed_at=utcnow(),
                privacy_version=app.config["PRIVACY_VERSION"],
            )
            user.add_role(role)
            db.session.add(user)
            return user

        volunteer = person(volunteer_mail, "Vera", Role.VOLUNTEER)
        member = person(member_mail, "Ines", Role.INITIATIVE)
        coordinator = person(f"kora-{tag}@example.org", "Kora", Role.COORDINATOR)
        profile = VolunteerProfile(user=volunteer, status=ProfileStatus.APPROVED, capacity=2)
        profile.levels = [VolunteerPhaseLevel(phase="start", level=3)]
        profile.district_rows = [VolunteerDistrict(district="ost")]
        profile.language_rows = [VolunteerLanguage(language="de")]
        initiative = Initiative(name=f"Gablenberg {tag}", district="ost")
        initiative.member_rows.append(InitiativeMember(user=member))
        need = Need(
            initiative=initiative,
            title=f"Mitstreiter finden {tag}",
            description="Wir sind zu dritt und wollen mehr werden.",
            district="ost",
            status="open",
            published_at=utcnow(),
        )
        need.phase_rows = [NeedPhase(phase="start")]
        db.session.add_all([profile, need])
        db.session.commit()
        now = utcnow()
        match = matches.create_match(
            db.session, coordinator, need, profile, origin=MatchOrigin.MANUAL, now=now
        )
        matches.change_status(db.session, coordinator, match, "approve", now=now)
        db.session.commit()
        return match.id, need.id, volunteer_mail, member_mail


def _job(app, job, now: datetime) -> dict:
    """Run a scheduled job at ``now`` and send what it queued."""
    with app.app_context():
        summary = job(db.session, now)
        tasks.drain_outbox(db.session, utcnow())
        db.session.remove()
        return summary


class Walk:
    def __init__(self, browser, js: bool, viewport: dict) -> None:
        self.browser, self.js, self.viewport = browser, js, viewport
        self.violations: list[str] = []
        self.pages: list = []

    def person(self):
        context = self.browser.new_context(
            locale="de-DE", viewport=self.viewport, java_script_enabled=self.js
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        self.pages.append(page)
        return page

    def look(self, page, name: str) -> None:
        """axe-core at both widths (JavaScript run); a screenshot either way."""
        width = self.viewport["width"]
        screenshot(page, f"after-match-{name}-{width}-{'js' if self.js else 'nojs'}")
        if not self.js:
            return
        for viewport in (PHONE, DESKTOP):
            page.set_viewport_size(viewport)
            found = axe_violations(page)
            if found:
                self.violations.append(f"{name} at {viewport['width']} px:\n{describe(found)}")
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > viewport["width"]:
                self.violations.append(f"{name} at {viewport['width']} px is {wide} px wide")
        page.set_viewport_size(self.viewport)

    def close(self) -> None:
        for page in self.pages:
            page.context.close()


def log_in(page, url: str, email: str) -> None:
    page.goto(url + "/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def _calendar(message) -> icalendar.Calendar:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert parts, "no text/calendar part"
    attachments = [p for p in message.walk() if p.get_filename() == "invite.ics"]
    assert attachments, "no invite.ics attachment"
    return icalendar.Calendar.from_ical(parts[0].get_content())


@pytest.mark.parametrize(("js", "viewport"), [(True, DESKTOP), (False, PHONE)], ids=["js", "nojs"])
def test_question_meeting_and_finishing_well(live_server, browser, js, viewport):
    url, app, smtp = live_server.url, live_server.app, live_server.smtp
    tag = "js" if js else "nojs"
    match_id, need_id, vera, ines = _scene(app, tag)
    walk = Walk(browser, js, viewport)
    volunteer, initiative = walk.person(), walk.person()
    match_url = f"{url}/vermittlungen/{match_id}"
    try:
        # A question before saying yes; nothing of the volunteer's contact is shown.
        log_in(volunteer, url, vera)
        volunteer.goto(match_url)
        walk.look(volunteer, "match-approved")
        volunteer.get_by_role("link", name="Eine Frage stellen").click()
        volunteer.get_by_label("Ihre Nachricht").fill(
            "Geht es um einen Verein oder eine lose Gruppe?"
        )
        volunteer.get_by_role("button", name="Nachricht senden").click()
        expect(volunteer.get_by_role("status")).to_contain_text("Ihre Nachricht ist angekommen")
        walk.look(volunteer, "thread")

        _job(app, tasks.mail_new_messages, utcnow())
        thread_link = live_server.link_in_mail(ines, f"/vermittlungen/{match_id}/nachrichten")
        assert "Vera (Expert:in)" in body(smtp.to(ines)[-1])
        assert vera not in body(smtp.to(ines)[-1])
        log_in(initiative, url, ines)
        initiative.goto(thread_link)
        expect(initiative.get_by_text("Geht es um einen Verein")).to_be_visible()
        assert vera not in initiative.content()
        initiative.get_by_label("Ihre Nachricht").fill("Eine lose Gruppe, noch kein Verein.")
        initiative.get_by_role("button", name="Nachricht senden").click()
        expect(initiative.get_by_role("status")).to_contain_text("Ihre Nachricht ist angekommen")

        # The volunteer reads the answer and accepts.
        volunteer.goto(f"{match_url}/nachrichten")
        expect(volunteer.get_by_text("Eine lose Gruppe, noch kein Verein.")).to_be_visible()
        volunteer.goto(match_url)
        volunteer.get_by_role("button", name="Ja, ich übernehme die Beratung").click()
        expect(volunteer.get_by_role("status")).to_contain_text("Danke für Ihre Zusage")

        # The initiative proposes three times.
        initiative.goto(match_url)
        initiative.get_by_role("link", name="Treffen vorschlagen").click()
        walk.look(initiative, "meeting-form")
        today = utcnow().astimezone(BERLIN).date()
        for index, (days, start, end) in enumerate(
            [(3, "10:00", "11:00"), (4, "18:30", "19:15"), (5, "09:00", "10:00")]
        ):
            group = initiative.get_by_role("group", name=f"Zeit {index + 1}")
            group.get_by_label("Tag").fill((today + timedelta(days=days)).isoformat())
            group.get_by_label("Beginn").fill(start)
            group.get_by_label("Ende").fill(end)
        initiative.get_by_role("button", name="Vorschläge senden").click()
        expect(initiative.get_by_role("status")).to_contain_text("Ihre Vorschläge sind verschickt")
        walk.look(initiative, "match-meeting-proposed")

        # The volunteer picks the second time from the mail: GET shows it, the button confirms.
        pick_links = [
            line.split(": ", 1)[1]
            for line in body(smtp.to(vera)[-1]).splitlines()
            if "Diese Zeit wählen:" in line
        ]
        assert len(pick_links) == 3
        volunteer.goto(pick_links[1])
        walk.look(volunteer, "pick-from-mail")
        volunteer.get_by_role("button", name="Diese Zeit passt mir").click()
        expect(volunteer.get_by_role("heading", level=1)).to_have_text("Der Termin steht")

        # Both mails carry a valid invitation with the same UID.
        assert smtp.arrived.wait(10)
        invitations = [
            m for m in smtp.messages if m["To"] in (vera, ines) and "Termin steht" in m["Subject"]
        ]
        assert {m["To"] for m in invitations} == {vera, ines}
        uids = set()
        for message in invitations:
            calendar = _calendar(message)
            [event] = [c for c in calendar.walk() if c.name == "VEVENT"]
            assert calendar["METHOD"] == "REQUEST" and event["SEQUENCE"] == 0
            assert {str(a) for a in event["ATTENDEE"]} == {f"mailto:{vera}", f"mailto:{ines}"}
            assert event.decoded("DTSTART").astimezone(BERLIN).strftime("%H:%M") == "18:30"
            uids.add(str(event["UID"]))
        assert len(uids) == 1

        # The day before, both are reminded.
        with app.app_context():
            meeting = db.session.scalar(select_meeting(match_id))
            start = meeting.starts_at
            db.session.remove()
        day_before = datetime.combine(
            start.astimezone(BERLIN).date() - timedelta(days=1),
            datetime.min.time().replace(hour=17),
            tzinfo=BERLIN,
        ).astimezone(UTC)
        assert _job(app, tasks.remind_meetings, day_before)["reminded"] == 1
        assert any("Morgen: Treffen" in m["Subject"] for m in smtp.to(vera))

        # Afterwards: "Hat das Treffen stattgefunden?" – yes. (The time is moved into the past.)
        with app.app_context():
            meeting = db.session.scalar(select_meeting(match_id))
            meeting.starts_at = utcnow() - timedelta(hours=2)
            db.session.commit()
            db.session.remove()
        assert _job(app, tasks.ask_meeting_outcomes, utcnow())["asked"] == 1
        question_link = live_server.link_in_mail(vera, f"/vermittlungen/{match_id}")
        volunteer.goto(question_link)
        walk.look(volunteer, "meeting-question")
        volunteer.get_by_label("Ja").check()
        volunteer.get_by_role("button", name="Antwort senden").click()
        expect(volunteer.get_by_role("status")).to_contain_text("Schön, danke!")

        # Done, then both feedbacks from the links in their mails.
        volunteer.get_by_role("button", name="Beratung ist abgeschlossen").click()
        volunteer.get_by_role("button", name="Ja, die Beratung ist abgeschlossen").click()
        expect(volunteer.get_by_role("status")).to_contain_text("als abgeschlossen eingetragen")
        look_back = live_server.link_in_mail(vera, f"/vermittlungen/{match_id}/rueckblic")
        volunteer.goto(look_back)
        walk.look(volunteer, "look-back")
        volunteer.get_by_label("Was hat geholfen?").fill("Die Liste der Nachbarn.")
        volunteer.get_by_label("Kooperation").check()
        volunteer.get_by_role("button", name="Rückblick senden").click()
        expect(volunteer.get_by_role("status")).to_contain_text("Danke für Ihren Rückblick")

        feedback = live_server.link_in_mail(ines, f"/vermittlungen/{match_id}/rueckmeldun")
        initiative.goto(feedback)
        expect(initiative.get_by_label("Kooperation")).to_be_checked()  # the expert's suggestion
        initiative.get_by_label("5 – sehr hilfreich").check()
        initiative.get_by_label("Noch nichts / weiß ich noch nicht").check()
        initiative.get_by_role("button", name="Rückmeldung senden").click()
        expect(initiative.get_by_role("status")).to_contain_text("Danke für Ihre Rückmeldung")

        # "Beraten" everywhere: the need, my needs, the digest.
        initiative.goto(f"{url}/anfragen/{need_id}")
        expect(initiative.locator("main")).to_contain_text("Beraten")
        walk.look(initiative, "need-advised")
        initiative.goto(f"{url}/meine-anfragen")
        expect(initiative.locator("main")).to_contain_text("Beraten")
        assert "Nehmen Sie gern Kontakt auf" not in initiative.content()
        _job(app, lambda s, n: tasks.send_weekly_digests(s, n, kinds=["initiative"]), utcnow())
        digest = body(smtp.to(ines)[-1])
        assert f"Mitstreiter finden {tag}" in digest and "Beraten" in digest
        assert "Melden Sie sich gern" not in digest
        with app.app_context():
            assert db.session.get(Need, need_id).status == "advised"
            assert db.session.get(Match, match_id).feedback_rating == 5
            db.session.remove()
    finally:
        walk.close()
    assert not walk.violations, "\n\n".join(walk.violations)


def select_meeting(match_id: int):
    from sqlalchemy import select

    return select(Meeting).where(Meeting.match_id == match_id)
