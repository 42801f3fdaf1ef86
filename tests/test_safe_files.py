"""Files a person opens are safe: no formula anywhere, and the same plan publishes the same bytes.

A district whose enterprise names and subdistricts start with the characters a spreadsheet
takes for a formula goes through plan, check, publish (both stages), verify-draw, record,
tier and whatif; every .csv and .xlsx written on the way is opened and inspected.
"""

import csv
import time

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import QUARTER, default_enterprises, default_inspectors
from openpyxl import load_workbook

from riskplan.cli import main
from riskplan.io import (
    FORMULA_TRIGGERS,
    frame_to_csv_bytes,
    neutralise_cell,
    read_csv_text,
    read_table_text,
    unquote_cell,
    write_table,
)
from riskplan.load.district import load_district

SUB_A = '=HYPERLINK("http://x","click")'
SUB_B = "-B"
HOSTILE_NAMES = ['=HYPERLINK("http://x","click")', "+1+2", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"]
OUTCOME = "=1+1"


def hostile_district(tiny_district):
    enterprises = default_enterprises()
    for i, row in enumerate(enterprises):
        row["subdistrict"] = {"A": SUB_A, "B": SUB_B}[row.get("subdistrict", "A")]
        row["name"] = HOSTILE_NAMES[i % len(HOSTILE_NAMES)] + f" {row['enterprise_id']}"
    enterprises[0]["name"] = "\tTabbed R1"  # leading white space is trimmed on load, like any cell
    inspectors = default_inspectors()
    for row in inspectors:
        if row.get("home_subdistrict") == "A":
            row["home_subdistrict"] = SUB_A
        elif row.get("home_subdistrict") == "B":
            row["home_subdistrict"] = SUB_B
    return tiny_district(enterprises=enterprises, inspectors=inspectors)


def is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def assert_no_formula(folder):
    """Every CSV cell that starts like a formula is a number; no workbook cell is a formula."""
    seen = 0
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".csv":
            with open(path, encoding="utf-8-sig", newline="") as fh:
                for row in csv.reader(fh):
                    for cell in row:
                        assert not (cell.startswith(FORMULA_TRIGGERS) and not is_number(cell)), (path.name, cell)
            seen += 1
        elif path.suffix == ".xlsx":
            for sheet in load_workbook(path).worksheets:
                for row in sheet.iter_rows():
                    for cell in row:
                        assert cell.data_type != "f", (path.name, cell.coordinate, cell.value)
            seen += 1
    return seen


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def test_hostile_names_are_never_formulas_and_round_trip(tiny_district, tmp_path):
    t = hostile_district(tiny_district)
    out = tmp_path / "plan"
    invoke("plan", t.path, "--quarter", QUARTER, "--seed", 5, "--tiers", t.tiers_csv, "--time-limit", 10,
           "--out", out)
    assert assert_no_formula(out) >= 5
    invoke("check", t.path, out)  # the checker reads roster.csv and tiers.csv back
    roster = read_csv_text(out / "roster.csv")
    names = dict(zip(t.load().enterprises["enterprise_id"], t.load().enterprises["name"]))
    assert set(roster["subdistrict"]) <= {SUB_A, SUB_B}
    assert all(names[e] == n for e, n in zip(roster["enterprise_id"], roster["enterprise_name"]))
    assert "'=HYPERLINK" in (out / "roster.csv").read_text(encoding="utf-8")  # shown as text by Excel

    public = tmp_path / "public"
    invoke("publish", t.path, out, "--stage", "plan", "--out", public)
    assert assert_no_formula(public) >= 3
    invoke("verify-draw", public, t.path)  # the public CSVs read back as published
    book = load_workbook(next(public.glob("*.xlsx")))
    values = {c.value for s in book.worksheets for r in s.iter_rows() for c in r}
    drawn_names = {n for n in read_csv_text(public / "drawn.csv").iloc[:, 2]}  # 抽查对象名称
    assert SUB_A in values and drawn_names and drawn_names <= values
    assert any(n.startswith(("=", "+", "-", "@")) for n in drawn_names)

    visits = roster["visit_id"].tolist()
    results = tmp_path / "results.csv"
    pd.DataFrame({"visit_id": visits, "date": roster["date"], "hazards_found": 1, "major_hazards_found": 0,
                  "penalized": 0, "outcome": OUTCOME}).to_csv(results, index=False)
    invoke("publish", t.path, out, "--stage", "results", "--results", results, "--out", tmp_path / "public2")
    assert assert_no_formula(tmp_path / "public2") >= 2

    # an .xlsx inspections history, as the bureau keeps it
    csv_history = t.path / "inspections.csv"
    write_table(read_table_text(csv_history), t.path / "inspections.xlsx")
    csv_history.unlink()
    invoke("record", t.path, out, results)
    recorded = load_workbook(t.path / "inspections.xlsx").active
    cells = [c for r in recorded.iter_rows() for c in r]
    assert OUTCOME in {c.value for c in cells} and all(c.data_type != "f" for c in cells)
    history = load_district(t.path).inspections
    assert (history["outcome"] == OUTCOME).sum() == len(visits)

    invoke("tier", t.path, "--out", tmp_path / "tiers" / "tiers.csv")
    invoke("tier", t.path, "--out", tmp_path / "tiers" / "tiers.xlsx")
    assert assert_no_formula(tmp_path / "tiers") == 2


def test_a_chinese_plan_folder_keeps_formula_looking_text_as_text(tiny_district, tmp_path, monkeypatch):
    """The default (Chinese) plan folder: the same neutralising in its CSVs and in plan.xlsx,
    and the names read back exactly from both."""
    from riskplan import i18n

    t = hostile_district(tiny_district)
    for var in (i18n.ENV_VAR, "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    i18n.set_language(None)
    out = tmp_path / "plan"
    invoke("plan", t.path, "--quarter", QUARTER, "--seed", 5, "--tiers", t.tiers_csv, "--time-limit", 10,
           "--out", out)
    assert assert_no_formula(out) == 12  # six CSVs, plan.xlsx and the five CSVs of the input snapshot (inputs/)
    raw = (out / "roster.csv").read_text(encoding="utf-8-sig")
    assert raw.startswith("检查编号,") and "'=HYPERLINK" in raw
    roster = read_csv_text(out / "roster.csv")
    names = dict(zip(t.load().enterprises["enterprise_id"], t.load().enterprises["name"]))
    assert all(names[e] == n for e, n in zip(roster["enterprise_id"], roster["enterprise_name"]))
    sheet = load_workbook(out / "plan.xlsx")["检查安排"]
    header = [c.value for c in sheet[1]]
    shown = [r[header.index("企业名称")].value for r in sheet.iter_rows(min_row=2)]
    assert shown == roster["enterprise_name"].tolist() and any(n.startswith(FORMULA_TRIGGERS) for n in shown)
    subdistricts = {r[header.index("所属街道")].value for r in sheet.iter_rows(min_row=2)}
    assert subdistricts <= {SUB_A, SUB_B} and SUB_A in subdistricts


def test_whatif_outputs_are_never_formulas(tiny_district, tmp_path):
    t = hostile_district(tiny_district)
    policy = tmp_path / "=1+1.toml"
    policy.write_text("[roster]\ncapacity_reserve = 0.1\n")
    invoke("whatif", t.path, "--quarter", QUARTER, "--tiers", t.tiers_csv, "--inspectors", "6",
           "--policy", policy, "--time-limit", 5, "--workers", 1, "--out", tmp_path / "w")
    assert assert_no_formula(tmp_path / "w") >= 2
    assert "'=1+1.toml" in (tmp_path / "w" / "whatif.csv").read_text(encoding="utf-8")


def test_numbers_stay_numbers_and_text_round_trips(tmp_path):
    frame = pd.DataFrame({"name": ["=a", "-", "'=b", "plain", "\tx"], "n": [-3, 1, 2, 3, 4], "x": [-0.5] * 5})
    text = frame_to_csv_bytes(frame).decode("utf-8")
    assert text.splitlines()[1] == "'=a,-3,-0.5"
    write_table(frame, tmp_path / "t.csv")
    assert read_csv_text(tmp_path / "t.csv")["name"].tolist() == frame["name"].tolist()
    assert read_table_text(tmp_path / "t.csv")["name"].tolist() == ["=a", "-", "'=b", "plain", "x"]  # trimmed
    assert neutralise_cell("\rx") == "'\rx" and neutralise_cell(-3) == -3 and unquote_cell("'x") == "'x"
    write_table(frame, tmp_path / "t.xlsx")
    sheet = load_workbook(tmp_path / "t.xlsx").active
    assert [c.value for c in sheet["A"]][1:] == frame["name"].tolist()
    assert [c.data_type for c in sheet["B"]][1:] == ["n"] * 5 and sheet["B2"].value == -3


def publish_twice(t, out, tmp_path, *extra):
    first, second = tmp_path / "p1", tmp_path / "p2"
    invoke("publish", t.path, out, *extra, "--out", first)
    time.sleep(2.1)  # zip entry times have a two-second resolution
    invoke("publish", t.path, out, *extra, "--out", second)
    files = sorted(p.name for p in first.iterdir())
    assert files == sorted(p.name for p in second.iterdir()) and any(f.endswith(".xlsx") for f in files)
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@pytest.mark.parametrize("stage", ["plan", "results"])
def test_publish_twice_gives_identical_bytes(tiny_district, tmp_path, stage):
    t = tiny_district()
    out = tmp_path / "plan"
    invoke("plan", t.path, "--quarter", QUARTER, "--seed", 5, "--tiers", t.tiers_csv, "--time-limit", 10,
           "--out", out)
    extra = ["--stage", stage]
    if stage == "results":
        roster = read_csv_text(out / "roster.csv")
        results = tmp_path / "results.csv"
        pd.DataFrame({"visit_id": roster["visit_id"], "date": roster["date"], "hazards_found": 0,
                      "major_hazards_found": 0, "penalized": 0, "outcome": "ok"}).to_csv(results, index=False)
        extra += ["--results", results]
    publish_twice(t, out, tmp_path, *extra)
