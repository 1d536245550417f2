"""Mail about new messages: batched per thread, or a daily summary, as each person chose."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching import mail
from matching.matches.messages import mail_frequency
from matching.matches.participants import ROLE_LABELS, other_side, sides
from matching.models import (
    InitiativeMember,
    Match,
    MatchMessage,
    MessageMail,
    MessageMailSetting,
    Need,
    User,
    VolunteerProfile,
)


def thread_url(match: Match) -> str:
    """The thread's page; opening it changes nothing, answering needs a log-in."""
    return mail.absolute_url("thread.show", match_id=match.id, _anchor="neu")


def sender_label(message: MatchMessage) -> LazyString:
    """ "Vera (Expert:in)": first name and role, never more; the role in the language of the
    mail it is rendered into (built while a job runs in German, read in the reader's)."""
    name, role = message.author_name, ROLE_LABELS[message.author_role]
    return LazyString(lambda: f"{name} ({role})")


def posted_notice(session: Session, author: User, match: Match, role: str) -> str:
    """What happens after a message is posted, as the other side chose to hear of messages.

    Said plainly, so nobody waits for an answer to a mail that is never sent.
    """
    chosen = {mail_frequency(session, p) for p in other_side(match, role) if p.id != author.id}
    if chosen == {MessageMail.EACH}:
        return _(
            "Ihre Nachricht ist angekommen. Die andere Seite bekommt in den nächsten "
            "%(minutes)d Minuten eine E-Mail dazu.",
            minutes=current_app.config["MESSAGE_MAIL_MINUTES"],
        )
    if chosen == {MessageMail.DAILY}:
        return _(
            "Ihre Nachricht ist angekommen. Die andere Seite erfährt davon mit ihrer "
            "täglichen Zusammenfassung per E-Mail."
        )
    if not chosen or chosen == {MessageMail.OFF}:
        return _(
            "Ihre Nachricht ist angekommen. Die andere Seite bekommt keine E-Mail dazu, "
            "sie sieht die Nachricht, wenn sie das nächste Mal hier hereinschaut."
        )
    return _(
        "Ihre Nachricht ist angekommen. Auf der anderen Seite bekommt nur eine E-Mail dazu, "
        "wer das so eingestellt hat: innerhalb von %(minutes)d Minuten oder mit der "
        "täglichen Zusammenfassung.",
        minutes=current_app.config["MESSAGE_MAIL_MINUTES"],
    )


def send_batched(session: Session, now: datetime) -> dict:
    """Tell the other side of each thread with new messages, at most once per MESSAGE_MAIL_MINUTES."""
    pause = timedelta(minutes=current_app.config["MESSAGE_MAIL_MINUTES"])
    pending = session.scalars(
        select(MatchMessage)
        .where(MatchMessage.mailed_at.is_(None), MatchMessage.created_at <= now)
        .order_by(MatchMessage.match_id, MatchMessage.created_at, MatchMessage.id)
    ).all()
    by_thread: dict[int, list[MatchMessage]] = defaultdict(list)
    for message in pending:
        by_thread[message.match_id].append(message)
    last_mail = dict(
        session.execute(
            select(MatchMessage.match_id, func.max(MatchMessage.mailed_at))
            .where(MatchMessage.match_id.in_(list(by_thread)))
            .group_by(MatchMessage.match_id)
        ).all()
    )
    threads = mails = waiting = 0
    for match_id, messages in by_thread.items():
        last = last_mail.get(match_id)
        if last is not None and last > now - pause:
            waiting += 1
            continue
        match = messages[0].match
        for person in sides(match):
            news = [m for m in messages if m.author_id != person.id and m.erased_at is None]
            if news and mail_frequency(session, person) == MessageMail.EACH:
                mails += _queue_news(session, person, match, news) is not None
        for message in messages:
            message.mailed_at = now
        threads += 1
    return {"threads": threads, "mails": mails, "waiting": waiting}


def _queue_news(session: Session, person: User, match: Match, news: list[MatchMessage]):
    return mail.queue_for_user(
        session,
        person,
        "thread_messages",
        _l("Neue Nachricht zu „%(title)s“", title=match.need.title),
        key=f"messages:{match.id}:{person.id}:{news[-1].id}",
        need=match.need,
        messages=[(sender_label(m), m) for m in news],
        thread_url=thread_url(match),
        settings_url=mail.absolute_url("thread.settings"),
    )


def _threads_of(session: Session, user: User) -> list[int]:
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


def send_daily(session: Session, now: datetime) -> dict:
    """One summary per person who chose "daily", with the messages since the last one."""
    settings = session.scalars(
        select(MessageMailSetting)
        .join(User, User.id == MessageMailSetting.user_id)
        .where(MessageMailSetting.frequency == MessageMail.DAILY, User.disabled_at.is_(None))
        .order_by(MessageMailSetting.user_id)
    ).all()
    mails = 0
    for setting in settings:
        person = session.get(User, setting.user_id)
        since = setting.summarised_until or now - timedelta(days=1)
        threads = _threads_of(session, person)
        news = session.scalars(
            select(MatchMessage)
            .where(
                MatchMessage.match_id.in_(threads),
                MatchMessage.created_at > since,
                MatchMessage.created_at <= now,
                MatchMessage.erased_at.is_(None),
                (MatchMessage.author_id != person.id) | MatchMessage.author_id.is_(None),
            )
            .order_by(MatchMessage.match_id, MatchMessage.created_at, MatchMessage.id)
        ).all()
        setting.summarised_until = now
        if not news:
            continue
        grouped: dict[int, list[MatchMessage]] = defaultdict(list)
        for message in news:
            grouped[message.match_id].append(message)
        sections = [
            (ms[0].match.need, thread_url(ms[0].match), [(sender_label(m), m) for m in ms])
            for ms in grouped.values()
        ]
        row = mail.queue_for_user(
            session,
            person,
            "thread_summary",
            _l("Ihre Nachrichten des Tages"),
            key=f"messages-daily:{person.id}:{now.date().isoformat()}",
            sections=sections,
            settings_url=mail.absolute_url("thread.settings"),
        )
        mails += row is not None
    return {"people": len(settings), "mails": mails}
