"""The life cycle of a match: proposed → approved → accepted → completed,
or rejected (coordinator), declined (volunteer), cancelled.

``create_match`` makes a proposal (engine, a volunteer's offer, or a coordinator's
manual assignment); ``change_status`` applies every later step. Both lock the rows
they read, check who may act, and write the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matching import audit, limits, needs, sentences
from matching.database import among, insert_rows, lock_row
from matching.errors import InvalidInput, PermissionDenied, TransitionError
from matching.i18n import date_pattern
from matching.matches import autorun, finish_mail, mails, volunteer_pool
from matching.models import (
    ACTIVE_MATCH_STATUSES,
    ENGAGED_MATCH_STATUSES,
    NEVER_AGAIN_MATCH_STATUSES,
    InitiativeMember,
    Match,
    MatchOrigin,
    MatchStatus,
    Need,
    NeedStatus,
    ProfileStatus,
    User,
    VolunteerProfile,
)
from matching.permissions import is_coordinator, is_member
from matching.text import looks_blank

M = MatchStatus
# Steps after which a need may want someone else: the proposal job looks again soon.
FREES_A_PLACE = frozenset({"reject", "decline", "release", "cancel"})


def _is_volunteer(session: Session, actor: User | None, match: Match) -> bool:
    return actor is not None and match.volunteer.user_id == actor.id


def _coordinator(session: Session, actor: User | None, match: Match) -> bool:
    return is_coordinator(actor)


def _volunteer_or_coordinator(session: Session, actor: User | None, match: Match) -> bool:
    return _is_volunteer(session, actor, match) or is_coordinator(actor)


def _participant(session: Session, actor: User | None, match: Match) -> bool:
    """The volunteer, a member of the initiative, or a coordinator."""
    return _volunteer_or_coordinator(session, actor, match) or is_member(
        session, actor, match.need.initiative_id
    )


def _coordinator_or_system(session: Session, actor: User | None, match: Match) -> bool:
    return actor is None or is_coordinator(actor)


def _system_only(session: Session, actor: User | None, match: Match) -> bool:
    return actor is None  # the scheduler acts without a user


@dataclass(frozen=True)
class MatchTransition:
    action: str
    sources: frozenset[str]
    target: str
    allowed: Callable[[Session, User | None, Match], bool]
    needs_reason: bool = False


TRANSITIONS: dict[str, MatchTransition] = {
    t.action: t
    for t in (
        MatchTransition("approve", frozenset({M.PROPOSED}), M.APPROVED, _coordinator),
        MatchTransition("reject", frozenset({M.PROPOSED}), M.REJECTED, _coordinator, True),
        MatchTransition("accept", frozenset({M.APPROVED}), M.ACCEPTED, _is_volunteer),
        # The volunteer's "no" when asked, or taking back their own offer before the
        # coordinators decided (an engine's waiting proposal is not theirs to decline).
        MatchTransition("decline", frozenset({M.APPROVED, M.PROPOSED}), M.DECLINED, _is_volunteer),
        # Either side marks the advice done (issue 16), or a coordinator for them.
        MatchTransition("complete", frozenset({M.ACCEPTED}), M.COMPLETED, _participant),
        MatchTransition(
            "cancel",
            frozenset({M.PROPOSED, M.APPROVED, M.ACCEPTED}),
            M.CANCELLED,
            _coordinator_or_system,
            True,
        ),
        # An approved match left unanswered for RELEASE_AFTER_DAYS: cancelled by the system,
        # so the need goes back to matching; released_at tells the volunteer's pages why.
        MatchTransition("release", frozenset({M.APPROVED}), M.CANCELLED, _system_only, True),
    )
}

STATUS_LABELS = {
    M.PROPOSED: _l("Vorschlag"),
    M.APPROVED: _l("Wartet auf Zusage"),
    M.ACCEPTED: _l("Zugesagt"),
    M.COMPLETED: _l("Abgeschlossen"),
    M.REJECTED: _l("Abgelehnt"),
    M.DECLINED: _l("Nicht übernommen"),
    M.CANCELLED: _l("Abgebrochen"),
}

_REFUSED = {
    "approve": _l("Dieser Vorschlag wurde schon entschieden."),
    "reject": _l("Dieser Vorschlag wurde schon entschieden."),
    "accept": _l("Diese Vermittlung wartet nicht (mehr) auf Ihre Zusage."),
    "decline": _l("Diese Vermittlung wartet nicht (mehr) auf Ihre Zusage."),
    "complete": _l("Nur zugesagte Vermittlungen können abgeschlossen werden."),
    "cancel": _l("Diese Vermittlung ist schon beendet."),
    "release": _l("Diese Vermittlung wartet nicht (mehr) auf eine Zusage."),
}
RELEASED = _l(
    "Wir haben lange keine Antwort von Ihnen bekommen und die Anfrage deshalb an jemand "
    "anderen weitergegeben. Zusagen ist nicht mehr möglich."
)


def engaged_count(session: Session, profile_id: int) -> int:
    """Approved and accepted matches of a volunteer: what counts against capacity."""
    return session.execute(
        select(func.count())
        .select_from(Match)
        .where(Match.volunteer_id == profile_id, Match.status.in_(ENGAGED_MATCH_STATUSES))
    ).scalar_one()


def _taken_slots(session: Session, need_id: int) -> int:
    return session.execute(
        select(func.count())
        .select_from(Match)
        .where(Match.need_id == need_id, Match.status.in_(ENGAGED_MATCH_STATUSES))
    ).scalar_one()


def _lock_volunteer(session: Session, profile: VolunteerProfile) -> None:
    # Serialises approvals that would take one volunteer past capacity. Only the columns the
    # checks read are fetched again: the whole profile would reload its levels, districts and
    # languages as well.
    lock_row(session, profile, ["status", "capacity", "paused_until"])


def create_match(
    session: Session,
    actor: User | None,
    need: Need,
    profile: VolunteerProfile,
    *,
    origin: MatchOrigin,
    now: datetime,
    score: float | None = None,
    explanation: list | None = None,
) -> Match:
    """A new proposal for a pair; refused when the pair is live or was rejected/declined."""
    if origin == MatchOrigin.OFFER:
        if actor is None or profile.user_id != actor.id:
            raise PermissionDenied(_l("Nur Sie selbst können Ihre Hilfe anbieten."))
    elif origin == MatchOrigin.MANUAL:
        if not is_coordinator(actor):
            raise PermissionDenied(_l("Nur die Koordination kann Expert:innen zuordnen."))
    elif actor is not None and not is_coordinator(actor):
        raise PermissionDenied(_l("Nur die Koordination kann Vorschläge machen."))
    lock_row(session, need, ["status"])
    if need.status != NeedStatus.OPEN:
        raise needs.not_open(need)
    if not profile.user.is_active:
        raise TransitionError(_l("Dieses Konto gibt es nicht mehr."))
    if profile.status != ProfileStatus.APPROVED:
        raise TransitionError(_l("Dieses Profil ist noch nicht freigegeben."))
    if is_member(session, profile.user, need.initiative_id):
        raise TransitionError(_l("Niemand berät die eigene Initiative."))
    earlier = session.scalars(
        select(Match.status).where(Match.need_id == need.id, Match.volunteer_id == profile.id)
    ).all()
    if any(status in ACTIVE_MATCH_STATUSES for status in earlier):
        raise TransitionError(
            _l("Für diese Anfrage gibt es schon einen Vorschlag mit dieser Person.")
        )
    if any(status in NEVER_AGAIN_MATCH_STATUSES for status in earlier):
        raise TransitionError(
            _l("Diese Person wurde für diese Anfrage schon abgelehnt oder hat abgesagt.")
        )
    match = Match(
        need_id=need.id,
        volunteer_id=profile.id,
        status=M.PROPOSED,
        origin=origin,
        score=score,
        explanation=explanation,
        created_by_id=actor.id if actor else None,
        created_at=now,
        updated_at=now,
    )
    session.add(match)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent request made the same pair live
        raise TransitionError(
            _l("Für diese Anfrage gibt es schon einen Vorschlag mit dieser Person.")
        ) from exc
    audit.record(
        session,
        actor,
        "match.propose",
        "match",
        match.id,
        to_state=M.PROPOSED,
        detail={"need": need.id, "volunteer": profile.id, "origin": str(origin)},
        now=now,
    )
    if origin == MatchOrigin.OFFER:
        mails.new_offer(session, match)
    return match


@dataclass(frozen=True)
class NewProposal:
    """One pair the engine chose, with its score and reasons (``explanation_record``)."""

    need_id: int
    volunteer_id: int
    score: float | None
    explanation: list | None


@dataclass
class ProposedMany:
    """What ``propose_many`` wrote (match id per pair) and, for each pair left out, why."""

    written: dict[tuple[int, int], int] = field(default_factory=dict)
    refused: dict[tuple[int, int], object] = field(default_factory=dict)


def propose_many(
    session: Session, actor: User | None, proposals: list[NewProposal], *, now: datetime
) -> ProposedMany:
    """The engine's proposals of one run, each checked as ``create_match`` checks one, written
    in bulk with an audit entry per match: a fixed number of statements however many pairs.

    The needs involved are locked at once (a volunteer's offer or a coordinator's choice for one
    of them waits for this transaction), then their earlier matches are read in one query. A
    pair that ``create_match`` would refuse is left out with the same sentence; the rest are
    written. The engine already kept every volunteer within capacity, from records loaded under
    the proposal runs' lock (``autorun.serialise``).
    """
    if actor is not None and not is_coordinator(actor):
        raise PermissionDenied(_l("Nur die Koordination kann Vorschläge machen."))
    result = ProposedMany()
    pairs = {(p.need_id, p.volunteer_id): p for p in proposals}
    if not pairs:
        return result
    session.flush()
    need_ids = {n for n, _v in pairs}
    volunteer_ids = {v for _n, v in pairs}
    open_needs: dict[int, int] = dict(
        session.execute(
            select(Need.id, Need.initiative_id)
            .where(among(Need.id, need_ids), Need.status == NeedStatus.OPEN)
            .order_by(Need.id)
            .with_for_update()
        )
        .tuples()
        .all()
    )
    approved: dict[int, int] = dict(
        session.execute(
            select(VolunteerProfile.id, VolunteerProfile.user_id).where(
                among(VolunteerProfile.id, volunteer_ids),
                VolunteerProfile.status == ProfileStatus.APPROVED,
            )
        )
        .tuples()
        .all()
    )
    members: set[tuple[int, int]] = set(
        session.execute(
            select(InitiativeMember.user_id, InitiativeMember.initiative_id).where(
                among(InitiativeMember.user_id, approved.values())
            )
        )
        .tuples()
        .all()
    )
    earlier: dict[tuple[int, int], set[str]] = {}
    for need_id, volunteer_id, status in session.execute(
        select(Match.need_id, Match.volunteer_id, Match.status).where(
            among(Match.need_id, need_ids),
            Match.status.in_((*ACTIVE_MATCH_STATUSES, *NEVER_AGAIN_MATCH_STATUSES)),
        )
    ):
        earlier.setdefault((need_id, volunteer_id), set()).add(status)
    rows = []
    for (need_id, volunteer_id), proposal in pairs.items():
        statuses = earlier.get((need_id, volunteer_id), set())
        if need_id not in open_needs:
            why = _l("Diese Anfrage ist nicht mehr offen.")
        elif volunteer_id not in approved:
            why = _l("Dieses Profil ist noch nicht freigegeben.")
        elif (approved[volunteer_id], open_needs[need_id]) in members:
            why = _l("Niemand berät die eigene Initiative.")
        elif statuses & set(ACTIVE_MATCH_STATUSES):
            why = _l("Für diese Anfrage gibt es schon einen Vorschlag mit dieser Person.")
        elif statuses & set(NEVER_AGAIN_MATCH_STATUSES):
            why = _l("Diese Person wurde für diese Anfrage schon abgelehnt oder hat abgesagt.")
        else:
            rows.append(
                {
                    "need_id": need_id,
                    "volunteer_id": volunteer_id,
                    "status": M.PROPOSED,
                    "origin": MatchOrigin.ENGINE,
                    "score": proposal.score,
                    "explanation": proposal.explanation,
                    "created_by_id": actor.id if actor else None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            continue
        result.refused[(need_id, volunteer_id)] = why
    if not rows:
        return result
    # The kept volunteer pool learns exactly whose records changed (not "everything").
    inserted = insert_rows(
        session,
        Match,
        rows,
        returning=(Match.id, Match.need_id, Match.volunteer_id),
        **{volunteer_pool.TOUCHES: frozenset(r["volunteer_id"] for r in rows)},
    )
    for match_id, need_id, volunteer_id in inserted:
        result.written[(need_id, volunteer_id)] = match_id
    audit.record_many(
        session,
        actor,
        "match.propose",
        "match",
        [
            {
                "object_id": match_id,
                "to_state": M.PROPOSED,
                "detail": {
                    "need": need_id,
                    "volunteer": volunteer_id,
                    "origin": str(MatchOrigin.ENGINE),
                },
            }
            for (need_id, volunteer_id), match_id in result.written.items()
        ],
        now=now,
    )
    return result


def change_status(
    session: Session,
    actor: User | None,
    match: Match,
    action: str,
    *,
    now: datetime,
    reason: str = "",
    share_reason: bool = False,
) -> Match:
    """Apply one life-cycle step to a match, or raise without changing anything.

    ``share_reason``: a rejected volunteer may read the coordinator's reason.
    """
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ValueError(f"unknown match action {action!r}")
    # The need first, then the match: one order for every step, so a need's end (which
    # locks the need, then its matches) and a step on one of its matches wait for each
    # other instead of deadlocking; the one that waited reads the other's outcome.
    lock_row(session, match.need, ["status", "experts_wanted"])
    lock_row(session, match)
    if not transition.allowed(session, actor, match):
        raise PermissionDenied(_l("Sie dürfen diese Vermittlung nicht ändern."))
    if match.status not in transition.sources:
        if match.released_at is not None and action in ("accept", "decline"):
            raise TransitionError(RELEASED)
        raise TransitionError(_REFUSED[action])
    if action == "decline" and not awaits_volunteers_answer(match):
        raise TransitionError(_REFUSED[action])
    reason = reason.strip()
    if transition.needs_reason and looks_blank(reason):
        raise InvalidInput(_l("Bitte geben Sie einen Grund an."))
    need = match.need
    if action == "approve":
        _check_room(session, match, need, now)
    # A reason is passed on only to a volunteer who knew of the proposal (their own offer):
    # sharing one about an engine or coordinator proposal would tell them of it.
    share_reason = share_reason and knows_of(match)
    before = match.status
    match.status = transition.target
    match.updated_at = now
    if reason:
        match.reason = reason
    if action in ("approve", "reject"):
        match.decided_at = now
        match.reason_shared = action == "reject" and share_reason
    elif action == "accept":
        match.accepted_at = now
    elif action == "complete":
        match.completed_at = now
    elif action == "release":
        match.released_at = now
    audit.record(
        session,
        actor,
        f"match.{action}",
        "match",
        match.id,
        from_state=before,
        to_state=match.status,
        detail={"reason": reason} if reason else None,
        now=now,
    )
    session.flush()
    if match.status in (M.CANCELLED, M.DECLINED, M.REJECTED):
        # Imported here: the meetings module imports the package, which imports this one.
        from matching.matches import meetings

        meetings.end_with_match(session, actor, match, now=now)
    _follow_need(session, actor, need, now)
    _notify(session, action, match)
    if action in FREES_A_PLACE:
        autorun.want(session, f"match.{action}", now)
    finish_mail.after_transition(session, action, match, before, actor, now=now)
    return match


def _notify(session: Session, action: str, match: Match) -> None:
    if action == "approve":
        mails.match_approved(session, match)
    elif action == "accept":
        mails.match_accepted(session, match)
    elif action == "decline":
        mails.match_declined(session, match)
    elif action == "release":
        mails.match_released(session, match)


def _check_room(session: Session, match: Match, need: Need, now: datetime) -> None:
    lock_row(session, need, ["status", "experts_wanted"])
    if need.status != NeedStatus.OPEN:
        raise needs.not_open(need)
    if _taken_slots(session, need.id) >= need.experts_wanted:
        raise TransitionError(_l("Für diese Anfrage sind schon genug Expert:innen gefunden."))
    _lock_volunteer(session, match.volunteer)
    _check_volunteer_can_take(match.volunteer, now.date())
    if engaged_count(session, match.volunteer_id) >= match.volunteer.capacity:
        raise TransitionError(_l("Diese Person berät schon so viele Initiativen, wie sie möchte."))


def _check_volunteer_can_take(profile: VolunteerProfile, today: date) -> None:
    """Whether a proposal may be approved for this volunteer now: the profile approved (an
    edit sends it back for review), the account in use (not erased) and no pause running;
    a proposal made before any of these changed waits in the queue."""
    if not profile.user.is_active:
        raise TransitionError(_l("Dieses Konto gibt es nicht mehr."))
    if profile.status == ProfileStatus.PENDING:
        raise TransitionError(
            _l("Das Profil dieser Person wartet gerade auf Freigabe. Bitte prüfen Sie es zuerst.")
        )
    if profile.status != ProfileStatus.APPROVED:  # sent back, or never sent in
        raise TransitionError(_l("Das Profil dieser Person ist gerade nicht freigegeben."))
    if profile.paused_until is not None and profile.paused_until > today:
        raise TransitionError(
            _l(
                "Diese Person macht gerade Pause (bis %(date)s). Bitte fragen Sie jemand anderen.",
                date=format_date(profile.paused_until, date_pattern("medium")),
            )
        )


def _follow_need(session: Session, actor: User | None, need: Need, now: datetime) -> None:
    """A need with enough accepted experts is matched and its open proposals end;
    a matched need that lost an expert opens again."""
    accepted = session.execute(
        select(func.count())
        .select_from(Match)
        .where(Match.need_id == need.id, Match.status.in_((M.ACCEPTED, M.COMPLETED)))
    ).scalar_one()
    if need.status == NeedStatus.OPEN and accepted >= need.experts_wanted:
        needs.change_status(session, None, need, "mark_matched", now=now)
        waiting = session.scalars(
            select(Match).where(
                Match.need_id == need.id, Match.status.in_((M.PROPOSED, M.APPROVED))
            )
        ).all()
        for other in waiting:
            change_status(session, None, other, "cancel", now=now, reason=sentences.PLACED)
    elif need.status == NeedStatus.MATCHED and accepted < need.experts_wanted:
        needs.change_status(session, None, need, "reopen", now=now)
    elif need.status == NeedStatus.MATCHED and not _still_advising(session, need):
        # Every expert's advice is done: the need is "Beraten".
        needs.change_status(session, None, need, "mark_advised", now=now)
    if need.status == NeedStatus.OPEN and _taken_slots(session, need.id) >= need.experts_wanted:
        _end_outrun_proposals(session, need, now)


def follow_need_edit(session: Session, need: Need, now: datetime) -> None:
    """An open need's wanted experts changed (``needs.update_need`` calls this): with enough
    experts it is matched and its waiting proposals end, with every place taken the
    proposals that could only be refused end, as after a match's own step."""
    _follow_need(session, None, need, now)
    if need.status == NeedStatus.MATCHED and not _still_advising(session, need):
        # The places left were all advice already done: the need is "Beraten" at once.
        needs.change_status(session, None, need, "mark_advised", now=now)


def _end_outrun_proposals(session: Session, need: Need, now: datetime) -> None:
    """Every place of the need is taken (approved or accepted; a coordinator assigned
    someone by hand, say): proposals still waiting for the coordinators could only be
    refused on approval, and would sit in the queue. They end, and a volunteer's own offer
    hears so kindly. Should a place free up again, the proposal job looks anew."""
    # Read under their locks (the need's is held: see change_status on the order).
    waiting = session.scalars(
        select(Match)
        .where(Match.need_id == need.id, Match.status == M.PROPOSED)
        .order_by(Match.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for other in waiting:
        if other.status != M.PROPOSED:  # ended meanwhile, by the step this one set off
            continue
        change_status(session, None, other, "cancel", now=now, reason=sentences.PLACES_FULL)
        if other.origin == MatchOrigin.OFFER:
            finish_mail.offer_rejected(session, other, now)


# The note kept on a match that ended because its need did (read by coordinators only).
_NEED_ENDED = {
    NeedStatus.WITHDRAWN: sentences.WITHDRAWN,
    NeedStatus.CLOSED: sentences.CLOSED,
    NeedStatus.EXPIRED: sentences.EXPIRED,
}


def end_with_need(session: Session, need: Need, now: datetime) -> None:
    """The live matches of a need that just ended (``needs.change_status`` calls this), so
    nobody is still asked, says yes or swaps contacts for a need that is gone.

    Proposals and matches waiting for the volunteer's yes are cancelled. An expert already
    advising is cancelled when the need is withdrawn and goes on when the need merely
    expired: the advice runs, only the search ends (closing completed them before, see
    ``finish_running_advice``). Every volunteer who knew of a cancelled match (asked,
    advising, or who offered help) is told.
    """
    ended = NeedStatus(need.status)
    live = session.scalars(
        select(Match)
        .where(Match.need_id == need.id, Match.status.in_(ACTIVE_MATCH_STATUSES))
        .order_by(Match.id)
    ).all()
    advisors = []
    for match in live:
        before = match.status
        if before == M.ACCEPTED and ended != NeedStatus.WITHDRAWN:
            advisors.append(match.volunteer.user.first_name)
            continue
        knew = knows_of(match)
        change_status(session, None, match, "cancel", now=now, reason=_NEED_ENDED[ended])
        if knew:
            mails.need_ended(session, match, before)
    if ended == NeedStatus.EXPIRED:
        finish_mail.need_expired(session, need, advisors)


def awaits_volunteers_answer(match: Match) -> bool:
    """Whether the volunteer may say no now: asked (approved), or their own offer still
    waiting for the coordinators (taken back). An engine's waiting proposal is not theirs."""
    return match.status == M.APPROVED or (
        match.status == M.PROPOSED and match.origin == MatchOrigin.OFFER
    )


def knows_of(match: Match) -> bool:
    """Whether the volunteer knows of this live match: asked (approved), advising, or it
    was their own offer; only the engine's or a coordinator's waiting proposal is unknown."""
    return match.status != M.PROPOSED or match.origin == MatchOrigin.OFFER


def finish_running_advice(session: Session, actor: User | None, need: Need, now: datetime) -> None:
    """The initiative closes a need while an expert advises: that advice is done. Each
    running match is completed (the feedback mails follow), which makes a matched need
    "Beraten" before ``needs.change_status`` closes it."""
    running = session.scalars(
        select(Match).where(Match.need_id == need.id, Match.status == M.ACCEPTED).order_by(Match.id)
    ).all()
    # The feedback mails say the need is closed, not the "Beraten" it is for a moment.
    session.info[finish_mail.CLOSING] = need.id
    try:
        for match in running:
            change_status(session, actor, match, "complete", now=now)
    finally:
        session.info.pop(finish_mail.CLOSING, None)


def _still_advising(session: Session, need: Need) -> bool:
    return (
        session.scalar(
            select(Match.id).where(Match.need_id == need.id, Match.status == M.ACCEPTED).limit(1)
        )
        is not None
    )


def give_feedback(
    session: Session, actor: User, match: Match, rating: int, comment: str, *, now: datetime
) -> Match:
    """The initiative rates a completed match (1–5) with an optional comment, once."""
    lock_row(session, match)
    if not is_member(session, actor, match.need.initiative_id):
        raise PermissionDenied(_l("Nur die Initiative kann eine Rückmeldung geben."))
    if match.status != M.COMPLETED:
        raise TransitionError(_l("Eine Rückmeldung ist erst nach dem Abschluss möglich."))
    if match.feedback_at is not None:
        raise TransitionError(_l("Zu dieser Vermittlung gibt es schon eine Rückmeldung. Danke!"))
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput(_l("Bitte wählen Sie eine Bewertung von 1 bis 5."))
    if len(comment) > limits.FEEDBACK_MAX:
        raise InvalidInput(_l("Bitte höchstens %(max)d Zeichen.", max=limits.FEEDBACK_MAX))
    match.feedback_rating = rating
    match.feedback_comment = comment.strip()
    match.feedback_at = now
    audit.record(
        session, actor, "match.feedback", "match", match.id, detail={"rating": rating}, now=now
    )
    return match


def can_see_volunteer_contact(session: Session, viewer: User | None, profile_id: int) -> bool:
    """Coordinators always; an initiative member once this volunteer accepted one of its needs."""
    if is_coordinator(viewer):
        return True
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    return (
        session.scalar(
            select(Match.id)
            .join(Need, Need.id == Match.need_id)
            .join(InitiativeMember, InitiativeMember.initiative_id == Need.initiative_id)
            .where(
                Match.volunteer_id == profile_id,
                Match.status.in_((M.ACCEPTED, M.COMPLETED)),
                InitiativeMember.user_id == viewer.id,
            )
            .limit(1)
        )
        is not None
    )
