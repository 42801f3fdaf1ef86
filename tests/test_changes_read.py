"""The changes table of a re-plan (riskplan.load.changes.read_changes, docs/changes.md): Chinese
and English headers and kinds, CSV and workbooks, and every refusal with its row and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from riskplan.domain.calendar import Quarter
from riskplan.load.changes import CHANGE_COLUMNS, CHANGE_KINDS, read_changes
from riskplan.load.district import DistrictError, load_district

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
Q = Quarter.parse("2027Q1")
EID = "91320505YDDNEEQ6MU"  # enterprises of the sample
EID2 = "91320505AJ66T7QW1H"
ENGLISH = ["change", "inspector_id", "enterprise_id", "visit_id", "start", "end", "capacity", "reason"]
CHINESE = ["变更类型", "执法人员编号", "统一社会信用代码", "检查编号", "开始日期", "结束日期", "每周检查能力", "变更原因"]
#: one row of each kind, in English codes
ROWS = [
    ["leave", "ZF001", "", "", "2027-02-15", "2027-03-07", "", "sick"],
    ["leaves_bureau", "ZF002", "", "", "2027-03-01", "", "", "transferred"],
    ["capacity", "ZF003", "", "", "2027-02-01", "", "1", ""],
    ["enterprise_closed", "", EID, "", "2027-02-10", "", "", "deregistered"],
    ["enterprise_suspended", "", EID2, "", "2027-02-01", "2027-02-28", "", ""],
    ["urgent_visit", "", EID2, "", "2027-02-20", "2027-02-27", "", "accident 20 Feb"],
    ["pinned_visit", "", EID, "", "2027-03-01", "2027-03-15", "", "ordered by the city"],
    ["cancel_visit", "", "", "2027Q1-AAAAAA-00004", "", "", "", ""],
]
ZH_KINDS = {"leave": "请假", "leaves_bureau": "调离", "capacity": "检查能力调整", "enterprise_closed": "企业关闭",
            "enterprise_suspended": "企业停产", "urgent_visit": "紧急检查", "pinned_visit": "指定检查",
            "cancel_visit": "取消检查"}


@pytest.fixture(scope="module")
def district():
    return load_district(SAMPLE)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    pd.DataFrame(rows, columns=header).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def refusal(path: Path, district) -> DistrictError:
    with pytest.raises(DistrictError) as caught:
        read_changes(path, quarter=Q, district=district)
    return caught.value


def expected_frame() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=ENGLISH)


def check_read(frame: pd.DataFrame, first_row: int = 2) -> None:
    assert tuple(frame.columns) == CHANGE_COLUMNS
    assert list(frame["change"]) == list(CHANGE_KINDS)
    assert frame["start"].dtype == "datetime64[ns]" and str(frame["capacity"].dtype) == "Int64"
    assert list(frame["row"]) == list(range(first_row, first_row + len(ROWS)))
    assert (frame["source"] == "file").all()
    leave = frame.iloc[0]
    assert (leave["inspector_id"], leave["start"], leave["end"]) == ("ZF001", pd.Timestamp("2027-02-15"),
                                                                    pd.Timestamp("2027-03-07"))
    assert frame.iloc[2]["capacity"] == 1 and pd.isna(frame.iloc[2]["end"]) and pd.isna(frame.iloc[0]["capacity"])
    assert frame.iloc[7]["visit_id"] == "2027Q1-AAAAAA-00004" and pd.isna(frame.iloc[7]["start"])
    assert frame.iloc[5]["reason"] == "accident 20 Feb"


def test_english_csv(tmp_path, district):
    check_read(read_changes(write_csv(tmp_path / "changes.csv", ENGLISH, ROWS), quarter=Q, district=district))


def test_chinese_csv_with_chinese_kinds_and_slash_dates(tmp_path, district):
    rows = [[ZH_KINDS[r[0]], *r[1:4], r[4].replace("-0", "/").replace("-", "/"),
             r[5].replace("-0", "/").replace("-", "/"), *r[6:]] for r in ROWS]
    assert rows[0][4] == "2027/2/15"
    check_read(read_changes(write_csv(tmp_path / "变更.csv", CHINESE, rows), quarter=Q, district=district))


def test_chinese_workbook_with_date_cells_and_a_blank_row(tmp_path, district):
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["填表说明"])
    sheet = book.create_sheet("变更")
    sheet.append(CHINESE)
    sheet.append([None] * 8)  # a blank row under the header is skipped; rows keep their numbers
    for r in ROWS:
        cells = [ZH_KINDS[r[0]], *r[1:4]] + [dt.date.fromisoformat(v) if v else None for v in r[4:6]] + \
                [int(r[6]) if r[6] else None, r[7] or None]
        sheet.append([c if c != "" else None for c in cells])
    book.save(tmp_path / "changes.xlsx")
    frame = read_changes(tmp_path / "changes.xlsx", quarter=Q, district=district)
    check_read(frame, first_row=3)


def test_an_empty_table_reads_as_no_changes(tmp_path, district):
    frame = read_changes(write_csv(tmp_path / "c.csv", ENGLISH, []), quarter=Q, district=district)
    assert len(frame) == 0 and tuple(frame.columns) == CHANGE_COLUMNS


def test_columns_a_kind_does_not_use_may_be_left_out(tmp_path, district):
    frame = read_changes(write_csv(tmp_path / "c.csv", ["变更类型", "统一社会信用代码", "开始日期"],
                                   [["企业关闭", EID, "2027年2月10日"]]), quarter=Q, district=district)
    assert frame.iloc[0]["change"] == "enterprise_closed" and frame.iloc[0]["start"] == pd.Timestamp("2027-02-10")


# ---------------------------------------------------------------- refusals, each with its row and column

def one_problem(tmp_path, district, row: list[str]):
    err = refusal(write_csv(tmp_path / "c.csv", ENGLISH, [ROWS[0], row]), district)
    assert len(err.problems) == 1, err.render()
    p = err.problems[0]
    assert p.file == "c.csv" and p.row == 3
    return p


def test_a_mistyped_kind_names_the_nearest_kind(tmp_path, district):
    p = one_problem(tmp_path, district, ["leav", "ZF001", "", "", "2027-02-15", "2027-03-07", "", ""])
    assert p.column == "change" and "'leav'" in p.message and "did you mean leave" in p.message
    p = one_problem(tmp_path, district, ["紧急检察", "", EID, "", "2027-02-15", "2027-03-07", "", "x"])
    assert "urgent_visit" in p.message


def test_an_unknown_inspector_is_named_with_the_id_its_name_belongs_to(tmp_path, district):
    name = district.inspectors.set_index("inspector_id").at["ZF001", "name"]
    p = one_problem(tmp_path, district, ["leave", name, "", "", "2027-02-15", "2027-03-07", "", ""])
    assert p.column == "inspector_id" and f"unknown inspector '{name}'" in p.message and "ZF001" in p.message
    p = one_problem(tmp_path, district, ["leave", "ZF999", "", "", "2027-02-15", "2027-03-07", "", ""])
    assert "unknown inspector 'ZF999'" in p.message


def test_an_unknown_enterprise_is_named_with_the_closest_id(tmp_path, district):
    typo = EID[:-1] + "X"
    p = one_problem(tmp_path, district, ["enterprise_closed", "", typo, "", "2027-02-15", "", "", ""])
    assert p.column == "enterprise_id" and f"unknown enterprise '{typo}'" in p.message and EID in p.message


def test_end_before_start(tmp_path, district):
    p = one_problem(tmp_path, district, ["leave", "ZF001", "", "", "2027-02-15", "2027-02-01", "", ""])
    assert p.column == "end" and "2027-02-01 is before start 2027-02-15" in p.message


@pytest.mark.parametrize("row, column", [
    (["leave", "ZF001", "", "", "2027-02-15", "", "", ""], "end"),
    (["capacity", "ZF001", "", "", "2027-02-15", "", "", ""], "capacity"),
    (["urgent_visit", "", EID, "", "2027-02-15", "2027-02-20", "", ""], "reason"),
    (["cancel_visit", "", "", "", "", "", "", "no longer needed"], "visit_id"),
    (["enterprise_closed", "", "", "", "2027-02-15", "", "", ""], "enterprise_id"),
])
def test_a_kind_missing_its_required_column(tmp_path, district, row, column):
    p = one_problem(tmp_path, district, row)
    assert p.column == column and "empty cell" in p.message and row[0] in p.message


def test_a_column_the_kind_does_not_use_is_refused(tmp_path, district):
    p = one_problem(tmp_path, district, ["leaves_bureau", "ZF001", "", "", "2027-02-15", "2027-03-01", "", ""])
    assert p.column == "end" and "leave row" in p.message
    p = one_problem(tmp_path, district, ["capacity", "ZF001", EID, "", "2027-02-15", "", "2", ""])
    assert p.column == "enterprise_id"


def test_a_negative_capacity(tmp_path, district):
    p = one_problem(tmp_path, district, ["capacity", "ZF001", "", "", "2027-02-15", "", "-1", ""])
    assert p.column == "capacity" and "negative" in p.message


def test_a_bad_date_and_an_impossible_day(tmp_path, district):
    p = one_problem(tmp_path, district, ["leave", "ZF001", "", "", "15/2/2027", "2027-03-01", "", ""])
    assert p.column == "start" and "not a date" in p.message
    p = one_problem(tmp_path, district, ["leave", "ZF001", "", "", "2027-02-15", "2027-02-30", "", ""])
    assert p.column == "end" and "not a day of the calendar" in p.message


def test_dates_wholly_outside_the_quarter_are_refused_and_overlapping_ones_kept(tmp_path, district):
    p = one_problem(tmp_path, district, ["leave", "ZF001", "", "", "2026-02-15", "2026-03-01", "", ""])
    assert p.column == "start" and "outside the quarter 2027Q1" in p.message
    p = one_problem(tmp_path, district, ["leaves_bureau", "ZF001", "", "", "2027-04-01", "", "", ""])
    assert "outside the quarter" in p.message
    overlapping = ["leave", "ZF001", "", "", "2026-12-20", "2027-01-10", "", ""]
    frame = read_changes(write_csv(tmp_path / "ok.csv", ENGLISH, [overlapping]), quarter=Q, district=district)
    assert frame.iloc[0]["start"] == pd.Timestamp("2026-12-20")


def test_no_kind_column_is_the_cause(tmp_path, district):
    err = refusal(write_csv(tmp_path / "c.csv", ["类别", "执法人员编号"], [["请假", "ZF001"]]), district)
    assert err.problems[0].cause and err.problems[0].column == "change" and err.problems[0].row == 1


def test_every_problem_of_a_file_is_listed_with_its_sheet(tmp_path, district):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "变更"
    sheet.append(CHINESE)
    sheet.append(["请假", "ZF999", None, None, "2027/2/15", "2027/2/1", None, None])
    sheet.append(["紧急检查", None, EID, None, "2027/2/15", "2027/2/20", None, None])
    book.create_sheet("说明")
    book.save(tmp_path / "changes.xlsx")
    err = refusal(tmp_path / "changes.xlsx", district)
    found = {(p.row, p.column) for p in err.problems}
    assert found == {(2, "inspector_id"), (2, "end"), (3, "reason")}
    assert all(p.sheet == "变更" for p in err.problems)
    assert "sheet 变更, row 2, column 'inspector_id' (执法人员编号)" in err.render()


def test_messages_are_chinese_by_default(tmp_path, district, chinese):
    err = refusal(write_csv(tmp_path / "c.csv", ENGLISH, [["leav", "ZF001", "", "", "2027-02-15", "2027-03-07",
                                                             "", ""]]), district)
    text = err.render()
    assert "不是 riskplan 可识别的变更类型" in text and "是否应为 请假（leave）" in text and "第 2 行" in text


def test_a_kind_only_detection_writes_points_to_the_district_table(tmp_path, district):
    p = one_problem(tmp_path, district, ["取消请假", "ZF001", "", "", "2027-02-15", "2027-03-07", "", ""])
    assert p.column == "change" and "change that table instead" in p.message


def test_overlapping_capacity_changes_of_one_inspector(tmp_path, district):
    rows = [["capacity", "ZF001", "", "", "2027-02-01", "2027-02-28", "1", ""],
            ["capacity", "ZF002", "", "", "2027-02-01", "", "1", ""],
            ["capacity", "ZF001", "", "", "2027-03-01", "", "2", ""],  # after the first: fine
            ["capacity", "ZF001", "", "", "2027-02-20", "2027-03-05", "0", ""]]
    err = refusal(write_csv(tmp_path / "c.csv", ENGLISH, rows), district)
    assert [(p.row, p.column) for p in err.problems] == [(5, "start")]
    assert "row 2" in err.problems[0].message
