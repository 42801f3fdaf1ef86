"""`riskplan changes-template`: the empty changes workbook reads back as no changes, filled in it
reads as the table, it explains every kind, and it is refused over a bureau's own file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from riskplan.cli import main
from riskplan.domain.calendar import Quarter
from riskplan.export.changes_template import template_bytes
from riskplan.load.changes import CHANGE_KINDS, read_changes
from riskplan.load.district import load_district

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def test_the_template_in_chinese_reads_back_and_explains_each_kind(tmp_path, chinese):
    out = tmp_path / "变更.xlsx"
    result = CliRunner().invoke(main, ["changes-template", str(out)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["变更", "说明"]
    assert [c.value for c in book["变更"][1]] == ["变更类型", "执法人员编号", "统一社会信用代码", "检查编号", "开始日期",
                                                "结束日期", "每周检查能力", "变更原因"]
    kinds = book["变更"].data_validations.dataValidation[0].formula1
    assert all(word in kinds for word in ("请假", "调离", "紧急检查", "取消检查"))
    explained = [row[1] for row in book["说明"].iter_rows(min_row=6, values_only=True)]
    assert explained == list(CHANGE_KINDS)
    district = load_district(SAMPLE)
    q = Quarter.parse("2027Q1")
    assert len(read_changes(out, quarter=q, district=district)) == 0
    book["变更"].append(["紧急检查", None, district.enterprises["enterprise_id"].iloc[0], None, dt.date(2027, 2, 20),
                       dt.date(2027, 2, 27), None, "事故后复查"])
    book.save(out)
    frame = read_changes(out, quarter=q, district=district)
    assert list(frame["change"]) == ["urgent_visit"] and frame.iloc[0]["row"] == 2


def test_same_bytes_and_an_english_version():
    assert template_bytes("zh") == template_bytes("zh")
    assert template_bytes("en") != template_bytes("zh")


def test_it_replaces_only_a_blank_template(tmp_path):
    out = tmp_path / "c.xlsx"
    runner = CliRunner()
    assert runner.invoke(main, ["changes-template", str(out)]).exit_code == 0
    assert runner.invoke(main, ["changes-template", str(out)]).exit_code == 2  # exists
    assert runner.invoke(main, ["changes-template", str(out), "--force"]).exit_code == 0
    book = openpyxl.load_workbook(out)
    book.active.append(["leave", "ZF001", None, None, "2027-02-15", "2027-02-20", None, None])
    book.save(out)
    filled = out.read_bytes()
    result = runner.invoke(main, ["changes-template", str(out), "--force"])
    assert result.exit_code == 2 and out.read_bytes() == filled
    assert runner.invoke(main, ["changes-template", str(tmp_path / "c.csv")]).exit_code == 2


def test_excel_md_lists_the_changes_headers_and_kinds():
    """docs/excel.md's changes section and kinds are the alias table's, row for row."""
    import re

    from riskplan.domain import headers

    text = (Path(__file__).resolve().parents[1] / "docs" / "excel.md").read_text(encoding="utf-8")
    sections = {s.partition("\n")[0]: dict(re.findall(r"^\| `([\w ]+)` \| (.+) \|$", s, flags=re.M))
                for s in re.split(r"^### ", text, flags=re.M)[1:]}
    table = next(body for title, body in sections.items() if title.startswith("`changes` "))
    assert {k: tuple(v.split(", ")) for k, v in table.items()} == {
        c: n for c, n in headers.HEADERS["changes"].items() if c not in ("source", "row")}
    kinds = next(body for title, body in sections.items() if title.startswith("`change` kinds"))
    assert {k: tuple(v.split(", ")) for k, v in kinds.items()} == headers.VALUES["change_kind"]


def test_the_changes_command_lists_and_checks_without_writing(tmp_path):
    import json

    from riskplan.export.plan_inputs import snapshot_files

    district = load_district(SAMPLE)
    out = tmp_path / "out"
    (out / "inputs").mkdir(parents=True)
    (out / "plan.json").write_text(json.dumps({"quarter": "2027Q1", "inputs": district.fingerprints()}))
    for name, data in snapshot_files(district).items():
        (out / name).write_bytes(data)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    runner = CliRunner()
    result = runner.invoke(main, ["changes", str(SAMPLE), str(out)])
    assert result.exit_code == 0 and "No changes since the plan" in result.output
    good = tmp_path / "c.csv"
    good.write_text("change,inspector_id,start,end\nleave,ZF001,2027-02-15,2027-03-07\n", encoding="utf-8")
    result = runner.invoke(main, ["changes", str(SAMPLE), str(out), "--changes", str(good)])
    assert result.exit_code == 0 and "1 change to apply" in result.output and "ZF001" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("change,inspector_id,start,end\nleave,ZF999,2027-02-15,2027-03-07\n", encoding="utf-8")
    result = runner.invoke(main, ["changes", str(SAMPLE), str(out), "--changes", str(bad)])
    assert result.exit_code == 2 and "bad.csv, row 2, column 'inspector_id'" in result.output
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(before + ["c.csv", "bad.csv"])
