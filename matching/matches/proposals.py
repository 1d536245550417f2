"""Between the database and the pure engine: load records, run it, write proposals."""

from __future__ import annotations

import dataclasses
import functools
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, func, or_, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload

from matching import collector, engine, matches, sentences
from matching.database import among
from matching.errors import ServiceError
from matching.matches import passes, unchanged, volunteer_pool
from matching.models import (
    ACTIVE_MATCH_STATUSES,
    ADVISED_MATCH_STATUSES,
    NEVER_AGAIN_MATCH_STATUSES,
    InitiativeMember,
    Match,
    MatchOrigin,
    MatchStatus,
    Need,
    NeedPhase,
    NeedStatus,
    ProfileStatus,
    User,
    VolunteerDistrict,
    VolunteerLanguage,
    VolunteerPhaseLevel,
    VolunteerProfile,
)
from matching.reference import PHASE_CODES


def weights() -> engine.Weights:
    """The weights from config (MATCHING_WEIGHTS), checked once per distinct setting."""
    mapping = current_app.config["MATCHING_WEIGHTS"]
    try:
        return _weights_for(tuple(sorted(mapping.items())))
    except (AttributeError, TypeError):  # not a mapping of plain values: the engine says why
        return engine.Weights.from_mapping(mapping)


def _settings() -> dict:
    """The settings a proposal run's result depends on: the weights and how much "passt
    fachlich nicht" lowers a phase (``passes.factor_for``)."""
    config = current_app.config
    return {
        "weights": config["MATCHING_WEIGHTS"],
        "not_my_field": [config["NOT_MY_FIELD_FACTOR"], config["NOT_MY_FIELD_FLOOR"]],
    }


@functools.lru_cache(maxsize=8)
def _weights_for(items: tuple) -> engine.Weights:
    return engine.Weights.from_mapping(dict(items))


def _live_counts(session: Session, column, ids=None) -> dict[int, int]:
    """Live matches per value of ``column`` (a volunteer or a need), for ``ids`` or all."""
    live: list[ColumnElement[bool]] = [Match.status.in_(ACTIVE_MATCH_STATUSES)]
    if ids is not None:
        live.append(among(column, ids))
    rows = session.execute(select(column, func.count()).where(*live).group_by(column))
    return dict(rows.tuples().all())


def load_volunteers(session: Session, profiles: list[VolunteerProfile] | None = None):
    """Engine records for approved profiles (or the given ones), in a fixed number of queries.

    A live proposal counts like an engagement, so a volunteer is never proposed
    more often than their capacity allows and a second run proposes nothing new.
    """
    if profiles is None:
        return approved_volunteers(session)
    context = _VolunteerContext.load(
        session, [p.id for p in profiles], [p.user_id for p in profiles]
    )
    return [
        engine.Volunteer(
            id=p.id,
            confirmed=p.user.is_confirmed and p.user.is_active,
            approved=p.status == ProfileStatus.APPROVED,
            paused_until=p.paused_until,
            capacity=p.capacity,
            languages=p.languages,
            districts=p.districts,
            whole_city=p.whole_city,
            formats=p.formats,
            levels=p.level_by_phase,
            initiatives=frozenset(context.memberships.get(p.user_id, ())),
            first_name=p.user.first_name,
            **context.extra(p.id),
        )
        for p in profiles
    ]


@dataclass
class _VolunteerContext:
    """What the engine needs about volunteers beyond their profiles: load, exclusions,
    initiatives they belong to or advised, and phases that count less for them."""

    live: dict[int, int]
    excluded: dict[int, set[int]]
    memberships: dict[int, set[int]]
    advised: dict[int, set[int]]
    factors: dict[int, dict[str, float]]

    @classmethod
    def load(cls, session: Session, profile_ids: list[int] | Select, user_ids: list[int] | Select):
        excluded: dict[int, set[int]] = defaultdict(set)
        advised: dict[int, set[int]] = defaultdict(set)
        for volunteer_id, need_id, status, released_at, initiative_id in session.execute(
            select(
                Match.volunteer_id,
                Match.need_id,
                Match.status,
                Match.released_at,
                Need.initiative_id,
            )
            .join(Need, Need.id == Match.need_id)
            .where(
                among(Match.volunteer_id, profile_ids),
                or_(
                    Match.status.in_(
                        (
                            *NEVER_AGAIN_MATCH_STATUSES,
                            *ACTIVE_MATCH_STATUSES,
                            *ADVISED_MATCH_STATUSES,
                        )
                    ),
                    Match.released_at.is_not(None),
                ),
            )
        ):
            # A match given back unanswered is not offered to the same person again.
            if (
                status in NEVER_AGAIN_MATCH_STATUSES
                or status in ACTIVE_MATCH_STATUSES
                or released_at
            ):
                excluded[volunteer_id].add(need_id)
            if status in ADVISED_MATCH_STATUSES:
                advised[volunteer_id].add(initiative_id)
        for volunteer_id, need_ids in passes.passed_needs(session, profile_ids).items():
            excluded[volunteer_id] |= need_ids
        factors = {
            volunteer_id: passes.factors_from_counts(counts)
            for volunteer_id, counts in passes.not_my_field_counts(session, profile_ids).items()
        }
        memberships: dict[int, set[int]] = defaultdict(set)
        for user_id, initiative_id in session.execute(
            select(InitiativeMember.user_id, InitiativeMember.initiative_id).where(
                among(InitiativeMember.user_id, user_ids)
            )
        ):
            memberships[user_id].add(initiative_id)
        live = _live_counts(session, Match.volunteer_id, profile_ids)
        return cls(live, excluded, memberships, advised, factors)

    def extra(self, profile_id: int) -> dict:
        """The engine.Volunteer fields that come from this context, for one volunteer."""
        return {
            "active": self.live.get(profile_id, 0),
            "excluded_needs": frozenset(self.excluded.get(profile_id, ())),
            "advised_initiatives": frozenset(self.advised.get(profile_id, ())),
            "phase_factors": self.factors.get(profile_id, {}),
        }


def approved_volunteers(session: Session) -> list[engine.Volunteer]:
    """Engine records of every approved profile, built from plain rows in a fixed number of queries.

    The engine needs values only: making a few hundred profiles with their levels, districts,
    languages and users into ORM objects took most of a coordinator page's time under load.
    """
    return [volunteer for _user_id, volunteer in approved_volunteer_records(session)]


def approved_volunteer_records(
    session: Session, profile_ids=None, user_ids=None
) -> list[tuple[int, engine.Volunteer]]:
    """(user id, engine record) of every approved profile, or of those among the given profile
    or user ids (the kept pool reloads only the volunteers that changed)."""
    approved = VolunteerProfile.status == ProfileStatus.APPROVED
    if profile_ids is not None or user_ids is not None:
        approved &= or_(
            among(VolunteerProfile.id, profile_ids or ()),
            among(VolunteerProfile.user_id, user_ids or ()),
        )
    rows = session.execute(
        select(
            VolunteerProfile.id,
            VolunteerProfile.user_id,
            VolunteerProfile.paused_until,
            VolunteerProfile.capacity,
            VolunteerProfile.whole_city,
            VolunteerProfile.offers_in_person,
            VolunteerProfile.offers_phone,
            VolunteerProfile.offers_video,
            User.first_name,
            User.confirmed_at,
            User.disabled_at,
        )
        .join(User, User.id == VolunteerProfile.user_id)
        .where(approved)
        .order_by(VolunteerProfile.id)
    ).all()
    # The rows below belong to the profiles just read. Some of them: by those ids. All of them:
    # by the same condition, as a sub-select (an array of 50,000 ids cost the driver more than
    # the query). A profile approved in between then has rows but no record, and is left out;
    # one withdrawn in between keeps its record without levels, so it is nobody's candidate,
    # and the write checks every profile's status again (``propose_many``).
    if profile_ids is None and user_ids is None:
        approved_ids: Select | list[int] = select(VolunteerProfile.id).where(approved)
        approved_users: Select | list[int] = select(VolunteerProfile.user_id).where(approved)
    else:
        approved_ids, approved_users = [r.id for r in rows], [r.user_id for r in rows]
    levels: dict[int, dict[str, int]] = defaultdict(dict)
    for profile_id, phase, level in session.execute(
        select(
            VolunteerPhaseLevel.profile_id, VolunteerPhaseLevel.phase, VolunteerPhaseLevel.level
        ).where(among(VolunteerPhaseLevel.profile_id, approved_ids))
    ):
        levels[profile_id][phase] = level
    districts = _codes_by_profile(session, VolunteerDistrict.district, approved_ids)
    languages = _codes_by_profile(session, VolunteerLanguage.language, approved_ids)
    context = _VolunteerContext.load(session, approved_ids, approved_users)
    return [(r.user_id, _record(r, levels, districts, languages, context)) for r in rows]


_NONE: frozenset = frozenset()


def _record(r, levels, districts, languages, context: _VolunteerContext) -> engine.Volunteer:
    return engine.Volunteer(
        id=r.id,
        confirmed=r.confirmed_at is not None and r.disabled_at is None,
        approved=True,
        paused_until=r.paused_until,
        capacity=r.capacity,
        languages=languages.get(r.id, _NONE),
        districts=districts.get(r.id, _NONE),
        whole_city=r.whole_city,
        formats=format_set(r.offers_in_person, r.offers_phone, r.offers_video),
        levels=levels.get(r.id, {}),
        initiatives=frozenset(context.memberships.get(r.user_id, ())),
        first_name=r.first_name,
        **context.extra(r.id),
    )


_FORMAT_SETS = {
    (in_person, phone, video): frozenset(
        code for code, on in (("in_person", in_person), ("phone", phone), ("video", video)) if on
    )
    for in_person in (False, True)
    for phone in (False, True)
    for video in (False, True)
}


def format_set(in_person: bool, phone: bool, video: bool) -> frozenset[str]:
    """The format codes of three yes/no columns (in person, phone, video)."""
    return _FORMAT_SETS[bool(in_person), bool(phone), bool(video)]


def _codes_by_profile(session: Session, column, profile_ids) -> dict[int, frozenset[str]]:
    """Profile id → its codes, as frozen sets shared between profiles with the same codes
    (a few dozen distinct sets among 50,000 volunteers)."""
    table = column.class_
    codes: dict[int, set[str]] = defaultdict(set)
    for profile_id, code in session.execute(
        select(table.profile_id, column).where(among(table.profile_id, profile_ids))
    ):
        codes[profile_id].add(code)
    shared: dict[frozenset[str], frozenset[str]] = {}
    return {
        profile_id: shared.setdefault(frozen, frozen)
        for profile_id, frozen in ((p, frozenset(c)) for p, c in codes.items())
    }


def _profiles(session: Session, ids) -> dict[int, VolunteerProfile]:
    """The profiles (with their users) of the volunteers a page shows, by id."""
    return {
        p.id: p
        for p in session.scalars(
            select(VolunteerProfile)
            .options(selectinload(VolunteerProfile.user))
            .where(VolunteerProfile.id.in_(sorted(set(ids))))
        )
    }


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
    """Engine records of every open need, with the experts it still wants (plain rows)."""
    return open_need_records(session, _live_counts(session, Match.need_id))


@dataclass
class ProposalRun:
    """What a proposal run did (or would do, when dry)."""

    needs_open: int = 0
    needs_covered: int = 0
    proposed: int = 0
    mean_score: float = 0.0
    needs_without_candidate: list[int] = field(default_factory=list)
    skipped: int = 0
    requests: int = 0  # wishes for a run ("a need was published") this run served
    # Set when nothing the run reads changed since the last complete run at this moment: the
    # run stopped early and proposed nothing (matching.matches.unchanged).
    unchanged_since: datetime | None = None

    def as_dict(self) -> dict:
        found = {
            "needs_open": self.needs_open,
            "needs_covered": self.needs_covered,
            "experts_proposed": self.proposed,
            "mean_score": round(self.mean_score, 4),
            "needs_without_candidate": self.needs_without_candidate,
            "skipped": self.skipped,
            "requests": self.requests,
        }
        if self.unchanged_since is not None:
            found["unchanged_since"] = self.unchanged_since_text()
        return found

    def unchanged_since_text(self) -> str:
        """The last complete run's time as HH:MM where the association works (JOBS_TIMEZONE)."""
        assert self.unchanged_since is not None
        zone = ZoneInfo(current_app.config["JOBS_TIMEZONE"])
        return self.unchanged_since.astimezone(zone).strftime("%H:%M")


class TooLong(ServiceError):
    """A proposal run that went past MATCHING_MAX_SECONDS; it was stopped and wrote nothing."""

    status = 503

    def __init__(self, seconds: float) -> None:
        super().__init__(
            _l(
                "Der Vorschlagslauf hat länger als %(seconds)s Sekunden gedauert und wurde "
                "abgebrochen; es wurde nichts gespeichert.",
                seconds=f"{seconds:g}",
            )
        )


@dataclass
class _Deadline:
    """MATCHING_MAX_SECONDS from the start of a run, on the given clock (seconds)."""

    seconds: float
    clock: Callable[[], float]
    start: float | None = None

    def __post_init__(self) -> None:
        if self.start is None:
            self.start = self.clock()

    def left(self) -> float:
        assert self.start is not None  # set in __post_init__
        return self.seconds - (self.clock() - self.start)

    def check(self) -> None:
        if self.left() <= 0:
            raise TooLong(self.seconds)


def propose_matches(
    session: Session,
    actor: User | None,
    now: datetime,
    dry_run: bool = False,
    progress=None,
    clock: Callable[[], float] = time.monotonic,
    start: float | None = None,
    force: bool = False,
) -> ProposalRun:
    """Run the global proposal and write the chosen pairs as ``proposed`` matches, all at once.

    One transaction and a fixed number of statements however many proposals: the records are
    loaded once, the engine's candidate pairs also give the needs without candidate, and the
    proposals go through the match life cycle's bulk step (``matches.propose_many``). A run
    past MATCHING_MAX_SECONDS raises ``TooLong`` before or instead of writing, and its
    transaction must be rolled back (the jobs do): all of a run's proposals or none.

    First a fingerprint of everything the run reads: when it equals the last complete run's
    and that run is recent (``unchanged.STILL_VALID``), a full run would propose nothing, so
    this one stops there and says since when nothing changed (``unchanged_since``); ``force``
    runs anyway. A complete run that writes records its fingerprint; a dry run never does.
    """
    deadline = _Deadline(float(current_app.config["MATCHING_MAX_SECONDS"]), clock, start)
    steps = 2 if dry_run else 3
    if not dry_run:
        end_paused_proposals(session, now)
    before = unchanged.take(session, _settings(), now)
    last = None if force else unchanged.last_same(session, before, now)
    if last is not None:
        _step(progress, steps, steps, deadline)
        return ProposalRun(
            needs_open=before.needs_open,
            needs_without_candidate=list(last.needs_without_candidate or ()),
            unchanged_since=last.recorded_at,
        )
    with collector.paused():
        run, written = _run(session, actor, now, dry_run, progress, steps, deadline, before)
    run.proposed = len(written)
    run.needs_covered = len({p.need_id for p in written})
    if written:
        run.mean_score = sum(p.score.value for p in written) / len(written)
    return run


def _run(
    session: Session,
    actor: User | None,
    now: datetime,
    dry_run: bool,
    progress,
    steps: int,
    deadline: _Deadline,
    before: unchanged.Fingerprint,
) -> tuple[ProposalRun, list[engine.Proposal]]:
    """``propose_matches`` past the fingerprint check: load, plan, write, record."""
    needs = load_open_needs(session)
    pool = engine.Pool(load_volunteers(session))
    _step(progress, 1, steps, deadline)
    wanting = [n for n in needs if n.wanted > 0]
    plan = engine.plan(pool, wanting, weights(), now)
    _step(progress, 2, steps, deadline)
    run = ProposalRun(needs_open=len(needs), needs_without_candidate=plan.without_candidate)
    written = plan.proposals
    if not dry_run and plan.proposals:
        with _statement_limit(session, deadline):
            result = matches.propose_many(
                session,
                actor,
                [
                    matches.NewProposal(
                        p.need_id, p.volunteer_id, p.score.value, explanation_record(p.score)
                    )
                    for p in plan.proposals
                ],
                now=now,
            )
        written = [p for p in plan.proposals if (p.need_id, p.volunteer_id) in result.written]
        run.skipped = len(plan.proposals) - len(written)
        before = unchanged.with_new_matches(session, before, result.written.values())
    if not dry_run:
        unchanged.record(session, before, now, plan.without_candidate)
        _step(progress, 3, steps, deadline)
    return run, written


def _step(progress, done: int, total: int, deadline: _Deadline) -> None:
    deadline.check()
    if progress:
        progress(done, total)


@contextmanager
def _statement_limit(session: Session, deadline: _Deadline):
    """On PostgreSQL, statements (and their waits for locks) end with the run's time left."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    before = session.scalar(text("SELECT current_setting('statement_timeout')"))
    left_ms = max(1, int(deadline.left() * 1000))
    session.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(left_ms)})
    try:
        yield
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "57014":  # query_canceled: the limit
            raise TooLong(deadline.seconds) from exc
        raise
    session.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": before})


def explanation_record(score: engine.Score) -> list[dict]:
    """A score's parts as JSON for the match row, in both languages; "de"/"en" speak to the
    coordinator, "for" holds the volunteer's and the initiative's sentences where they differ
    from those (a reader left out of "for" reads the coordinator's: the same words, stored
    once; a city-scale run writes 24,000 of these)."""
    return [
        {
            "name": p.name,
            "contribution": round(p.contribution, 4),
            "de": p.de,
            "en": p.en,
            "for": {
                reader: {"de": de, "en": en}
                for reader, (de, en) in p.readers.items()
                if (de, en) != (p.de, p.en)
            },
        }
        for p in score.parts
    ]


def ranked_needs_for(session: Session, profile: VolunteerProfile, now: datetime, k: int = 10):
    """Open needs ranked by fit for one volunteer: [(Need, Score)], best first.

    Reads only the needs that can still reach the top ``k`` (matching.matches.fitting).
    """
    from matching.matches import fitting

    return fitting.ranked_needs(session, profile, now, k)


@functools.lru_cache(maxsize=512)
def in_phase_order(codes: frozenset[str]) -> tuple[str, ...]:
    """The phase codes in the order of the phases (needs share a few hundred sets at most)."""
    return tuple(code for code in PHASE_CODES if code in codes)


def open_need_records(session: Session, live: dict[int, int] | None = None) -> list[engine.Need]:
    """Engine records of every open need, from plain rows: wanting all its experts, or as many
    as ``live`` (need id → live matches) leaves."""
    live = live or {}
    rows = session.execute(
        select(*unchanged.NEED_COLUMNS).where(Need.status == NeedStatus.OPEN).order_by(Need.id)
    ).all()
    # By the ids just read: each statement sees the latest commits, and a need published in
    # between must not turn up without its phases.
    phases: dict[int, set[str]] = defaultdict(set)
    for need_id, phase in session.execute(
        select(NeedPhase.need_id, NeedPhase.phase).where(
            among(NeedPhase.need_id, [r.id for r in rows])
        )
    ):
        phases[need_id].add(phase)
    return [
        engine.Need(
            id=r.id,
            initiative_id=r.initiative_id,
            phases=in_phase_order(frozenset(phases.get(r.id, ()))),
            district=r.district,
            language=r.language,
            formats=format_set(r.accepts_in_person, r.accepts_phone, r.accepts_video),
            urgency=r.urgency,
            wanted=max(0, r.experts_wanted - live.get(r.id, 0)),
            opened_at=r.published_at or r.created_at,
        )
        for r in rows
    ]


def candidates_for(session: Session, need: Need, now: datetime, k: int = 10):
    """The best volunteers for one need: [(VolunteerProfile, Score)], best first."""
    pool = volunteer_pool.pool(session, approved_volunteer_records)
    ranked = engine.rank(to_engine_need(need), pool, weights(), now, k=k)
    by_id = _profiles(session, [v.id for v, _s in ranked])
    return [(by_id[v.id], s) for v, s in ranked if v.id in by_id]


@dataclass(frozen=True)
class Candidate:
    """Another candidate as a list names them: the profile's id and the person's name."""

    id: int
    display_name: str


def _candidates(session: Session, ids) -> dict[int, Candidate]:
    rows = session.execute(
        select(VolunteerProfile.id, User.first_name, User.last_name)
        .join(User, User.id == VolunteerProfile.user_id)
        .where(VolunteerProfile.id.in_(sorted(set(ids))))
    )
    return {id_: Candidate(id_, f"{first} {last}".strip()) for id_, first, last in rows}


def candidates_by_need(session: Session, needs: list[Need], now: datetime, k: int = 3):
    """For several needs at once: {need id: [(Candidate, score value)]}, best first, in fixed
    queries and one pass of the engine."""
    pool = volunteer_pool.pool(session, approved_volunteer_records)
    records = [to_engine_need(need) for need in {need.id: need for need in needs}.values()]
    ranked = engine.rank_each(pool, records, weights(), now, k=k)
    by_id = _candidates(session, [v.id for pairs in ranked.values() for v, _value in pairs])
    return {
        need_id: [(by_id[v.id], value) for v, value in pairs if v.id in by_id]
        for need_id, pairs in ranked.items()
    }


def score_pair(session: Session, need: Need, profile: VolunteerProfile, now: datetime):
    """The engine's score for one pair as it stands before a match exists (None if excluded)."""
    [volunteer] = load_volunteers(session, [profile])
    return engine.score(volunteer, to_engine_need(need), weights(), now)


# Hard filters that come from the need itself: an edit of the need can make an engine
# proposal impossible. The volunteer's own state (a break, a profile under review, full
# places) is the approval's to weigh; the queue shows it (matches.lifecycle._check_room).
_NEED_SIDE_EXCLUSIONS = frozenset({"language", "district", "member", "phase"})


def rescore_waiting(session: Session, need: Need, now: datetime) -> None:
    """The need's text, places or terms changed: each engine proposal still waiting for the
    coordinators gets the score and reasons of the need as it is now (the queue and the
    approval mail show them), and one the edited need excludes (another district, a phase
    the volunteer does not know) ends. A volunteer's own offer is never ended by an edit:
    it gets the new reasons where the engine can give them, and the coordinators decide."""
    waiting = session.scalars(
        select(Match)
        .options(selectinload(Match.volunteer))
        .where(Match.need_id == need.id, Match.status == MatchStatus.PROPOSED)
        .order_by(Match.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    if not waiting:
        return
    records = load_volunteers(session, [m.volunteer for m in waiting])
    engine_need = to_engine_need(need)
    chosen = weights()
    for match, volunteer in zip(waiting, records, strict=True):
        if match.status != MatchStatus.PROPOSED:  # ended meanwhile by a step set off here
            continue
        # Scored as before this proposal existed: it neither excludes its own need nor
        # counts against the volunteer's places.
        volunteer = dataclasses.replace(
            volunteer,
            excluded_needs=volunteer.excluded_needs - {need.id},
            active=max(0, volunteer.active - 1),
        )
        fit = engine.score(volunteer, engine_need, chosen, now)
        if fit is not None:
            match.score = fit.value
            match.explanation = explanation_record(fit)
        elif (
            match.origin == MatchOrigin.ENGINE
            and engine.exclusion(volunteer, engine_need, now) in _NEED_SIDE_EXCLUSIONS
        ):
            matches.change_status(
                session, None, match, "cancel", now=now, reason=sentences.NEED_CHANGED
            )


def end_paused_proposals(session: Session, now: datetime) -> int:
    """The engine's proposals of volunteers on a pause, still waiting for the coordinators,
    end: approving them is refused until the pause is over, and their needs would wait for
    nobody meanwhile (a waiting proposal holds the need's place). A volunteer's own offer stays
    for the coordinators, whose queue shows the pause. Each proposal run does this first, so a
    pause saved (which wants a run) frees its needs for someone else; a cancelled pair is not
    excluded, so the same expert can be proposed again once back. Returns how many ended.

    Not done while the pause is saved: that request holds the profile's row lock, and a
    match's step takes the need's lock first (an approval takes need, match, then profile).
    """
    paused = session.scalars(
        select(Match)
        .join(VolunteerProfile, VolunteerProfile.id == Match.volunteer_id)
        .where(
            Match.status == MatchStatus.PROPOSED,
            Match.origin == MatchOrigin.ENGINE,
            VolunteerProfile.paused_until > now.date(),
        )
        .order_by(Match.need_id, Match.id)
    ).all()
    ended = 0
    for match in paused:
        try:
            matches.change_status(
                session, None, match, "cancel", now=now, reason=sentences.VOLUNTEER_PAUSED
            )
        except ServiceError:  # decided meanwhile: nothing to end
            continue
        ended += 1
    return ended


def offer_help(session: Session, actor: User, need: Need, profile: VolunteerProfile, now: datetime):
    """A volunteer's "Ich kann helfen": a proposal with the engine's score and reasons."""
    fit = score_pair(session, need, profile, now)
    return matches.create_match(
        session,
        actor,
        need,
        profile,
        origin=MatchOrigin.OFFER,
        now=now,
        score=fit.value if fit else None,
        explanation=explanation_record(fit) if fit else None,
    )


def assign_by_hand(
    session: Session, actor: User, need: Need, profile: VolunteerProfile, now: datetime
):
    """A coordinator's own choice: proposed and approved in one step, scored like the rest."""
    fit = score_pair(session, need, profile, now)
    match = matches.create_match(
        session,
        actor,
        need,
        profile,
        origin=MatchOrigin.MANUAL,
        now=now,
        score=fit.value if fit else None,
        explanation=explanation_record(fit) if fit else None,
    )
    return matches.change_status(session, actor, match, "approve", now=now)
