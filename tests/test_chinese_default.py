"""A bureau's quarter with default settings is Chinese from end to end; `--lang en` is English.

The commands run as a user runs them (a new process, no RISKPLAN_LANG, a plain C locale), on the
bundled sample district: `tier` (once, Chinese), then in each language `plan`, `check`, `report`,
`publish`, `verify-draw`. What they print
and every file a person opens (CSV headers and coded values, workbook sheets, the report and the
public page) are checked for leftover English; the English run for leftover Chinese.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import visible_text

from riskplan.domain.headers import VALUES, display_headers

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
CJK = re.compile(r"[\u3400-\u9fff]")
#: ASCII words a Chinese page or message may carry: names of files, formats, tools and units.
ALLOWED = {"csv", "xlsx", "html", "json", "png", "pdf", "toml", "riskplan", "policy", "tiers", "plan", "roster",
           "draw", "drawn", "quotas", "sampling", "frame", "manifest", "spot", "check", "inspector", "schedule",
           "shortfall", "unplaced", "public", "report", "sample", "data", "work", "main", "tmp", "pytest", "root",
           "chinesecalendar", "sha", "seed", "holidays", "extra", "workdays", "roster", "fonts", "noto", "cjk",
           "apt", "get", "install", "debian", "ubuntu", "windows", "macos", "models", "default", "uniform",
           "risk", "weighted", "numpy", "pcg", "python", "utf", "bom", "gb", "lang", "en", "zh", "quarter",
           "out", "dir", "district", "sans", "serif", "readme", "excel", "sha256"}
ENGLISH_WORD = re.compile(r"(?<![\w./-])[A-Za-z]{3,}(?![\w/-])")


def riskplan(*args, lang: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("RISKPLAN_LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    env["LANG"] = "C.UTF-8"  # a machine whose locale says nothing about the language
    words = [str(a) for a in args] + (["--lang", lang] if lang else [])
    done = subprocess.run([sys.executable, "-m", "riskplan", *words], env=env, capture_output=True,
                          text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def english_left(text: str, *paths: Path) -> list[str]:
    """English words in text meant to be Chinese (paths, file names and the allowed words aside)."""
    for path in paths:
        text = text.replace(str(path), "")
    text = re.sub(r"[\w.-]+\.(csv|xlsx|html|json|png|toml)\b", "", text)
    text = re.sub(r"\b[0-9A-Z]{18}\b|\b20\d\dQ[1-4]\b|\b[0-9a-f]{8,}\b", "", text)  # credit codes, quarters, hashes
    return [w for w in ENGLISH_WORD.findall(text) if w.lower() not in ALLOWED]


def page_text(path: Path) -> str:
    return visible_text(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def quarter(tmp_path_factory):
    """Both languages' quarter: {lang: (folder, printed output of every command)}."""
    runs = {}
    tiers = tmp_path_factory.mktemp("tiers") / "tiers.csv"
    tiered = riskplan("tier", SAMPLE, "--out", tiers)  # Chinese headers: the English run reads them too
    for lang in ("zh", "en"):
        work = tmp_path_factory.mktemp(f"quarter_{lang}")
        chosen = None if lang == "zh" else "en"
        printed = [tiered] if lang == "zh" else []
        printed.append(riskplan("plan", SAMPLE, "--quarter", "2027Q1", "--seed", "1", "--tiers", tiers,
                                "--out", work / "plan", lang=chosen))
        printed.append(riskplan("check", SAMPLE, work / "plan", lang=chosen))
        printed.append(riskplan("report", SAMPLE, work / "plan", "--out", work / "report.html", lang=chosen))
        printed.append(riskplan("publish", SAMPLE, work / "plan", "--stage", "plan", "--out", work / "public",
                                lang=chosen))
        printed.append(riskplan("verify-draw", work / "public", SAMPLE, "--tiers", work / "plan" / "tiers.csv",
                                lang=chosen))
        runs[lang] = (work, "\n".join(p.stdout + p.stderr for p in printed))
    return runs


def test_what_the_commands_print_is_chinese_by_default(quarter):
    work, printed = quarter["zh"]
    lines = [line for line in printed.splitlines() if line.strip()]
    assert len(lines) > 20
    assert "季度计划（随机种子 1）" in printed and "项排程规则检查通过" in printed and "已复现公开的抽取结果" in printed
    assert english_left(printed, work, SAMPLE, REPO) == []


def test_what_the_commands_print_is_english_on_request(quarter):
    work, printed = quarter["en"]
    assert "Plan for 2027Q1 (seed 1)" in printed and "roster checks pass" in printed
    names = pd.read_csv(SAMPLE / "enterprises.csv", dtype=str, keep_default_na=False)
    subdistricts = set(names["subdistrict"])
    shown = printed
    for name in sorted(subdistricts, key=len, reverse=True):  # the district's own names stay as written
        shown = shown.replace(name, "")
    assert not CJK.search(shown), [line for line in shown.splitlines() if CJK.search(line)][:5]


@pytest.mark.parametrize("table", ["roster", "draw", "inspector_schedule", "shortfall", "unplaced", "tiers"])
def test_plan_tables_have_chinese_headers_and_values_by_default(quarter, table):
    for lang in ("zh", "en"):
        work, _printed = quarter[lang]
        raw = (work / "plan" / f"{table}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), table  # Chinese Excel opens it as UTF-8
        frame = pd.read_csv(work / "plan" / f"{table}.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
        header = list(frame.columns)
        if lang == "zh":
            assert all(CJK.search(h) for h in header), (table, header)
        else:
            assert not any(CJK.search(h) for h in header), (table, header)
            assert header == display_headers(table, header, "en")
    zh = pd.read_csv(quarter["zh"][0] / "plan" / "roster.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert set(zh["风险等级"]) <= {labels[0] for labels in VALUES["tier"].values()}
    assert set(zh["检查类别"]) <= {labels[0] for labels in VALUES["basis"].values()}


def test_workbooks_have_chinese_sheets_by_default(quarter):
    for lang, expect_cjk in (("zh", True), ("en", False)):
        work, _printed = quarter[lang]
        for book in (work / "plan" / "plan.xlsx", work / "public" / "spot_check_plan.xlsx"):
            wb = openpyxl.load_workbook(book, read_only=True)
            for sheet in wb.worksheets:
                assert bool(CJK.search(sheet.title)) == expect_cjk, (book.name, sheet.title)
                first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True))
                headed = [str(h) for h in first if h is not None]
                assert headed and all(bool(CJK.search(h)) == expect_cjk for h in headed), (book.name, headed)


def test_the_report_and_the_public_page_read_chinese_by_default(quarter):
    work, _printed = quarter["zh"]
    for page in (work / "report.html", work / "public" / "spot_check_plan.html"):
        text = page_text(page)
        assert len(CJK.findall(text)) > 200, page.name
        assert english_left(text, work, SAMPLE) == [], page.name
        assert re.search(r'<html lang="zh', page.read_text(encoding="utf-8")), page.name
    work, _printed = quarter["en"]
    subdistricts = set(pd.read_csv(SAMPLE / "enterprises.csv", dtype=str)["subdistrict"])
    names = set(pd.read_csv(SAMPLE / "enterprises.csv", dtype=str)["name"])
    inspectors = set(pd.read_csv(SAMPLE / "inspectors.csv", dtype=str)["name"])
    for page in (work / "report.html", work / "public" / "spot_check_plan.html"):
        text = page_text(page)
        for name in sorted(subdistricts | names | inspectors, key=len, reverse=True):
            text = text.replace(name, "")
        assert not CJK.search(text), (page.name, CJK.findall(text)[:10])


def test_the_plan_records_its_language(quarter):
    for lang in ("zh", "en"):
        plan = json.loads((quarter[lang][0] / "plan" / "plan.json").read_text(encoding="utf-8"))
        assert plan["language"] == lang
