"""The what-if answer is exact (issue 14): bisection between grid points, current staffing and the
gap in words, fallbacks left out of the answer. The stated minimum is checked by separate
`plan` runs, judged by the independent checker."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import QUARTER

from riskplan.analysis.whatif import (
    WhatIfResult,
    exact_minimal_staffing,
    run_whatif,
    scenario_grid,
    staffing_variant_table,
    staffing_sentence,
    summarize,
)
from riskplan.cli import main
from riskplan.i18n import language


def _row(n: int, short: int, status: str = "FEASIBLE") -> dict:
    return {"scenario": f"inspectors={n}", "inspectors": n, "capacity_scale": 1.0, "policy": "", "tier": "all",
            "status": status, "mandatory_requested": 50, "mandatory_placed": 50 - short, "shortfall": short,
            "drawn_requested": 10, "drawn_placed": 10, "drawn_not_placed": 0}


def _threshold(need: int):
    """A staffing axis where exactly `need` or more inspectors meet the policy."""
    return lambda n: [_row(n, max(0, need - n))]


def test_bisection_finds_the_exact_minimum_between_grid_points():
    table = pd.DataFrame([_row(n, max(0, 26 - n)) for n in (16, 20, 24, 28, 32)])
    probes: list[int] = []
    rows, found = exact_minimal_staffing(table, 2, _threshold(26), probes)
    assert found == {"exact": True, "short_of": 25}
    assert probes == [26, 25]
    minimal, _marginal = summarize(pd.concat([table, pd.DataFrame(rows)], ignore_index=True))
    assert minimal == 26


def test_bisection_below_the_first_grid_point_stops_at_a_team():
    table = pd.DataFrame([_row(n, max(0, 3 - n)) for n in (8, 12)])
    probes: list[int] = []
    _rows, found = exact_minimal_staffing(table, 2, _threshold(3), probes)
    assert found == {"exact": True, "short_of": 2} and 1 not in probes and 3 in probes


def test_a_probe_that_falls_back_twice_gives_a_range_not_an_answer():
    table = pd.DataFrame([_row(n, max(0, 26 - n)) for n in (20, 30)])
    probes: list[int] = []
    _rows, found = exact_minimal_staffing(table, 2, lambda n: None, probes)
    assert found == {"exact": False, "short_of": 20} and probes == []
    result = WhatIfResult(table, 30, pd.DataFrame(), current_staffing=23, exact=False, short_of=20)
    assert staffing_sentence(result).startswith("Between 21 and 30 certified inspectors needed (23 today)")


def test_a_fallen_back_scenario_is_left_out_of_the_answer():
    table = pd.DataFrame([_row(20, 4), _row(22, 0, "GREEDY_FALLBACK"), _row(24, 0)])
    assert summarize(table)[0] == 24
    probes: list[int] = []
    exact_minimal_staffing(table, 2, _threshold(23), probes)
    assert 22 in probes  # the fallen-back level is solved again, not trusted


@pytest.mark.parametrize("need, today, en, zh", [
    (26, 23, "26 needed, 23 today: 3 certified inspectors short.", "需要 26 名持证执法人员，现有 23 名，缺 3 名"),
    (22, 23, "22 needed, 23 today: 1 certified inspector to spare.", "需要 22 名持证执法人员，现有 23 名，富余 1 名"),
    (23, 23, "23 needed, 23 today: exactly enough.", "需要 23 名持证执法人员，现有 23 名，正好够用"),
])
def test_the_answer_states_current_staffing_and_the_gap(need, today, en, zh):
    result = WhatIfResult(pd.DataFrame([_row(need, 0)]), need, pd.DataFrame(), current_staffing=today, exact=True)
    assert staffing_sentence(result) == en
    with language("zh"):
        assert zh in staffing_sentence(result)


def _district_with(district, seed: int, n: int, folder):
    """The district folder with the what-if's first n certified inspectors (as `plan` input)."""
    shutil.copytree(district.path, folder)
    staffing_variant_table(district.load(), n, seed).to_csv(folder / "inspectors.csv", index=False)
    return folder


def _planned_shortfall(district, folder, out) -> int:
    run = CliRunner().invoke(main, ["plan", str(folder), "--quarter", QUARTER, "--seed", "1",
                                    "--tiers", str(district.tiers_csv), "--out", str(out)])
    assert run.exit_code in (0, 2), run.output
    if run.exit_code == 2:  # too few for a team: nothing can be planned at all
        assert "nothing can be planned" in run.output
        return 10**6
    check = CliRunner().invoke(main, ["check", str(folder), str(out)])
    assert check.exit_code == 0, check.output
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    return int(plan["shortfall"]["missing_total"])


def test_exact_minimum_is_confirmed_by_separate_plans(tiny_district, tmp_path):
    """One red enterprise needs 4 inspectors (rotation: two disjoint teams); a grid of 2 and 6
    says only "at most 6"; the bisection says 4, and separate plans agree: 4 meet, 3 do not."""
    district = tiny_district(
        enterprises=[{"enterprise_id": "R1", "tier": "red"}], inspections=[],
        inspectors=[{"inspector_id": f"I{i}", "weekly_capacity": 2} for i in range(1, 7)])
    result = run_whatif(district.path, QUARTER, 1, scenario_grid([2, 6]), tiers_path=district.tiers_csv,
                        time_limit=5, workers=1, extra_qualification=None)
    assert result.minimal_staffing == 4 and result.exact and result.short_of == 3
    assert set(result.probes) <= {3, 4, 5} and 4 in result.probes
    assert staffing_sentence(result) == "4 needed, 6 today: 2 certified inspectors to spare."
    meets = _planned_shortfall(district, _district_with(district, 1, 4, tmp_path / "d4"), tmp_path / "p4")
    short = _planned_shortfall(district, _district_with(district, 1, 3, tmp_path / "d3"), tmp_path / "p3")
    assert meets == 0 and short > 0


def test_a_scenario_below_a_team_is_measured_as_nothing_placed(tiny_district):
    district = tiny_district()
    result = run_whatif(district.path, QUARTER, 1, scenario_grid([1, 6]), tiers_path=district.tiers_csv,
                        time_limit=5, workers=1, extra_qualification=None, exact=False)
    total = result.table[result.table["tier"] == "all"].set_index("inspectors")
    assert total.loc[1, "status"] == "NOTHING_TO_PLAN" and total.loc[1, "mandatory_placed"] == 0
    assert total.loc[1, "shortfall"] == total.loc[1, "mandatory_requested"] > 0
    assert total.loc[6, "status"] == "FEASIBLE"
