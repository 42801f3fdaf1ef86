"""The independent checker: a valid roster passes; rosters built to break one rule are caught
by that rule's named check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import first_fit_solve, make_tiny_district

from riskplan.check.checker import ROSTER_RULES, check_roster
from riskplan.cli import main
from riskplan.load.district import DistrictError
from riskplan.pipeline import run_plan

BASE_POLICY = """\
[roster]
cross_area = {cross}
[tiers.red]
visits_per_month = 1
max_visits_per_quarter = 3
[tiers.yellow]
sample_share = 0.5
[tiers.blue]
sample_share = 0.3
"""

INSPECTORS = [
    {"inspector_id": "I01", "qualifications": "hazchem;general"},
    {"inspector_id": "I02", "qualifications": "hazchem"},
    {"inspector_id": "I03", "qualifications": "dust;metallurgy"},
    {"inspector_id": "I04", "qualifications": "metallurgy"},
    {"inspector_id": "I05", "home_subdistrict": "A", "weekly_capacity": 2},
    {"inspector_id": "I06", "home_subdistrict": "B"},
    {"inspector_id": "I07", "certified": 0},
    {"inspector_id": "I08"},
]


def build_base(folder: Path, cross: bool = False) -> tuple[Path, Path]:
    t = make_tiny_district(
        folder / "district", policy=BASE_POLICY.format(cross=str(cross).lower()), inspectors=INSPECTORS,
        inspections=[{"enterprise_id": "R1", "date": "2026-12-28", "inspectors": "I01;I03"},
                     {"enterprise_id": "O1", "date": "2026-08-01", "inspectors": "I02;I05"}],
        leave=[{"inspector_id": "I08", "start": "2027-01-13", "end": "2027-01-22"}],
        conflicts=[{"inspector_id": "I01", "enterprise_id": "Y02", "reason": "relative"}],
        pinned=[{"enterprise_id": "B01", "reason": "complaint", "earliest": "2027-02-15", "latest": "2027-02-26"}])
    out = folder / "out"
    run_plan(t.path, "2027Q1", 1, t.tiers_csv, out_dir=out, solve=first_fit_solve)
    return t.path, out


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_base(tmp_path_factory.mktemp("base"))


@pytest.fixture(scope="module")
def base_cross(tmp_path_factory):
    return build_base(tmp_path_factory.mktemp("base_cross"), cross=True)


def short_id(visit_id: str) -> str:
    """The cases name visits by number (V00013): the plan's prefix (2027Q1-7F3A9C-) aside."""
    return "V" + visit_id.rsplit("-", 1)[-1]


def variant(base, tmp_path, edit_roster=None, edit_plan=None, edit_draw=None) -> tuple[Path, Path]:
    district, out = base
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    if edit_roster:
        roster = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=copy / "roster.csv", dtype=str, keep_default_na=False)
        roster = edit_roster(roster.set_index(roster["visit_id"].map(short_id)))
        roster.to_csv(copy / "roster.csv", index=False)
    if edit_plan:
        plan = json.loads((copy / "plan.json").read_text(encoding="utf-8"))
        edit_plan(plan)
        (copy / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    if edit_draw:
        draw = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=copy / "draw.csv", dtype=str, keep_default_na=False)
        edit_draw(draw).to_csv(copy / "draw.csv", index=False)
    return district, copy


def rules_broken(district, out) -> dict[str, list]:
    found: dict[str, list] = {}
    for v in check_roster(district, out):
        found.setdefault(v.rule, []).append(v)
    return found


def setv(**cells):
    """Roster edit: set cells of one visit, e.g. setv(V00013={"date": "2027-01-12"})."""

    def edit(roster):
        for vid, values in cells.items():
            for col, value in values.items():
                roster.loc[vid, col] = value
        return roster

    return edit


def test_the_base_roster_is_what_the_adversarial_cases_assume(base):
    roster = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=base[1] / "roster.csv", dtype=str)
    roster = roster.set_index(roster["visit_id"].map(short_id))
    assert roster.loc[["V00004", "V00005", "V00006"], "enterprise_id"].tolist() == ["R1"] * 3
    assert roster.loc["V00004", ["date", "inspectors"]].tolist() == ["2027-01-11", "I02;I04"]
    assert roster.loc["V00005", ["date", "inspectors"]].tolist() == ["2027-02-01", "I01;I03"]
    assert roster.loc["V00006", ["date", "inspectors"]].tolist() == ["2027-03-01", "I02;I04"]
    assert roster.loc["V00013", ["enterprise_id", "basis", "date", "inspectors"]].tolist() == [
        "Y07", "drawn", "2027-01-04", "I05;I06"]
    # 2027-01-04: I01..I06 each have two visits (the daily limit); I05 has its weekly limit 2
    assert roster.loc["V00010", ["enterprise_id", "inspectors"]].tolist() == ["Y02", "I03;I04"]


def test_a_correct_roster_passes_every_rule(base, base_cross):
    assert check_roster(*base) == []
    assert check_roster(*base_cross) == []
    assert len(ROSTER_RULES) == len({r.__name__ for r in ROSTER_RULES})


ADVERSARIAL = {
    "weekend": (setv(V00005={"date": "2027-02-06"}), {"on_working_day_in_window"}),
    "outside_window": (setv(V00003={"date": "2027-02-02"}), {"on_working_day_in_window", "mandatory_coverage"}),
    "uncertified": (setv(V00013={"inspectors": "I05;I07"}), {"team_of_certified_inspectors"}),
    "team_of_three": (setv(V00013={"inspectors": "I05;I06;I08"}), {"team_of_certified_inspectors"}),
    "same_inspector_twice": (setv(V00013={"inspectors": "I05;I05"}), {"team_of_certified_inspectors"}),
    "unknown_inspector": (setv(V00013={"inspectors": "I05;I99"}), {"team_of_certified_inspectors"}),
    "on_leave": (setv(V00013={"date": "2027-01-13", "inspectors": "I05;I08"}), {"inspector_not_on_leave"}),
    "weekly_capacity": (setv(V00010={"date": "2027-01-06", "inspectors": "I03;I05"}), {"inspector_weekly_capacity"}),
    # 2027-01-01 is alone in its ISO week: I05 (capacity 2) may make floor(2 × 1/5) = 0 visits there
    "short_week_capacity": (setv(V00007={"inspectors": "I05;I08"}), {"inspector_weekly_capacity"}),
    "daily_limit": (setv(V00013={"inspectors": "I01;I05"}), {"inspector_daily_limit"}),
    "conflict": (setv(V00010={"date": "2027-01-06", "inspectors": "I01;I04"}), {"no_conflict_of_interest"}),
    "qualification": (setv(V00004={"inspectors": "I04;I06"}), {"required_qualifications_held"}),
    "rotation_past_team": (setv(V00004={"inspectors": "I03;I02"}), {"rotate_inspectors"}),
    "rotation_in_quarter": (setv(V00006={"inspectors": "I01;I02", "date": "2027-03-03"}), {"rotate_inspectors"}),
    "spacing_in_quarter": (setv(V00004={"date": "2027-01-25"}), {"visit_spacing"}),
    "spacing_past_visit": (setv(V00004={"date": "2027-01-08"}), {"visit_spacing"}),
    "tier_maximum": (lambda r: pd.concat([r, r.loc[["V00006"]].assign(
        visit_id="V00099", date="2027-03-15", inspectors="I01;I05")]), {"tier_visit_maximum"}),
    "mandatory_missing": (lambda r: r.drop(index="V00006"), {"mandatory_coverage"}),
    "claims_nonexistent_obligation": (setv(V00013={"basis": "follow_up", "obligations": "follow_up_hazard"}),
                                      {"mandatory_coverage", "exact_draw"}),
    "drawn_swapped": (setv(V00013={"enterprise_id": "Y08", "enterprise_name": "Enterprise Y08", "subdistrict": "A"}),
                      {"exact_draw"}),
    "drawn_missing": (lambda r: r.drop(index="V00013"), {"exact_draw"}),
    "wrong_tier_column": (setv(V00013={"tier": "blue"}), {"roster_well_formed"}),
    # R1 visited twice in February (both claims and windows consistent) and not in March
    "red_twice_in_one_month": (setv(V00006={"date": "2027-02-22", "obligations": "red_month_2",
                                            "window_start": "2027-02-01", "window_end": "2027-02-28"}),
                               {"mandatory_coverage"}),
    "window_column_tampered": (setv(V00004={"window_end": "2027-01-20"}), {"roster_well_formed"}),
    "drawn_window_tampered": (setv(V00013={"window_end": "2027-02-28"}), {"roster_well_formed"}),
    "claims_another_month": (setv(V00004={"obligations": "red_month_2"}),
                             {"on_working_day_in_window", "roster_well_formed"}),
    "mandatory_serving_nothing": (setv(V00004={"obligations": ""}), {"mandatory_coverage"}),
    "team_of_one": (setv(V00013={"inspectors": "I05"}), {"team_of_certified_inspectors"}),
    "spacing_13_days": (setv(V00004={"date": "2027-01-19"}), {"visit_spacing"}),
    "duplicate_visit_id": (lambda r: pd.concat([r, r.loc[["V00013"]]]),
                           {"roster_well_formed", "exact_draw", "visit_spacing", "rotate_inspectors",
                            "inspector_daily_limit", "inspector_weekly_capacity"}),
}


@pytest.mark.parametrize("case", sorted(ADVERSARIAL))
def test_each_broken_rule_is_caught_by_its_named_check(base, tmp_path, case):
    edit, expected = ADVERSARIAL[case]
    found = rules_broken(*variant(base, tmp_path, edit_roster=edit))
    assert set(found) == expected, {k: [str(v) for v in vs] for k, vs in found.items()}


def test_rotation_reports_the_past_team_and_the_next_visit(base, tmp_path):
    found = rules_broken(*variant(base, tmp_path, edit_roster=setv(V00004={"inspectors": "I01;I02",
                                                                            "date": "2027-01-13"})))
    messages = sorted(str(v) for v in found["rotate_inspectors"])
    assert len(messages) == 2  # I01 was on the 2026-12-28 visit, and is on V00005 next
    assert any("before the quarter" in m for m in messages) and any("-00004" in m and "I01" in m for m in messages)


def test_cross_area_home_subdistrict_is_caught(base_cross, tmp_path):
    roster = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=base_cross[1] / "roster.csv", dtype=str).set_index("visit_id")
    a_visits = roster[(roster["subdistrict"] == "A") & (roster["basis"] == "drawn")]
    vid = short_id(a_visits.index[-1])
    team = a_visits["inspectors"].iloc[-1].split(";")
    edit = setv(**{vid: {"inspectors": f"{team[0]};I05"}})
    found = rules_broken(*variant(base_cross, tmp_path, edit_roster=edit))
    assert "cross_area" in found
    assert set(found) <= {"cross_area", "inspector_weekly_capacity", "inspector_daily_limit"}


def test_reported_shortfall_is_not_a_violation(base, tmp_path):
    def report(plan):
        plan["shortfall"]["unmet_obligations"].append(
            {"enterprise_id": "R1", "obligation": "red_month_3", "visit_id": "V00006", "reason": "capacity"})
        plan["shortfall"]["drawn_not_placed"].append({"enterprise_id": "Y07", "visit_id": "V00013", "reason": "x"})

    out = variant(base, tmp_path, edit_roster=lambda r: r.drop(index=["V00006", "V00013"]), edit_plan=report)
    assert check_roster(*out) == []


def test_a_tampered_draw_csv_is_caught(base, tmp_path):
    def flip(draw):
        draw.loc[draw["enterprise_id"] == "Y08", "drawn"] = "yes"
        return draw

    found = rules_broken(*variant(base, tmp_path, edit_draw=flip))
    assert set(found) == {"exact_draw"} and "Y08" in str(found["exact_draw"][0])


def test_changed_inputs_are_caught(tmp_path):
    district, out = build_base(tmp_path)
    with open(district / "accidents.csv", "a", encoding="utf-8") as fh:
        fh.write("B02,2026-06-01,minor,0,1\n")  # old and minor: changes no obligation
    assert set(rules_broken(district, out)) == {"inputs_match_plan"}


def test_check_cli_exit_codes(base, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["check", str(base[0]), str(base[1])])
    assert ok.exit_code == 0 and "pass" in ok.output
    district, out = variant(base, tmp_path, edit_roster=setv(V00005={"date": "2027-02-06"}))
    bad = runner.invoke(main, ["check", str(district), str(out)])
    assert bad.exit_code == 1
    assert "-00005 R1: 2027-02-06 is not a working day" in bad.output
    (out / "roster.csv").write_text("visit_id,enterprise_id\nV1,R1\n", encoding="utf-8")
    broken = runner.invoke(main, ["check", str(district), str(out)])
    assert broken.exit_code == 2 and "roster.csv, row 1, column 'date'" in broken.output


def test_malformed_roster_cells_name_row_and_column(base, tmp_path):
    district, out = variant(base, tmp_path, edit_roster=setv(V00004={"date": "11/01/2027"}))
    with pytest.raises(DistrictError, match=r"roster.csv, row 5, column 'date': '11/01/2027' is not an ISO date"):
        check_roster(district, out)


def test_tampered_tiers_csv_is_caught(base, tmp_path):
    district, out = variant(base, tmp_path)
    tiers = (out / "tiers.csv").read_text(encoding="utf-8").replace("R1,red", "R1,blue")
    (out / "tiers.csv").write_text(tiers, encoding="utf-8")
    assert "inputs_match_plan" in rules_broken(district, out)


def test_every_rule_has_a_planted_case_that_fires_it_alone(base):
    alone = {next(iter(rules)) for _, rules in ADVERSARIAL.values() if len(rules) == 1}
    others = {"inputs_match_plan", "cross_area"}  # test_changed_inputs_are_caught, test_cross_area_...
    assert alone | others == {r.__name__ for r in ROSTER_RULES}


@pytest.mark.parametrize("key, rule", [("obligations", "mandatory_coverage"), ("drawn_by_tier", "exact_draw"),
                                       ("eligible_by_tier", "exact_draw")])
def test_tampered_plan_counts_are_caught(base, tmp_path, key, rule):
    def tamper(plan):
        if key == "obligations":
            plan["counts"]["obligations"] += 1
        else:
            plan["counts"][key]["yellow"] += 1

    assert set(rules_broken(*variant(base, tmp_path, edit_plan=tamper))) == {rule}


def test_a_shortfall_naming_an_obligation_that_does_not_exist_is_caught(base, tmp_path):
    def report(plan):
        plan["shortfall"]["unmet_obligations"].append(
            {"enterprise_id": "B02", "obligation": "follow_up_accident", "visit_id": "", "reason": "capacity"})

    found = rules_broken(*variant(base, tmp_path, edit_plan=report))
    assert set(found) == {"mandatory_coverage"} and "do not give" in found["mandatory_coverage"][0].message


def test_a_tampered_inclusion_probability_in_draw_csv_is_caught(base, tmp_path):
    def shift(draw):
        draw.loc[draw["enterprise_id"] == "Y08", "inclusion_probability"] = "0.600000"
        return draw

    found = rules_broken(*variant(base, tmp_path, edit_draw=shift))
    assert set(found) == {"exact_draw"} and "Y08" in str(found["exact_draw"][0])


def test_a_swapped_drawn_visit_names_both_enterprises(base, tmp_path):
    """Each half of the swap is its own finding: the visit to an enterprise the draw did not
    select, and the selected enterprise left without a visit or a shortfall entry."""
    edit = ADVERSARIAL["drawn_swapped"][0]
    found = rules_broken(*variant(base, tmp_path, edit_roster=edit))
    messages = sorted((v.enterprise_id, v.message) for v in found["exact_draw"])
    assert ("Y08", "drawn visit to an enterprise the seeded draw did not select") in messages
    assert any(eid == "Y07" and "neither placed nor reported" in m for eid, m in messages)
