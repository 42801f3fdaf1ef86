"""Categories and headcounts the model does not know: the "other" group, a warning, no reason."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from riskplan.cli import main
from riskplan.load.district import load_district
from riskplan.score.features import build_features
from riskplan.score.model_files import load_default_model
from riskplan.score.tiering import tier_district, tier_warnings

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def sample():
    return load_district(SAMPLE)


@pytest.fixture(scope="module")
def model():
    return load_default_model()


def _with(district, **columns):
    ent = district.enterprises.copy()
    for name, value in columns.items():
        ent[name] = value(ent) if callable(value) else value
    return dataclasses.replace(district, enterprises=ent)


def _reasons(tiers: pd.DataFrame) -> pd.Series:
    return tiers[["reason_1", "reason_2", "reason_3"]].agg(" | ".join, axis=1)


def test_an_unseen_industry_is_scored_as_other_and_never_a_reason(sample, model):
    unseen = np.arange(len(sample.enterprises)) % 7 == 0
    d = _with(sample, industry=lambda e: np.where(unseen, "Restaurant", e["industry"]))
    tiers = tier_district(d, model)
    assert not _reasons(tiers).str.contains("Restaurant").any()
    warnings = tier_warnings(tiers)
    assert len(warnings) == 1 and f"{int(unseen.sum()):,} enterprises" in warnings[0] and "Restaurant" in warnings[0]
    # "other" is the model's reference industry: the same probability as an enterprise of that industry
    ref = model.reference["industry"].iloc[0]
    as_ref = tier_district(_with(d, industry=lambda e: np.where(unseen, ref, e["industry"])), model)
    np.testing.assert_allclose(tiers["probability"], as_ref["probability"])
    assert tier_warnings(as_ref) == []


def test_known_industries_give_no_warning_and_keep_their_reasons(sample, model):
    tiers = tier_district(sample, model)
    assert tier_warnings(tiers) == []
    assert _reasons(tiers).str.contains("industry: ").any()


def test_a_missing_headcount_is_unknown_not_the_smallest(sample, model):
    d = _with(sample, employees=0)
    tiers = tier_district(d, model)
    text = _reasons(tiers)
    assert not text.str.contains("(0 employees)", regex=False).any()
    sized = text[text.str.contains("enterprise (", regex=False)]
    assert len(sized) and sized.str.contains("headcount unknown").all()
    warnings = tier_warnings(tiers)
    assert len(warnings) == 1 and f"{len(d.enterprises):,} of {len(d.enterprises):,}" in warnings[0]
    # scored at the reference headcount, not at log1p(0)
    X = build_features(d, pd.Timestamp("2027-01-01"), model.inspector_adjustment)
    X["log_employees"] = float(model.reference["log_employees"].iloc[0])
    np.testing.assert_allclose(tiers["probability"], model.predict_proba(X), rtol=1e-9)


def test_tier_command_warns_about_unknown_categories(tmp_path, sample):
    folder = tmp_path / "district"
    shutil.copytree(SAMPLE, folder)
    ent = pd.read_csv(folder / "enterprises.csv", dtype=str, encoding="utf-8-sig")
    ent.loc[:9, "industry"] = "Restaurant"
    ent.to_csv(folder / "enterprises.csv", index=False)
    res = CliRunner().invoke(main, ["tier", str(folder), "--out", str(tmp_path / "tiers.csv")])
    assert res.exit_code == 0, res.output
    assert "10 enterprises have a value in column industry the model never saw" in res.stderr
    assert "Restaurant" not in (tmp_path / "tiers.csv").read_text(encoding="utf-8-sig")


def test_an_implausible_tier_mix_warns_and_suggests_shares():
    from riskplan.score.tiering import tier_mix_warnings

    n = 1000
    plausible = np.array(["red"] * 10 + ["orange"] * 50 + ["yellow"] * 200 + ["blue"] * 740)
    assert tier_mix_warnings(plausible) == []
    odd = np.array(["red"] * 5 + ["orange"] * 12 + ["yellow"] * 620 + ["blue"] * 363)
    (warning,) = tier_mix_warnings(odd)
    assert "yellow 62.0%" in warning and 'method = "shares"' in warning
    assert tier_mix_warnings(odd, "shares") == [] and tier_mix_warnings(odd[:50]) == []
    assert len(odd) == n == len(plausible)


def test_plan_says_what_the_model_did_not_know(tmp_path):
    """`plan` without --tiers tiers the district itself: the same warning as `tier`."""
    from riskplan.check.checker import check_roster
    from riskplan.pipeline import run_plan

    folder = tmp_path / "district"
    shutil.copytree(SAMPLE, folder)
    ent = pd.read_csv(folder / "enterprises.csv", dtype=str, encoding="utf-8-sig")
    ent.loc[:9, "industry"] = "Restaurant"
    ent.to_csv(folder / "enterprises.csv", index=False)
    result = run_plan(folder, "2027Q1", 1, out_dir=tmp_path / "plan", time_limit=20)
    assert any("10 enterprises have a value in column industry the model never saw" in w for w in result.warnings)
    assert check_roster(folder, tmp_path / "plan") == []
