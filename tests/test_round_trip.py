"""Two quarters in a row: plan Q1, record what the visits found, plan Q2 — Q2 sees Q1."""

import pandas as pd

from riskplan.check.checker import check_roster
from riskplan.export.record import record_results
from riskplan.pipeline import run_plan


def test_plan_record_plan(tiny_district, tmp_path):
    district = tiny_district()
    q1 = tmp_path / "q1"
    run_plan(district.path, "2027Q1", 4, district.tiers_csv, out_dir=q1, time_limit=10)
    assert check_roster(district.path, q1) == []
    roster = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=q1 / "roster.csv", dtype=str, keep_default_na=False)
    drawn = roster[roster["basis"] == "drawn"]
    assert len(drawn) >= 1
    finder = drawn.iloc[0]  # this drawn visit finds a major hazard: a follow-up is due next quarter
    results = pd.DataFrame({
        "visit_id": roster["visit_id"], "date": roster["date"],
        "hazards_found": [2 if v == finder["visit_id"] else 0 for v in roster["visit_id"]],
        "major_hazards_found": [1 if v == finder["visit_id"] else 0 for v in roster["visit_id"]],
        "penalized": 0, "outcome": ""})
    results.to_csv(tmp_path / "results.csv", index=False)
    assert record_results(district.path, q1, tmp_path / "results.csv").added == len(roster)

    q2 = tmp_path / "q2"
    run_plan(district.path, "2027Q2", 4, district.tiers_csv, out_dir=q2, time_limit=10)
    assert check_roster(district.path, q2) == []
    roster2 = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=q2 / "roster.csv", dtype=str, keep_default_na=False)

    # follow-up: the enterprise whose Q1 visit found a major hazard is visited in Q2's first month
    follow = roster2[roster2["enterprise_id"] == finder["enterprise_id"]]
    assert len(follow) == 1 and "follow_up_hazard" in follow.iloc[0]["obligations"]
    assert follow.iloc[0]["date"] <= "2027-04-30"

    # half-year deadline: orange O1, visited in Q1, is not due again until Q3
    o1_q1 = roster[roster["enterprise_id"] == "O1"]["date"].max()
    assert o1_q1 and "O1" not in set(roster2["enterprise_id"])

    # rotation: red R1's first Q2 team shares nobody with its last Q1 team
    last_q1 = roster[roster["enterprise_id"] == "R1"].sort_values("date").iloc[-1]
    first_q2 = roster2[roster2["enterprise_id"] == "R1"].sort_values("date").iloc[0]
    assert not set(last_q1["inspectors"].split(";")) & set(first_q2["inspectors"].split(";"))

    # avoid_recent_days: nobody visited in Q1's last 90 days is drawn again in Q2
    draw2 = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=q2 / "draw.csv", dtype=str, keep_default_na=False)
    recent = draw2[draw2["enterprise_id"].isin(drawn["enterprise_id"])]
    assert (recent["drawn"] == "no").all()
