"""What-if capacity analysis on districts small enough to answer by hand."""

import pandas as pd
import pytest
from conftest import QUARTER

from riskplan.analysis.whatif import (
    Scenario,
    parse_range,
    parse_share,
    run_whatif,
    scenario_grid,
    scenario_inspectors,
    staffing_order,
    write_whatif,
)


def test_parse_ranges():
    assert parse_range("20:30:5", int) == [20, 25, 30]
    assert parse_range("0.6:1.0:0.2") == [0.6, 0.8, 1.0]
    assert parse_share("blue=0.01:0.03:0.01") == ("blue", [0.01, 0.02, 0.03])
    with pytest.raises(ValueError):
        parse_range("5:1:1")
    with pytest.raises(ValueError):
        parse_share("purple=0.1")


def test_grid_is_every_combination():
    grid = scenario_grid([2, 4], [1.0, 1.5], {"blue": [0.01, 0.02]})
    assert len(grid) == 8 and len(set(grid)) == 8


def test_staffing_levels_are_nested_and_extend_by_copies(tiny_district):
    d = tiny_district().load()
    order = staffing_order(d, seed=3)
    assert sorted(order) == ["I01", "I02", "I03", "I04", "I05", "I06"]  # certified only
    four = scenario_inspectors(d, Scenario(inspectors=4), order)
    three = scenario_inspectors(d, Scenario(inspectors=3), order)
    certified = lambda t: set(t.loc[t["certified"] == 1, "inspector_id"])  # noqa: E731
    assert certified(three) < certified(four)
    eight = scenario_inspectors(d, Scenario(inspectors=8, capacity_scale=1.5), order)
    assert len(certified(eight)) == 8 and {"WHATIF-001", "WHATIF-002"} <= certified(eight)
    assert (eight["weekly_capacity"] == 8).all()  # 5 x 1.5 = 7.5, rounded half up
    assert "I07" in set(eight["inspector_id"])  # uncertified auxiliaries stay


def test_minimal_staffing_for_one_red_enterprise_is_four(tiny_district, tmp_path):
    """By hand: a red enterprise needs a visit in each of the 3 months; with rotation, consecutive
    visits share no inspector, so two disjoint teams of two are needed: 4 inspectors. With 2 or 3
    only one visit fits."""
    district = tiny_district(
        enterprises=[{"enterprise_id": "R1", "tier": "red"}], inspections=[],
        inspectors=[{"inspector_id": f"I{i}", "weekly_capacity": 2} for i in range(1, 7)])
    result = run_whatif(district.path, QUARTER, 1, scenario_grid([2, 3, 4, 5]),
                        tiers_path=district.tiers_csv, time_limit=5, workers=1, extra_qualification=None)
    red = result.table[result.table["tier"] == "red"].set_index("inspectors")
    assert red.loc[4, "mandatory_placed"] == 3 and red.loc[5, "shortfall"] == 0
    assert red.loc[2, "mandatory_placed"] == 1 and red.loc[3, "mandatory_placed"] == 1
    assert result.minimal_staffing == 4
    step = result.marginal.set_index("to_inspectors")
    assert step.loc[4, "mandatory_gained"] == 2 and step.loc[5, "mandatory_gained"] == 0
    written = write_whatif(result, tmp_path / "whatif")
    assert {"whatif.csv", "coverage.png", "shortfall.png", "marginal.csv", "summary.json"} <= {p.name for p in written}


def test_one_more_hazchem_inspector_is_valued(tiny_district):
    """Two hazchem producers each need a hazchem holder on every visit; with one holder at weekly
    capacity 1 and a daily limit of 1 only so many visits fit; a second holder adds visits."""
    district = tiny_district(
        enterprises=[{"enterprise_id": f"R{i}", "tier": "red", "hazchem": "produce"} for i in (1, 2)],
        inspections=[],
        inspectors=[{"inspector_id": "H1", "qualifications": "hazchem", "weekly_capacity": 1}]
        + [{"inspector_id": f"G{i}", "weekly_capacity": 5} for i in range(1, 5)],
        policy="[roster]\nmax_visits_per_inspector_day = 1\n")
    result = run_whatif(district.path, QUARTER, 1, [Scenario()], tiers_path=district.tiers_csv, time_limit=5,
                        workers=1, extra_qualification="hazchem")
    total = result.table[result.table["tier"] == "all"].iloc[0]
    assert total["mandatory_requested"] == 6
    # rotation: a lone hazchem holder can serve each red enterprise only every other visit
    assert total["shortfall"] > 0
    assert result.extra["mandatory_gained"] > 0


def whatif_cli(district, out, time_limit: str, workers: str):
    """`riskplan whatif` on the tiny district at 4 and 6 inspectors."""
    from click.testing import CliRunner

    from riskplan.cli import main

    return CliRunner().invoke(main, ["whatif", str(district.path), "--quarter", QUARTER, "--tiers",
                                     str(district.tiers_csv), "--inspectors", "4:6:2", "--time-limit", time_limit,
                                     "--workers", workers, "--out", str(out)])


def test_cli_whatif(tiny_district, tmp_path):
    import json

    from click.testing import CliRunner

    from riskplan.cli import main

    district = tiny_district()
    out = tmp_path / "w"
    result = whatif_cli(district, out, "5", "2")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=out / "whatif.csv")
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(table["inspectors"].unique()) == sorted({4, 6} | set(summary["bisection_probes"]))
    assert "hazchem-qualified inspector" in result.output
    assert summary["current_staffing"] == 6 and f"{summary['minimal_staffing']} needed, 6 today" in result.output
    bad = CliRunner().invoke(main, ["whatif", str(district.path), "--quarter", QUARTER, "--inspectors", "9:1:1",
                                    "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and not (tmp_path / "x").exists()


def test_policy_variant_is_a_scenario(tiny_district, tmp_path):
    """A variant policy holding back 90% of capacity for campaigns (5 a week -> 0) places nothing."""
    district = tiny_district()
    variant = tmp_path / "reserve.toml"
    variant.write_text("[roster]\ncapacity_reserve = 0.9\n")
    grid = scenario_grid(policies=[None, str(variant)])
    result = run_whatif(district.path, QUARTER, 1, grid, tiers_path=district.tiers_csv, time_limit=5, workers=1,
                        extra_qualification=None, exact=False)
    total = result.table[result.table["tier"] == "all"].set_index("policy")
    assert total.loc["", "shortfall"] == 0
    assert total.loc["", "mandatory_placed"] > 0
    assert total.loc["reserve.toml", "mandatory_placed"] == 0
    assert total.loc["reserve.toml", "shortfall"] == total.loc["", "mandatory_requested"]


def test_without_tiers_the_model_tiers_the_district(tiny_district):
    district = tiny_district()
    result = run_whatif(district.path, QUARTER, 1, [Scenario()], time_limit=5, workers=1, extra_qualification=None)
    total = result.table[result.table["tier"] == "all"].iloc[0]
    assert total["mandatory_requested"] + total["drawn_requested"] > 0


def test_a_scenario_that_runs_out_of_time_is_named_and_marked(tiny_district, tmp_path):
    """A solve past --time-limit stands in the greedy roster; the table, summary.json and the
    command's warning name the scenario, so a dent in a coverage curve is never a mystery."""
    import json

    district = tiny_district()
    out = tmp_path / "w"
    result = whatif_cli(district, out, "0.000001", "1")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=out / "whatif.csv")
    assert (table["status"] == "GREEDY_FALLBACK").all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["greedy_fallback_scenarios"] == ["inspectors=4", "inspectors=6"]
    assert "ran out of their time limit" in result.output and "inspectors=4; inspectors=6" in result.output
    # with time enough, nothing is flagged
    ok = whatif_cli(district, tmp_path / "ok", "10", "1")
    assert ok.exit_code == 0 and "ran out" not in ok.output
    assert json.loads((tmp_path / "ok" / "summary.json").read_text())["greedy_fallback_scenarios"] == []
