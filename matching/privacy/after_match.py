"""The data protection side of the thread and the meetings: export, erasure, retention."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from matching.models import (
    ACTIVE_MATCH_STATUSES,
    InitiativeMember,
    Match,
    MatchMessage,
    Meeting,
    MessageMailSetting,
    Need,
    OutboxMessage,
    User,
    VolunteerProfile,
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _match_ids(session: Session, user: User) -> list[int]:
    as_volunteer = (
        select(Match.id)
        .join(VolunteerProfile, VolunteerProfile.id == Match.volunteer_id)
        .where(VolunteerProfile.user_id == user.id)
    )
    as_member = (
        select(Match.id)
        .join(Need, Need.id == Match.need_id)
        .join(InitiativeMember, InitiativeMember.initiative_id == Need.initiative_id)
        .where(InitiativeMember.user_id == user.id)
    )
    return list(session.scalars(as_volunteer.union(as_member)))


def export(session: Session, user: User) -> dict:
    """The person's messages (full text) and the meetings of their matches."""
    setting = session.get(MessageMailSetting, user.id)
    return {
        "messages_written": [
            {
                "match": m.match_id,
                "as": m.author_role,
                "text": m.body,
                "at": _iso(m.created_at),
            }
            for m in session.scalars(
                select(MatchMessage)
                .where(MatchMessage.author_id == user.id)
                .order_by(MatchMessage.created_at, MatchMessage.id)
            )
        ],
        "message_mail": setting.frequency if setting else "each",
        "meetings": [
            {
                "match": m.match_id,
                "status": m.status,
                "place_kind": m.place_kind,
                "place": m.place,
                "starts_at": _iso(m.starts_at),
                "duration_minutes": m.duration_minutes,
                "proposed_times": [_iso(o.starts_at) for o in m.options],
                "proposed_by_you": m.proposed_by_id == user.id,
                "outcome": m.outcome,
            }
            for m in session.scalars(
                select(Meeting)
                .where(Meeting.match_id.in_(_match_ids(session, user)))
                .order_by(Meeting.id)
            )
        ],
    }


def erase(session: Session, user: User, *, now: datetime) -> None:
    """The person's messages keep a placeholder; their meetings' details and invitations go.

    Runs before the account's address is replaced: invitations to other people name this
    person as an attendee, so they are found by the address.
    """
    session.execute(
        update(MatchMessage)
        .where(MatchMessage.author_id == user.id)
        .values(body="", author_name="", erased_at=now)
    )
    session.execute(
        update(Meeting)
        .where(
            or_(Meeting.proposed_by_id == user.id, Meeting.match_id.in_(_match_ids(session, user)))
        )
        .values(place="")
    )
    session.execute(
        update(OutboxMessage)
        .where(or_(OutboxMessage.user_id == user.id, OutboxMessage.calendar.contains(user.email)))
        .values(calendar=None)
    )
    session.execute(delete(MessageMailSetting).where(MessageMailSetting.user_id == user.id))


def purge_messages(session: Session, now: datetime, *, dry_run: bool = False) -> int:
    """Delete the messages of matches that ended RETENTION_MESSAGES_DAYS ago."""
    cutoff = now - timedelta(days=current_app.config["RETENTION_MESSAGES_DAYS"])
    ended = select(Match.id).where(
        Match.status.not_in(ACTIVE_MATCH_STATUSES), Match.updated_at <= cutoff
    )
    ids = session.scalars(select(MatchMessage.id).where(MatchMessage.match_id.in_(ended))).all()
    if ids and not dry_run:
        session.execute(delete(MatchMessage).where(MatchMessage.id.in_(ids)))
    return len(ids)
