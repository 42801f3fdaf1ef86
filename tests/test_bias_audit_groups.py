"""The bias audit: a group that is the whole district is not a group; flagged groups carry an effect size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskplan.score.metrics import bias_audit, bias_audit_text


def _frame(n: int, rng) -> tuple[pd.DataFrame, np.ndarray]:
    area = rng.choice(["A", "B", "C"], n)
    p = np.full(n, 0.10)
    prob = np.full(n, 0.06)           # the whole district scored below its risk
    frame = pd.DataFrame({"subdistrict": area, "industry": "x", "size_class": "small", "probability": prob,
                          "tier": "blue"})
    return frame, p


def test_a_group_that_is_the_whole_district_is_never_flagged():
    frame, p = _frame(3000, np.random.default_rng(1))
    audit = bias_audit(frame, p)
    small = audit[(audit["grouping"] == "size_class") & (audit["group"] == "small")].iloc[0]
    assert small["whole_district"] and small["z_risk"] < -3
    assert not small["flagged"] and not small["most_deviant"]
    assert audit[audit["grouping"] == "subdistrict"]["flagged"].all()  # real groups still are
    text = bias_audit_text(audit)
    assert "Not groups (the whole district): industry=x, size_class=small" in text


def test_flagged_groups_report_the_effect_size():
    frame, p = _frame(3000, np.random.default_rng(2))
    audit = bias_audit(frame, p, by=("subdistrict",))
    a = audit[audit["group"] == "A"].iloc[0]
    assert a["risk_gap"] == pytest.approx(-0.04) and a["risk_ratio"] == pytest.approx(0.6)
    assert "effect: -4.0 points, ratio 0.60" in bias_audit_text(audit)
