"""Benchmark of the matching engine on generated instances (fixed seed).

    .venv/bin/python bench/matching.py [--sizes S,M,L] [--rank-needs 200]

Prints one JSON line per size: candidate generation, assign, propose times,
the optimal and the greedy objective, peak memory; then one line with per-need
``rank`` latencies, and the time of a plain OR-tools min-cost flow on the same
edges (``baseline_s``) to compare with ``assign_s``. Each size runs in its own
process so that its peak RSS is its own.

The instances use the real districts and their neighbour relation. Volunteers
mostly serve one district (a tenth also a neighbouring one), rarely the whole
city (1 %) or by phone/video; they know 1-3 phases, speak German and sometimes
another language, have capacity 1-3. Needs want 1-2 experts (20 % two) in 1-2
phases; a fifth accept phone or video.

Candidates per need grow linearly with the pool (23 districts cannot thin out
50,000 volunteers), so to keep L near the intended million candidate edges the
share of *available* profiles (confirmed, approved, not paused, not fully
booked) shrinks with size: 60 % at S, 30 % at M, 7 % at L. Every profile still
goes through the filters, but at L the available volunteers' free slots
(about 5,000) are far fewer than the experts wanted (about 24,000).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from matching.engine import Need, Pool, Volunteer, Weights, assign, propose, rank
from matching.engine.pool import NeedTable
from matching.reference import (
    DISTRICTS,
    LANGUAGE_CODES,
    NEIGHBOURS,
    PHASE_CODES,
)

# size: (volunteers, needs, share of available profiles)
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


def make_volunteer(rnd: random.Random, vid: int, n_need: int, available: float) -> Volunteer:
    """One volunteer profile; available with the given probability."""
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
    return Volunteer(
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


def generate(size: str) -> tuple[list[Volunteer], list[Need]]:
    """The instance for a size, the same on every run."""
    n_vol, n_need, available = SIZES[size]
    rnd = random.Random(f"{SEED}-{size}")
    volunteers = [make_volunteer(rnd, i + 1, n_need, available) for i in range(n_vol)]
    needs = [make_need(rnd, j + 1, n_need) for j in range(n_need)]
    return volunteers, needs


def objective(pairs, scores: dict, penalty: float) -> float:
    """Total score of the pairs minus the load penalty."""
    load = Counter(v for v, _ in pairs)
    return sum(scores[p] for p in pairs) - penalty * sum(n * (n - 1) / 2 for n in load.values())


def greedy(edges, capacity: dict, wanted: dict, penalty: float) -> list[tuple[int, int]]:
    """Best pair first while it still adds value: the baseline the optimum is compared with."""
    taken: Counter = Counter()
    filled: Counter = Counter()
    pairs = []
    for v, n, s in sorted(edges, key=lambda e: (-e[2], e[0], e[1])):
        room = taken[v] < capacity.get(v, 0) and filled[n] < wanted.get(n, 0)
        if room and s - penalty * taken[v] > 0:
            pairs.append((v, n))
            taken[v] += 1
            filled[n] += 1
    return pairs


def plain_min_cost_flow(edges, capacity: dict, wanted: dict) -> float:
    """Seconds for a plain OR-tools min-cost flow on the same edges (no load cost)."""
    from ortools.graph.python import min_cost_flow

    start = time.perf_counter()
    vols = np.array([e[0] for e in edges], np.int64)
    needs = np.array([e[1] for e in edges], np.int64)
    scores = np.array([e[2] for e in edges], np.float64)
    vkeys, vrows = np.unique(vols, return_inverse=True)
    nkeys, nrows = np.unique(needs, return_inverse=True)
    cap = np.array([capacity.get(int(k), 0) for k in vkeys], np.int64)
    want = np.array([wanted.get(int(k), 0) for k in nkeys], np.int64)
    supply = int(cap.sum())
    first_need = 2 + vkeys.size
    tails = np.concatenate(
        [np.zeros(vkeys.size, np.int64), 2 + vrows, first_need + np.arange(nkeys.size), [0]]
    )
    heads = np.concatenate(
        [2 + np.arange(vkeys.size), first_need + nrows, np.ones(nkeys.size, np.int64), [1]]
    )
    caps = np.concatenate([cap, np.ones(vrows.size, np.int64), want, [supply]])
    costs = np.concatenate(
        [np.zeros(vkeys.size), -np.rint(scores * 1e9), np.zeros(nkeys.size), [0]]
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs.astype(np.int64))
    flow.set_nodes_supplies(np.array([0, 1]), np.array([supply, -supply]))
    assert flow.solve() == flow.OPTIMAL
    return time.perf_counter() - start


def _timed(fn, *args, repeat: int = 1):
    """Result and best wall time of ``repeat`` runs (the first run pays for cold caches)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return result, best


def run_size(size: str, rank_needs: int) -> None:
    """Measure one size and print its JSON lines."""
    weights = Weights()
    assign([(1, 1, 0.5)], {1: 1}, {1: 1})  # load OR-tools before timing
    volunteers, needs = generate(size)
    rss_generated = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def candidates():
        pool = Pool(volunteers)
        table = NeedTable(needs, weights, NOW)
        vol_rows, need_rows = pool.pairs(needs, NOW)
        return pool, vol_rows, need_rows, pool.values(vol_rows, table, need_rows, weights)

    repeat = 2 if size == "L" else 3
    (pool, vol_rows, need_rows, values), candidate_s = _timed(candidates, repeat=repeat)
    need_ids = [needs[j].id for j in need_rows.tolist()]
    edges = list(zip(pool.ids[vol_rows].tolist(), need_ids, values.tolist(), strict=True))
    capacity = {v.id: v.free for v in volunteers}
    wanted = {n.id: n.wanted for n in needs}
    pairs, assign_s = _timed(assign, edges, capacity, wanted, weights.load_penalty, repeat=repeat)
    baseline_s = min(plain_min_cost_flow(edges, capacity, wanted) for _ in range(repeat))
    proposals, propose_s = _timed(propose, volunteers, needs, weights, NOW, repeat=repeat)
    assert sorted((p.volunteer_id, p.need_id) for p in proposals) == pairs
    scores = {(v, n): s for v, n, s in edges}
    best = objective(pairs, scores, weights.load_penalty)
    simple = objective(
        greedy(edges, capacity, wanted, weights.load_penalty), scores, weights.load_penalty
    )
    print(
        json.dumps(
            {
                "size": size,
                "volunteers": len(volunteers),
                "needs": len(needs),
                "edges": len(edges),
                "pairs": len(pairs),
                "needs_without_candidate": len(needs) - len(set(need_rows.tolist())),
                "candidate_s": round(candidate_s, 3),
                "assign_s": round(assign_s, 3),
                "baseline_s": round(baseline_s, 3),
                "assign_vs_baseline": round(assign_s / baseline_s, 2),
                "propose_s": round(propose_s, 3),
                "objective": round(best, 6),
                "greedy_objective": round(simple, 6),
                "greedy_gap": round((best - simple) / best, 6) if best else 0.0,
                "rss_after_generate_mb": round(rss_generated, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        ),
        flush=True,
    )
    run_rank(size, pool, volunteers, needs, weights, rank_needs)


def run_rank(size, pool, volunteers, needs, weights, count: int) -> None:
    """Per-need ranking latency with a prebuilt Pool, and with a plain list for reference."""
    sample = random.Random(SEED).sample(needs, min(count, len(needs)))

    def latencies(source) -> list[float]:
        times = []
        for need in sample:
            start = time.perf_counter()
            rank(need, source, weights, NOW, k=10)
            times.append((time.perf_counter() - start) * 1000)
        return times

    def p95(times):
        return statistics.quantiles(times, n=20)[-1]

    with_pool, with_list = latencies(pool), latencies(volunteers)
    print(
        json.dumps(
            {
                "size": size,
                "rank_needs": len(sample),
                "rank_p50_ms": round(statistics.median(with_pool), 2),
                "rank_p95_ms": round(p95(with_pool), 2),
                "rank_list_p50_ms": round(statistics.median(with_list), 2),
                "rank_list_p95_ms": round(p95(with_list), 2),
            }
        ),
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    """Run the requested sizes, each in its own process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M,L", help="comma-separated subset of S,M,L")
    parser.add_argument("--rank-needs", type=int, default=200)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_size(args.child, args.rank_needs)
        return
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s): {', '.join(unknown)}")
    for size in sizes:
        command = [sys.executable, __file__, "--child", size, "--rank-needs", str(args.rank_needs)]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
