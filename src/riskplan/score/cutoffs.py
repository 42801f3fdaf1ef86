"""Probability to tier by the policy's `[tiering]` cut-offs: thresholds or target shares."""

from __future__ import annotations

import numpy as np

from riskplan.domain.policy import TieringRules
from riskplan.domain.schema import TIERS, Tier


def tiers_from_probability(prob: np.ndarray, rules: TieringRules) -> np.ndarray:
    """Tier names by `[tiering]`: thresholds (p >= red -> red, >= orange -> orange, ...) or
    shares (the riskiest `red` share red, the next `orange` share orange, ...; ties at a
    cut go to the riskier tier, ranked by probability then input order)."""
    prob = np.asarray(prob, float)
    out = np.full(len(prob), Tier.BLUE.value, dtype=object)
    if rules.method == "thresholds":
        out[prob >= rules.yellow] = Tier.YELLOW.value
        out[prob >= rules.orange] = Tier.ORANGE.value
        out[prob >= rules.red] = Tier.RED.value
        return out
    n = len(prob)
    order = np.argsort(-prob, kind="stable")
    bounds = np.cumsum([rules.red, rules.orange, rules.yellow])
    counts = [int(round(b * n)) for b in bounds]
    prev = 0
    for tier, upto in zip(TIERS[:3], counts):
        chosen = order[prev:upto]
        if len(chosen):
            cut = prob[order[upto - 1]]
            out[chosen] = tier.value
            # ties at the cut share the riskier tier, so equal scores never split
            tied = order[upto:][prob[order[upto:]] == cut]
            out[tied] = tier.value
            upto += len(tied)
        prev = max(prev, upto)
    return out
