"""Validated loading of a district folder: every kind of bad input is named precisely."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from riskplan.cli import main
from riskplan.domain.credit_code import make_code
from riskplan.domain.headers import canonical_value
from riskplan.load.district import DistrictError, load_district, summarize

CODE_A = make_code("91350100M000100Y4")
CODE_B = make_code("91110000600037341")


def base_tables() -> dict[str, pd.DataFrame]:
    """A tiny valid district; tests break one thing at a time."""
    return {
        "enterprises": pd.DataFrame({
            "enterprise_id": [CODE_A, CODE_B, "E-LOCAL-3"],
            "name": ["宁波甬江化工有限公司", "海曙金属制品厂", "Workshop 3"],
            "subdistrict": ["南门街道", "南门街道", "西门街道"],
            "grid": ["NM-G01", "NM-G02", "XM-G01"],
            "industry": ["chemicals", "metal products", "retail"],
            "size_class": ["medium", "small", "micro"],
            "employees": [120, 35, 4],
            "lat": [29.87, 29.86, 29.88],
            "lon": [121.54, 121.55, 121.53],
            "hazchem": ["produce", "none", "none"],
            "major_hazard_level": [2, 0, 0],
            "dust_explosion": [0, 1, 0],
            "molten_metal": [0, 1, 0],
            "confined_space": [1, 0, 0],
            "standardization_grade": [2, 0, 3],
            "notes": ["extra columns are kept", "", ""],
        }),
        "accidents": pd.DataFrame({
            "enterprise_id": [CODE_A], "date": ["2026-03-02"], "severity": ["serious"],
            "deaths": [0], "injuries": [3],
        }),
        "inspections": pd.DataFrame({
            "enterprise_id": [CODE_A, CODE_B], "date": ["2026-05-10", "2026-06-01"],
            "inspectors": ["I01;I02", "I02;I03"], "hazards_found": [3, 1],
            "major_hazards_found": [1, 0], "penalized": [1, 0],
        }),
        "inspectors": pd.DataFrame({
            "inspector_id": ["I01", "I02", "I03"], "name": ["张伟", "李娜", "王强"],
            "squad": ["一中队", "一中队", "南门街道应急站"], "certified": [1, 1, 0],
            "qualifications": ["hazchem;general", "dust;metallurgy", ""],
            "home_subdistrict": ["", "", "南门街道"], "weekly_capacity": [5, 4, 3],
        }),
        "leave": pd.DataFrame({"inspector_id": ["I01"], "start": ["2027-01-10"], "end": ["2027-01-20"]}),
        "conflicts": pd.DataFrame({"inspector_id": ["I02"], "enterprise_id": [CODE_B], "reason": ["亲属"]}),
        "pinned": pd.DataFrame({"enterprise_id": [CODE_B], "reason": ["complaint"],
                                "earliest": ["2027-02-01"], "latest": ["2027-02-28"]}),
    }


def write_district(folder: Path, tables: dict[str, pd.DataFrame], fmt: str = "csv",
                   encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if fmt == "xlsx":
            frame.to_excel(folder / f"{name}.xlsx", index=False)
        else:
            (folder / f"{name}.csv").write_bytes(frame.to_csv(index=False).encode(encoding))
    return folder


def problems_of(folder: Path) -> list:
    with pytest.raises(DistrictError) as info:
        load_district(folder)
    return info.value.problems


def only_problem(folder: Path):
    found = problems_of(folder)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_valid_district_loads_with_types(tmp_path):
    d = load_district(write_district(tmp_path, base_tables()))
    assert len(d.enterprises) == 3
    assert d.enterprises["employees"].dtype == "int64"
    assert str(d.accidents["date"].dtype).startswith("datetime64")
    assert d.enterprises.loc[0, "name"] == "宁波甬江化工有限公司"
    assert "notes" in d.enterprises.columns
    assert d.policy.roster.team_size == 2  # defaults without policy.toml
    assert set(d.fingerprints()) == {f"{n}.csv" for n in base_tables()}


def test_optional_tables_may_be_absent(tmp_path):
    tables = base_tables()
    for name in ("leave", "conflicts", "pinned"):
        tables.pop(name)
    d = load_district(write_district(tmp_path, tables))
    assert d.leave.empty and list(d.leave.columns) == ["inspector_id", "start", "end"]


def test_missing_required_file(tmp_path):
    tables = base_tables()
    tables.pop("inspectors")
    p = only_problem(write_district(tmp_path, tables))
    assert p.file == "inspectors.csv" and "missing" in p.message


def test_missing_column_names_header_row(tmp_path):
    tables = base_tables()
    tables["accidents"] = tables["accidents"].drop(columns=["severity"])
    p = only_problem(write_district(tmp_path, tables))
    assert (p.file, p.row, p.column) == ("accidents.csv", 1, "severity")


@pytest.mark.parametrize("column,value,fragment", [
    ("employees", "many", "not a whole number"),
    ("employees", "-3", "below the minimum"),
    ("lat", "north", "not a number"),
    ("lat", "95", "above the maximum"),
    ("size_class", "huge", "not one of"),
    ("hazchem", "sell", "not one of"),
    ("major_hazard_level", "5", "above the maximum"),
    ("dust_explosion", "2", "must be 0 or 1"),
    ("standardization_grade", "1.5", "not a whole number"),
    ("name", "", "empty cell"),
])
def test_bad_enterprise_cell_names_file_row_column(tmp_path, column, value, fragment):
    tables = base_tables()
    tables["enterprises"] = tables["enterprises"].astype(str)
    tables["enterprises"].loc[1, column] = value
    p = only_problem(write_district(tmp_path, tables))
    assert (p.file, p.row, p.column) == ("enterprises.csv", 3, column)
    assert fragment in p.message


def test_bad_date_and_negative_count(tmp_path):
    tables = base_tables()
    tables["accidents"] = tables["accidents"].astype(str)
    tables["accidents"].loc[0, "date"] = "2026-02-30"
    tables["accidents"].loc[0, "deaths"] = "-1"
    found = {(p.file, p.row, p.column) for p in problems_of(write_district(tmp_path, tables))}
    assert found == {("accidents.csv", 2, "date"), ("accidents.csv", 2, "deaths")}


def test_duplicate_ids(tmp_path):
    tables = base_tables()
    tables["inspectors"].loc[2, "inspector_id"] = "I01"
    found = problems_of(write_district(tmp_path, tables))
    dup = [p for p in found if "duplicate" in p.message]
    assert len(dup) == 1
    assert (dup[0].file, dup[0].row, dup[0].column) == ("inspectors.csv", 4, "inspector_id")
    assert "first at row 2" in dup[0].message


def test_unknown_enterprise_reference(tmp_path):
    tables = base_tables()
    tables["inspections"].loc[1, "enterprise_id"] = "NOPE"
    p = only_problem(write_district(tmp_path, tables))
    assert (p.file, p.row, p.column) == ("inspections.csv", 3, "enterprise_id")
    assert "unknown enterprise 'NOPE'" in p.message


def test_unknown_inspector_in_visit_team_and_leave(tmp_path):
    tables = base_tables()
    tables["inspections"].loc[0, "inspectors"] = "I01;I99"
    tables["leave"].loc[0, "inspector_id"] = "I77"
    found = {(p.file, p.row, p.column, p.message) for p in problems_of(write_district(tmp_path, tables))}
    assert ("inspections.csv", 2, "inspectors", "unknown inspector 'I99'") in found
    assert ("leave.csv", 2, "inspector_id", "unknown inspector 'I77'") in found


def test_end_before_start(tmp_path):
    tables = base_tables()
    tables["leave"].loc[0, "end"] = "2027-01-05"
    tables["pinned"].loc[0, "latest"] = "2027-01-15"
    found = {(p.file, p.row, p.column) for p in problems_of(write_district(tmp_path, tables))}
    assert found == {("leave.csv", 2, "end"), ("pinned.csv", 2, "latest")}


def test_bad_credit_code_check_character(tmp_path):
    tables = base_tables()
    bad = CODE_A[:17] + ("0" if CODE_A[17] != "0" else "1")
    tables["enterprises"].loc[0, "enterprise_id"] = bad
    for name in ("accidents", "inspections"):
        tables[name]["enterprise_id"] = tables[name]["enterprise_id"].replace(CODE_A, bad)
    p = only_problem(write_district(tmp_path, tables))
    assert (p.file, p.row, p.column) == ("enterprises.csv", 2, "enterprise_id")
    assert f"expected '{CODE_A[17]}'" in p.message


def test_malformed_policy_key(tmp_path):
    folder = write_district(tmp_path, base_tables())
    (folder / "policy.toml").write_text("[roster]\nteam_sise = 3\n[tiers.blue]\nsample_share = 1.5\n")
    found = [str(p) for p in problems_of(folder)]
    assert any("policy.toml" in f and "team_sise" in f and "did you mean 'team_size'" in f for f in found)
    assert any("tiers.blue.sample_share" in f for f in found)


def test_both_formats_present(tmp_path):
    folder = write_district(tmp_path, base_tables())
    base_tables()["leave"].to_excel(folder / "leave.xlsx", index=False)
    p = only_problem(folder)
    assert "leave.csv; leave.xlsx" in p.message and p.cause


def test_all_problems_reported_at_once(tmp_path):
    tables = base_tables()
    tables["enterprises"] = tables["enterprises"].astype(str)
    tables["enterprises"].loc[0, "employees"] = "x"
    tables["accidents"].loc[0, "severity"] = "catastrophic"
    tables["inspectors"].loc[0, "weekly_capacity"] = -1
    files = {p.file for p in problems_of(write_district(tmp_path, tables))}
    assert files == {"enterprises.csv", "accidents.csv", "inspectors.csv"}


def test_gb18030_csv_round_trips_chinese(tmp_path):
    d = load_district(write_district(tmp_path, base_tables(), encoding="gb18030"))
    assert d.inspectors["name"].tolist() == ["张伟", "李娜", "王强"]
    assert d.enterprises.loc[1, "subdistrict"] == "南门街道"


def test_utf8_bom_csv(tmp_path):
    d = load_district(write_district(tmp_path, base_tables(), encoding="utf-8-sig"))
    assert d.enterprises.columns[0] == "enterprise_id"


def test_undecodable_csv_is_refused(tmp_path):
    folder = write_district(tmp_path, base_tables())
    (folder / "conflicts.csv").write_bytes(b"inspector_id,enterprise_id,reason\nI02,X,\xff\xfe\xfd\x80\x80\n")
    p = only_problem(folder)
    assert p.file == "conflicts.csv" and "neither UTF-8 nor GB18030" in p.message


def test_xlsx_round_trip_with_chinese(tmp_path):
    d = load_district(write_district(tmp_path, base_tables(), fmt="xlsx"))
    assert d.enterprises.loc[0, "name"] == "宁波甬江化工有限公司"
    assert d.enterprises["major_hazard_level"].tolist() == [2, 0, 0]
    assert d.pinned.loc[0, "earliest"] == pd.Timestamp("2027-02-01")
    assert d.inspectors.loc[2, "qualifications"] == ""
    assert set(d.fingerprints()) == {f"{n}.xlsx" for n in base_tables()}


def test_xlsx_bad_cell_reports_spreadsheet_row(tmp_path):
    tables = base_tables()
    tables["accidents"].loc[0, "severity"] = "huge"
    p = only_problem(write_district(tmp_path, tables, fmt="xlsx"))
    assert (p.file, p.row, p.column) == ("accidents.xlsx", 2, "severity")


def test_summary_counts(tmp_path):
    s = summarize(load_district(write_district(tmp_path, base_tables())))
    by_sub = s["by_subdistrict"]
    assert by_sub.loc["南门街道", "enterprises"] == 2
    assert by_sub.loc["TOTAL", "hazchem"] == 1
    assert by_sub.loc["TOTAL", "dust_explosion"] == 1
    assert s["inspectors_by_qualification"].loc["hazchem", "inspectors"] == 1


def test_cli_validate_ok_and_bad(tmp_path):
    runner = CliRunner()
    good = write_district(tmp_path / "good", base_tables())
    result = runner.invoke(main, ["validate", str(good)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "南门街道" in result.output
    tables = base_tables()
    tables["inspectors"].loc[1, "certified"] = 7
    bad = write_district(tmp_path / "bad", tables)
    before = sorted(p.name for p in bad.iterdir())
    result = runner.invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "inspectors.csv, row 3, column 'certified'" in result.output
    assert sorted(p.name for p in bad.iterdir()) == before  # nothing written


@settings(max_examples=12, deadline=None)
@given(st.text(min_size=1, max_size=6).filter(lambda s: s.strip() and canonical_value("size_class", s) is None
                                              and "," not in s and "\n" not in s and "\r" not in s
                                              and '"' not in s))
def test_any_unknown_size_class_is_named(tmp_path_factory, value):
    tables = base_tables()
    tables["enterprises"].loc[2, "size_class"] = value
    folder = write_district(tmp_path_factory.mktemp("d"), tables)
    p = only_problem(folder)
    assert (p.file, p.row, p.column) == ("enterprises.csv", 4, "size_class")
