""" "Diesmal nicht": from the need page and from the digest, GET-safe, never offered again;
"passt fachlich nicht" lowers the need's phases for this volunteer, explained in the profile."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from support import post_form

from matching import mail_links
from matching.errors import TransitionError
from matching.matches import passes, proposals
from matching.models import AuditEntry, Match, MatchStatus, NeedPass, NeedStatus, utcnow


@pytest.fixture()
def setting(make_initiative, make_need, make_volunteer):
    initiative, _member = make_initiative()
    need = make_need(initiative, phases=("start", "cooperation"), title="Mitstreiter:innen finden")
    profile = make_volunteer("vera@example.org")
    return need, profile


def passes_of(db, profile) -> list[NeedPass]:
    return db.session.scalars(select(NeedPass).where(NeedPass.volunteer_id == profile.id)).all()


def test_diesmal_nicht_on_the_need_page_asks_then_records_with_a_reason(client, db, auth, setting):
    need, profile = setting
    auth.login("vera@example.org")
    page = client.get(f"/anfragen/{need.id}").get_data(as_text=True)
    assert f'href="/anfragen/{need.id}/diesmal-nicht"' in page

    ask = client.get(f"/anfragen/{need.id}/diesmal-nicht")
    assert ask.status_code == 200 and "Passt fachlich nicht" in ask.get_data(as_text=True)
    assert passes_of(db, profile) == []  # a GET changes nothing

    done = post_form(client, f"/anfragen/{need.id}/diesmal-nicht", {"reason": "not_my_field"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/uebersicht")
    [entry] = passes_of(db, profile)
    assert (entry.reason, entry.phases) == ("not_my_field", ["start", "cooperation"])
    [audit] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "need.pass"))
    assert audit.detail == {"volunteer": profile.id, "pass_reason": "not_my_field"}
    overview = client.get("/uebersicht").get_data(as_text=True)
    assert "Wir zeigen Ihnen „Mitstreiter:innen finden“ nicht mehr." in overview
    assert f'href="/anfragen/{need.id}"' not in overview  # no longer among the fitting needs
    again = client.get(f"/anfragen/{need.id}").get_data(as_text=True)
    assert "Sie haben zu dieser Anfrage „Diesmal nicht“ gesagt." in again


def test_the_engine_never_offers_a_passed_need_and_no_reason_lowers_nothing(db, setting):
    need, profile = setting
    user = profile.user
    before = proposals.score_pair(db.session, need, profile, utcnow())
    passes.pass_need(db.session, user, need, profile, "", now=utcnow())
    [record] = proposals.load_volunteers(db.session, [profile])
    assert need.id in record.excluded_needs and record.phase_factors == {}
    assert proposals.score_pair(db.session, need, profile, utcnow()) is None
    assert before is not None


def test_passt_fachlich_nicht_lowers_the_phases_down_to_the_floor_and_can_be_reset(
    client, db, auth, setting, make_initiative, make_need
):
    need, profile = setting
    initiative = need.initiative
    others = [make_need(initiative, phases=("start",), title=f"Start {i}") for i in range(4)]
    now = utcnow()
    for target in [need, *others]:
        passes.pass_need(db.session, profile.user, target, profile, "not_my_field", now=now)
    db.session.commit()
    [record] = proposals.load_volunteers(db.session, [profile])
    assert record.phase_factors == {"start": 0.4, "cooperation": 0.75}  # 0.75**5 < floor 0.4

    later = make_need(initiative, phases=("start",), title="Später")
    lowered = proposals.score_pair(db.session, later, profile, now)
    assert "passt fachlich nicht" in lowered.part("phase").text("de")

    auth.login("vera@example.org")
    page = client.get("/profil").get_data(as_text=True)
    assert "Themen, die für Sie weniger zählen" in page
    assert "5-mal „passt fachlich nicht“, zählt noch zu 40 %" in page
    assert "1-mal „passt fachlich nicht“, zählt noch zu 75 %" in page

    post_form(client, "/profil/themen-zuruecksetzen", {}, token_from="/profil")
    [record] = proposals.load_volunteers(db.session, [profile])
    assert record.phase_factors == {}
    assert "Themen, die für Sie weniger zählen" not in client.get("/profil").get_data(as_text=True)
    reset = proposals.score_pair(db.session, later, profile, utcnow())
    assert reset.value > lowered.value


def test_the_digest_link_is_get_safe_and_answers_twice_the_same(client, db, setting):
    need, profile = setting
    link = mail_links.pass_url(profile.user_id, need.id)
    path = link.removeprefix("http://localhost")

    ask = client.get(path)
    assert ask.status_code == 200 and "Diesmal nicht" in ask.get_data(as_text=True)
    assert passes_of(db, profile) == []

    done = post_form(client, path, {"reason": "too_far"})
    assert done.status_code == 200
    assert "Wir zeigen Ihnen „Mitstreiter:innen finden“ nicht mehr." in done.get_data(as_text=True)
    assert [p.reason for p in passes_of(db, profile)] == ["too_far"]
    again = client.get(path)
    assert again.status_code == 200 and "Danke für Ihre Antwort!" in again.get_data(as_text=True)
    assert len(passes_of(db, profile)) == 1


def test_a_damaged_link_an_unknown_reason_and_a_closed_need_are_refused(client, db, setting):
    need, profile = setting
    path = mail_links.pass_url(profile.user_id, need.id).removeprefix("http://localhost")
    assert client.get(path[:-3] + "xyz").status_code == 400
    bad = post_form(client, path, {"reason": "mag nicht"})
    assert bad.status_code == 200 and "Bitte wählen Sie einen Grund" in bad.get_data(as_text=True)
    need.status = NeedStatus.CLOSED
    db.session.commit()
    closed = client.get(path)
    assert closed.status_code == 409 and "nicht mehr offen" in closed.get_data(as_text=True)
    assert passes_of(db, profile) == []


def test_a_need_with_a_live_match_is_declined_on_the_match_page_instead(db, setting):
    need, profile = setting
    db.session.add(Match(need_id=need.id, volunteer_id=profile.id, status=MatchStatus.APPROVED))
    db.session.commit()
    with pytest.raises(TransitionError, match="Seite der Vermittlung"):
        passes.pass_need(db.session, profile.user, need, profile, "", now=utcnow())
    assert db.session.scalar(select(func.count()).select_from(NeedPass)) == 0


def test_only_volunteers_pass_and_only_for_themselves(client, db, auth, setting, make_user):
    need, _profile = setting
    assert client.get(f"/anfragen/{need.id}/diesmal-nicht").status_code == 302  # log in first
    make_user("ines@example.org", roles=("initiative",))
    auth.login("ines@example.org")
    assert client.get(f"/anfragen/{need.id}/diesmal-nicht").status_code == 403


def test_a_draft_looks_missing_to_diesmal_nicht_whether_asked_or_sent(
    client, db, auth, setting, make_need
):
    need, _profile = setting
    draft = make_need(need.initiative, status=NeedStatus.DRAFT, title="Noch nicht fertig")
    auth.login("vera@example.org")
    for path in (f"/anfragen/{draft.id}/diesmal-nicht", "/anfragen/999999/diesmal-nicht"):
        assert client.get(path).status_code == 404
        sent = post_form(client, path, {"reason": ""}, token_from="/uebersicht")
        assert sent.status_code == 404
        assert "noch nicht veröffentlicht" not in sent.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(NeedPass)) == 0
