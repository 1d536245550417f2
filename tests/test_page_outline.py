"""The outline of the pages with need cards and of a need's page.

Headings go down one level at a time (a screen reader's list of headings has no holes), and
no heading stands above an empty section.
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from html_reader import Page

from matching import matches
from matching.models import MatchOrigin, NeedStatus, Role, utcnow

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def outline(page: Page) -> list[tuple[int, str]]:
    """The headings of the page in document order: (level, text)."""
    return [(int(el.tag[1]), el.text) for el in page.root.iter() if el.tag in HEADINGS]


def assert_no_skipped_level(page: Page) -> None:
    levels = outline(page)
    assert levels and levels[0][0] == 1, levels
    for (before, _), (level, text) in pairwise(levels):
        assert level <= before + 1, f"h{level} {text!r} follows h{before}: {levels}"


def card_heading(page: Page, title: str) -> str:
    [card] = [li for li in page.find_all("li", class_="need-card") if title in li.text]
    [heading] = [el for el in card.iter() if el.tag in HEADINGS]
    return heading.tag


def assert_no_empty_section(page: Page) -> None:
    """Every section says something besides its heading; no list or button row is empty."""
    for section in page.find_all("section"):
        content = [
            el for el in section.children if not isinstance(el, str) and el.tag not in HEADINGS
        ]
        assert content and any(el.text or el.find_all("a") for el in content), section
    for listing in page.find_all("ul") + page.find_all("ol"):
        assert listing.find("li") is not None, listing
    for row in page.find_all(class_="button-row"):
        assert [el for el in row.children if not isinstance(el, str)], row


# --- Need cards ------------------------------------------------------------------------------


def test_the_cards_on_the_list_of_open_needs_are_h2_under_its_h1(
    client, make_initiative, make_need
):
    initiative, _member = make_initiative()
    make_need(initiative, title="Wir suchen Rat zum Verein")
    page = Page.of(client.get("/anfragen"))
    assert page.h1 == "Offene Anfragen"
    assert card_heading(page, "Wir suchen Rat zum Verein") == "h2"
    assert_no_skipped_level(page)


def test_the_cards_on_the_volunteers_overview_are_h3_under_their_section(
    client, auth, make_volunteer, make_initiative, make_need
):
    make_volunteer("vera@example.org", whole_city=True)
    initiative, _member = make_initiative()
    make_need(initiative, title="Wir suchen Rat zum Verein", phases=("start",))
    auth.login("vera@example.org")
    page = Page.of(client.get("/uebersicht"))
    assert card_heading(page, "Wir suchen Rat zum Verein") == "h3"
    assert (2, "Anfragen, die zu Ihnen passen") in outline(page)
    assert_no_skipped_level(page)


# --- A need's page ---------------------------------------------------------------------------

EXPERTS = "Expert:innen für diese Anfrage"
WHAT_TO_DO = "Was Sie jetzt tun können"


@pytest.fixture()
def need_with_a_proposal(db, make_user, make_volunteer, make_initiative, make_need):
    """An open need whose only match waits for the coordinators (the initiative sees none)."""
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    volunteer = make_volunteer("vera@example.org")
    member = make_user("ines@example.org", roles=(Role.INITIATIVE,), first_name="Ines")
    initiative, _member = make_initiative(member=member)
    need = make_need(initiative, title="Leute finden")
    matches.create_match(
        db.session, coordinator, need, volunteer, origin=MatchOrigin.MANUAL, now=utcnow()
    )
    db.session.commit()
    return need


def test_no_experts_heading_while_no_expert_is_shown_to_the_initiative(
    client, auth, need_with_a_proposal
):
    auth.login("ines@example.org")
    page = Page.of(client.get(f"/anfragen/{need_with_a_proposal.id}"))
    headings = [text for _level, text in outline(page)]
    assert EXPERTS not in headings
    assert WHAT_TO_DO in headings  # an open need: edit, close, withdraw
    assert_no_empty_section(page)
    assert_no_skipped_level(page)


def test_the_coordination_still_sees_the_proposal_under_the_heading(
    client, auth, need_with_a_proposal
):
    auth.login("koo@example.org")
    page = Page.of(client.get(f"/anfragen/{need_with_a_proposal.id}"))
    section = page.find("section", aria_labelledby="matches-title")
    assert section is not None and "Vera" in section.text
    assert_no_empty_section(page)


@pytest.mark.parametrize("status", [NeedStatus.CLOSED, NeedStatus.WITHDRAWN, NeedStatus.EXPIRED])
def test_an_ended_need_has_no_empty_what_to_do_section(
    client, db, auth, need_with_a_proposal, status
):
    need_with_a_proposal.status = status
    db.session.commit()
    auth.login("ines@example.org")
    response = client.get(f"/anfragen/{need_with_a_proposal.id}")
    assert response.status_code == 200
    page = Page.of(response)
    headings = [text for _level, text in outline(page)]
    assert WHAT_TO_DO not in headings and EXPERTS not in headings
    assert_no_empty_section(page)
    assert_no_skipped_level(page)
