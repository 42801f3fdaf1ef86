"""How well would the score have worked on our own last year? A backtest on the records.

`backtest(district, as_of)` trains a model on the records before a past date (its labels end
by that date, its features are strictly before it), scores every enterprise as of that date,
and compares the ranking with what the records show in the `horizon` after it: the event
(a serious-or-worse accident, or a visit finding a major hazard) observed or not. No truth
file is needed, so it works on any district with enough history after the date.

Three scorers are compared on the same outcomes:
  - the model (probability, and its tiers with the direct-red override);
  - the rule baseline (the 100-point deduction grading bureaus use, docs/tiers.md);
  - "most recent findings": the major hazards, then all hazards, found at the enterprise's
    latest visit before the date (what a bureau without a model looks at first).

Precision at capacity: the bureau can visit as many enterprises in a quarter as a quarter of
the horizon really had visits (inspections dated in the horizon × 91.25 / horizon days); of
that many top-ranked enterprises, the share with an event. The outcomes are observed, so the
figures carry sampling noise; AP and precision are read against the event rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from riskplan.domain.schema import TIERS
from riskplan.i18n import _
from riskplan.load.district import District
from riskplan.score.baseline import baseline_risk, rule_grade
from riskplan.score.features import build_features, build_labels, history_end
from riskplan.score.metrics import calibration_table, precision_recall_at, ranking_metrics

#: Scorer codes (the "scorer" value set of domain/headers.py).
MODEL, BASELINE, RECENT = "model", "baseline", "recent_findings"
SCORERS = (MODEL, BASELINE, RECENT)
QUARTER_DAYS = 91.25
METRIC_COLUMNS = ("scorer", "roc_auc", "average_precision", "capacity", "precision_at_capacity",
                  "recall_at_capacity", "precision@5%", "recall@5%", "precision@20%", "brier")


class BacktestError(ValueError):
    """The records do not reach far enough past the as-of date, or not far enough before it."""


def parse_horizon(text: str) -> int:
    """'12m' -> 365 days, '6m' -> 182, '90d' -> 90, '1y' -> 365."""
    t = str(text).strip().lower()
    try:
        if t.endswith("m"):
            months = int(t[:-1])
            days = int(round(months * 365 / 12))
        elif t.endswith("y"):
            days = 365 * int(t[:-1])
        elif t.endswith("d"):
            days = int(t[:-1])
        else:
            days = int(t)
    except ValueError:
        days = 0
    if days < 30:
        raise BacktestError(_("horizon '{text}' is not a period of at least 30 days such as 12m, 6m or 90d").format(
            text=text))
    return days


@dataclass
class Backtest:
    """What `riskplan backtest` writes: metrics per scorer, calibration, outcomes by tier."""

    as_of: date
    horizon_days: int
    n: int
    events: int
    capacity: int
    metrics: pd.DataFrame            # METRIC_COLUMNS, one row per scorer
    calibration: pd.DataFrame        # the model's, by decile of probability
    by_tier: pd.DataFrame            # scorer (model / baseline), tier, n, events, event_rate, mean_probability
    curves: dict[str, dict[str, np.ndarray]]
    model_card: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def record(self) -> dict:
        """backtest.json: everything, numbers as numbers."""
        def rows(frame):
            return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                    for r in frame.to_dict(orient="records")]
        v = self.model_card.get("validation", {})
        return {"as_of": self.as_of.isoformat(), "horizon_days": self.horizon_days,
                "outcome_window": [self.as_of.isoformat(),
                                   (self.as_of + timedelta(days=self.horizon_days - 1)).isoformat()],
                "enterprises": self.n, "events": self.events, "event_rate": self.events / self.n if self.n else None,
                "capacity_per_quarter": self.capacity, "metrics": rows(self.metrics),
                "calibration": rows(self.calibration), "by_tier": rows(self.by_tier),
                "model": {"kind": self.model_card.get("kind"), "snapshots": self.model_card.get("training", {})
                          .get("snapshots"), "validation_kind": v.get("kind"), "validation_folds": v.get("n_folds")},
                "warnings": self.warnings}

    def text(self) -> str:
        fmt = lambda v: f"{v:.4f}"  # noqa: E731
        lines = [_("Backtest as of {as_of}: scored on records before it, compared with the events of the "
                   "{days} days after it ({events} events among {n} enterprises, rate {rate})").format(
            as_of=self.as_of, days=self.horizon_days, events=f"{self.events:,}", n=f"{self.n:,}",
            rate=f"{self.events / max(self.n, 1):.3f}"),
            _("Capacity: {capacity} enterprises a quarter (the visits a quarter of the horizon really had)").format(
                capacity=f"{self.capacity:,}"), "",
            self.metrics.to_string(index=False, float_format=fmt), "",
            _("Calibration of the model by decile of probability:"),
            self.calibration.to_string(index=False, float_format=fmt), "",
            _("Outcomes by tier:"), self.by_tier.to_string(index=False, float_format=fmt)]
        lines += [_("Warning: {warning}").format(warning=w) for w in self.warnings]
        return "\n".join(lines)


def recent_findings(district: District, as_of: date) -> np.ndarray:
    """Major hazards, then all hazards (as a tie-break), found at the latest visit before as_of."""
    X = build_features(district, as_of)
    return X["major_found_last_visit"].to_numpy() + X["hazards_last_visit"].to_numpy() / 1000.0


def outcome_window_check(district: District, as_of: date, horizon_days: int) -> None:
    """Refuse a horizon the records do not cover (working days after the last record)."""
    from riskplan.score.history import _working_days

    last = history_end(district).date()
    end = as_of + timedelta(days=horizon_days - 1)
    gap = _working_days(last + timedelta(days=1), end, district.policy.roster)
    if gap:
        raise BacktestError(_(
            "the records end {last}, but a {days}-day horizon from {as_of} needs them through {end}: choose an "
            "earlier --as-of (at most {latest}) or a shorter --horizon").format(
            last=last, days=horizon_days, as_of=as_of, end=end,
            latest=last + timedelta(days=1) - timedelta(days=horizon_days)))


def capacity_per_quarter(district: District, as_of: date, horizon_days: int) -> int:
    """Distinct enterprise visits a quarter of the horizon really had (at least 1)."""
    t = pd.Timestamp(as_of)
    ins = district.inspections
    inside = ins[(ins["date"] >= t) & (ins["date"] < t + pd.Timedelta(days=horizon_days))]
    visits = len(inside.drop_duplicates(["enterprise_id", "date"]))
    return max(1, int(round(visits * QUARTER_DAYS / horizon_days)))


def _scorer_row(name: str, score: np.ndarray, y: np.ndarray, capacity: int, is_probability: bool) -> dict:
    m = ranking_metrics(score, y, is_probability)
    k = capacity / len(y)
    p, r = precision_recall_at(score, y, k)
    return {"scorer": name, "roc_auc": m["roc_auc"], "average_precision": m["average_precision"],
            "capacity": capacity, "precision_at_capacity": p, "recall_at_capacity": r,
            "precision@5%": m["precision@5%"], "recall@5%": m["recall@5%"], "precision@20%": m["precision@20%"],
            "brier": m["brier"]}


def _by_tier(name: str, tiers: np.ndarray, prob: np.ndarray | None, y: np.ndarray) -> list[dict]:
    rows = []
    for t in TIERS:
        sel = tiers == t.value
        n = int(sel.sum())
        rows.append({"scorer": name, "tier": t.value, "n": n, "events": int(y[sel].sum()),
                     "event_rate": float(y[sel].mean()) if n else float("nan"),
                     "mean_probability": float(prob[sel].mean()) if (n and prob is not None) else float("nan")})
    return rows


def backtest(district: District, as_of: date, horizon_days: int = 365, seed: int = 0, kinds=None,
             progress: Callable[[str], None] | None = None, model=None) -> Backtest:
    """Train before `as_of` (unless `model` is given), score as of it, compare with the records after."""
    from riskplan.score.model import CANDIDATES, train
    from riskplan.score.tiering import tier_district, tier_warnings

    say = progress or (lambda _msg: None)
    as_of = pd.Timestamp(as_of).date()
    outcome_window_check(district, as_of, horizon_days)
    if model is None:
        model = train(district, as_of, seed=seed, kinds=tuple(kinds or CANDIDATES), progress=say).model
    say(_("scoring as of {as_of} and reading the outcomes of the {days} days after it").format(
        as_of=as_of, days=horizon_days))
    tiers = tier_district(district, model, as_of)
    y = build_labels(district, as_of, horizon_days).to_numpy()
    prob = tiers["probability"].to_numpy()
    grade = rule_grade(district, as_of)
    base = baseline_risk(grade)
    recent = recent_findings(district, as_of)
    capacity = min(capacity_per_quarter(district, as_of, horizon_days), len(y))
    metrics = pd.DataFrame([_scorer_row(MODEL, prob, y, capacity, True), _scorer_row(BASELINE, base, y, capacity, False),
                            _scorer_row(RECENT, recent, y, capacity, False)])[list(METRIC_COLUMNS)]
    by_tier = pd.DataFrame(_by_tier(MODEL, tiers["tier"].to_numpy(), prob, y)
                           + _by_tier(BASELINE, grade["tier"].to_numpy(), None, y))
    from riskplan.score.model import _curve
    curves = {MODEL: _curve(prob, y), BASELINE: _curve(base, y), RECENT: _curve(recent, y)}
    warnings = tier_warnings(tiers) + list(model.card.get("validation", {}).get("warnings", []))
    return Backtest(as_of, horizon_days, len(y), int(y.sum()), capacity, metrics,
                    calibration_table(prob, y), by_tier, curves, dict(model.card), warnings)


# ---------------------------------------------------------------- the written folder

def backtest_tables(bt: Backtest) -> dict[str, pd.DataFrame]:
    """The tables as written, headers and scorer/tier names in the current language."""
    from riskplan.domain.headers import display_frame

    return {"backtest": display_frame("backtest", bt.metrics),
            "backtest_calibration": display_frame("backtest_calibration", bt.calibration),
            "backtest_tiers": display_frame("backtest_tiers", bt.by_tier)}


def plot_backtest(bt: Backtest, path) -> None:
    """PNG: precision in the top k% per scorer, with the capacity marked; the model's calibration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from riskplan.domain.headers import value_label
    from riskplan.score.metrics import cjk_font_rc

    with plt.rc_context(cjk_font_rc()):
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
        for name, curve in bt.curves.items():
            ax1.plot(100 * curve["k"], curve["precision"], "-" if name == MODEL else "--",
                     label=value_label("scorer", name))
        ax1.axvline(100 * bt.capacity / bt.n, color="grey", linestyle=":", label=_("capacity of a quarter"))
        ax1.axhline(bt.events / max(bt.n, 1), color="black", linewidth=0.8, label=_("event rate"))
        ax1.set_xlabel(_("top k% of enterprises by score"))
        ax1.set_ylabel(_("precision (share with an event)"))
        ax1.set_title(_("Backtest as of {as_of}: precision at top k").format(as_of=bt.as_of))
        ax1.legend()
        ax1.grid(alpha=0.3)
        cal = bt.calibration
        top = float(max(cal["predicted"].max(), cal["observed"].max()))
        ax2.plot(cal["predicted"], cal["observed"], "o-", label=value_label("scorer", MODEL))
        ax2.plot([0, top], [0, top], "k:", label=_("perfect"))
        ax2.set_xlabel(_("predicted probability (decile mean)"))
        ax2.set_ylabel(_("observed event rate"))
        ax2.set_title(_("Calibration by decile"))
        ax2.legend()
        ax2.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)


def write_backtest(bt: Backtest, out_dir, force: bool = False, table_format: str = "csv", inputs=()) -> list[str]:
    """Write OUT/: backtest.csv|xlsx (+ calibration and tiers tables), backtest.png, backtest.json."""
    import json
    from pathlib import Path

    from riskplan.io import sheets_to_xlsx_bytes, write_table
    from riskplan.outputs import atomic_output_dir, atomic_write_text

    out_dir = Path(out_dir)
    tables = backtest_tables(bt)
    names = []
    with atomic_output_dir(out_dir, force, inputs=inputs) as staging:
        if table_format == "xlsx":
            from riskplan.outputs import atomic_write_bytes

            atomic_write_bytes(staging / "backtest.xlsx", sheets_to_xlsx_bytes(tables))
            names.append("backtest.xlsx")
        else:
            for name, frame in tables.items():
                write_table(frame, staging / f"{name}.csv")
                names.append(f"{name}.csv")
        plot_backtest(bt, staging / "backtest.png")
        atomic_write_text(staging / "backtest.json", json.dumps(bt.record(), indent=2, ensure_ascii=False) + "\n")
        names += ["backtest.png", "backtest.json"]
    return names


__all__ = ["Backtest", "BacktestError", "backtest", "write_backtest", "parse_horizon", "recent_findings",
           "capacity_per_quarter", "SCORERS"]
