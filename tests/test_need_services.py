"""The transition functions themselves: needs' life cycle, profile saving and review."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from db_state import changed_tables, snapshot
from sqlalchemy import select

from matching import needs, profiles
from matching.errors import InvalidInput, PermissionDenied, TransitionError
from matching.models import AuditEntry, Need, NeedStatus, ProfileStatus, Role
from matching.reference import PHASE_CODES

NOW = datetime(2030, 3, 4, 9, 30, tzinfo=UTC)
S = NeedStatus

# DESIGN §4, written out here rather than read from the code: action → (from, to).
LIFE_CYCLE = {
    "publish": ({S.DRAFT}, S.OPEN),
    "withdraw": ({S.DRAFT, S.OPEN, S.MATCHED}, S.WITHDRAWN),
    "close": ({S.OPEN, S.MATCHED, S.ADVISED}, S.CLOSED),
    "expire": ({S.OPEN}, S.EXPIRED),
    "mark_matched": ({S.OPEN}, S.MATCHED),
    "reopen": ({S.MATCHED}, S.OPEN),
    # "Beraten" (issue 16): the advice of every expert is done.
    "mark_advised": ({S.MATCHED}, S.ADVISED),
}
SYSTEM_ONLY = {"expire"}


def audit_entries(db, need) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "need", AuditEntry.object_id == need.id)
            .order_by(AuditEntry.id)
        )
    )


@pytest.fixture()
def initiative_with_member(make_initiative):
    return make_initiative()


def test_the_table_knows_exactly_the_life_cycle_actions():
    assert set(needs.TRANSITIONS) == set(LIFE_CYCLE)


@pytest.mark.parametrize("source", list(S))
@pytest.mark.parametrize("action", list(LIFE_CYCLE))
def test_every_action_from_every_state(db, initiative_with_member, make_need, action, source):
    initiative, member = initiative_with_member
    need = make_need(initiative, status=source)
    actor = None if action in SYSTEM_ONLY else member
    sources, target = LIFE_CYCLE[action]
    reason = "Hat sich erledigt" if action == "withdraw" else ""
    published_before = need.published_at

    if source not in sources:
        before = snapshot(db.session)
        with pytest.raises(TransitionError) as refused:
            needs.change_status(db.session, actor, need, action, now=NOW, reason=reason)
        assert str(refused.value.message)  # a sentence for the person who tried
        db.session.flush()
        assert need.status == source
        assert changed_tables(before, snapshot(db.session)) == []
        return

    needs.change_status(db.session, actor, need, action, now=NOW, reason=reason)
    db.session.commit()
    db.session.refresh(need)
    assert need.status == target
    assert need.updated_at == NOW
    [entry] = audit_entries(db, need)
    assert (entry.action, entry.from_state, entry.to_state) == (f"need.{action}", source, target)
    assert entry.actor_id == (actor.id if actor else None)
    assert entry.at == NOW
    if target in (S.CLOSED, S.WITHDRAWN, S.EXPIRED):
        assert need.closed_at == NOW
    if target == S.OPEN:
        assert need.published_at == (published_before or NOW)
    if reason:
        assert need.status_reason == reason and entry.detail == {"reason": reason}


@pytest.mark.parametrize(
    ("action", "source"),
    [(action, min(sources)) for action, (sources, _) in LIFE_CYCLE.items()],
)
@pytest.mark.parametrize("who", ["other_initiative", "volunteer"])
def test_someone_not_acting_for_the_initiative_may_not(
    db, make_initiative, make_need, make_user, action, source, who
):
    initiative, _ = make_initiative()
    if who == "other_initiative":
        _, outsider = make_initiative("Garten West", district="west")
    else:
        outsider = make_user(roles=(Role.VOLUNTEER,))
    need = make_need(initiative, status=source)
    before = snapshot(db.session)
    with pytest.raises(PermissionDenied):
        needs.change_status(db.session, outsider, need, action, now=NOW, reason="Grund")
    db.session.flush()
    assert need.status == source
    assert changed_tables(before, snapshot(db.session)) == []


@pytest.mark.parametrize("role", [Role.INITIATIVE, Role.COORDINATOR, Role.ADMIN])
def test_only_the_system_lets_a_need_expire(db, initiative_with_member, make_need, make_user, role):
    initiative, member = initiative_with_member
    need = make_need(initiative)
    actor = member if role == Role.INITIATIVE else make_user(roles=(role,))
    before = snapshot(db.session)
    with pytest.raises(PermissionDenied):
        needs.change_status(db.session, actor, need, "expire", now=NOW)
    db.session.flush()
    assert changed_tables(before, snapshot(db.session)) == []


def test_a_coordinator_may_act_for_an_initiative(db, initiative_with_member, make_need, make_user):
    initiative, _ = initiative_with_member
    need = make_need(initiative)
    coordinator = make_user(roles=(Role.COORDINATOR,))
    needs.change_status(db.session, coordinator, need, "close", now=NOW)
    assert need.status == S.CLOSED


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_withdraw_needs_a_reason(db, initiative_with_member, make_need, reason):
    initiative, member = initiative_with_member
    need = make_need(initiative)
    before = snapshot(db.session)
    with pytest.raises(InvalidInput):
        needs.change_status(db.session, member, need, "withdraw", now=NOW, reason=reason)
    db.session.flush()
    assert need.status == S.OPEN
    assert changed_tables(before, snapshot(db.session)) == []


def test_withdraw_reason_is_stored_without_surrounding_space(db, initiative_with_member, make_need):
    initiative, member = initiative_with_member
    need = make_need(initiative)
    needs.change_status(db.session, member, need, "withdraw", now=NOW, reason="  Erledigt \n")
    assert need.status_reason == "Erledigt"


def test_an_unknown_action_is_a_programming_error(db, initiative_with_member, make_need):
    initiative, member = initiative_with_member
    need = make_need(initiative)
    with pytest.raises(ValueError, match="unknown need action"):
        needs.change_status(db.session, member, need, "delete", now=NOW)


def test_a_stale_object_is_checked_against_the_database(db, initiative_with_member, make_need):
    """The state is read again under a lock, so a step on an outdated copy is refused."""
    initiative, member = initiative_with_member
    need = make_need(initiative)
    db.session.execute(Need.__table__.update().where(Need.id == need.id).values(status=S.CLOSED))
    assert need.status == S.OPEN  # the copy in memory is outdated
    with pytest.raises(TransitionError):
        needs.change_status(db.session, member, need, "withdraw", now=NOW, reason="Grund")
    assert need.status == S.CLOSED


# --- A need's content ----------------------------------------------------------------------


NEED_INPUT = needs.NeedInput(
    title="Wie finden wir Mitstreiter:innen?",
    description="Wir sind zu dritt.",
    phases=["start"],
    district="ost",
    language="de",
    formats=["in_person"],
    urgency="normal",
    experts_wanted=1,
    expires_on=None,
)


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "  "},
        {"title": "x" * 121},
        {"description": "x" * 4001},
        {"phases": []},
        {"phases": ["xyz"]},
        {"district": "atlantis"},
        {"language": "klingonisch"},
        {"formats": []},
        {"formats": ["brieftaube"]},
        {"urgency": "sofort"},
        {"experts_wanted": 0},
        {"experts_wanted": 6},
        {"expires_on": NOW.date()},
        {"expires_on": date(9999, 12, 31)},
        {"expires_on": NOW.date() + needs.EXPIRY_HORIZON + timedelta(days=1)},
    ],
    ids=lambda changes: ",".join(changes),
)
@pytest.mark.parametrize("step", ["create", "update"])
def test_need_content_is_checked_by_the_service(
    db, initiative_with_member, make_need, changes, step
):
    """The service checks what the form checks too (the API calls it without the form)."""
    initiative, member = initiative_with_member
    need = make_need(initiative, status=S.DRAFT)
    data = replace(NEED_INPUT, **changes)
    before = snapshot(db.session)
    with pytest.raises(InvalidInput):
        if step == "create":
            needs.create_need(db.session, member, initiative, data, now=NOW, publish=True)
        else:
            needs.update_need(db.session, member, need, data, now=NOW)
    db.session.rollback()
    assert changed_tables(before, snapshot(db.session)) == []


def test_an_end_date_up_to_two_years_ahead_is_kept(db, initiative_with_member):
    initiative, member = initiative_with_member
    last_day = NOW.date() + needs.EXPIRY_HORIZON
    data = replace(NEED_INPUT, expires_on=last_day)
    need = needs.create_need(db.session, member, initiative, data, now=NOW, publish=False)
    assert need.expires_on == last_day
    with pytest.raises(InvalidInput, match="mehr als zwei Jahre") as refused:
        needs.update_need(
            db.session,
            member,
            need,
            replace(data, expires_on=last_day + timedelta(days=1)),
            now=NOW,
        )
    assert refused.value.field == "expires_on"


def test_create_and_publish_writes_both_steps(db, initiative_with_member):
    initiative, member = initiative_with_member
    need = needs.create_need(db.session, member, initiative, NEED_INPUT, now=NOW, publish=True)
    db.session.commit()
    assert (need.status, need.published_at) == (S.OPEN, NOW)
    steps = [(e.action, e.from_state, e.to_state) for e in audit_entries(db, need)]
    assert steps == [("need.create", None, S.DRAFT), ("need.publish", S.DRAFT, S.OPEN)]


@pytest.mark.parametrize("status", [S.MATCHED, S.CLOSED, S.WITHDRAWN, S.EXPIRED])
def test_only_drafts_and_open_needs_are_edited(db, initiative_with_member, make_need, status):
    initiative, member = initiative_with_member
    need = make_need(initiative, status=status)
    before = snapshot(db.session)
    with pytest.raises(TransitionError):
        needs.update_need(db.session, member, need, NEED_INPUT, now=NOW)
    db.session.rollback()
    assert changed_tables(before, snapshot(db.session)) == []


def test_someone_else_cannot_post_for_an_initiative(db, make_initiative):
    initiative, _ = make_initiative()
    _, outsider = make_initiative("Garten West", district="west")
    with pytest.raises(PermissionDenied):
        needs.create_need(db.session, outsider, initiative, NEED_INPUT, now=NOW, publish=False)


# --- Volunteer profiles -----------------------------------------------------------------


def profile_input(profile, **changes) -> profiles.ProfileInput:
    """The profile's current values as form input, with some changed."""
    current = profiles.ProfileInput(
        levels=dict(profile.level_by_phase),
        districts=sorted(profile.districts),
        whole_city=profile.whole_city,
        languages=sorted(profile.languages),
        formats=sorted(profile.formats),
        capacity=profile.capacity,
        paused_until=profile.paused_until,
        bio=profile.bio,
        phone=profile.user.phone,
    )
    return replace(current, **changes)


KEEP_APPROVAL = {
    "nothing": {},
    "capacity": {"capacity": 5},
    "pause": {"paused_until": date(2030, 6, 1)},
    "formats": {"formats": ["video"]},
    "phone": {"phone": "0711 999999"},
    "bio_whitespace": {"bio": "   "},  # the stored bio is empty; spaces are stripped
}
ASK_AGAIN = {
    "levels": {"levels_change": ("start", 2)},
    "new_phase": {"levels_change": ("conflicts", 1)},
    "districts": {"districts": ["ost", "west"]},
    "whole_city": {"whole_city": True},
    "languages": {"languages": ["de", "en"]},
    "bio": {"bio": "Ich moderiere seit Jahren Stadtteilrunden."},
}


def _apply_changes(profile, changes: dict) -> profiles.ProfileInput:
    changes = dict(changes)
    if "levels_change" in changes:
        phase, level = changes.pop("levels_change")
        changes["levels"] = {**profile.level_by_phase, phase: level}
    return profile_input(profile, **changes)


@pytest.mark.parametrize("change", list(KEEP_APPROVAL))
def test_practical_changes_keep_the_approval(db, make_volunteer, change):
    profile = make_volunteer()
    saved, waiting = profiles.save_profile(
        db.session, profile.user, _apply_changes(profile, KEEP_APPROVAL[change]), now=NOW
    )
    assert (saved.status, waiting) == (ProfileStatus.APPROVED, False)
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "profile.save"))
    assert (entry.from_state, entry.to_state) == (ProfileStatus.APPROVED, ProfileStatus.APPROVED)


@pytest.mark.parametrize("change", list(ASK_AGAIN))
def test_changed_expertise_places_languages_or_text_ask_again(db, make_volunteer, change):
    profile = make_volunteer()
    saved, waiting = profiles.save_profile(
        db.session, profile.user, _apply_changes(profile, ASK_AGAIN[change]), now=NOW
    )
    assert (saved.status, waiting) == (ProfileStatus.PENDING, True)
    assert saved.submitted_at == NOW
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "profile.save"))
    assert (entry.from_state, entry.to_state) == (ProfileStatus.APPROVED, ProfileStatus.PENDING)


@pytest.mark.parametrize("status", [ProfileStatus.RETURNED, ProfileStatus.DRAFT])
def test_saving_a_returned_or_draft_profile_sends_it_in(db, make_volunteer, status):
    profile = make_volunteer(status=status)
    profile.review_reason = "Bitte Bezirke ergänzen"
    saved, waiting = profiles.save_profile(
        db.session, profile.user, profile_input(profile), now=NOW
    )
    assert (saved.status, waiting, saved.review_reason) == (ProfileStatus.PENDING, True, "")


def test_a_pause_up_to_a_year_ahead_is_kept_and_a_later_one_refused(db, make_volunteer):
    profile = make_volunteer()
    last_day = NOW.date() + profiles.PAUSE_HORIZON
    saved, _waiting = profiles.save_profile(
        db.session, profile.user, profile_input(profile, paused_until=last_day), now=NOW
    )
    assert saved.paused_until == last_day
    db.session.commit()
    before = snapshot(db.session)
    with pytest.raises(InvalidInput, match="höchstens ein Jahr") as refused:
        profiles.save_profile(
            db.session,
            profile.user,
            profile_input(profile, paused_until=last_day + timedelta(days=1)),
            now=NOW,
        )
    assert refused.value.field == "paused_until"
    db.session.rollback()
    assert changed_tables(before, snapshot(db.session)) == []


def test_a_new_profile_waits_for_approval(db, make_user):
    user = make_user()
    data = profiles.ProfileInput(
        levels=dict.fromkeys(PHASE_CODES, 0) | {"start": 2},
        districts=["ost"],
        whole_city=False,
        languages=["de"],
        formats=["phone"],
        capacity=2,
        paused_until=None,
        bio="",
        phone="",
    )
    saved, waiting = profiles.save_profile(db.session, user, data, now=NOW)
    assert (saved.status, waiting) == (ProfileStatus.PENDING, True)
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "profile.save"))
    assert (entry.from_state, entry.to_state) == (None, ProfileStatus.PENDING)


@pytest.mark.parametrize(
    "changes",
    [
        {"levels_change": ("start", 7)},
        {"levels_change": ("start", -1)},
        {"districts": ["atlantis"]},
        {"districts": [], "whole_city": False},
        {"languages": []},
        {"languages": ["klingonisch"]},
        {"formats": ["brieftaube"]},
        {"capacity": 0},
        {"capacity": 99},
        {"paused_until": NOW.date()},
        {"paused_until": date(2001, 1, 1)},
        {"bio": "x" * 10_000},
        {"phone": "1" * 41},
    ],
    ids=lambda changes: ",".join(changes),
)
def test_save_profile_refuses_bad_input_unchanged(db, make_volunteer, changes):
    """The service checks what the form checks too (the API calls it without the form)."""
    profile = make_volunteer()
    data = _apply_changes(profile, changes)
    before = snapshot(db.session)
    with pytest.raises(InvalidInput):
        profiles.save_profile(db.session, profile.user, data, now=NOW)
    db.session.rollback()
    assert changed_tables(before, snapshot(db.session)) == []


def test_only_volunteers_have_a_profile(db, make_volunteer, make_user):
    profile = make_volunteer()
    outsider = make_user(roles=(Role.INITIATIVE,))
    with pytest.raises(PermissionDenied):
        profiles.save_profile(db.session, outsider, profile_input(profile), now=NOW)


# --- Reviewing profiles -----------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.INITIATIVE])
@pytest.mark.parametrize("step", ["approve", "return"])
def test_only_coordinators_review_profiles(db, make_volunteer, make_user, role, step):
    profile = make_volunteer(status=ProfileStatus.PENDING)
    actor = make_user(roles=(role,))
    before = snapshot(db.session)
    with pytest.raises(PermissionDenied):
        if step == "approve":
            profiles.approve_profile(db.session, actor, profile, now=NOW)
        else:
            profiles.return_profile(db.session, actor, profile, "Bitte ergänzen", now=NOW)
    db.session.flush()
    assert profile.status == ProfileStatus.PENDING
    assert changed_tables(before, snapshot(db.session)) == []


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ADMIN])
def test_coordinators_and_admins_approve(db, make_volunteer, make_user, role):
    profile = make_volunteer(status=ProfileStatus.PENDING)
    reviewer = make_user(roles=(role,))
    profiles.approve_profile(db.session, reviewer, profile, now=NOW)
    assert (profile.status, profile.reviewed_by_id, profile.reviewed_at) == (
        ProfileStatus.APPROVED,
        reviewer.id,
        NOW,
    )
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "profile.approve"))
    assert (entry.from_state, entry.to_state) == (ProfileStatus.PENDING, ProfileStatus.APPROVED)


def test_return_records_the_reason(db, make_volunteer, make_user):
    profile = make_volunteer(status=ProfileStatus.PENDING)
    coordinator = make_user(roles=(Role.COORDINATOR,))
    profiles.return_profile(db.session, coordinator, profile, "  Bitte Bezirke angeben ", now=NOW)
    assert (profile.status, profile.review_reason) == (
        ProfileStatus.RETURNED,
        "Bitte Bezirke angeben",
    )
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "profile.return"))
    assert entry.detail == {"reason": "Bitte Bezirke angeben"}


@pytest.mark.parametrize("reason", ["", "  "])
def test_return_needs_a_reason(db, make_volunteer, make_user, reason):
    profile = make_volunteer(status=ProfileStatus.PENDING)
    coordinator = make_user(roles=(Role.COORDINATOR,))
    before = snapshot(db.session)
    with pytest.raises(InvalidInput):
        profiles.return_profile(db.session, coordinator, profile, reason, now=NOW)
    db.session.flush()
    assert changed_tables(before, snapshot(db.session)) == []


@pytest.mark.parametrize("status", [ProfileStatus.APPROVED, ProfileStatus.RETURNED])
def test_only_waiting_profiles_are_reviewed(db, make_volunteer, make_user, status):
    profile = make_volunteer(status=status)
    coordinator = make_user(roles=(Role.COORDINATOR,))
    before = snapshot(db.session)
    with pytest.raises(TransitionError):
        profiles.approve_profile(db.session, coordinator, profile, now=NOW)
    db.session.flush()
    assert changed_tables(before, snapshot(db.session)) == []


def test_a_coordinator_cannot_approve_their_own_profile(db, make_volunteer):
    profile = make_volunteer(status=ProfileStatus.PENDING)
    profile.user.add_role(Role.COORDINATOR)
    db.session.commit()
    before = snapshot(db.session)
    with pytest.raises(PermissionDenied):
        profiles.approve_profile(db.session, profile.user, profile, now=NOW)
    db.session.flush()
    assert profile.status == ProfileStatus.PENDING
    assert changed_tables(before, snapshot(db.session)) == []
