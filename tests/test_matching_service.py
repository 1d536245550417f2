"""The engine in the product: proposals written through the transition function, ranked pages."""

import json

from sqlalchemy import func, select

from matching.matches.proposals import propose_matches
from matching.models import AuditEntry, Match, MatchOrigin, MatchStatus, ProfileStatus, Role, utcnow


def _count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_propose_writes_proposals_once(db, make_volunteer, make_initiative, make_need):
    vera = make_volunteer("vera@example.org", districts=("ost",))
    make_volunteer("paul@example.org", status=ProfileStatus.PENDING)
    initiative, _ = make_initiative(district="ost")
    need = make_need(initiative, phases=("start",))
    make_need(initiative, phases=("conflicts",), title="Streit")  # nobody knows conflicts

    run = propose_matches(db.session, None, utcnow())
    db.session.commit()
    assert run.proposed == 1 and run.needs_covered == 1
    match = db.session.scalar(select(Match))
    assert (match.need_id, match.volunteer_id) == (need.id, vera.id)
    assert match.status == MatchStatus.PROPOSED and match.origin == MatchOrigin.ENGINE
    assert 0 < match.score <= 1
    assert any("Start / Akquise" in part["de"] for part in match.explanation)
    assert _count(db, AuditEntry, AuditEntry.action == "match.propose") == 1
    assert len(run.needs_without_candidate) == 1

    again = propose_matches(db.session, None, utcnow())
    db.session.commit()
    assert again.proposed == 0
    assert _count(db, Match) == 1


def test_rejected_pair_is_never_proposed_again(db, make_volunteer, make_initiative, make_need):
    make_volunteer("vera@example.org")
    initiative, _ = make_initiative()
    make_need(initiative)
    propose_matches(db.session, None, utcnow())
    match = db.session.scalar(select(Match))
    match.status = MatchStatus.REJECTED
    db.session.commit()
    assert propose_matches(db.session, None, utcnow()).proposed == 0


def test_dry_run_writes_nothing(db, make_volunteer, make_initiative, make_need):
    make_volunteer()
    initiative, _ = make_initiative()
    make_need(initiative)
    run = propose_matches(db.session, None, utcnow(), dry_run=True)
    db.session.rollback()
    assert run.proposed == 1
    assert _count(db, Match) == 0


def test_cli_match_propose_json_and_bad_option(app, db, make_volunteer, make_initiative, make_need):
    make_volunteer()
    initiative, _ = make_initiative()
    make_need(initiative)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["match", "propose", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["dry_run"] is True and summary["experts_proposed"] == 1
    assert set(summary) >= {"needs_covered", "mean_score", "needs_without_candidate"}
    result = runner.invoke(args=["match", "propose", "--sofort"])
    assert result.exit_code == 2 and "No such option" in result.output


def test_overview_ranks_needs_with_explanation(
    client, auth, make_volunteer, make_initiative, make_need
):
    make_volunteer("vera@example.org", districts=("ost",), levels={"start": 3, "planning": 1})
    initiative, _ = make_initiative(district="ost")
    make_need(initiative, phases=("planning",), title="Plan fürs Jahr")
    make_need(initiative, phases=("start",), title="Leute finden")
    auth.login("vera@example.org")
    page = client.get("/uebersicht").get_data(as_text=True)
    assert page.index("Leute finden") < page.index("Plan fürs Jahr")
    assert "Warum passt das? Es passt sehr gut" in page
    # Meine Übersicht speaks to the volunteer.
    assert "Sie haben viel Erfahrung in Start / Akquise" in page
    assert "Die Initiative ist in Ihrem Stadtbezirk Ost" in page


def test_coordinator_sees_top_candidates_on_need_page(
    client, auth, make_user, make_volunteer, make_initiative, make_need
):
    make_volunteer("vera@example.org", first_name="Vera")
    make_user("koo@example.org", roles=(Role.COORDINATOR,))
    initiative, member = make_initiative()
    need = make_need(initiative)
    auth.login("koo@example.org")
    page = client.get(f"/anfragen/{need.id}").get_data(as_text=True)
    assert "Passende Expert:innen" in page and "Vera Muster" in page
    auth.logout()
    auth.login(member.email)
    page = client.get(f"/anfragen/{need.id}").get_data(as_text=True)
    assert "Passende Expert:innen" not in page and "Vera" not in page


def test_records_from_rows_equal_records_from_profiles(
    db, make_volunteer, make_initiative, make_need, make_user
):
    """The row-built records the busy pages use say exactly what the ORM-built ones say."""
    from matching.matches.proposals import (
        approved_volunteers,
        load_volunteers,
        open_need_records,
        to_engine_need,
    )
    from matching.models import Need, VolunteerProfile

    vera = make_volunteer(
        "vera@example.org", levels={"start": 3, "conflicts": 1}, districts=("ost", "mitte")
    )
    make_volunteer("paul@example.org", whole_city=True, languages=("de", "tr"), capacity=3)
    make_volunteer("pia@example.org", status=ProfileStatus.PENDING)
    initiative, _ = make_initiative(district="ost", member=vera.user)  # vera acts for one, too
    need = make_need(initiative, phases=("start", "planning"))
    make_need(initiative, phases=("conflicts",), title="Streit")
    make_need(initiative, status="closed", title="Erledigt")
    db.session.add(
        Match(need_id=need.id, volunteer_id=vera.id, origin=MatchOrigin.OFFER, status="proposed")
    )
    db.session.commit()

    profiles = db.session.scalars(
        select(VolunteerProfile)
        .where(VolunteerProfile.status == ProfileStatus.APPROVED)
        .order_by(VolunteerProfile.id)
    ).all()
    assert approved_volunteers(db.session) == load_volunteers(db.session, profiles)
    assert len(profiles) == 2
    needs = db.session.scalars(select(Need).where(Need.status == "open").order_by(Need.id)).all()
    assert open_need_records(db.session) == [to_engine_need(n) for n in needs]


def test_a_readers_sentence_equal_to_the_coordinators_is_stored_once_and_read_alike():
    """A city-scale run writes 24,000 explanations: the initiative's sentence, where it is the
    coordinator's word for word, is left out of "for" and read from the coordinator's.
    Rows without "for" at all (written before reasons per reader) still give the volunteer
    and the initiative nothing."""
    from matching.engine.scoring import Part, Score
    from matching.matches.proposals import explanation_record
    from matching.matches.reasons import reasons

    same = ("Bietet jede gewünschte Art der Beratung an: Vor Ort", "Offers all formats: In person")
    part = Part(
        "format",
        1.0,
        0.1,
        0.1,
        *same,
        readers={
            "volunteer": ("Sie bieten jede gewünschte Art …", "You offer all …"),
            "initiative": same,
        },
    )
    [stored] = explanation_record(Score(0.5, (part,)))
    assert set(stored["for"]) == {"volunteer"}
    assert reasons([stored], "initiative", "de") == [same[0]]
    assert reasons([stored], "initiative", "en") == [same[1]]
    assert reasons([stored], "volunteer", "de") == ["Sie bieten jede gewünschte Art …"]
    assert reasons([stored], "coordinator", "en") == [same[1]]
    old = {key: value for key, value in stored.items() if key != "for"}
    assert reasons([old], "initiative", "de") == [] and reasons([old], "volunteer", "de") == []
