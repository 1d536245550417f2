"""Weekly digests (DESIGN.md §6): what is new for each volunteer, coordinator and initiative.

``queue_digests(session, now)`` builds every digest due in ``now``'s ISO week and
writes it to the outbox in the session's transaction; the caller commits. The
idempotency key names recipient, kind and week, so a second run in the same week
queues nothing. Everything is read in bulk and written a batch at a time, so the
number of statements does not grow with each digest: a fixed number to load
(per batch of recipients where lists are long: the volunteers' profiles), one per
batch to find digests already queued, and two per batch to write (the outbox rows
and the needs shown). The engine's Pool is built once for all volunteers.

A digest with nothing in it is not queued. Each one carries the List-Unsubscribe
headers of RFC 8058 and visible links to unsubscribe and to the settings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_babel.speaklater import LazyString
from sqlalchemy import func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, joinedload, lazyload

from matching import audit, engine, mail, mail_links, needs, reports
from matching.database import among
from matching.matches.proposals import load_volunteers, to_engine_need, weights
from matching.models import (
    ACTIVE_NEED_STATUSES,
    ENGAGED_MATCH_STATUSES,
    DigestKind,
    DigestSetting,
    DigestShown,
    Initiative,
    InitiativeMember,
    Match,
    MatchStatus,
    Need,
    NeedStatus,
    OutboxMessage,
    OutboxStatus,
    ProfileStatus,
    Role,
    User,
    UserRole,
    VolunteerProfile,
    utcnow,
)

KINDS: tuple[str, ...] = tuple(kind.value for kind in DigestKind)
# A volunteer's digest names at most this many needs, the best-fitting first.
MAX_NEEDS = 5
# Recipients handled per batch: one statement finds used keys, two write the batch.
BATCH_SIZE = 500
# Coordinators see this many stale needs and unanswered matches; the overview has the rest.
MAX_LISTED = 10
# An initiative still hears about a need that ended this recently.
RECENTLY = timedelta(days=7)

SUBJECTS = {
    DigestKind.COORDINATOR: _l("Wochenüberblick für die Koordination"),
    DigestKind.INITIATIVE: _l("Wochenüberblick: So steht es um Ihre Anfragen"),
}
# Shown in the settings and on the unsubscribe pages.
KIND_LABELS = {
    DigestKind.VOLUNTEER: _l("Neue passende Anfragen (für Expert:innen)"),
    DigestKind.COORDINATOR: _l("Wochenüberblick für die Koordination"),
    DigestKind.INITIATIVE: _l("Stand Ihrer Anfragen (für Initiativen)"),
}


# ---------------------------------------------------------------------------
# The run and its keys


@dataclass
class DigestRun:
    """What a run queued (or would queue, when dry), per digest kind."""

    week: str
    dry_run: bool = False
    queued: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    empty: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    already: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    switched_off: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    @property
    def total_queued(self) -> int:
        return sum(self.queued.values())

    def as_dict(self) -> dict:
        return {
            "week": self.week,
            "dry_run": self.dry_run,
            "queued": dict(self.queued),
            "empty": dict(self.empty),
            "already": dict(self.already),
            "switched_off": dict(self.switched_off),
            "total_queued": self.total_queued,
        }


def iso_week(now: datetime) -> str:
    """The ISO week of ``now`` in the service's time zone, e.g. ``2026-W05``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def digest_key(kind: str, user_id: int, week: str) -> str:
    """The outbox idempotency key: one digest of a kind per person and week."""
    return f"digest:{kind}:{user_id}:{week}"


def parse_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    """The digest kinds asked for (all when None), in the usual order; ValueError for others."""
    if kinds is None:
        return KINDS
    asked = {str(kind) for kind in kinds}
    unknown = sorted(asked - set(KINDS))
    if unknown:
        raise ValueError(
            f"unknown digest kind {', '.join(unknown)}; choose from {', '.join(KINDS)}"
        )
    return tuple(kind for kind in KINDS if kind in asked)


# ---------------------------------------------------------------------------
# What a digest says


@dataclass(frozen=True)
class Recipient:
    id: int
    email: str
    first_name: str
    locale: str

    @classmethod
    def of(cls, user: User) -> Recipient:
        return cls(id=user.id, email=user.email, first_name=user.first_name, locale=user.locale)


@dataclass(frozen=True)
class SuggestedNeed:
    """An open need in a volunteer's digest, with why it fits."""

    id: int
    title: str
    initiative: str
    district: str
    phases: tuple[str, ...]
    score: engine.Score


@dataclass(frozen=True)
class VolunteerDigest:
    needs: list[SuggestedNeed]

    def __bool__(self) -> bool:
        return bool(self.needs)


@dataclass(frozen=True)
class CoordinatorDigest:
    waiting_proposals: int
    oldest_proposal_at: datetime | None
    stale_needs: list[reports.StaleNeed]
    waiting_profiles: int
    unanswered_matches: list[reports.UnansweredMatch]
    # Proposals undecided past HIGHLIGHT_AFTER_DAYS: listed first, highlighted.
    overdue_proposals: list[reports.OverdueProposal] = field(default_factory=list)
    # Accepted matches gone quiet (no message, no meeting for NO_CONTACT_ALERT_DAYS).
    silent_matches: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.waiting_proposals
            or self.stale_needs
            or self.waiting_profiles
            or self.unanswered_matches
            or self.silent_matches
        )


@dataclass(frozen=True)
class NeedState:
    """One need of an initiative: its state and what happens next (``step``)."""

    id: int
    title: str
    status: str
    step: str
    days_open: int | None = None
    # A completed advice of this need the initiative has not rated yet: the digest asks.
    feedback_match_id: int | None = None


@dataclass(frozen=True)
class InitiativeSection:
    name: str
    needs: list[NeedState]


@dataclass(frozen=True)
class InitiativeDigest:
    initiatives: list[InitiativeSection]

    def __bool__(self) -> bool:
        return any(section.needs for section in self.initiatives)


# ---------------------------------------------------------------------------
# Rendering


def render_digest(kind: str, recipient: Recipient, digest) -> mail.Mail:
    """The digest as a mail in the recipient's language, with the unsubscribe headers."""
    kind = DigestKind(kind)
    unsubscribe_url = mail_links.unsubscribe_url(recipient.id, kind)
    context = {
        "user": recipient,
        "digest": digest,
        "unsubscribe_url": unsubscribe_url,
        "settings_url": mail.absolute_url("digests.settings"),
        "kind_label": KIND_LABELS[kind],
    }
    if kind == DigestKind.VOLUNTEER:
        count = len(digest.needs)
        # Translated when the mail is built in the recipient's language; a lambda rather
        # than lazy_ngettext, which pybabel does not extract.
        subject = LazyString(
            lambda: ngettext(
                "%(num)d neue Anfrage, die zu Ihnen passt",
                "%(num)d neue Anfragen, die zu Ihnen passen",
                count,
            )
        )
        context["offer_urls"] = {
            n.id: mail_links.offer_url(recipient.id, n.id) for n in digest.needs
        }
        context["pass_urls"] = {n.id: mail_links.pass_url(recipient.id, n.id) for n in digest.needs}
        context["need_urls"] = {
            n.id: mail.absolute_url("needs.detail", need_id=n.id) for n in digest.needs
        }
    else:
        subject = SUBJECTS[kind]
        context.update(_links(kind, digest))
    built = mail.build(recipient.email, f"digest_{kind}", recipient.locale, subject, **context)
    return replace(built, headers={**built.headers, **unsubscribe_headers(unsubscribe_url, kind)})


def _links(kind: DigestKind, digest) -> dict:
    if kind == DigestKind.COORDINATOR:
        return {
            "queue_url": mail.absolute_url("coordination.queue"),
            "profiles_url": mail.absolute_url("coordination.waiting_profiles"),
            "dashboard_url": mail.absolute_url("reports.dashboard"),
            "need_urls": {
                n.id: mail.absolute_url("needs.detail", need_id=n.id)
                for n in digest.stale_needs[:MAX_LISTED]
            },
            "match_urls": {
                m.id: mail.absolute_url("matches.detail", match_id=m.id)
                for m in digest.unanswered_matches[:MAX_LISTED]
            },
            "max_listed": MAX_LISTED,
            "highlight_days": reports.highlight_after().days,
            "unanswered_days": reports.unanswered_after().days,
        }
    return {
        "status_labels": needs.STATUS_LABELS,
        "my_needs_url": mail.absolute_url("initiatives.my_needs"),
        "need_urls": {
            n.id: mail.absolute_url("needs.detail", need_id=n.id)
            for section in digest.initiatives
            for n in section.needs
        },
        "feedback_urls": {
            n.id: mail.absolute_url("matches.feedback", match_id=n.feedback_match_id)
            for section in digest.initiatives
            for n in section.needs
            if n.feedback_match_id is not None
        },
    }


def unsubscribe_headers(unsubscribe_url: str, kind: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058: one-click unsubscribing by POST, and a mailto for the rest."""
    targets = [f"<{unsubscribe_url}>"]
    address = current_app.config.get("MAIL_UNSUBSCRIBE_ADDRESS")
    if address:
        targets.append(f"<mailto:{address}?subject={quote(f'Abbestellen {kind}')}>")
    return {
        "List-Unsubscribe": ", ".join(targets),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


@contextmanager
def _link_context() -> Iterator[None]:
    """One request context for all links of a run, instead of one per link (outside requests)."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"].rstrip("/")):
        yield


# ---------------------------------------------------------------------------
# Loading in bulk: one plan per kind


class _Plan:
    """Finds the recipients of one kind, loads what their digests need, builds each digest."""

    kind: DigestKind

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now

    def recipients(self) -> list[Recipient]:
        raise NotImplementedError

    def prepare(self, recipients: Sequence[Recipient]) -> None:
        """Load, in a fixed number of statements, what the digests of these recipients need."""

    def digest(self, recipient: Recipient):
        raise NotImplementedError

    def shown(self, digest) -> tuple[int, ...]:
        """Needs to remember as shown once the digest is queued."""
        return ()


def _reachable(query):
    """Only people who confirmed their address and whose account is not disabled."""
    return query.where(User.confirmed_at.is_not(None), User.disabled_at.is_(None))


class _VolunteerPlan(_Plan):
    kind = DigestKind.VOLUNTEER

    def recipients(self) -> list[Recipient]:
        self.profiles = {
            p.user_id: p
            for p in self.session.scalars(
                _reachable(
                    select(VolunteerProfile)
                    .join(VolunteerProfile.user)
                    .options(contains_eager(VolunteerProfile.user).lazyload(User.role_rows))
                    .where(VolunteerProfile.status == ProfileStatus.APPROVED)
                    .order_by(User.id)
                )
            )
        }
        return [Recipient.of(p.user) for p in self.profiles.values()]

    def prepare(self, recipients: Sequence[Recipient]) -> None:
        self.ranked: dict[int, list] = {}
        if not recipients:
            return
        profiles = [self.profiles[r.id] for r in recipients]
        records = []
        for start in range(0, len(profiles), BATCH_SIZE):
            records.extend(load_volunteers(self.session, profiles[start : start + BATCH_SIZE]))
        needs = self.session.scalars(
            select(Need)
            .options(joinedload(Need.initiative))
            .where(Need.status == NeedStatus.OPEN)
            .order_by(Need.id)
        ).all()
        self.needs = {n.id: n for n in needs}
        taken = dict(
            self.session.execute(
                select(Match.need_id, func.count())
                .where(Match.status.in_(ENGAGED_MATCH_STATUSES))
                .group_by(Match.need_id)
            ).all()
        )
        wanting = [to_engine_need(n, taken.get(n.id, 0)) for n in needs]
        wanting = [n for n in wanting if n.wanted > 0]
        shown: dict[int, set[int]] = defaultdict(set)
        for user_id, need_id in self.session.execute(
            select(DigestShown.user_id, DigestShown.need_id)
            .join(Need, Need.id == DigestShown.need_id)
            .where(Need.status == NeedStatus.OPEN)
        ):
            if user_id in self.profiles:
                shown[self.profiles[user_id].id].add(need_id)
        self.ranked = engine.rank_needs(
            engine.Pool(records), wanting, weights(), self.now, k=MAX_NEEDS, skip=shown
        )

    def digest(self, recipient: Recipient) -> VolunteerDigest:
        ranked = self.ranked.get(self.profiles[recipient.id].id, [])
        return VolunteerDigest(
            needs=[
                SuggestedNeed(
                    id=need.id,
                    title=self.needs[need.id].title,
                    initiative=self.needs[need.id].initiative.name,
                    district=need.district,
                    phases=need.phases,
                    score=fit,
                )
                for need, fit in ranked
            ]
        )

    def shown(self, digest: VolunteerDigest) -> tuple[int, ...]:
        return tuple(n.id for n in digest.needs)


class _CoordinatorPlan(_Plan):
    kind = DigestKind.COORDINATOR

    def recipients(self) -> list[Recipient]:
        users = self.session.scalars(
            _reachable(
                select(User)
                .join(UserRole)
                .options(lazyload(User.role_rows))
                .where(UserRole.role.in_([Role.COORDINATOR, Role.ADMIN]))
                .distinct()
                .order_by(User.id)
            )
        ).all()
        return [Recipient.of(u) for u in users]

    def prepare(self, recipients: Sequence[Recipient]) -> None:
        if not recipients:
            return
        board = reports.dashboard(self.session, self.now)
        oldest = self.session.scalar(
            select(func.min(Match.created_at)).where(Match.status == MatchStatus.PROPOSED)
        )
        self.content = CoordinatorDigest(
            waiting_proposals=board.waiting_proposals,
            oldest_proposal_at=oldest,
            stale_needs=board.stale_needs,
            waiting_profiles=board.waiting_profiles,
            unanswered_matches=board.unanswered_matches,
            overdue_proposals=board.overdue_proposals,
            silent_matches=board.silent_matches,
        )

    def digest(self, recipient: Recipient) -> CoordinatorDigest:
        return self.content


class _InitiativePlan(_Plan):
    kind = DigestKind.INITIATIVE

    def recipients(self) -> list[Recipient]:
        relevant = or_(
            Need.status.in_(ACTIVE_NEED_STATUSES),
            Need.closed_at > self.now - RECENTLY,
            # "Beraten" is told in the digest after the advice, then the need rests.
            (Need.status == NeedStatus.ADVISED) & (Need.updated_at > self.now - RECENTLY),
        )
        rows = self.session.execute(
            select(
                Need.id,
                Need.initiative_id,
                Initiative.name,
                Need.title,
                Need.status,
                Need.experts_wanted,
                func.coalesce(Need.published_at, Need.created_at).label("opened_at"),
            )
            .join(Initiative, Initiative.id == Need.initiative_id)
            .where(relevant)
            .order_by(Initiative.name, Need.initiative_id, Need.id)
        ).all()
        self.needs_by_initiative: dict[int, list] = defaultdict(list)
        for row in rows:
            self.needs_by_initiative[row.initiative_id].append(row)
        self.initiatives_of: dict[int, list[int]] = defaultdict(list)
        users: dict[int, User] = {}
        for user, initiative_id in self.session.execute(
            _reachable(
                select(User, InitiativeMember.initiative_id)
                .join(InitiativeMember, InitiativeMember.user_id == User.id)
                .options(lazyload(User.role_rows))
                .where(
                    InitiativeMember.initiative_id.in_(select(Need.initiative_id).where(relevant))
                )
                .order_by(User.id)
            )
        ):
            users[user.id] = user
            self.initiatives_of[user.id].append(initiative_id)
        return [Recipient.of(user) for user in users.values()]

    def prepare(self, recipients: Sequence[Recipient]) -> None:
        self.matches: dict[int, dict[str, int]] = defaultdict(dict)
        if not recipients:
            return
        for need_id, status, count in self.session.execute(
            select(Match.need_id, Match.status, func.count())
            .join(Need, Need.id == Match.need_id)
            .where(Need.status == NeedStatus.OPEN, Match.status.in_(ENGAGED_MATCH_STATUSES))
            .group_by(Match.need_id, Match.status)
        ):
            self.matches[need_id][status] = count
        listed = [row.id for rows in self.needs_by_initiative.values() for row in rows]
        self.unrated: dict[int, int] = {}
        for need_id, match_id in self.session.execute(
            select(Match.need_id, Match.id)
            .where(
                among(Match.need_id, listed),
                Match.status == MatchStatus.COMPLETED,
                Match.feedback_at.is_(None),
            )
            .order_by(Match.id)
        ):
            self.unrated.setdefault(need_id, match_id)

    def digest(self, recipient: Recipient) -> InitiativeDigest:
        sections = []
        for initiative_id in self.initiatives_of[recipient.id]:
            rows = self.needs_by_initiative[initiative_id]
            ordered = sorted(rows, key=lambda row: (_STATUS_ORDER[row.status], row.id))
            sections.append(
                InitiativeSection(name=rows[0].name, needs=[self._state(row) for row in ordered])
            )
        sections.sort(key=lambda section: section.name)
        return InitiativeDigest(initiatives=sections)

    def _state(self, row) -> NeedState:
        days_open = None
        if row.status == NeedStatus.OPEN and row.opened_at is not None:
            # Calendar days in Stuttgart: "seit heute" means today's date, not the last 24 hours.
            zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
            opened = row.opened_at.astimezone(zone).date()
            days_open = max(0, (self.now.astimezone(zone).date() - opened).days)
        return NeedState(
            id=row.id,
            title=row.title,
            status=row.status,
            step=_next_step(row.status, self.matches.get(row.id, {})),
            days_open=days_open,
            feedback_match_id=self.unrated.get(row.id),
        )


_STATUS_ORDER = {status: i for i, status in enumerate(NeedStatus)}


def _next_step(status: str, matches: dict[str, int]) -> str:
    """What happens next with a need, as a code the template turns into a sentence."""
    if status == NeedStatus.EXPIRED and matches.get(MatchStatus.ACCEPTED):
        return "expired_advising"  # the search ended, an expert's advice goes on
    if status != NeedStatus.OPEN:
        return status
    if matches.get(MatchStatus.ACCEPTED):
        return "more"  # some experts have accepted, the need wants more
    if matches.get(MatchStatus.APPROVED):
        return "asked"  # an expert was asked and has not answered yet
    return "searching"


PLANS: dict[str, type[_Plan]] = {
    DigestKind.VOLUNTEER: _VolunteerPlan,
    DigestKind.COORDINATOR: _CoordinatorPlan,
    DigestKind.INITIATIVE: _InitiativePlan,
}


# ---------------------------------------------------------------------------
# The run


@dataclass(frozen=True)
class _Queued:
    key: str
    user_id: int
    mail: mail.Mail
    shown: tuple[int, ...]


def queue_digests(
    session: Session,
    now: datetime,
    kinds: Iterable[str] | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> DigestRun:
    """Build and queue every digest due in ``now``'s ISO week; the caller commits.

    ``kinds`` limits the run (ValueError for an unknown kind); ``dry_run`` builds
    everything and writes nothing; ``progress(done, total)`` follows the recipients.
    """
    chosen = parse_kinds(kinds)
    run = DigestRun(week=iso_week(now), dry_run=dry_run)
    switched_off = _switched_off(session)
    plans = []
    for kind in chosen:
        plan = PLANS[kind](session, now)
        everyone = plan.recipients()
        wanted = [r for r in everyone if (r.id, kind) not in switched_off]
        fresh = _not_yet_queued(session, kind, wanted, run.week)
        run.switched_off[kind] = len(everyone) - len(wanted)
        run.already[kind] = len(wanted) - len(fresh)
        plans.append((plan, fresh))
    total, done = sum(len(fresh) for _, fresh in plans), 0
    with _link_context():
        for plan, fresh in plans:
            plan.prepare(fresh)
            for start in range(0, len(fresh), BATCH_SIZE):
                batch = fresh[start : start + BATCH_SIZE]
                ready = []
                for recipient in batch:
                    digest = plan.digest(recipient)
                    if not digest:
                        run.empty[plan.kind] += 1
                        continue
                    ready.append(
                        _Queued(
                            key=digest_key(plan.kind, recipient.id, run.week),
                            user_id=recipient.id,
                            mail=render_digest(plan.kind, recipient, digest),
                            shown=plan.shown(digest),
                        )
                    )
                written = len(ready) if dry_run else _write(session, ready, now)
                run.queued[plan.kind] += written
                run.already[plan.kind] += len(ready) - written
                done += len(batch)
                if progress:
                    progress(done, total)
    return run


def _switched_off(session: Session) -> set[tuple[int, str]]:
    """(user id, kind) of every digest someone switched off."""
    return set(
        session.execute(
            select(DigestSetting.user_id, DigestSetting.kind).where(
                DigestSetting.enabled.is_(False)
            )
        ).all()
    )


def _not_yet_queued(
    session: Session, kind: str, recipients: Sequence[Recipient], week: str
) -> list[Recipient]:
    """The recipients without this week's digest of this kind in the outbox."""
    fresh = []
    for start in range(0, len(recipients), BATCH_SIZE):
        batch = recipients[start : start + BATCH_SIZE]
        keys = {digest_key(kind, r.id, week): r for r in batch}
        used = set(
            session.scalars(
                select(OutboxMessage.idempotency_key).where(
                    OutboxMessage.idempotency_key.in_(list(keys))
                )
            )
        )
        fresh.extend(r for key, r in keys.items() if key not in used)
    return fresh


def _write(session: Session, batch: Sequence[_Queued], now: datetime) -> int:
    """Write a batch to the outbox in two statements; how many were written.

    A concurrent run may have written some of the keys since we looked; then the
    batch goes one by one through ``mail.queue``, which skips used keys.
    """
    if not batch:
        return 0
    try:
        with session.begin_nested():
            session.execute(insert(OutboxMessage), [_outbox_row(q) for q in batch])
            shown = [
                {"user_id": q.user_id, "need_id": need_id, "shown_at": now}
                for q in batch
                for need_id in q.shown
            ]
            if shown:
                session.execute(insert(DigestShown), shown)
    except IntegrityError:
        return sum(_write_one(session, q, now) for q in batch)
    return len(batch)


def _outbox_row(queued: _Queued) -> dict:
    """The outbox row ``mail.queue`` would write, as values for a bulk insert."""
    message = queued.mail
    return {
        "idempotency_key": queued.key,
        "kind": message.kind,
        "recipient": message.to,
        "user_id": queued.user_id,
        "subject": message.subject,
        "text_body": message.text,
        "html_body": message.html,
        "headers": dict(message.headers) or None,
        "status": OutboxStatus.PENDING,
        "next_attempt_at": utcnow(),
    }


def _write_one(session: Session, queued: _Queued, now: datetime) -> int:
    if mail.queue(session, queued.mail, key=queued.key, user_id=queued.user_id) is None:
        return 0
    for need_id in queued.shown:
        try:
            with session.begin_nested():
                session.add(DigestShown(user_id=queued.user_id, need_id=need_id, shown_at=now))
        except IntegrityError:  # shown by the concurrent run as well
            pass
    return 1


# ---------------------------------------------------------------------------
# Settings: weekly or off, per kind


def kinds_for(session: Session, user: User) -> list[str]:
    """The digest kinds this person can receive, by role and membership."""
    kinds = []
    if user.has_role(Role.VOLUNTEER):
        kinds.append(DigestKind.VOLUNTEER.value)
    if user.has_role(Role.COORDINATOR) or user.has_role(Role.ADMIN):
        kinds.append(DigestKind.COORDINATOR.value)
    member = session.scalar(
        select(InitiativeMember.initiative_id).where(InitiativeMember.user_id == user.id).limit(1)
    )
    if user.has_role(Role.INITIATIVE) or member is not None:
        kinds.append(DigestKind.INITIATIVE.value)
    return kinds


def enabled_kinds(session: Session, user_id: int) -> dict[str, bool]:
    """Every kind with the person's choice; no row means weekly."""
    chosen = dict(
        session.execute(
            select(DigestSetting.kind, DigestSetting.enabled).where(
                DigestSetting.user_id == user_id
            )
        ).all()
    )
    return {kind: chosen.get(kind, True) for kind in KINDS}


def set_enabled(session: Session, user: User, kind: str, enabled: bool, *, now: datetime) -> bool:
    """Switch one digest kind on (weekly) or off; True when this changed the setting."""
    kind = DigestKind(kind).value
    setting = session.get(DigestSetting, (user.id, kind))
    if setting is None:
        if enabled:
            return False  # weekly is the default: nothing to write
        try:
            with session.begin_nested():
                session.add(
                    DigestSetting(user_id=user.id, kind=kind, enabled=False, updated_at=now)
                )
        except IntegrityError:  # written by a concurrent request a moment ago
            setting = session.get(DigestSetting, (user.id, kind), populate_existing=True)
        else:
            _audit(session, user, kind, enabled, now)
            return True
    if setting.enabled == enabled:
        return False
    setting.enabled = enabled
    setting.updated_at = now
    _audit(session, user, kind, enabled, now)
    return True


def _audit(session: Session, user: User, kind: str, enabled: bool, now: datetime) -> None:
    audit.record(
        session,
        user,
        "digest.subscribe" if enabled else "digest.unsubscribe",
        "user",
        user.id,
        detail={"kind": kind},
        now=now,
    )
