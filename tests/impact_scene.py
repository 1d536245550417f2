"""A year of advice with hand-picked moments, for the "Wirkung" figures.

Moments sit on Stuttgart's month and year boundaries on purpose: 2025-12-31 23:30 UTC is
already 1 January 2026 in Stuttgart, 2026-02-28 23:30 UTC is 1 March, 2026-06-30 22:30 UTC
(summer time) is 1 July. The expected figures are worked out by hand in tests/test_impact.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from matching.models import (
    AuditEntry,
    Initiative,
    Match,
    MatchStatus,
    Meeting,
    Need,
    NeedPhase,
    NeedStatus,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class ImpactScene:
    needs: dict[str, Need]
    initiatives: dict[str, Initiative]


def build_impact_scene(db, make_volunteer) -> ImpactScene:
    """Needs n1–n6 (and a draft) of initiatives A (Ost), B (Mitte), C (Vaihingen)."""
    v1 = make_volunteer("v1@example.org")
    v2 = make_volunteer("v2@example.org")
    a = Initiative(name="Initiative A", district="ost")
    b = Initiative(name="Initiative B", district="mitte")
    c = Initiative(name="Initiative C", district="vaihingen")
    db.session.add_all([a, b, c])

    def need(initiative, district, phases, published, status, closed=None, follows=None):
        row = Need(
            initiative=initiative,
            title="Anfrage",
            description="Beschreibung",
            district=district,
            status=status,
            published_at=published,
            closed_at=closed,
        )
        row.phase_rows = [NeedPhase(phase=p) for p in phases]
        if follows is not None:
            row.follows_need_id = follows.id
        db.session.add(row)
        db.session.flush()
        return row

    def match(need_, volunteer, status, proposed, accepted=None, completed=None, released=None):
        row = Match(
            need_id=need_.id,
            volunteer_id=volunteer.id,
            status=status,
            created_at=proposed,
            accepted_at=accepted,
            completed_at=completed,
            released_at=released,
        )
        db.session.add(row)
        db.session.flush()
        return row

    def meeting(match_, starts, status="confirmed", outcome=None):
        db.session.add(
            Meeting(
                match_id=match_.id,
                uid=f"m{match_.id}-{starts.isoformat()}@test",
                status=status,
                proposed_by_role="volunteer",
                place_kind="phone",
                starts_at=starts,
                duration_minutes=60,
                outcome=outcome,
            )
        )

    def advised(need_, when):
        db.session.add(
            AuditEntry(
                at=when,
                action="need.mark_advised",
                object_type="need",
                object_id=need_.id,
                from_state="matched",
                to_state="advised",
            )
        )

    day = timedelta(days=1)
    # n1: A, published 1 Jan 2026 00:30 in Stuttgart; advised in 12 days; closed 1 Feb.
    p1 = at("2025-12-31T23:30")
    n1 = need(a, "ost", ["start"], p1, NeedStatus.CLOSED, closed=at("2026-02-01T10:00"))
    m1 = match(n1, v1, MatchStatus.COMPLETED, p1 + day, p1 + 3 * day, p1 + 12 * day)
    m1.feedback_rating, m1.feedback_at = 5, at("2026-01-13T09:00")
    m1.volunteer_feedback, m1.volunteer_feedback_at = "Gut", at("2026-01-13T10:00")
    meeting(m1, p1 + 10 * day, outcome="held")
    meeting(m1, p1 + 11 * day, status="cancelled")
    advised(n1, p1 + 12 * day)
    # n2: B in Mitte, published 1 March 00:30 in Stuttgart; advised after 20 days.
    p2 = at("2026-02-28T23:30")
    n2 = need(b, "mitte", ["start", "results"], p2, NeedStatus.ADVISED)
    m2 = match(n2, v2, MatchStatus.COMPLETED, p2 + 2 * day, p2 + 5 * day, p2 + 20 * day)
    m2.feedback_rating, m2.feedback_at = 3, at("2026-03-25T09:00")
    meeting(m2, p2 + 20 * day)  # not asked yet whether it took place
    meeting(m2, p2 + 21 * day, outcome="not_held")
    advised(n2, p2 + 20 * day)
    # n3: C, published 1 July 00:30 in Stuttgart (summer time), nobody, expired 1 August.
    n3 = need(
        c,
        "vaihingen",
        ["planning", "cooperation"],
        at("2026-06-30T22:30"),
        NeedStatus.EXPIRED,
        closed=at("2026-08-01T00:00"),
    )
    # n4: B, published 31 Dec 2025 23:30 in Stuttgart: last year; accepted and withdrawn in 2026.
    p4 = at("2025-12-31T22:30")
    n4 = need(b, "mitte", ["start"], p4, NeedStatus.WITHDRAWN, closed=at("2026-01-20T12:00"))
    match(n4, v1, MatchStatus.CANCELLED, p4, at("2026-01-02T12:00"), None, at("2026-01-20T12:00"))
    # n5, n6: A goes on along its path, to a second and a third phase.
    n5 = need(a, "ost", ["planning"], at("2026-04-10T08:00"), NeedStatus.OPEN, follows=n1)
    match(n5, v2, MatchStatus.PROPOSED, at("2026-04-11T08:00"))
    n6 = need(a, "ost", ["conflicts"], at("2026-05-01T08:00"), NeedStatus.OPEN, follows=n5)
    draft = need(a, "ost", ["start"], None, NeedStatus.DRAFT)
    db.session.commit()
    return ImpactScene(
        {"n1": n1, "n2": n2, "n3": n3, "n4": n4, "n5": n5, "n6": n6, "draft": draft},
        {"A": a, "B": b, "C": c},
    )
