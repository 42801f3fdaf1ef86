"""`record` never damages the bureau's file: a workbook keeps its other sheets, styles, widths,
column order and date cells; a CSV gets lines appended and nothing else rewritten."""

import datetime
import io
import zipfile

import openpyxl
import pandas as pd
import pytest
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.table import Table
from test_district import CODE_A, CODE_B, base_tables, write_district
from test_record import V1, V2, make_plan, problems, results_file

from riskplan.export.bureau_table import _date_text, edit_csv
from riskplan.export.record import record_results
from riskplan.load.district import load_district

RESULTS = [[V1, "2027-01-13", 2, 1, 1, "立案查处"], [V2, "2027-02-03", 0, 0, 0, "未发现问题"]]


def bureau_workbook(path, headers=None, date_format="yyyy/m/d", with_table=False):
    """An inspections workbook as a bureau keeps it: a cover sheet after the data, styled
    headers, widths, date cells, numbers, and its own column order."""
    headers = headers or ["date", "enterprise_id", "inspectors", "hazards_found", "major_hazards_found",
                          "penalized", "remarks"]
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "检查台账"
    ws.append(headers)
    ws.append([datetime.datetime(2026, 5, 10), CODE_A, "I01;I02", 3, 1, 1, "夜查"])
    ws.append([datetime.datetime(2026, 6, 1), CODE_B, "I02;I03", 1, 0, 0, ""])
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="305496")
    for row in (2, 3):
        ws.cell(row, 1).number_format = date_format
        ws.cell(row, 2).font = Font(italic=True)
    ws.column_dimensions["A"].width = 14.5
    ws.column_dimensions["B"].width = 24
    ws.freeze_panes = "A2"
    if with_table:
        ws.add_table(Table(displayName="台账", ref="A1:G3"))
    cover = book.create_sheet("封面")
    cover["A1"] = "南门街道安全检查台账"
    cover["A1"].font = Font(size=20)
    cover.merge_cells("A1:D1")
    book.save(path)
    return path


def district_with(tmp_path, workbook_maker, **kw):
    district = write_district(tmp_path / "d", {k: v for k, v in base_tables().items() if k != "inspections"})
    workbook_maker(district / "inspections.xlsx", **kw)
    return district


def test_a_workbook_keeps_its_sheets_styles_widths_and_date_cells(tmp_path):
    district = district_with(tmp_path, bureau_workbook)
    original = (district / "inspections.xlsx").read_bytes()
    done = record_results(district, make_plan(tmp_path / "out"), results_file(tmp_path / "r.csv", RESULTS))
    assert done.added == 2 and done.backup_file.read_bytes() == original
    assert done.backup_file.name.startswith("inspections.bak-20") and done.backup_file.suffix == ".xlsx"
    book = openpyxl.load_workbook(district / "inspections.xlsx")
    assert book.sheetnames == ["检查台账", "封面"]
    cover = book["封面"]
    assert cover["A1"].value == "南门街道安全检查台账" and cover["A1"].font.size == 20
    assert [str(r) for r in cover.merged_cells.ranges] == ["A1:D1"]
    ws = book["检查台账"]
    assert [c.value for c in ws[1]] == ["date", "enterprise_id", "inspectors", "hazards_found",
                                        "major_hazards_found", "penalized", "remarks", "visit_id", "outcome"]
    assert ws["A1"].font.bold and ws["A1"].fill.fgColor.rgb == "00305496" and ws["H1"].font.bold
    assert ws.column_dimensions["A"].width == 14.5 and ws.column_dimensions["B"].width == 24
    assert ws.freeze_panes == "A2"
    assert ws["A2"].value == datetime.datetime(2026, 5, 10) and ws["A2"].number_format == "yyyy/m/d"
    new = ws[4]
    assert new[0].is_date and new[0].value == datetime.datetime(2027, 1, 13) and new[0].number_format == "yyyy/m/d"
    assert new[1].value == CODE_A and new[1].font.italic  # the style of the row above
    assert [c.value for c in new[2:6]] == ["I01;I02", 2, 1, 1] and isinstance(new[3].value, int)
    assert new[6].value is None and new[7].value == V1 and new[8].value == "case_filed"
    assert ws.max_row == 5
    assert len(load_district(district).inspections) == 4


def test_a_chinese_workbook_gets_chinese_headers_and_words(tmp_path):
    headers = ["检查日期", "统一社会信用代码", "检查人员", "发现隐患数", "重大隐患数", "是否处罚", "备注"]

    def chinese(path):
        bureau_workbook(path, headers=headers)
        book = openpyxl.load_workbook(path)
        book.active["F2"], book.active["F3"] = "是", "否"
        book.save(path)

    district = district_with(tmp_path, chinese)
    plan = make_plan(tmp_path / "out")
    record_results(district, plan, results_file(tmp_path / "r.csv", RESULTS))
    ws = openpyxl.load_workbook(district / "inspections.xlsx").active
    assert [c.value for c in ws[1]] == headers + ["检查编号", "处理结果"]
    assert [ws.cell(4, 6).value, ws.cell(5, 6).value] == ["是", "否"]  # the column's own words
    assert ws.cell(4, 9).value == "立案查处"


def test_a_table_object_grows_with_the_rows(tmp_path):
    district = district_with(tmp_path, bureau_workbook, with_table=True)
    record_results(district, make_plan(tmp_path / "out"), results_file(tmp_path / "r.csv", RESULTS[:1]))
    ws = openpyxl.load_workbook(district / "inspections.xlsx").active
    assert ws.tables["台账"].ref == "A1:G4"


def test_a_workbook_with_parts_openpyxl_drops_is_refused_untouched(tmp_path):
    def with_control(path):
        bureau_workbook(path)
        data = io.BytesIO(path.read_bytes())
        with zipfile.ZipFile(data, "a") as z:
            z.writestr("xl/ctrlProps/ctrlProp1.xml", '<formControlPr objectType="CheckBox"/>')
        path.write_bytes(data.getvalue())

    district = district_with(tmp_path, with_control)
    before = sorted(p.name for p in district.iterdir()), (district / "inspections.xlsx").read_bytes()
    (p,) = problems(lambda: record_results(district, make_plan(tmp_path / "out"),
                                           results_file(tmp_path / "r.csv", RESULTS)))
    assert p.file == "inspections.xlsx" and "xl/ctrlProps" in p.message
    assert (sorted(x.name for x in district.iterdir()), (district / "inspections.xlsx").read_bytes()) == before


def test_a_correction_changes_only_its_cells_in_a_workbook(tmp_path):
    district = district_with(tmp_path, bureau_workbook)
    plan = make_plan(tmp_path / "out")
    record_results(district, plan, results_file(tmp_path / "r.csv", RESULTS))
    before = openpyxl.load_workbook(district / "inspections.xlsx")
    changed = [[V1, "2027-01-14", 2, 1, 1, "立案查处"], RESULTS[1]]
    assert record_results(district, plan, results_file(tmp_path / "c.csv", changed), correct=True).corrected == 1
    after = openpyxl.load_workbook(district / "inspections.xlsx")
    diff = [(c.coordinate, c.value) for r_old, r_new in zip(before.active.iter_rows(), after.active.iter_rows())
            for o, c in zip(r_old, r_new) if o.value != c.value]
    assert diff == [("A4", datetime.datetime(2027, 1, 14))]
    assert after.active["A4"].number_format == "yyyy/m/d"
    assert after["封面"]["A1"].value == before["封面"]["A1"].value


@pytest.mark.parametrize("encoding, bom, newline", [("utf-8", b"\xef\xbb\xbf", "\r\n"), ("gb18030", b"", "\r\n"),
                                                    ("utf-8", b"", "\n")])
def test_csv_append_leaves_every_earlier_byte_unchanged(tmp_path, encoding, bom, newline):
    district = write_district(tmp_path / "d", base_tables())
    lines = ["penalized,enterprise_id,date,inspectors,hazards_found,major_hazards_found,visit_id,outcome,备注",
             f"1,{CODE_A},2026-05-10,I01;I02,3,1,,,夜查", f"0,{CODE_B},2026-06-01,I02;I03,1,0,,,"]
    original = bom + (newline.join(lines) + newline).encode(encoding)
    (district / "inspections.csv").write_bytes(original)
    record_results(district, make_plan(tmp_path / "out"), results_file(tmp_path / "r.csv", RESULTS))
    data = (district / "inspections.csv").read_bytes()
    assert data[:len(original)] == original
    added = data[len(original):].decode(encoding).split(newline)
    assert added == [f"1,{CODE_A},2027-01-13,I01;I02,2,1,{V1},case_filed,", f"0,{CODE_B},2027-02-03,I01;I03,0,0,{V2},"
                     f"no_problem,", ""]


def test_csv_without_final_newline_and_with_slash_dates(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    text = ("enterprise_id,date,inspectors,hazards_found,major_hazards_found,penalized\n"
            f"{CODE_A},2026-05-10,I01;I02,3,1,1\n{CODE_B},2026-06-01,I02;I03,1,0,0")
    (district / "inspections.csv").write_text(text, encoding="utf-8")
    record_results(district, make_plan(tmp_path / "out"), results_file(tmp_path / "r.csv", RESULTS[:1]))
    data = (district / "inspections.csv").read_text(encoding="utf-8")
    lines = data.split("\n")
    assert lines[0].endswith(",visit_id,outcome")  # the only earlier line that changes: the header
    assert "\n".join(lines[1:3]) == text.split("\n", 1)[1]
    assert lines[3] == f"{CODE_A},2027-01-13,I01;I02,2,1,1,{V1},case_filed" and lines[4] == ""
    assert _date_text("2026/5/10", datetime.date(2027, 1, 3)) == "2027/1/3"
    assert _date_text("2026年05月10日", datetime.date(2027, 1, 3)) == "2027年01月03日"
    assert _date_text("10.05.2026", datetime.date(2027, 1, 3)) == "2027-01-03"


def test_csv_correction_rewrites_only_its_line(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    record_results(district, plan, results_file(tmp_path / "r.csv", RESULTS))
    before = (district / "inspections.csv").read_bytes().split(b"\n")
    changed = [RESULTS[0], [V2, "2027-02-03", 1, 0, 0, "当场整改"]]
    record_results(district, plan, results_file(tmp_path / "c.csv", changed), correct=True)
    after = (district / "inspections.csv").read_bytes().split(b"\n")
    assert [i for i, (a, b) in enumerate(zip(before, after)) if a != b] == [4] and len(after) == len(before)
    assert after[4].decode() == f"{CODE_B},2027-02-03,I01;I03,1,0,0,{V2},rectified_on_site"


def test_csv_edit_keeps_quoted_cells_with_newlines(tmp_path):
    text = 'enterprise_id,date,remarks\r\nA,2026-01-05,"two\r\nlines"\r\nB,2026-01-06,x\r\n'
    data = edit_csv(text.encode("utf-8"), tmp_path / "inspections.csv", "inspections",
                    [{"enterprise_id": "C", "date": datetime.date(2027, 1, 2)}], [(1, "date", datetime.date(2026, 2, 1))])
    assert data.decode("utf-8") == ('enterprise_id,date,remarks\r\nA,2026-01-05,"two\r\nlines"\r\n'
                                    'B,2026-02-01,x\r\nC,2027-01-02,\r\n')
    assert pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=io.BytesIO(data)).shape == (3, 3)


def test_the_workbook_editor_follows_chinese_headers_and_words(tmp_path):
    """The editor itself, whatever the loader reads: Chinese headers get Chinese columns added,
    a 是/否 column gets 是/否, a date column of text dates gets text in the same form."""
    from riskplan.export.bureau_table import edit_workbook, read_table_file

    path = tmp_path / "inspections.xlsx"
    headers = ["检查日期", "统一社会信用代码", "检查人员", "发现隐患数", "重大隐患数", "是否处罚"]
    bureau_workbook(path, headers=headers)
    book = openpyxl.load_workbook(path)
    book.active["F2"], book.active["F3"], book.active["A3"] = "是", "否", "2026年6月1日"
    book.save(path)
    found = read_table_file(path, "inspections")
    assert found.chinese and found.sheet == "检查台账" and found.columns[:2] == ["date", "enterprise_id"]
    assert found.rows[1]["penalized"] == "否" and found.header_for("visit_id") == "检查编号"
    data = edit_workbook(path.read_bytes(), path, "inspections",
                         [{"date": datetime.date(2027, 1, 13), "enterprise_id": CODE_A, "penalized": True,
                           "hazards_found": 2, "visit_id": V1}], [])
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == headers + ["检查编号"]
    assert [ws["A4"].value, ws["D4"].value, ws["F4"].value, ws["G4"].value] == ["2027年1月13日", 2, "是", V1]


def test_formula_like_text_is_appended_as_text(tmp_path):
    district = write_district(tmp_path / "d", base_tables())
    plan = make_plan(tmp_path / "out")
    record_results(district, plan, results_file(tmp_path / "r.csv", [[V1, "2027-01-13", 0, 0, 0, "=1+1"]]))
    assert "'=1+1" in (district / "inspections.csv").read_text(encoding="utf-8").splitlines()[-1]
    history = load_district(district).inspections
    assert history.loc[history["visit_id"] == V1, "outcome"].tolist() == ["=1+1"]
