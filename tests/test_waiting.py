"""Nobody waits in silence: clocks on the pages, reminders, highlighting, release, gap alerts.

Time is injected into the jobs; rows are dated relative to it. Every job runs twice.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support import post_form

from jobs import tasks
from matching import mail_links, reports
from matching.matches import proposals
from matching.models import (
    AuditEntry,
    Match,
    MatchOrigin,
    MatchStatus,
    NeedStatus,
    OutboxMessage,
    Role,
    utcnow,
)


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def outbox(db, kind: str) -> list[OutboxMessage]:
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    ).all()


@pytest.fixture()
def pair(db, make_initiative, make_need, make_volunteer):
    """``pair(status, days_ago, origin=...)`` → a match of a fresh need and volunteer."""
    counter = {"n": 0}

    def factory(status=MatchStatus.PROPOSED, days_ago: float = 0, origin=MatchOrigin.OFFER):
        counter["n"] += 1
        n = counter["n"]
        initiative, _member = make_initiative(f"Initiative {n}")
        need = make_need(initiative, title=f"Anfrage {n}")
        profile = make_volunteer(f"vera{n}@example.org", first_name=f"Vera{n}")
        when = utcnow() - timedelta(days=days_ago)
        match = Match(
            need_id=need.id,
            volunteer_id=profile.id,
            status=status,
            origin=origin,
            created_at=when,
            decided_at=when if status != MatchStatus.PROPOSED else None,
        )
        db.session.add(match)
        db.session.commit()
        return match

    return factory


@pytest.fixture()
def coordinators(make_user):
    return [
        make_user("koo1@example.org", roles=(Role.COORDINATOR,), first_name="Kim"),
        make_user("koo2@example.org", roles=(Role.ADMIN,), first_name="Kai"),
    ]


# --- coordinators: reminded after 3 days, highlighted after 7 ---------------------------------


def test_undecided_proposals_remind_each_coordinator_once(db, pair, coordinators):
    now = utcnow()
    due, also_due = pair(days_ago=4), pair(days_ago=3.5, origin=MatchOrigin.ENGINE)
    fresh = pair(days_ago=2)
    decided = pair(MatchStatus.APPROVED, days_ago=10)

    assert tasks.remind_coordinators(db.session, now) == {"proposals": 2, "mails": 2}
    assert tasks.remind_coordinators(db.session, now + timedelta(hours=2)) == {
        "proposals": 0,
        "mails": 0,
    }

    mails = outbox(db, "proposals_waiting")
    assert sorted(m.recipient for m in mails) == ["koo1@example.org", "koo2@example.org"]
    body = mails[0].text_body
    assert "diese 2 Vorschläge warten seit mehr als 3 Tagen" in body
    assert "„Anfrage 1“" in body and "„Anfrage 2“" in body and "Anfrage 3" not in body
    assert "http://localhost/koordination/vorschlaege" in body
    assert due.coordinators_reminded_at == also_due.coordinators_reminded_at == now
    assert fresh.coordinators_reminded_at is None and decided.coordinators_reminded_at is None
    assert count(db, AuditEntry, AuditEntry.action == "match.remind_coordinators") == 2
    # A day later the next one is due, alone: one more mail each, about it only.
    assert tasks.remind_coordinators(db.session, now + timedelta(days=1, hours=1))["mails"] == 2
    assert "„Anfrage 3“" in outbox(db, "proposals_waiting")[-1].text_body


def test_a_reminder_is_not_mailed_twice_even_if_runs_overlap(db, pair, coordinators):
    match = pair(days_ago=5)
    tasks.remind_coordinators(db.session, utcnow())
    match.coordinators_reminded_at = None  # as if a second run had selected it already
    db.session.commit()
    assert tasks.remind_coordinators(db.session, utcnow())["mails"] == 0
    assert len(outbox(db, "proposals_waiting")) == 2


def test_proposals_older_than_a_week_are_highlighted(client, db, auth, pair, coordinators):
    old, recent = pair(days_ago=8), pair(days_ago=1)
    board = reports.dashboard(db.session, utcnow())
    assert [p.id for p in board.overdue_proposals] == [old.id]
    assert board.overdue_proposals[0].days_waiting == 8

    auth.login("koo1@example.org")
    dashboard = client.get("/koordination/").get_data(as_text=True)
    assert "Vorschläge, die seit mehr als 7 Tagen auf Entscheidung warten" in dashboard
    assert "Anfrage 1" in dashboard
    queue = client.get("/koordination/vorschlaege").get_data(as_text=True)
    assert queue.count("Wartet lange") == 1
    assert "Wartet seit 8 Tagen auf eine Entscheidung der Koordination." in queue
    assert recent.id  # listed, not highlighted


def test_the_coordinator_digest_lists_overdue_proposals_first(db, pair, coordinators):
    from matching.digests import queue_digests

    pair(days_ago=9)
    queue_digests(db.session, utcnow(), kinds=["coordinator"])
    [mail, _other] = outbox(db, "digest_coordinator")
    assert "1 Vorschlag wartet seit mehr als 7 Tagen – bitte zuerst entscheiden:" in mail.text_body
    assert "„Anfrage 1“, Vera1 Muster, seit 9 Tagen" in mail.text_body
    assert "bitte zuerst entscheiden" in mail.html_body


# --- volunteers: reminded after 7 days, released after 14 -------------------------------------


def test_release_cancels_unanswered_matches_once_and_tells_the_volunteer_kindly(db, pair):
    now = utcnow()
    due = pair(MatchStatus.APPROVED, days_ago=15)
    waiting = pair(MatchStatus.APPROVED, days_ago=13)
    answered = pair(MatchStatus.ACCEPTED, days_ago=20)

    assert tasks.release_unanswered(db.session, now) == {"released": 1, "skipped": 0}
    assert tasks.release_unanswered(db.session, now) == {"released": 0, "skipped": 0}

    assert (due.status, due.released_at) == (MatchStatus.CANCELLED, now)
    assert due.reason == "Keine Antwort innerhalb von 14 Tagen."
    assert due.need.status == NeedStatus.OPEN  # back to matching
    assert waiting.status == MatchStatus.APPROVED and answered.status == MatchStatus.ACCEPTED
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "match.release"))
    assert (entry.actor_id, entry.from_state, entry.to_state) == (None, "approved", "cancelled")
    [mail] = outbox(db, "match_released")
    assert mail.idempotency_key == f"release:{due.id}"
    assert mail.recipient == due.volunteer.user.email
    assert mail.subject == "„Anfrage 1“: Wir fragen jemand anderen"
    assert "das ist nicht schlimm" in mail.text_body and "Pause" in mail.text_body
    # The engine does not offer the same person that need again.
    [record] = proposals.load_volunteers(db.session, [due.volunteer])
    assert due.need_id in record.excluded_needs


def test_the_release_mail_does_not_suggest_a_pause_already_set(db, pair):
    now = utcnow()
    due = pair(MatchStatus.APPROVED, days_ago=15)
    due.volunteer.paused_until = now.date() + timedelta(days=30)
    db.session.commit()
    assert tasks.release_unanswered(db.session, now)["released"] == 1
    [mail] = outbox(db, "match_released")
    assert "das ist nicht schlimm" in mail.text_body and "Pause" not in mail.text_body


def test_the_reminder_at_a_week_names_the_release_day_and_skips_matches_due_for_release(db, pair):
    now = utcnow()
    week = pair(MatchStatus.APPROVED, days_ago=8)
    overdue = pair(MatchStatus.APPROVED, days_ago=15)
    assert tasks.remind_unanswered(db.session, now) == {"reminded": 1}
    [mail] = outbox(db, "match_reminder")
    assert mail.idempotency_key == f"remind:{week.id}"
    assert "Wenn wir bis zum" in mail.text_body and "fragen wir jemand anderen" in mail.text_body
    assert overdue.reminded_at is None


def test_a_released_match_cannot_be_accepted_afterwards(client, db, auth, pair):
    match = pair(MatchStatus.APPROVED, days_ago=15)
    volunteer = match.volunteer.user
    link = mail_links.accept_url(volunteer.id, match.id)
    tasks.release_unanswered(db.session, utcnow())

    page = client.get(link)
    assert page.status_code == 409
    text = page.get_data(as_text=True)
    assert "Zusagen ist nicht mehr möglich" in text
    assert "14 Tage keine Antwort" in text

    auth.login(volunteer.email)
    detail = client.get(f"/vermittlungen/{match.id}").get_data(as_text=True)
    assert "Zusagen ist nicht mehr möglich" in detail
    assert "Ja, ich übernehme die Beratung" not in detail
    answer = post_form(
        client, f"/vermittlungen/{match.id}/zusagen", {}, token_from=f"/vermittlungen/{match.id}"
    )
    assert answer.status_code == 302
    db.session.refresh(match)
    assert match.status == MatchStatus.CANCELLED
    flashed = client.get(f"/vermittlungen/{match.id}").get_data(as_text=True)
    assert "Zusagen ist nicht mehr möglich." in flashed


# --- needs nobody can take ---------------------------------------------------------------------


def test_a_need_without_candidates_for_two_weeks_is_reported_once_with_its_box(
    db, make_initiative, make_need, make_volunteer, coordinators
):
    now = utcnow()
    initiative, _member = make_initiative("Garten Wangen", district="wangen")
    old = make_need(
        initiative,
        phases=("conflicts",),
        title="Streit im Garten",
        published_at=now - timedelta(days=15),
    )
    young = make_need(initiative, phases=("conflicts",), title="Neu", published_at=now)
    covered = make_need(
        initiative, phases=("start",), title="Gedeckt", published_at=now - timedelta(days=20)
    )
    make_volunteer("vera@example.org", districts=("wangen",), levels={"start": 2})

    summary = tasks.alert_uncovered_needs(db.session, now)
    assert summary == {"needs_open": 3, "alerted": 1, "mails": 2, "cleared": 0}
    assert tasks.alert_uncovered_needs(db.session, now + timedelta(hours=1))["mails"] == 0

    [mail, _second] = outbox(db, "needs_uncovered")
    assert "„Streit im Garten“ (Garten Wangen, Wangen)" in mail.text_body
    # Each of its boxes of the coverage picture, as the README promises.
    assert "Abdeckung Wangen · Stolpersteine / Konflikte:" in mail.text_body
    assert "http://localhost/koordination/abdeckung/wangen/conflicts" in mail.text_body
    # The same words as the need's page, never "2 offene Anfragen, 5 verfügbare Expert:innen".
    assert (
        "Zurzeit berät niemand mit Kenntnissen in Stolpersteine / Konflikte in Wangen "
        "oder den Nachbarbezirken" in mail.text_body
    )
    assert "verfügbare Expert:innen" not in mail.text_body
    assert "http://localhost/koordination/abdeckung" in mail.text_body
    assert old.uncovered_alerted_at == now
    assert young.no_candidate_since == young.published_at and young.uncovered_alerted_at is None
    assert covered.no_candidate_since is None
    # Two weeks on, the young one is due as well; the old one is not told again.
    later = tasks.alert_uncovered_needs(db.session, now + timedelta(days=14, hours=1))
    assert later["alerted"] == 1 and "„Neu“" in outbox(db, "needs_uncovered")[-1].text_body


def test_a_candidate_ends_the_gap_and_a_new_gap_is_reported_again(
    db, make_initiative, make_need, make_volunteer, coordinators
):
    now = utcnow()
    initiative, _member = make_initiative()
    need = make_need(initiative, phases=("exchange",), published_at=now - timedelta(days=20))
    tasks.alert_uncovered_needs(db.session, now)
    assert need.uncovered_alerted_at == now

    helper = make_volunteer("hanna@example.org", levels={"exchange": 3})
    assert tasks.alert_uncovered_needs(db.session, now + timedelta(days=1))["cleared"] == 1
    assert need.no_candidate_since is None and need.uncovered_alerted_at is None

    # The coordinators propose her, then reject the proposal: nobody fits again.
    proposal = Match(need_id=need.id, volunteer_id=helper.id, status=MatchStatus.REJECTED)
    db.session.add(proposal)
    db.session.commit()
    second = now + timedelta(days=2)
    tasks.alert_uncovered_needs(db.session, second)
    assert need.no_candidate_since == second  # it had a candidate before: counts from now
    assert tasks.alert_uncovered_needs(db.session, second + timedelta(days=13))["alerted"] == 0
    assert tasks.alert_uncovered_needs(db.session, second + timedelta(days=15))["alerted"] == 1
    assert len(outbox(db, "needs_uncovered")) == 4


# --- the clocks the waiting people see ---------------------------------------------------------


def test_the_volunteer_sees_where_an_offer_waits_and_until_when_to_answer(client, db, auth, pair):
    offer = pair(days_ago=1)
    auth.login(offer.volunteer.user.email)
    page = client.get("/uebersicht").get_data(as_text=True)
    assert (
        "Ihr Angebot liegt seit 1 Tag bei der Koordination, "
        "Antwort in der Regel innerhalb von 3 Tagen." in page
    )
    offer.status, offer.decided_at = MatchStatus.APPROVED, utcnow() - timedelta(days=2)
    db.session.commit()
    detail = client.get(f"/vermittlungen/{offer.id}").get_data(as_text=True)
    assert "Die Initiative wartet seit 2 Tagen auf Ihre Antwort." in detail
    assert "Bitte sagen Sie bis zum" in detail and "Danach fragen wir jemand anderen." in detail


def test_the_initiative_sees_what_its_open_needs_wait_for(client, db, auth, pair, make_need):
    proposal = pair(days_ago=0)
    initiative = proposal.need.initiative
    searching = make_need(
        initiative, title="Noch niemand", published_at=utcnow() - timedelta(days=5)
    )
    member = initiative.member_rows[0].user
    auth.login(member.email)
    page = client.get("/meine-anfragen").get_data(as_text=True)
    assert "Ein Vorschlag für Ihre Anfrage liegt seit heute bei der Koordination" in page
    assert "Ihre Anfrage ist seit 5 Tagen offen. Wir suchen eine passende Expert:in." in page
    detail = client.get(f"/anfragen/{searching.id}").get_data(as_text=True)
    assert "Ihre Anfrage ist seit 5 Tagen offen." in detail
    proposal.status, proposal.decided_at = MatchStatus.APPROVED, utcnow()
    db.session.commit()
    detail = client.get(f"/anfragen/{proposal.need_id}").get_data(as_text=True)
    assert "Eine Expert:in wurde seit heute gefragt." in detail
