"""The coordinators' view of the engine: preview a proposal run, apply it, and say why a need
has nobody (DESIGN §5). Reading only, except ``apply``, which proposes through the match
life cycle (``create_match``) like the job does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matching import engine, matches
from matching.engine import insight
from matching.errors import InvalidInput
from matching.matches import autorun
from matching.matches.proposals import (
    explanation_record,
    load_open_needs,
    load_volunteers,
    to_engine_need,
    weights,
)
from matching.models import (
    ACTIVE_MATCH_STATUSES,
    JobRun,
    Match,
    Need,
    User,
    VolunteerProfile,
)

MAX_PAIRS = 5000  # a form with more is not one this page made


def _locale() -> str:
    return str(get_locale() or "de")


def sentence(pair: tuple[str, str]) -> str:
    """The (de, en) sentence in the current locale."""
    return pair[1] if _locale().startswith("en") else pair[0]


@dataclass
class Left:
    """A need the run leaves without a proposal, with the reason class and its sentence."""

    need: Need
    nobody: insight.Nobody
    text: str


@dataclass
class Planned:
    """One pair of the preview: the need, the expert's name and the explained score."""

    need: Need
    volunteer: str
    volunteer_id: int
    score: engine.Score


@dataclass
class Preview:
    """What a run would do now; nothing of it is written."""

    needs_open: int
    needs_wanting: int
    pairs: list[Planned]
    left: list[Left]
    spread_before: tuple[int, int, int, int]
    spread_after: tuple[int, int, int, int]
    comparison: insight.Comparison

    @property
    def covered(self) -> int:
        return len({p.need.id for p in self.pairs})

    @property
    def experts(self) -> int:
        return len({p.volunteer_id for p in self.pairs})

    @property
    def mean_fit(self) -> float:
        return sum(p.score.value for p in self.pairs) / len(self.pairs) if self.pairs else 0.0

    @property
    def fields(self) -> list[str]:
        """The pairs as the form's hidden values ("need:volunteer")."""
        return [f"{p.need.id}:{p.volunteer_id}" for p in self.pairs]


def preview(session: Session, now: datetime) -> Preview:
    """Compute the global proposal, the first-come baseline, the spread and the reasons."""
    needs = load_open_needs(session)
    volunteers = load_volunteers(session)
    pool = engine.Pool(volunteers)
    wanting = [n for n in needs if n.wanted > 0]
    chosen = weights()
    proposals = engine.propose(pool, wanting, chosen, now)
    baseline = insight.first_come(pool, wanting, chosen, now)
    available = [v for v in volunteers if v.confirmed and v.approved]
    planned = Counter(p.volunteer_id for p in proposals)
    covered = {p.need_id for p in proposals}
    rows = _needs(session, [n.id for n in wanting])
    names = _names(session, planned)
    left = []
    for record in wanting:
        if record.id in covered:
            continue
        nobody = insight.why_nobody(record, volunteers, now) or insight.Nobody(
            record.id, insight.TAKEN
        )
        left.append(Left(rows[record.id], nobody, sentence(insight.nobody_text(nobody, record))))
    return Preview(
        needs_open=len(needs),
        needs_wanting=len(wanting),
        pairs=[
            Planned(rows[p.need_id], names.get(p.volunteer_id, "?"), p.volunteer_id, p.score)
            for p in proposals
        ],
        left=left,
        spread_before=insight.spread(v.active for v in available),
        spread_after=insight.spread(v.active + planned[v.id] for v in available),
        comparison=insight.compare(proposals, baseline),
    )


def _needs(session: Session, ids) -> dict[int, Need]:
    query = select(Need).options(selectinload(Need.initiative)).where(Need.id.in_(sorted(ids)))
    return {n.id: n for n in session.scalars(query)}


def _names(session: Session, ids) -> dict[int, str]:
    rows = session.execute(
        select(VolunteerProfile.id, User.first_name, User.last_name)
        .join(User, User.id == VolunteerProfile.user_id)
        .where(VolunteerProfile.id.in_(sorted(ids)))
    )
    return {id_: f"{first} {last}".strip() for id_, first, last in rows}


# ---------------------------------------------------------------------------------------------
# Applying a preview


@dataclass
class Applied:
    """What "Übernehmen" did: the proposals made, and for each pair left out, why."""

    proposed: int = 0
    refused: list[str] = field(default_factory=list)


def read_pairs(values: list[str]) -> list[tuple[int, int]]:
    """The form's "need:volunteer" values as pairs; anything else is refused as a whole."""
    if not values or len(values) > MAX_PAIRS:
        raise InvalidInput(_l("Dieser Vorschlag ist leer oder nicht lesbar. Bitte neu berechnen."))
    pairs = []
    for value in values:
        need, _, volunteer = str(value).partition(":")
        if not (need.isdigit() and volunteer.isdigit()) or len(value) > 24:
            raise InvalidInput(_l("Dieser Vorschlag ist nicht lesbar. Bitte neu berechnen."))
        pairs.append((int(need), int(volunteer)))
    return list(dict.fromkeys(pairs))


def apply(session: Session, actor: User, pairs: list[tuple[int, int]], now: datetime) -> Applied:
    """Propose the previewed pairs that still fit the picture now; say what changed for the rest.

    Takes the proposal runs' lock first, so a job run at the same moment is either done (and
    its proposals are seen here) or waits for this one.
    """
    autorun.serialise(session)
    result = Applied()
    needs = {n.id: n for n in load_open_needs(session)}
    rows = _needs(session, [n for n, _v in pairs])
    profiles = {
        p.id: p
        for p in session.scalars(
            select(VolunteerProfile)
            .options(selectinload(VolunteerProfile.user))
            .where(VolunteerProfile.id.in_(sorted({v for _n, v in pairs})))
        )
    }
    volunteers = {v.id: v for v in load_volunteers(session, list(profiles.values()))}
    live = set(
        session.execute(
            select(Match.need_id, Match.volunteer_id).where(
                Match.status.in_(ACTIVE_MATCH_STATUSES),
                Match.need_id.in_(sorted({n for n, _v in pairs})),
            )
        ).all()
    )
    planned: dict[tuple[int, int], tuple[engine.Score, str, str]] = {}
    added_to_need: Counter = Counter()
    added_to_volunteer: Counter = Counter()
    chosen = weights()
    for need_id, volunteer_id in pairs:
        row, profile = rows.get(need_id), profiles.get(volunteer_id)
        title = row.title if row else f"#{need_id}"
        name = profile.user.display_name if profile else f"#{volunteer_id}"
        record, volunteer = needs.get(need_id), volunteers.get(volunteer_id)
        why = None
        if (need_id, volunteer_id) in live:
            why = _l("ist schon vorgeschlagen")
        elif record is None or row is None:
            why = _l("die Anfrage ist nicht mehr offen")
        elif record.wanted - added_to_need[need_id] <= 0:
            why = _l("die Anfrage hat inzwischen genug Vorschläge")
        elif volunteer is None:
            why = _l("das Profil ist nicht mehr freigegeben")
        else:
            volunteer = _with_more(volunteer, added_to_volunteer[volunteer_id])
            excluded = engine.exclusion(volunteer, record, now)
            if excluded is not None:
                why = sentence(engine.EXCLUSIONS[excluded])
        if why is None:
            # Reached only with all four found (the volunteer comes from the profile).
            assert volunteer is not None and record is not None
            assert row is not None and profile is not None
            fit = engine.score(volunteer, record, chosen, now)
            assert fit is not None  # no exclusion applies: checked just above
            planned[(need_id, volunteer_id)] = (fit, title, name)
            added_to_need[need_id] += 1
            added_to_volunteer[volunteer_id] += 1
            continue
        result.refused.append(_refusal(title, name, why))
    # Through the match life cycle in bulk, as the job writes; it checks each pair again.
    written = matches.propose_many(
        session,
        actor,
        [
            matches.NewProposal(n, v, fit.value, explanation_record(fit))
            for (n, v), (fit, _t, _n) in planned.items()
        ],
        now=now,
    )
    for pair, why in written.refused.items():
        _fit, title, name = planned.pop(pair)
        added_to_need[pair[0]] -= 1
        result.refused.append(_refusal(title, name, why))
    result.proposed = len(planned)
    fits = [fit.value for fit, _t, _n in planned.values()]
    added_to_need = +added_to_need  # needs left with none of their pairs drop out
    session.add(
        JobRun(
            job="propose_matches",
            started_at=now,
            finished_at=now,
            ok=True,
            dry_run=False,
            summary={
                "needs_open": len(needs),
                "needs_covered": len(added_to_need),
                "experts_proposed": result.proposed,
                "mean_score": round(sum(fits) / len(fits), 4) if fits else 0.0,
                "skipped": len(result.refused),
                "source": "Koordination",
            },
        )
    )
    return result


def _refusal(title: str, name: str, why) -> str:
    return str(_l("„%(title)s“ mit %(name)s: %(why)s", title=title, name=name, why=why))


def _with_more(volunteer: engine.Volunteer, more: int) -> engine.Volunteer:
    """The record with ``more`` engagements added (pairs this apply already proposed)."""
    if not more:
        return volunteer
    return replace(volunteer, active=volunteer.active + more)


# ---------------------------------------------------------------------------------------------
# Why a need has nobody


def why_nobody(session: Session, need: Need, now: datetime) -> insight.Nobody | None:
    """The reason class for an open need without a live match, or None when someone fits."""
    return insight.why_nobody(to_engine_need(need), load_volunteers(session), now)


def nobody_sentence(nobody: insight.Nobody, need: Need) -> str:
    """The reason in the current locale."""
    return sentence(insight.nobody_text(nobody, to_engine_need(need)))


def last_runs(session: Session, limit: int = 5) -> Sequence[JobRun]:
    """The latest real proposal runs, newest first (job, button or after a change)."""
    return session.scalars(
        select(JobRun)
        .where(JobRun.job == "propose_matches", JobRun.dry_run.is_(False))
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(limit)
    ).all()
