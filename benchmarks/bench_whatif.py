"""What-if benchmarks: 13 staffing levels on an M district in under 3 minutes on 2 cores, and
the exact minimum confirmed by separate `plan` runs on data/sample and M (issue 14).

    python -m pytest benchmarks/bench_whatif.py -m slow -s

The sweep runs the real pipeline per scenario (obligations and the draw are prepared once and
reused; scenarios solve in parallel processes). Printed: wall time, the smallest staffing that
meets the whole policy, and coverage per level.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from districts import district_path

from riskplan.analysis.whatif import (
    parse_range,
    run_whatif,
    scenario_grid,
    staffing_variant_table,
    staffing_sentence,
)

SWEEP_TARGET_S = 180.0


@pytest.mark.slow
def test_sweep_13_staffing_levels_on_m(benchmark):
    path = district_path("M", 1)
    grid = scenario_grid(list(range(32, 81, 4)))  # 13 levels around the district's 56 certified
    assert len(grid) == 13
    started = time.perf_counter()
    result = benchmark.pedantic(run_whatif, args=(path, "2027Q1", 1, grid),
                                kwargs={"time_limit": 20.0, "extra_qualification": "hazchem"},
                                rounds=1, iterations=1)
    wall = time.perf_counter() - started
    total = result.table[result.table["tier"] == "all"]
    print(f"\nwhat-if M, 13 staffing levels: {wall:.1f} s wall (target {SWEEP_TARGET_S:.0f} s); "
          f"minimal staffing {result.minimal_staffing}; extra hazchem: {result.extra}")
    print(total[["inspectors", "mandatory_coverage", "shortfall", "drawn_not_placed", "utilisation",
                 "status"]].to_string(index=False))
    assert wall < SWEEP_TARGET_S
    coverage = total.set_index("inspectors")["mandatory_coverage"]
    assert coverage.iloc[-1] >= coverage.iloc[0]


def _plan_shortfall(district: Path, seed: int, n: int, work: Path) -> int:
    """Mandatory + drawn visits missing in a separate `plan` of the district with the what-if's
    first n certified inspectors (checked by the independent checker); a huge number when
    nothing can be planned at all."""
    from click.testing import CliRunner

    from riskplan.cli import main
    from riskplan.load.district import load_district

    folder = work / f"district-{n}"
    shutil.copytree(district, folder)
    staffing_variant_table(load_district(district), n, seed).to_csv(folder / "inspectors.csv", index=False)
    out = work / f"plan-{n}"
    run = CliRunner().invoke(main, ["plan", str(folder), "--quarter", "2027Q1", "--seed", str(seed),
                                    "--out", str(out)])
    if run.exit_code == 2 and "nothing can be planned" in run.output:
        return 10**6
    assert run.exit_code == 0, run.output
    check = CliRunner().invoke(main, ["check", str(folder), str(out)])
    assert check.exit_code == 0, check.output
    return int(json.loads((out / "plan.json").read_text(encoding="utf-8"))["shortfall"]["missing_total"])


@pytest.mark.slow
@pytest.mark.parametrize("case", [("sample", "16:32:4"), ("M", "40:64:6")], ids=["sample", "M"])
def test_exact_minimum_is_confirmed_by_separate_plans(case, tmp_path):
    """The stated minimum N meets the whole policy and N - 1 does not, each checked by a plain
    `plan` run (default time limits; no scenario may fall back)."""
    name, grid_text = case
    path = Path(__file__).resolve().parents[1] / "data" / "sample" if name == "sample" else district_path(name, 1)
    grid = scenario_grid(parse_range(grid_text, int))
    started = time.perf_counter()
    result = run_whatif(path, "2027Q1", 1, grid, extra_qualification=None)
    wall = time.perf_counter() - started
    print(f"\nwhat-if {name} {grid_text}: {wall:.1f} s; {staffing_sentence(result)} probes {result.probes}; "
          f"fallbacks {result.fallbacks}")
    assert result.fallbacks == [] and result.exact and result.minimal_staffing is not None
    n = result.minimal_staffing
    at_n, below = _plan_shortfall(path, 1, n, tmp_path), _plan_shortfall(path, 1, n - 1, tmp_path)
    print(f"separate plans: {n} inspectors -> {at_n} missing, {n - 1} -> {below} missing")
    assert at_n == 0 and below > 0
