"""Read-only figures for coordinators: the overview, the coverage picture and the CSV exports.

Every function answers in a fixed number of statements, however many rows there
are, and takes ``now`` so that tests (and the digest later) can choose the time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from matching.models import (
    ACTIVE_MATCH_STATUSES,
    SERVED_MATCH_STATUSES,
    Initiative,
    Match,
    MatchStatus,
    Need,
    NeedPhase,
    NeedStatus,
    ProfileStatus,
    User,
    VolunteerProfile,
)
from matching.reference import DISTRICTS, PHASE_CODES, RINGS, Choice, District

# A need open this long without an expert is a gap the coordinators should look at.
STALE_NEED_AFTER = timedelta(days=14)
# An approved match the volunteer has not accepted or declined for this long (the default of
# VOLUNTEER_REMINDER_DAYS, which the pages and jobs read through ``unanswered_after``).
UNANSWERED_MATCH_AFTER = timedelta(days=7)
# A cell with open needs is "thin" while it has fewer spare experts than this beyond them.
SPARE_EXPERTS_WANTED = 2
# Rows each list shows on the overview; the rest are a link away, a page of LIST_PAGE_ROWS each.
OVERVIEW_ROWS = 10
LIST_PAGE_ROWS = 50


# ---------------------------------------------------------------------------
# Overview


@dataclass(frozen=True)
class StaleNeed:
    id: int
    title: str
    initiative: str
    district: str
    opened_at: datetime
    days_open: int


@dataclass(frozen=True)
class UnansweredMatch:
    id: int
    volunteer_name: str
    need_id: int
    need_title: str
    decided_at: datetime
    days_waiting: int


@dataclass(frozen=True)
class OverdueProposal:
    """A proposal or offer left undecided past HIGHLIGHT_AFTER_DAYS: highlighted for coordinators."""

    id: int
    volunteer_name: str
    need_id: int
    need_title: str
    origin: str
    created_at: datetime
    days_waiting: int


@dataclass(frozen=True)
class Dashboard:
    """The overview's figures; each list holds its first rows (all of them for the digest), each
    ``*_total`` how many there are in all."""

    now: datetime
    need_counts: list[tuple[str, int]]
    match_counts: list[tuple[str, int]]
    stale_needs: list[StaleNeed]
    waiting_profiles: int
    unanswered_matches: list[UnansweredMatch]
    overdue_proposals: list[OverdueProposal] = field(default_factory=list)
    # Accepted matches with no message and no meeting for NO_CONTACT_ALERT_DAYS (matches.pulse).
    silent_matches: list = field(default_factory=list)
    stale_total: int = 0
    unanswered_total: int = 0
    overdue_total: int = 0
    silent_total: int = 0

    @property
    def waiting_proposals(self) -> int:
        """Proposals (engine, offers, manual) that wait for a coordinator's decision."""
        return dict(self.match_counts).get("proposed", 0)


@dataclass(frozen=True)
class Listing:
    """One page of a long list: its rows, how many there are in all, and where it is."""

    rows: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def count(session: Session, query) -> int:
    """How many rows ``query`` has, counted by the database (no row is loaded)."""
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def _window(query, limit: int | None, offset: int):
    return query if limit is None else query.limit(limit).offset(offset)


def _counts_by_status(session: Session, status_column, statuses: Iterable[str]):
    """``[(status, count), ...]`` in the life-cycle order, zeros included."""
    found = dict(session.execute(select(status_column, func.count()).group_by(status_column)).all())
    return [(str(status), found.get(status, 0)) for status in statuses]


def stale_needs_query(now: datetime):
    """Open needs published before the stale limit with no approved, accepted or completed
    match, oldest first."""
    opened_at = func.coalesce(Need.published_at, Need.created_at)
    served = exists().where(Match.need_id == Need.id, Match.status.in_(SERVED_MATCH_STATUSES))
    return (
        select(Need.id, Need.title, Initiative.name, Need.district, opened_at.label("opened_at"))
        .join(Initiative, Initiative.id == Need.initiative_id)
        .where(Need.status == NeedStatus.OPEN, opened_at <= now - STALE_NEED_AFTER, ~served)
        .order_by(opened_at, Need.id)
    )


def stale_needs(
    session: Session, now: datetime, limit: int | None = None, offset: int = 0
) -> list[StaleNeed]:
    """The stale needs (all, or ``limit`` of them from ``offset``), oldest first."""
    rows = session.execute(_window(stale_needs_query(now), limit, offset)).all()
    return [
        StaleNeed(
            id=row.id,
            title=row.title,
            initiative=row.name,
            district=row.district,
            opened_at=row.opened_at,
            days_open=(now - row.opened_at).days,
        )
        for row in rows
    ]


def unanswered_matches_query(now: datetime):
    """Approved matches the volunteer has left unanswered since before the limit, oldest first."""
    return (
        select(
            Match.id,
            Match.decided_at,
            User.first_name,
            User.last_name,
            Need.id.label("need_id"),
            Need.title,
        )
        .join(Need, Need.id == Match.need_id)
        .join(VolunteerProfile, VolunteerProfile.id == Match.volunteer_id)
        .join(User, User.id == VolunteerProfile.user_id)
        .where(
            Match.status == MatchStatus.APPROVED,
            Match.decided_at <= now - unanswered_after(),
        )
        .order_by(Match.decided_at, Match.id)
    )


def unanswered_matches(
    session: Session, now: datetime, limit: int | None = None, offset: int = 0
) -> list[UnansweredMatch]:
    """The unanswered matches (all, or ``limit`` of them from ``offset``), oldest first."""
    rows = session.execute(_window(unanswered_matches_query(now), limit, offset)).all()
    return [
        UnansweredMatch(
            id=row.id,
            volunteer_name=f"{row.first_name} {row.last_name}".strip(),
            need_id=row.need_id,
            need_title=row.title,
            decided_at=row.decided_at,
            days_waiting=(now - row.decided_at).days,
        )
        for row in rows
    ]


def unanswered_after() -> timedelta:
    """How long an approved match waits for its volunteer before it counts as unanswered."""
    return timedelta(days=current_app.config["VOLUNTEER_REMINDER_DAYS"])


def highlight_after() -> timedelta:
    """How long a proposal waits for a decision before coordinators see it highlighted."""
    return timedelta(days=current_app.config["HIGHLIGHT_AFTER_DAYS"])


def overdue_proposals_query(now: datetime):
    """Proposals and offers undecided since before HIGHLIGHT_AFTER_DAYS, oldest first."""
    return (
        select(
            Match.id,
            Match.created_at,
            Match.origin,
            User.first_name,
            User.last_name,
            Need.id.label("need_id"),
            Need.title,
        )
        .join(Need, Need.id == Match.need_id)
        .join(VolunteerProfile, VolunteerProfile.id == Match.volunteer_id)
        .join(User, User.id == VolunteerProfile.user_id)
        .where(Match.status == MatchStatus.PROPOSED, Match.created_at <= now - highlight_after())
        .order_by(Match.created_at, Match.id)
    )


def overdue_proposals(
    session: Session, now: datetime, limit: int | None = None, offset: int = 0
) -> list[OverdueProposal]:
    """The overdue proposals (all, or ``limit`` of them from ``offset``), oldest first."""
    rows = session.execute(_window(overdue_proposals_query(now), limit, offset)).all()
    return [
        OverdueProposal(
            id=row.id,
            volunteer_name=f"{row.first_name} {row.last_name}".strip(),
            need_id=row.need_id,
            need_title=row.title,
            origin=row.origin,
            created_at=row.created_at,
            days_waiting=(now - row.created_at).days,
        )
        for row in rows
    ]


def dashboard(session: Session, now: datetime, rows: int | None = None) -> Dashboard:
    """Everything on the coordinators' overview, each list cut to its first ``rows`` (the page)
    or whole (the digest), in eleven statements however long the lists are."""
    from matching.matches import pulse  # the after-match feature lives in matches/

    waiting = session.scalar(
        select(func.count())
        .select_from(VolunteerProfile)
        .where(VolunteerProfile.status == ProfileStatus.PENDING)
    )
    return Dashboard(
        now=now,
        need_counts=_counts_by_status(session, Need.status, NeedStatus),
        match_counts=_counts_by_status(session, Match.status, MatchStatus),
        stale_needs=stale_needs(session, now, limit=rows),
        waiting_profiles=waiting or 0,
        unanswered_matches=unanswered_matches(session, now, limit=rows),
        overdue_proposals=overdue_proposals(session, now, limit=rows),
        silent_matches=pulse.silent(session, now, limit=rows),
        stale_total=count(session, stale_needs_query(now)),
        unanswered_total=count(session, unanswered_matches_query(now)),
        overdue_total=count(session, overdue_proposals_query(now)),
        silent_total=pulse.silent_count(session, now),
    )


# ---------------------------------------------------------------------------
# Coverage: phase × district


@dataclass(frozen=True)
class CoverageCell:
    district: str
    phase: str
    needs: int
    volunteers: int
    # Open needs here that nobody available could take (every hard filter, language and
    # format included); filled in by matching.reports.boxes.
    uncovered: int = 0

    @property
    def level(self) -> str:
        """gap, none, thin or ok; the template turns it into a colour and a word."""
        if self.needs > self.volunteers or self.uncovered:
            return "gap"
        if self.volunteers == 0:
            return "none"
        if self.needs and self.volunteers < self.needs + SPARE_EXPERTS_WANTED:
            return "thin"
        return "ok"


@dataclass(frozen=True)
class CoverageRing:
    ring: Choice
    rows: list[tuple[District, list[CoverageCell]]]  # cells in phase order


@dataclass
class Coverage:
    now: datetime
    rings: list[CoverageRing] = field(default_factory=list)

    @property
    def cells(self) -> list[CoverageCell]:
        return [cell for ring in self.rings for _, cells in ring.rows for cell in cells]

    @property
    def gaps(self) -> int:
        return sum(1 for cell in self.cells if cell.level == "gap")


def available_volunteers(now: datetime):
    """Subquery of profiles that could take on a need now: (id, whole_city).

    Approved, confirmed and not disabled, not paused today, and with a free place
    (capacity minus live matches: a proposal waiting for a yes holds the place, as the
    matching engine counts it, so the coverage picture's numbers and lists agree).
    """
    today: date = now.date()  # the engine's reading of "paused", so both agree
    engaged = (
        select(Match.volunteer_id, func.count().label("engaged"))
        .where(Match.status.in_(ACTIVE_MATCH_STATUSES))
        .group_by(Match.volunteer_id)
        .subquery()
    )
    return (
        select(VolunteerProfile.id, VolunteerProfile.whole_city)
        .join(User, User.id == VolunteerProfile.user_id)
        .outerjoin(engaged, engaged.c.volunteer_id == VolunteerProfile.id)
        .where(
            VolunteerProfile.status == ProfileStatus.APPROVED,
            User.confirmed_at.is_not(None),
            User.disabled_at.is_(None),
            or_(VolunteerProfile.paused_until.is_(None), VolunteerProfile.paused_until <= today),
            VolunteerProfile.capacity - func.coalesce(engaged.c.engaged, 0) > 0,
        )
        .subquery()
    )


def coverage(
    now: datetime,
    needs: Mapping[tuple[str, str], int],
    local: Mapping[tuple[str, str], int],
    citywide: Mapping[str, int],
) -> Coverage:
    """The picture of open needs per (district, phase) and of the experts who could take one
    on: per (district, phase) those serving their districts, per phase those serving the
    whole city (they count once in every district). ``matching.reports.boxes`` counts them.
    """
    result = Coverage(now=now)
    for ring in RINGS:
        rows = [
            (
                district,
                [
                    CoverageCell(
                        district=district.code,
                        phase=phase,
                        needs=needs.get((district.code, phase), 0),
                        volunteers=local.get((district.code, phase), 0) + citywide.get(phase, 0),
                    )
                    for phase in PHASE_CODES
                ],
            )
            for district in DISTRICTS
            if district.ring == ring.code
        ]
        result.rings.append(CoverageRing(ring=ring, rows=rows))
    return result


# ---------------------------------------------------------------------------
# Export rows (matching.reports.exports): no passwords, tokens, e-mail addresses or phones


NEED_COLUMNS = (
    "id",
    "status",
    "title",
    "initiative",
    "district",
    "phases",
    "urgency",
    "experts_wanted",
    "created_at",
    "published_at",
    "closed_at",
)
MATCH_COLUMNS = (
    "id",
    "status",
    "origin",
    "need_id",
    "need_title",
    "volunteer_first_name",
    "volunteer_last_name",
    "score",
    "created_at",
    "decided_at",
    "accepted_at",
    "completed_at",
    "feedback_rating",
)


def need_rows(session: Session) -> list[tuple]:
    """Every need as a row of NEED_COLUMNS, oldest first (two statements)."""
    phases: dict[int, set[str]] = defaultdict(set)
    for need_id, phase in session.execute(select(NeedPhase.need_id, NeedPhase.phase)):
        phases[need_id].add(phase)
    rows = session.execute(
        select(
            Need.id,
            Need.status,
            Need.title,
            Initiative.name,
            Need.district,
            Need.urgency,
            Need.experts_wanted,
            Need.created_at,
            Need.published_at,
            Need.closed_at,
        )
        .join(Initiative, Initiative.id == Need.initiative_id)
        .order_by(Need.id)
    ).all()
    return [
        (
            row.id,
            row.status,
            row.title,
            row.name,
            row.district,
            " ".join(code for code in PHASE_CODES if code in phases[row.id]),
            row.urgency,
            row.experts_wanted,
            row.created_at,
            row.published_at,
            row.closed_at,
        )
        for row in rows
    ]


def match_rows(session: Session) -> list[tuple]:
    """Every match as a row of MATCH_COLUMNS, oldest first (one statement)."""
    return [
        tuple(row)
        for row in session.execute(
            select(
                Match.id,
                Match.status,
                Match.origin,
                Need.id,
                Need.title,
                User.first_name,
                User.last_name,
                Match.score,
                Match.created_at,
                Match.decided_at,
                Match.accepted_at,
                Match.completed_at,
                Match.feedback_rating,
            )
            .join(Need, Need.id == Match.need_id)
            .join(VolunteerProfile, VolunteerProfile.id == Match.volunteer_id)
            .join(User, User.id == VolunteerProfile.user_id)
            .order_by(Match.id)
        ).all()
    ]
