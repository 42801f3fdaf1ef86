"""Four-colour tiers from the calibrated probability, the direct-red override, and reasons.

`tier_district(district)` is what the planner calls: every enterprise gets its event
probability, its tier by the policy's `[tiering]` (probability thresholds or target shares
of the district), `override` = 1 when the direct-red rule applies (an accident with a
death, or of major or extraordinary severity, in the 365 days before the as-of date: red
whatever the score), and three main reasons in plain words. The reasons are the feature
groups with the largest model contributions (see `riskplan.score.model`) in the direction that
sets the enterprise apart from the district reference (risk-raising ones for an enterprise
riskier than the reference, risk-lowering ones for a safer one), each marked as raising or
lowering the risk; an override puts its rule first.

`model_tiers` is the planner's entry: the shipped model's tiers as of the quarter start."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskplan.domain.calendar import Quarter
from riskplan.domain.schema import TIERS, Tier
from riskplan.domain.headers import display_header, display_headers, value_label
from riskplan.i18n import LANGUAGES, N_, _, language
from riskplan.io import TableReadError, read_table_text, sha256_file
from riskplan.load.district import District
from riskplan.score.baseline import direct_red
from riskplan.score.cutoffs import tiers_from_probability
from riskplan.score.features import (
    EXTRA_GROUP,
    FEATURE_GROUPS,
    ExtraFeatureError,
    build_features,
    default_as_of,
    describe_group,
)
from riskplan.score.model import LoadedModel, ModelError, apply_calibrator
from riskplan.score.model_files import MODEL_FILE, default_model_dir, load_default_model
from riskplan.score.unknowns import EMPLOYEES_KNOWN, prepare_features, without_unknown_reasons


class TieringError(ValueError):
    """The district cannot be tiered by the scoring model (e.g. no model is installed)."""


def model_tiers(district: District, quarter: Quarter) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Tiers from the default scoring model as of the quarter start, and where they came from
    (the model file's sha256, for plan.json)."""
    try:
        frame = tier_district(district, as_of=quarter.start)
        model_file = default_model_dir() / MODEL_FILE
    except ModelError as exc:
        raise TieringError(_("cannot tier the district with the scoring model: {error} "
                             "(or pass --tiers tiers.csv)").format(error=exc)) from None
    return frame, {"source": "model", "as_of": quarter.start.isoformat(), "model": "default",
                   "model_sha256": sha256_file(model_file)}

TIER_COLUMNS = ("enterprise_id", "probability", "tier", "override", "reason_1", "reason_2", "reason_3")
N_REASONS = 3
#: A feature group moving the log-odds by less than this (about 5% of the odds) is not a reason:
#: "micro enterprise (raises risk)" for a contribution of 0.003 would mislead more than inform.
MIN_REASON_LOGODDS = 0.05
#: The one reason of an enterprise no group sets apart from the district reference.
TYPICAL = N_("typical of the district: no single factor moves its risk by 5% or more")
#: How a reason is marked (translated where shown).
RAISES, LOWERS = N_("{reason} (raises risk)"), N_("{reason} (lowers risk)")


def tier_district(district: District, model: LoadedModel | None = None, as_of: date | None = None) -> pd.DataFrame:
    """Tier every enterprise of `district` as of `as_of` (default: the day after its latest
    history date) with `model` (default: the shipped default model).

    Columns: enterprise_id, probability, tier (red|orange|yellow|blue), override (0/1),
    reason_1, reason_2, reason_3 (in the current language: the catalogs' words). Rows in the
    enterprises table's order; `tiers_table` gives the frame as written.
    """
    model = model or load_default_model()
    as_of = as_of or default_as_of(district)
    adjusted = getattr(model, "inspector_adjustment", False)
    extra = getattr(model, "extra", {})
    try:
        X, unknown = prepare_features(model, build_features(district, as_of, adjusted, extra))
    except ExtraFeatureError as exc:   # the model reads a column of the bureau's this table lacks
        raise ModelError(str(exc)) from None
    # reasons describe the findings as recorded, even when the model reads team-adjusted ones
    shown = prepare_features(model, build_features(district, as_of, extra=extra))[0] if adjusted else X
    if len(X) == 0:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == "probability" else "int64" if c == "override"
                                          else "object") for c in TIER_COLUMNS})
    scores = model.decision(X)
    prob = apply_calibrator(model.calibrator, scores)
    tiers = tiers_from_probability(prob, district.policy.tiering)
    red = direct_red(district, as_of).set_index("enterprise_id")["reason"]
    override = X.index.isin(red.index)
    tiers[override] = Tier.RED.value
    contrib = without_unknown_reasons(model.contributions(X, base_scores=scores), X, model)
    reasons = reason_texts(shown, contrib)
    for i in np.flatnonzero(override):
        reasons[i] = [red[X.index[i]]] + reasons[i][: N_REASONS - 1]
    frame = pd.DataFrame({
        "enterprise_id": X.index.to_numpy(),
        "probability": prob,
        "tier": tiers,
        "override": override.astype(np.int64),
    })
    for j in range(N_REASONS):
        frame[f"reason_{j + 1}"] = [r[j] for r in reasons]
    frame.attrs["warnings"] = unknown.warnings() + tier_mix_warnings(tiers, district.policy.tiering.method)
    return frame


#: The tier mix a district typically has under probability thresholds (docs/tiers.md): share ranges.
PLAUSIBLE_MIX = {"red": (0.0, 0.02), "orange": (0.03, 0.08), "yellow": (0.10, 0.30), "blue": (0.60, 1.0)}
#: Fewer enterprises than this: the mix is not judged (a handful of reds is a large share).
MIN_MIX_ENTERPRISES = 100


def tier_mix_warnings(tiers: np.ndarray, method: str = "thresholds") -> list[str]:
    """A warning when the thresholds' tier mix is far outside the plausible range (a share below
    half its range's low end or above twice its high end): the probabilities are likely off for
    this district (drift, a model trained on another kind of district), and the shares method
    fixes the mix instead. Nothing for the shares method or a small district."""
    tiers = np.asarray(tiers)
    if method != "thresholds" or len(tiers) < MIN_MIX_ENTERPRISES:
        return []
    share = {t: float((tiers == t).mean()) for t in PLAUSIBLE_MIX}
    far = [t for t, (lo, hi) in PLAUSIBLE_MIX.items() if share[t] < lo / 2 or share[t] > min(1.0, 2 * hi)]
    if not far:
        return []
    mix = ", ".join(f"{value_label('tier', t)} {share[t]:.1%}" for t in PLAUSIBLE_MIX)
    plausible = ", ".join(f"{value_label('tier', t)} {lo:.0%}–{hi:.0%}" for t, (lo, hi) in PLAUSIBLE_MIX.items())
    return [_("the tier mix ({mix}) is far outside the plausible range ({plausible}): the model's probabilities "
              "may not fit this district (drift, or a model trained on another kind of district); consider "
              "[tiering] method = \"shares\" in policy.toml to fix the shares (docs/tiers.md)").format(
        mix=mix, plausible=plausible)]


def tier_warnings(tiers: pd.DataFrame) -> list[str]:
    """The warnings `tier_district` found (categories and headcounts the model does not know)."""
    return list(tiers.attrs.get("warnings", []))


def reason_order(contrib: pd.DataFrame, k: int = N_REASONS) -> np.ndarray:
    """Column indices of each row's `k` main reasons (-1 where there are fewer).

    The main reasons explain why an enterprise sits above or below the district reference:
    when its contributions add up to more risk than the reference, the largest risk-raising
    groups come first; when to less, the largest risk-lowering ones. Groups pulling the
    other way follow only if there are fewer than `k`, by size; a group contributing less than
    MIN_REASON_LOGODDS either way (at or near the reference there) is never a reason.
    """
    full = contrib.to_numpy()
    direction = np.where(full.sum(axis=1, keepdims=True) >= 0, 1.0, -1.0)
    c = np.where(np.abs(full) < MIN_REASON_LOGODDS, 0.0, full)
    along = direction * c
    magnitude = np.abs(c)
    span = magnitude.max() + 1.0 if c.size else 1.0
    key = np.where(along > 0, along + span, magnitude)     # same direction always ranks first
    key = np.where(c == 0, -1.0, key)
    order = np.argsort(-key, axis=1, kind="stable")[:, :k]
    picked = np.take_along_axis(key, order, axis=1)
    return np.where(picked < 0, -1, order)


def reason_texts(X: pd.DataFrame, contrib: pd.DataFrame) -> list[list[str]]:
    """Per row, the main reasons (see `reason_order`) in plain words, each marked "raises
    risk" or "lowers risk"; TYPICAL when there is none; empty strings where there are fewer
    than N_REASONS. Each distinct (group, feature values) text is built once (fast on 50,000
    rows)."""
    values = contrib.to_numpy()
    groups = list(contrib.columns)
    order = reason_order(contrib)
    cols = {g: list(FEATURE_GROUPS[g]) if g in FEATURE_GROUPS else [g[len(EXTRA_GROUP):]] for g in groups}
    arrays = {c: X[c].to_numpy() for c in X.columns}
    memo: dict[tuple, str] = {}
    raises, lowers, typical = _(RAISES), _(LOWERS), _(TYPICAL)
    out = []
    for i in range(len(values)):
        texts = []
        for j in order[i]:
            if j < 0:
                continue
            v = values[i, j]
            g = groups[j]
            needed = [c for c in _needed_columns(g, cols[g]) if c in arrays]
            key = (g,) + tuple(arrays[c][i] for c in needed)
            text = memo.get(key)
            if text is None:
                text = describe_group(g, {c: arrays[c][i] for c in needed})
                memo[key] = text
            texts.append((raises if v > 0 else lowers).format(reason=text))
        if not texts:
            texts.append(typical)
        texts += [""] * (N_REASONS - len(texts))
        out.append(texts)
    return out


def _needed_columns(group: str, cols: list[str]) -> list[str]:
    # describe_group("hazards_found") also reads visit counts
    if group == "hazards_found":
        return cols + ["visits_3y", "visits_5y", "never_visited"]
    if group == "size":   # "headcount unknown" rather than "0 employees"
        return cols + [EMPLOYEES_KNOWN]
    return cols


def tier_counts(tiers: pd.DataFrame, district: District, lang: str | None = None) -> pd.DataFrame:
    """Count of enterprises per tier per subdistrict (rows), with a total row; tier names, the
    total row and the index name in the chosen language (红橙黄蓝, 合计; red…, TOTAL)."""
    with language(lang):
        sub = district.enterprises.set_index("enterprise_id")["subdistrict"]
        t = tiers.assign(subdistrict=tiers["enterprise_id"].map(sub))
        table = pd.crosstab(t["subdistrict"], t["tier"]).reindex(columns=[x.value for x in TIERS], fill_value=0)
        table.loc[_("TOTAL")] = table.sum()
        table.columns = pd.Index([value_label("tier", c) for c in table.columns], name=display_header("tiers", "tier"))
        table.index.name = display_header("enterprises", "subdistrict")
        return table


def tiers_table(tiers: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """The tiers frame as riskplan writes it (tiers.csv): headers and tier names in the chosen
    language through domain/headers.py (统一社会信用代码, 风险等级 红/橙/黄/蓝 …; the column
    names and codes in English). Probabilities and every other cell unchanged."""
    with language(lang):
        out = tiers.copy()
        out["tier"] = [value_label("tier", t) for t in out["tier"]]
        out.columns = display_headers("tiers", out.columns)
        return out


def is_tiers_output(path: Path) -> bool:
    """A tiers file `riskplan tier` wrote (its columns, in its order, as written in either
    language): the only kind `tier --force` replaces; a bureau's own tiers file is never
    overwritten."""
    try:
        columns = tuple(read_table_text(Path(path)).columns)[:len(TIER_COLUMNS)]
    except (TableReadError, OSError, ValueError):
        return False
    return any(columns == tuple(display_headers("tiers", TIER_COLUMNS, lang)) for lang in LANGUAGES)
