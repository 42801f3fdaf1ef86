"""Recording a quarter's results into the district history: idempotent, strict, atomic, and
only against the plan the results belong to."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from test_district import CODE_A, CODE_B, base_tables, write_district

from riskplan.cli import main
from riskplan.export.record import backup_path, record_results
from riskplan.i18n import set_language
from riskplan.io import read_csv_text
from riskplan.load.district import DistrictError, load_district

PLAN = "2027Q1-7F3A9C"
V1, V2, V3 = f"{PLAN}-00001", f"{PLAN}-00002", f"{PLAN}-00003"
COLUMNS = ["visit_id", "date", "hazards_found", "major_hazards_found", "penalized", "outcome"]


def make_plan(folder, ids=(V1, V2, V3), plan_id="7F3A9C"):
    folder.mkdir()
    pd.DataFrame({
        "visit_id": list(ids), "enterprise_id": [CODE_A, CODE_B, CODE_A][:len(ids)],
        "inspectors": ["I01;I02", "I01;I03", "I01;I02"][:len(ids)],
        "date": ["2027-01-12", "2027-02-03", "2027-03-01"][:len(ids)],
    }).to_csv(folder / "roster.csv", index=False)
    plan = {"quarter": "2027Q1", "seed": 1} | ({"plan_id": plan_id} if plan_id else {})
    (folder / "plan.json").write_text(json.dumps(plan))
    return folder


def results_file(path, rows, columns=COLUMNS):
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def problems(call) -> list:
    with pytest.raises(DistrictError) as info:
        call()
    return info.value.problems


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_record_appends_once(tmp_path, fmt):
    district = write_district(tmp_path / "d", base_tables(), fmt=fmt)
    plan = make_plan(tmp_path / "out")
    results = results_file(tmp_path / "results.csv", [
        [V1, "2027-01-13", 2, 1, 1, "发现问题责令整改"], [V2, "2027-02-03", 0, 0, 0, "未发现问题"]])
    first = record_results(district, plan, results)
    assert (first.added, first.already_recorded) == (2, 0)
    assert first.inspections_file.suffix == f".{fmt}" and first.no_result == (V3,)
    history = load_district(district).inspections
    assert len(history) == 4
    new = history[history["visit_id"] == V1].iloc[0]  # the id itself: it names quarter and plan
    assert new["enterprise_id"] == CODE_A and new["inspectors"] == "I01;I02"
    assert new["date"] == pd.Timestamp("2027-01-13") and new["major_hazards_found"] == 1
    assert new["outcome"] == "rectify_ordered"  # an English-header history gets the code
    before = first.inspections_file.read_bytes()
    again = record_results(district, plan, results)
    assert (again.added, again.already_recorded, again.backup_file) == (0, 2, None)
    assert first.inspections_file.read_bytes() == before


def test_an_old_plan_with_v_ids_still_records_under_quarter_and_id(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out", ids=("V00001", "V00002"), plan_id=None)
    results = results_file(tmp_path / "results.csv", [["V00001", "2027-01-13", 0, 0, 0, ""]])
    assert record_results(district, plan, results).added == 1
    assert "2027Q1-V00001" in set(load_district(district).inspections["visit_id"])
    assert record_results(district, plan, results).already_recorded == 1


def test_results_of_another_plan_are_refused_naming_both_plans(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    before = (district / "inspections.csv").read_bytes()
    other = results_file(tmp_path / "second.csv", [
        [V1, "2027-01-13", 0, 0, 0, ""], ["2027Q1-1B2C3D-00001", "2027-01-14", 0, 0, 0, ""],
        ["2027Q1-1B2C3D-00009", "2027-01-15", 0, 0, 0, ""]])
    (p,) = problems(lambda: record_results(district, plan, other))
    assert (p.file, p.row, p.column) == ("second.csv", 3, "visit_id")
    assert "plan 1B2C3D (2027Q1), not to this plan 7F3A9C (2027Q1)" in p.message and "2 row(s)" in p.message
    last_quarter = results_file(tmp_path / "q4.csv", [["2026Q4-7F3A9C-00001", "2026-11-02", 0, 0, 0, ""]])
    (p,) = problems(lambda: record_results(district, plan, last_quarter))
    assert "plan 7F3A9C (2026Q4)" in p.message
    assert (district / "inspections.csv").read_bytes() == before


def test_new_ids_against_an_old_plan_are_refused(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out", ids=("V00001",), plan_id=None)
    results = results_file(tmp_path / "r.csv", [[V1, "2027-01-13", 0, 0, 0, ""]])
    (p,) = problems(lambda: record_results(district, plan, results))
    assert "plan 7F3A9C (2027Q1), not to this plan (made before plan ids)" in p.message


def test_plan_id_is_read_off_the_ids_when_plan_json_has_none(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out", plan_id=None)
    other = results_file(tmp_path / "r.csv", [["2027Q1-1B2C3D-00001", "2027-01-13", 0, 0, 0, ""]])
    (p,) = problems(lambda: record_results(district, plan, other))
    assert "not to this plan 7F3A9C" in p.message


def test_unknown_visit_and_bad_cells_are_refused_without_writing(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    before = (district / "inspections.csv").read_bytes()
    results = results_file(tmp_path / "results.csv", [
        [V1, "2027-01-13", 2, 1, 1, ""], [f"{PLAN}-00099", "2027-02-03", 0, 0, 0, ""],
        [V2, "2027-05-03", -1, 0, 0, ""]])
    found = {(p.file, p.row, p.column) for p in problems(lambda: record_results(district, plan, results))}
    assert found == {("results.csv", 3, "visit_id"), ("results.csv", 4, "date"),
                     ("results.csv", 4, "hazards_found")}
    assert (district / "inspections.csv").read_bytes() == before
    assert sorted(p.name for p in district.iterdir()) == sorted(f"{t}.csv" for t in base_tables())


def test_repeated_visit_in_results_is_refused(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    results = results_file(tmp_path / "results.csv", [
        [V1, "2027-01-13", 0, 0, 0, ""], [V1, "2027-01-14", 0, 0, 0, ""]])
    (p,) = problems(lambda: record_results(district, plan, results))
    assert p.row == 3 and "appears twice (first at row 2)" in p.message


def test_a_missing_column_is_named_with_its_header(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    results = results_file(tmp_path / "r.csv", [[V1, "2027-01-13", 0, 0]], columns=COLUMNS[:4])
    (p,) = problems(lambda: record_results(district, plan, results))
    assert (p.row, p.column) == (1, "penalized")


def test_empty_rows_are_skipped_and_reported_and_not_carried_out_visits_are_not_inspections(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    columns = ["检查编号", "实际检查日期", "检查结果", "发现隐患数", "重大隐患数", "是否处罚", "实际执法人员"]
    results = results_file(tmp_path / "r.csv", [
        [V1, "2027-01-13", "当场整改", 2, "", "否", "李娜；I03"],
        [V2, "", "企业已关闭或未找到", "", "", "", ""],
        [V3, "", "", "", "", "", ""]], columns=columns)
    done = record_results(district, plan, results)
    assert (done.added, done.no_result, done.not_carried_out) == (1, (V3,), {"closed_or_not_found": (V2,)})
    history = load_district(district).inspections
    assert set(history["visit_id"]) == {"", V1}  # the closed enterprise's visit is no inspection
    row = history[history["visit_id"] == V1].iloc[0]
    assert (row["inspectors"], row["hazards_found"], row["major_hazards_found"], row["penalized"]) == (
        "I02;I03", 2, 0, 0)  # substitutes by name or id; an empty count is 0
    assert row["outcome"] == "rectified_on_site"


@pytest.mark.parametrize("cells, column, words", [
    (["2027-01-13", "未检查，企业停产", 0, 0, "否"], "outcome", "reads like a visit that did not happen"),
    (["2027-01-13", "enterprise closed_or_not_found", 0, 0, "否"], "outcome", "not an outcome category"),
    (["", "未发现问题", 0, 0, "否"], "date", "no actual date"),
    (["2027-01-13", "未发现问题", 2, 0, "否"], "outcome", "2 hazard(s) found"),
    (["", "未检查", 1, 0, "否"], "outcome", "did not happen"),
    (["2027-01-13", "立案查处", 1, 2, "是"], "major_hazards_found", "more major hazards (2) than hazards (1)"),
    (["2027-01-13", "立案查处", 1, 0, "也许"], "penalized", "is not 是/否"),
    (["2027/13/01", "立案查处", 1, 0, "是"], "date", "2027/13/01"),
])
def test_a_bad_result_is_refused_naming_its_cell(tmp_path, cells, column, words):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    results = results_file(tmp_path / "r.csv", [[V2] + cells], columns=COLUMNS[:2] + [
        "outcome", "hazards_found", "major_hazards_found", "penalized"])
    (p,) = problems(lambda: record_results(district, plan, results))
    assert (p.row, p.column) == (2, column) and words in p.message, str(p)


def test_free_text_outcomes_of_an_earlier_results_csv_are_kept_as_written_and_named(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    results = results_file(tmp_path / "r.csv", [[V1, "2027-01-13", 1, 0, 0, "已整改"],
                                                [V2, "2027-02-03", 0, 0, 0, "未发现问题"]])
    done = record_results(district, plan, results)
    assert (done.added, done.uncategorized) == (2, (V1,))
    history = load_district(district).inspections.set_index("visit_id")
    assert history.loc[V1, "outcome"] == "已整改" and history.loc[V2, "outcome"] == "no_problem"
    shown = CliRunner().invoke(main, ["--lang", "en", "record", str(district), str(plan), str(results)])
    assert f"1 outcome is not one of the categories and was recorded as written: {V1}" in shown.output


def test_an_unknown_substitute_is_refused(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    results = results_file(tmp_path / "r.csv", [[V1, "2027-01-13", 0, 0, 0, "", "赵六"]],
                           columns=COLUMNS + ["substitute_inspectors"])
    (p,) = problems(lambda: record_results(district, plan, results))
    assert p.column == "substitute_inspectors" and "'赵六'" in p.message


def test_not_inspected_cannot_undo_a_recorded_inspection(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    record_results(district, plan, results_file(tmp_path / "a.csv", [[V1, "2027-01-13", 0, 0, 0, ""]]))
    later = results_file(tmp_path / "b.csv", [[V1, "", "", "", "", "未检查"]])
    (p,) = problems(lambda: record_results(district, plan, later, correct=True))
    assert "already recorded as an inspection" in p.message and p.column == "outcome"


def test_cli_record_speaks_chinese_by_default_and_english_on_request(tmp_path, monkeypatch):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    results = results_file(tmp_path / "results.csv", [[V2, "", "", "", "", "未检查"],
                                                      [V1, "2027-01-13", 0, 0, 0, ""]])
    monkeypatch.delenv("RISKPLAN_LANG")
    for var in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "C")
    set_language(None)
    ok = CliRunner().invoke(main, ["record", str(district), str(plan), str(results)])
    assert ok.exit_code == 0, ok.output
    assert "新增 1 条检查记录" in ok.output and "未检查" in ok.output and "尚无结果" in ok.output
    assert V3 in ok.output and "备份" in ok.output
    again = CliRunner().invoke(main, ["--lang", "en", "record", str(district), str(plan), str(results)])
    assert "0 visits added" in again.output and "1 already recorded" in again.output
    assert "1 visit did not happen (not_inspected)" in again.output
    assert f"1 planned visit has no result yet: {V3}" in again.output
    bad = results_file(tmp_path / "bad.csv", [[f"{PLAN}-00007", "2027-02-03", 0, 0, 0, ""]])
    refused = CliRunner().invoke(main, ["--lang", "en", "record", str(district), str(plan), str(bad)])
    assert refused.exit_code == 2 and "bad.csv, row 2, column 'visit_id'" in refused.output


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_changed_result_is_refused_without_correct(tmp_path, fmt):
    district = write_district(tmp_path / "d", base_tables(), fmt=fmt)
    plan = make_plan(tmp_path / "out")
    record_results(district, plan, results_file(tmp_path / "results.csv", [
        [V1, "2027-01-13", 2, 1, 1, "立案查处"], [V2, "2027-02-03", 0, 0, 0, "无隐患"]]))
    history = next(district.glob("inspections.*"))
    before = sorted(p.name for p in district.iterdir()), history.read_bytes()
    changed = results_file(tmp_path / "changed.csv", [
        [V1, "2027-01-13", 3, 1, 1, "责令整改"], [V2, "2027-02-03", 0, 0, "否", "未发现问题"]])
    (problem,) = problems(lambda: record_results(district, plan, changed))
    assert (problem.file, problem.row, problem.column) == ("changed.csv", 2, "hazards_found")
    assert f"visit '{V1}'" in problem.message and "hazards_found '2' -> '3'" in problem.message
    assert "outcome 'case_filed' -> 'rectify_ordered'" in problem.message and "--correct" in problem.message
    assert (sorted(p.name for p in district.iterdir()), history.read_bytes()) == before


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_correct_applies_the_change_and_keeps_the_old_values(tmp_path, fmt):
    district = write_district(tmp_path / "d", base_tables(), fmt=fmt)
    plan = make_plan(tmp_path / "out")
    record_results(district, plan, results_file(tmp_path / "results.csv", [
        [V1, "2027-01-13", 2, 1, 1, "立案查处"], [V2, "2027-02-03", 0, 0, 0, "未发现问题"]]))
    history = next(district.glob("inspections.*"))
    first = history.read_bytes()
    changed = results_file(tmp_path / "changed.csv", [
        [V1, "2027-01-13", 3, 1, 1, "责令整改"], [V2, "2027-02-03", 0, 0, 0, "未发现问题"]])
    refused = CliRunner().invoke(main, ["record", str(district), str(plan), str(changed)])
    assert refused.exit_code == 2 and "already recorded" in refused.output
    done = CliRunner().invoke(main, ["record", str(district), str(plan), str(changed), "--correct"])
    assert done.exit_code == 0, done.output
    assert "0 visits added" in done.output and "1 already recorded" in done.output
    assert "1 visit corrected" in done.output
    backups = sorted(district.glob("inspections.bak-*"))
    assert len(backups) == 2 and all(b.suffix == f".{fmt}" for b in backups)
    assert first in [b.read_bytes() for b in backups]  # the history before the correction
    rows = load_district(district).inspections.set_index("visit_id")
    assert len(rows) == 4
    assert rows.loc[V1, "hazards_found"] == 3 and rows.loc[V1, "outcome"] == "rectify_ordered"
    assert rows.loc[V2, "hazards_found"] == 0
    audit = read_csv_text(district / "inspections_corrections.csv")
    assert audit[["visit_id", "field", "old", "new", "results_file"]].values.tolist() == [
        [V1, "hazards_found", "2", "3", "changed.csv"], [V1, "outcome", "case_filed", "rectify_ordered", "changed.csv"]]
    again = record_results(district, plan, changed, correct=True)  # applied already: nothing changes
    assert (again.added, again.corrected, again.already_recorded, again.backup_file) == (0, 0, 2, None)


def test_backup_names_carry_the_time_and_never_overwrite(tmp_path):
    import datetime

    history = tmp_path / "inspections.xlsx"
    history.write_bytes(b"x")
    now = datetime.datetime(2027, 4, 5, 10, 15, 0)
    first = backup_path(history, now)
    assert first.name == "inspections.bak-20270405T101500.xlsx"
    first.write_bytes(b"old")
    assert backup_path(history, now).name == "inspections.bak-20270405T101500-2.xlsx"


def test_a_control_character_in_results_is_refused(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    results = results_file(tmp_path / "results.csv", [[V1, "2027-01-13", 0, 0, 0, "ok\x00"]])
    assert [(p.row, p.column, p.message) for p in problems(lambda: record_results(district, plan, results))] == [
        (2, "outcome", "contains the control character U+0000; remove it")]
