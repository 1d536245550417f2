"""Mail about the first meeting: the proposed times, the invitation, the reminder, the question."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from matching import mail
from matching.mail.recipients import coordinators
from matching.matches.calendar import invitation, place_text
from matching.matches.participants import ROLE_LABELS, other_side, sides
from matching.models import Meeting, User, utcnow
from matching.tokens import TokenError, make_token, read_token

PICK = "meeting-pick"


def pick_url(user_id: int, meeting: Meeting, option_id: int) -> str:
    """A mail link for one proposed time: GET shows it, POST confirms it."""
    token = make_token(
        PICK, {"uid": user_id, "meeting": meeting.id, "option": option_id, "seq": meeting.sequence}
    )
    return mail.absolute_url("meetings.pick_from_mail", token=token)


def read_pick(token: str) -> tuple[int, int, int, int]:
    """(user id, meeting id, option id, sequence) of a pick link, or TokenError."""
    payload = read_token(PICK, token, current_app.config["MAIL_LINK_MAX_AGE"])
    values = tuple(payload.get(name) for name in ("uid", "meeting", "option", "seq"))
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise TokenError()
    return values  # type: ignore[return-value]


def _match_url(meeting: Meeting) -> str:
    return mail.absolute_url("matches.detail", match_id=meeting.match_id, _anchor="treffen")


def _common(meeting: Meeting) -> dict:
    return {
        "need": meeting.match.need,
        "meeting": meeting,
        "place": place_text(meeting),
        "match_url": _match_url(meeting),
    }


def proposed(session: Session, meeting: Meeting, *, moved: bool) -> None:
    """The other side gets the times, each with its own link."""
    proposer = meeting.proposed_by_role
    sender = f"{_proposer_name(session, meeting)} ({ROLE_LABELS[proposer]})"
    for person in other_side(meeting.match, proposer):
        mail.queue_for_user(
            session,
            person,
            "meeting_proposed",
            _l("Terminvorschläge für „%(title)s“", title=meeting.match.need.title)
            if not moved
            else _l("Neue Terminvorschläge für „%(title)s“", title=meeting.match.need.title),
            key=f"meeting-proposed:{meeting.id}:{meeting.sequence}:{person.id}",
            sender=sender,
            moved=moved,
            options=[(o, pick_url(person.id, meeting, o.id)) for o in meeting.options],
            **_common(meeting),
        )


def _proposer_name(session: Session, meeting: Meeting) -> str:
    person = session.get(User, meeting.proposed_by_id) if meeting.proposed_by_id else None
    return person.first_name if person else ""


def confirmed(session: Session, meeting: Meeting) -> None:
    """Both sides get the confirmation with the calendar invitation."""
    now = utcnow()
    for person in sides(meeting.match):
        mail.queue(
            session,
            _with_calendar(
                mail.build(
                    person.email,
                    "meeting_confirmed",
                    person.locale,
                    _l("Termin steht: %(title)s", title=meeting.match.need.title),
                    user=person,
                    update=meeting.sequence > 0,
                    **_common(meeting),
                ),
                invitation(meeting, now=now, locale=person.locale),
            ),
            key=f"meeting-confirmed:{meeting.id}:{meeting.sequence}:{person.id}",
            user_id=person.id,
        )


def cancelled(
    session: Session, meeting: Meeting, *, was_confirmed: bool, match_ended: bool = False
) -> None:
    """Both sides learn that the meeting is off; a confirmed one leaves their calendars.
    ``match_ended``: called off because the match ended, so no new times are offered."""
    now = utcnow()
    for person in sides(meeting.match):
        built = mail.build(
            person.email,
            "meeting_cancelled",
            person.locale,
            _l("Treffen abgesagt: %(title)s", title=meeting.match.need.title),
            user=person,
            was_confirmed=was_confirmed,
            match_ended=match_ended,
            **_common(meeting),
        )
        if was_confirmed:
            built = _with_calendar(built, invitation(meeting, now=now, locale=person.locale))
        mail.queue(
            session,
            built,
            key=f"meeting-cancelled:{meeting.id}:{meeting.sequence}:{person.id}",
            user_id=person.id,
        )


def reminder(session: Session, meeting: Meeting) -> int:
    """The day before: when, where, and the way to move it."""
    sent = 0
    for person in sides(meeting.match):
        row = mail.queue_for_user(
            session,
            person,
            "meeting_reminder",
            _l("Morgen: Treffen zu „%(title)s“", title=meeting.match.need.title),
            key=f"meeting-reminder:{meeting.id}:{meeting.sequence}:{person.id}",
            **_common(meeting),
        )
        sent += row is not None
    return sent


def question(session: Session, meeting: Meeting) -> int:
    """After the time: "Hat das Treffen stattgefunden?" with the answers on the match page."""
    sent = 0
    for person in sides(meeting.match):
        row = mail.queue_for_user(
            session,
            person,
            "meeting_question",
            _l("Hat das Treffen stattgefunden?"),
            key=f"{_question_key(meeting)}{meeting.sequence}:{person.id}",
            **_common(meeting),
        )
        sent += row is not None
    return sent


def not_held(session: Session, meeting: Meeting, actor: User) -> None:
    """Coordinators learn that a first meeting did not take place, so they can help."""
    for coordinator in coordinators(session):
        mail.queue_for_user(
            session,
            coordinator,
            "meeting_not_held",
            _l("Treffen nicht zustande gekommen: %(title)s", title=meeting.match.need.title),
            key=f"meeting-not-held:{meeting.id}:{meeting.sequence}:{coordinator.id}",
            reporter=actor.first_name,
            **_common(meeting),
        )


def _with_calendar(built: mail.Mail, calendar: str) -> mail.Mail:
    from dataclasses import replace

    return replace(built, calendar=calendar)


def _question_key(meeting: Meeting) -> str:
    return f"meeting-question:{meeting.id}:"


def question_answered(session: Session, meeting: Meeting) -> int:
    """Once someone answered, the question still waiting in the outbox is not sent any more."""
    return mail.drop_unsent(session, _question_key(meeting))
