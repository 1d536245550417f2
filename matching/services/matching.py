"""Between the database and the pure engine: load records, run it, write proposals."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from matching import engine
from matching.models import (
    ACTIVE_MATCH_STATUSES,
    InitiativeMember,
    Match,
    MatchOrigin,
    MatchStatus,
    Need,
    NeedStatus,
    ProfileStatus,
    User,
    VolunteerProfile,
)
from matching.services import matches
from matching.services.errors import ServiceError

NEVER_AGAIN = (MatchStatus.REJECTED, MatchStatus.DECLINED)


def weights() -> engine.Weights:
    """The weights from config (MATCHING_WEIGHTS)."""
    return engine.Weights.from_mapping(current_app.config["MATCHING_WEIGHTS"])


def _live_counts(session: Session, column) -> dict[int, int]:
    rows = session.execute(
        select(column, func.count()).where(Match.status.in_(ACTIVE_MATCH_STATUSES)).group_by(column)
    )
    return dict(rows.all())


def load_volunteers(session: Session, profiles: list[VolunteerProfile] | None = None):
    """Engine records for approved profiles (or the given ones), in a fixed number of queries.

    A live proposal counts like an engagement, so a volunteer is never proposed
    more often than their capacity allows and a second run proposes nothing new.
    """
    if profiles is None:
        profiles = session.scalars(
            select(VolunteerProfile)
            .options(selectinload(VolunteerProfile.user))
            .where(VolunteerProfile.status == ProfileStatus.APPROVED)
            .order_by(VolunteerProfile.id)
        ).all()
    ids = [p.id for p in profiles]
    live = _live_counts(session, Match.volunteer_id)
    excluded: dict[int, set[int]] = defaultdict(set)
    for volunteer_id, need_id in session.execute(
        select(Match.volunteer_id, Match.need_id).where(
            Match.volunteer_id.in_(ids), Match.status.in_((*NEVER_AGAIN, *ACTIVE_MATCH_STATUSES))
        )
    ):
        excluded[volunteer_id].add(need_id)
    memberships: dict[int, set[int]] = defaultdict(set)
    for user_id, initiative_id in session.execute(
        select(InitiativeMember.user_id, InitiativeMember.initiative_id).where(
            InitiativeMember.user_id.in_([p.user_id for p in profiles])
        )
    ):
        memberships[user_id].add(initiative_id)
    return [
        engine.Volunteer(
            id=p.id,
            confirmed=p.user.is_confirmed and p.user.is_active,
            approved=p.status == ProfileStatus.APPROVED,
            paused_until=p.paused_until,
            capacity=p.capacity,
            active=live.get(p.id, 0),
            languages=p.languages,
            districts=p.districts,
            whole_city=p.whole_city,
            formats=p.formats,
            levels=p.level_by_phase,
            excluded_needs=frozenset(excluded.get(p.id, ())),
            initiatives=frozenset(memberships.get(p.user_id, ())),
            first_name=p.user.first_name,
        )
        for p in profiles
    ]


def to_engine_need(need: Need, taken: int = 0) -> engine.Need:
    return engine.Need(
        id=need.id,
        initiative_id=need.initiative_id,
        phases=need.phases,
        district=need.district,
        language=need.language,
        formats=need.formats,
        urgency=need.urgency,
        wanted=max(0, need.experts_wanted - taken),
        opened_at=need.published_at or need.created_at,
    )


def load_open_needs(session: Session) -> list[engine.Need]:
    """Engine records of every open need, with the experts it still wants."""
    rows = session.scalars(
        select(Need).where(Need.status == NeedStatus.OPEN).order_by(Need.id)
    ).all()
    live = _live_counts(session, Match.need_id)
    return [to_engine_need(n, live.get(n.id, 0)) for n in rows]


@dataclass
class ProposalRun:
    """What a proposal run did (or would do, when dry)."""

    needs_open: int = 0
    needs_covered: int = 0
    proposed: int = 0
    mean_score: float = 0.0
    needs_without_candidate: list[int] = field(default_factory=list)
    skipped: int = 0

    def as_dict(self) -> dict:
        return {
            "needs_open": self.needs_open,
            "needs_covered": self.needs_covered,
            "experts_proposed": self.proposed,
            "mean_score": round(self.mean_score, 4),
            "needs_without_candidate": self.needs_without_candidate,
            "skipped": self.skipped,
        }


def propose_matches(
    session: Session, actor: User | None, now: datetime, dry_run: bool = False, progress=None
) -> ProposalRun:
    """Run the global proposal and write each chosen pair as a ``proposed`` match."""
    needs = load_open_needs(session)
    pool = engine.Pool(load_volunteers(session))
    wanting = [n for n in needs if n.wanted > 0]
    proposals = engine.propose(pool, wanting, weights(), now)
    run = ProposalRun(needs_open=len(needs))
    run.needs_without_candidate = [n.id for n in wanting if not len(pool.candidates(n, now))]
    by_id_need = {
        n.id: n
        for n in session.scalars(select(Need).where(Need.id.in_([p.need_id for p in proposals])))
    }
    by_id_profile = {
        p.id: p
        for p in session.scalars(
            select(VolunteerProfile).where(
                VolunteerProfile.id.in_([p.volunteer_id for p in proposals])
            )
        )
    }
    written = []
    for index, proposal in enumerate(proposals):
        if progress:
            progress(index + 1, len(proposals))
        if dry_run:
            written.append(proposal)
            continue
        try:
            matches.create_match(
                session,
                actor,
                by_id_need[proposal.need_id],
                by_id_profile[proposal.volunteer_id],
                origin=MatchOrigin.ENGINE,
                now=now,
                score=proposal.score.value,
                explanation=explanation_record(proposal.score),
            )
        except ServiceError:
            run.skipped += 1
        else:
            written.append(proposal)
    run.proposed = len(written)
    run.needs_covered = len({p.need_id for p in written})
    if written:
        run.mean_score = sum(p.score.value for p in written) / len(written)
    return run


def explanation_record(score: engine.Score) -> list[dict]:
    """A score's parts as JSON for the match row, in both languages."""
    return [
        {"name": p.name, "contribution": round(p.contribution, 4), "de": p.de, "en": p.en}
        for p in score.parts
    ]


def ranked_needs_for(session: Session, profile: VolunteerProfile, now: datetime, k: int = 10):
    """Open needs ranked by fit for one volunteer: [(Need, Score)], best first."""
    [volunteer] = load_volunteers(session, [profile])
    needs = session.scalars(
        select(Need)
        .options(selectinload(Need.initiative))
        .where(Need.status == NeedStatus.OPEN)
        .order_by(Need.id)
    ).all()
    scored = []
    for need in needs:
        result = engine.score(volunteer, to_engine_need(need, 0), weights(), now)
        if result is not None:
            scored.append((need, result))
    scored.sort(key=lambda pair: (-pair[1].value, pair[0].id))
    return scored[:k]


def candidates_for(session: Session, need: Need, now: datetime, k: int = 10):
    """The best volunteers for one need: [(VolunteerProfile, Score)], best first."""
    profiles = approved_profiles(session)
    records = load_volunteers(session, profiles)
    by_id = {p.id: p for p in profiles}
    ranked = engine.rank(to_engine_need(need), records, weights(), now, k=k)
    return [(by_id[v.id], s) for v, s in ranked]


def approved_profiles(session: Session) -> list[VolunteerProfile]:
    return session.scalars(
        select(VolunteerProfile)
        .options(selectinload(VolunteerProfile.user))
        .where(VolunteerProfile.status == ProfileStatus.APPROVED)
        .order_by(VolunteerProfile.id)
    ).all()


def candidates_by_need(session: Session, needs: list[Need], now: datetime, k: int = 3):
    """For several needs at once: {need id: [(VolunteerProfile, Score)]}, in fixed queries."""
    profiles = approved_profiles(session)
    by_id = {p.id: p for p in profiles}
    pool = engine.Pool(load_volunteers(session, profiles))
    result = {}
    for need in needs:
        ranked = engine.rank(to_engine_need(need), pool, weights(), now, k=k)
        result[need.id] = [(by_id[v.id], s) for v, s in ranked]
    return result


def score_pair(session: Session, need: Need, profile: VolunteerProfile, now: datetime):
    """The engine's score for one pair as it stands before a match exists (None if excluded)."""
    [volunteer] = load_volunteers(session, [profile])
    return engine.score(volunteer, to_engine_need(need), weights(), now)
