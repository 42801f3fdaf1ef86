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
