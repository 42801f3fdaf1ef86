"""The plan folder a clerk opens in Excel: Chinese by default, English on request, the same plan.

One tiny district is planned twice through the CLI, with the default language (Chinese: no
RISKPLAN_LANG, no locale) and with `--lang en`. Both folders must hold the same plan once read
back through riskplan's own reader; every CSV starts with the UTF-8 BOM Chinese Excel needs;
plan.xlsx has a sheet per table with real date cells, numbers as numbers, a frozen header, a
filter and column widths fitted to the text (a CJK character counts two).
"""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date, datetime

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import QUARTER, default_enterprises, make_tiny_district
from openpyxl import load_workbook

from riskplan import i18n
from riskplan.cli import main
from riskplan.domain.headers import VALUES, canonical_frame, display_frame, display_headers
from riskplan.export.plan_files import PLAN_FILES, PLAN_TABLES, deterministic_part, tiers_output
from riskplan.io import CSV_BOM, read_csv_text, read_own_table, sheets_to_xlsx_bytes, text_width, unquote_cell

ZH_SHEETS = ["检查安排", "风险分级", "执法人员日程", "随机抽取", "检查缺口", "未安排检查"]
EN_SHEETS = ["roster", "tiers", "inspector schedule", "draw", "shortfall", "unplaced"]
#: A long Chinese name, so the fitted width must count its characters double.
LONG_NAME = "宁波市海曙区某某精细化工股份有限公司第二分厂"
LOCALE_VARS = (i18n.ENV_VAR, "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    """(district, Chinese plan folder, English plan folder), planned once for the module."""
    base = tmp_path_factory.mktemp("excel")
    enterprises = default_enterprises()
    enterprises[0]["name"] = LONG_NAME
    t = make_tiny_district(base / "district", enterprises=enterprises)
    args = ("plan", t.path, "--quarter", QUARTER, "--seed", 5, "--tiers", t.tiers_csv, "--time-limit", 10)
    with pytest.MonkeyPatch.context() as mp:
        for var in LOCALE_VARS:
            mp.delenv(var, raising=False)
        i18n.set_language(None)
        run(*args, "--out", base / "zh")
        run(*args, "--lang", "en", "--out", base / "en")
        i18n.set_language(None)
    return t, base / "zh", base / "en"


def test_chinese_by_default_and_english_on_request_hold_the_same_plan(plans):
    _t, zh, en = plans
    assert sorted(p.name for p in zh.iterdir() if not p.name.startswith(".")) == sorted(PLAN_FILES)
    for table in PLAN_TABLES:
        a, b = read_csv_text(zh / f"{table}.csv"), read_csv_text(en / f"{table}.csv")
        pd.testing.assert_frame_equal(a, b, obj=table)
        raw_zh = (zh / f"{table}.csv").read_bytes().decode("utf-8-sig").split("\n", 1)[0].split(",")
        raw_en = (en / f"{table}.csv").read_bytes().decode("utf-8-sig").split("\n", 1)[0].split(",")
        assert raw_en == list(a.columns), table
        assert raw_zh == display_headers(table, a.columns, "zh"), table
    roster_zh = pd.read_csv(zh / "roster.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert set(roster_zh["风险等级"]) <= {"红", "橙", "黄", "蓝"} and len(roster_zh) >= 5
    assert set(roster_zh["检查类别"]) <= {labels[0] for labels in VALUES["basis"].values()}
    assert "随机抽查" in set(roster_zh["检查类别"]) and "强制检查" in set(roster_zh["检查类别"])
    draw_zh = pd.read_csv(zh / "draw.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert set(draw_zh["是否抽中"]) == {"是", "否"} and set(draw_zh["是否可抽取"]) <= {"是", "否"}
    schedule_en = pd.read_csv(en / "inspector_schedule.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert set(schedule_en["on_leave"]) <= {"yes", "no"}
    ja, jb = (json.loads((d / "plan.json").read_text(encoding="utf-8")) for d in (zh, en))
    assert (ja["language"], jb["language"]) == ("zh", "en")
    for plan in (ja, jb):  # what differs: the language, and the fingerprint of tiers.csv as written in it
        plan.pop("language")
        plan["tiers"].pop("tiers_csv_sha256")
        for warning in plan["warnings"]:  # said in the plan's language
            warning.pop("message")
    assert deterministic_part(ja) == deterministic_part(jb)


def test_every_csv_starts_with_the_bom_and_ends_its_lines_with_a_newline_only(plans):
    _t, zh, en = plans
    for folder in (zh, en):
        for table in PLAN_TABLES:
            raw = (folder / f"{table}.csv").read_bytes()
            assert raw.startswith(CSV_BOM) and not raw[len(CSV_BOM):].startswith(CSV_BOM), (folder.name, table)
            assert b"\r" not in raw and raw.endswith(b"\n")
            with open(folder / f"{table}.csv", encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.reader(fh))
            assert rows[0][0] and not rows[0][0].startswith("\ufeff")


def test_tiers_csv_fingerprint_in_plan_json_is_the_file_written(plans):
    _t, zh, en = plans
    for folder in (zh, en):
        plan = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
        assert plan["tiers"]["tiers_csv_sha256"] == hashlib.sha256((folder / "tiers.csv").read_bytes()).hexdigest()


def _as_csv_text(value, csv_text: str) -> str:
    """A workbook cell as riskplan's CSV writes the same value."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        assert value.time() == datetime.min.time()
        return value.date().isoformat()
    if isinstance(value, (int, float)) and "." in csv_text:  # a float 0.0 reads back as the int 0
        return f"{value:.6f}"
    return str(value)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_workbook_holds_every_table_typed_frozen_filtered_and_fitted(plans, lang):
    _t, zh, en = plans
    folder = zh if lang == "zh" else en
    book = load_workbook(folder / "plan.xlsx")
    assert book.sheetnames == (ZH_SHEETS if lang == "zh" else EN_SHEETS)
    dates_seen = numbers_seen = 0
    for sheet, table in zip(book.worksheets, PLAN_TABLES):
        with open(folder / f"{table}.csv", encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        cells = [list(r) for r in sheet.iter_rows()]
        assert [c.value for c in cells[0]] == rows[0], table
        assert len(cells) == len(rows), table
        assert sheet.freeze_panes == "A2", table
        last = cells[0][-1].column_letter
        assert sheet.auto_filter.ref == f"A1:{last}{len(rows)}", table
        for got, want in zip(cells[1:], rows[1:]):
            assert [_as_csv_text(c.value, w) for c, w in zip(got, want)] == [unquote_cell(w) for w in want], table
        header = [c.value for c in cells[0]]
        for name in header:
            column = header.index(name)
            values = [r[column] for r in cells[1:]]
            if name in ("date", "window_start", "window_end", "日期", "检查日期", "最早日期", "最晚日期"):
                assert all(c.is_date and c.number_format == "yyyy-mm-dd" for c in values), (table, name)
                dates_seen += len(values)
            if name in ("inclusion_probability", "入选概率", "missing", "缺口"):
                assert all(c.data_type == "n" for c in values), (table, name)
                numbers_seen += len(values)
            if name in ("enterprise_id", "统一社会信用代码", "visit_id", "检查编号"):
                assert all(c.data_type == "s" for c in values), (table, name)
        for column, cell in enumerate(cells[0]):
            widest = max(text_width(unquote_cell(r[column])) for r in rows)
            width = sheet.column_dimensions[cell.column_letter].width
            assert min(widest, 60) < width <= min(widest + 4, 60 + 2), (table, cell.value, width)
    assert dates_seen > 20 and numbers_seen > 10
    roster = book.worksheets[0]
    names = [c.value for c in roster["C"]]
    assert LONG_NAME in names and roster.column_dimensions["C"].width >= 2 * len(LONG_NAME)


def test_the_workbook_is_reproducible(plans, tmp_path):
    t, zh, _en = plans
    again = tmp_path / "again"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(i18n.ENV_VAR, "zh")
        i18n.set_language(None)
        run("plan", t.path, "--quarter", QUARTER, "--seed", 5, "--tiers", t.tiers_csv, "--time-limit", 10,
            "--out", again)
    for name in ("plan.xlsx", "roster.csv", "tiers.csv"):
        assert (again / name).read_bytes() == (zh / name).read_bytes(), name


@pytest.mark.parametrize("lang", [
    "en",
    "zh",
])
def test_check_passes_on_a_plan_folder_in_either_language(plans, lang):
    t, zh, en = plans
    result = CliRunner().invoke(main, ["check", str(t.path), str(zh if lang == "zh" else en), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "roster checks pass" in result.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_publish_and_verify_draw_work_on_a_plan_folder_in_either_language(plans, tmp_path, lang):
    t, zh, en = plans
    public = tmp_path / "public"
    run("publish", t.path, zh if lang == "zh" else en, "--stage", "plan", "--lang", lang, "--out", public)
    result = run("verify-draw", public, t.path, "--lang", lang)
    reproduced = {"zh": "通过 抽查对象名单：用随机种子复现了", "en": "ok   drawn list: all "}[lang]
    assert reproduced in result.output and "FAIL" not in result.output


def test_verify_draw_rederives_the_frame_from_a_chinese_plans_tiers(plans, tmp_path):
    t, zh, _en = plans
    public = tmp_path / "public"
    run("publish", t.path, zh, "--stage", "plan", "--out", public)
    result = run("verify-draw", public, t.path, "--tiers", zh / "tiers.csv", "--lang", "en")
    assert "ok   sampling frame derived from the district" in result.output


def test_a_plans_tiers_fingerprint_is_found_in_the_language_it_was_written_in():
    """verify-draw recomputes the tiers' fingerprint; a plan written in Chinese, checked in
    English, must still match (and a changed tier must not)."""
    from riskplan.export.verify import _tiers_sha

    tiers = pd.DataFrame({"enterprise_id": ["A1", "A2"], "tier": ["red", "blue"]})
    with i18n.language("zh"):
        published = hashlib.sha256(tiers_output(tiers)).hexdigest()
    with i18n.language("en"):
        assert hashlib.sha256(tiers_output(tiers)).hexdigest() != published
        assert _tiers_sha(tiers, published) == published
        changed = tiers.assign(tier=["red", "yellow"])
        assert _tiers_sha(changed, published) != published
        remade = []
        assert _tiers_sha(changed, published, lambda: remade.append(i18n.get_language()) or tiers) == published
        assert remade == ["zh"]


# ---------------------------------------------------------------- the reader and the writer, unit by unit

def test_read_csv_text_maps_either_language_back_and_keeps_what_it_does_not_know(tmp_path):
    (tmp_path / "roster.csv").write_bytes(CSV_BOM + "检查编号,风险等级,检查类别,Tier Note,检查日期\n"
                                          "V1,红,随机抽查,x,2027-01-05\nV2,紫,drawn,y,\n".encode("utf-8"))
    roster = read_csv_text(tmp_path / "roster.csv")
    assert list(roster.columns) == ["visit_id", "tier", "basis", "Tier Note", "date"]
    assert roster["tier"].tolist() == ["red", "紫"]  # an unknown value is kept for the caller to name
    assert roster["basis"].tolist() == ["drawn", "drawn"] and roster["date"].tolist() == ["2027-01-05", ""]
    # the table follows the file name; another name is not canonicalised unless the table is given
    (tmp_path / "mine.csv").write_bytes((tmp_path / "roster.csv").read_bytes())
    assert list(read_csv_text(tmp_path / "mine.csv").columns)[:2] == ["检查编号", "风险等级"]
    assert list(read_csv_text(tmp_path / "mine.csv", "roster").columns)[:2] == ["visit_id", "tier"]
    assert read_own_table(tmp_path / "mine.csv", "roster").equals(roster)
    # the same table in a workbook
    (tmp_path / "roster.xlsx").write_bytes(sheets_to_xlsx_bytes({"检查安排": pd.read_csv(
        tmp_path / "roster.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")}))
    assert read_own_table(tmp_path / "roster.xlsx", "roster")["tier"].tolist() == ["red", "紫"]


def test_display_then_canonical_is_the_identity_for_every_output_value():
    for table, column, value_set in [("roster", "tier", "tier"), ("roster", "basis", "basis"),
                                     ("draw", "drawn", "yes_no"), ("inspector_schedule", "on_leave", "yes_no"),
                                     ("shortfall", "rule", "rule"), ("shortfall", "reason", "shortfall_reason")]:
        codes = list(VALUES[value_set]) + [""]
        frame = pd.DataFrame({column: codes, "other": ["红"] * len(codes)})
        for lang in ("zh", "en"):
            shown = display_frame(table, frame, lang)
            if lang == "zh":
                assert all(v != c for v, c in zip(shown.iloc[:, 0], codes) if c), (table, column)
                assert shown["other"].tolist() == frame["other"].tolist()  # only enumerated columns change
            pd.testing.assert_frame_equal(canonical_frame(table, shown), frame, obj=f"{table}.{column} {lang}")
    numbers = pd.DataFrame({"missing": [1, 2]})
    assert display_frame("shortfall", numbers, "zh")["缺口"].tolist() == [1, 2]


def test_text_width_counts_cjk_double():
    assert text_width("ab") == 2 and text_width("宁波") == 4 and text_width("ＡＢ") == 4 and text_width("") == 0


def test_only_whole_columns_of_real_iso_dates_become_date_cells(tmp_path):
    frame = pd.DataFrame({"ok": ["2027-01-05", "", "2027-12-31"], "impossible": ["2027-02-30", "2027-01-01", ""],
                          "mixed": ["2027-01-05", "soon", ""], "month": ["2027-01", "2027-02", "2027-03"],
                          "stamp": pd.to_datetime(["2027-01-05", "2027-01-06", None])})
    path = tmp_path / "t.xlsx"
    path.write_bytes(sheets_to_xlsx_bytes({"t": frame}))
    sheet = load_workbook(path).active
    ok, impossible, mixed, month, stamp = (list(col)[1:] for col in sheet.iter_cols())
    assert [c.is_date for c in ok] == [True, False, True] and ok[1].value is None
    assert ok[0].value.date() == date(2027, 1, 5) and ok[0].number_format == "yyyy-mm-dd"
    assert not any(c.is_date for c in impossible + mixed + month)
    assert [c.value for c in impossible] == ["2027-02-30", "2027-01-01", None]
    assert [c.is_date for c in stamp] == [True, True, False] and stamp[0].number_format == "yyyy-mm-dd"
