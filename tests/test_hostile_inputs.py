"""Hostile input files are bounded: control characters refused, blank rows cheap, charts safe."""

import time

import pandas as pd
import pytest
from conftest import QUARTER, default_enterprises, default_inspectors
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

import riskplan.io
from riskplan.io import TableReadError, read_table_text
from riskplan.load.district import DistrictError, load_district


def problems_of(path):
    with pytest.raises(DistrictError) as info:
        load_district(path)
    return info.value.problems


def test_control_characters_are_refused_with_file_row_and_column(tiny_district):
    t = tiny_district()
    ent = t.path / "enterprises.csv"
    lines = ent.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("Enterprise O2", "Enterprise\x00O2")  # spreadsheet row 4
    ent.write_text("\n".join(lines) + "\n", encoding="utf-8")
    insp = t.path / "inspectors.csv"
    insp.write_text(insp.read_text(encoding="utf-8").replace("Inspector I03", "Inspector\x1bI03\tx"),
                    encoding="utf-8")
    found = [(p.file, p.row, p.column, p.message) for p in problems_of(t.path)]
    assert ("enterprises.csv", 4, "name", "contains the control character U+0000; remove it") in found
    assert ("inspectors.csv", 4, "name", "contains the control character U+001B; remove it") in found
    assert len(found) == 2  # a tab inside a cell is fine


def workbook_with_tail(csv_path, xlsx_path, rows, cell):
    """The CSV's table as a workbook followed by `rows` rows of `cell()` (styled or blank text)."""
    frame = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=csv_path, dtype=str, keep_default_na=False)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("enterprises")
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append(list(row))
    for _ in range(rows):
        sheet.append([cell(sheet)])
    book.save(xlsx_path)
    csv_path.unlink()


def styled_empty(sheet):
    cell = WriteOnlyCell(sheet, value=None)
    cell.font = Font(bold=True)
    return cell


@pytest.mark.parametrize("cell", [styled_empty, lambda sheet: " "], ids=["styled-empty", "blank-text"])
def test_trailing_blank_rows_are_ignored_quickly(tiny_district, cell):
    t = tiny_district()
    workbook_with_tail(t.path / "enterprises.csv", t.path / "enterprises.xlsx", 60_000, cell)
    started = time.perf_counter()
    district = load_district(t.path)
    elapsed = time.perf_counter() - started
    assert len(district.enterprises) == len(default_enterprises())
    assert elapsed < 30, elapsed  # a few seconds on a laptop; the bound only catches a regression to minutes


def test_too_many_rows_or_columns_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(riskplan.io, "MAX_ROWS", 3)
    frame = pd.DataFrame({"a": list("wxyz")})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    for ext in ("csv", "xlsx"):
        with pytest.raises(TableReadError, match="more than 3 rows"):
            read_table_text(tmp_path / f"t.{ext}")
    monkeypatch.setattr(riskplan.io, "MAX_ROWS", 4)
    assert read_table_text(tmp_path / "t.xlsx")["a"].tolist() == list("wxyz")
    wide = Workbook()
    wide.active.append(["a"])
    wide.active.cell(row=5, column=riskplan.io.MAX_COLUMNS + 1, value="far away")
    wide.save(tmp_path / "wide.xlsx")
    with pytest.raises(TableReadError, match=f"column {riskplan.io.MAX_COLUMNS + 1}"):
        read_table_text(tmp_path / "wide.xlsx")


def test_xlsx_cells_read_as_their_text(tmp_path):
    book = Workbook()
    book.active.append(["id", "n", "x", "when", "blank", "a"])
    book.active.append(["E1", 3, 2.5, pd.Timestamp("2027-01-13").to_pydatetime(), None, "b"])
    book.active.append([None] * 6)  # a blank row inside the table stays (row numbers stay right)
    book.active.append(["E2", 4.0, -1, None, None, "c"])
    book.active.append([None, None, None, None, None, "   "])  # trailing blank rows go
    book.save(tmp_path / "t.xlsx")
    frame = read_table_text(tmp_path / "t.xlsx")
    # a date cell reads as the date it shows (a midnight date-time is a date)
    assert frame.values.tolist() == [["E1", "3", "2.5", "2027-01-13", "", "b"],
                                     [""] * 6, ["E2", "4", "-1", "", "", "c"]]


MATH_NAME = "$x^2$ \\alpha $y^$"  # the second $...$ is not valid mathtext


def test_names_with_mathtext_do_not_crash_the_report(tiny_district, tmp_path):
    from riskplan.export.report import write_report
    from riskplan.pipeline import run_plan

    enterprises = default_enterprises()
    for row in enterprises:
        if row.get("subdistrict", "A") == "A":
            row["subdistrict"] = MATH_NAME
    inspectors = default_inspectors()
    for row in inspectors:
        if row.get("home_subdistrict") == "A":
            row["home_subdistrict"] = MATH_NAME
    t = tiny_district(enterprises=enterprises, inspectors=inspectors)
    out = tmp_path / "out"
    run_plan(t.path, QUARTER, 3, t.tiers_csv, out_dir=out, time_limit=10)
    whatif = tmp_path / "whatif.csv"
    whatif.write_text("inspectors,tier,mandatory_coverage\n4,red,0.5\n6,red,1.0\n")
    html = write_report(t.path, out, tmp_path / "report.html", whatif_csv=whatif).read_text(encoding="utf-8")
    assert "x^2" in html
