"""The results workbook: what the clerk fills in after the visits, and `record` reads back."""

import datetime

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import first_fit_solve

from riskplan.cli import main
from riskplan.domain.headers import VALUES
from riskplan.export.results_template import template_bytes
from riskplan.i18n import set_language
from riskplan.load.district import load_district
from riskplan.pipeline import run_plan


@pytest.fixture
def planned(tiny_district, tmp_path):
    t = tiny_district()
    run_plan(t.path, "2027Q1", 1, t.tiers_csv, out_dir=tmp_path / "out", solve=first_fit_solve)
    return t, tmp_path / "out"


def chinese(monkeypatch):
    monkeypatch.delenv("RISKPLAN_LANG")
    for var in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "C")
    set_language(None)


def test_the_template_has_a_row_per_visit_drop_downs_and_an_instructions_sheet(planned, tmp_path, monkeypatch):
    t, out = planned
    chinese(monkeypatch)
    target = tmp_path / "结果.xlsx"
    done = CliRunner().invoke(main, ["results-template", str(out), str(target), "--district", str(t.path)])
    assert done.exit_code == 0, done.output
    roster = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=out / "roster.csv", dtype=str)
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["检查结果", "说明"]
    ws = book["检查结果"]
    assert [c.value for c in ws[1]] == ["检查编号", "统一社会信用代码", "企业名称", "所属街道", "计划检查日期",
                                        "计划执法人员", "实际检查日期", "检查结果", "发现隐患数", "重大隐患数",
                                        "是否处罚", "实际执法人员"]
    assert ws.max_row == len(roster) + 1 and ws.freeze_panes == "A2"
    assert sorted(ws.cell(r, 1).value for r in range(2, ws.max_row + 1)) == sorted(roster["visit_id"])
    first = roster.sort_values(["date", "visit_id"]).iloc[0]
    assert ws["A2"].value == first["visit_id"] and ws["E2"].is_date and ws["G2"].number_format == "yyyy-mm-dd"
    names = load_district(t.path).inspectors.set_index("inspector_id")["name"]
    assert ws["F2"].value == "、".join(names[i] for i in first["inspectors"].split(";"))
    rules = {str(v.sqref): v for v in ws.data_validations.dataValidation}
    last = ws.max_row
    outcome = rules[f"H2:H{last}"].formula1
    assert all(VALUES["outcome"][code][0] in outcome for code in VALUES["outcome"])
    assert rules[f"K2:K{last}"].formula1 == '"是,否"' and rules[f"G2:G{last}"].type == "date"
    assert ws.oddHeader.right.text == "内部资料" and ws.cell(1, 1).value == "检查编号"  # nothing above the header
    assert "record" in " ".join(str(c.value) for c in book["说明"]["A"])
    assert ws.column_dimensions["C"].width >= 10


def test_the_template_is_reproducible_and_english_on_request(planned):
    _t, out = planned
    assert template_bytes(out, lang="en") == template_bytes(out, lang="en")
    import io

    book = openpyxl.load_workbook(io.BytesIO(template_bytes(out, lang="en")))
    assert book.sheetnames == ["results", "instructions"]
    ws = book["results"]
    assert ws["A1"].value == "visit_id" and ws["F2"].value  # team: ids without the district
    assert "no_problem" in {str(v.sqref): v for v in ws.data_validations.dataValidation}[f"H2:H{ws.max_row}"].formula1
    assert ws.oddHeader.right.text == "Internal document"


def test_round_trip_fill_record_history(planned, tmp_path):
    t, out = planned
    target = tmp_path / "results.xlsx"
    assert CliRunner().invoke(main, ["results-template", str(out), str(target)]).exit_code == 0
    book = openpyxl.load_workbook(target)
    ws = book.active
    ids = [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)]
    planned_day = ws["E2"].value
    ws["G2"], ws["H2"], ws["I2"], ws["K2"] = planned_day, "发现问题责令整改", 2, "否"
    ws["G3"], ws["H3"] = None, "未检查"
    book.save(target)
    before = len(load_district(t.path).inspections)
    done = CliRunner().invoke(main, ["--lang", "en", "record", str(t.path), str(out), str(target)])
    assert done.exit_code == 0, done.output
    assert "1 visit added" in done.output and f"1 visit did not happen (not_inspected), not recorded as an " \
                                              f"inspection: {ids[1]}" in done.output
    assert f"{len(ids) - 2} planned visits have no result yet: " in done.output and ids[2] in done.output
    history = load_district(t.path).inspections
    assert len(history) == before + 1
    row = history[history["visit_id"] == ids[0]].iloc[0]
    assert row["date"] == pd.Timestamp(planned_day) and row["hazards_found"] == 2 and row["penalized"] == 0
    assert ids[1] not in set(history["visit_id"])


def test_a_template_is_not_overwritten_once_filled_in(planned, tmp_path):
    _t, out = planned
    target = tmp_path / "results.xlsx"
    runner = CliRunner()
    assert runner.invoke(main, ["results-template", str(out), str(target)]).exit_code == 0
    again = runner.invoke(main, ["--lang", "en", "results-template", str(out), str(target)])
    assert again.exit_code == 2 and "exists" in again.output
    assert runner.invoke(main, ["results-template", str(out), str(target), "--force"]).exit_code == 0
    book = openpyxl.load_workbook(target)
    book.active["G2"] = datetime.date(2027, 1, 5)
    book.save(target)
    filled = target.read_bytes()
    refused = runner.invoke(main, ["results-template", str(out), str(target), "--force"])
    assert refused.exit_code == 2 and target.read_bytes() == filled
    other = tmp_path / "mine.xlsx"
    other.write_bytes(b"not riskplan's")
    assert runner.invoke(main, ["results-template", str(out), str(other), "--force"]).exit_code == 2
    assert other.read_bytes() == b"not riskplan's"
    assert runner.invoke(main, ["results-template", str(out), str(tmp_path / "r.csv")]).exit_code == 2


def test_a_filled_in_template_publishes_the_drawn_visits_results(planned, tmp_path):
    """The workbook the squads fill in is what `publish --stage results` reads too (it repeats each
    visit's enterprise, which the roster also gives)."""
    t, out = planned
    target = tmp_path / "results.xlsx"
    assert CliRunner().invoke(main, ["results-template", str(out), str(target)]).exit_code == 0
    roster = pd.read_csv(out / "roster.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    drawn = roster.loc[roster["basis"] == "drawn", "visit_id"].tolist()
    assert drawn, "the tiny district's plan has spot checks"
    book = openpyxl.load_workbook(target)
    ws = book.active
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, 1).value == drawn[0]:
            ws.cell(r, 7).value, ws.cell(r, 8).value = ws.cell(r, 5).value, "当场整改"
    book.save(target)
    public = tmp_path / "public"
    done = CliRunner().invoke(main, ["publish", str(t.path), str(out), "--stage", "results", "--results", str(target),
                                     "--out", str(public)])
    assert done.exit_code == 0, done.output
    table = pd.read_csv(public / "results.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    enterprise = roster.loc[roster["visit_id"] == drawn[0], "enterprise_id"].iloc[0]
    row = table[(table == enterprise).any(axis=1)]
    assert len(row) == 1 and (row == "rectified_on_site").any(axis=1).iloc[0]  # as recorded, not "ordered"
