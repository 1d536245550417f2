"""Text that only looks filled in is no answer, and a phone number is one everywhere.

A zero-width space (U+200B), a word joiner (U+2060) or a byte order mark survive str.strip():
a title made of them was published with an empty heading in the list and the feed, and a
"required" reason said nothing. Every required text refuses them now, on the web forms (one
rule in BaseForm, with the field's own message) and in the services the API and the jobs call.
The API took any phone number the web form refused; the rule is the service's now.
"""

from __future__ import annotations

import pytest
from api_support import NEED_BODY, PROFILE_BODY, bearer, token_for
from db_state import changed_tables, snapshot
from html_reader import Page
from sqlalchemy import func, select
from support import NEED_FORM, PROFILE_FORM, post_form

from matching import matches
from matching.errors import InvalidInput
from matching.models import MatchOrigin, MatchStatus, Need, Role, utcnow

INVISIBLE = ["\u200b", " \u2060 ", "\ufeff", "\u200b\u200c\u200d"]


@pytest.fixture()
def initiative_member(db, auth, make_initiative):
    _initiative, member = make_initiative()
    db.session.commit()
    return member


@pytest.mark.parametrize("blank", INVISIBLE)
def test_a_need_titled_with_invisible_characters_is_refused_on_the_form(
    client, db, auth, initiative_member, blank
):
    auth.login(initiative_member.email)
    before = snapshot(db.session)
    response = post_form(
        client, "/meine-anfragen/neu", {**NEED_FORM, "title": blank, "action": "publish"}
    )
    assert response.status_code == 422
    page = Page.of(response)
    assert page.error_summary  # said above the form, and at the field
    assert "Wie finden wir" not in page.error_summary
    assert "Wir sind zu dritt und suchen mehr Leute." in response.get_data(as_text=True)  # kept
    assert changed_tables(before, snapshot(db.session)) == []


@pytest.mark.parametrize("field", ["title", "description"])
def test_the_api_refuses_a_need_of_invisible_characters(client, db, initiative_member, field):
    secret = token_for(initiative_member)
    before = db.session.scalar(select(func.count()).select_from(Need))
    response = client.post(
        "/api/v1/initiative/needs",
        json={**NEED_BODY, field: "\u200b", "publish": True},
        headers=bearer(secret),
    )
    assert response.status_code == 422
    assert response.get_json()["detail"]
    assert db.session.scalar(select(func.count()).select_from(Need)) == before


def test_a_rejection_reason_of_invisible_characters_is_no_reason(
    client, db, auth, make_user, make_volunteer, make_need, initiative_member
):
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    volunteer = make_volunteer("vera@example.org")
    need = make_need(initiative_member.initiatives[0])
    match = matches.create_match(
        db.session, None, need, volunteer, origin=MatchOrigin.ENGINE, now=utcnow()
    )
    db.session.commit()
    auth.login(coordinator.email)
    response = post_form(
        client, f"/koordination/vorschlaege/{match.id}/ablehnen", {"reason": "\u200b"}
    )
    assert response.status_code == 422
    assert Page.of(response).error_summary
    db.session.refresh(match)
    assert match.status == MatchStatus.PROPOSED
    # The service itself refuses it too, for the API and anything else that calls it.
    with pytest.raises(InvalidInput):
        matches.change_status(
            db.session, coordinator, match, "reject", now=utcnow(), reason="\u2060"
        )
    db.session.rollback()


@pytest.mark.parametrize("phone", ["abcdef", "😀", "\u200b", "12"])
def test_the_api_takes_no_phone_number_the_form_refuses(client, db, make_user, phone):
    user = make_user("neu@example.org", roles=(Role.VOLUNTEER,))
    secret = token_for(user)
    response = client.put(
        "/api/v1/volunteer/profile", json={**PROFILE_BODY, "phone": phone}, headers=bearer(secret)
    )
    assert response.status_code == 422
    assert "Ziffern" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.volunteer_profile is None
    assert user.phone in ("", None)
    fine = client.put(
        "/api/v1/volunteer/profile",
        json={**PROFILE_BODY, "phone": "+49 (711) 123-456"},
        headers=bearer(secret),
    )
    assert fine.status_code == 200


def test_the_profile_form_and_the_api_say_the_same_about_a_phone_number(
    client, db, auth, make_user
):
    make_user("neu@example.org", roles=(Role.VOLUNTEER,))
    auth.login("neu@example.org")
    response = post_form(client, "/profil", {**PROFILE_FORM, "phone": "abcdef"})
    assert response.status_code == 422
    assert "Bitte nur Ziffern, Leerzeichen und + ( ) / -." in response.get_data(as_text=True)
