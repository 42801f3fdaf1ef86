"""`plan` and `check` speak Chinese by default and English on request, and the checker reads a
plan folder written with Chinese headers and values as well as an English one."""

from __future__ import annotations

import re
from datetime import timedelta

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import first_fit_solve, make_tiny_district
from test_checker import build_base, setv, variant

from riskplan import i18n
from riskplan.check.checker import ROSTER_RULES, check_roster
from riskplan.check.context import RULE_LABELS, rule_label
from riskplan.cli import main
from riskplan.cli.base import _cells, short_help, wrap_text
from riskplan.domain.headers import COLUMN_VALUES, display_header, value_label
from riskplan.load.district import DistrictError
from riskplan.pipeline import run_plan

CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_base(tmp_path_factory.mktemp("base"))


def to_chinese(out, table: str, file: str) -> None:
    """Rewrite one plan table the way a Chinese plan folder holds it: Chinese headers and values."""
    frame = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=out / file, dtype=str, keep_default_na=False)
    for column in frame.columns:
        value_set = COLUMN_VALUES.get((table, column))
        if value_set:
            frame[column] = [value_label(value_set, x, "zh") for x in frame[column]]
    frame.columns = [display_header(table, c, "zh") for c in frame.columns]
    frame.to_csv(out / file, index=False, encoding="utf-8")


def chinese_plan(base, tmp_path, edit_roster=None):
    district, out = variant(base, tmp_path, edit_roster=edit_roster)
    to_chinese(out, "roster", "roster.csv")
    to_chinese(out, "draw", "draw.csv")
    return district, out


def test_check_prints_chinese_by_default_and_english_on_request(base, tmp_path, chinese):
    runner = CliRunner()
    ok = runner.invoke(main, ["check", str(base[0]), str(base[1])])
    assert ok.exit_code == 0 and f"全部 {len(ROSTER_RULES)} 项排程规则检查通过" in ok.stdout
    district, out = variant(base, tmp_path, edit_roster=setv(V00005={"date": "2027-02-06"}))
    zh = runner.invoke(main, ["check", str(district), str(out)])
    assert zh.exit_code == 1
    assert re.search(r"【须在工作日且在检查时限内（on_working_day_in_window）】2027Q1-[0-9A-F]{6}-00005 R1：2027-02-06 不是工作日",
                     zh.stdout)
    assert "共 1 处违反规则：须在工作日且在检查时限内（on_working_day_in_window） 1 处" in zh.stderr
    en = runner.invoke(main, ["check", str(district), str(out), "--lang", "en"])
    assert en.exit_code == 1
    assert re.search(r"\[on_working_day_in_window\] 2027Q1-[0-9A-F]{6}-00005 R1: 2027-02-06 is not a working day",
                     en.stdout)
    assert "1 violation(s): on_working_day_in_window 1" in en.stderr
    assert not CJK.search(en.output)


def test_every_rule_has_a_chinese_name_that_keeps_its_code(chinese):
    assert set(RULE_LABELS) == {r.__name__ for r in ROSTER_RULES}
    for rule in RULE_LABELS:
        label = rule_label(rule)
        assert CJK.search(label) and label.endswith(f"（{rule}）"), label
        with i18n.language("en"):
            assert rule_label(rule) == rule
    assert rule_label("team_of_certified_inspectors").startswith("每次检查须两名持证执法人员")
    assert rule_label("no_conflict_of_interest").startswith("回避")


def test_a_planted_planner_bug_is_named_in_both_languages(tmp_path, monkeypatch, chinese):
    """test_check_planted's late orange deadline, read by a clerk and by an English reader."""
    import riskplan.plan.obligations as planner_obligations
    import riskplan.plan.problem as planner_problem

    real = planner_obligations.find_obligations

    def plus_one_day(district, tiers, quarter, calendar=None):
        return [o.__class__(**{**o.__dict__, "window_end": o.window_end + timedelta(days=1)})
                if o.kind == "orange_due" else o for o in real(district, tiers, quarter, calendar)]

    monkeypatch.setattr(planner_problem, "find_obligations", plus_one_day)
    t = make_tiny_district(tmp_path / "d", enterprises=[{"enterprise_id": "O1", "tier": "orange"},
                                                         {"enterprise_id": "B01", "tier": "blue"}],
                           inspections=[{"enterprise_id": "O1", "date": "2026-08-06", "inspectors": "I01;I02"}])
    out = tmp_path / "out"
    run_plan(t.path, "2027Q1", 3, t.tiers_csv, out_dir=out, solve=first_fit_solve)
    monkeypatch.undo()
    for var in (i18n.ENV_VAR, "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    zh = CliRunner().invoke(main, ["check", str(t.path), str(out)])
    assert zh.exit_code == 1
    assert "【排程表内容与台账一致（roster_well_formed）】" in zh.stdout
    assert "按其对应的必查事项应为 2027-01-01 至 2027-02-04" in zh.stdout
    en = CliRunner().invoke(main, ["check", str(t.path), str(out), "--lang", "en"])
    assert en.exit_code == 1
    assert "[roster_well_formed]" in en.stdout and "the obligations it serves give 2027-01-01 to 2027-02-04" in en.stdout


def test_a_chinese_plan_folder_checks_like_the_english_one(base, tmp_path):
    district, out = chinese_plan(base, tmp_path)
    header = (out / "roster.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "检查编号" in header and "visit_id" not in header  # the folder really is Chinese
    assert "随机抽查" in (out / "roster.csv").read_text(encoding="utf-8")
    assert "是否抽中" in (out / "draw.csv").read_text(encoding="utf-8")
    assert check_roster(district, out) == []
    assert CliRunner().invoke(main, ["check", str(district), str(out)]).exit_code == 0


def test_chinese_values_in_a_plan_folder_are_read_not_ignored(base, tmp_path):
    district, out = chinese_plan(base, tmp_path / "tier", edit_roster=setv(V00013={"tier": "blue"}))
    found = check_roster(district, out)
    assert {v.rule for v in found} == {"roster_well_formed"}
    assert "tier 'blue' differs from tiers.csv ('yellow')" in found[0].message

    district, out = chinese_plan(base, tmp_path / "draw")
    draw = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=out / "draw.csv", dtype=str, keep_default_na=False)
    draw.loc[draw["统一社会信用代码"] == "Y08", "是否抽中"] = "是"
    draw.to_csv(out / "draw.csv", index=False)
    found = check_roster(district, out)
    assert [(v.rule, v.enterprise_id) for v in found] == [("exact_draw", "Y08")]
    assert "drawn=yes" in found[0].message


def test_a_chinese_roster_with_an_unknown_basis_is_reported(base, tmp_path):
    district, out = chinese_plan(base, tmp_path)
    roster = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=out / "roster.csv", dtype=str, keep_default_na=False)
    roster.loc[roster["检查编号"].str.endswith("-00013"), "检查类别"] = "临时检查"
    roster.to_csv(out / "roster.csv", index=False)
    found = check_roster(district, out)
    assert any(v.rule == "roster_well_formed" and "basis '临时检查' is not one of" in v.message for v in found)


def test_two_headers_naming_one_column_are_refused(base, tmp_path):
    district, out = chinese_plan(base, tmp_path)
    roster = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=out / "roster.csv", dtype=str, keep_default_na=False)
    roster["date"] = roster["检查日期"]
    roster.to_csv(out / "roster.csv", index=False)
    with pytest.raises(DistrictError, match=r"roster.csv, row 1: headers '检查日期' and 'date' both name the column date"):
        check_roster(district, out)


def test_a_bad_cell_in_a_chinese_roster_names_the_header_as_written(base, tmp_path, chinese):
    district, out = chinese_plan(base, tmp_path)
    roster = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=out / "roster.csv", dtype=str, keep_default_na=False)
    roster.loc[roster["检查编号"].str.endswith("-00004"), "检查日期"] = "11/01/2027"
    roster.to_csv(out / "roster.csv", index=False)
    r = CliRunner().invoke(main, ["check", str(district), str(out)])
    assert r.exit_code == 2
    assert "“检查日期”列" in r.output and "“11/01/2027”不是 ISO 格式的日期" in r.output
    missing = roster.drop(columns=["检查日期"])
    missing.to_csv(out / "roster.csv", index=False)
    r = CliRunner().invoke(main, ["check", str(district), str(out)])
    assert r.exit_code == 2 and "“检查日期”列" in r.output and "缺少必需的列" in r.output


def test_plan_prints_its_summary_in_chinese_by_default(tmp_path, monkeypatch, chinese):
    import riskplan.solve.solve as solver

    monkeypatch.setattr(solver, "solve_roster", first_fit_solve)
    t = make_tiny_district(tmp_path / "d")
    args = ["plan", str(t.path), "--quarter", "2027Q1", "--seed", "3", "--tiers", str(t.tiers_csv)]
    zh = CliRunner().invoke(main, args + ["--out", str(tmp_path / "zh"), "--time-limit", "10"])
    assert zh.exit_code == 0, zh.output
    assert "2027Q1 季度计划（随机种子 3）" in zh.stdout and "按风险等级：红 " in zh.stdout
    assert "按检查类别：" in zh.stdout and "已写入" in zh.stdout
    en = CliRunner().invoke(main, args + ["--out", str(tmp_path / "en"), "--time-limit", "10", "--lang", "en"])
    assert en.exit_code == 0, en.output
    assert "Plan for 2027Q1 (seed 3)" in en.stdout and "  by tier:  red " in en.stdout
    assert not CJK.search(en.stdout.replace(str(tmp_path), ""))


@pytest.mark.parametrize(("args", "zh_words", "en_words"), [
    (["plan", "DIR", "--seed", "1", "--out", "OUT"], ["错误：缺少选项 '--quarter'", "用法："],
     ["Error: Missing option '--quarter'", "Usage:"]),
    (["plan", "DIR", "--quarter", "2027Q1", "--seed", "-1", "--out", "OUT"],
     ["错误：'--seed' 的值无效：-1 不在允许范围 x>=0 内。"], ["Invalid value for '--seed': -1 is not in the range x>=0."]),
    (["check", "DIR"], ["缺少参数 'OUT_DIR'"], ["Missing argument 'OUT_DIR'"]),
    (["chekc"], ["没有命令 'chekc'", "您是不是要输入 'check'？"], ["No such command 'chekc'"]),
])
def test_clicks_own_errors_are_chinese_by_default(args, zh_words, en_words, chinese):
    zh = CliRunner().invoke(main, args)
    assert zh.exit_code == 2
    for words in zh_words:
        assert words in zh.output, zh.output
    en = CliRunner().invoke(main, args + ["--lang", "en"])
    assert en.exit_code == 2
    for words in en_words:
        assert words in en.output, en.output
    assert not CJK.search(en.output)


def test_the_command_list_is_cut_in_columns_not_characters(chinese):
    listing = CliRunner().invoke(main, ["--help"]).output
    lines = listing.split("命令:")[1].strip("\n").splitlines()
    assert lines and all(_cells(line) <= 80 for line in lines), lines
    check_line = next(line for line in lines if line.strip().startswith("check"))
    assert "逐条核对" in check_line
    long = "为辖区数据文件夹制定本季度的双随机检查排程，写入计划文件夹，并核对每条规则，再写出报告"
    cut = short_help(long, 45)
    assert _cells(cut) <= 45 and cut.endswith("…") and long.startswith(cut[:-1])
    assert cut == "为辖区数据文件夹制定本季度的双随机检查排程…"  # cut at the clause, not mid-word
    assert short_help("逐条核对计划。有违反时退出码为 1。", 45) == "逐条核对计划"  # the first sentence
    assert short_help("一" * 30, 45) == "一" * 21 + "…"  # no clause: cut at the column limit
    english = "Verify the plan in OUT_DIR against every roster rule; exit 1 if any is broken."
    assert short_help(english, 45) == "Verify the plan in OUT_DIR against every..."  # click's own


def test_chinese_help_is_wrapped_in_columns():
    text = "若排程为贪心备用方案（被中断或超过时间限制），退出码为 3，除非指定 --accept-fallback。" * 2
    lines = wrap_text(text, 40, "  ", "  ").splitlines()
    assert len(lines) > 2 and all(_cells(line) <= 42 for line in lines), lines  # a closing mark may hang
    assert not any(line.strip()[0] in "，。）" for line in lines) and not any(line.endswith("（") for line in lines)
    assert any(_cells(line) == 42 and line.endswith("，") for line in lines)  # the one case allowed past 40
    assert "--accept-fallback" in "".join(lines)  # never broken inside an ASCII word
    assert "".join(line.strip() for line in lines).replace(" ", "") == text.replace(" ", "")
    assert wrap_text("plain English help", 10) == "plain\nEnglish\nhelp"  # click's own wrapping
