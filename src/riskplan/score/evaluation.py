"""A district with a known truth: the model against the rule baseline and the oracle, with
the bias audit (what `riskplan evaluate` prints)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from riskplan.domain.headers import display_header, value_label
from riskplan.i18n import _
from riskplan.score.metrics import (
    Comparison,
    bias_audit,
    bias_audit_text,
    compare,
    read_truth,
)


@dataclass
class DistrictEvaluation:
    """`riskplan evaluate`: the model, the rule baseline and the oracle on a synthetic district."""

    as_of: str
    model_name: str
    comparison: Comparison
    tier_mix: pd.Series
    baseline_tier_mix: pd.Series
    audit: pd.DataFrame
    warnings: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [_("Evaluation as of {as_of} (outcomes: truth.csv event probabilities for the next 12 months; "
                   "model {model})").format(as_of=self.as_of, model=self.model_name), "", self.comparison.text(), "",
                 _("Tier mix (model, with overrides):"),
                 _tier_labels(self.tier_mix).to_string(float_format=lambda v: f"{v:.1%}"), "",
                 _("Tier mix (rule baseline):"),
                 _tier_labels(self.baseline_tier_mix).to_string(float_format=lambda v: f"{v:.1%}"), "",
                 _("Bias audit (top 5% by model probability; outcomes from truth.csv):"),
                 bias_audit_text(self.audit)]
        lines += [_("Warning: {warning}").format(warning=w) for w in self.warnings]
        return "\n".join(lines)


def _tier_labels(mix: pd.Series) -> pd.Series:
    """A tier mix with the tiers named in the current language (红… or red…)."""
    return mix.rename(index=lambda t: value_label("tier", t)).rename_axis(display_header("tiers", "tier"))


def evaluate_district(district, model) -> DistrictEvaluation:
    """Model vs rule baseline vs oracle on the district's truth.csv, plus tiers and bias audit.

    Scored as of the day after the history ends, the period truth.csv describes."""
    from riskplan.domain.schema import TIERS
    from riskplan.score.baseline import baseline_risk, rule_grade
    from riskplan.score.features import default_as_of
    from riskplan.score.tiering import tier_district

    as_of = default_as_of(district)
    ent = district.enterprises
    truth = read_truth(district.path, ent["enterprise_id"])
    tiers = tier_district(district, model, as_of)
    grade = rule_grade(district, as_of)
    comparison = compare(tiers["probability"].to_numpy(), baseline_risk(grade), truth, truth)
    order = [t.value for t in TIERS]
    mix = tiers["tier"].value_counts(normalize=True).reindex(order, fill_value=0.0)
    base_mix = grade["tier"].value_counts(normalize=True).reindex(order, fill_value=0.0)
    frame = ent[["subdistrict", "industry", "size_class"]].assign(
        probability=tiers["probability"].to_numpy(), tier=tiers["tier"].to_numpy())
    audit = bias_audit(frame, truth)
    from riskplan.score.tiering import tier_warnings

    return DistrictEvaluation(as_of.isoformat(), getattr(model, "name", "model"), comparison, mix, base_mix, audit,
                              tuple(tier_warnings(tiers)))
