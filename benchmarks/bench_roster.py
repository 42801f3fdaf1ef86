"""Roster benchmarks: the solver against the greedy baseline (every size) and the textbook model (S).

Run: `python -m pytest benchmarks/bench_roster.py` (S and M) and add `-m slow` for L, XL and
the capacity-starved XL. Each case runs in a fresh subprocess (`python bench_roster.py run
SIZE METHOD`), so peak memory is that process's maximum RSS, everything included (district,
problem, model). The subprocess prints one JSON line; the test asserts the targets of
issue 5 and prints a comparison table with ratios (solver / baseline).

Districts: `benchmarks/districts.py: district_path(size, seed)` when it exists, otherwise
the generator is called directly into the same git-ignored cache `benchmarks/.districts/`.
Tiers: the generator's true tiers (`truth.csv` through `synth.true_tiers`), so the
benchmark does not depend on a trained model. The problem is built by `plan.build_problem`
(obligations, then the seeded draw) for quarter 2027Q1, seed 1.

Metrics per method: wall time of the roster step alone, hard violations (the independent
checker's rule functions, including mandatory coverage against the re-derived
obligations), mandatory and drawn visits unplaced, travel (inspector stops), balance (sum of
|load - target|), and for the solver its lower bound and objective / bound.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".districts"
QUARTER = "2027Q1"
SEED = 1
TARGET_SECONDS = {"S": 5.0, "M": 10.0, "L": 30.0, "XL": 60.0, "XL-starved": 60.0}
MEMORY_LIMIT = 1024**3
#: The capacity-starved XL: XL enterprises with 40 % of XL's inspectors.
STARVED_INSPECTORS = 150


# ----------------------------------------------------------------------------------------- subprocess side


def district_dir(size: str, seed: int = SEED) -> Path:
    base, starved = size.split("-")[0], size.endswith("-starved")
    overrides = {"n_inspectors": STARVED_INSPECTORS} if starved else {}
    try:
        sys.path.insert(0, str(HERE))
        from districts import (
            district_path,  # the shared, stamped cache of generated districts
        )

        return Path(district_path(base, seed, **overrides))
    except ImportError:
        pass
    from riskplan.synth.district import generate_district

    path = CACHE / f"{size}-{seed}"
    if not (path / "enterprises.csv").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        generate_district(path, base, seed, n_inspectors=STARVED_INSPECTORS if starved else None, force=True)
    return path


def load_problem(size: str, seed: int = SEED):
    import pandas as pd

    from riskplan.load.district import load_district
    from riskplan.plan.problem import build_problem
    from riskplan.synth.common import true_tiers

    path = district_dir(size)
    district = load_district(path)
    truth = pd.read_csv(path / "truth.csv")
    tiers = pd.DataFrame({"enterprise_id": truth["enterprise_id"], "tier": true_tiers(truth["p_event_12m"].to_numpy())})
    problem, _draw, obligations = build_problem(district, tiers, QUARTER, seed)
    return district, problem, obligations


def checker_violations(district, problem, obligations, roster) -> list[str]:
    """The independent checker's rule functions on an in-memory roster (no OUT folder needed)."""
    from riskplan.check import checker

    names = ("on_working_day_in_window", "team_of_certified_inspectors", "inspector_not_on_leave",
             "inspector_weekly_capacity", "inspector_daily_limit", "no_conflict_of_interest",
             "required_qualifications_held", "rotate_inspectors", "cross_area", "visit_spacing",
             "tier_visit_maximum", "mandatory_coverage")
    tiers = problem.enterprises.set_index("enterprise_id")["tier"]
    visits = [checker.Visit(v.request.visit_id, v.request.enterprise_id, tiers[v.request.enterprise_id],
                            v.request.basis, v.request.obligations, v.request.window_start, v.request.window_end,
                            v.date, v.inspectors) for v in roster.visits]
    unmet = [{"enterprise_id": u.request.enterprise_id, "obligation": k}
             for u in roster.unplaced for k in u.request.obligations]
    ctx = checker.CheckContext(district, district.path, {"shortfall": {"unmet_obligations": unmet}}, problem.quarter,
                               SEED, tiers, visits, None, obligations, None, None)
    return [str(v) for n in names for v in getattr(checker, n)(ctx)]


def roster_digest(roster) -> str:
    text = "\n".join(f"{v.request.visit_id},{v.date},{';'.join(v.inspectors)}" for v in roster.visits)
    text += "\n" + "\n".join(f"{u.request.visit_id},{u.reason}" for u in roster.unplaced)
    return hashlib.sha256(text.encode()).hexdigest()


def run_case(size: str, method: str, seed: int = SEED, workers: int = 1) -> dict:
    from riskplan.solve.compile import compile_problem
    from riskplan.solve.objective import objective_bound, soft_objective
    from riskplan.solve.result import state_from_roster

    district, problem, obligations = load_problem(size, seed)
    stats: dict = {}
    t0 = time.perf_counter()
    if method == "solver":
        from riskplan.solve.solve import solve_roster

        res = solve_roster(problem, seed, time_limit=TARGET_SECONDS.get(size, 60.0), num_workers=workers)
        roster = res.roster
        stats["status"] = res.status
        stats["mandatory_shortfall_bound"] = res.objective.get("mandatory_shortfall_bound")
    elif method == "greedy":
        from riskplan.solve.greedy import greedy_roster

        roster = greedy_roster(problem, seed)
    elif method == "textbook":
        from textbook import (
            textbook_roster,  # benchmarks/textbook.py: benchmark code, not the package
        )

        roster, stats = textbook_roster(problem, seed, time_limit=60.0, num_workers=2)
    else:
        raise ValueError(method)
    seconds = time.perf_counter() - t0
    inst = compile_problem(problem)
    placed = state_from_roster(inst, roster).placed
    obj, bound = soft_objective(inst, placed), objective_bound(inst, placed)
    viol = checker_violations(district, problem, obligations, roster)
    return {
        "size": size, "method": method, "seconds": seconds, "requests": len(problem.requests),
        "mandatory": sum(r.mandatory for r in problem.requests),
        "mandatory_unplaced": sum(u.request.mandatory for u in roster.unplaced),
        "drawn_unplaced": sum(not u.request.mandatory for u in roster.unplaced),
        "violations": len(viol), "violation_examples": viol[:5],
        "travel": obj["travel"], "balance": obj["balance"], "objective": obj["total"],
        "bound": bound["total"], "bound_travel": bound["travel"], "bound_balance": bound["balance"],
        "gap": obj["total"] / bound["total"] - 1 if bound["total"] else 0.0,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "digest": roster_digest(roster), **stats,
    }


# ----------------------------------------------------------------------------------------- pytest side


def measure(size: str, method: str, seed: int = SEED, workers: int = 1, hash_seed: int = 17) -> dict:
    env = dict(os.environ, PYTHONHASHSEED=str(hash_seed))  # string hashing must not matter
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "run", size, method, str(seed), str(workers)],
                         capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    cols = ("method", "seconds", "violations", "mandatory_unplaced", "drawn_unplaced", "travel", "balance",
            "objective", "bound", "peak_rss")
    lines = [" ".join(f"{c:>18}" for c in cols)]
    for r in rows:
        lines.append(" ".join(f"{r[c] / 2**20:>15.0f}MiB" if c == "peak_rss" else
                              f"{r[c]:>18.2f}" if isinstance(r[c], float) else f"{r[c]!s:>18}" for c in cols))
    return "\n".join(lines)


def ratios(solver: dict, other: dict) -> dict[str, float]:
    """solver / other for time, travel, balance; plus differences in shortfall and violations."""
    def ratio(a, b):
        return a / b if b else float("inf") if a else 1.0

    return {f"time_ratio_vs_{other['method']}": ratio(solver["seconds"], other["seconds"]),
            f"travel_ratio_vs_{other['method']}": ratio(solver["travel"], other["travel"]),
            f"balance_ratio_vs_{other['method']}": ratio(solver["balance"], other["balance"]),
            f"shortfall_vs_{other['method']}": f"{solver['mandatory_unplaced']} vs {other['mandatory_unplaced']}",
            f"violations_vs_{other['method']}": f"{solver['violations']} vs {other['violations']}"}


def compare(benchmark, size: str, with_textbook: bool = False) -> dict:
    rows = {}

    def run():
        rows["solver"] = measure(size, "solver")
        return rows["solver"]

    benchmark.pedantic(run, rounds=1, iterations=1)
    rows["greedy"] = measure(size, "greedy")
    if with_textbook:
        rows["textbook"] = measure(size, "textbook")
    s = rows["solver"]
    info = {"solve_seconds": s["seconds"], "peak_rss_mib": s["peak_rss"] / 2**20, "objective": s["objective"],
            "bound": s["bound"], "gap": s["gap"], "mandatory_unplaced": s["mandatory_unplaced"],
            "mandatory_shortfall_bound": s.get("mandatory_shortfall_bound"), "requests": s["requests"]}
    for other in rows.values():
        if other is not s:
            info.update(ratios(s, other))
    benchmark.extra_info.update(info)
    print(f"\n== {size}: {s['requests']} requests ({s['mandatory']} mandatory)\n{table(list(rows.values()))}")
    print(json.dumps(info, indent=1, default=str))
    return rows


def assert_targets(size: str, s: dict, greedy: dict, bound_gap: float | None = None) -> None:
    """Zero violations; full mandatory coverage whenever capacity allows (the aggregate model,
    a relaxation solved to optimality, proves how many mandatory visits cannot fit); never
    more shortfall than the greedy; time, memory and objective-vs-bound targets."""
    assert s["violations"] == 0, s["violation_examples"]
    if s.get("mandatory_shortfall_bound") == 0:
        assert s["mandatory_unplaced"] == 0
    assert s["mandatory_unplaced"] <= greedy["mandatory_unplaced"]
    assert s["seconds"] < TARGET_SECONDS[size]
    assert s["peak_rss"] < MEMORY_LIMIT
    assert s["objective"] < greedy["objective"]
    if bound_gap is not None and s["gap"] > bound_gap:
        # the hard targets above passed; the soft objective's distance to its lower bound is
        # a target not yet met: shown as XFAIL with the figure, not hidden
        pytest.xfail(f"objective {s['objective']:.0f} is {s['gap']:.1%} above the lower bound {s['bound']:.0f} "
                     f"(target {bound_gap:.0%})")


def test_roster_S(benchmark):
    rows = compare(benchmark, "S", with_textbook=True)
    assert_targets("S", rows["solver"], rows["greedy"])
    assert rows["greedy"]["violations"] == 0


def test_roster_M(benchmark):
    rows = compare(benchmark, "M")
    assert_targets("M", rows["solver"], rows["greedy"], bound_gap=0.05)


@pytest.mark.slow
def test_roster_L(benchmark):
    rows = compare(benchmark, "L")
    assert_targets("L", rows["solver"], rows["greedy"], bound_gap=0.05)


@pytest.mark.slow
def test_roster_XL(benchmark):
    rows = compare(benchmark, "XL")
    g = rows["greedy"]
    assert g["violations"] == 0
    assert_targets("XL", rows["solver"], g)  # hard targets first
    if g["seconds"] >= 1.0:  # target: the fallback under a second at XL (compile included)
        pytest.xfail(f"greedy roster took {g['seconds']:.2f}s at XL (target < 1 s)")
    assert_targets("XL", rows["solver"], g, bound_gap=0.05)


@pytest.mark.slow
def test_roster_XL_starved(benchmark):
    rows = compare(benchmark, "XL-starved")
    assert_targets("XL-starved", rows["solver"], rows["greedy"])


def test_determinism_and_its_cost(benchmark):
    """Same seed -> same roster across processes (different hash seeds); what 1 worker costs vs 2."""
    a = benchmark.pedantic(lambda: measure("M", "solver"), rounds=1, iterations=1)
    b = measure("M", "solver", seed=SEED, hash_seed=4242)
    par = measure("M", "solver", workers=2)
    assert a["digest"] == b["digest"]
    benchmark.extra_info.update({"deterministic_seconds": a["seconds"], "parallel_seconds": par["seconds"],
                                 "deterministic_objective": a["objective"], "parallel_objective": par["objective"]})
    print(f"\ndeterministic (1 worker): {a['seconds']:.2f}s objective {a['objective']:.0f}; "
          f"2 workers: {par['seconds']:.2f}s objective {par['objective']:.0f}")


if __name__ == "__main__" and len(sys.argv) >= 4 and sys.argv[1] == "run":
    size, method = sys.argv[2], sys.argv[3]
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else SEED
    workers = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    print(json.dumps(run_case(size, method, seed, workers), default=str))
