"""What a model does not know: categories it never saw, headcounts a register does not have.

A model trained on one district meets another district's records. Two things there would
mislead rather than inform:

- a category value the model never saw (an industry "Restaurant" in a model trained on
  manufacturing): the model has no estimate for it. Such values are scored in the "other"
  group, which is the district reference category (the training data's most frequent one, so
  "typical of the district in this respect"), counted in a warning, and never given as a
  reason;
- a headcount of 0: no enterprise with safety obligations has none, so 0 means the register
  did not say (a whole district of 0s is a missing column). It is scored as unknown: the
  reference headcount, with the size class as given; the reason says "headcount unknown",
  never "0 employees".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskplan.domain.headers import display_header
from riskplan.i18n import _, ngettext
from riskplan.score.features import CATEGORICAL, EXTRA_GROUP, FEATURE_GROUPS, GROUP_OF

#: Extra (non-feature) columns `prepare_features` adds: 0 where the value was not known.
KNOWN_FLAG = "{column}_known"
EMPLOYEES_KNOWN = "employees_known"


@dataclass
class UnknownInputs:
    """What `prepare_features` replaced: unseen values per categorical column (value -> count)
    and the number of enterprises without a headcount."""

    unseen: dict[str, dict[str, int]] = field(default_factory=dict)
    unknown_headcount: int = 0
    enterprises: int = 0

    def warnings(self) -> list[str]:
        out = []
        for column, values in self.unseen.items():
            count = sum(values.values())
            shown = ", ".join(f"{v} ({n})" for v, n in sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:5])
            out.append(ngettext(
                "{count} enterprise has a value in column {column} the model never saw ({values}); scored as 'other' "
                "(typical of the district), never given as a reason",
                "{count} enterprises have a value in column {column} the model never saw ({values}); scored as 'other' "
                "(typical of the district), never given as a reason", count).format(
                count=f"{count:,}", column=display_header("enterprises", column), values=shown))
        if self.unknown_headcount:
            out.append(ngettext(
                "{count} of {total} enterprises has no headcount (0 employees); scored as headcount unknown, "
                "not as the smallest",
                "{count} of {total} enterprises have no headcount (0 employees); scored as headcount unknown, "
                "not as the smallest", self.unknown_headcount).format(
                count=f"{self.unknown_headcount:,}", total=f"{self.enterprises:,}"))
        return out


def known_categories(model) -> dict[str, set[str]]:
    """The values of each categorical feature the fitted pipeline saw in training."""
    pre = model.base.named_steps["pre"]
    encoder = pre.named_transformers_["cat"]
    return {c: {str(v) for v in cats} for c, cats in zip(_categorical(model), encoder.categories_)}


def _categorical(model) -> list[str]:
    return list(getattr(model, "categorical", CATEGORICAL))


def prepare_features(model, X: pd.DataFrame) -> tuple[pd.DataFrame, UnknownInputs]:
    """The feature frame as the model should see it: unseen categories in the "other" group
    (the reference value), unknown headcounts at the reference headcount; plus a `<column>_known`
    0/1 column for each replaced feature (read by the reasons, ignored by the model)."""
    X = X.copy()
    found = UnknownInputs(enterprises=len(X))
    known = known_categories(model)
    for c in _categorical(model):
        values = X[c].astype(str)
        unseen = ~values.isin(known[c]).to_numpy()
        X[KNOWN_FLAG.format(column=c)] = (~unseen).astype(np.int64)
        if unseen.any():
            found.unseen[c] = {str(k): int(v) for k, v in values[unseen].value_counts().items()}
            X.loc[unseen, c] = model.reference[c].iloc[0]
    missing = X["log_employees"].to_numpy() <= 0.0   # log1p(0): no headcount given
    X[EMPLOYEES_KNOWN] = (~missing).astype(np.int64)
    if missing.any():
        found.unknown_headcount = int(missing.sum())
        X.loc[missing, "log_employees"] = float(model.reference["log_employees"].iloc[0])
    return X, found


def without_unknown_reasons(contrib: pd.DataFrame, X: pd.DataFrame, model=None) -> pd.DataFrame:
    """Contributions with every group of an unseen category set to 0 where it was unseen, so
    it is never a reason (its value was replaced by the reference, so the model's own
    contribution there is 0 already; this keeps it so whatever the model does)."""
    contrib = contrib.copy()
    for c in (_categorical(model) if model is not None else CATEGORICAL):
        flag = KNOWN_FLAG.format(column=c)
        if flag in X.columns:
            group = GROUP_OF.get(c, EXTRA_GROUP + c)
            if group in contrib.columns:
                contrib.loc[X[flag].to_numpy() == 0, group] = 0.0
    return contrib


__all__ = ["UnknownInputs", "prepare_features", "known_categories", "without_unknown_reasons",
           "EMPLOYEES_KNOWN", "KNOWN_FLAG", "FEATURE_GROUPS"]
