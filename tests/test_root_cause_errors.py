"""Errors that lead to the cause: a table that fails structurally is reported first, with the
nearest accepted header suggested; what it breaks in other tables is counted, not listed; a
column of identical problems is summarised."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from riskplan import i18n
from riskplan.cli import main
from riskplan.load.district import DistrictError, load_district

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def sample_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "district"
    shutil.copytree(SAMPLE, folder)
    return folder


def edit(folder: Path, table: str, change) -> None:
    path = folder / f"{table}.csv"
    frame = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=path, dtype=str, keep_default_na=False)
    change(frame).to_csv(path, index=False)


def error_of(folder: Path) -> DistrictError:
    with pytest.raises(DistrictError) as info:
        load_district(folder)
    return info.value


def test_a_misspelt_header_is_the_first_line_with_a_suggestion_and_follow_ons_are_counted(tmp_path):
    folder = sample_copy(tmp_path)
    edit(folder, "enterprises", lambda f: f.rename(columns={"subdistrict": "subdistict"}))
    err = error_of(folder)
    lines = str(err).splitlines()
    assert len(err.problems) == 1 and err.problems[0].cause
    assert lines[0] == "1 problem in the district input."
    assert lines[2].startswith("enterprises.csv, row 1, column 'subdistrict' (所属街道): missing required column")
    assert "'subdistict' in column C" in lines[2] and "did you mean 'subdistrict' (所属街道)?" in lines[2]
    refs = sum(len(pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=SAMPLE / f"{t}.csv")) for t in ("accidents", "inspections", "conflicts", "pinned"))
    assert lines[3] == (f"… and {refs:,} rows of accidents.csv, inspections.csv, conflicts.csv, pinned.csv that "
                        "refer to enterprises.csv: checked once enterprises.csv is fixed")
    assert "unknown enterprise" not in str(err) and len(lines) == 4


def test_a_misspelt_chinese_header_is_suggested_too(tmp_path):
    folder = sample_copy(tmp_path)
    edit(folder, "inspectors", lambda f: f.rename(columns={"weekly_capacity": "每周检查能立"}))
    p = error_of(folder).problems[0]
    assert p.cause and p.column == "weekly_capacity" and "'每周检查能立' in column G" in p.message


def test_a_missing_column_without_a_near_header_is_still_the_cause(tmp_path):
    folder = sample_copy(tmp_path)
    edit(folder, "inspectors", lambda f: f.drop(columns=["certified"]))
    err = error_of(folder)
    assert [(p.file, p.column, p.cause) for p in err.problems] == [("inspectors.csv", "certified", True)]
    assert "did you mean" not in err.problems[0].message
    assert "rows of inspections.csv, leave.csv, conflicts.csv that refer to inspectors.csv" in str(err)


def test_an_empty_enterprises_table_is_the_cause(tmp_path):
    folder = sample_copy(tmp_path)
    edit(folder, "enterprises", lambda f: f.iloc[:0])
    err = error_of(folder)
    assert len(err.problems) == 1 and err.problems[0].cause and err.problems[0].file == "enterprises.csv"
    assert "no rows" in err.problems[0].message
    assert "that refer to enterprises.csv" in str(err).splitlines()[3]


def test_an_empty_optional_table_is_fine(tmp_path):
    folder = sample_copy(tmp_path)
    edit(folder, "pinned", lambda f: f.iloc[:0])
    assert load_district(folder).pinned.empty


def test_a_duplicated_inspector_id_comes_before_what_follows_from_it(tmp_path):
    folder = sample_copy(tmp_path)

    def duplicate(f):
        f.loc[3, "inspector_id"] = f.loc[0, "inspector_id"]
        return f

    edit(folder, "inspectors", duplicate)
    err = error_of(folder)
    lines = str(err).splitlines()
    assert err.problems[0].cause and "duplicate inspector_id" in err.problems[0].message
    assert lines[1] == "The cause, to fix first:" and lines[2].startswith("inspectors.csv, row 5, column 'inspector_id'")
    assert lines[3] == "Other problems:" and "unknown inspector" in lines[4]


def test_many_identical_problems_in_a_column_are_summarised(tmp_path):
    folder = sample_copy(tmp_path)
    edit(folder, "inspections", lambda f: f.assign(date=pd.to_datetime(f["date"]).dt.strftime("%m/%d/%Y")))
    err = error_of(folder)
    n = len(pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=SAMPLE / "inspections.csv"))
    assert len(err.problems) == n  # every cell is in the list ...
    lines = str(err).splitlines()
    assert len(lines) == 5  # ... but people read the first three and a count
    assert lines[1].startswith("inspections.csv, row 2, column 'date': ")
    assert lines[3].startswith("inspections.csv, row 4, column 'date': ")
    assert lines[4] == f"inspections.csv, rows 5–{n + 1}, column 'date': {n - 3:,} more cells with the same problem"


def test_different_problems_in_one_column_are_not_lumped_together(tmp_path):
    folder = sample_copy(tmp_path)

    def two_kinds(f):
        f.loc[0:4, "employees"] = "many"
        f.loc[5:9, "employees"] = "-3"
        return f

    edit(folder, "enterprises", two_kinds)
    lines = str(error_of(folder)).splitlines()
    assert sum("more cells with the same problem" in line for line in lines) == 2
    assert any("below the minimum" in line for line in lines) and any("not a whole number" in line for line in lines)


def test_the_cli_prints_the_cause_first_in_chinese_by_default(tmp_path, monkeypatch):
    folder = sample_copy(tmp_path)
    edit(folder, "enterprises", lambda f: f.rename(columns={"subdistrict": "subdistict"}))
    monkeypatch.delenv("RISKPLAN_LANG")
    i18n.set_language(None)
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0] == "错误：区县数据中有 1 个问题。" or lines[0].endswith("区县数据中有 1 个问题。")
    assert lines[1] == "根本原因（请先改正）："
    assert lines[2].startswith("enterprises.csv，第 1 行，“所属街道”列（subdistrict）：缺少必填列；")
    assert "是否应为“所属街道”（subdistrict）？" in lines[2]
    assert "待 enterprises.csv 改正后再检查" in lines[3]
