"""The two sides of the marketplace through the pages: a profile, its approval, a need."""

from sqlalchemy import select
from support import NEED_FORM, PROFILE_FORM, post_form

from matching.models import AuditEntry, Need, NeedStatus, ProfileStatus, Role, VolunteerProfile


def test_volunteer_profile_waits_for_approval_then_sees_fitting_needs(
    client, db, auth, make_user, make_initiative, make_need, mailbox
):
    volunteer = make_user("vera@example.org")
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    initiative, _ = make_initiative()
    make_need(initiative, title="Mitstreiter:innen gesucht", phases=("start",))
    make_need(initiative, title="Streit im Team", phases=("conflicts",))

    auth.login("vera@example.org")
    assert client.get("/uebersicht").headers["Location"].endswith("/profil")
    response = post_form(client, "/profil", PROFILE_FORM)
    assert response.status_code == 302, response.get_data(as_text=True)
    profile = db.session.scalar(
        select(VolunteerProfile).where(VolunteerProfile.user_id == volunteer.id)
    )
    assert profile.status == ProfileStatus.PENDING
    assert profile.level_by_phase["start"] == 3 and profile.districts == {"ost", "mitte"}
    page = client.get("/uebersicht").get_data(as_text=True)
    assert "Wartet auf Freigabe" in page and "Mitstreiter:innen gesucht" not in page
    auth.logout()

    auth.login("koo@example.org")
    waiting = client.get("/koordination/profile").get_data(as_text=True)
    assert "Erika Muster" in waiting
    response = post_form(
        client,
        f"/koordination/profile/{profile.id}/freigeben",
        {},
        token_from=f"/koordination/profile/{profile.id}",
        follow_redirects=True,
    )
    assert "ist freigegeben" in response.get_data(as_text=True), response.get_data(as_text=True)[
        -3000:
    ]
    db.session.refresh(profile)
    assert profile.status == ProfileStatus.APPROVED
    assert profile.reviewed_by_id == coordinator.id
    assert mailbox[-1].to == "vera@example.org" and "freigegeben" in mailbox[-1].subject
    auth.logout()

    auth.login("vera@example.org")
    page = client.get("/uebersicht").get_data(as_text=True)
    assert "Mitstreiter:innen gesucht" in page
    assert "Streit im Team" not in page  # no knowledge of that phase
    assert "<dt>Laufende Beratungen</dt>\n    <dd>0</dd>" in page
    assert "<dd>2 Beratungen</dd>" in page


def test_capacity_change_keeps_approval_but_new_expertise_asks_again(
    client, db, auth, make_volunteer
):
    profile = make_volunteer("vera@example.org", status=ProfileStatus.APPROVED)
    auth.login("vera@example.org")
    form = {**PROFILE_FORM, "districts": ["ost"], "bio": ""}  # what the factory made
    post_form(client, "/profil", {**form, "capacity": "3", "phone": "0711 999"})
    db.session.refresh(profile)
    assert profile.status == ProfileStatus.APPROVED and profile.capacity == 3
    post_form(client, "/profil", {**form, "districts": ["ost", "west"]})
    db.session.refresh(profile)
    assert profile.status == ProfileStatus.PENDING and profile.districts == {"ost", "west"}


def test_initiative_posts_publishes_withdraws_a_need(client, db, auth, make_user):
    make_user("ines@example.org", roles=(Role.INITIATIVE,))
    auth.login("ines@example.org")
    assert client.get("/meine-anfragen").headers["Location"].endswith("/initiative")
    response = post_form(
        client,
        "/initiative",
        {
            "name": "Repair-Café Ost",
            "district": "ost",
            "sub_district": "Gablenberg",
            "description": "",
            "website": "",
        },
    )
    assert response.status_code == 302
    response = post_form(client, "/meine-anfragen/neu", {**NEED_FORM, "action": "draft"})
    assert response.status_code == 302
    need = db.session.scalar(select(Need))
    assert need.status == NeedStatus.DRAFT
    assert client.get(f"/anfragen/{need.id}").status_code == 200  # the owner sees the draft
    assert "Wie finden wir" not in client.get("/anfragen").get_data(as_text=True)

    response = post_form(
        client, f"/anfragen/{need.id}/veroeffentlichen", {}, token_from=f"/anfragen/{need.id}"
    )
    assert response.status_code == 302
    db.session.refresh(need)
    assert need.status == NeedStatus.OPEN and need.published_at is not None
    assert "Wie finden wir" in client.get("/anfragen").get_data(as_text=True)

    # Withdrawing needs a reason.
    response = post_form(client, f"/anfragen/{need.id}/zurueckziehen", {"reason": ""})
    assert "Bitte geben Sie kurz einen Grund an." in response.get_data(as_text=True)
    db.session.refresh(need)
    assert need.status == NeedStatus.OPEN
    post_form(client, f"/anfragen/{need.id}/zurueckziehen", {"reason": "Hat sich erledigt"})
    db.session.refresh(need)
    assert need.status == NeedStatus.WITHDRAWN and need.status_reason == "Hat sich erledigt"

    # An illegal step is refused with a message and changes nothing.
    # (The close page itself leads to the need's page now; an old form still says why.)
    response = post_form(
        client,
        f"/anfragen/{need.id}/abschliessen",
        {},
        token_from=f"/anfragen/{need.id}",
        follow_redirects=True,
    )
    assert "Nur offene Anfragen" in response.get_data(as_text=True)
    db.session.refresh(need)
    assert need.status == NeedStatus.WITHDRAWN
    actions = [
        a
        for (a,) in db.session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "need")
            .order_by(AuditEntry.id)
        )
    ]
    assert actions == ["need.create", "need.publish", "need.withdraw"]


def test_double_submit_creates_one_need(client, db, auth, make_initiative):
    _, member = make_initiative()
    auth.login(member.email)
    html = client.get("/meine-anfragen/neu").get_data(as_text=True)
    import re

    submission = re.search(r'name="submission" type="hidden" value="([^"]+)"', html).group(1)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    payload = {**NEED_FORM, "csrf_token": token, "submission": submission, "action": "publish"}
    first = client.post("/meine-anfragen/neu", data=payload)
    second = client.post("/meine-anfragen/neu", data=payload)
    assert first.status_code == second.status_code == 302
    assert len(db.session.scalars(select(Need)).all()) == 1
