"""Issue 17, items 4 and 6 in Chromium: no page scrolls sideways, ended needs explain themselves.

Every page a volunteer, an initiative and a coordinator reach with 34-character e-mail
addresses in the data is opened at 375 and 1280 px, with and without JavaScript: the page
is no wider than the window, tables keep their actions on screen, axe-core finds nothing,
and a screenshot goes to artifacts/screenshots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from browser_support import ARTIFACTS, DESKTOP, PHONE, axe_violations, describe, screenshot

from matching import audit
from matching.auth.passwords import hash_password
from matching.extensions import db
from matching.models import (
    Initiative,
    InitiativeMember,
    JobRun,
    Match,
    MatchMessage,
    MatchOrigin,
    MatchStatus,
    Need,
    NeedPhase,
    NeedStatus,
    ProfileStatus,
    Role,
    User,
    VolunteerDistrict,
    VolunteerLanguage,
    VolunteerPhaseLevel,
    VolunteerProfile,
    utcnow,
)
from matching.tokens import make_token

pytestmark = pytest.mark.browser

PASSWORD = "Am Marktplatz gibt es Kaffee"
# Ordinary addresses of 34 characters, the length that pushed pages sideways; no hyphen,
# which would give the browser a place to break the line.
VOLUNTEER = "friederike.schaufelberger@arcor.de"
MEMBER = "nachbarschaft.gablenberg@posteo.de"
COORDINATOR = "koordination.stuttgart.ost@gmx.net"
PENDING = "hannelore.klingenschmitt@posteo.de"
NEWCOMER = "maximiliane.mustermann@mailbox.org"
assert {len(a) for a in (VOLUNTEER, MEMBER, COORDINATOR, PENDING, NEWCOMER)} == {34}
# A link pasted into a message (114 characters without a space) and a long compound word in
# a need's title: grid items were as wide as such a word, and the page with them.
LONG_LINK = (
    "https://www.stuttgart.de/leben/gesellschaft/buergerschaftliches-engagement/"
    "foerderprogramme/quartiersfonds-antrag-formular-2027.pdf?download=true&version=3"
)
LONG_WORD = "Quartiersfondsantragsformularausfüllhilfe"


@dataclass(frozen=True)
class Scene:
    open_need: int
    matched_need: int
    closed_need: int
    draft_need: int
    match: int
    pending_profile: int
    confirm_token: str
    other_persons_link: str


@pytest.fixture(scope="module")
def scene(live_server) -> Scene:
    """Everyone with a long address; needs in every state; tables with rows on the dashboard."""
    now = utcnow()
    with live_server.app.app_context():

        def person(email, first, last, role, *, confirmed=True):
            user = User(
                email=email,
                password_hash=hash_password(PASSWORD),
                first_name=first,
                last_name=last,
                phone="0711 98765432",
                confirmed_at=now if confirmed else None,
                privacy_version="test",
            )
            user.add_role(role)
            db.session.add(user)
            return user

        def profile_of(user, status):
            profile = VolunteerProfile(
                user=user, status=status, capacity=2, submitted_at=now - timedelta(days=2)
            )
            profile.levels = [
                VolunteerPhaseLevel(phase="start", level=3),
                VolunteerPhaseLevel(phase="cooperation", level=2),
            ]
            profile.district_rows = [
                VolunteerDistrict(district=d) for d in ("ost", "bad-cannstatt", "untertuerkheim")
            ]
            profile.language_rows = [VolunteerLanguage(language="de")]
            db.session.add(profile)
            return profile

        volunteer = profile_of(
            person(VOLUNTEER, "Friederike", "Schaufelberger", Role.VOLUNTEER),
            ProfileStatus.APPROVED,
        )
        pending = profile_of(
            person(PENDING, "Hannelore", "Klingenschmitt-Oberhofer", Role.VOLUNTEER),
            ProfileStatus.PENDING,
        )
        member = person(MEMBER, "Gisela", "Miteinander", Role.INITIATIVE)
        person(COORDINATOR, "Kora", "Koordination", Role.COORDINATOR)
        newcomer = person(NEWCOMER, "Maximiliane", "Mustermann", Role.VOLUNTEER, confirmed=False)
        initiative = Initiative(
            name="Nachbarschaftsinitiative Gablenberg-Ost",
            district="ost",
            contact_name="Gisela Miteinander",
            contact_email=MEMBER,
            contact_phone="0711 1234567",
            website="https://www.gablenberg-miteinander.example.org/unsere-initiative/kontakt",
        )
        initiative.member_rows.append(InitiativeMember(user=member))

        def need(title, status, days_ago):
            row = Need(
                initiative=initiative,
                title=title,
                description="Wir sind zu dritt. Schreiben Sie uns: " + MEMBER,
                district="ost",
                status=status,
                published_at=None if status == NeedStatus.DRAFT else now - timedelta(days=days_ago),
            )
            row.phase_rows = [NeedPhase(phase="start")]
            db.session.add(row)
            return row

        open_need = need("Wie finden wir Mitstreiter:innen im Quartier?", NeedStatus.OPEN, 20)
        need("Förderanträge für unseren Gemeinschaftsgarten", NeedStatus.OPEN, 21)  # no one yet
        need(f"{LONG_WORD} gesucht", NeedStatus.OPEN, 22)
        proposed = need("Wer macht was im Vorstand?", NeedStatus.OPEN, 15)
        matched = need("Streit im Orga-Team – wie weiter?", NeedStatus.MATCHED, 12)
        closed = need("Ein Straßenfest für alle Nachbar:innen", NeedStatus.CLOSED, 40)
        draft = need("Noch ein Entwurf", NeedStatus.DRAFT, 0)
        db.session.flush()

        def match(need_row, status, days_ago):
            row = Match(
                need_id=need_row.id,
                volunteer_id=volunteer.id,
                status=status,
                origin=MatchOrigin.ENGINE,
                created_at=now - timedelta(days=days_ago),
                updated_at=now - timedelta(days=days_ago),
                decided_at=now - timedelta(days=days_ago),
            )
            db.session.add(row)
            return row

        accepted = match(matched, MatchStatus.ACCEPTED, 10)
        db.session.flush()
        for role, author, body in (
            ("volunteer", "Friederike", "Guten Tag! Wann passt es Ihnen?"),
            ("initiative", "Gisela", "Dienstags ab 18 Uhr, gern im Stadtteilhaus."),
            ("volunteer", "Friederike", f"Hier ist das Antragsformular: {LONG_LINK}"),
        ):
            db.session.add(
                MatchMessage(
                    match_id=accepted.id,
                    author_id=(volunteer.user if role == "volunteer" else member).id,
                    author_role=role,
                    author_name=author,
                    body=body,
                    created_at=now - timedelta(days=9),
                )
            )
        for hours, summary in (
            (1, {"needs_open": 12, "experts_proposed": 3, "mean_score": 0.71, "requests": 2}),
            (2, {"needs_open": 11, "experts_proposed": 0}),
        ):
            db.session.add(
                JobRun(
                    job="propose_matches",
                    started_at=now - timedelta(hours=hours),
                    finished_at=now - timedelta(hours=hours),
                    ok=True,
                    summary=summary,
                )
            )
        for action, reason in (("need.publish", ""), ("need.withdraw", "Bitte melden Sie sich")):
            audit.record(db.session, member, action, "need", matched.id, detail={"reason": reason})
        match(open_need, MatchStatus.APPROVED, 9)  # waits for the volunteer's yes, overdue
        match(proposed, MatchStatus.PROPOSED, 10)  # waits for the coordination, overdue
        db.session.commit()
        token = make_token("confirm", {"uid": newcomer.id, "email": NEWCOMER})
        return Scene(
            open_need=open_need.id,
            matched_need=matched.id,
            closed_need=closed.id,
            draft_need=draft.id,
            match=accepted.id,
            pending_profile=pending.id,
            confirm_token=token,
            # The member's "Zusagen" link as the volunteer opens it: meant for someone else.
            other_persons_link=make_token("accept", {"uid": member.id, "match": accepted.id}),
        )


def _pages(scene: Scene) -> dict[str | None, list[tuple[str, str, int]]]:
    """Per person (None: not logged in): name, path and expected status of each page."""
    return {
        None: [
            ("confirm", f"/bestaetigen/{scene.confirm_token}", 200),
            ("needs", "/anfragen", 200),
            ("gone-matched", f"/anfragen/{scene.matched_need}", 410),
            ("gone-closed", f"/anfragen/{scene.closed_need}", 410),
            ("api-docs", "/api/v1/docs", 200),
        ],
        VOLUNTEER: [
            ("overview", "/uebersicht", 200),
            ("profile", "/profil", 200),
            ("match", f"/vermittlungen/{scene.match}", 200),
            ("thread", f"/vermittlungen/{scene.match}/nachrichten", 200),
            ("record", "/engagementnachweis", 200),
            ("link-for-someone-else", f"/mail/zusagen/{scene.other_persons_link}", 403),
            ("open-need", f"/anfragen/{scene.open_need}", 200),
            ("gone-volunteer", f"/anfragen/{scene.closed_need}", 410),
            ("account", "/konto", 200),
        ],
        MEMBER: [
            ("my-needs", "/meine-anfragen", 200),
            ("need-contacts", f"/anfragen/{scene.matched_need}", 200),
            ("match-initiative", f"/vermittlungen/{scene.match}", 200),
        ],
        COORDINATOR: [
            ("dashboard", "/koordination/", 200),
            ("waiting-profiles", "/koordination/profile", 200),
            ("review-profile", f"/koordination/profile/{scene.pending_profile}", 200),
            ("queue", "/koordination/vorschlaege", 200),
            ("coverage", "/koordination/abdeckung", 200),
            ("matching", "/koordination/vermittlung", 200),
            ("need-coordinator", f"/anfragen/{scene.matched_need}", 200),
            ("history", f"/koordination/anfragen/{scene.matched_need}/verlauf", 200),
        ],
    }


# Boxes that scroll sideways inside the page: only the coverage matrix, and only on a phone.
_SCROLLING_BOXES = """() => [...document.querySelectorAll('main *')]
  .filter((box) => ['auto', 'scroll'].includes(getComputedStyle(box).overflowX))
  .filter((box) => box.scrollWidth > box.clientWidth + 1)
  .map((box) => box.className)"""

# Controls that sit outside the window: they cannot be seen without scrolling sideways.
_OFF_SCREEN = """() => [...document.querySelectorAll('main a, main button')]
  .filter((el) => el.getClientRects().length && !el.closest('.cov-scroll'))
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
  .map((el) => el.textContent.trim().slice(0, 40))"""

# Cards whose text touches their border: a rule for lists took the card's padding away.
_TIGHT_CARDS = """() => [...document.querySelectorAll('main .card')]
  .filter((card) => card.getClientRects().length)
  .filter((card) => parseFloat(getComputedStyle(card).paddingLeft) < 8)
  .map((card) => card.textContent.trim().slice(0, 40))"""

# Buttons of a row narrower than their row on a phone, where every other button is as wide.
_SHORT_BUTTONS = """() => [...document.querySelectorAll('main .button-row .button')]
  .filter((b) => b.getClientRects().length)
  .filter((b) => b.getBoundingClientRect().width < b.closest('.button-row').clientWidth - 2)
  .map((b) => b.textContent.trim().slice(0, 40))"""

# Words of the level names set on more than one line (broken in the middle of the word).
_BROKEN_LEVELS = """() => [...document.querySelectorAll('.level-choice label')].flatMap((label) => {
  const range = document.createRange();
  range.setStart(label.firstChild, 0);
  range.setEnd(label.firstChild, label.firstChild.textContent.trimEnd().length);
  const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
  return lines.size > 1 ? [label.firstChild.textContent.trim()] : [];
})"""


def _axe(browser, page, viewport, javascript: bool) -> list[dict]:
    """axe-core's findings on the page; for a page shown without JavaScript, on its markup.

    axe-core is JavaScript itself: for a page shown without JavaScript, the same markup
    (scripts removed, so nothing changes it) is checked in a second window at the same size.
    """
    if javascript:
        return axe_violations(page)
    html = re.sub(r"<script\b[^>]*>.*?</script>", "", page.content(), flags=re.S)
    context = browser.new_context(locale="de-DE", viewport=viewport)
    try:
        copy = context.new_page()
        copy.route(page.url, lambda route: route.fulfill(body=html, content_type="text/html"))
        copy.goto(page.url)
        return axe_violations(copy)
    finally:
        context.close()


def _log_in(page, url: str, email: str) -> None:
    page.goto(url + "/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(lambda u: "/anmelden" not in u)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_no_page_scrolls_sideways(live_server, scene, browser, viewport, javascript):
    width = viewport["width"]
    problems: list[str] = []
    for person, pages in _pages(scene).items():
        context = browser.new_context(
            locale="de-DE", viewport=viewport, java_script_enabled=javascript
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            if person:
                _log_in(page, live_server.url, person)
            for name, path, status in pages:
                response = page.goto(live_server.url + path)
                assert response.status == status, f"{path}: {response.status}"
                where = f"{name} at {width} px ({'with' if javascript else 'without'} JS)"
                page_width = page.evaluate("document.scrollingElement.scrollWidth")
                if page_width > width:
                    problems.append(f"{where}: page is {page_width} px wide")
                boxes = page.evaluate(_SCROLLING_BOXES)
                if width == PHONE["width"]:
                    boxes = [b for b in boxes if "cov-scroll" not in b]
                if boxes:
                    problems.append(f"{where}: scrolls inside {boxes}")
                if off := page.evaluate(_OFF_SCREEN):
                    problems.append(f"{where}: off screen {off}")
                if tight := page.evaluate(_TIGHT_CARDS):
                    problems.append(f"{where}: text against the card's border {tight}")
                if width == PHONE["width"] and (short := page.evaluate(_SHORT_BUTTONS)):
                    problems.append(f"{where}: buttons narrower than their row {short}")
                if name == "profile" and (broken := page.evaluate(_BROKEN_LEVELS)):
                    problems.append(f"{where}: level names broken {broken}")
                screenshot(page, f"narrow-{name}-{width}-{'js' if javascript else 'nojs'}")
                if name == "profile":
                    page.locator(".level-field").first.screenshot(
                        path=str(ARTIFACTS / f"narrow-levels-{width}.png")
                    )
                if violations := _axe(browser, page, viewport, javascript):
                    problems.append(f"{where}: axe\n{describe(violations)}")
        finally:
            context.close()
    assert not problems, "\n".join(problems)


def test_an_ended_need_explains_itself_and_leads_on(live_server, scene, page):
    response = page.goto(f"{live_server.url}/anfragen/{scene.matched_need}")
    assert response.status == 410
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Diese Anfrage hat schon Hilfe gefunden"
    )
    page.get_by_role("link", name="Offene Anfragen zum Thema „Start / Akquise“").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Offene Anfragen"
    assert page.get_by_role("link", name="Wie finden wir Mitstreiter:innen im Quartier?").count()

    _log_in(page, live_server.url, VOLUNTEER)
    response = page.goto(f"{live_server.url}/anfragen/{scene.closed_need}")
    assert response.status == 410
    assert page.get_by_role("heading", level=1).inner_text() == "Diese Anfrage ist abgeschlossen"
    page.get_by_role("link", name="Offene Anfragen, die zu Ihnen passen").click()
    assert page.url.endswith("/uebersicht#needs-title")

    response = page.goto(f"{live_server.url}/anfragen/{scene.draft_need}")
    assert response.status == 404


ZOOMED = {"width": 187, "height": 800}  # a 375 px phone at 200 % zoom (WCAG 1.4.10)


def test_every_page_reflows_at_200_percent_zoom(live_server, scene, browser):
    """Long German words and rows that never wrapped (the site's name, the language buttons,
    the footer's links, the home page's two ways in) pushed pages to 364 px at 200 % zoom.
    Nothing may scroll sideways; a wide data table scrolls in its own box."""
    problems: list[str] = []
    for person, pages in _pages(scene).items():
        context = browser.new_context(locale="de-DE", viewport=ZOOMED, java_script_enabled=False)
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            if person:
                _log_in(page, live_server.url, person)
            for name, path, _status in pages:
                page.goto(live_server.url + path)
                page_width = page.evaluate("document.scrollingElement.scrollWidth")
                if page_width > ZOOMED["width"]:
                    problems.append(f"{name}: page is {page_width} px wide at 200 % zoom")
        finally:
            context.close()
    assert not problems, "\n".join(problems)
