"""The next quarter reads this quarter: plan 2027Q1 -> record its results -> plan 2027Q2 ->
check 2027Q2, and the same with the results not in yet (`plan --previous`).

The district is built so that ignoring 2027Q1 changes 2027Q2 in ways that are certain, not
likely: O1's orange deadline (1 April) is met ahead in March, so 2027Q2 must not plan it again;
X has a pinned visit on 31 March and one pinned for 1-14 April, which the 14-day spacing allows
only on 14 April; rotation keeps March's teams away from April's visits. Every roster is judged
by the checker.
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
from click.testing import CliRunner

from riskplan.check.checker import check_roster
from riskplan.cli import main
from riskplan.export.record import record_results
from riskplan.io import read_csv_text
from riskplan.load.district import DistrictError
from riskplan.pipeline import run_plan

TIME_LIMIT = 10.0


def district(tiny_district):
    enterprises = [{"enterprise_id": "R1", "tier": "red"}, {"enterprise_id": "O1", "tier": "orange"},
                   {"enterprise_id": "X", "tier": "blue"}]
    enterprises += [{"enterprise_id": f"Y{i}", "tier": "yellow", "subdistrict": "AB"[i % 2]} for i in range(1, 7)]
    inspections = [{"enterprise_id": "R1", "date": "2026-12-10", "inspectors": "I01;I03"},
                   {"enterprise_id": "O1", "date": "2026-10-01", "inspectors": "I02;I05"}]  # due 2027-04-01
    pinned = [{"enterprise_id": "X", "reason": "order", "earliest": "2027-03-31", "latest": "2027-03-31"},
              {"enterprise_id": "X", "reason": "order", "earliest": "2027-04-01", "latest": "2027-04-14"}]
    return tiny_district(enterprises=enterprises, inspections=inspections, pinned=pinned)


def plan(t, quarter, out, **kw):
    return run_plan(t.path, quarter, 11, t.tiers_csv, out_dir=out, time_limit=TIME_LIMIT, **kw)


def roster(out) -> pd.DataFrame:
    return read_csv_text(out / "roster.csv")


def results_of(out, path, keep=lambda row: True, outcome="no_problem"):
    """Results for the visits `keep` selects: done on the planned date, nothing found."""
    rows = [[r.visit_id, r.date, 0, 0, 0, outcome] for r in roster(out).itertuples() if keep(r)]
    pd.DataFrame(rows, columns=["visit_id", "date", "hazards_found", "major_hazards_found", "penalized",
                                "outcome"]).to_csv(path, index=False)
    return path


def visits_of(frame: pd.DataFrame, eid: str) -> list[tuple[date, set[str]]]:
    rows = frame[frame["enterprise_id"] == eid].sort_values("date")
    return [(date.fromisoformat(d), set(t.split(";"))) for d, t in zip(rows["date"], rows["inspectors"])]


def assert_q2_reads_q1(q1: pd.DataFrame, q2: pd.DataFrame, q2_plan: dict) -> None:
    """The cross-boundary rules, read off the files."""
    march_x = visits_of(q1, "X")
    assert [d for d, _ in march_x] == [date(2027, 3, 31)]
    april_x = visits_of(q2, "X")
    assert [d for d, _ in april_x] == [date(2027, 4, 14)]  # 31 March + 14 days: spacing across the boundary
    assert not (april_x[0][1] & march_x[-1][1])  # rotation across the boundary
    last_red = visits_of(q1, "R1")[-1]
    first_red = visits_of(q2, "R1")[0]
    assert (first_red[0] - last_red[0]).days >= 14 and not (first_red[1] & last_red[1])
    # O1 was visited ahead in March: due in September now, nothing this quarter
    assert [d for d, _ in visits_of(q1, "O1")] and date(2027, 3, 4) <= visits_of(q1, "O1")[0][0]
    assert "O1" not in set(q2["enterprise_id"])
    assert not any(u["enterprise_id"] == "O1" for u in q2_plan["shortfall"]["unmet_obligations"])
    # red's monthly rule is per month of the quarter planned: one visit in each of April, May, June
    assert sorted(d.month for d, _ in visits_of(q2, "R1")) == [4, 5, 6]


def test_plan_record_plan_check_across_the_boundary(tiny_district, tmp_path):
    t = district(tiny_district)
    q1 = plan(t, "2027Q1", tmp_path / "q1")
    assert check_roster(t.path, q1.out_dir) == []
    done = record_results(t.path, q1.out_dir, results_of(q1.out_dir, tmp_path / "results.csv"))
    assert done.added == len(q1.roster) and done.no_result == ()
    q2 = plan(t, "2027Q2", tmp_path / "q2")
    assert check_roster(t.path, q2.out_dir) == []
    assert "previous_plan" not in q2.plan
    assert_q2_reads_q1(roster(q1.out_dir), roster(q2.out_dir), q2.plan)


def test_the_checker_sees_a_q2_roster_that_ignores_q1(tiny_district, tmp_path):
    """X on 1 April with March's team: spacing and rotation across the boundary are violations."""
    t = district(tiny_district)
    q1 = plan(t, "2027Q1", tmp_path / "q1")
    record_results(t.path, q1.out_dir, results_of(q1.out_dir, tmp_path / "results.csv"))
    q2 = plan(t, "2027Q2", tmp_path / "q2")
    frame = roster(q2.out_dir)
    march_team = roster(q1.out_dir).set_index("enterprise_id").loc["X", "inspectors"]
    at = frame["enterprise_id"] == "X"
    frame.loc[at, ["date", "inspectors"]] = ["2027-04-01", march_team]
    (q2.out_dir / "roster.csv").write_bytes(b"\xef\xbb\xbf" + frame.to_csv(index=False).encode("utf-8"))
    rules = {v.rule for v in check_roster(t.path, q2.out_dir) if v.enterprise_id == "X"}
    assert {"visit_spacing", "rotate_inspectors"} <= rules


def test_results_not_in_yet_count_through_previous(tiny_district, tmp_path):
    """Only January's results are recorded; --previous counts the rest as planned, not recorded."""
    t = district(tiny_district)
    q1 = plan(t, "2027Q1", tmp_path / "q1")
    record_results(t.path, q1.out_dir, results_of(q1.out_dir, tmp_path / "jan.csv", lambda r: r.date < "2027-02-01"))
    q1_roster = roster(q1.out_dir)
    unrecorded = sorted(q1_roster.loc[q1_roster["date"] >= "2027-02-01", "visit_id"])
    assert unrecorded

    blind = plan(t, "2027Q2", tmp_path / "blind")  # without --previous: March is unknown
    assert check_roster(t.path, blind.out_dir) == []
    assert "O1" in set(roster(blind.out_dir)["enterprise_id"])  # the deadline met in March is planned again

    q2 = plan(t, "2027Q2", tmp_path / "q2", previous_dir=q1.out_dir)
    assert check_roster(t.path, q2.out_dir) == []
    listed = q2.plan["previous_plan"]
    assert [v["visit_id"] for v in listed["planned_not_recorded"]] == unrecorded
    assert listed["plan_id"] == q1.plan["plan_id"] and listed["quarter"] == "2027Q1"
    assert listed["recorded"] == len(q1_roster) - len(unrecorded)
    assert [w["kind"] for w in q2.plan["warnings"]].count("planned_not_recorded") == 1
    assert q2.plan["plan_id"] != blind.plan["plan_id"]
    assert_q2_reads_q1(q1_roster, roster(q2.out_dir), q2.plan)
    from riskplan.export.report import build_report

    html = build_report(t.path, q2.out_dir)
    assert 'id="planned-not-recorded"' in html and all(v in html for v in unrecorded)
    assert 'id="planned-not-recorded"' not in build_report(t.path, blind.out_dir)

    # the checker counts the listed visits as history: without them the roster breaks the rules
    plan_file = q2.out_dir / "plan.json"
    stripped = json.loads(plan_file.read_text(encoding="utf-8"))
    stripped["previous_plan"]["planned_not_recorded"] = []
    plan_file.write_text(json.dumps(stripped), encoding="utf-8")
    assert "mandatory_coverage" in {v.rule for v in check_roster(t.path, q2.out_dir) if v.enterprise_id == "O1"}


def test_a_visit_that_did_not_happen_is_not_history(tiny_district, tmp_path):
    t = district(tiny_district)
    q1 = plan(t, "2027Q1", tmp_path / "q1")
    x_visit = roster(q1.out_dir).set_index("enterprise_id").loc["X", "visit_id"]
    results = tmp_path / "results.csv"
    pd.DataFrame([[x_visit, "", 0, 0, 0, "not_inspected"]],
                 columns=["visit_id", "date", "hazards_found", "major_hazards_found", "penalized",
                          "outcome"]).to_csv(results, index=False)
    q2 = plan(t, "2027Q2", tmp_path / "q2", previous_dir=q1.out_dir, previous_results=results)
    assert check_roster(t.path, q2.out_dir) == []
    assert x_visit not in {v["visit_id"] for v in q2.plan["previous_plan"]["planned_not_recorded"]}
    assert q2.plan["previous_plan"]["not_carried_out"] == 1


def test_previous_refuses_the_wrong_quarter_and_unrecorded_results(tiny_district, tmp_path):
    t = district(tiny_district)
    q1 = plan(t, "2027Q1", tmp_path / "q1")
    with pytest.raises(DistrictError) as info:
        plan(t, "2027Q3", tmp_path / "q3", previous_dir=q1.out_dir)
    assert "not of 2027Q2" in str(info.value)
    results = results_of(q1.out_dir, tmp_path / "results.csv")
    with pytest.raises(DistrictError) as info:
        plan(t, "2027Q2", tmp_path / "q2", previous_dir=q1.out_dir, previous_results=results)
    assert "run record with these results first" in str(info.value)
    assert not (tmp_path / "q2").exists()


def test_plan_previous_on_the_command_line(tiny_district, tmp_path):
    t = district(tiny_district)
    q1 = plan(t, "2027Q1", tmp_path / "q1")
    out = tmp_path / "q2"
    result = CliRunner().invoke(main, ["plan", str(t.path), "--quarter", "2027Q2", "--seed", "11", "--tiers",
                                       str(t.tiers_csv), "--time-limit", "10", "--out", str(out), "--previous",
                                       str(q1.out_dir), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "have no recorded result" in result.output
    assert check_roster(t.path, out) == []
