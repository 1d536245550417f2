"""Generated matching instances shared by the benchmarks (fixed seed, real districts).

``bench/matching.py`` runs the engine on these records in memory; ``bench/scale.py`` writes the
same records into a PostgreSQL database and measures the application's path from there.

Volunteers mostly serve one district (a tenth also a neighbouring one), rarely the whole city
(1 %) or by phone/video; they know 1-3 phases (all eight when dense), speak German and sometimes
another language, have capacity 1-3. Needs want 1-2 experts (20 % two) in 1-2 phases, opened
up to 60 days ago; a fifth accept phone or video.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta

from matching.engine import Need, Volunteer
from matching.reference import DISTRICTS, LANGUAGE_CODES, NEIGHBOURS, PHASE_CODES

# size: (volunteers, needs, share of available profiles in the engine-only bench)
SIZES = {
    "S": (500, 200, 0.6),
    "M": (5_000, 2_000, 0.3),
    "L": (50_000, 20_000, 0.07),
}
SEED = 20240501
NOW = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)
DISTRICT_WEIGHTS = [1.6 if d.ring == "inner" else 1.0 for d in DISTRICTS]
OTHER_LANGUAGES = [code for code in LANGUAGE_CODES if code != "de"]


def _district(rnd: random.Random) -> str:
    return rnd.choices(DISTRICTS, DISTRICT_WEIGHTS)[0].code


def make_volunteer(
    rnd: random.Random, vid: int, n_need: int, available: float, dense: bool = False
) -> Volunteer:
    """One volunteer profile; available with the given probability; dense knows every phase."""
    home = _district(rnd)
    districts = {home}
    if rnd.random() < 0.1:
        districts.add(rnd.choice(sorted(NEIGHBOURS[home])))
    formats = {"in_person"} if rnd.random() < 0.97 else set()
    formats |= {f for f, p in (("phone", 0.08), ("video", 0.06)) if rnd.random() < p}
    languages = {"de"} if rnd.random() < 0.95 else set()
    if not languages or rnd.random() < 0.2:
        languages.add(rnd.choice(OTHER_LANGUAGES))
    phases = rnd.sample(PHASE_CODES, rnd.choices((1, 2, 3), (0.45, 0.35, 0.2))[0])
    levels = {p: rnd.choices((1, 2, 3), (0.4, 0.35, 0.25))[0] for p in phases}
    levels.update({p: 0 for p in rnd.sample(PHASE_CODES, 2) if p not in levels})
    capacity = rnd.choices((1, 2, 3), (0.3, 0.45, 0.25))[0]
    state = "available" if rnd.random() < available else None
    state = state or rnd.choices(("unconfirmed", "unapproved", "paused", "full"), (1, 2, 3, 4))[0]
    volunteer = Volunteer(
        id=vid,
        confirmed=state != "unconfirmed",
        approved=state not in ("unconfirmed", "unapproved"),
        paused_until=(NOW + timedelta(days=rnd.randint(1, 60))).date()
        if state == "paused"
        else None,
        capacity=capacity,
        active=capacity if state == "full" else rnd.randint(0, capacity - 1),
        languages=languages,
        districts=districts,
        whole_city=rnd.random() < 0.01,
        formats=formats,
        levels=levels,
        excluded_needs={rnd.randint(1, n_need) for _ in range(2)} if rnd.random() < 0.03 else (),
        initiatives={rnd.randint(1, max(1, n_need // 2))} if rnd.random() < 0.02 else (),
        first_name=f"V{vid}",
    )
    if dense:  # its own stream: a dense instance differs from the usual one only in the levels
        own = random.Random(f"{SEED}-dense-{vid}")
        weights = (0.4, 0.35, 0.25)
        everything = {p: levels.get(p) or own.choices((1, 2, 3), weights)[0] for p in PHASE_CODES}
        volunteer = dataclasses.replace(volunteer, levels=everything)
    return volunteer


def make_need(rnd: random.Random, nid: int, n_need: int) -> Need:
    """One open advice need."""
    formats = rnd.choices(
        ({"in_person"}, {"in_person", "phone"}, {"in_person", "video"}, {"video"}),
        (0.8, 0.08, 0.08, 0.04),
    )[0]
    return Need(
        id=nid,
        initiative_id=rnd.randint(1, max(1, n_need // 2)),
        phases=tuple(rnd.sample(PHASE_CODES, rnd.choices((1, 2), (0.75, 0.25))[0])),
        district=_district(rnd),
        language="de" if rnd.random() < 0.88 else rnd.choice(OTHER_LANGUAGES),
        formats=formats,
        urgency=rnd.choices(("normal", "soon", "urgent"), (0.7, 0.2, 0.1))[0],
        wanted=rnd.choices((1, 2), (0.8, 0.2))[0],
        opened_at=NOW - timedelta(days=rnd.uniform(0, 60)),
    )


def generate(
    size: str, available: float | None = None, dense: bool = False
) -> tuple[list[Volunteer], list[Need]]:
    """The instance for a size, the same on every run; ``available`` overrides the size's share."""
    n_vol, n_need, share = SIZES[size]
    share = share if available is None else available
    rnd = random.Random(f"{SEED}-{size}")
    volunteers = [make_volunteer(rnd, i + 1, n_need, share, dense) for i in range(n_vol)]
    needs = [make_need(rnd, j + 1, n_need) for j in range(n_need)]
    return volunteers, needs
