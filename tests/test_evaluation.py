"""Ranking metrics on observed events and on truth probabilities, and the bias audit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.metrics import average_precision_score, roc_auc_score

from riskplan.cli import main
from riskplan.load.district import load_district
from riskplan.score.evaluation import evaluate_district
from riskplan.score.metrics import (
    average_precision,
    bias_audit,
    bias_audit_text,
    brier,
    calibration_table,
    compare,
    precision_recall_at,
    roc_auc,
    top_k_weights,
)
from riskplan.score.model_files import load_default_model

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def test_binary_outcomes_give_the_usual_metrics():
    rng = np.random.default_rng(1)
    y = (rng.random(500) < 0.1).astype(int)
    s = rng.random(500) + y
    assert average_precision(s, y) == pytest.approx(average_precision_score(y, s))
    assert roc_auc(s, y) == pytest.approx(roc_auc_score(y, s))
    assert brier(np.full(500, 0.1), y) == pytest.approx(np.mean((0.1 - y) ** 2))


def test_probability_outcomes_are_the_expected_outcome():
    """With truth probabilities, precision@k is the mean truth in the top k (exact), and
    Brier is the average over simulated outcomes."""
    rng = np.random.default_rng(2)
    p = rng.beta(0.5, 8, 2000)
    score = p + rng.normal(0, 0.02, 2000)
    prec, rec = precision_recall_at(score, p, 0.05)
    top = np.argsort(-score)[:100]
    assert prec == pytest.approx(p[top].mean())
    assert rec == pytest.approx(p[top].sum() / p.sum())
    sims = rng.random((400, 2000)) < p
    q = np.clip(score, 0, 1)
    assert brier(q, p) == pytest.approx(np.mean([np.mean((q - s) ** 2) for s in sims]), rel=0.02)
    assert roc_auc(p, p) > roc_auc(score, p) > 0.5


def test_ties_at_the_cut_share_the_remaining_places():
    w = top_k_weights(np.array([5.0, 3, 3, 3, 1]), 0.4)   # 2 places: one above, three tied for one
    np.testing.assert_allclose(w, [1, 1 / 3, 1 / 3, 1 / 3, 0])
    prec, _ = precision_recall_at(np.array([5.0, 3, 3, 3, 1]), np.array([1, 1, 0, 0, 0]), 0.4)
    assert prec == pytest.approx((1 + 1 / 3) / 2)


def test_calibration_table_bins_predictions():
    q = np.linspace(0, 1, 100)
    table = calibration_table(q, q, bins=4)
    assert list(table["n"]) == [25] * 4
    np.testing.assert_allclose(table["predicted"], table["observed"])


def test_compare_reports_the_ratio_to_the_oracle():
    rng = np.random.default_rng(3)
    p = rng.beta(0.5, 8, 1000)
    c = compare(p * 0.9 + 0.01, -np.round(p, 1), p, p)
    assert list(c.metrics.index) == ["model", "baseline", "oracle"]
    assert c.ratio_to_oracle["average_precision"] == pytest.approx(1.0)  # a monotone transform of the truth
    assert np.isnan(c.metrics.loc["baseline", "brier"])
    assert c.metrics.loc["baseline", "average_precision"] < 0.5 * c.metrics.loc["oracle", "average_precision"]


def test_bias_audit_flags_a_group_targeted_without_cause():
    rng = np.random.default_rng(4)
    n = 2000
    area = np.where(np.arange(n) < 200, "A", rng.choice(["B", "C", "D"], n))
    p = np.full(n, 0.05)
    prob = rng.random(n) * 0.1 + np.where(area == "A", 0.10, 0.0)   # A scored higher, same true risk
    frame = pd.DataFrame({"subdistrict": area, "industry": "x", "size_class": "small", "probability": prob,
                          "tier": np.where(prob > 0.1, "orange", "blue")})
    audit = bias_audit(frame, p, by=("subdistrict",))
    a = audit[(audit["grouping"] == "subdistrict") & (audit["group"] == "A")].iloc[0]
    assert a["flagged"] and a["most_deviant"] and a["z_risk"] > 3
    assert a["top_share"] > 0.3 and a["event_rate"] == pytest.approx(0.05)
    assert not audit[audit["group"].isin(["B", "C", "D"])]["most_deviant"].any()
    district = audit[audit["grouping"] == "district"].iloc[0]
    assert district["top_share"] == pytest.approx(0.05)
    assert "FLAGGED: scored above its actual risk" in bias_audit_text(audit)


def test_bias_audit_does_not_flag_a_group_whose_targeting_has_a_cause():
    rng = np.random.default_rng(6)
    n = 3000
    area = np.where(np.arange(n) < 300, "PARK", rng.choice(["B", "C"], n))
    p = np.where(area == "PARK", 0.15, 0.03)                      # the park really is riskier
    prob = np.clip(p * rng.lognormal(0, 0.2, n), 0, 1)           # ... and the model knows it
    frame = pd.DataFrame({"subdistrict": area, "industry": "x", "size_class": "small", "probability": prob,
                          "tier": "blue"})
    audit = bias_audit(frame, p, by=("subdistrict",))
    park = audit[audit["group"] == "PARK"].iloc[0]
    assert park["most_deviant"] and park["z_top_share"] > 10
    assert not audit["flagged"].any()
    assert "deviation matches its actual risk" in bias_audit_text(audit)


def test_evaluate_district_compares_model_baseline_and_oracle():
    district = load_district(SAMPLE)
    ev = evaluate_district(district, load_default_model())
    assert ev.as_of == "2027-01-01"
    m = ev.comparison.metrics
    assert set(m.index) == {"model", "baseline", "oracle"}
    assert m.loc["oracle", "average_precision"] >= m.loc["model", "average_precision"] * 0.99
    assert m.loc["model", "average_precision"] > m.loc["baseline", "average_precision"]
    assert ev.tier_mix.sum() == pytest.approx(1.0)
    assert {"subdistrict", "industry", "size_class"} <= set(ev.audit["grouping"])
    text = ev.text()
    assert "model / oracle" in text and "Bias audit" in text


def test_evaluate_command_needs_truth(tmp_path):
    ok = CliRunner().invoke(main, ["evaluate", str(SAMPLE)])
    assert ok.exit_code == 0, ok.output
    assert "oracle" in ok.output
    folder = tmp_path / "d"
    folder.mkdir()
    for f in SAMPLE.iterdir():
        if f.name != "truth.csv":
            (folder / f.name).write_bytes(f.read_bytes())
    res = CliRunner().invoke(main, ["evaluate", str(folder)])
    assert res.exit_code == 2 and "truth.csv" in res.output
