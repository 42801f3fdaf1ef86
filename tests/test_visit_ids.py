"""Visit ids carry the plan's identity, so one plan's results can never be taken for another's."""

import json

import pandas as pd
import pytest
from conftest import first_fit_solve

from riskplan.export.record import record_results
from riskplan.load.district import DistrictError
from riskplan.pipeline import run_plan
from riskplan.plan.obligations import VISIT_ID_PATTERN, parse_visit_id, plan_fingerprint, plan_id, visit_id


def plan(t, out, seed=1):
    return run_plan(t.path, "2027Q1", seed, t.tiers_csv, out_dir=out, solve=first_fit_solve)


def test_ids_name_quarter_plan_and_number_and_plan_json_records_the_plan(tiny_district, tmp_path):
    t = tiny_district()
    done = plan(t, tmp_path / "out")
    roster = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=tmp_path / "out" / "roster.csv", dtype=str)
    pid = json.loads((tmp_path / "out" / "plan.json").read_text(encoding="utf-8"))["plan_id"]
    assert len(pid) == 6 and pid == pid.upper() and done.plan["plan_id"] == pid
    assert len(roster) >= 3
    for vid in roster["visit_id"]:
        assert VISIT_ID_PATTERN.match(vid) and vid.startswith(f"2027Q1-{pid}-")
    numbers = sorted(parse_visit_id(v)[2] for v in roster["visit_id"])
    assert len(set(numbers)) == len(numbers) and numbers[0] >= 1


def test_same_inputs_same_id_and_any_change_a_new_one(tiny_district, tmp_path):
    t = tiny_district()
    district, tiers = t.load(), t.tiers
    base = plan_id(plan_fingerprint(district, tiers, "2027Q1", 1))
    assert base == plan_id(plan_fingerprint(t.load(), tiers, "2027Q1", 1))
    assert base != plan_id(plan_fingerprint(district, tiers, "2027Q1", 2))  # seed
    assert base != plan_id(plan_fingerprint(district, tiers, "2027Q2", 1))  # quarter
    retiered = tiers.assign(tier=["red"] + list(tiers["tier"].iloc[1:])) if tiers["tier"].iloc[0] != "red" else \
        tiers.assign(tier=["blue"] + list(tiers["tier"].iloc[1:]))
    assert base != plan_id(plan_fingerprint(district, retiered, "2027Q1", 1))  # tiers
    (t.path / "policy.toml").write_text("[draw]\navoid_recent_days = 10\n", encoding="utf-8")
    assert base != plan_id(plan_fingerprint(t.load(), tiers, "2027Q1", 1))  # policy (file and content)


def test_a_replanned_quarters_results_cannot_be_recorded_against_the_first_plan(tiny_district, tmp_path):
    t = tiny_district()
    first = plan(t, tmp_path / "first").plan["plan_id"]
    extra = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=t.path / "inspections.csv", dtype=str).iloc[:1].assign(date="2026-12-01")
    with (t.path / "inspections.csv").open("a", encoding="utf-8") as fh:  # new inputs: a re-plan
        fh.write(extra.to_csv(header=False, index=False))
    second_run = plan(t, tmp_path / "second")
    second = second_run.plan["plan_id"]
    assert first != second
    roster = second_run.roster
    results = tmp_path / "results.csv"
    pd.DataFrame({"visit_id": roster["visit_id"], "date": roster["date"], "hazards_found": 0,
                  "major_hazards_found": 0, "penalized": 0}).to_csv(results, index=False)
    before = (t.path / "inspections.csv").read_bytes()
    with pytest.raises(DistrictError) as info:
        record_results(t.path, tmp_path / "first", results)
    (p,) = info.value.problems
    assert f"plan {second} (2027Q1), not to this plan {first} (2027Q1)" in p.message
    assert (t.path / "inspections.csv").read_bytes() == before
    assert record_results(t.path, tmp_path / "second", results).added == len(roster)


def test_visit_id_forms():
    assert visit_id(7) == "V00007" and parse_visit_id("V00007") is None
    assert visit_id(12, "2027Q1-7F3A9C") == "2027Q1-7F3A9C-00012"
    assert parse_visit_id("2027Q1-7F3A9C-00012") == ("2027Q1", "7F3A9C", 12)
    for bad in ("2027Q5-7F3A9C-00012", "2027Q1-7f3a9c-00012", "2027Q1-7F3A9-00012", "2027Q1-7F3A9C-"):
        assert parse_visit_id(bad) is None
