"""`riskplan template OUT.xlsx`: an empty district workbook a bureau fills in and riskplan reads."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from click.testing import CliRunner

from riskplan import i18n
from riskplan.cli import main
from riskplan.domain import headers
from riskplan.domain.schema import TABLES
from riskplan.export.district_template import template_bytes, write_template
from riskplan.load.district import DistrictError, load_district


def validations(sheet) -> dict[str, list[str]]:
    """header -> the drop-down values of its column."""
    titles = {cell.column_letter: cell.value for cell in sheet[1]}
    out = {}
    for check in sheet.data_validations.dataValidation:
        letter = str(check.sqref).split(":")[0].rstrip("0123456789")
        out[titles[letter]] = check.formula1.strip('"').split(",")
    return out


def test_the_template_has_a_chinese_sheet_per_table_with_drop_downs_and_instructions(tmp_path, chinese):
    result = CliRunner().invoke(main, ["template", str(tmp_path / "区县数据.xlsx")])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_path / "区县数据.xlsx")
    assert book.sheetnames == ["说明", "企业", "事故", "检查记录", "执法人员", "请假", "回避", "指定检查"]
    ent = book["企业"]
    assert [c.value for c in ent[1]][:3] == ["统一社会信用代码", "企业名称", "所属街道"]
    assert ent.freeze_panes == "A2"
    lists = validations(ent)
    assert lists["企业规模"] == ["微型", "小型", "中型", "大型"]
    assert lists["危化品经营类型"] == ["无", "生产", "使用", "储存", "经营"]
    assert lists["重大危险源等级"] == ["无", "一级", "二级", "三级", "四级"]
    assert lists["安全生产标准化等级"] == ["无", "一级", "二级", "三级"]
    assert lists["涉爆粉尘"] == ["是", "否"]
    assert "企业名称" not in lists and "从业人数" not in lists
    assert validations(book["事故"])["事故等级"] == ["一般", "较大", "重大", "特别重大"]
    assert validations(book["执法人员"])["是否持证"] == ["是", "否"]
    assert book["事故"].column_dimensions["B"].number_format == "yyyy/m/d"
    assert ent.column_dimensions["A"].width >= 20
    text = "\n".join(str(c.value) for row in book["说明"].iter_rows() for c in row if c.value)
    for needle in ("2027/1/5", "2027年1月5日", "企业规模", "微型 / micro", "必填", "可为空", "可选表"):
        assert needle in text, needle
    for spec in TABLES:  # every column is explained
        for col in spec.columns:
            assert headers.display_header(spec.name, col.name, "zh") in text


def test_the_english_template(tmp_path):
    assert CliRunner().invoke(main, ["template", str(tmp_path / "t.xlsx"), "--lang", "en"]).exit_code == 0
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert book.sheetnames == ["instructions", *(t.name for t in TABLES)]
    assert [c.value for c in book["enterprises"][1]][:2] == ["enterprise_id", "name"]
    assert validations(book["enterprises"])["size_class"] == ["micro", "small", "medium", "large"]


def test_the_template_bytes_are_reproducible():
    assert template_bytes("zh") == template_bytes("zh") != template_bytes("en")


def test_an_existing_file_is_refused_and_force_replaces_only_a_template(tmp_path):
    out = tmp_path / "t.xlsx"
    write_template(out)
    runner = CliRunner()
    refused = runner.invoke(main, ["template", str(out)])
    assert refused.exit_code == 2 and "--force" in refused.output
    assert runner.invoke(main, ["template", str(out), "--force"]).exit_code == 0
    theirs = tmp_path / "bureau.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["the bureau's own data"])
    book.save(theirs)
    before = theirs.read_bytes()
    again = runner.invoke(main, ["template", str(theirs), "--force"])
    assert again.exit_code == 2 and theirs.read_bytes() == before
    assert runner.invoke(main, ["template", str(tmp_path / "t.csv")]).exit_code == 2
    assert not (tmp_path / "t.csv").exists()


def test_a_filled_in_template_loads_as_a_district(tmp_path, chinese):
    folder = tmp_path / "district"
    folder.mkdir()
    path = write_template(folder / "区县数据.xlsx")
    book = openpyxl.load_workbook(path)
    book["企业"].append(["E1", "甬江化工", "南门街道", "G1", "化工", "中型", 120, 29.87, 121.54, "储存", "二级",
                        "否", "否", "是", "二级"])
    book["企业"].append(["E2", "海曙五金", "西门街道", "G2", "五金", "小型", 30, 29.86, 121.55, "无", "无",
                        "是", "有", "否", "无"])
    book["事故"].append(["E1", dt.date(2026, 3, 2), "较大", 0, 3])
    book["检查记录"].append(["E1", "2026/5/10", "I01、I02", 2, 1, "是"])
    book["执法人员"].append(["I01", "张伟", "一中队", "是", "危险化学品、综合", None, 5])
    book["执法人员"].append(["I02", "李娜", "一中队", "是", "粉尘防爆", None, 4])
    book["请假"].append(["I01", dt.datetime(2027, 1, 10), "2027年1月20日"])
    book.save(path)
    d = load_district(folder)
    assert d.enterprises["size_class"].tolist() == ["medium", "small"]
    assert d.enterprises["major_hazard_level"].tolist() == [2, 0]
    assert d.enterprises["molten_metal"].tolist() == [0, 1]
    assert d.accidents.loc[0, "severity"] == "serious"
    assert d.inspectors["qualifications"].tolist() == ["hazchem;general", "dust"]
    assert d.leave.loc[0, "end"].date() == dt.date(2027, 1, 20)
    assert d.conflicts.empty and d.pinned.empty  # header-only optional sheets
    book["执法人员"].delete_rows(2, 2)  # twin: a template without inspectors is refused, the cause named
    book.save(path)
    with pytest.raises(DistrictError) as info:
        load_district(folder)
    assert info.value.problems[0].cause and info.value.problems[0].sheet == "执法人员"
