"""The first meeting of a match: propose up to three times, pick one, move, cancel, follow up.

Every change goes through one function here that checks who acts and writes the audit
log; the match page, the mail links, the API and the jobs call them. The calendar
invitation keeps one UID per meeting; each move or cancellation raises its SEQUENCE.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching import audit, limits, wallclock
from matching.database import lock_row
from matching.errors import InvalidInput, PermissionDenied, TransitionError
from matching.matches import meeting_mail
from matching.matches.participants import role_in
from matching.models import (
    LIVE_MEETING_STATUSES,
    Match,
    MatchStatus,
    Meeting,
    MeetingOption,
    MeetingOutcome,
    MeetingStatus,
    PlaceKind,
    ThreadRole,
    User,
)
from matching.text import has_forbidden_characters, looks_blank

MAX_OPTIONS = 3
MIN_MINUTES = 15
MAX_MINUTES = 480
# A first meeting is arranged for the coming weeks; a time further out is a typing slip
# (9999 for 2026), which would also sit in both calendars for good.
HORIZON = timedelta(days=365)
_VIDEO_LINK = re.compile(r"^https://[^\s<>\"']+$")
SIDES = (ThreadRole.VOLUNTEER, ThreadRole.INITIATIVE)
OUTCOME_LABELS = {
    MeetingOutcome.HELD: _l("Das Treffen hat stattgefunden."),
    MeetingOutcome.MOVED: _l("Das Treffen wurde verschoben."),
    MeetingOutcome.NOT_HELD: _l("Das Treffen hat nicht stattgefunden."),
}


@dataclass(frozen=True)
class ProposedTime:
    starts_at: datetime
    ends_at: datetime


def _side(session: Session, actor: User | None, match: Match) -> str:
    role = role_in(session, actor, match)
    if role not in SIDES:
        raise PermissionDenied(_l("Nur die Expert:in und die Initiative vereinbaren Treffen."))
    return role


def current(session: Session, match: Match) -> Meeting | None:
    """The match's meeting that is proposed, or confirmed and not yet looked back on."""
    return session.scalar(
        select(Meeting)
        .where(
            Meeting.match_id == match.id,
            Meeting.status.in_(LIVE_MEETING_STATUSES),
            Meeting.outcome.is_(None),
        )
        .order_by(Meeting.id.desc())
        .limit(1)
    )


def for_match(session: Session, match: Match) -> Sequence[Meeting]:
    """All meetings of a match, newest first."""
    return session.scalars(
        select(Meeting).where(Meeting.match_id == match.id).order_by(Meeting.id.desc())
    ).all()


def _check_times(times: list[ProposedTime], now: datetime) -> list[ProposedTime]:
    if not times:
        raise InvalidInput(_l("Bitte schlagen Sie mindestens eine Zeit vor."))
    if len(times) > MAX_OPTIONS:
        raise InvalidInput(_l("Bitte schlagen Sie höchstens drei Zeiten vor."))
    # Instants in UTC, whatever zone the caller gave: a wall time the clocks skip is refused,
    # and order and duration are measured on the instants, also across a change of the clocks
    # (two datetimes in the same zone would be compared by their wall times).
    times = [
        ProposedTime(wallclock.as_instant(t.starts_at), wallclock.as_instant(t.ends_at))
        for t in times
    ]
    for time in times:
        if time.starts_at <= now:
            raise InvalidInput(_l("Eine der Zeiten liegt in der Vergangenheit."))
        if time.starts_at > now + HORIZON:
            raise InvalidInput(
                _l("Eine der Zeiten liegt mehr als ein Jahr voraus. Bitte prüfen Sie das Jahr.")
            )
        if time.ends_at <= time.starts_at:
            raise InvalidInput(_l("Das Ende muss nach dem Beginn liegen."))
        minutes = (time.ends_at - time.starts_at) / timedelta(minutes=1)
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            raise InvalidInput(_l("Ein Treffen dauert zwischen 15 Minuten und 8 Stunden."))
    if len({t.starts_at for t in times}) < len(times):
        raise InvalidInput(_l("Bitte schlagen Sie verschiedene Zeiten vor."))
    return sorted(times, key=lambda t: t.starts_at)


def check_place(kind: str, place: str) -> str:
    """The place of a meeting as stored, or InvalidInput (also used by the meeting form)."""
    place = (place or "").strip()
    if has_forbidden_characters(place, multi_line=False):
        raise InvalidInput(
            _l("Der Ort enthält unsichtbare Steuerzeichen. Bitte tippen Sie ihn neu.")
        )
    if len(place) > limits.MEETING_PLACE_MAX:
        raise InvalidInput(_l("Bitte höchstens %(max)d Zeichen.", max=limits.MEETING_PLACE_MAX))
    if kind == PlaceKind.PHONE:
        return ""
    if kind == PlaceKind.VIDEO:
        if not _VIDEO_LINK.match(place):
            raise InvalidInput(
                _l("Bitte geben Sie den Link zum Video-Treffen an (beginnt mit https://).")
            )
        return place
    if kind == PlaceKind.ADDRESS:
        if looks_blank(place):
            raise InvalidInput(_l("Bitte geben Sie die Adresse des Treffpunkts an."))
        return place
    raise InvalidInput(_l("Bitte wählen Sie Telefon, Video oder eine Adresse."))


def propose(
    session: Session,
    actor: User,
    match: Match,
    times: list[ProposedTime],
    place_kind: str,
    place: str,
    *,
    now: datetime,
) -> Meeting:
    """Offer up to three times; a live meeting is moved (same UID, the other side picks again)."""
    role = _side(session, actor, match)
    times = _check_times(times, now)
    place = check_place(place_kind, place)
    # Under the match's row lock (after its need's, the order of every match step): a match
    # ending meanwhile calls off its meetings, and one proposed beside it would survive it.
    lock_row(session, match.need, ["status"])
    lock_row(session, match, ["status"])
    if match.status != MatchStatus.ACCEPTED:
        raise TransitionError(_l("Ein Treffen wird nach der Zusage vereinbart."))
    meeting = current(session, match)
    moved = meeting is not None
    if meeting is None:
        meeting = Meeting(
            match_id=match.id, uid=f"treffen-{secrets.token_hex(12)}", sequence=0, created_at=now
        )
        session.add(meeting)
    else:
        lock_row(session, meeting)
        if meeting.status not in LIVE_MEETING_STATUSES:
            raise TransitionError(_l("Dieses Treffen wurde abgesagt."))
        before = meeting.status
        meeting.sequence += 1  # old mail links and calendar entries are now out of date
        meeting.options.clear()
        session.flush()
    meeting.status = MeetingStatus.PROPOSED
    meeting.proposed_by_id = actor.id
    meeting.proposed_by_role = role
    meeting.place_kind = place_kind
    meeting.place = place
    meeting.updated_at = now
    meeting.options.extend(
        MeetingOption(
            starts_at=t.starts_at,
            duration_minutes=int((t.ends_at - t.starts_at) / timedelta(minutes=1)),
        )
        for t in times
    )
    session.flush()
    audit.record(
        session,
        actor,
        "meeting.move" if moved else "meeting.propose",
        "meeting",
        meeting.id,
        from_state=before if moved else None,
        to_state=MeetingStatus.PROPOSED,
        detail={"match": match.id, "options": len(times), "sequence": meeting.sequence},
        now=now,
    )
    meeting_mail.proposed(session, meeting, moved=moved)
    return meeting


def may_pick(session: Session, actor: User | None, meeting: Meeting) -> bool:
    """The side that did not propose picks."""
    role = role_in(session, actor, meeting.match)
    return (
        meeting.status == MeetingStatus.PROPOSED
        and role in SIDES
        and role != meeting.proposed_by_role
    )


def pick(
    session: Session,
    actor: User,
    meeting: Meeting,
    option_id: int,
    *,
    now: datetime,
    sequence: int | None = None,
) -> Meeting:
    """Choose one proposed time; the first to pick wins, the other is told."""
    role = _side(session, actor, meeting.match)
    lock_row(session, meeting)
    if sequence is not None and sequence != meeting.sequence:
        raise TransitionError(stale_message(meeting))
    if meeting.status == MeetingStatus.CONFIRMED:
        raise TransitionError(
            _l(
                "Es wurde gerade schon eine Zeit gewählt: %(when)s. Sie bekommen die Einladung "
                "per E-Mail.",
                when=_when(meeting.starts_at),
            )
        )
    if meeting.status != MeetingStatus.PROPOSED:
        raise TransitionError(stale_message(meeting))
    if role == meeting.proposed_by_role:
        raise PermissionDenied(_l("Die Zeit wählt die andere Seite, nicht wer sie vorschlägt."))
    option = next((o for o in meeting.options if o.id == option_id), None)
    if option is None:
        raise InvalidInput(_l("Bitte wählen Sie eine der vorgeschlagenen Zeiten."))
    if option.starts_at <= now:
        raise InvalidInput(
            _l(
                "Diese Zeit ist schon vorbei. Bitte wählen Sie eine andere oder schlagen Sie neue vor."
            )
        )
    meeting.status = MeetingStatus.CONFIRMED
    meeting.starts_at = option.starts_at
    meeting.duration_minutes = option.duration_minutes
    meeting.confirmed_at = now
    meeting.reminded_at = meeting.asked_at = None
    meeting.outcome = meeting.outcome_at = None
    meeting.updated_at = now
    audit.record(
        session,
        actor,
        "meeting.confirm",
        "meeting",
        meeting.id,
        from_state=MeetingStatus.PROPOSED,
        to_state=MeetingStatus.CONFIRMED,
        detail={"option": option.id, "sequence": meeting.sequence},
        now=now,
    )
    session.flush()
    meeting_mail.confirmed(session, meeting)
    return meeting


def cancel(session: Session, actor: User, meeting: Meeting, *, now: datetime) -> Meeting:
    """Call the meeting off; a confirmed one is taken out of the calendars (METHOD:CANCEL)."""
    _side(session, actor, meeting.match)
    lock_row(session, meeting)
    if meeting.status not in LIVE_MEETING_STATUSES:
        raise TransitionError(_l("Dieses Treffen wurde schon abgesagt."))
    if not may_cancel(meeting, now):
        # A meeting that began (or was answered for) is not called off: the calendars would
        # lose it and the engagement record its meeting. Its outcome says what happened.
        raise TransitionError(
            _l(
                "Dieses Treffen hat schon begonnen und kann nicht mehr abgesagt werden. "
                "Sagen Sie uns bitte, ob es stattgefunden hat."
            )
        )
    _call_off(session, actor, meeting, now=now)
    return meeting


def _call_off(
    session: Session, actor: User | None, meeting: Meeting, *, now: datetime, match_ended=False
) -> None:
    before = meeting.status
    meeting.status = MeetingStatus.CANCELLED
    meeting.sequence += 1
    meeting.cancelled_at = now
    meeting.updated_at = now
    detail: dict = {"sequence": meeting.sequence}
    if match_ended:
        detail["match_ended"] = True
    audit.record(
        session,
        actor,
        "meeting.cancel",
        "meeting",
        meeting.id,
        from_state=before,
        to_state=MeetingStatus.CANCELLED,
        detail=detail,
        now=now,
    )
    session.flush()
    meeting_mail.cancelled(
        session, meeting, was_confirmed=before == MeetingStatus.CONFIRMED, match_ended=match_ended
    )


def end_with_match(session: Session, actor: User | None, match: Match, *, now: datetime) -> int:
    """The match ended without its advice being done (the need withdrawn, an account erased,
    the coordination's decision): its meetings still ahead are called off, and a confirmed
    one leaves both calendars (METHOD:CANCEL), with a mail that says why. A meeting that
    began or has an outcome stays as it was. Returns how many were called off."""
    ahead = session.scalars(
        select(Meeting)
        .where(Meeting.match_id == match.id, Meeting.status.in_(LIVE_MEETING_STATUSES))
        .order_by(Meeting.id)
        .with_for_update()
    ).all()
    ended = 0
    for meeting in ahead:
        if may_cancel(meeting, now):
            _call_off(session, actor, meeting, now=now, match_ended=True)
            ended += 1
    return ended


def may_cancel(meeting: Meeting, now: datetime) -> bool:
    """A proposed meeting, or a confirmed one that has not begun and has no outcome yet."""
    if meeting.outcome is not None:
        return False
    return not (
        meeting.status == MeetingStatus.CONFIRMED
        and meeting.starts_at is not None
        and meeting.starts_at <= now
    )


def record_outcome(
    session: Session, actor: User, meeting: Meeting, outcome: str, *, now: datetime
) -> Meeting:
    """The answer to "Hat das Treffen stattgefunden?" (once, after its end)."""
    _side(session, actor, meeting.match)
    if outcome not in {o.value for o in MeetingOutcome}:
        raise InvalidInput(_l("Bitte wählen Sie: ja, verschoben oder nein."))
    lock_row(session, meeting)
    # A confirmed meeting always has its time; the check on None tells the type checker.
    if (
        meeting.status != MeetingStatus.CONFIRMED
        or meeting.ends_at is None
        or meeting.ends_at > now
    ):
        raise TransitionError(_l("Das fragen wir erst, wenn der Termin vorbei ist."))
    if meeting.outcome is not None:
        raise TransitionError(_l("Dazu gibt es schon eine Antwort. Danke!"))
    meeting.outcome = outcome
    meeting.outcome_at = now
    meeting.updated_at = now
    audit.record(
        session, actor, "meeting.outcome", "meeting", meeting.id, to_state=outcome, now=now
    )
    meeting_mail.question_answered(session, meeting)
    if outcome == MeetingOutcome.NOT_HELD:
        meeting_mail.not_held(session, meeting, actor)
    return meeting


def stale_message(meeting: Meeting):
    """What a mail link for an older state of the meeting says instead of acting."""
    if meeting.status == MeetingStatus.CANCELLED:
        return _l("Dieses Treffen wurde abgesagt. Die Zeiten in der E-Mail gelten nicht mehr.")
    return _l(
        "Dieses Treffen wurde inzwischen verschoben. Die Zeiten in der E-Mail gelten nicht mehr; "
        "die aktuellen sehen Sie auf der Seite der Vermittlung."
    )


def _when(moment: datetime | None) -> str:
    from matching.i18n import format_moment

    return format_moment(moment, "weekday_time")


def due_reminders(session: Session, start: datetime, end: datetime) -> Sequence[Meeting]:
    """Confirmed meetings starting in [start, end) (the next day), not reminded yet, of
    matches still running (a cancelled or finished advice has nobody left to meet)."""
    return session.scalars(
        select(Meeting)
        .join(Match, Match.id == Meeting.match_id)
        .where(
            Match.status == MatchStatus.ACCEPTED,
            Meeting.status == MeetingStatus.CONFIRMED,
            Meeting.starts_at >= start,
            Meeting.starts_at < end,
            Meeting.reminded_at.is_(None),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()


def due_questions(session: Session, now: datetime) -> list[Meeting]:
    """Confirmed meetings that have ended, not yet asked about, of matches still running."""
    meetings = session.scalars(
        select(Meeting)
        .join(Match, Match.id == Meeting.match_id)
        .where(
            Match.status == MatchStatus.ACCEPTED,
            Meeting.status == MeetingStatus.CONFIRMED,
            Meeting.starts_at <= now,
            Meeting.asked_at.is_(None),
            Meeting.outcome.is_(None),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    return [m for m in meetings if m.ends_at is not None and m.ends_at <= now]
