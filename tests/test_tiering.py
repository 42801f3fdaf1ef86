"""Tiers from calibrated probabilities, the direct-red override, and reasons from contributions."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_features import toy_district

from riskplan import i18n
from riskplan.cli import main
from riskplan.domain.policy import Policy, TieringRules
from riskplan.load.district import load_district
from riskplan.score.cutoffs import tiers_from_probability
from riskplan.score.features import FEATURE_GROUPS, build_features, describe_group
from riskplan.score.model_files import load_default_model
from riskplan.score.tiering import (
    MIN_REASON_LOGODDS,
    TIER_COLUMNS,
    TYPICAL,
    tier_counts,
    tier_district,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def model():
    return load_default_model()


@pytest.fixture(scope="module")
def sample():
    return load_district(SAMPLE)


@pytest.fixture(scope="module")
def sample_tiers(sample, model):
    with i18n.language("en"):  # module-scoped: made before the per-test English default applies
        return tier_district(sample, model)


def test_thresholds_are_inclusive_cut_offs():
    rules = TieringRules(method="thresholds", red=0.30, orange=0.12, yellow=0.04)
    got = tiers_from_probability(np.array([0.30, 0.2999, 0.12, 0.1199, 0.04, 0.0399, 0.0]), rules)
    assert list(got) == ["red", "orange", "orange", "yellow", "yellow", "blue", "blue"]


def test_shares_give_the_riskiest_share_each_tier_and_never_split_ties():
    rules = TieringRules(method="shares", red=0.02, orange=0.06, yellow=0.25)
    p = np.random.default_rng(0).random(1000)
    got = tiers_from_probability(p, rules)
    counts = pd.Series(got).value_counts()
    assert (counts["red"], counts["orange"], counts["yellow"], counts["blue"]) == (20, 60, 250, 670)
    assert p[got == "red"].min() > p[got == "orange"].max() > p[got == "yellow"].max()
    tied = np.array([0.9, 0.5, 0.5, 0.5, 0.1])
    got = tiers_from_probability(tied, TieringRules(method="shares", red=0.2, orange=0.2, yellow=0.2))
    assert list(got) == ["red", "orange", "orange", "orange", "blue"]


def test_every_enterprise_gets_the_documented_columns(sample, sample_tiers):
    assert tuple(sample_tiers.columns) == TIER_COLUMNS
    assert list(sample_tiers["enterprise_id"]) == list(sample.enterprises["enterprise_id"])
    assert sample_tiers["probability"].between(0, 1).all()
    assert set(sample_tiers["tier"]) <= {"red", "orange", "yellow", "blue"}
    assert (sample_tiers["reason_1"] != "").all()


def test_tiers_follow_the_policy_thresholds_apart_from_overrides(sample, sample_tiers):
    plain = sample_tiers[sample_tiers["override"] == 0]
    expect = tiers_from_probability(plain["probability"].to_numpy(), sample.policy.tiering)
    assert list(plain["tier"]) == list(expect)


def test_direct_red_override_beats_a_low_score(model):
    d = toy_district(
        [{"enterprise_id": "F", "standardization_grade": 1}, {"enterprise_id": "M", "standardization_grade": 1},
         {"enterprise_id": "OLD", "standardization_grade": 1}, {"enterprise_id": "OK", "standardization_grade": 1}],
        accidents=[("F", "2026-09-01", "minor", 1), ("M", "2026-03-01", "major", 0),
                   ("OLD", "2025-12-01", "extraordinary", 40)],
        inspections=[("OK", "2026-12-31", 0, 0, 0)])
    t = tier_district(d, model).set_index("enterprise_id")
    assert t.loc["F", "tier"] == "red" and t.loc["F", "override"] == 1
    assert t.loc["F", "reason_1"] == "direct red: minor accident with 1 death on 2026-09-01"
    assert t.loc["M", "tier"] == "red" and t.loc["M", "override"] == 1
    assert t.loc["OLD", "override"] == 0       # 396 days before the as-of date 2027-01-01
    assert t.loc["OK", "override"] == 0
    assert t.loc["F", "probability"] < 0.30    # red by the rule, not the score


@pytest.mark.parametrize("severity, deaths", [("minor", 1), ("major", 0), ("extraordinary", 0)])
def test_direct_red_override_counts_day_minus_365_but_not_day_minus_366(model, severity, deaths):
    # as of 2027-01-01: 2026-01-01 is exactly 365 days before (counts), 2025-12-31 is 366 (does not)
    d = toy_district(
        [{"enterprise_id": "AT365", "standardization_grade": 1},
         {"enterprise_id": "AT366", "standardization_grade": 1}],
        accidents=[("AT365", "2026-01-01", severity, deaths), ("AT366", "2025-12-31", severity, deaths)])
    t = tier_district(d, model, as_of=pd.Timestamp("2027-01-01").date()).set_index("enterprise_id")
    assert t.loc["AT365", "override"] == 1 and t.loc["AT365", "tier"] == "red"
    assert t.loc["AT365", "reason_1"].startswith("direct red:")
    assert t.loc["AT366", "override"] == 0
    assert not t.loc["AT366", "reason_1"].startswith("direct red:")


def test_reasons_are_the_largest_contributions_in_plain_words(sample, model, sample_tiers):
    X = build_features(sample, pd.Timestamp("2027-01-01"))   # the reasons describe findings as recorded
    # the model scores the features it was trained on (team-adjusted findings for the default model)
    contrib = model.contributions(build_features(sample, pd.Timestamp("2027-01-01"), model.inspector_adjustment))
    groups = list(FEATURE_GROUPS)
    rows = np.flatnonzero(sample_tiers["override"].to_numpy() == 0)[:300]
    for i in rows:
        c = contrib.iloc[i]
        sign = 1 if c.sum() >= 0 else -1
        big = [g for g in groups if abs(c[g]) >= MIN_REASON_LOGODDS]  # smaller ones are never reasons
        same = sorted((g for g in big if sign * c[g] > 0), key=lambda g: -abs(c[g]))
        other = sorted((g for g in big if sign * c[g] < 0), key=lambda g: -abs(c[g]))
        top = (same + other)[:3]
        want = [f"{describe_group(g, X.iloc[i])} ({'raises' if c[g] > 0 else 'lowers'} risk)" for g in top]
        want = want or [TYPICAL]  # nothing sets it apart: said in words, never left blank
        got = [r for r in sample_tiers.iloc[i][["reason_1", "reason_2", "reason_3"]] if r]
        assert got == want
    # the direction matters: riskier-than-reference rows lead with what raises their risk
    assert any(sample_tiers.iloc[i]["reason_1"].endswith("(lowers risk)") for i in rows)


def test_the_riskiest_enterprises_are_explained_by_risk_raising_reasons(sample_tiers):
    top = sample_tiers.nlargest(20, "probability")
    assert top["reason_1"].str.endswith("(raises risk)").all()


def test_as_of_defaults_to_the_day_after_the_history(sample, model, sample_tiers):
    explicit = tier_district(sample, model, pd.Timestamp("2027-01-01").date())
    pd.testing.assert_frame_equal(explicit, sample_tiers)


def test_shares_policy_is_applied(sample, model):
    sample_shares = load_district(SAMPLE)
    sample_shares.policy = Policy.model_validate({"tiering": {"method": "shares", "red": 0.02, "orange": 0.06,
                                                             "yellow": 0.25}})
    t = tier_district(sample_shares, model)
    no_override = t[t["override"] == 0]["tier"].value_counts()
    assert no_override["orange"] == pytest.approx(0.06 * len(t), abs=3)
    assert no_override["yellow"] == pytest.approx(0.25 * len(t), abs=3)


def test_tier_command_writes_csv_and_prints_counts(tmp_path, sample):
    out = tmp_path / "tiers.csv"
    result = CliRunner().invoke(main, ["tier", str(SAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=out)
    assert tuple(written.columns) == TIER_COLUMNS and len(written) == len(sample.enterprises)
    assert "TOTAL" in result.output
    counts = tier_counts(written, sample)
    assert counts.loc["TOTAL"].sum() == len(sample.enterprises)


def test_tier_command_refuses_a_bad_model_with_exit_2(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.skops").write_text("not a model", encoding="utf-8")
    result = CliRunner().invoke(main, ["tier", str(SAMPLE), "--model", str(tmp_path / "m"),
                                       "--out", str(tmp_path / "t.csv")])
    assert result.exit_code == 2
    assert "not a skops model archive" in result.output
    assert not (tmp_path / "t.csv").exists()


# ---------------------------------------------------------------- Chinese first, English on request

ZH_TIERS = {"红", "橙", "黄", "蓝"}


def _chinese_default(monkeypatch):
    for var in ("RISKPLAN_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    i18n.set_language(None)


def test_tier_writes_chinese_by_default_and_english_with_lang_en_with_the_same_numbers(tmp_path, sample,
                                                                                      monkeypatch):
    from riskplan.domain.headers import canonical_headers, canonical_value, display_headers
    from riskplan.io import read_table_text

    _chinese_default(monkeypatch)
    zh_out, en_out = tmp_path / "zh.csv", tmp_path / "en.csv"
    zh = CliRunner().invoke(main, ["tier", str(SAMPLE), "--out", str(zh_out)])
    en = CliRunner().invoke(main, ["tier", str(SAMPLE), "--out", str(en_out), "--lang", "en"])
    assert zh.exit_code == 0 and en.exit_code == 0, zh.output + en.output
    assert "合计" in zh.output and "已写入" in zh.output and "TOTAL" not in zh.output
    assert "TOTAL" in en.output and "Wrote" in en.output and "合计" not in en.output and "已写入" not in en.output
    zh_raw, en_raw = read_table_text(zh_out), read_table_text(en_out)
    assert list(zh_raw.columns) == display_headers("tiers", TIER_COLUMNS, "zh")
    assert list(zh_raw.columns)[:3] == ["统一社会信用代码", "风险概率", "风险等级"]
    assert tuple(en_raw.columns) == TIER_COLUMNS
    assert set(zh_raw["风险等级"]) <= ZH_TIERS and set(en_raw["tier"]) <= {"red", "orange", "yellow", "blue"}
    # the same enterprises, probabilities (as written), overrides and tiers: only the words differ
    assert list(zh_raw["统一社会信用代码"]) == list(en_raw["enterprise_id"])
    assert list(zh_raw["风险概率"]) == list(en_raw["probability"])
    assert list(zh_raw["直接定为红色"]) == list(en_raw["override"])
    assert [canonical_value("tier", t) for t in zh_raw["风险等级"]] == list(en_raw["tier"])
    assert canonical_headers("tiers", zh_raw.columns) == list(TIER_COLUMNS)
    reasons_zh = zh_raw[["主要原因1", "主要原因2", "主要原因3"]].to_numpy().ravel()
    reasons_en = en_raw[["reason_1", "reason_2", "reason_3"]].to_numpy().ravel()
    assert [r == "" for r in reasons_zh] == [r == "" for r in reasons_en]   # same reasons, other words
    said = [r for r in reasons_zh if r]
    with i18n.language("zh"):
        typical = i18n._(TYPICAL)
    assert all(r.endswith(("（推高风险）", "（降低风险）")) or r.startswith("直接定为红色：") or r == typical
               for r in said)
    assert all("{" not in r and "risk" not in r for r in said)
    assert any(r.endswith("（推高风险）") for r in said) and any(r.endswith("（降低风险）") for r in said)
    assert all(r.endswith(("(raises risk)", "(lowers risk)")) or r.startswith("direct red: ") or r == TYPICAL
               for r in reasons_en if r)
    assert (zh_raw["主要原因1"].str.startswith("直接定为红色：") == en_raw["reason_1"].str.startswith("direct red:")).all()
    assert zh_raw["主要原因1"].str.startswith("直接定为红色：").sum() == (zh_raw["直接定为红色"] == "1").sum() > 0


def test_tiers_files_riskplan_wrote_are_recognised_in_either_language_and_a_bureaus_are_not(tmp_path, sample):
    from riskplan.domain.headers import display_headers
    from riskplan.score.tiering import is_tiers_output, tiers_table

    frame = tier_district(replace(sample, enterprises=sample.enterprises.head(5)))
    for lang in ("zh", "en"):
        path = tmp_path / f"{lang}.csv"
        path.write_text(tiers_table(frame, lang).to_csv(index=False), encoding="utf-8")
        assert is_tiers_output(path), lang
    mixed = tmp_path / "mixed.csv"   # a bureau's own file: Chinese aliases, but not riskplan's header row
    mixed.write_text("企业编号,风险概率,等级,直接定为红色,原因1,原因2,原因3\nA,0.1,红,0,,,\n", encoding="utf-8")
    assert not is_tiers_output(mixed)
    half = tmp_path / "half.csv"     # riskplan's headers, one language per column, is not riskplan's either
    zh_cols, en_cols = display_headers("tiers", TIER_COLUMNS, "zh"), list(TIER_COLUMNS)
    half.write_text(",".join(zh_cols[:3] + en_cols[3:]) + "\nA,0.1,红,0,,,\n", encoding="utf-8")
    assert not is_tiers_output(half)


def test_tiers_table_changes_only_the_headers_and_the_tier_words(sample_tiers):
    from riskplan.score.tiering import tiers_table

    zh = tiers_table(sample_tiers, "zh")
    en = tiers_table(sample_tiers, "en")
    assert en.equals(sample_tiers)
    assert list(zh["风险等级"]) == [{"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝"}[t]
                                   for t in sample_tiers["tier"]]
    assert zh["风险概率"].to_numpy().tobytes() == sample_tiers["probability"].to_numpy().tobytes()


def test_probabilities_and_tiers_are_identical_in_both_languages(sample, model, sample_tiers):
    with i18n.language("zh"):
        zh = tier_district(sample, model)
    assert zh[["enterprise_id", "probability", "tier", "override"]].equals(
        sample_tiers[["enterprise_id", "probability", "tier", "override"]])
    reasons = ["reason_1", "reason_2", "reason_3"]
    assert ((zh[reasons] == "") == (sample_tiers[reasons] == "")).all().all()
    assert (zh[reasons] != sample_tiers[reasons]).to_numpy()[sample_tiers[reasons].to_numpy() != ""].all()


def test_direct_red_reasons_in_chinese(model):
    d = toy_district(
        [{"enterprise_id": "F", "standardization_grade": 1}, {"enterprise_id": "M", "standardization_grade": 1},
         {"enterprise_id": "OK", "standardization_grade": 1}],
        accidents=[("F", "2026-09-01", "minor", 2), ("M", "2026-03-01", "major", 0)],
        inspections=[("OK", "2026-12-31", 0, 0, 0)])
    with i18n.language("zh"):
        t = tier_district(d, model).set_index("enterprise_id")
    assert t.loc["F", "reason_1"] == "直接定为红色：2026-09-01发生一般事故，死亡2人"
    assert t.loc["M", "reason_1"] == "直接定为红色：2026-03-01发生重大事故"
    assert t.loc["F", "tier"] == "red"  # the frame keeps codes; only tiers_table writes 红
    with i18n.language("en"):
        t = tier_district(d, model).set_index("enterprise_id")
    assert t.loc["F", "reason_1"] == "direct red: minor accident with 2 deaths on 2026-09-01"
    assert t.loc["M", "reason_1"] == "direct red: major accident on 2026-03-01"


def test_tiers_in_chinese_read_back(tmp_path, sample):
    """The tiers file written in Chinese is the planner's input as it stands (load/tiers.py reads it
    through domain/headers.py)."""
    from riskplan.load.district import DistrictError
    from riskplan.load.tiers import load_tiers_csv
    from riskplan.score.tiering import tiers_table

    frame = tier_district(sample)
    path = tmp_path / "tiers.csv"
    path.write_text(tiers_table(frame, "zh").to_csv(index=False), encoding="utf-8")
    back = load_tiers_csv(path, sample)
    assert list(back["tier"]) == list(frame["tier"])
    assert list(back["enterprise_id"]) == list(frame["enterprise_id"])
