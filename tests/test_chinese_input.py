"""Input as bureaus keep it: Chinese headers and values, Excel's dates, workbooks with several
sheets — each reading with its bad-input twin, and the sample district as one Chinese workbook
planning to the same roster as its CSV files."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from riskplan import i18n
from riskplan.domain import headers
from riskplan.domain.schema import TABLES_BY_NAME
from riskplan.load.district import DistrictError, load_district

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"

ENTERPRISES = {
    "统一社会信用代码": ["E1", "E2", "E3"],
    "企业名称*": ["甬江化工有限公司", "海曙金属制品厂", "小卖部"],  # a required-marker
    "所属街道（园区）": ["南门街道", "南门街道", "西门街道"],  # a bracketed note
    "网格": ["G1", "G2", "G3"],
    "industry": ["chemicals", "metal", "retail"],  # English beside Chinese
    "企业规模": ["中型", "小型企业", "micro"],
    "从业人数": ["120", "３５", "4"],  # a full-width number
    "纬度": ["29.87", "29.86", "29.88"],
    "经度": ["121.54", "121.55", "121.53"],
    "危化品经营类型": ["储存", "无", "none"],
    "重大危险源等级": ["二级", "无", "0"],
    "涉爆粉尘": ["否", "是", "0"],
    "高温熔融金属": ["无", "有", "否"],
    "有限空间": ["是", "否", "1"],
    "安全生产标准化等级": ["二级", "无", "三级"],
    "备注": ["extra columns are kept", "", ""],
}


def chinese_tables() -> dict[str, dict[str, list]]:
    """A tiny district with Chinese headers and values; tests break one thing at a time."""
    return {
        "企业": dict(ENTERPRISES),
        "事故": {"统一社会信用代码": ["E1"], "事故日期": ["2026/3/2"], "事故等级": ["较大"], "死亡人数": ["0"],
                 "受伤人数": ["3"]},
        "检查记录": {"统一社会信用代码": ["E1", "E2"], "检查日期": ["2026年5月10日", "2026.6.1"],
                     "检查人员": ["I01、I02", "I02；I03"], "发现隐患数": ["3", "1"], "重大隐患数": ["1", "0"],
                     "是否处罚": ["是", "否"]},
        "执法人员": {"执法人员编号": ["I01", "I02", "I03"], "姓名": ["张伟", "李娜", "王强"],
                     "所属中队": ["一中队", "一中队", "南门站"], "是否持证": ["是", "是", "否"],
                     "专业资质": ["危险化学品、综合", "粉尘防爆，冶金", ""],
                     "所属街道": ["", "", "南门街道"], "每周检查能力": ["5", "4", "3"]},
    }


def write_workbook(path: Path, sheets: dict[str, dict[str, list]], first: str | None = "说明") -> Path:
    book = openpyxl.Workbook()
    book.active.title = first or "placeholder"
    if first:
        book.active.append(["这是说明，不是数据"])
    for name, columns in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(list(columns))
        for row in zip(*columns.values()):
            sheet.append(list(row))
    if not first:
        del book["placeholder"]
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def problems(folder: Path) -> list:
    with pytest.raises(DistrictError) as info:
        load_district(folder)
    return info.value.problems


def only(folder: Path):
    found = problems(folder)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


# ---------------------------------------------------------------- headers and values

def test_a_chinese_workbook_loads_with_codes_and_types(tmp_path):
    d = load_district(write_workbook(tmp_path / "d" / "区县数据.xlsx", chinese_tables()).parent)
    ent = d.enterprises
    assert ent["size_class"].tolist() == ["medium", "small", "micro"]
    assert ent["hazchem"].tolist() == ["store", "none", "none"]
    assert ent["major_hazard_level"].tolist() == [2, 0, 0]
    assert ent["dust_explosion"].tolist() == [0, 1, 0] and ent["molten_metal"].tolist() == [0, 1, 0]
    assert ent["confined_space"].tolist() == [1, 0, 1]
    assert ent["standardization_grade"].tolist() == [2, 0, 3]
    assert ent["employees"].tolist() == [120, 35, 4]
    assert ent["name"].tolist()[0] == "甬江化工有限公司" and ent["subdistrict"].tolist()[2] == "西门街道"
    assert ent["备注"].tolist()[0] == "extra columns are kept"  # extra column kept as written
    assert d.accidents.loc[0, "severity"] == "serious"
    assert d.accidents.loc[0, "date"] == pd.Timestamp("2026-03-02")
    assert d.inspections["date"].tolist() == [pd.Timestamp("2026-05-10"), pd.Timestamp("2026-06-01")]
    assert d.inspections["inspectors"].tolist() == ["I01;I02", "I02;I03"]
    assert d.inspections["penalized"].tolist() == [1, 0]
    assert d.inspectors["certified"].tolist() == [1, 1, 0]
    assert d.inspectors["qualifications"].tolist() == ["hazchem;general", "dust;metallurgy", ""]
    assert d.inspectors["home_subdistrict"].tolist() == ["", "", "南门街道"]
    assert d.sheets["enterprises"] == "企业" and d.sources["enterprises"].name == "区县数据.xlsx"
    assert set(d.fingerprints()) == {"区县数据.xlsx"}


@pytest.mark.parametrize(("column", "value", "shown"), [
    ("企业规模", "中等", "micro, small, medium, large (微型、小型、中型、大型)"),
    ("危化品经营类型", "销售", "none, produce, use, store, trade"),
    ("涉爆粉尘", "可能", "0 or 1"),
    ("重大危险源等级", "五级", "0, 1, 2, 3, 4 (无、一级、二级、三级、四级)"),
    ("安全生产标准化等级", "四级", "0, 1, 2, 3 (无、一级、二级、三级)"),
    ("企业规模", "mic ro", "not one of"),  # inner spaces are not folded away in values
])
def test_a_value_no_spelling_names_is_refused_naming_sheet_row_header(tmp_path, column, value, shown):
    tables = chinese_tables()
    tables["企业"][column] = [tables["企业"][column][0], value, tables["企业"][column][2]]
    p = only(write_workbook(tmp_path / "d" / "区县数据.xlsx", tables).parent)
    assert (p.file, p.sheet, p.row, p.header) == ("区县数据.xlsx", "企业", 3, column)
    assert shown in p.message and value in p.message
    assert str(p).startswith(f"区县数据.xlsx, sheet 企业, row 3, column '{p.column}' ({column}): ")


def test_problems_name_the_place_in_chinese_by_default(tmp_path, monkeypatch):
    tables = chinese_tables()
    tables["企业"]["企业规模"] = ["中型", "超大", "micro"]
    folder = write_workbook(tmp_path / "d" / "区县数据.xlsx", tables).parent
    monkeypatch.delenv("RISKPLAN_LANG")
    i18n.set_language(None)
    text = str(only(folder))
    assert text.startswith("区县数据.xlsx，工作表“企业”，第 3 行，“企业规模”列（size_class）：“超大”不是可选值之一：微型、小型、中型、大型（micro, small, medium, large）")


def test_headers_in_any_width_case_and_mix(tmp_path):
    for written, column in [("ＥＮＴＥＲＰＲＩＳＥ_ＩＤ", "enterprise_id"), ("Enterprise_ID", "enterprise_id"),
                            ("* 企业名称", "name"), ("企业名称（全称）", "name"), ("社会信用代码", "enterprise_id")]:
        assert headers.canonical_header("enterprises", written) == column, written
    assert headers.canonical_header("enterprises", "企业名") is None  # twin: not a header of the table


def test_two_headers_naming_one_column_are_refused_naming_both(tmp_path):
    tables = chinese_tables()
    tables["企业"]["enterprise_id"] = ["E1", "E2", "E3"]  # and 统一社会信用代码 already
    p = only(write_workbook(tmp_path / "d" / "区县数据.xlsx", tables).parent)
    assert p.cause and p.column == "enterprise_id" and p.row == 1
    assert "'统一社会信用代码' (A)" in p.message and "'enterprise_id' (Q)" in p.message


def test_lists_take_chinese_separators_and_keep_unknown_tokens():
    from riskplan.domain.schema import split_list

    assert split_list("I01、I02；I03，I04,I05;I06") == ["I01", "I02", "I03", "I04", "I05", "I06"]
    assert split_list("I01 I02") == ["I01 I02"]  # a space separates nothing: the id is refused downstream


def test_list_with_an_unknown_inspector_after_a_chinese_separator_is_named(tmp_path):
    tables = chinese_tables()
    tables["检查记录"]["检查人员"] = ["I01、I09", "I02；I03"]
    p = only(write_workbook(tmp_path / "d" / "区县数据.xlsx", tables).parent)
    assert (p.sheet, p.row, p.column, p.header) == ("检查记录", 2, "inspectors", "检查人员")
    assert "I09" in p.message


# ---------------------------------------------------------------- dates

@pytest.mark.parametrize("text", ["2027-01-05", "2027-1-5", "2027/1/5", "2027/01/05", "2027.1.5", "2027年1月5日",
                                  "2027 年 1 月 5 日", "2027-01-05 00:00:00", "2027-01-05T00:00:00", "２０２７/１/５"])
def test_dates_as_excel_and_clerks_write_them(tmp_path, text):
    tables = chinese_tables()
    tables["事故"]["事故日期"] = [text]
    d = load_district(write_workbook(tmp_path / "d" / "区县数据.xlsx", tables).parent)
    assert d.accidents.loc[0, "date"] == pd.Timestamp("2027-01-05")


@pytest.mark.parametrize(("text", "fragment"), [
    ("1/5/2027", "could mean two days"),
    ("5/1/2027", "could mean two days"),
    ("46392", "Excel date serial number"),
    ("2027/13/5", "not a day of the calendar"),
    ("2027年2月30日", "not a day of the calendar"),
    ("2027-1/5", "not a date in a form"),  # mixed separators
    ("2027-01-05 10:30:00", "not a date in a form"),  # a time of day is not a date
    ("27/1/5", "not a date in a form"),
    ("明天", "not a date in a form"),
])
def test_dates_that_could_be_guessed_are_refused_with_the_forms(tmp_path, text, fragment):
    tables = chinese_tables()
    tables["事故"]["事故日期"] = [text]
    p = only(write_workbook(tmp_path / "d" / "区县数据.xlsx", tables).parent)
    assert (p.sheet, p.row, p.column, p.header) == ("事故", 2, "date", "事故日期")
    assert fragment in p.message
    if fragment != "not a day of the calendar":
        assert "2027/1/5" in p.message and "2027年1月5日" in p.message  # the accepted forms are listed


def test_real_date_cells_and_midnight_datetimes_read_as_dates_a_number_cell_does_not(tmp_path):
    path = tmp_path / "d" / "区县数据.xlsx"
    tables = chinese_tables()
    tables["事故"]["事故日期"] = [dt.date(2027, 1, 5)]
    tables["检查记录"]["检查日期"] = [dt.datetime(2027, 1, 6), dt.datetime(2027, 1, 7, 0, 0)]
    d = load_district(write_workbook(path, tables).parent)
    assert d.accidents.loc[0, "date"] == pd.Timestamp("2027-01-05")
    assert d.inspections["date"].tolist() == [pd.Timestamp("2027-01-06"), pd.Timestamp("2027-01-07")]
    tables["事故"]["事故日期"] = [46392]  # a number cell: the serial of 2027-01-05, never guessed
    tables["检查记录"]["检查日期"] = [dt.datetime(2027, 1, 6, 9, 30), dt.datetime(2027, 1, 7)]
    found = {(p.sheet, p.column): p.message for p in problems(write_workbook(path, tables).parent)}
    assert "Excel date serial number" in found[("事故", "date")]
    assert "2027-01-06 09:30:00" in found[("检查记录", "date")]


# ---------------------------------------------------------------- files and sheets

def test_table_files_named_in_chinese_and_sheets_chosen_by_name(tmp_path):
    folder = tmp_path / "d"
    tables = chinese_tables()
    folder.mkdir()
    pd.DataFrame(tables["企业"]).to_csv(folder / "企业名单.csv", index=False)
    pd.DataFrame(tables["事故"]).to_csv(folder / "事故.csv", index=False, encoding="gb18030")
    write_workbook(folder / "检查记录.xlsx", {"Sheet1": tables["检查记录"]})  # 说明 + its only data sheet
    write_workbook(folder / "inspectors.xlsx", {"Sheet1": {"x": [1]}, "执法人员": tables["执法人员"]}, first=None)
    (folder / "~$检查记录.xlsx").write_bytes(b"Excel's lock file, not a workbook")
    d = load_district(folder)
    assert d.sources["enterprises"].name == "企业名单.csv" and d.sources["accidents"].name == "事故.csv"
    assert d.sheets["inspections"] == "Sheet1" and d.sheets["inspectors"] == "执法人员"
    assert len(d.inspections) == 2 and len(d.inspectors) == 3


def test_a_workbook_whose_sheets_cannot_be_told_apart_names_them(tmp_path):
    folder = tmp_path / "d"
    tables = chinese_tables()
    write_workbook(folder / "区县数据.xlsx", {k: v for k, v in tables.items() if k != "执法人员"})
    write_workbook(folder / "执法人员.xlsx", {"第一批": tables["执法人员"], "第二批": tables["执法人员"]})
    p = only(folder)
    assert p.file == "执法人员.xlsx" and p.cause
    assert "说明, 第一批, 第二批" in p.message and "inspectors, 执法人员" in p.message


def test_a_table_given_twice_names_both_places(tmp_path):
    folder = tmp_path / "d"
    tables = chinese_tables()
    write_workbook(folder / "区县数据.xlsx", tables)
    pd.DataFrame(tables["企业"]).to_csv(folder / "enterprises.csv", index=False)
    p = only(folder)
    assert p.cause and "enterprises.csv" in p.message and "区县数据.xlsx, sheet 企业" in p.message


def test_a_missing_table_says_what_was_found(tmp_path):
    folder = tmp_path / "d"
    tables = chinese_tables()
    write_workbook(folder / "区县数据.xlsx", {k: v for k, v in tables.items() if k != "企业"})
    write_workbook(folder / "企业信息表.xlsx", {"Sheet1": tables["企业"]}, first=None)
    found = problems(folder)
    assert found[0].cause and "企业" in found[0].message and "企业信息表.xlsx" in found[0].message
    assert "Sheet1" in found[0].message


def test_an_instructions_sheet_first_is_ignored(tmp_path):
    path = write_workbook(tmp_path / "d" / "enterprises.xlsx", {"Sheet1": chinese_tables()["企业"]})
    tables = chinese_tables()
    tables.pop("企业")
    write_workbook(path.parent / "其余.xlsx", tables, first=None)
    assert len(load_district(path.parent).enterprises) == 3


# ---------------------------------------------------------------- the sample district as one workbook

def _chinese_cell(table: str, column: str, text: str, kind: str, date_cells: bool):
    """A sample cell as a bureau's workbook would hold it."""
    if text == "":
        return None
    value_set = headers.COLUMN_VALUES.get((table, column))
    if kind == "date":
        day = dt.date.fromisoformat(text)
        return day if date_cells else f"{day.year}/{day.month}/{day.day}"
    if kind == "list":
        return "、".join(headers.value_label(value_set, t, "zh") if value_set else t for t in text.split(";"))
    if value_set:
        return headers.value_label(value_set, text, "zh")
    if kind in ("int", "float"):
        return float(text) if kind == "float" else int(text)
    return text


def sample_as_one_workbook(folder: Path) -> Path:
    """The sample's CSV tables as ONE Chinese workbook: Chinese sheet names, headers and values,
    date cells in accidents and leave.start, `2027/1/5` text in the other date columns."""
    folder.mkdir(parents=True)
    shutil.copy(SAMPLE / "policy.toml", folder / "policy.toml")
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["区县数据（由 CSV 转换）"])
    for name, spec in TABLES_BY_NAME.items():
        frame = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=SAMPLE / f"{name}.csv", dtype=str, keep_default_na=False)
        sheet = book.create_sheet(headers.display_table(name, "zh"))
        sheet.append([headers.display_header(name, c, "zh") for c in frame.columns])
        kinds = {c.name: c.kind for c in spec.columns}
        for row in frame.itertuples(index=False):
            sheet.append([_chinese_cell(name, c, v, kinds.get(c, "text"),
                                        date_cells=name == "accidents" or c == "start")
                          for c, v in zip(frame.columns, row)])
    book.save(folder / "区县数据.xlsx")
    return folder


def test_the_sample_as_one_chinese_workbook_plans_to_the_same_roster(tmp_path):
    from riskplan.pipeline import run_plan

    folder = sample_as_one_workbook(tmp_path / "区县")
    csv, book = load_district(SAMPLE), load_district(folder)
    for name in TABLES_BY_NAME:
        pd.testing.assert_frame_equal(csv.table(name).reset_index(drop=True), book.table(name).reset_index(drop=True),
                                      check_dtype=True, obj=name)
    assert book.sheets["enterprises"] == "企业" and book.sheets["accidents"] == "事故"
    run_plan(SAMPLE, "2027Q1", 11, out_dir=tmp_path / "from_csv", time_limit=5)
    run_plan(folder, "2027Q1", 11, out_dir=tmp_path / "from_workbook", time_limit=5)
    a = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=tmp_path / "from_csv" / "roster.csv", dtype=str, keep_default_na=False)
    b = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=tmp_path / "from_workbook" / "roster.csv", dtype=str, keep_default_na=False)
    assert len(a) > 100
    # visit ids may carry the plan's identity (derived from the input fingerprints): compare the visits
    pd.testing.assert_frame_equal(a.drop(columns=["visit_id"]), b.drop(columns=["visit_id"]))
