"""Tiers from calibrated probabilities, the direct-red override, and reasons from contributions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_features import toy_district

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


@pytest.fixture(scope="module")
def model():
    return load_default_model()


@pytest.fixture(scope="module")
def sample():
    return load_district(SAMPLE)


@pytest.fixture(scope="module")
def sample_tiers(sample, model):
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
    X = build_features(sample, pd.Timestamp("2027-01-01"))
    contrib = model.contributions(X)
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
    written = pd.read_csv(out)
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
