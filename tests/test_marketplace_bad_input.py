"""Wrong, hostile or repeated input on the marketplace pages.

Each case ends in a clear German message or a 404/403 page, never a 500, and the
database is exactly as it was before (every row of every table is compared).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from db_state import changed_tables, snapshot
from sqlalchemy import func, select
from support import NEED_FORM, PROFILE_FORM, csrf_token, post_form

from matching.models import Need, NeedStatus, ProfileStatus, Role

SCRIPT = "<script>alert(1)</script>"
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()
TODAY = date.today().isoformat()
CHOOSE_FROM_LIST = "Bitte wählen Sie nur aus der Liste."
NOT_A_CHOICE = "Keine gültige Auswahl."
THREE_YEARS_AHEAD = (date.today() + timedelta(days=3 * 365)).isoformat()
TOO_FAR = "Das Ablaufdatum liegt mehr als zwei Jahre voraus. Bitte prüfen Sie das Jahr."
PAUSE_TOO_FAR = "Eine Pause dauert höchstens ein Jahr. Bitte prüfen Sie das Jahr."


def text_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def assert_escaped(response) -> None:
    html = response.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html


@pytest.fixture()
def volunteer(auth, make_volunteer):
    """An approved volunteer, logged in, whose stored profile matches PROFILE_FORM."""
    profile = make_volunteer("vera@example.org", districts=("ost", "mitte"))
    auth.login("vera@example.org")
    return profile


@pytest.fixture()
def owner(auth, make_initiative):
    """A member of initiative A, logged in; returns the initiative."""
    initiative, member = make_initiative("Nachbarschaft Ost")
    auth.login(member.email)
    return initiative


@pytest.fixture()
def coordinator(auth, make_user):
    user = make_user("koo@example.org", roles=(Role.COORDINATOR, Role.VOLUNTEER))
    auth.login("koo@example.org")
    return user


# --- The volunteer profile form ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("level_start", "7", NOT_A_CHOICE),
        ("level_start", "-1", NOT_A_CHOICE),
        ("districts", ["xyz"], CHOOSE_FROM_LIST),
        ("districts", [], "Bitte wählen Sie mindestens einen Stadtbezirk"),
        ("languages", ["klingonisch"], CHOOSE_FROM_LIST),
        ("formats", ["brieftaube"], CHOOSE_FROM_LIST),
        ("paused_until", YESTERDAY, "Das Datum muss in der Zukunft liegen."),
        ("paused_until", TODAY, "Das Datum muss in der Zukunft liegen."),
        ("paused_until", "31.12.2062", PAUSE_TOO_FAR),
        ("paused_until", "9999-12-31", PAUSE_TOO_FAR),
        ("paused_until", "31.02.2030", "Bitte geben Sie den Tag so an: 24.12.2026."),
        ("capacity", "0", "Bitte geben Sie eine Zahl von 1 bis 10 an."),
        ("capacity", "99", "Bitte geben Sie eine Zahl von 1 bis 10 an."),
        ("capacity", "zwei", "Keine gültige, ganze Zahl."),
        ("bio", "x" * 10_000, "Bitte höchstens 1000 Zeichen."),
        ("phone", "x" * 10_000, "Bitte höchstens 40 Zeichen."),
        ("level_cooperation", "0", None),  # with level_start 0 below: no expertise at all
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None,
)
def test_profile_form_refuses_bad_input(client, db, volunteer, field, value, message):
    data = {**PROFILE_FORM, field: value}
    if message is None:
        data["level_start"] = "0"
        message = "Bitte geben Sie mindestens ein Thema an, in dem Sie sich auskennen."
    before = snapshot(db.session)
    response = post_form(client, "/profil", data)
    assert response.status_code == 422
    assert "Bitte prüfen Sie Ihre Angaben" in text_of(response)
    assert message in text_of(response)
    assert changed_tables(before, snapshot(db.session)) == []


def test_bio_is_shown_escaped_to_the_coordinator(client, db, auth, make_user, make_volunteer):
    profile = make_volunteer("vera@example.org", status=ProfileStatus.PENDING)
    make_user("koo@example.org", roles=(Role.COORDINATOR,))
    auth.login("vera@example.org")
    response = post_form(client, "/profil", {**PROFILE_FORM, "bio": SCRIPT + " Ich helfe gern."})
    assert response.status_code == 302
    assert_escaped(client.get("/profil"))
    auth.logout()
    auth.login("koo@example.org")
    assert_escaped(client.get(f"/koordination/profile/{profile.id}"))


# --- The need form ----------------------------------------------------------------------


NEED_CASES = [
    ("title", "x" * 10_000, "Bitte höchstens 120 Zeichen."),
    ("title", "   ", "Bitte geben Sie einen kurzen Titel an."),
    ("description", "x" * 10_000, "Bitte höchstens 4000 Zeichen."),
    ("description", "", "Bitte beschreiben Sie kurz, wobei Sie Rat brauchen."),
    ("phases", ["xyz"], CHOOSE_FROM_LIST),
    ("phases", [], "Bitte wählen Sie mindestens ein Thema."),
    ("district", "xyz", NOT_A_CHOICE),
    ("language", "klingonisch", NOT_A_CHOICE),
    ("formats", ["brieftaube"], CHOOSE_FROM_LIST),
    ("urgency", "sofort", NOT_A_CHOICE),
    ("experts_wanted", "0", "Bitte geben Sie eine Zahl von 1 bis 5 an."),
    ("experts_wanted", "99", "Bitte geben Sie eine Zahl von 1 bis 5 an."),
    ("expires_on", YESTERDAY, "Das Datum muss in der Zukunft liegen."),
    ("expires_on", "9999-12-31", TOO_FAR),
    ("expires_on", THREE_YEARS_AHEAD, TOO_FAR),
]


@pytest.mark.parametrize("form_page", ["new", "edit"])
@pytest.mark.parametrize(
    ("field", "value", "message"),
    NEED_CASES,
    ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None,
)
def test_need_form_refuses_bad_input(
    client, db, owner, make_need, form_page, field, value, message
):
    need = make_need(owner, status=NeedStatus.DRAFT)
    path = "/meine-anfragen/neu" if form_page == "new" else f"/anfragen/{need.id}/bearbeiten"
    before = snapshot(db.session)
    response = post_form(client, path, {**NEED_FORM, field: value, "action": "publish"})
    assert response.status_code == 422
    assert message in text_of(response)
    assert changed_tables(before, snapshot(db.session)) == []


@pytest.mark.parametrize("field", ["title", "description"])
def test_need_text_is_shown_escaped_everywhere(client, db, owner, field):
    response = post_form(
        client, "/meine-anfragen/neu", {**NEED_FORM, field: SCRIPT, "action": "publish"}
    )
    assert response.status_code == 302
    need = db.session.scalar(select(Need))
    assert_escaped(client.get(f"/anfragen/{need.id}"))
    if field == "title":
        assert_escaped(client.get("/anfragen"))
        assert_escaped(client.get("/meine-anfragen"))
        assert_escaped(client.get(f"/anfragen/{need.id}/zurueckziehen"))


def test_initiative_name_is_shown_escaped(client, make_initiative, make_need):
    initiative, _ = make_initiative(SCRIPT)
    need = make_need(initiative)
    assert_escaped(client.get("/anfragen"))
    assert_escaped(client.get(f"/anfragen/{need.id}"))


def test_withdraw_reason_is_shown_escaped(client, owner, make_need):
    need = make_need(owner)
    response = post_form(client, f"/anfragen/{need.id}/zurueckziehen", {"reason": SCRIPT})
    assert response.status_code == 302
    assert_escaped(client.get(f"/anfragen/{need.id}"))


def test_return_reason_is_shown_escaped_to_the_volunteer(
    client, auth, make_user, make_volunteer, mailbox
):
    profile = make_volunteer("vera@example.org", status=ProfileStatus.PENDING)
    make_user("koo@example.org", roles=(Role.COORDINATOR,))
    auth.login("koo@example.org")
    response = post_form(
        client,
        f"/koordination/profile/{profile.id}/zurueck",
        {"reason": SCRIPT},
        token_from=f"/koordination/profile/{profile.id}",
    )
    assert response.status_code == 302
    assert "<script>alert" not in mailbox[-1].html
    auth.logout()
    auth.login("vera@example.org")
    assert_escaped(client.get("/uebersicht"))
    assert_escaped(client.get("/profil"))


@pytest.mark.parametrize("action", ["draft", "publish"])
def test_double_submit_of_the_need_form_creates_one_need(client, db, owner, action):
    html = client.get("/meine-anfragen/neu").get_data(as_text=True)
    submission = re.search(r'name="submission" type="hidden" value="([^"]+)"', html).group(1)
    payload = {
        **NEED_FORM,
        "csrf_token": csrf_token(client, "/meine-anfragen/neu"),
        "submission": submission,
        "action": action,
    }
    first = client.post("/meine-anfragen/neu", data=payload)
    before = snapshot(db.session)
    second = client.post("/meine-anfragen/neu", data=payload, follow_redirects=True)
    assert first.status_code == 302 and second.status_code == 200
    assert "Diese Anfrage wurde schon gespeichert." in text_of(second)
    assert db.session.scalar(select(func.count()).select_from(Need)) == 1
    assert changed_tables(before, snapshot(db.session)) == []


# --- Need ids that do not exist or are not yours ----------------------------------------


NEED_PAGES = [
    ("GET", "/anfragen/{id}"),
    ("GET", "/anfragen/{id}/bearbeiten"),
    ("GET", "/anfragen/{id}/abschliessen"),
    ("GET", "/anfragen/{id}/zurueckziehen"),
    ("POST", "/anfragen/{id}/bearbeiten"),
    ("POST", "/anfragen/{id}/veroeffentlichen"),
    ("POST", "/anfragen/{id}/abschliessen"),
    ("POST", "/anfragen/{id}/zurueckziehen"),
]


@pytest.mark.parametrize(("method", "path"), NEED_PAGES, ids=" ".join)
def test_unknown_or_foreign_need_is_404(
    client, db, owner, make_initiative, make_need, method, path
):
    other, _ = make_initiative("Garten West", district="west")
    foreign = make_need(other, status=NeedStatus.DRAFT)
    token = csrf_token(client, "/")
    ids = {
        "missing": foreign.id + 1000,
        "beyond int4": 2**31,
        "huge": 10**30,
        "someone else's draft": foreign.id,
    }
    before = snapshot(db.session)
    for which, need_id in ids.items():
        url = path.format(id=need_id)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={**NEED_FORM, "reason": "Test", "csrf_token": token})
        assert response.status_code == 404, which
        assert "Seite nicht gefunden" in text_of(response), which
    assert changed_tables(before, snapshot(db.session)) == []


# --- Steps a need's state does not allow --------------------------------------------------


@pytest.mark.parametrize(
    ("status", "path", "data", "message"),
    [
        (
            NeedStatus.WITHDRAWN,
            "abschliessen",
            {},
            "Nur offene Anfragen oder Anfragen mit Expert:in können abgeschlossen werden.",
        ),
        (NeedStatus.DRAFT, "abschliessen", {}, "Nur offene Anfragen"),
        (NeedStatus.OPEN, "veroeffentlichen", {}, "schon veröffentlicht oder beendet"),
        (NeedStatus.CLOSED, "veroeffentlichen", {}, "schon veröffentlicht oder beendet"),
        (NeedStatus.WITHDRAWN, "zurueckziehen", {"reason": "Nochmal"}, "schon beendet"),
        (NeedStatus.EXPIRED, "zurueckziehen", {"reason": "Nochmal"}, "schon beendet"),
        (NeedStatus.CLOSED, "bearbeiten", {**NEED_FORM, "title": "Neu"}, "Nur Entwürfe"),
    ],
)
def test_step_the_state_does_not_allow_is_refused_with_a_message(
    client, db, owner, make_need, status, path, data, message
):
    need = make_need(owner, status=status)
    before = snapshot(db.session)
    response = client.post(
        f"/anfragen/{need.id}/{path}",
        data={"csrf_token": csrf_token(client, "/"), **data},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert message in text_of(response)
    assert changed_tables(before, snapshot(db.session)) == []


@pytest.mark.parametrize("reason", ["", "   \n  "])
def test_withdraw_without_a_reason_asks_for_one(client, db, owner, make_need, reason):
    need = make_need(owner)
    before = snapshot(db.session)
    response = post_form(client, f"/anfragen/{need.id}/zurueckziehen", {"reason": reason})
    assert response.status_code == 422
    assert "Bitte geben Sie kurz einen Grund an." in text_of(response)
    assert changed_tables(before, snapshot(db.session)) == []


def test_too_long_withdraw_reason_is_refused(client, db, owner, make_need):
    need = make_need(owner)
    before = snapshot(db.session)
    response = post_form(client, f"/anfragen/{need.id}/zurueckziehen", {"reason": "x" * 10_000})
    assert response.status_code == 422
    assert "Bitte höchstens 1000 Zeichen." in text_of(response)
    assert changed_tables(before, snapshot(db.session)) == []


def test_transition_without_csrf_token_is_refused(client, db, owner, make_need):
    need = make_need(owner)
    before = snapshot(db.session)
    response = client.post(f"/anfragen/{need.id}/abschliessen")
    assert response.status_code == 400
    assert "Bitte laden Sie die Seite neu" in text_of(response)
    assert changed_tables(before, snapshot(db.session)) == []


# --- The public list's filters -----------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["thema=xyz", "bezirk=xyz", "thema=start&bezirk=atlantis", "thema=%3Cscript%3E"]
)
def test_unknown_filter_value_gets_a_message(client, make_initiative, make_need, query):
    initiative, _ = make_initiative()
    make_need(initiative)
    response = client.get(f"/anfragen?{query}")
    assert response.status_code == 200
    assert "Dieses Thema oder diesen Stadtbezirk kennen wir nicht." in text_of(response)
    assert "<script>" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("page", "shown"),
    [
        *[(bad, 1) for bad in ["abc", "", "0", "-1", "1.5", "1e3", "+2", "%C2%B2", "%D9%A2"]],
        ("2", 2),
        *[(past_the_end, 2) for past_the_end in ["3", "9999", "99999", "9" * 5000]],
    ],
    ids=lambda v: str(v)[:12],
)
def test_bad_page_number_shows_a_real_page(client, db, make_initiative, make_need, page, shown):
    """Not a number: the first page; past the end (an old link): the last page."""
    initiative, _ = make_initiative()
    for n in range(21):  # one more than a page holds
        make_need(initiative, title=f"Anfrage Nummer {n}")
    response = client.get(f"/anfragen?seite={page}")
    assert response.status_code == 200
    assert f"Seite {shown} von 2" in text_of(response)
    # The newest comes first; the oldest is alone on page 2.
    assert ("Anfrage Nummer 20" if shown == 1 else "Anfrage Nummer 0<") in text_of(response)


# --- Coordinators reviewing profiles -----------------------------------------------------


def test_returning_a_profile_without_a_reason_asks_for_one(
    client, db, coordinator, make_volunteer, mailbox
):
    profile = make_volunteer(status=ProfileStatus.PENDING)
    before = snapshot(db.session)
    response = post_form(
        client,
        f"/koordination/profile/{profile.id}/zurueck",
        {"reason": "  "},
        token_from=f"/koordination/profile/{profile.id}",
    )
    assert response.status_code == 422  # the review page again, the reason marked
    assert "Bitte schreiben Sie kurz, was im Profil noch fehlt." in text_of(response)
    # Only the audit log grew: showing the review page records the look at contact data.
    assert changed_tables(before, snapshot(db.session)) in ([], ["audit_log"])
    db.session.refresh(profile)
    assert profile.status == ProfileStatus.PENDING
    assert mailbox == []


@pytest.mark.parametrize("status", [ProfileStatus.APPROVED, ProfileStatus.RETURNED])
@pytest.mark.parametrize("step", ["freigeben", "zurueck"])
def test_reviewing_a_profile_that_does_not_wait_is_refused(
    client, db, coordinator, make_volunteer, mailbox, status, step
):
    profile = make_volunteer(status=status)
    before = snapshot(db.session)
    response = post_form(
        client,
        f"/koordination/profile/{profile.id}/{step}",
        {"reason": "Bitte ergänzen"},
        token_from="/koordination/profile",
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Dieses Profil wartet nicht (mehr) auf eine Freigabe." in text_of(response)
    assert changed_tables(before, snapshot(db.session)) == []
    assert mailbox == []


def test_coordinator_cannot_approve_their_own_profile(
    client, db, coordinator, make_volunteer, mailbox
):
    from matching.models import VolunteerProfile

    own = VolunteerProfile(user=coordinator, status=ProfileStatus.PENDING, capacity=1)
    db.session.add(own)
    db.session.commit()
    before = snapshot(db.session)
    response = post_form(
        client,
        f"/koordination/profile/{own.id}/freigeben",
        {},
        token_from="/koordination/profile",
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Das eigene Profil gibt jemand anderes" in text_of(response)
    assert changed_tables(before, snapshot(db.session)) == []
    assert mailbox == []


@pytest.mark.parametrize("step", ["", "/freigeben", "/zurueck"])
def test_unknown_profile_is_404(client, db, coordinator, step):
    path = f"/koordination/profile/{10**30}{step}"
    if step:
        response = client.post(path, data={"csrf_token": csrf_token(client, "/"), "reason": "x"})
    else:
        response = client.get(path)
    assert response.status_code == 404
