"""Data protection: everything stored about a person (Art. 20) and erasing it (Art. 17).

An erased account stays as an anonymous tombstone row, so matches, needs and the
audit log keep their history and statistics stay right, but nothing in them
points to the person any more.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from matching import audit, matches, needs, sentences
from matching.matches.finish_mail import initiative_told
from matching.models import (
    ACTIVE_MATCH_STATUSES,
    ACTIVE_NEED_STATUSES,
    ENGAGED_MATCH_STATUSES,
    AuditEntry,
    BarrierReport,
    ConsentRecord,
    DigestSetting,
    DigestShown,
    Initiative,
    InitiativeMember,
    Match,
    MatchStatus,
    Material,
    Need,
    NeedPass,
    OutboxMessage,
    OutboxStatus,
    ProfileStatus,
    User,
)
from matching.privacy import after_match

ERASED_NAME = sentences.ERASED_NAME


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export(session: Session, user: User) -> dict:
    """Everything stored about ``user``, as plain JSON-ready data."""
    profile = user.volunteer_profile
    memberships = session.scalars(
        select(Initiative).join(InitiativeMember).where(InitiativeMember.user_id == user.id)
    ).all()
    data: dict = {
        "account": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "phone": user.phone,
            "locale": user.locale,
            "roles": sorted(user.roles),
            "created_at": _iso(user.created_at),
            "confirmed_at": _iso(user.confirmed_at),
            "last_login_at": _iso(user.last_login_at),
            "privacy_version": user.privacy_version,
        },
        "consents": [
            {"kind": c.kind, "version": c.version, "given_at": _iso(c.given_at)}
            for c in session.scalars(select(ConsentRecord).where(ConsentRecord.user_id == user.id))
        ],
        "digest_settings": {
            s.kind: s.enabled
            for s in session.scalars(select(DigestSetting).where(DigestSetting.user_id == user.id))
        },
        "initiatives": [
            {
                "name": i.name,
                "district": i.district,
                "sub_district": i.sub_district,
                "description": i.description,
                "website": i.website,
            }
            for i in memberships
        ],
        "needs_created": [
            {
                "id": n.id,
                "title": n.title,
                "description": n.description,
                "status": n.status,
                "created_at": _iso(n.created_at),
            }
            for n in session.scalars(select(Need).where(Need.created_by_id == user.id))
        ],
        # The ratings this person gave (any member of an initiative may): their own words
        # about an advice, found by the audit entry that records who gave each.
        "feedback_given": [
            {
                "need": m.need.title,
                "rating": m.feedback_rating,
                "comment": m.feedback_comment,
                "at": _iso(m.feedback_at),
            }
            for m in session.scalars(
                select(Match)
                .where(
                    Match.feedback_at.is_not(None),
                    Match.id.in_(
                        select(AuditEntry.object_id).where(
                            AuditEntry.action == "match.feedback",
                            AuditEntry.object_type == "match",
                            AuditEntry.actor_id == user.id,
                        )
                    ),
                )
                .order_by(Match.feedback_at)
            )
        ],
        "volunteer_profile": None,
        "matches": [],
        "activity": [
            {"at": _iso(e.at), "action": e.action, "object": e.object_type, "id": e.object_id}
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.at)
            )
        ],
        "mails": [
            {
                "subject": m.subject,
                "kind": m.kind,
                "status": m.status,
                "created_at": _iso(m.created_at),
            }
            for m in session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.user_id == user.id)
                .order_by(OutboxMessage.id)
            )
        ],
    }
    if profile is not None:
        data["volunteer_profile"] = {
            "status": profile.status,
            "levels": profile.level_by_phase,
            "districts": sorted(profile.districts),
            "whole_city": profile.whole_city,
            "languages": sorted(profile.languages),
            "formats": sorted(profile.formats),
            "capacity": profile.capacity,
            "paused_until": profile.paused_until.isoformat() if profile.paused_until else None,
            "bio": profile.bio,
        }
        data["matches"] = [
            {
                "need": m.need.title,
                "status": m.status,
                "created_at": _iso(m.created_at),
                "accepted_at": _iso(m.accepted_at),
                "completed_at": _iso(m.completed_at),
                # What they wrote themselves: their "no" and their look back.
                "declined_reason": m.reason if m.status == MatchStatus.DECLINED else "",
                "look_back": m.volunteer_feedback,
                "next_phase": m.volunteer_next_phase,
            }
            for m in session.scalars(select(Match).where(Match.volunteer_id == profile.id))
        ]
        data["not_this_time"] = [
            {"need": p.need_id, "reason": p.reason, "at": _iso(p.created_at)}
            for p in session.scalars(select(NeedPass).where(NeedPass.volunteer_id == profile.id))
        ]
    data["materials_suggested"] = [
        {"title": m.title, "phase": m.phase, "status": m.status, "at": _iso(m.created_at)}
        for m in session.scalars(select(Material).where(Material.suggested_by_id == user.id))
    ]
    data["barriers_reported"] = [
        {"page": b.page, "description": b.description, "at": _iso(b.created_at)}
        for b in session.scalars(select(BarrierReport).where(BarrierReport.user_id == user.id))
    ]
    data.update(after_match.export(session, user))  # messages and meetings
    return data


def erase(session: Session, user: User, *, now: datetime, actor: User | None = None) -> None:
    """Remove or anonymise everything personal about ``user`` at once."""
    # Out of use first: what the steps below send (a meeting's cancellation to the other
    # side, say) neither goes to this person nor names them in its calendar invitation.
    user.disabled_at = now
    after_match.erase(session, user, now=now)  # messages and meetings, while the address is known
    profile = user.volunteer_profile
    if profile is not None:
        live = session.scalars(
            select(Match).where(
                Match.volunteer_id == profile.id, Match.status.in_(ACTIVE_MATCH_STATUSES)
            )
        ).all()
        for match in live:
            before = match.status
            matches.change_status(
                session, None, match, "cancel", now=now, reason=sentences.ACCOUNT_ERASED
            )
            if before in ENGAGED_MATCH_STATUSES:  # the initiative counted on this expert
                initiative_told(session, match, before)
        profile.bio = ""
        profile.paused_until = None
        # Out of use for good: the engine, the coordinators' search and manual assignment
        # take approved profiles only.
        profile.status = ProfileStatus.DRAFT
    session.execute(
        update(Match)
        .where(Match.volunteer_id == (profile.id if profile else -1))
        .values(feedback_comment="", volunteer_feedback="")
    )
    member_of = session.scalars(
        select(InitiativeMember.initiative_id).where(InitiativeMember.user_id == user.id)
    ).all()
    for table in (ConsentRecord, DigestSetting, DigestShown, InitiativeMember):
        session.execute(delete(table).where(table.user_id == user.id))
    _withdraw_orphaned_needs(session, member_of, now)
    _delete_side_tables(session, user.id)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.user_id == user.id)
        .values(
            recipient="",
            subject="",
            text_body="",
            html_body="",
            headers=None,
            status=OutboxStatus.DROPPED,
        )
        .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
    )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.user_id == user.id)
        .values(recipient="", subject="", text_body="", html_body="", headers=None)
    )
    _scrub_copies(session, user)
    session.execute(
        update(AuditEntry)
        .where(
            (AuditEntry.actor_id == user.id)
            | ((AuditEntry.object_type == "user") & (AuditEntry.object_id == user.id))
        )
        .values(ip=None)
    )
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.object_type == "user", AuditEntry.object_id == user.id)
        .values(detail=None)
    )
    user.email = f"geloescht-{user.id}@invalid.example"
    user.first_name = ERASED_NAME
    user.last_name = ""
    user.phone = ""
    user.password_hash = "!erased-" + secrets.token_hex(8)  # matches no password
    user.disabled_at = now
    user.last_login_at = None
    user.session_version += 1
    user.email_change_key = None
    audit.record(session, actor, "account.erase", "user", user.id, now=now)


def _withdraw_orphaned_needs(session: Session, initiative_ids: list[int], now: datetime) -> None:
    """An initiative whose last member left has nobody to advise: its needs still on their
    way are withdrawn, which ends their matches and tells the experts (the account page
    promises that running matches end)."""
    if not initiative_ids:
        return
    still_run = set(
        session.scalars(
            select(InitiativeMember.initiative_id).where(
                InitiativeMember.initiative_id.in_(initiative_ids)
            )
        ).all()
    )
    orphaned = [i for i in initiative_ids if i not in still_run]
    if not orphaned:
        return
    live = session.scalars(
        select(Need)
        .where(Need.initiative_id.in_(orphaned), Need.status.in_(ACTIVE_NEED_STATUSES))
        .order_by(Need.id)
    ).all()
    for need in live:
        needs.change_status(
            session, None, need, "withdraw", now=now, reason=sentences.ACCOUNT_ERASED
        )


def _delete_side_tables(session: Session, user_id: int) -> None:
    """Tables added later that hold only this user's rows (e.g. API tokens)."""
    from matching.extensions import db

    for table in db.metadata.sorted_tables:
        if table.name in {"api_tokens", "user_sessions"} and "user_id" in table.c:
            session.execute(table.delete().where(table.c.user_id == user_id))


def _traces(user: User) -> list[str]:
    """What identifies the person in a text: address, phone and full name."""
    return [t for t in (user.email, user.phone.strip(), user.display_name.strip()) if len(t) >= 3]


def _mentions(text: str | None, traces: list[str]) -> bool:
    if not text:
        return False
    lowered = text.lower()
    return any(re.search(rf"(?<!\w){re.escape(trace.lower())}(?!\w)", lowered) for trace in traces)


def _scrub_copies(session: Session, user: User) -> None:
    """Copies of the person's data in other people's mail and in barrier reports.

    A mail not sent yet that names the person (an introduction, an offer, a reported
    barrier) is dropped, one already sent keeps only its envelope; a barrier report loses
    the contact and its link to the person.
    """
    traces = _traces(user)
    if not traces:
        return
    text_columns = (
        OutboxMessage.subject,
        OutboxMessage.text_body,
        OutboxMessage.html_body,
        OutboxMessage.last_error,
    )
    candidates = session.scalars(
        select(OutboxMessage).where(
            or_(
                *(
                    func.lower(column).contains(trace.lower(), autoescape=True)
                    for column in text_columns
                    for trace in traces
                )
            )
        )
    ).all()
    for message in candidates:
        if not any(_mentions(getattr(message, c.key), traces) for c in text_columns):
            continue
        if message.status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
            message.status = OutboxStatus.DROPPED
        message.subject = ""
        message.text_body = ""
        message.html_body = ""
        message.last_error = ""
        message.headers = None
    reports = session.scalars(
        select(BarrierReport).where(
            or_(
                BarrierReport.user_id == user.id,
                *(
                    func.lower(column).contains(trace.lower(), autoescape=True)
                    for column in (
                        BarrierReport.contact,
                        BarrierReport.description,
                        BarrierReport.page,
                    )
                    for trace in traces
                ),
            )
        )
    ).all()
    for report in reports:
        report.user_id = None
        report.contact = ""
        if _mentions(report.description, traces):
            report.description = ""
        if _mentions(report.page, traces):
            report.page = ""


def log_contact_view(
    session: Session, viewer: User, profile_ids: list[int], *, now: datetime
) -> None:
    """Record that a coordinator saw volunteers' contact data (who, whose, when)."""
    for profile_id in sorted(set(profile_ids)):
        audit.record(session, viewer, "contact.view", "volunteer_profile", profile_id, now=now)
