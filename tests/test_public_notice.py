"""The public notice a bureau issues: its issuer from [publish], no software name, no tier
unless disclosed, and no inspector or visit date in any public file (both stages)."""

from __future__ import annotations

import re

import pandas as pd
from openpyxl import load_workbook

from riskplan.export.publish import publish
from riskplan.pipeline import run_plan

PUBLISH = """[tiers.yellow]
sample_share = 0.5
[tiers.blue]
sample_share = 0.4
[publish]
issuing_bureau = "海曙区应急管理局"
task_name = "2027年第一季度安全生产双随机抽查"
contact = "执法大队 0574-00000000"
publication_date = 2026-12-28
"""


def public_text(folder):
    texts = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".xlsx":
            book = load_workbook(path)
            texts += [str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.value is not None]
        else:
            assert path.suffix in (".csv", ".html", ".json") or path.name.startswith("."), path  # no PDF here
            texts.append(path.read_text(encoding="utf-8"))
    return "\n".join(texts)


def secrets_of(district, plan_dir):
    """Every inspector id and name and every visit date (ISO and as a notice writes a date)."""
    inspectors = district.load().inspectors
    roster = pd.read_csv(plan_dir / "roster.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    dates = [pd.Timestamp(d).date() for d in roster["date"] if d]
    written = {d.isoformat() for d in dates} | {f"{d.year}年{d.month}月{d.day}日" for d in dates}
    written |= {f"{d.day} {d.strftime('%B')} {d.year}" for d in dates}
    # the quarter's own first and last day are the published period, not a visit
    return list(inspectors["inspector_id"]) + list(inspectors["name"]), written


def planned(tiny_district, tmp_path, policy=PUBLISH):
    district = tiny_district(policy=policy)
    out = tmp_path / "plan"
    run_plan(district.path, "2027Q1", 4, district.tiers_csv, out_dir=out, time_limit=10)
    return district, out


def test_no_inspector_and_no_visit_date_in_any_public_file(tiny_district, tmp_path):
    district, out = planned(tiny_district, tmp_path)
    people, dates = secrets_of(district, out)
    assert people and dates
    roster = pd.read_csv(out / "roster.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    results = tmp_path / "results.csv"
    done = roster.iloc[: max(1, len(roster) - 2)]
    pd.DataFrame({"visit_id": done["visit_id"], "date": done["date"], "hazards_found": 1, "major_hazards_found": 0,
                  "penalized": 0, "outcome": "rectified_on_site"}).to_csv(results, index=False)
    for lang in ("zh", "en"):
        publish(district.path, out, "plan", tmp_path / f"plan-{lang}", lang=lang)
        publish(district.path, out, "results", tmp_path / f"results-{lang}", lang=lang, results_path=results)
        for folder in (tmp_path / f"plan-{lang}", tmp_path / f"results-{lang}"):
            text = public_text(folder)
            for secret in people:
                assert not re.search(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", text), (folder, secret)
            quarter_ends = {"2027-01-01", "2027-03-31", "2027年1月1日", "2027年3月31日", "1 January 2027",
                            "31 March 2027"}
            for day in dates - quarter_ends:
                assert day not in text, (folder, day)


def test_the_notice_names_its_issuer_not_the_software_and_hides_tiers(tiny_district, tmp_path):
    district, out = planned(tiny_district, tmp_path)
    publish(district.path, out, "plan", tmp_path / "public", lang="zh")
    html = (tmp_path / "public" / "spot_check_plan.html").read_text(encoding="utf-8")
    assert "海曙区应急管理局" in html and "2026年12月28日" in html and "执法大队 0574-00000000" in html
    assert "size: A4" in html
    assert "riskplan" not in html.split('<p class="verify')[0].split("抽取复现信息")[0].lower()
    drawn = pd.read_csv(tmp_path / "public" / "drawn.csv", dtype=str, encoding="utf-8-sig")
    assert list(drawn.columns) == ["任务名称", "抽查类型", "抽查对象名称", "统一社会信用代码", "街道/园区", "抽查事项",
                                   "检查实施机关", "抽查时段"]
    assert set(drawn["任务名称"]) == {"2027年第一季度安全生产双随机抽查"}
    assert set(drawn["检查实施机关"]) == {"海曙区应急管理局"}
    assert "风险等级" not in html.split("抽查对象名单")[-1].split("</table>")[0]
    assert "不在抽取范围内" in html  # the frame's disclosure, said plainly
    district2, out2 = planned(tiny_district, tmp_path / "b", PUBLISH + "disclose_tiers = true\n")
    publish(district2.path, out2, "plan", tmp_path / "shown", lang="zh")
    shown = pd.read_csv(tmp_path / "shown" / "drawn.csv", dtype=str, encoding="utf-8-sig")
    assert set(shown["风险等级"]) <= {"黄", "蓝"} and len(shown)


def test_results_keep_the_recorded_outcome_and_mark_pending_visits(tiny_district, tmp_path):
    district, out = planned(tiny_district, tmp_path)
    roster = pd.read_csv(out / "roster.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    drawn = roster[roster["basis"] == "drawn"]
    assert len(drawn) >= 2
    results = tmp_path / "results.csv"
    first = drawn.iloc[:1]
    pd.DataFrame({"visit_id": first["visit_id"], "date": first["date"], "hazards_found": 2, "major_hazards_found": 0,
                  "penalized": 0, "outcome": "当场整改"}).to_csv(results, index=False)
    publish(district.path, out, "results", tmp_path / "public", lang="zh", results_path=results)
    table = pd.read_csv(tmp_path / "public" / "results.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    row = table.set_index("统一社会信用代码").loc[first["enterprise_id"].iloc[0]]
    assert row["检查结果"] == "当场整改" and row["检查发现"] == "发现安全隐患 2 项"
    assert "限期整改" not in "".join(table["检查发现"])
    draw = pd.read_csv(out / "draw.csv", dtype=str, encoding="utf-8-sig")
    assert len(table) == (draw["drawn"] == "yes").sum()
    assert (table["检查结果"] == "待检查").sum() == len(table) - 1
    html = (tmp_path / "public" / "spot_check_results.html").read_text(encoding="utf-8")
    assert f"有 {len(table) - 1} 家尚未检查" in html
