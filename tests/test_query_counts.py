"""Pages that list things issue the same number of queries for 3 rows as for 60."""

from __future__ import annotations

import re

from matching.auth.passwords import hash_password
from matching.extensions import db as _db
from matching.models import (
    Initiative,
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
from matching.reference import DISTRICT_CODES, PHASE_CODES


def _bulk_needs(n: int, offset: int = 0) -> None:
    """``n`` open needs, each of its own initiative, so a lazy load per row would show."""
    now = utcnow()
    for i in range(offset, offset + n):
        district = DISTRICT_CODES[i % len(DISTRICT_CODES)]
        initiative = Initiative(name=f"Initiative {i}", district=district)
        need = Need(
            initiative=initiative,
            title=f"Anfrage {i}",
            description="Beschreibung",
            district=district,
            status=NeedStatus.OPEN,
            published_at=now,
        )
        need.phase_rows = [
            NeedPhase(phase=p) for p in {PHASE_CODES[i % len(PHASE_CODES)], "exchange"}
        ]
        _db.session.add(need)
    _db.session.commit()


def _bulk_waiting_profiles(n: int, offset: int = 0) -> None:
    """``n`` profiles waiting for approval, each of its own person."""
    password_hash = hash_password("nicht benutzt")  # once: hashing is the slow part
    now = utcnow()
    for i in range(offset, offset + n):
        user = User(
            email=f"wartet{i}@example.org",
            password_hash=password_hash,
            first_name=f"Person{i}",
            confirmed_at=now,
        )
        user.add_role(Role.VOLUNTEER)
        profile = VolunteerProfile(user=user, status=ProfileStatus.PENDING, submitted_at=now)
        profile.levels = [VolunteerPhaseLevel(phase=p, level=i % 4) for p in PHASE_CODES]
        profile.district_rows = [VolunteerDistrict(district=DISTRICT_CODES[i % 23])]
        profile.language_rows = [VolunteerLanguage(language="de")]
        _db.session.add(profile)
    _db.session.commit()


def _queries_for(client, count_queries, path: str, expected_text: str) -> list[str]:
    with count_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200
    assert expected_text in response.get_data(as_text=True)
    return list(statements)


def test_public_list_of_open_needs(client, db, count_queries):
    _bulk_needs(3)
    few = _queries_for(client, count_queries, "/anfragen", "3 offene Anfragen")
    _bulk_needs(57, offset=3)
    many = _queries_for(client, count_queries, "/anfragen", "60 offene Anfragen")
    assert len(many) == len(few), "\n\n".join(many)
    # A filtered later page as well.
    filtered = _queries_for(client, count_queries, "/anfragen?thema=exchange&seite=2", "Seite 2")
    assert len(filtered) == len(few), "\n\n".join(filtered)


def test_coordinators_waiting_list(client, db, auth, make_user, count_queries):
    make_user("koo@example.org", roles=(Role.COORDINATOR,))
    auth.login("koo@example.org")
    _bulk_waiting_profiles(3)
    few = _queries_for(client, count_queries, "/koordination/profile", "3 Profile warten")
    _bulk_waiting_profiles(57, offset=3)
    many = _queries_for(client, count_queries, "/koordination/profile", "60 Profile warten")
    assert len(many) == len(few), "\n\n".join(many)


def test_my_needs_list(client, db, auth, make_initiative, count_queries):
    initiative, member = make_initiative()
    auth.login(member.email)

    def add(n: int) -> None:
        for i in range(n):
            need = Need(initiative=initiative, title=f"Anfrage {i}", district="ost")
            need.phase_rows = [NeedPhase(phase="start")]
            _db.session.add(need)
        _db.session.commit()

    add(3)
    few = _queries_for(client, count_queries, "/meine-anfragen", "Anfrage 2")
    add(57)
    many = _queries_for(client, count_queries, "/meine-anfragen", "Anfrage 56")
    assert len(many) == len(few), "\n\n".join(many)


def test_the_counter_sees_the_requests_queries(client, db, count_queries):
    """Guards the fixture itself: a page that reads the database is counted."""
    with count_queries() as statements:
        client.get("/anfragen")
    assert any("FROM needs" in s for s in statements)


def _bulk_proposals(n: int, offset: int = 0) -> None:
    """``n`` waiting proposals, each with a need and a volunteer of its own."""
    from matching.models import InitiativeMember, Match, MatchOrigin, MatchStatus

    password_hash = hash_password("nicht benutzt")
    now = utcnow()
    for i in range(offset, offset + n):
        district = DISTRICT_CODES[i % len(DISTRICT_CODES)]
        member = User(
            email=f"ini{i}@example.org",
            password_hash=password_hash,
            first_name=f"Ini{i}",
            confirmed_at=now,
        )
        member.add_role(Role.INITIATIVE)
        initiative = Initiative(name=f"Initiative {i}", district=district)
        initiative.member_rows.append(InitiativeMember(user=member))
        need = Need(
            initiative=initiative,
            title=f"Anfrage {i}",
            district=district,
            status=NeedStatus.OPEN,
            published_at=now,
        )
        need.phase_rows = [NeedPhase(phase="start")]
        user = User(
            email=f"exp{i}@example.org",
            password_hash=password_hash,
            first_name=f"Exp{i}",
            confirmed_at=now,
        )
        user.add_role(Role.VOLUNTEER)
        profile = VolunteerProfile(user=user, status=ProfileStatus.APPROVED, submitted_at=now)
        profile.levels = [VolunteerPhaseLevel(phase="start", level=2)]
        profile.district_rows = [VolunteerDistrict(district=district)]
        profile.language_rows = [VolunteerLanguage(language="de")]
        _db.session.add_all([need, profile])
        _db.session.flush()
        _db.session.add(
            Match(
                need_id=need.id,
                volunteer_id=profile.id,
                status=MatchStatus.PROPOSED,
                origin=MatchOrigin.OFFER,
                created_at=now,
            )
        )
    _db.session.commit()


def test_coordinators_proposal_queue(app, client, db, auth, make_user, count_queries):
    make_user("koo@example.org", roles=(Role.COORDINATOR,))
    auth.login("koo@example.org")
    _bulk_proposals(3)
    few = _queries_for(client, count_queries, "/koordination/vorschlaege", "3 Vorschläge warten")
    _bulk_proposals(197, offset=3)
    many = _queries_for(client, count_queries, "/koordination/vorschlaege", "200 Vorschläge warten")
    assert len(many) == len(few), "\n".join(many)
    # A form per proposal, each with its token, and no id twice on the page.
    html = client.get("/koordination/vorschlaege").get_data(as_text=True)
    ids = re.findall(r' id="([^"]+)"', html)
    assert html.count('name="csrf_token"') > 20
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    # Nothing changed since: the volunteers' pool is not loaded again.
    kept = _queries_for(client, count_queries, "/koordination/vorschlaege?seite=10", "Seite 10")
    assert len(kept) < len(few)
    app.extensions["volunteer_pool"].clear()
    later = _queries_for(
        client, count_queries, "/koordination/vorschlaege?seite=10", "Seite 10 von 10"
    )
    assert len(later) == len(few)


def test_a_logged_in_page_reads_the_person_with_their_roles_at_once(
    client, db, auth, make_user, count_queries
):
    make_user("koo@example.org", roles=(Role.COORDINATOR, Role.VOLUNTEER))
    auth.login("koo@example.org")
    statements = _queries_for(client, count_queries, "/koordination/profile", "Profile")
    assert "user_roles" in statements[0] and "user_sessions" in statements[0], statements[0]
    assert not any(s.lstrip().startswith("SELECT user_roles") for s in statements), statements


def test_meine_uebersicht_reads_no_topics_of_the_profile(
    client, db, auth, make_volunteer, count_queries
):
    """The page shows the profile's state; the ranking takes the volunteer's topics,
    districts and languages from the kept pool, so a second visit reads none of them."""
    profile = make_volunteer()
    auth.login(profile.user.email)
    _bulk_needs(5)
    _queries_for(client, count_queries, "/uebersicht", "Meine Übersicht")
    statements = _queries_for(client, count_queries, "/uebersicht", "Meine Übersicht")
    for table in ("volunteer_phase_levels", "volunteer_districts", "volunteer_languages"):
        assert not any(table in s for s in statements), table
    assert len(statements) <= 12, "\n\n".join(statements)
