"""A reason the service wrote itself is read in the reader's language; a person's own words
are shown as they were written.

The service stores its own sentences in German, as every reason is kept (a job and a request
in another language write the same record): "Konto gelöscht.", "Anfrage ist vermittelt." and
the need-end sentences showed in German on English pages (the history, the need's page).
"""

from __future__ import annotations

import pytest

from matching import matches, needs, sentences
from matching.models import MatchOrigin, Role, utcnow


@pytest.fixture()
def ended(db, make_user, make_volunteer, make_initiative, make_need):
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    coordinator.locale = "en"
    _initiative, member = make_initiative()
    volunteer = make_volunteer("vera@example.org")
    need = make_need(member.initiatives[0], title="Leute finden")
    match = matches.create_match(
        db.session, None, need, volunteer, origin=MatchOrigin.ENGINE, now=utcnow()
    )
    db.session.commit()
    needs.change_status(
        db.session, member, need, "withdraw", now=utcnow(), reason="Wir haben Hilfe"
    )
    db.session.commit()
    return coordinator, need, match


def test_the_history_shows_the_services_own_reason_in_english(client, db, auth, ended):
    coordinator, need, match = ended
    assert match.reason == sentences.WITHDRAWN  # stored as written, in German
    auth.login(coordinator.email)
    page = client.get(f"/koordination/anfragen/{need.id}/verlauf").get_data(as_text=True)
    assert "The initiative has withdrawn the request." in page
    assert "Die Initiative hat die Anfrage zurückgezogen." not in page
    assert "Wir haben Hilfe" in page  # a person's own words stay as written


@pytest.mark.parametrize(
    "stored",
    [
        sentences.PLACED,
        sentences.PLACES_FULL,
        sentences.WITHDRAWN,
        sentences.CLOSED,
        sentences.EXPIRED,
        sentences.ACCOUNT_ERASED,
        sentences.NEED_CHANGED,
        sentences.ERASED_NAME,
    ],
)
def test_every_sentence_the_service_stores_has_its_english(app, stored):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        english = sentences.shown(stored)
    assert english and english != stored
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert sentences.shown(stored) == stored
        assert sentences.shown("Meine eigenen Worte.") == "Meine eigenen Worte."
