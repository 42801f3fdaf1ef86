"""The plan pipeline and its outputs: determinism, refusal to overwrite, tiers input, shortfall."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import first_fit_solve

from riskplan.check.checker import check_roster
from riskplan.cli import main
from riskplan.export.plan_files import PLAN_FILES, deterministic_part
from riskplan.outputs import OUTPUT_MARKER
from riskplan.load.district import DistrictError
from riskplan.load.tiers import load_tiers_csv
from riskplan.pipeline import run_plan
from riskplan.plan.problem import build_problem

TABLE_OUTPUTS = ("roster.csv", "tiers.csv", "inspector_schedule.csv", "draw.csv", "shortfall.csv", "unplaced.csv",
               "plan.xlsx")


def plan_with(t, out, seed=1, **kw):
    kw.setdefault("solve", first_fit_solve)
    return run_plan(t.path, "2027Q1", seed, t.tiers_csv, out_dir=out, **kw)


def test_build_problem_orders_mandatory_visits_first_with_sequential_ids(tiny_district):
    t = tiny_district()
    problem, draw, obligations = build_problem(t.load(), t.tiers, "2027Q1", seed=4)
    ids = [r.visit_id for r in problem.requests]
    prefix = ids[0].rsplit("-", 1)[0]
    assert prefix.startswith("2027Q1-") and ids == [f"{prefix}-{i:05d}" for i in range(1, len(ids) + 1)]
    kinds = [r.mandatory for r in problem.requests]
    assert kinds == sorted(kinds, reverse=True) and kinds.count(False) == len(draw.requests) >= 1
    assert {o.enterprise_id for o in obligations} == {"R1", "O1", "O2"}
    assert problem.enterprises.set_index("enterprise_id").at["R1", "tier"] == "red"


def test_same_seed_gives_byte_identical_outputs_with_the_real_solver(tiny_district, tmp_path):
    t = tiny_district()
    a = plan_with(t, tmp_path / "a", seed=7, solve=None, time_limit=10)
    b = plan_with(t, tmp_path / "b", seed=7, solve=None, time_limit=10)
    for name in TABLE_OUTPUTS:
        assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes(), name
    ja, jb = (json.loads((x.out_dir / "plan.json").read_text(encoding="utf-8")) for x in (a, b))
    assert deterministic_part(ja) == deterministic_part(jb)
    assert set(ja["timing"]) == {"solver_wall_time_s", "total_wall_time_s"}
    assert sorted(p.name for p in a.out_dir.iterdir()) == sorted([*PLAN_FILES, OUTPUT_MARKER])
    assert check_roster(t.path, a.out_dir) == []


def test_plan_json_records_what_an_audit_needs(tiny_district, tmp_path):
    t = tiny_district()
    result = plan_with(t, tmp_path / "out", seed=3)
    plan = json.loads((result.out_dir / "plan.json").read_text(encoding="utf-8"))
    assert plan["quarter"] == "2027Q1" and plan["seed"] == 3
    assert set(plan["inputs"]) == {"enterprises.csv", "accidents.csv", "inspections.csv", "inspectors.csv"}
    assert plan["tiers"]["source"] == "file" and len(plan["tiers"]["sha256"]) == 64
    assert plan["policy"]["roster"]["team_size"] == 2
    assert plan["counts"]["placed_by_tier"]["red"] == 3
    assert sum(plan["counts"]["placed_by_basis"].values()) == plan["counts"]["placed"] == len(result.roster)
    assert plan["solver"]["status"] == "FIRST_FIT" and plan["riskplan_version"] and plan["ortools_version"]
    schedule = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=result.out_dir / "inspector_schedule.csv", dtype=str, keep_default_na=False)
    assert len(schedule) == 7 * 64  # 7 inspectors × 64 working days in 2027Q1 (21 + 20 + 23)
    roster = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=result.out_dir / "roster.csv", dtype=str)
    busy = schedule[schedule["visits"] != ""]
    assert sum(len(c.split(";")) for c in busy["visits"]) == 2 * len(roster)


def test_different_seeds_draw_differently(tiny_district, tmp_path):
    t = tiny_district(policy="[tiers.blue]\nsample_share = 0.3\n")
    draws = {tuple(plan_with(t, tmp_path / f"s{seed}", seed=seed).draw.drawn_ids) for seed in range(4)}
    assert len(draws) > 1


def test_existing_out_is_refused_without_force(tiny_district, tmp_path):
    t = tiny_district()
    out = tmp_path / "out"
    plan_with(t, out, seed=1)
    before = (out / "draw.csv").read_bytes()
    with pytest.raises(FileExistsError, match="already holds a plan; use --force"):
        plan_with(t, out, seed=2)
    assert (out / "draw.csv").read_bytes() == before
    plan_with(t, out, seed=2, force=True)
    assert json.loads((out / "plan.json").read_text(encoding="utf-8"))["seed"] == 2
    result = CliRunner().invoke(main, ["plan", str(t.path), "--quarter", "2027Q1", "--seed", "3",
                                       "--tiers", str(t.tiers_csv), "--out", str(out)])
    assert result.exit_code == 2 and "--force" in result.output


def test_cli_plan_then_check(tiny_district, tmp_path):
    t = tiny_district()
    out = tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(main, ["plan", str(t.path), "--quarter", "2027Q1", "--seed", "5", "--tiers",
                                  str(t.tiers_csv), "--time-limit", "10", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "by tier:  red 3, orange 2" in result.output and str(out) in result.output
    check = runner.invoke(main, ["check", str(t.path), str(out)])
    assert check.exit_code == 0, check.output
    bad = runner.invoke(main, ["plan", str(t.path), "--quarter", "2027Q5", "--seed", "5", "--out", str(out)])
    assert bad.exit_code == 2 and "2027Q5" in bad.output


def test_risk_weighted_draw_without_probabilities_is_refused_before_anything_is_written(tiny_district, tmp_path):
    t = tiny_district(policy='[draw]\nmethod = "risk_weighted"\n')  # the tiers file has no probability column
    result = CliRunner().invoke(main, ["plan", str(t.path), "--quarter", "2027Q1", "--seed", "1",
                                       "--tiers", str(t.tiers_csv), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and t.tiers_csv.name in result.output and "probability" in result.output
    assert not (tmp_path / "out").exists()


def tiers_problems(t, text, tmp_path):
    path = tmp_path / "bad_tiers.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DistrictError) as info:
        load_tiers_csv(path, t.load())
    return [str(p) for p in info.value.problems]


def test_tiers_file_errors_name_file_row_and_column(tiny_district, tmp_path):
    t = tiny_district(enterprises=[{"enterprise_id": e} for e in ("E1", "E2", "E3")], inspections=[])
    assert tiers_problems(t, "enterprise_id,level\nE1,red\n", tmp_path) == [
        "bad_tiers.csv, row 1, column 'tier': missing required column"]
    problems = tiers_problems(t, "enterprise_id,tier\nE1,red\nE2,purple\nE9,blue\nE1,blue\nE3,\n", tmp_path)
    assert problems == [
        "bad_tiers.csv, row 3, column 'tier': 'purple' is not one of red, orange, yellow, blue",
        "bad_tiers.csv, row 4, column 'enterprise_id': unknown enterprise 'E9' (not in the district's enterprises)",
        "bad_tiers.csv, row 5, column 'enterprise_id': duplicate enterprise_id 'E1' (first at row 2)",
        "bad_tiers.csv, row 6, column 'tier': empty cell; a value is required",
    ]
    assert tiers_problems(t, "enterprise_id,tier\nE1,red\nE2,red\n", tmp_path) == [
        "bad_tiers.csv, column 'enterprise_id': no tier for enterprise 'E3' (enterprises.csv row 4)"]
    ok = tmp_path / "ok.csv"
    ok.write_text("enterprise_id,tier,score\nE1,红,12\nE2,Orange,40\nE3,blue,95\n", encoding="utf-8")
    frame = load_tiers_csv(ok, t.load())
    assert frame["tier"].tolist() == ["red", "orange", "blue"] and "score" in frame.columns


def test_obligations_without_a_working_day_or_beyond_the_maximum_are_reported(tiny_district, tmp_path):
    t = tiny_district(
        enterprises=[{"enterprise_id": "P", "tier": "blue"}, {"enterprise_id": "Y", "tier": "yellow"}],
        inspections=[],
        pinned=[{"enterprise_id": "P", "reason": "weekend", "earliest": "2027-02-06", "latest": "2027-02-07"},
                {"enterprise_id": "P", "reason": "a", "earliest": "2027-01-04", "latest": "2027-01-08"},
                {"enterprise_id": "P", "reason": "b", "earliest": "2027-02-01", "latest": "2027-02-05"},
                {"enterprise_id": "P", "reason": "c", "earliest": "2027-03-01", "latest": "2027-03-05"}])
    result = plan_with(t, tmp_path / "out")
    shortfall = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=result.out_dir / "shortfall.csv")
    assert sorted(zip(shortfall["reason"], shortfall["month"])) == [
        ("beyond max_visits_per_quarter", "2027-03"), ("no working day", "2027-02")]
    assert set(shortfall["rule"]) == {"pinned"} and set(shortfall["tier"]) == {"blue"}
    unmet = {u["obligation"] for u in result.plan["shortfall"]["unmet_obligations"]}
    assert unmet == {"pinned_2", "pinned_5"}
    assert result.plan["shortfall"]["missing_total"] == 2
    assert check_roster(t.path, result.out_dir) == []


def test_capacity_shortfall_is_reported_and_passes_the_checker(tiny_district, tmp_path):
    # in January only I01 is at work: no team of two for red month 1 and the two orange visits
    t = tiny_district(inspectors=[{"inspector_id": "I01", "qualifications": "hazchem;dust;metallurgy"},
                                  {"inspector_id": "I02"}, {"inspector_id": "I03"}],
                      leave=[{"inspector_id": i, "start": "2027-01-01", "end": "2027-01-31"} for i in ("I02", "I03")],
                      inspections=[], policy="[roster]\nrotate_inspectors = false\n")
    result = plan_with(t, tmp_path / "out")
    unplaced = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=result.out_dir / "unplaced.csv", dtype=str)
    assert sorted(unplaced["obligations"]) == ["orange_due", "orange_due", "red_month_1"]
    shortfall = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=result.out_dir / "shortfall.csv")
    assert set(zip(shortfall["tier"], shortfall["month"])) == {("red", "2027-01"), ("orange", "2027-01")}
    assert result.plan["shortfall"]["missing_total"] == len(unplaced)
    assert check_roster(t.path, result.out_dir) == []


def test_without_tiers_file_the_scoring_model_tiers_the_district(tiny_district, tmp_path, monkeypatch):
    t = tiny_district()
    model_frame = t.tiers.assign(probability=0.5, override=0, reason_1="r", reason_2="", reason_3="")
    calls = []

    def fake_tier_district(district, model=None, as_of=None):
        calls.append(as_of)
        return model_frame

    model_dir = tmp_path / "models" / "default"
    model_dir.mkdir(parents=True)
    (model_dir / "model.skops").write_bytes(b"a model")
    monkeypatch.setattr("riskplan.score.tiering.tier_district", fake_tier_district)
    monkeypatch.setattr("riskplan.score.tiering.default_model_dir", lambda: model_dir)
    result = run_plan(t.path, "2027Q1", 1, out_dir=tmp_path / "out", solve=first_fit_solve)
    assert [str(d) for d in calls] == ["2027-01-01"]
    assert {k: result.plan["tiers"][k] for k in ("source", "as_of", "model_sha256")} == {
        "source": "model", "as_of": "2027-01-01", "model_sha256": hashlib.sha256(b"a model").hexdigest()}
    tiers_csv = (tmp_path / "out" / "tiers.csv").read_text(encoding="utf-8-sig")
    assert tiers_csv.startswith("enterprise_id,tier,probability") and ",0.500000," in tiers_csv
    assert check_roster(t.path, tmp_path / "out") == []
