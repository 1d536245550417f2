"""Whether anything a proposal run reads changed since the last complete run.

A run right after another proposes nothing new, yet loading every volunteer and need and
solving again costs nearly as much as the first run. So a complete run that writes records a
*fingerprint* of its inputs, and the next run compares before it loads anything:

- the fingerprint is a digest of every row and column the run reads (``_PARTS``: open needs and
  all phases, every match's status and release, profiles with their levels, districts,
  languages, pause and capacity, users' names and confirmation, "Diesmal nicht" answers,
  memberships), of the settings that shape scores (weights, "passt fachlich nicht" factors)
  and of today's date (a pause ends at midnight);
- per table it is the row count and the sum of a 64-bit hash of each row's columns, computed
  by the database on PostgreSQL (one statement, no rows travel) and from the rows elsewhere.
  It does not depend on which write path changed a row, on ``updated_at`` being bumped, or on
  the session events seeing the write: an ORM flush, a bulk statement, plain SQL, a cascade
  or a restore all change it. Sums do not depend on row order, so a run's own proposals are
  added to the fingerprint taken before it loaded (``with_new_matches``): a change committed
  by someone else while the run was busy is not in it, and the next run sees it;
- the run is skipped only while the last fingerprint is younger than ``STILL_VALID``: scores
  grow with a need's waiting time, so after a while the same rows can give a pair that now
  beats the load penalty, and a run must look again. The bound also covers a new release whose
  engine scores differently: its first runs may stop early for at most that hour.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Text, cast, delete, func, literal, select, true, union_all
from sqlalchemy.orm import Session

from matching.database import among
from matching.models import (
    InitiativeMember,
    Match,
    Need,
    NeedPass,
    NeedPhase,
    NeedStatus,
    ProposalFingerprint,
    User,
    VolunteerDistrict,
    VolunteerLanguage,
    VolunteerPhaseLevel,
    VolunteerProfile,
)

# Scores grow with waiting time (the urgency part), so the same rows give other values later;
# within an hour a need's waiting share moves by well under one percent of its horizon, and
# the regular job (every MATCHING_INTERVAL_MINUTES) looks again at least once an hour.
STILL_VALID = timedelta(hours=1)

# Bump when the parts below change: an old fingerprint must never match a new one.
_VERSION = "1"

# What the engine reads of a need: its loaders select exactly these, so the fingerprint covers
# every column they read.
NEED_COLUMNS = (
    Need.id,
    Need.initiative_id,
    Need.district,
    Need.language,
    Need.accepts_in_person,
    Need.accepts_phone,
    Need.accepts_video,
    Need.urgency,
    Need.experts_wanted,
    Need.published_at,
    Need.created_at,
)


# (name, model, columns, condition): every column a proposal run reads, and a little more
# where a filter would cost more than it saves (all matches, all need phases).
_PARTS = (
    (
        "needs",
        Need,
        NEED_COLUMNS,
        Need.status == NeedStatus.OPEN,
    ),
    ("need_phases", NeedPhase, (NeedPhase.need_id, NeedPhase.phase), None),
    (
        "matches",
        Match,
        (Match.id, Match.need_id, Match.volunteer_id, Match.status, Match.released_at),
        None,
    ),
    (
        "profiles",
        VolunteerProfile,
        (
            VolunteerProfile.id,
            VolunteerProfile.user_id,
            VolunteerProfile.status,
            VolunteerProfile.paused_until,
            VolunteerProfile.capacity,
            VolunteerProfile.whole_city,
            VolunteerProfile.offers_in_person,
            VolunteerProfile.offers_phone,
            VolunteerProfile.offers_video,
            VolunteerProfile.field_feedback_reset_at,
        ),
        None,
    ),
    (
        "levels",
        VolunteerPhaseLevel,
        (VolunteerPhaseLevel.profile_id, VolunteerPhaseLevel.phase, VolunteerPhaseLevel.level),
        None,
    ),
    (
        "districts",
        VolunteerDistrict,
        (VolunteerDistrict.profile_id, VolunteerDistrict.district),
        None,
    ),
    (
        "languages",
        VolunteerLanguage,
        (VolunteerLanguage.profile_id, VolunteerLanguage.language),
        None,
    ),
    ("users", User, (User.id, User.first_name, User.confirmed_at, User.disabled_at), None),
    (
        "passes",
        NeedPass,
        (
            NeedPass.need_id,
            NeedPass.volunteer_id,
            NeedPass.reason,
            NeedPass.phases,
            NeedPass.created_at,
        ),
        None,
    ),
    ("members", InitiativeMember, (InitiativeMember.user_id, InitiativeMember.initiative_id), None),
)
_MATCHES = next(part for part in _PARTS if part[0] == "matches")

_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class Fingerprint:
    """Row count and hash sum per part, the settings and the day: what a run reads."""

    sums: dict[str, tuple[int, int]]
    settings: str
    day: str

    @property
    def needs_open(self) -> int:
        return self.sums["needs"][0]

    @property
    def digest(self) -> str:
        parts = ";".join(f"{name}:{n}:{total}" for name, (n, total) in sorted(self.sums.items()))
        text = f"{_VERSION}|{self.settings}|{self.day}|{parts}"
        return hashlib.sha256(text.encode()).hexdigest()

    def plus(self, name: str, extra: tuple[int, int]) -> Fingerprint:
        n, total = self.sums[name]
        sums = {**self.sums, name: (n + extra[0], (total + extra[1]) & _MASK)}
        return Fingerprint(sums, self.settings, self.day)


def take(session: Session, settings: dict, now: datetime) -> Fingerprint:
    """The fingerprint of what a run at ``now`` with these settings (weights, …) reads, as
    committed now."""
    return Fingerprint(
        _sums(session, _PARTS),
        json.dumps(settings, sort_keys=True, default=str),
        now.date().isoformat(),  # the engine's pause check compares with now.date()
    )


def with_new_matches(session: Session, before: Fingerprint, match_ids) -> Fingerprint:
    """``before`` with the run's own new matches added: what the next run will read if nobody
    else changed anything meanwhile."""
    ids = list(match_ids)
    if not ids:
        return before
    name, model, columns, _condition = _MATCHES
    sums = _sums(session, ((name, model, columns, among(Match.id, ids)),))
    return before.plus(name, sums[name])


def last_same(session: Session, fingerprint: Fingerprint, now: datetime):
    """The recorded run with the same fingerprint, if it is recent enough to stand for this one."""
    last = session.scalars(
        select(ProposalFingerprint).order_by(ProposalFingerprint.id.desc()).limit(1)
    ).first()
    if last is None or last.digest != fingerprint.digest:
        return None
    if not timedelta(0) <= now - last.recorded_at < STILL_VALID:
        return None
    return last


def record(
    session: Session, fingerprint: Fingerprint, now: datetime, without_candidate: list[int]
) -> None:
    """Keep this fingerprint as the last complete run's (replacing the one before)."""
    session.execute(delete(ProposalFingerprint))
    session.add(
        ProposalFingerprint(
            digest=fingerprint.digest,
            recorded_at=now,
            needs_open=fingerprint.needs_open,
            needs_without_candidate=list(without_candidate),
        )
    )
    session.flush()


def forget(session: Session) -> None:
    """Drop the recorded fingerprint: the next run reads everything."""
    session.execute(delete(ProposalFingerprint))


def _sums(session: Session, parts) -> dict[str, tuple[int, int]]:
    if session.get_bind().dialect.name == "postgresql":
        return _sums_in_database(session, parts)
    return _sums_from_rows(session, parts)


def _sums_in_database(session: Session, parts) -> dict[str, tuple[int, int]]:
    """PostgreSQL: one statement; each row's columns as text, hashed and summed where they are."""
    statements = []
    for name, model, columns, condition in parts:
        row_hash = func.hashtextextended(cast(func.row(*columns), Text), 0)
        statements.append(
            select(
                literal(name).label("part"),
                func.count().label("n"),
                func.coalesce(func.sum(row_hash), 0).label("total"),
            )
            .select_from(model)
            .where(condition if condition is not None else true())
        )
    rows = session.execute(union_all(*statements)).all()
    return {part: (int(n), int(total) & _MASK) for part, n, total in rows}


def _sums_from_rows(session: Session, parts) -> dict[str, tuple[int, int]]:
    """Elsewhere (SQLite: development and tests): the same sums from the rows in Python."""
    found = {}
    for name, model, columns, condition in parts:
        query = select(*columns).select_from(model)
        if condition is not None:
            query = query.where(condition)
        n = total = 0
        for row in session.execute(query):
            digest = hashlib.blake2b(repr(tuple(row)).encode(), digest_size=8).digest()
            total += int.from_bytes(digest, "big", signed=True)
            n += 1
        found[name] = (n, total & _MASK)
    return found
