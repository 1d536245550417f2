"""The scheduled jobs. Each selects what is due and not yet done, does it, marks it done.

Every job is ``job(session, now, dry_run=False, progress=None) -> summary`` and safe to
run twice: a second run finds nothing left to do. ``recorded`` writes the JobRun and
commits once at the end (the outbox drain also commits each claim and each send, so
that a crash loses nothing; that is the outbox's design).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, joinedload

from jobs.base import Progress, local_today, recorded, report
from matching import audit, engine, matches, needs
from matching.engine import insight
from matching.errors import TransitionError
from matching.mail import outbox
from matching.matches import mails as match_mails
from matching.matches.proposals import load_volunteers, to_engine_need
from matching.models import (
    AuditEntry,
    BarrierReport,
    Initiative,
    Match,
    MatchStatus,
    Need,
    NeedStatus,
    OutboxMessage,
    User,
    UserSession,
    VolunteerProfile,
)
from matching.privacy import after_match


def _days(name: str) -> timedelta:
    """A period from the configuration in days (RETENTION_*_DAYS, RELEASE_AFTER_DAYS, …)."""
    return timedelta(days=current_app.config[name])


def _set_key(prefix: str, parts: list[str]) -> str:
    """An outbox key for one mail about exactly this set of things: the same set, no second mail."""
    digest = hashlib.sha256(",".join(parts).encode()).hexdigest()[:20]
    return f"{prefix}:{digest}"


@recorded("send_weekly_digests")
def send_weekly_digests(
    session: Session,
    now: datetime,
    dry_run: bool = False,
    progress: Progress | None = None,
    kinds: list[str] | None = None,
) -> dict:
    """Queue this week's digests; one per person, kind and ISO week, however often it runs."""
    from matching.digests import queue_digests  # built beside this module

    run = queue_digests(session, now, kinds=kinds, dry_run=dry_run, progress=progress)
    return run.as_dict()


@recorded("propose_matches")
def propose_matches(
    session: Session,
    now: datetime,
    dry_run: bool = False,
    progress: Progress | None = None,
    clock=time.monotonic,
) -> dict:
    """Propose experts for every open need that still wants one; waiting proposals stay.

    A run past MATCHING_MAX_SECONDS (measured on ``clock``) raises: nothing of it is kept and
    the run is recorded as failed with the reason."""
    from matching.matches import autorun

    run = autorun.run(session, None, now, dry_run=dry_run, progress=progress, clock=clock)
    return run.as_dict()


@recorded("drain_outbox")
def drain_outbox(
    session: Session, now: datetime, dry_run: bool = False, progress: Progress | None = None
) -> dict:
    """Send the mail that is due; a failure waits for its retry time, a 5xx is given up."""
    due = outbox.due_count(session, now)
    if dry_run:
        return {"due": due}
    done = 0

    def step(count: int) -> None:
        nonlocal done
        done += count
        report(progress, done, max(due, done))

    result = outbox.drain(session, now, progress=step)
    return {"due": due, **result.as_dict()}


@recorded("expire_needs")
def expire_needs(
    session: Session, now: datetime, dry_run: bool = False, progress: Progress | None = None
) -> dict:
    """Expire open needs whose expiry date lies before today (in Berlin)."""
    due = session.scalars(
        select(Need)
        .where(Need.status == NeedStatus.OPEN, Need.expires_on < local_today(now))
        .order_by(Need.id)
    ).all()
    expired = skipped = 0
    for done, need in enumerate(due, 1):
        if dry_run:
            expired += 1
        else:
            try:
                needs.change_status(session, None, need, "expire", now=now)
                expired += 1
            except TransitionError:  # changed by someone else since we selected it
                skipped += 1
        report(progress, done, len(due))
    return {"expired": expired, "skipped": skipped}


@recorded("remind_unanswered")
def remind_unanswered(
    session: Session, now: datetime, dry_run: bool = False, progress: Progress | None = None
) -> dict:
    """Remind volunteers, once, of approved matches they left unanswered for a week."""
    due = session.scalars(
        select(Match)
        .join(VolunteerProfile, VolunteerProfile.id == Match.volunteer_id)
        .join(User, User.id == VolunteerProfile.user_id)
        .where(
            Match.status == MatchStatus.APPROVED,
            Match.decided_at <= now - _days("VOLUNTEER_REMINDER_DAYS"),
            # Due for release already: the kind release mail says it all, no reminder before it.
            Match.decided_at > now - _days("RELEASE_AFTER_DAYS"),
            Match.reminded_at.is_(None),
            User.disabled_at.is_(None),
        )
        .options(
            joinedload(Match.need).joinedload(Need.initiative),
            joinedload(Match.volunteer).joinedload(VolunteerProfile.user),
        )
        .order_by(Match.id)
    ).all()
    for done, match in enumerate(due, 1):
        if not dry_run:
            # The outbox key remind:<match> makes a second mail impossible even if
            # two runs overlap; reminded_at keeps later runs from selecting it.
            match_mails.match_reminder(session, match)
            match.reminded_at = now
            audit.record(session, None, "match.remind", "match", match.id, now=now)
        report(progress, done, len(due))
    return {"reminded": len(due)}


@recorded("remind_coordinators")
def remind_coordinators(
    session: Session, now: datetime, dry_run: bool = False, progress: Progress | None = None
) -> dict:
    """Remind coordinators, once per proposal, of proposals and offers undecided for 3 days."""
    days = current_app.config["COORDINATOR_REMINDER_DAYS"]
    due = session.scalars(
        select(Match)
        .where(
            Match.status == MatchStatus.PROPOSED,
            Match.created_at <= now - _days("COORDINATOR_REMINDER_DAYS"),
            Match.coordinators_reminded_at.is_(None),
        )
        .options(
            joinedload(Match.need).joinedload(Need.initiative),
            joinedload(Match.volunteer).joinedload(VolunteerProfile.user),
        )
        .order_by(Match.created_at, Match.id)
    ).all()
    mails = 0
    if due and not dry_run:
        key = _set_key("remind-proposals", [str(m.id) for m in due])
        mails = match_mails.proposals_waiting(session, list(due), key, days)
        for match in due:
            match.coordinators_reminded_at = now
            audit.record(session, None, "match.remind_coordinators", "match", match.id, now=now)
    report(progress, len(due), len(due))
    return {"proposals": len(due), "mails": mails}


@recorded("release_unanswered")
def release_unanswered(
    session: Session, now: datetime, dry_run: bool = False, progress: Progress | None = None
) -> dict:
    """Give approved matches unanswered for 14 days back to matching; tell the volunteer kindly."""
    days = current_app.config["RELEASE_AFTER_DAYS"]
    due = session.scalars(
        select(Match)
        .where(
            Match.status == MatchStatus.APPROVED,
            Match.decided_at <= now - _days("RELEASE_AFTER_DAYS"),
        )
        .order_by(Match.decided_at, Match.id)
    ).all()
    released = skipped = 0
    for done, match in enumerate(due, 1):
        if dry_run:
            released += 1
        else:
            try:
                matches.change_status(
                    session,
                    None,
                    match,
                    "release",
                    now=now,
                    reason=f"Keine Antwort innerhalb von {days} Tagen.",
                )
                released += 1
            except TransitionError:  # answered since we selected it
                skipped += 1
        report(progress, done, len(due))
    return {"released": released, "skipped": skipped}


@dataclass(frozen=True)
class UncoveredNeed:
    """A need nobody could take, for the coordinators' mail, with why in plain words."""

    id: int
    title: str
    initiative: str
    district: str
    days: int
    # The reason (de, en), in the words the need's page and the Vermittlung page use.
    reason: tuple[str, str]
    # Its phases: one box of the coverage picture each, with the district.
    phases: tuple[str, ...] = ()

    def why(self, locale: str) -> str:
        return self.reason[1] if str(locale).startswith("en") else self.reason[0]


@recorded("alert_uncovered_needs")
def alert_uncovered_needs(
    session: Session, now: datetime, dry_run: bool = False, progress: Progress | None = None
) -> dict:
    """Tell coordinators, once, of needs that had no candidate for 14 days, with their boxes."""
    needs = session.scalars(
        select(Need)
        .join(Initiative, Initiative.id == Need.initiative_id)
        .where(Need.status == NeedStatus.OPEN)
        .order_by(Need.id)
    ).all()
    waiting = set(
        session.scalars(
            select(Match.need_id).where(
                Match.status.in_((MatchStatus.PROPOSED, MatchStatus.APPROVED))
            )
        )
    )
    ever_matched = set(session.scalars(select(Match.need_id).distinct()))
    taken = dict(
        session.execute(
            select(Match.need_id, func.count())
            .where(Match.status == MatchStatus.ACCEPTED)
            .group_by(Match.need_id)
        ).all()
    )
    volunteers = load_volunteers(session)
    pool = engine.Pool(volunteers)
    limit = _days("NO_CANDIDATE_ALERT_DAYS")
    due, cleared = [], 0
    for need in needs:
        record = to_engine_need(need, taken.get(need.id, 0))
        if need.id in waiting or len(pool.candidates(record, now)):
            if need.no_candidate_since is not None or need.uncovered_alerted_at is not None:
                need.no_candidate_since = need.uncovered_alerted_at = None
                cleared += 1
            continue
        if need.no_candidate_since is None:
            # Never had anyone: without a candidate since it was published, as far as we know.
            first = need.published_at or need.created_at
            need.no_candidate_since = now if need.id in ever_matched else first
        if need.uncovered_alerted_at is None and need.no_candidate_since <= now - limit:
            due.append(need)
    mails = 0
    if due and not dry_run:
        mails = match_mails.needs_uncovered(
            session, _uncovered(due, volunteers, now), _uncovered_key(due), limit.days
        )
        for need in due:
            need.uncovered_alerted_at = now
            audit.record(session, None, "need.uncovered", "need", need.id, now=now)
    report(progress, len(needs), len(needs))
    return {"needs_open": len(needs), "alerted": len(due), "mails": mails, "cleared": cleared}


def _uncovered_key(needs: list[Need]) -> str:
    return _set_key("uncovered", [f"{n.id}@{n.no_candidate_since.isoformat()}" for n in needs])


def _uncovered(needs: list[Need], volunteers, now: datetime) -> list[UncoveredNeed]:
    """The needs with the reason nobody fits, as the need's page says it."""
    result = []
    for need in needs:
        record = to_engine_need(need)
        nobody = insight.why_nobody(record, volunteers, now) or insight.Nobody(
            need.id, insight.BUSY
        )
        result.append(
            UncoveredNeed(
                id=need.id,
                title=need.title,
                initiative=need.initiative.name,
                district=need.district,
                days=max(0, (now - need.no_candidate_since).days),
                reason=insight.nobody_text(nobody, record),
                phases=tuple(need.phases),
            )
        )
    return result


@recorded("purge_unconfirmed")
def purge_unconfirmed(
    session: Session, now: datetime, dry_run: bool = False, progress: Progress | None = None
) -> dict:
    """Delete accounts whose address stayed unconfirmed for seven days, with all their rows."""
    ids = session.scalars(
        select(User.id)
        .where(
            User.confirmed_at.is_(None),
            User.created_at <= now - _days("RETENTION_UNCONFIRMED_DAYS"),
        )
        .order_by(User.id)
    ).all()
    if ids and not dry_run:
        # Their queued mail holds the address and name; the database cascades the rest
        # (roles, consent, digest settings, profile, memberships).
        session.execute(delete(OutboxMessage).where(OutboxMessage.user_id.in_(ids)))
        session.execute(delete(User).where(User.id.in_(ids)))
        for user_id in ids:
            # Only the former id: the audit log keeps no personal data of a purged account.
            audit.record(
                session,
                None,
                "account.purge",
                "user",
                user_id,
                detail={"reason": "unconfirmed"},
                now=now,
            )
    report(progress, len(ids), len(ids))
    return {"purged": len(ids)}


@recorded("apply_retention")
def apply_retention(
    session: Session, now: datetime, dry_run: bool = False, progress: Progress | None = None
) -> dict:
    """Blank closed needs' texts; delete old sent mail, old barrier reports and ended log-ins;
    drop old IP addresses (RETENTION_*, LOGIN_SESSION_MAX_DAYS)."""
    ended = (NeedStatus.CLOSED, NeedStatus.WITHDRAWN, NeedStatus.EXPIRED)
    text_cutoff = now - _days("RETENTION_CLOSED_NEED_TEXT_DAYS")
    needs = session.scalars(
        select(Need.id).where(
            Need.status.in_(ended),
            Need.closed_at <= text_cutoff,
            (Need.description != "") | (Need.status_reason != ""),
        )
    ).all()
    mail_cutoff = now - _days("RETENTION_SENT_MAIL_DAYS")
    mails = select(OutboxMessage.id).where(
        OutboxMessage.status.in_(["sent", "failed", "dropped"]),
        OutboxMessage.created_at <= mail_cutoff,
    )
    mail_ids = session.scalars(mails).all()
    ip_cutoff = now - _days("RETENTION_AUDIT_IP_DAYS")
    ip_entries = session.scalars(
        select(AuditEntry.id).where(AuditEntry.ip.is_not(None), AuditEntry.at <= ip_cutoff)
    ).all()
    # A reported barrier holds what the person wrote and how to reach them.
    barrier_cutoff = now - _days("RETENTION_BARRIER_REPORT_DAYS")
    barrier_ids = session.scalars(
        select(BarrierReport.id).where(BarrierReport.created_at <= barrier_cutoff)
    ).all()
    session_cutoff = now - _days("LOGIN_SESSION_MAX_DAYS")
    ended_sessions = session.scalar(
        select(func.count())
        .select_from(UserSession)
        .where(UserSession.created_at <= session_cutoff)
    )
    if not dry_run:
        if barrier_ids:
            session.execute(delete(BarrierReport).where(BarrierReport.id.in_(barrier_ids)))
        if ended_sessions:
            session.execute(delete(UserSession).where(UserSession.created_at <= session_cutoff))
        if needs:
            session.execute(
                update(Need).where(Need.id.in_(needs)).values(description="", status_reason="")
            )
            session.execute(
                update(Match)
                .where(Match.need_id.in_(needs))
                .values(feedback_comment="", reason="", volunteer_feedback="")
            )
        if mail_ids:
            session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(mail_ids)))
        if ip_entries:
            session.execute(update(AuditEntry).where(AuditEntry.id.in_(ip_entries)).values(ip=None))
    messages = after_match.purge_messages(session, now, dry_run=dry_run)
    report(progress, 3, 3)
    return {
        "need_texts_blanked": len(needs),
        "mails_deleted": len(mail_ids),
        "ips_dropped": len(ip_entries),
        "barrier_reports_deleted": len(barrier_ids),
        "sessions_ended": ended_sessions,
        "messages_deleted": messages,
    }


@recorded("mail_new_messages")
def mail_new_messages(
    session: Session, now: datetime, dry_run: bool = False, progress: Progress | None = None
) -> dict:
    """Tell the other side of each thread of new messages, at most once per MESSAGE_MAIL_MINUTES."""
    from matching.matches import message_mail

    summary = message_mail.send_batched(session, now)
    report(progress, summary["threads"], summary["threads"])
    return summary


@recorded("mail_message_summaries")
def mail_message_summaries(
    session: Session, now: datetime, dry_run: bool = False, progress: Progress | None = None
) -> dict:
    """The daily summary of new messages for everyone who chose it."""
    from matching.matches import message_mail

    summary = message_mail.send_daily(session, now)
    report(progress, summary["people"], summary["people"])
    return summary


@recorded("remind_meetings")
def remind_meetings(
    session: Session, now: datetime, dry_run: bool = False, progress: Progress | None = None
) -> dict:
    """The day before a first meeting (in Stuttgart), remind both sides, once."""
    from zoneinfo import ZoneInfo

    from matching.matches import meeting_mail, meetings

    zone = ZoneInfo(current_app.config["JOBS_TIMEZONE"])
    tomorrow = local_today(now) + timedelta(days=1)
    start = datetime.combine(tomorrow, datetime.min.time(), tzinfo=zone)
    due = meetings.due_reminders(session, start, start + timedelta(days=1))
    mails = 0
    for done, meeting in enumerate(due, 1):
        if not dry_run:
            mails += meeting_mail.reminder(session, meeting)
            meeting.reminded_at = now
            audit.record(session, None, "meeting.remind", "meeting", meeting.id, now=now)
        report(progress, done, len(due))
    return {"reminded": len(due), "mails": mails}


@recorded("ask_meeting_outcomes")
def ask_meeting_outcomes(
    session: Session, now: datetime, dry_run: bool = False, progress: Progress | None = None
) -> dict:
    """After a first meeting's time: ask both sides, once, whether it took place."""
    from matching.matches import meeting_mail, meetings

    due = meetings.due_questions(session, now)
    mails = 0
    for done, meeting in enumerate(due, 1):
        if not dry_run:
            mails += meeting_mail.question(session, meeting)
            meeting.asked_at = now
            audit.record(session, None, "meeting.ask", "meeting", meeting.id, now=now)
        report(progress, done, len(due))
    return {"asked": len(due), "mails": mails}
