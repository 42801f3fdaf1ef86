"""How good a risk ranking is: metrics, calibration table, truth comparison and bias audit.

Every metric takes `y` as observed 0/1 events *or* as true event probabilities (a
synthetic district's `truth.csv`). With probabilities each enterprise counts as a
positive with weight p and a negative with weight 1 - p, so the metrics are those of
the expected outcome: no sampling noise, and the oracle (ranking by the truth itself)
is measured exactly the same way as the model and the rule baseline.

Ties in a score (the rule baseline has many) are never broken by row order: precision
and recall at top k give tied enterprises at the cut a fractional share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from riskplan.i18n import _
from riskplan.io import read_table_text

#: Top fractions the bureau acts on: the riskiest 1%, 5% and 20%.
TOP_K = (0.01, 0.05, 0.20)
CALIBRATION_BINS = 10
#: Bias audit: groups smaller than this are listed but never flagged (too few to judge).
MIN_GROUP = 30
#: Flag a group when the model's expected events there differ from the outcomes by more than
#: this many standard errors: it is scored above (or below) what its actual risk justifies.
Z_FLAG = 3.0
TRUTH_FILE = "truth.csv"


def _expand(score: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, scores, weights) with each row as a weighted positive and negative."""
    s = np.concatenate([score, score])
    lab = np.concatenate([np.ones(len(y)), np.zeros(len(y))])
    w = np.concatenate([y, 1.0 - y])
    keep = w > 0
    return lab[keep], s[keep], w[keep]


def roc_auc(score: np.ndarray, y: np.ndarray) -> float:
    lab, s, w = _expand(np.asarray(score, float), np.asarray(y, float))
    if len(np.unique(lab)) < 2:
        return float("nan")
    return float(roc_auc_score(lab, s, sample_weight=w))


def average_precision(score: np.ndarray, y: np.ndarray) -> float:
    lab, s, w = _expand(np.asarray(score, float), np.asarray(y, float))
    if lab.sum() == 0:
        return float("nan")
    return float(average_precision_score(lab, s, sample_weight=w))


def top_k_weights(score: np.ndarray, k: float) -> np.ndarray:
    """Inclusion weight of each row in the top `k` share (ties at the cut share the rest)."""
    score = np.asarray(score, float)
    n = len(score)
    m = max(1, int(round(k * n)))
    order = np.sort(score)[::-1]
    cut = order[m - 1]
    above = score > cut
    at = score == cut
    w = above.astype(float)
    rest = m - above.sum()
    if at.any():
        w[at] = rest / at.sum()
    return w


def precision_recall_at(score: np.ndarray, y: np.ndarray, k: float) -> tuple[float, float]:
    y = np.asarray(y, float)
    w = top_k_weights(score, k)
    hits = float((w * y).sum())
    total = float(y.sum())
    return hits / w.sum(), (hits / total if total > 0 else float("nan"))


def brier(prob: np.ndarray, y: np.ndarray) -> float:
    """Expected squared error; with 0/1 labels the usual Brier score."""
    q = np.asarray(prob, float)
    y = np.asarray(y, float)
    return float(np.mean(q * q - 2 * q * y + y))


def calibration_table(prob: np.ndarray, y: np.ndarray, bins: int = CALIBRATION_BINS) -> pd.DataFrame:
    """Predicted vs observed event rate in equal-count bins of the predicted probability."""
    q = np.asarray(prob, float)
    y = np.asarray(y, float)
    order = np.argsort(q, kind="stable")
    parts = np.array_split(order, bins)
    rows = []
    for i, idx in enumerate(parts):
        if len(idx) == 0:
            continue
        rows.append({"bin": i + 1, "n": len(idx), "p_min": q[idx].min(), "p_max": q[idx].max(),
                     "predicted": q[idx].mean(), "observed": y[idx].mean()})
    return pd.DataFrame(rows)


def ranking_metrics(score: np.ndarray, y: np.ndarray, is_probability: bool) -> dict[str, float]:
    """ROC AUC, AP, precision/recall at each TOP_K, and (for probabilities) Brier."""
    out = {"roc_auc": roc_auc(score, y), "average_precision": average_precision(score, y)}
    for k in TOP_K:
        p, r = precision_recall_at(score, y, k)
        out[f"precision@{k:.0%}"] = p
        out[f"recall@{k:.0%}"] = r
    out["brier"] = brier(score, y) if is_probability else float("nan")
    out["event_rate"] = float(np.mean(y))
    return out


@dataclass
class Comparison:
    """Metrics of model, rule baseline and (with truth) oracle on one set of outcomes."""

    metrics: pd.DataFrame          # rows: model, baseline[, oracle]; columns: metric names
    calibration: pd.DataFrame      # the model's calibration table
    ratio_to_oracle: dict[str, float]

    def text(self) -> str:
        lines = [self.metrics.to_string(float_format=lambda v: f"{v:.4f}")]
        if self.ratio_to_oracle:
            lines.append(_("model / oracle: {ratios}").format(
                ratios=", ".join(f"{k} {v:.3f}" for k, v in self.ratio_to_oracle.items())))
        lines.append("\n" + _("Calibration of the model (equal-count bins):"))
        lines.append(self.calibration.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        return "\n".join(lines)


def compare(model_prob: np.ndarray, baseline_score: np.ndarray, y: np.ndarray,
            truth: np.ndarray | None = None) -> Comparison:
    """Side-by-side metrics. `y` are the outcomes (0/1, or the truth probabilities)."""
    rows = {"model": ranking_metrics(model_prob, y, True),
            "baseline": ranking_metrics(baseline_score, y, False)}
    ratio: dict[str, float] = {}
    if truth is not None:
        rows["oracle"] = ranking_metrics(truth, y, True)
        for key in ("average_precision", "precision@5%", "roc_auc"):
            ratio[key] = rows["model"][key] / rows["oracle"][key]
    return Comparison(pd.DataFrame(rows).T, calibration_table(model_prob, y), ratio)


def read_truth(district_dir, enterprise_ids: pd.Series) -> np.ndarray:
    """`truth.csv` probabilities in the order of `enterprise_ids` (evaluation only)."""
    from pathlib import Path

    path = Path(district_dir) / TRUTH_FILE
    if not path.exists():
        raise FileNotFoundError(_("{path} not found: evaluation against the truth needs a synthetic "
                                  "district's {file}").format(path=path, file=TRUTH_FILE))
    raw = read_table_text(path)
    for col in ("enterprise_id", "p_event_12m"):
        if col not in raw.columns:
            raise ValueError(_("{file}: missing column '{column}'").format(file=path.name, column=col))
    truth = pd.to_numeric(raw["p_event_12m"], errors="raise").to_numpy()
    s = pd.Series(truth, index=raw["enterprise_id"])
    missing = ~enterprise_ids.isin(s.index)
    if missing.any():
        raise ValueError(_("{file}: no truth for {count} enterprise(s), e.g. {example}").format(
            file=path.name, count=int(missing.sum()), example=enterprise_ids[missing].iloc[0]))
    return s.reindex(enterprise_ids).to_numpy(float)


# ---------------------------------------------------------------- bias audit

def bias_audit(frame: pd.DataFrame, y: np.ndarray, by: tuple[str, ...] = ("subdistrict", "industry", "size_class"),
               k: float = 0.05) -> pd.DataFrame:
    """Per group: size, tier shares, share in the district's top `k`, precision and recall in
    it, false-positive rate, event rate, mean predicted probability; deviations and flags.

    `frame` has the grouping columns plus `probability` and `tier`; `y` the outcomes (0/1 or
    truth probabilities). Two questions, two statistics:
      - does the group differ from the district? `z_top_share`: its top-k share against the
        district's in binomial standard errors; `most_deviant` marks the largest |z| per grouping;
      - is that without cause? `z_risk`: the model's expected events in the group (sum of
        probabilities) against the outcomes, in standard errors. A group is `flagged` when
        |z_risk| > Z_FLAG (n >= MIN_GROUP): the model scores it above (z > 0) or below (z < 0)
        what its actual risk justifies, which is what targeting an area or trade without cause
        would look like. A group with many top-k places and a matching event rate is not flagged.
    Effect size: `risk_gap` (mean probability - event rate) and `risk_ratio` (their ratio). A
    grouping value that covers the whole district (`whole_district`) is never flagged.
    """
    y = np.asarray(y, float)
    flagged_w = top_k_weights(frame["probability"].to_numpy(), k)
    work = frame.assign(_y=y, _f=flagged_w, _fy=flagged_w * y, _fn=flagged_w * (1 - y), _n=1 - y,
                        _p=frame["probability"].to_numpy())
    district_share = flagged_w.mean()
    rows = [_group_row(work, "district", "(all)", district_share)]
    for col in by:
        for value, g in work.groupby(col, sort=True):
            rows.append(_group_row(g, col, str(value), district_share))
    out = pd.DataFrame(rows)
    # effect size: how far the model's mean probability is from the event rate, absolute and relative
    out["risk_gap"] = out["mean_probability"] - out["event_rate"]
    out["risk_ratio"] = np.where(out["event_rate"] > 0, out["mean_probability"] / out["event_rate"].where(
        out["event_rate"] > 0, 1.0), np.nan)
    # a "group" that is the whole district (every enterprise small, one subdistrict) compares the
    # district with itself: it is the district row again, never a group to flag
    out["whole_district"] = (out["n"] == len(frame)) & (out["grouping"] != "district")
    big = (out["n"] >= MIN_GROUP) & (out["grouping"] != "district") & ~out["whole_district"]
    out["flagged"] = big & (out["z_risk"].abs() > Z_FLAG)
    out["most_deviant"] = False
    for col in by:
        sel = out[(out["grouping"] == col) & (out["n"] >= MIN_GROUP) & ~out["whole_district"]]
        if len(sel):
            out.loc[sel["z_top_share"].abs().idxmax(), "most_deviant"] = True
    return out


def _group_row(g: pd.DataFrame, grouping: str, value: str, district_share: float) -> dict:
    n = len(g)
    top = g["_f"].sum()
    events = g["_y"].sum()
    expected = g["_p"].sum()
    neg = g["_n"].sum()
    share = top / n
    se = np.sqrt(district_share * (1 - district_share) / n) if n else np.nan
    se_risk = np.sqrt((g["_p"] * (1 - g["_p"])).sum())
    row = {"grouping": grouping, "group": value, "n": n}
    for t in ("red", "orange", "yellow", "blue"):
        row[f"share_{t}"] = float((g["tier"] == t).mean())
    row.update({
        "top_share": share,
        "z_top_share": float((share - district_share) / se) if se and se > 0 else 0.0,
        "precision_top": float(g["_fy"].sum() / top) if top > 0 else float("nan"),
        "recall_top": float(g["_fy"].sum() / events) if events > 0 else float("nan"),
        "false_positive_rate": float(g["_fn"].sum() / neg) if neg > 0 else float("nan"),
        "event_rate": float(events / n),
        "mean_probability": float(expected / n),
        "z_risk": float((expected - events) / se_risk) if se_risk > 0 else 0.0,
    })
    return row


def bias_audit_text(audit: pd.DataFrame) -> str:
    cols = ["grouping", "group", "n", "share_red", "share_orange", "top_share", "z_top_share",
            "precision_top", "recall_top", "false_positive_rate", "event_rate", "mean_probability", "z_risk",
            "risk_gap", "risk_ratio", "flagged"]
    lines = [audit[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}")]
    lines.append("\n" + _("Most deviant group per grouping (top-5% share vs the district) and every flagged group "
                        "(model probability vs actual risk beyond {z} standard errors):").format(z=f"{Z_FLAG:g}"))
    for r in audit[audit["flagged"] | audit["most_deviant"]].itertuples():
        verdict = (_("FLAGGED: scored above its actual risk") if r.flagged and r.z_risk > 0 else
                   _("FLAGGED: scored below its actual risk") if r.flagged else
                   _("deviation matches its actual risk (not flagged)"))
        lines.append("  " + _("{grouping}={group}: top-5% share {top_share} (z {z_top}); mean probability "
                              "{mean_probability} vs event rate {event_rate} (z {z_risk}; effect: {gap} points, "
                              "ratio {ratio}) — {verdict}").format(
            grouping=r.grouping, group=r.group, top_share=f"{r.top_share:.3f}", z_top=f"{r.z_top_share:+.1f}",
            mean_probability=f"{r.mean_probability:.3f}", event_rate=f"{r.event_rate:.3f}",
            z_risk=f"{r.z_risk:+.1f}", gap=f"{100 * r.risk_gap:+.1f}",
            ratio="—" if np.isnan(r.risk_ratio) else f"{r.risk_ratio:.2f}", verdict=verdict))
    whole = audit[audit["whole_district"]]
    if len(whole):
        lines.append("  " + _("Not groups (the whole district): {groups}").format(
            groups=", ".join(f"{r.grouping}={r.group}" for r in whole.itertuples())))
    if not audit["flagged"].any():
        lines.append("  " + _("No group is scored beyond its actual risk."))
    return "\n".join(lines)


def plot_validation(report, path) -> None:
    """PNG: precision in the top k% (model candidates vs baseline, latest fold) and the chosen
    model's calibration on every fold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context(cjk_font_rc()):
        _plot_validation(plt, report, path)


#: CJK fonts tried after DejaVu Sans, so Chinese labels render wherever one is installed (the
#: same list as the report's, export/report.py; score/ may not import export/).
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC",
             "SimHei")


def cjk_font_rc() -> dict:
    """matplotlib settings for a chart with Chinese labels: DejaVu Sans, then every installed CJK
    font (matplotlib falls back glyph by glyph); labels as typed, never mathtext."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return {"font.family": ["DejaVu Sans", *[f for f in CJK_FONTS if f in installed]], "text.parse_math": False}


def _plot_validation(plt, report, path) -> None:
    last = report.folds[-1]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    for name, curve in last.curves.items():
        style = "--" if name == "baseline" else "-"
        ax1.plot(100 * curve["k"], curve["precision"], style, label=name)
    ax1.set_xlabel(_("top k% of enterprises by score"))
    ax1.set_ylabel(_("precision (share with an event)"))
    ax1.set_title(_("Precision at top k, fold {date}").format(date=last.test_date.date()))
    ax1.legend()
    ax1.grid(alpha=0.3)
    top = 0.0
    for f in report.folds:
        cal = f.calibration[report.chosen]
        ax2.plot(cal["predicted"], cal["observed"], "o-", label=str(f.test_date.date()))
        top = max(top, cal["predicted"].max(), cal["observed"].max())
    ax2.plot([0, top], [0, top], "k:", label=_("perfect"))
    ax2.set_xlabel(_("predicted probability (bin mean)"))
    ax2.set_ylabel(_("observed event rate"))
    ax2.set_title(_("Calibration of {model} by fold").format(model=report.chosen))
    ax2.legend()
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
