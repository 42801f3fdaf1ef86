"""What the solver and the draw tell people is Chinese by default and English on request: the
progress lines, the shortfall reasons and suggestions written to shortfall.csv, the draw's
why_not and its infeasibility explanations. The language changes words only: the roster, the
draw and the shortfall figures are the same in both."""

from __future__ import annotations

import re

import pytest
from test_draw import Q1, weighted_district
from test_shortfall import starved_in_february
from test_solver import make_problem

from riskplan import i18n
from riskplan.domain.policy import PolicyError
from riskplan.domain.roster import Obligation
from riskplan.plan.draw import draw_spot_checks
from riskplan.solve.shortfall import explain_shortfall
from riskplan.solve.solve import solve_roster

CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def starved():
    p = starved_in_february()
    with i18n.language("en"):
        res = solve_roster(p, seed=1, time_limit=30)
    return p, res


def test_shortfall_is_chinese_by_default_with_the_same_figures(starved, chinese):
    p, res = starved
    zh = explain_shortfall(p, res.roster)
    with i18n.language("en"):
        en = explain_shortfall(p, res.roster)
    keys = ["rule", "tier", "subdistrict", "month", "missing", "reason"]
    assert zh[keys].equals(en[keys])  # the reason category stays a code
    assert all(CJK.search(s) for s in zh["suggestion"])
    assert not any(CJK.search(s) for s in en["suggestion"])
    full = [s for s in zh["suggestion"] if "人周" in s]
    weeks_zh = sorted(int(n) for s in full for n in re.findall(r"增加 (\d+) 人周", s))
    weeks_en = sorted(int(n) for s in en["suggestion"] for n in re.findall(r"\+(\d+) inspector-weeks", s))
    assert weeks_zh and weeks_zh == weeks_en


def test_a_month_wide_suggestion_is_said_once_per_rule_tier_and_month(starved):
    p, res = starved
    sf = explain_shortfall(p, res.roster)
    capacity = sf[(sf["reason"] == "capacity") & (sf["rule"] != "drawn")]
    groups = capacity.groupby(["rule", "tier", "month"])
    assert any(len(g) > 1 for _k, g in groups), "the case needs a group of several subdistricts"
    for _key, group in groups:
        rows = list(group.itertuples())
        assert re.search(r"\+\d+ inspector-weeks in", rows[0].suggestion), rows[0].suggestion
        for row in rows[1:]:
            assert row.suggestion == f"see the row of {rows[0].subdistrict}: the need is for the whole month"


def test_unplaced_reasons_follow_the_language(starved, chinese):
    from riskplan.solve.result import state_from_roster
    from riskplan.solve.shortfall import diagnose
    from riskplan.solve.compile import compile_problem

    p, res = starved
    inst = compile_problem(p)
    state = state_from_roster(inst, res.roster)
    by_id = {r.visit_id: k for k, r in enumerate(inst.requests)}
    r = by_id[res.roster.unplaced[0].request.visit_id]
    zh = diagnose(inst, state, r)
    with i18n.language("en"):
        en = diagnose(inst, state, r)
    assert zh.category == en.category and CJK.search(zh.sentence) and not CJK.search(en.sentence)
    assert en.sentence == res.roster.unplaced[0].reason  # what the English solve wrote


def test_progress_lines_are_chinese_by_default(chinese):
    p = make_problem(5, n_insp=6, n_red=4, n_orange=2, n_follow=0, n_pinned=1, n_drawn=4)
    zh_lines: list[str] = []
    zh = solve_roster(p, seed=2, time_limit=20, progress=zh_lines.append)
    with i18n.language("en"):
        en_lines: list[str] = []
        en = solve_roster(p, seed=2, time_limit=20, progress=en_lines.append)
    assert [(v.request.visit_id, v.date, v.inspectors) for v in zh.roster.visits] == \
        [(v.request.visit_id, v.date, v.inspectors) for v in en.roster.visits]
    assert any("第一阶段" in line for line in zh_lines) and any("第三阶段" in line for line in zh_lines)
    assert all(CJK.search(line) for line in zh_lines)
    assert any("phase 1 week plan" in line for line in en_lines)
    assert not any(CJK.search(line) for line in en_lines)


def test_why_not_is_chinese_by_default(tiny_district, chinese):
    t = tiny_district(
        enterprises=[{"enterprise_id": e, "tier": "yellow"} for e in ("Y1", "Y2", "Y3", "Y4")],
        inspections=[{"enterprise_id": "Y2", "date": "2026-10-03", "inspectors": "I01"}])
    district = t.load()
    ob = Obligation("Y4", "pinned_2", "pinned", Q1.start, Q1.end)
    zh = draw_spot_checks(district, t.tier_series, Q1, [ob], seed=1).frame.set_index("enterprise_id")
    with i18n.language("en"):
        en = draw_spot_checks(district, t.tier_series, Q1, [ob], seed=1).frame.set_index("enterprise_id")
    assert zh.drop(columns="why_not").equals(en.drop(columns="why_not"))
    assert zh.at["Y2", "why_not"] == "已于 2026-10-03 检查，在本季度开始前 90 天之内"
    assert zh.at["Y4", "why_not"] == "本季度已有必查任务：pinned_2"
    assert en.at["Y2", "why_not"] == "visited 2026-10-03, within 90 days before the quarter"
    assert zh.at["Y1", "why_not"] == en.at["Y1", "why_not"] == ""


def test_an_impossible_draw_is_explained_in_chinese(chinese):
    district, frame = weighted_district({"A": 40, "Tiny": 4})  # Tiny: 0.1 × 4 -> quota 0
    with pytest.raises(PolicyError) as caught:
        draw_spot_checks(district, frame, Q1, [], 1)
    text = str(caught.value)
    assert "风险等级黄、街道Tiny" in text and "min_inclusion = 0.01" in text and "[tiers.yellow] sample_share" in text
