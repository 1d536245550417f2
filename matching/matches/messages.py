"""The thread of a match: a question before saying yes, the conversation afterwards.

Contacts stay private until the volunteer accepts: a message shows its author by first
name and role only, and mail about it links to the thread, never to an address.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching import audit
from matching.errors import InvalidInput, PermissionDenied, TransitionError
from matching.matches.participants import role_in
from matching.models import (
    SERVED_MATCH_STATUSES,
    Match,
    MatchMessage,
    MatchStatus,
    MessageMail,
    MessageMailSetting,
    ThreadRole,
    User,
)
from matching.text import has_forbidden_characters, looks_blank

ERASED = _l("(Diese Nachricht wurde gelöscht.)")


def clean_body(body: str | None) -> str:
    """The message text as stored, or InvalidInput with a sentence saying what to change."""
    text = (body or "").replace("\r\n", "\n").strip()
    if looks_blank(text):
        raise InvalidInput(_l("Bitte schreiben Sie eine Nachricht."))
    if has_forbidden_characters(text, multi_line=True):
        raise InvalidInput(
            _l(
                "Die Nachricht enthält unsichtbare Steuerzeichen. "
                "Bitte tippen Sie den Text neu oder fügen Sie ihn als reinen Text ein."
            )
        )
    limit = current_app.config["MESSAGE_MAX_LENGTH"]
    if len(text) > limit:
        raise InvalidInput(_l("Bitte höchstens %(max)d Zeichen.", max=limit))
    return text


def thread(session: Session, match: Match) -> Sequence[MatchMessage]:
    """The messages of a match, oldest first."""
    return session.scalars(
        select(MatchMessage)
        .where(MatchMessage.match_id == match.id)
        .order_by(MatchMessage.created_at, MatchMessage.id)
    ).all()


def last_message_at(session: Session, match: Match) -> datetime | None:
    """When the thread last had a message."""
    return session.scalar(
        select(func.max(MatchMessage.created_at)).where(MatchMessage.match_id == match.id)
    )


def may_write(session: Session, actor: User | None, match: Match) -> bool:
    """Whether ``actor`` may write into this thread now."""
    role = role_in(session, actor, match)
    if role is None or match.status not in SERVED_MATCH_STATUSES:
        return False
    if match.status == MatchStatus.APPROVED and role == ThreadRole.INITIATIVE:
        # Before the yes the volunteer asks and the initiative answers; it does not start.
        return _count(session, match) > 0
    return True


def _count(session: Session, match: Match) -> int:
    count = session.scalar(
        select(func.count()).select_from(MatchMessage).where(MatchMessage.match_id == match.id)
    )
    return count or 0  # a count is never NULL; this tells the type checker


def post(session: Session, actor: User, match: Match, body: str, *, now: datetime) -> MatchMessage:
    """Add a message to the thread; the other side hears of it through the message mail job."""
    role = role_in(session, actor, match)
    if role is None:
        raise PermissionDenied(_l("Sie gehören nicht zu dieser Vermittlung."))
    text = clean_body(body)
    if match.status not in SERVED_MATCH_STATUSES:
        raise TransitionError(
            _l("Diese Vermittlung ist beendet; hier kann niemand mehr schreiben.")
        )
    if not may_write(session, actor, match):
        raise TransitionError(
            _l("Die Expert:in hat noch nicht zugesagt. Sie können antworten, sobald sie fragt.")
        )
    message = MatchMessage(
        match_id=match.id,
        author_id=actor.id,
        author_role=role,
        author_name=actor.first_name,
        body=text,
        created_at=now,
    )
    session.add(message)
    session.flush()
    audit.record(
        session,
        actor,
        "match.message",
        "match",
        match.id,
        detail={"message": message.id, "role": str(role)},
        now=now,
    )
    return message


def open_question(session: Session, match: Match) -> MatchMessage | None:
    """The volunteer's last message when nobody has answered it yet."""
    last = session.scalar(
        select(MatchMessage)
        .where(MatchMessage.match_id == match.id, MatchMessage.erased_at.is_(None))
        .order_by(MatchMessage.created_at.desc(), MatchMessage.id.desc())
        .limit(1)
    )
    return last if last is not None and last.author_role == ThreadRole.VOLUNTEER else None


def mail_frequency(session: Session, user: User) -> str:
    """How this person hears of new messages (each, daily, off)."""
    setting = session.get(MessageMailSetting, user.id)
    return setting.frequency if setting else MessageMail.EACH


def set_mail_frequency(session: Session, actor: User, frequency: str, *, now: datetime) -> None:
    """The person's own choice of message mail."""
    if frequency not in {f.value for f in MessageMail}:
        raise InvalidInput(_l("Bitte wählen Sie eine der angebotenen Möglichkeiten."))
    setting = session.get(MessageMailSetting, actor.id)
    if setting is None:
        setting = MessageMailSetting(user_id=actor.id, summarised_until=now)
        session.add(setting)
    before = setting.frequency or MessageMail.EACH
    if frequency == MessageMail.DAILY and before != MessageMail.DAILY:
        setting.summarised_until = now  # the first summary starts now, not with old messages
    setting.frequency = frequency
    setting.updated_at = now
    audit.record(
        session,
        actor,
        "user.message_mail",
        "user",
        actor.id,
        from_state=str(before),
        to_state=frequency,
        now=now,
    )
