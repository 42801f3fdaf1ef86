"""The model's building blocks: the candidate pipelines, calibrators and the reference row,
for the built-in features and a bureau's extra columns (`riskplan.score.model` re-exports them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from riskplan.i18n import _
from riskplan.score.features import CATEGORICAL, FEATURE_GROUPS, FEATURE_NAMES, NUMERIC, extra_groups

CANDIDATES = ("logistic", "boosting")


def feature_lists(extra: dict[str, str] | None = None) -> tuple[list[str], list[str], list[str]]:
    """(all feature names, numeric ones, categorical ones): the built-in features, then a
    bureau's extra columns (column -> "numeric" / "categorical") in the order declared."""
    extra = extra or {}
    numeric = list(NUMERIC) + [c for c, k in extra.items() if k != "categorical"]
    categorical = list(CATEGORICAL) + [c for c, k in extra.items() if k == "categorical"]
    return list(FEATURE_NAMES) + list(extra), numeric, categorical


def feature_groups(extra: dict[str, str] | None = None) -> dict[str, tuple[str, ...]]:
    return {**FEATURE_GROUPS, **extra_groups(extra or {})}


def make_estimator(kind: str, seed: int = 0, extra: dict[str, str] | None = None) -> Pipeline:
    """An unfitted base pipeline of the given kind; input = the frame of `feature_lists(extra)`.
    Extra numbers may be missing: the logistic model fills in the training median (and a
    missing-value indicator), boosting splits on missing values itself."""
    _names, numeric, categorical = feature_lists(extra)
    extra_numeric = [c for c in numeric if c not in NUMERIC]
    if kind == "logistic":
        parts = [("num", StandardScaler(), list(NUMERIC))]
        if extra_numeric:
            parts.append(("extra", Pipeline([("fill", SimpleImputer(strategy="median", add_indicator=True,
                                                                     keep_empty_features=True)),
                                             ("scale", StandardScaler())]), extra_numeric))
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=20, sparse_output=False),
                      categorical))
        pre = ColumnTransformer(parts)
        return Pipeline([("pre", pre), ("clf", LogisticRegression(C=0.3, max_iter=3000, random_state=seed))])
    if kind == "boosting":
        pre = ColumnTransformer([
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                   encoded_missing_value=np.nan, min_frequency=20), categorical),
            ("num", "passthrough", numeric),
        ])
        clf = HistGradientBoostingClassifier(
            learning_rate=0.08, max_iter=120, max_leaf_nodes=15, min_samples_leaf=40,
            l2_regularization=1.0, categorical_features=list(range(len(categorical))), early_stopping=False,
            random_state=seed)
        return Pipeline([("pre", pre), ("clf", clf)])
    raise ValueError(_("unknown model kind '{kind}' (use one of {kinds})").format(kind=kind, kinds=", ".join(CANDIDATES)))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def fit_calibrator(scores: np.ndarray, y: np.ndarray, method: str):
    if method == "isotonic":
        return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, y)
    if method == "sigmoid":
        return LogisticRegression(C=1e6, max_iter=1000).fit(scores.reshape(-1, 1), y)
    raise ValueError(_("unknown calibration '{method}'").format(method=method))


def apply_calibrator(calibrator, scores: np.ndarray) -> np.ndarray:
    if isinstance(calibrator, IsotonicRegression):
        return calibrator.predict(scores)
    return calibrator.predict_proba(scores.reshape(-1, 1))[:, 1]


def reference_row(X: pd.DataFrame, extra: dict[str, str] | None = None) -> pd.DataFrame:
    """The district reference enterprise: median numeric features (of the values recorded),
    most frequent industry (and extra category)."""
    names, numeric, categorical = feature_lists(extra)
    ref = {c: [float(X[c].median())] for c in numeric}
    for c in categorical:
        ref[c] = [str(X[c].mode().iloc[0])]
    return pd.DataFrame(ref)[names]


