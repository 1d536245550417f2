"""An initiative learns of a match from the coordination's yes on, and not before.

A waiting proposal, a rejected one, or one that ended before anybody approved it names an
expert the initiative was never told about: its pages (the match, the messages, the meetings,
the cancel form) and the API answer 404 to the initiative, as for any stranger, while the
expert and the coordination still see it.
"""

from __future__ import annotations

import pytest
from api_support import bearer, token_for

from matching import matches
from matching.models import MatchOrigin, MatchStatus, Role, utcnow

PAGES = ("", "/nachrichten", "/treffen", "/absagen")


@pytest.fixture()
def scene(db, make_user, make_volunteer, make_initiative, make_need):
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    initiative, member = make_initiative()
    volunteer = make_volunteer("vera@example.org", first_name="Vera")
    need = make_need(initiative, title="Leute finden")
    db.session.commit()
    return coordinator, member, volunteer, need


def _match(db, scene, steps: tuple[str, ...], origin=MatchOrigin.ENGINE):
    coordinator, _member, volunteer, need = scene
    actor = volunteer.user if origin == MatchOrigin.OFFER else None
    match = matches.create_match(db.session, actor, need, volunteer, origin=origin, now=utcnow())
    for step in steps:
        who = volunteer.user if step in ("accept", "decline", "withdraw") else coordinator
        reason = "passt zeitlich nicht" if step in ("reject", "decline", "cancel") else ""
        matches.change_status(db.session, who, match, step, now=utcnow(), reason=reason)
    db.session.commit()
    return match


def _answers(client, auth, email: str, match_id: int) -> dict[str, int]:
    auth.login(email)
    answers = {page: client.get(f"/vermittlungen/{match_id}{page}").status_code for page in PAGES}
    auth.logout()
    return answers


@pytest.mark.parametrize(
    ("steps", "status"),
    [
        ((), MatchStatus.PROPOSED),
        (("reject",), MatchStatus.REJECTED),
        (("cancel",), MatchStatus.CANCELLED),
    ],
)
def test_the_initiative_does_not_see_a_match_before_the_coordinations_yes(
    client, db, auth, scene, steps, status
):
    coordinator, member, _volunteer, _need = scene
    match = _match(db, scene, steps)
    assert match.status == status
    assert set(_answers(client, auth, member.email, match.id).values()) == {404}
    # The expert and the coordination still reach the match's own page.
    assert _answers(client, auth, coordinator.email, match.id)[""] == 200
    api = client.get(f"/api/v1/matches/{match.id}", headers=bearer(token_for(member)))
    assert api.status_code == 404
    assert "Vermittlung" in api.get_json()["detail"]
    assert "Vera" not in api.get_data(as_text=True)
    own = client.get(f"/api/v1/matches/{match.id}", headers=bearer(token_for(coordinator)))
    assert own.status_code == 200


def test_a_proposal_the_volunteer_offered_stays_hidden_from_the_initiative_too(
    client, db, auth, scene
):
    _coordinator, member, volunteer, _need = scene
    match = _match(db, scene, (), origin=MatchOrigin.OFFER)
    assert _answers(client, auth, member.email, match.id)[""] == 404
    assert _answers(client, auth, volunteer.user.email, match.id)[""] == 200


@pytest.mark.parametrize(
    ("steps", "status"),
    [
        (("approve",), MatchStatus.APPROVED),
        (("approve", "accept"), MatchStatus.ACCEPTED),
        (("approve", "decline"), MatchStatus.DECLINED),
        (("approve", "cancel"), MatchStatus.CANCELLED),
    ],
)
def test_the_initiative_sees_a_match_from_the_coordinations_yes_on(
    client, db, auth, scene, steps, status
):
    _coordinator, member, _volunteer, _need = scene
    match = _match(db, scene, steps)
    assert match.status == status
    auth.login(member.email)
    page = client.get(f"/vermittlungen/{match.id}")
    assert page.status_code == 200
    assert "Vera" in page.get_data(as_text=True)
    api = client.get(f"/api/v1/matches/{match.id}", headers=bearer(token_for(member)))
    assert api.status_code == 200
    assert api.get_json()["id"] == match.id


@pytest.mark.parametrize(
    ("steps", "who", "asks"),
    [
        (("approve",), "volunteer", True),
        (("approve",), "member", False),
        (("approve",), "coordinator", False),
        ((), "volunteer", False),
        (("approve", "decline"), "volunteer", False),
        (("approve", "accept"), "volunteer", False),
    ],
)
def test_the_decline_question_is_only_for_the_asked_expert(
    client, db, auth, scene, steps, who, asks
):
    """ "Beratung nicht übernehmen … Absagen" was shown to the initiative, the coordination and
    the expert of a match that did not wait for an answer; sending it was refused."""
    coordinator, member, volunteer, _need = scene
    match = _match(db, scene, steps)
    email = {"volunteer": volunteer.user.email, "member": member.email}.get(who, coordinator.email)
    auth.login(email)
    response = client.get(f"/vermittlungen/{match.id}/absagen")
    if asks:
        assert response.status_code == 200 and "Absagen" in response.get_data(as_text=True)
    else:
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/vermittlungen/{match.id}")
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Absagen kann hier nur" in page or "wartet nicht (mehr) auf Ihre Antwort" in page
