"""The public files (一公开) in the reader's language: Chinese by default, English on request.

Headers, sheet names, tier names and every sentence of the page follow the language; the
public files read back through the one alias table (riskplan.domain.headers) to the same
columns and codes in either language, which is what verify-draw relies on.
"""

import codecs
import json
import re

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import visible_text
from openpyxl import load_workbook
from test_district import CODE_B
from test_publish import district, plan_dir, read_public  # noqa: F401  (fixtures)

from riskplan import i18n
from riskplan.domain.headers import display_headers
from riskplan.export.publish import HEADER_TABLE, PUBLIC_COLUMNS, publish, public_finding
from riskplan.io import frame_to_csv_bytes

CJK = re.compile(r"[\u3400-\u9fff]")
PLAN_TABLES = ("drawn", "quotas", "sampling_frame")


def test_publish_writes_chinese_by_default(chinese, district, plan_dir, tmp_path):  # noqa: F811
    public = tmp_path / "public"
    publish(district, plan_dir, "plan", public)
    for table in PLAN_TABLES:
        raw = (public / f"{table}.csv").read_bytes()
        header = raw.decode("utf-8-sig").splitlines()[0].split(",")
        columns = PUBLIC_COLUMNS[table]
        assert header == display_headers(HEADER_TABLE[table], columns, "zh"), table
        assert all(CJK.search(h) for h in header), header
    drawn = pd.read_csv(public / "drawn.csv", dtype=str, encoding="utf-8-sig")
    assert list(drawn.columns[:4]) == ["任务名称", "抽查类型", "抽查对象名称", "统一社会信用代码"]
    assert "风险等级" not in drawn.columns  # tiers are not disclosed unless the policy says so
    assert set(drawn["抽查类型"]) == {"定向抽查"} and set(drawn["抽查时段"]) == {"2027年1月1日至2027年3月31日"}
    assert "粉尘防爆" in drawn.set_index("统一社会信用代码").loc[CODE_B, "抽查事项"]
    frame = pd.read_csv(public / "sampling_frame.csv", dtype=str, encoding="utf-8-sig")
    assert list(frame.columns) == ["风险等级", "街道/园区", "统一社会信用代码"] and set(frame["风险等级"]) == {"黄", "蓝"}
    book = load_workbook(public / "spot_check_plan.xlsx")
    assert book.sheetnames == ["抽查对象名单", "各街道抽取数量", "抽样框"]
    assert [c.value for c in book["抽样框"][1]] == list(frame.columns)
    html = (public / "spot_check_plan.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    text = visible_text(html)
    for words in ("抽查计划", "四不两直", "各风险等级抽查比例", "抽取复现信息", "分层等概率随机抽取", "“抽样框”工作表"):
        assert words in text, words
    assert not re.search(r"\b(?:the|of|and|drawn|tier|seed)\b", text), text  # no English sentence
    manifest = json.loads((public / "draw_manifest.json").read_text(encoding="utf-8"))
    assert manifest["method"] == "uniform" and "seed" in manifest  # machine-readable keys stay English


def test_publish_writes_english_on_request(district, plan_dir, tmp_path):  # noqa: F811
    public = tmp_path / "public"
    publish(district, plan_dir, "plan", public, lang="en")
    for table in PLAN_TABLES:
        header = (public / f"{table}.csv").read_bytes().decode("utf-8-sig").splitlines()[0]
        assert header.split(",") == list(PUBLIC_COLUMNS[table]) and not CJK.search(header)
    assert load_workbook(public / "spot_check_plan.xlsx").sheetnames == list(PLAN_TABLES)
    html = (public / "spot_check_plan.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "double-random spot-check plan" in html
    page = visible_text(html)
    names = {"海曙金属制品厂", "南门街道", "西门街道"}  # the data's own names stay as written
    assert not CJK.search(page.translate({ord(c): None for n in names for c in n})), page


def test_chinese_and_english_public_files_read_back_to_the_same_tables(district, plan_dir, tmp_path):  # noqa: F811
    publish(district, plan_dir, "plan", tmp_path / "zh", lang="zh")
    publish(district, plan_dir, "plan", tmp_path / "en", lang="en")
    for table in PLAN_TABLES:
        zh, en = (read_public(tmp_path / lang / f"{table}.csv", table) for lang in ("zh", "en"))
        assert list(zh.columns) == list(PUBLIC_COLUMNS[table])
        assert table == "drawn" or (zh["tier"].notna()).all()
        if table == "drawn":  # the check items, task, type and period are words for people, in their language
            words = ["check_items", "task_name", "check_type", "period"]
            zh, en = zh.drop(columns=words), en.drop(columns=words)
        pd.testing.assert_frame_equal(zh, en)
    zh_m, en_m = (json.loads((tmp_path / lang / "draw_manifest.json").read_text(encoding="utf-8"))
                  for lang in ("zh", "en"))
    # the same draw; only the fingerprints of the files (written in their language) differ
    assert set(zh_m.pop("published_sha256")) == set(en_m.pop("published_sha256"))
    assert zh_m == en_m


def test_public_csvs_are_written_by_the_excel_friendly_writer(district, plan_dir, tmp_path):  # noqa: F811
    """The CSVs come from io.frame_to_csv_bytes (UTF-8 with a BOM, for Chinese Excel): the same
    bytes as that writer gives for the labelled table."""
    public = tmp_path / "public"
    publish(district, plan_dir, "plan", public, lang="zh")
    raw = (public / "quotas.csv").read_bytes()
    writer_bom = frame_to_csv_bytes(pd.DataFrame({"a": ["x"]})).startswith(codecs.BOM_UTF8)
    assert raw.startswith(codecs.BOM_UTF8) == writer_bom
    table = pd.read_csv(public / "quotas.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert raw == frame_to_csv_bytes(table)


def test_results_stage_in_both_languages(district, plan_dir, tmp_path):  # noqa: F811
    results = tmp_path / "results.csv"
    pd.DataFrame({"visit_id": ["V00001", "V00002", "V00003"], "date": ["2027-01-12", "2027-02-03", "2027-03-09"],
                  "hazards_found": [1, 3, 0], "major_hazards_found": [0, 1, 0], "penalized": [0, 1, 0],
                  "outcome": ["", "已整改", ""]}).to_csv(results, index=False)
    publish(district, plan_dir, "results", tmp_path / "zh", results_path=results, lang="zh")
    publish(district, plan_dir, "results", tmp_path / "en", results_path=results, lang="en")
    zh = pd.read_csv(tmp_path / "zh" / "results.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(zh.columns) == ["任务名称", "抽查对象名称", "统一社会信用代码", "街道/园区", "抽查时段", "检查发现",
                                "检查结果"]
    assert load_workbook(tmp_path / "zh" / "spot_check_results.xlsx").sheetnames == ["检查结果"]
    finding = zh.set_index("统一社会信用代码").loc[CODE_B, "检查发现"]
    assert finding == "发现安全隐患 3 项；其中重大事故隐患 1 项，将组织复查；已依法实施行政处罚"
    en = pd.read_csv(tmp_path / "en" / "results.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(en.columns) == list(PUBLIC_COLUMNS["results"])
    assert en.set_index("credit_code").loc[CODE_B, "finding"] == (
        "3 hazards found; 1 of them major; a re-inspection will follow; administrative penalty imposed")
    assert "抽查结果" in (tmp_path / "zh" / "spot_check_results.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("counts", "lang", "expected"), [
    ((0, 0, 0), "zh", "未发现安全隐患"),
    ((0, 0, 1), "zh", "未发现安全隐患；已依法实施行政处罚"),
    ((1, 0, 0), "en", "1 hazard found"),
    ((1, 0, 0), "zh", "发现安全隐患 1 项"),
    ((0, 2, 0), "en", "2 hazards found; 2 of them major; a re-inspection will follow"),
])
def test_public_finding_wording(counts, lang, expected):
    assert public_finding(*counts, lang=lang) == expected


def test_publish_command_is_chinese_by_default_and_english_with_lang(chinese, district, plan_dir,  # noqa: F811
                                                                     tmp_path):
    from riskplan.cli import main

    runner = CliRunner()
    done = runner.invoke(main, ["publish", str(district), str(plan_dir), "--stage", "plan", "--out",
                                str(tmp_path / "zh")])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "zh" / "drawn.csv").read_bytes().decode("utf-8-sig").startswith("任务名称,抽查类型,抽查对象名称")
    refused = runner.invoke(main, ["publish", str(district), str(plan_dir), "--stage", "results", "--out",
                                   str(tmp_path / "r")])
    assert refused.exit_code == 2 and "检查结果文件" in refused.output
    assert not (tmp_path / "r").exists()
    done = runner.invoke(main, ["publish", str(district), str(plan_dir), "--stage", "plan", "--lang", "en",
                                "--out", str(tmp_path / "en")])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "en" / "drawn.csv").read_bytes().decode("utf-8-sig").startswith("task_name,check_type,name")


def test_docs_list_the_headers_publish_writes():
    """docs/report.md's table of public headers is the alias table's (both change together)."""
    from pathlib import Path

    from riskplan.export.publish import sheet_name

    doc = (Path(__file__).resolve().parents[1] / "docs" / "report.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (?:`(\w+)` \(([^ ]+) / (\w+)\))? ?\| `(\w+)` \| (\S+) \|$", doc, flags=re.M)
    listed, table = {}, None
    for name, zh_sheet, en_sheet, column, header in rows:
        if name:
            table = name
            with i18n.language("zh"):
                assert zh_sheet == sheet_name(name) and en_sheet == name
        listed.setdefault(table, []).append((column, header))
    assert set(listed) == {"drawn", "quotas", "sampling_frame", "results"}
    for name, pairs in listed.items():
        columns = PUBLIC_COLUMNS["sampling_frame_risk_weighted" if name == "sampling_frame" else name]
        assert [c for c, _h in pairs] == list(columns), name
        assert [h for _c, h in pairs] == display_headers(HEADER_TABLE[name], columns, "zh"), name
