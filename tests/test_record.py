"""Recording a quarter's results into the district history: idempotent, strict, atomic."""

import json

import pandas as pd
import pytest
from test_district import CODE_A, CODE_B, base_tables, write_district

from riskplan.export.record import record_results
from riskplan.load.district import DistrictError, load_district


def make_plan(folder):
    folder.mkdir()
    pd.DataFrame({
        "visit_id": ["V0001", "V0002"], "enterprise_id": [CODE_A, CODE_B],
        "inspectors": ["I01;I02", "I01;I03"], "date": ["2027-01-12", "2027-02-03"],
    }).to_csv(folder / "roster.csv", index=False)
    (folder / "plan.json").write_text(json.dumps({"quarter": "2027Q1", "seed": 1}))
    return folder


def results_file(path, rows):
    pd.DataFrame(rows, columns=["visit_id", "date", "hazards_found", "major_hazards_found",
                                "penalized", "outcome"]).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_record_appends_once(tmp_path, fmt):
    district = write_district(tmp_path / "d", base_tables(), fmt=fmt)
    plan = make_plan(tmp_path / "out")
    results = results_file(tmp_path / "results.csv", [
        ["V0001", "2027-01-13", 2, 1, 1, "整改"], ["V0002", "2027-02-03", 0, 0, 0, "无隐患"]])
    first = record_results(district, plan, results)
    assert (first.added, first.already_recorded) == (2, 0)
    assert first.inspections_file.suffix == f".{fmt}"
    history = load_district(district).inspections
    assert len(history) == 4
    new = history[history["visit_id"] == "2027Q1-V0001"].iloc[0]
    assert new["enterprise_id"] == CODE_A and new["inspectors"] == "I01;I02"
    assert new["date"] == pd.Timestamp("2027-01-13") and new["major_hazards_found"] == 1
    assert new["outcome"] == "整改"
    before = first.inspections_file.read_bytes()
    again = record_results(district, plan, results)
    assert (again.added, again.already_recorded) == (0, 2)
    assert first.inspections_file.read_bytes() == before


def test_unknown_visit_and_bad_cells_are_refused_without_writing(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    before = (district / "inspections.csv").read_bytes()
    results = results_file(tmp_path / "results.csv", [
        ["V0001", "2027-01-13", 2, 1, 1, ""], ["V0099", "2027-02-03", 0, 0, 0, ""],
        ["V0002", "2027-05-03", -1, 0, 0, ""]])
    with pytest.raises(DistrictError) as info:
        record_results(district, plan, results)
    found = {(p.file, p.row, p.column) for p in info.value.problems}
    assert found == {("results.csv", 3, "visit_id"), ("results.csv", 4, "date"),
                     ("results.csv", 4, "hazards_found")}
    assert (district / "inspections.csv").read_bytes() == before


def test_repeated_visit_in_results_is_refused(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    results = results_file(tmp_path / "results.csv", [
        ["V0001", "2027-01-13", 0, 0, 0, ""], ["V0001", "2027-01-14", 0, 0, 0, ""]])
    with pytest.raises(DistrictError, match="appears twice"):
        record_results(district, plan, results)


def test_cli_record(tmp_path):
    from click.testing import CliRunner

    from riskplan.cli import main

    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    results = results_file(tmp_path / "results.csv", [["V0002", "2027-02-03", 0, 0, 0, ""]])
    ok = CliRunner().invoke(main, ["record", str(district), str(plan), str(results)])
    assert ok.exit_code == 0 and "1 visit(s) added" in ok.output
    bad = results_file(tmp_path / "bad.csv", [["V7", "2027-02-03", 0, 0, 0, ""]])
    refused = CliRunner().invoke(main, ["record", str(district), str(plan), str(bad)])
    assert refused.exit_code == 2 and "bad.csv, row 2, column 'visit_id'" in refused.output


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_changed_result_is_refused_without_correct(tmp_path, fmt):
    district = write_district(tmp_path / "d", base_tables(), fmt=fmt)
    plan = make_plan(tmp_path / "out")
    record_results(district, plan, results_file(tmp_path / "results.csv", [
        ["V0001", "2027-01-13", 2, 1, 1, "整改"], ["V0002", "2027-02-03", 0, 0, 0, "无隐患"]]))
    history = next(district.glob("inspections.*"))
    before = sorted(p.name for p in district.iterdir()), history.read_bytes()
    changed = results_file(tmp_path / "changed.csv", [
        ["V0001", "2027-01-13", 3, 1, 1, "整改完毕"], ["V0002", "2027-02-03", 0, 0, 0, "无隐患"]])
    with pytest.raises(DistrictError) as info:
        record_results(district, plan, changed)
    (problem,) = info.value.problems
    assert (problem.file, problem.row, problem.column) == ("changed.csv", 2, "hazards_found")
    assert "visit 'V0001'" in problem.message and "hazards_found '2' -> '3'" in problem.message
    assert "outcome '整改' -> '整改完毕'" in problem.message and "--correct" in problem.message
    assert (sorted(p.name for p in district.iterdir()), history.read_bytes()) == before


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_correct_applies_the_change_and_keeps_the_old_values(tmp_path, fmt):
    from click.testing import CliRunner

    from riskplan.cli import main
    from riskplan.io import read_csv_text

    district = write_district(tmp_path / "d", base_tables(), fmt=fmt)
    plan = make_plan(tmp_path / "out")
    record_results(district, plan, results_file(tmp_path / "results.csv", [
        ["V0001", "2027-01-13", 2, 1, 1, "整改"], ["V0002", "2027-02-03", 0, 0, 0, "无隐患"]]))
    history = next(district.glob("inspections.*"))
    first = history.read_bytes()
    changed = results_file(tmp_path / "changed.csv", [
        ["V0001", "2027-01-13", 3, 1, 1, "整改完毕"], ["V0002", "2027-02-03", 0, 0, 0, "无隐患"]])
    refused = CliRunner().invoke(main, ["record", str(district), str(plan), str(changed)])
    assert refused.exit_code == 2 and "already recorded" in refused.output
    done = CliRunner().invoke(main, ["record", str(district), str(plan), str(changed), "--correct"])
    assert done.exit_code == 0, done.output
    assert "0 visit(s) added" in done.output and "1 already recorded" in done.output
    assert "1 visit(s) corrected" in done.output
    backups = sorted(district.glob("inspections.bak-*"))
    assert [b.name for b in backups] == [f"inspections.bak-1.{fmt}", f"inspections.bak-2.{fmt}"]
    assert backups[1].read_bytes() == first  # bak-1 is the history before the first recording
    rows = load_district(district).inspections.set_index("visit_id")
    assert len(rows) == 4
    assert rows.loc["2027Q1-V0001", "hazards_found"] == 3 and rows.loc["2027Q1-V0001", "outcome"] == "整改完毕"
    audit = read_csv_text(district / "inspections_corrections.csv")
    assert audit[["visit_id", "field", "old", "new", "results_file"]].values.tolist() == [
        ["2027Q1-V0001", "hazards_found", "2", "3", "changed.csv"],
        ["2027Q1-V0001", "outcome", "整改", "整改完毕", "changed.csv"]]
    again = record_results(district, plan, changed, correct=True)  # applied already: nothing changes
    assert (again.added, again.corrected, again.already_recorded, again.backup_file) == (0, 0, 2, None)


def test_a_control_character_in_results_is_refused(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    results = results_file(tmp_path / "results.csv", [["V0001", "2027-01-13", 0, 0, 0, "ok\x00"]])
    with pytest.raises(DistrictError) as info:
        record_results(district, plan, results)
    assert [(p.row, p.column, p.message) for p in info.value.problems] == [
        (2, "outcome", "contains the control character U+0000; remove it")]
