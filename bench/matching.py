"""Benchmark of the matching engine on generated instances (fixed seed).

    .venv/bin/python bench/matching.py [--sizes S,M,L] [--rank-needs 200] [--dense M,L]

Prints one JSON line per size: candidate generation, assign, propose times,
the optimal and the greedy objective, peak memory; then one line with per-need
``rank`` latencies, and the time of a plain min-cost flow (the same solver) on the same
edges (``baseline_s``) to compare with ``assign_s``. Each size runs in its own
process so that its peak RSS is its own.

``--dense`` adds one line per size for the dense case: every volunteer available and
knowing every phase (as ``bench/scale.py --dense`` fills the database), proposed by
``plan`` with pruned candidates: CPU and wall seconds, peak RSS, candidate pairs and
those kept, pricing rounds and pairs added back. At M it also solves over all pairs
and prints both objectives, which must agree.

The instances come from bench/instances.py (shared with bench/scale.py, which
measures the same records from a PostgreSQL database): real districts and their
neighbour relation, volunteers knowing 1-3 phases, needs wanting 1-2 experts.

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
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from bench.instances import NOW, SEED, SIZES, generate
from matching.engine import Pool, Weights, assign, plan, propose, rank
from matching.engine.pool import NeedTable


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
    """Seconds for a plain min-cost flow on the same edges (no load cost), by the same
    solver as the engine's (LEMON's network simplex), costs shifted to be at least 0."""
    from pylmcf import pylmcf_cpp

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
        [np.zeros(vkeys.size), 10**9 - np.rint(scores * 1e9), np.zeros(nkeys.size), [10**9]]
    ).astype(np.int64)
    supplies = np.zeros(first_need + nkeys.size, np.int64)
    supplies[0], supplies[1] = supply, -supply
    pylmcf_cpp.lmcf(supplies, tails, heads, caps, costs)
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
    assign([(1, 1, 0.5)], {1: 1}, {1: 1})  # load the flow solver before timing
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
    scores = {(v, n): s for v, n, s in edges}
    best = objective(pairs, scores, weights.load_penalty)
    # Beyond PRUNE_ABOVE pairs propose prunes: the same optimum, with ties maybe other pairs.
    proposed = [(p.volunteer_id, p.need_id) for p in proposals]
    assert math.isclose(objective(proposed, scores, weights.load_penalty), best, rel_tol=1e-9)
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


def run_dense(size: str) -> None:
    """The dense case through ``plan``: every volunteer available, in every phase."""
    weights = Weights()
    assign([(1, 1, 0.5)], {1: 1}, {1: 1})  # load the flow solver before timing
    volunteers, needs = generate(size, available=1.0, dense=True)
    pool = Pool(volunteers)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu, wall = time.process_time(), time.perf_counter()
    found = plan(pool, needs, weights, NOW)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pricing = found.pricing
    assert pricing is not None
    load = Counter(p.volunteer_id for p in found.proposals)
    penalty = weights.load_penalty * sum(n * (n - 1) / 2 for n in load.values())
    line = {
        "size": size,
        "dense": True,
        "available_share": 1.0,
        "volunteers": len(volunteers),
        "needs": len(needs),
        "edges": pricing.edges,
        "kept": pricing.kept,
        "kept_share": round(pricing.kept / pricing.edges, 4) if pricing.edges else None,
        "rounds": pricing.rounds,
        "priced": pricing.priced,
        "added": pricing.added,
        "pairs": len(found.proposals),
        "plan_cpu_s": round(cpu, 2),
        "plan_wall_s": round(wall, 2),
        "target_s": 90,
        "objective": round(sum(p.score.value for p in found.proposals) - penalty, 6),
        "rss_before_plan_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak, 1),
        "target_mb": 2048,
        "load_average": round(os.getloadavg()[0], 2),
    }
    if size != "L":  # small enough for the flow over every pair: the optima must agree
        for name, prune_above in (("objective_pruned", 0), ("objective_all_pairs", 2**62)):
            other = plan(pool, needs, weights, NOW, prune_above=prune_above)
            load = Counter(p.volunteer_id for p in other.proposals)
            penalty = weights.load_penalty * sum(n * (n - 1) / 2 for n in load.values())
            line[name] = round(sum(p.score.value for p in other.proposals) - penalty, 6)
    print(json.dumps(line), flush=True)


def main(argv: list[str] | None = None) -> None:
    """Run the requested sizes, each in its own process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M,L", help="comma-separated subset of S,M,L")
    parser.add_argument("--rank-needs", type=int, default=200)
    parser.add_argument(
        "--dense", default="", help="sizes for the dense case too (every volunteer, every phase)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dense-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_size(args.child, args.rank_needs)
        return
    if args.dense_child:
        run_dense(args.dense_child)
        return
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    dense = [s.strip() for s in args.dense.split(",") if s.strip()]
    unknown = [s for s in sizes + dense if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s): {', '.join(unknown)}")
    for size in sizes:
        command = [sys.executable, __file__, "--child", size, "--rank-needs", str(args.rank_needs)]
        subprocess.run(command, check=True)
    for size in dense:
        subprocess.run([sys.executable, __file__, "--dense-child", size], check=True)


if __name__ == "__main__":
    main()
