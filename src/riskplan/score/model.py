"""The learned risk model: train, validate over time, explain, save and load safely.

Training stacks feature snapshots (features as of T_s, label = event in [T_s, T_s + 12
months)) taken every `step_months` up to as_of - 12 months, so no label reaches past the
as-of date. Two scikit-learn candidates compete -- a regularised logistic regression and a
histogram gradient-boosted model -- in rolling temporal validation: for each fold date T_k
a candidate is trained on snapshots whose labels end by T_k and scored on the events of
[T_k, T_k + 12 months). The better mean average precision wins and is refitted on all
snapshots.

The score is calibrated: the base model's log-odds are mapped to a probability by an
isotonic or Platt (sigmoid) calibrator fitted on out-of-fold log-odds (folds grouped by
enterprise, so one enterprise's snapshots never sit on both sides).

Explanations: the contribution of a feature group to an enterprise's log-odds is the change
in the base model's log-odds when that group's features are set to the district reference
(median of each numeric feature, most frequent industry in the training data). For the
logistic model this equals coefficient x (x - reference) summed over the group exactly; for
boosting it is the same "what if this enterprise were typical in this respect" question
asked of the trees. Reasons are the groups with the largest contributions.

Saved artifacts are skops files (no pickle); loading accepts only the types in
`TRUSTED_TYPES` and refuses files that are not riskplan models or were built on another
feature set.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from riskplan import __version__
from riskplan.i18n import _, ngettext
from riskplan.load.district import District
from riskplan.score.baseline import baseline_risk, rule_grade
from riskplan.score.estimators import (  # re-exported: the model's building blocks
    CANDIDATES,
    apply_calibrator,
    feature_groups,
    feature_lists,
    fit_calibrator,
    make_estimator,
    reference_row,
)
from riskplan.score.features import (
    FEATURE_VERSION,
    HORIZON_DAYS,
    ExtraFeatureError,
    build_features,
    build_labels,
    extra_columns,
    history_end,
    history_start,
    policy_extra,
    snapshot_dates,
)
from riskplan.score.metrics import calibration_table, ranking_metrics

MODEL_FORMAT = "riskplan-risk-model"
MODEL_FORMAT_VERSION = 1
CALIBRATIONS = ("sigmoid", "isotonic")
#: Recalibrate on the most recent snapshot only when it holds at least this many events (and non-events).
MIN_RECENT_EVENTS = 30
#: Days of history a training snapshot needs before it, preferred first (see `fold_plan`).
MIN_HISTORY_DAYS = (365, 182)
#: ValidationReport.kind: out of time (rolling folds) or, for a short history, held-out enterprises.
TEMPORAL, HELD_OUT = "temporal", "held-out enterprises"
#: Native threads (OpenMP/BLAS) while fitting and scoring. One: on a small shared machine
#: OpenMP's busy-waiting makes boosting slower with more threads than with one.
THREADS = 1


class ModelError(ValueError):
    """A model file that cannot be used (wrong kind of file, untrusted content, mismatch)."""


class TrainingError(ValueError):
    """The district cannot train a model (too little history, no events to learn from)."""


@dataclass
class LoadedModel:
    """A calibrated risk model ready to score: base pipeline + calibrator + reference."""

    kind: str
    calibration: str
    base: Pipeline
    calibrator: object
    reference: pd.DataFrame
    card: dict = field(default_factory=dict)
    path: Path | None = None
    #: features use team-adjusted findings (riskplan.score.inspectors); saved with the model
    inspector_adjustment: bool = False
    #: a bureau's own enterprise columns the model reads (column -> "numeric" / "categorical")
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        return feature_lists(self.extra)[0]

    @property
    def numeric(self) -> list[str]:
        return feature_lists(self.extra)[1]

    @property
    def categorical(self) -> list[str]:
        return feature_lists(self.extra)[2]

    @property
    def groups(self) -> dict[str, tuple[str, ...]]:
        return feature_groups(self.extra)

    def decision(self, X: pd.DataFrame) -> np.ndarray:
        """Base model log-odds (uncalibrated)."""
        with threadpool_limits(THREADS):
            return self.base.decision_function(X[self.feature_names])

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return apply_calibrator(self.calibrator, self.decision(X))

    def contributions(self, X: pd.DataFrame, base_scores: np.ndarray | None = None) -> pd.DataFrame:
        """Log-odds contribution of each feature group (columns) per row: score(x) minus the
        score with the group set to the reference. Rows already at the reference get 0."""
        X = X[self.feature_names]
        s = self.decision(X) if base_scores is None else base_scores
        groups = self.groups
        out = np.zeros((len(X), len(groups)))
        for j, (group, cols) in enumerate(groups.items()):
            cols = list(cols)
            differs = np.zeros(len(X), dtype=bool)
            for c in cols:
                ref = self.reference[c].iloc[0]
                differs |= (X[c].to_numpy() != ref) & ~(pd.isna(X[c]).to_numpy() & pd.isna(ref))
            if not differs.any():
                continue
            Xg = X.loc[differs].copy() if not differs.all() else X.copy()
            for c in cols:
                Xg[c] = self.reference[c].iloc[0]
            out[differs, j] = s[differs] - self.decision(Xg)
        return pd.DataFrame(out, index=X.index, columns=list(groups))

    @property
    def name(self) -> str:
        return self.path.name if self.path else "(unsaved)"


def fit_model(X: pd.DataFrame, y: pd.Series, groups: np.ndarray, kind: str, calibration: str = "sigmoid",
              seed: int = 0, folds: int = 3, recent: np.ndarray | None = None,
              extra: dict[str, str] | None = None) -> LoadedModel:
    """Fit base model on all rows and a calibrator on its out-of-fold (grouped) log-odds.

    `recent` (a row mask: the most recent snapshot) recalibrates on that period only when it has
    at least MIN_RECENT_EVENTS events and as many non-events: records drift (inspection volume,
    firms improving), and the latest period's event rate is the one the next year resembles.
    The ranking is the base model's either way (the calibrator is monotone)."""
    with threadpool_limits(THREADS):
        return _fit_model(X, y, groups, kind, calibration, seed, folds, recent, extra or {})


def _fit_model(X, y, groups, kind, calibration, seed, folds, recent=None, extra=None) -> LoadedModel:
    extra = dict(extra or {})
    X = X[feature_lists(extra)[0]]
    events = int(y.sum())
    if events < folds or events > len(y) - folds:
        raise TrainingError(_("cannot learn from {rows} training rows with {events} events: need events "
                              "and non-events in every fold (the event: a serious-or-worse accident or a visit "
                              "finding a major hazard)").format(rows=f"{len(y):,}", events=f"{events:,}"))
    yv = y.to_numpy()
    oof = np.zeros(len(X))
    splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tr, te in splitter.split(X, yv, groups):
        est = make_estimator(kind, seed, extra).fit(X.iloc[tr], yv[tr])
        oof[te] = est.decision_function(X.iloc[te])
    base = make_estimator(kind, seed, extra).fit(X, yv)
    use = np.ones(len(yv), dtype=bool)
    if recent is not None:
        k = int(yv[recent].sum())
        if MIN_RECENT_EVENTS <= k <= int(recent.sum()) - MIN_RECENT_EVENTS:
            use = np.asarray(recent, dtype=bool)
    cal = fit_calibrator(oof[use], yv[use], calibration)
    model = LoadedModel(kind=kind, calibration=calibration, base=base, calibrator=cal,
                        reference=reference_row(X, extra), extra=extra)
    model.calibrated_on_recent = bool(not use.all())
    return model


# ---------------------------------------------------------------- temporal validation

@dataclass
class FoldResult:
    test_date: pd.Timestamp
    train_dates: list[pd.Timestamp]
    metrics: dict[str, dict[str, float]]   # candidate / "baseline" -> metrics
    n: int
    events: int
    calibration: dict[str, pd.DataFrame]
    curves: dict[str, dict[str, np.ndarray]]
    predictions: dict[str, np.ndarray] = field(default_factory=dict)   # candidate -> probabilities
    outcomes: np.ndarray | None = None                                  # observed events (0/1)


@dataclass
class ValidationReport:
    folds: list[FoldResult]
    chosen: str
    audit: pd.DataFrame | None = None   # bias audit of the chosen candidate on the latest fold
    kind: str = TEMPORAL                # TEMPORAL or HELD_OUT
    min_history_days: int = MIN_HISTORY_DAYS[0]

    def warnings(self) -> list[str]:
        """What a reader of the card must know about how far the validation can be trusted."""
        out = []
        if self.kind == HELD_OUT:
            out.append(_("the history is too short for a fold out of time: the model was validated on enterprises "
                         "held out of the latest snapshot, which does not show how it ages"))
        if len(self.folds) == 1:
            out.append(_("the choice of {model} rests on one validation fold").format(model=self.chosen))
        return out

    def summary(self) -> pd.DataFrame:
        """Mean over folds of each metric, per candidate and the baseline."""
        rows = {}
        for name in self.folds[0].metrics:
            rows[name] = pd.DataFrame([f.metrics[name] for f in self.folds]).mean()
        return pd.DataFrame(rows).T

    def per_fold(self) -> pd.DataFrame:
        rows = []
        for f in self.folds:
            for name, m in f.metrics.items():
                rows.append({"fold": f.test_date.date().isoformat(), "scorer": name, "n": f.n,
                             "events": f.events, **m})
        return pd.DataFrame(rows)

    def text(self) -> str:
        fmt = lambda v: f"{v:.4f}"  # noqa: E731
        cols = ["fold", "scorer", "n", "events", "roc_auc", "average_precision", "precision@1%",
                "precision@5%", "precision@20%", "recall@1%", "recall@5%", "recall@20%", "brier"]
        intro = (_("Rolling temporal validation: for each fold date T, train on snapshots whose 12-month\n"
                   "label windows end by T, evaluate on the events of [T, T + 12 months).") if self.kind == TEMPORAL
                 else _("Validation on held-out enterprises: the enterprises are split in three groups; each group's\n"
                        "latest snapshot is scored by a model trained on the other groups' snapshots."))
        lines = [intro, ngettext("{count} fold.", "{count} folds.", len(self.folds)).format(count=len(self.folds)),
                 *[_("Warning: {warning}").format(warning=w) for w in self.warnings()], "",
                 self.per_fold()[cols].to_string(index=False, float_format=fmt), "",
                 _("Mean over folds:"), self.summary().to_string(float_format=fmt), "",
                 _("Chosen: {model} (highest mean average precision)").format(model=self.chosen), ""]
        last = self.folds[-1]
        lines.append(_("Calibration of {model} on the latest fold ({date}):").format(
            model=self.chosen, date=last.test_date.date()))
        lines.append(last.calibration[self.chosen].to_string(index=False, float_format=fmt))
        if self.audit is not None:
            from riskplan.score.metrics import bias_audit_text
            lines += ["", _("Bias audit of {model} on the latest fold ({date}; observed events, "
                            "tiers by the district's policy):").format(model=self.chosen, date=last.test_date.date()),
                      bias_audit_text(self.audit)]
        return "\n".join(lines)


def _curve(score: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    ks = np.linspace(0.005, 0.30, 60)
    from riskplan.score.metrics import precision_recall_at
    return {"k": ks, "precision": np.array([precision_recall_at(score, y, k)[0] for k in ks])}


def fold_plan(district: District, as_of: date, step_months: int = 6,
              n_folds: int = 3) -> tuple[int, list[pd.Timestamp]]:
    """(minimum history before a training snapshot in days, the temporal fold dates usable).

    A year of history before each snapshot when that leaves every fold usable; half a year
    when it leaves more folds (a history one day short of three years still validates over
    time); fold dates without an earlier snapshot whose label window ends by them are dropped."""
    t = pd.Timestamp(as_of).normalize()
    last_test = t - pd.Timedelta(days=HORIZON_DAYS)
    fold_dates = [pd.Timestamp(last_test - pd.DateOffset(years=i)) for i in range(n_folds)][::-1]
    best: tuple[int, list[pd.Timestamp]] | None = None
    for min_days in MIN_HISTORY_DAYS:
        dates = snapshot_dates(district, as_of, step_months, min_days)
        usable = [fd for fd in fold_dates if any(d + pd.Timedelta(days=HORIZON_DAYS) <= fd for d in dates)]
        if best is None or len(usable) > len(best[1]):
            best = (min_days, usable)
    return best


def temporal_validation(district: District, as_of: date, kinds=CANDIDATES, calibration: str = "sigmoid",
                        seed: int = 0, step_months: int = 6, n_folds: int = 3,
                        progress: Callable[[str], None] | None = None,
                        cache: dict | None = None, inspector_adjustment: bool = False) -> ValidationReport:
    """Rolling-origin validation over the last `n_folds` yearly fold dates before as_of - 12 months
    (fewer when the history is short; see `fold_plan`). With no temporal fold at all (two years of
    records), one fold of held-out enterprises on the latest snapshot (`held_out_validation`)."""
    say = progress or (lambda _msg: None)
    extra = policy_extra(district)
    t = pd.Timestamp(as_of).normalize()
    min_days, fold_dates = fold_plan(district, as_of, step_months, n_folds)
    all_dates = snapshot_dates(district, as_of, step_months, min_days)
    if not fold_dates:
        say(_("no temporal fold fits the history; validating on held-out enterprises of the latest snapshot"))
        return held_out_validation(district, as_of, kinds, calibration, seed, step_months, say, cache,
                                   inspector_adjustment=inspector_adjustment)
    cache = {} if cache is None else cache

    def frame(d: pd.Timestamp):
        if d not in cache:
            cache[d] = (build_features(district, d, inspector_adjustment, extra), build_labels(district, d))
        return cache[d]

    folds = []
    for fd in fold_dates:
        fd = pd.Timestamp(fd)
        train_dates = [d for d in all_dates if d + pd.Timedelta(days=HORIZON_DAYS) <= fd]
        if not train_dates:
            say(_("fold {date}: skipped (no earlier snapshot with a complete label window)").format(date=fd.date()))
            continue
        Xs, ys = zip(*(frame(d) for d in train_dates))
        X = pd.concat(Xs)
        y = pd.concat(ys)
        groups = np.tile(np.arange(len(district.enterprises)), len(train_dates))
        Xt, yt = frame(fd)
        metrics, cal, curves, preds = {}, {}, {}, {}
        for kind in kinds:
            say(_("fold {date}: fitting {model} on {snapshots} snapshot(s), {rows} rows").format(
                date=fd.date(), model=kind, snapshots=len(train_dates), rows=f"{len(X):,}"))
            m = fit_model(X, y, groups, kind, calibration, seed, recent=_latest_rows(len(X), len(district.enterprises)),
                          extra=extra)
            p = m.predict_proba(Xt)
            metrics[kind] = ranking_metrics(p, yt.to_numpy(), True)
            cal[kind] = calibration_table(p, yt.to_numpy())
            curves[kind] = _curve(p, yt.to_numpy())
            preds[kind] = p
        grade = rule_grade(district, fd)
        b = baseline_risk(grade)
        metrics["baseline"] = ranking_metrics(b, yt.to_numpy(), False)
        curves["baseline"] = _curve(b, yt.to_numpy())
        folds.append(FoldResult(fd, train_dates, metrics, len(yt), int(yt.sum()), cal, curves, preds,
                                yt.to_numpy()))
    if not folds:
        raise TrainingError(_(
            "not enough history to train: the history starts {start}, and a training snapshot needs half a "
            "year of history before it plus a complete 12-month label window before the as-of date {as_of} "
            "(at least a year and a half of records)").format(start=history_start(district).date(), as_of=t.date()))
    return _choose(district, ValidationReport(folds, chosen="", kind=TEMPORAL, min_history_days=min_days), kinds)


def _choose(district: District, report: ValidationReport, kinds) -> ValidationReport:
    summary = report.summary()
    cand = summary.loc[[k for k in kinds]]
    report.chosen = str(cand["average_precision"].idxmax())
    report.audit = _fold_audit(district, report.folds[-1], report.chosen)
    return report


def held_out_validation(district: District, as_of: date, kinds=CANDIDATES, calibration: str = "sigmoid",
                        seed: int = 0, step_months: int = 6, progress: Callable[[str], None] | None = None,
                        cache: dict | None = None, groups_k: int = 3,
                        inspector_adjustment: bool = False) -> ValidationReport:
    """One fold for a history too short to validate out of time: enterprises split in `groups_k`
    groups; each group's latest snapshot is scored by candidates fitted on the other groups'
    snapshots (all of them), so no enterprise is scored by a model that saw it."""
    say = progress or (lambda _msg: None)
    extra = policy_extra(district)
    min_days = MIN_HISTORY_DAYS[-1]
    dates = snapshot_dates(district, as_of, step_months, min_days)
    if not dates:
        raise TrainingError(_(
            "not enough history to train: the history starts {start}, and a training snapshot needs half a "
            "year of history before it plus a complete 12-month label window before the as-of date {as_of} "
            "(at least a year and a half of records)").format(start=history_start(district).date(),
                                                    as_of=pd.Timestamp(as_of).date()))
    cache = {} if cache is None else cache
    for d in dates:
        if d not in cache:
            cache[d] = (build_features(district, d, inspector_adjustment, extra), build_labels(district, d))
    n = len(district.enterprises)
    X = pd.concat([cache[d][0] for d in dates])
    y = pd.concat([cache[d][1] for d in dates])
    ent = np.tile(np.arange(n), len(dates))
    test = dates[-1]
    Xt, yt = cache[test]
    rng = np.random.Generator(np.random.PCG64(seed))
    group = rng.permutation(np.arange(n) % groups_k)
    metrics, cal, curves, preds = {}, {}, {}, {}
    for kind in kinds:
        p = np.zeros(n)
        for g in range(groups_k):
            say(_("held-out group {group} of {groups}: fitting {model}").format(group=g + 1, groups=groups_k,
                                                                               model=kind))
            train_rows = group[ent] != g
            latest = (np.arange(len(X)) >= len(X) - n)[train_rows]
            m = fit_model(X[train_rows], y[train_rows], ent[train_rows], kind, calibration, seed, recent=latest,
                          extra=extra)
            p[group == g] = m.predict_proba(Xt[group == g])
        metrics[kind] = ranking_metrics(p, yt.to_numpy(), True)
        cal[kind] = calibration_table(p, yt.to_numpy())
        curves[kind] = _curve(p, yt.to_numpy())
        preds[kind] = p
    b = baseline_risk(rule_grade(district, test))
    metrics["baseline"] = ranking_metrics(b, yt.to_numpy(), False)
    curves["baseline"] = _curve(b, yt.to_numpy())
    fold = FoldResult(test, dates, metrics, n, int(yt.sum()), cal, curves, preds, yt.to_numpy())
    return _choose(district, ValidationReport([fold], chosen="", kind=HELD_OUT, min_history_days=min_days), kinds)


def _latest_rows(rows: int, per_snapshot: int) -> np.ndarray:
    """Mask of the last snapshot's rows in a stack of snapshots (stacked oldest first)."""
    return np.arange(rows) >= rows - per_snapshot


def _fold_audit(district: District, fold: FoldResult, kind: str) -> pd.DataFrame:
    """Bias audit out of time: the chosen candidate's probabilities on the latest fold against
    the events observed after it (what a real district without a truth file can show)."""
    from riskplan.score.cutoffs import tiers_from_probability
    from riskplan.score.metrics import bias_audit

    p = fold.predictions[kind]
    frame = district.enterprises[["subdistrict", "industry", "size_class"]].assign(
        probability=p, tier=tiers_from_probability(p, district.policy.tiering))
    return bias_audit(frame, fold.outcomes)


# ---------------------------------------------------------------- training end to end

@dataclass
class TrainResult:
    model: LoadedModel
    validation: ValidationReport
    card: dict
    seconds: float = 0.0   # wall time; printed, not stored, so saved folders are reproducible


def _fingerprint(district: District) -> dict:
    try:
        files = district.fingerprints()
    except (OSError, TypeError):
        files = {}
    import hashlib
    h = hashlib.sha256()
    for name in ("enterprises", "accidents", "inspections"):
        h.update(pd.util.hash_pandas_object(district.table(name), index=False).to_numpy().tobytes())
    return {"files": files, "tables_sha256": h.hexdigest()}


def library_versions() -> dict[str, str]:
    import matplotlib
    import scipy
    import sklearn
    import skops
    return {"python": platform.python_version(), "riskplan": __version__, "scikit-learn": sklearn.__version__,
            "skops": skops.__version__, "numpy": np.__version__, "pandas": pd.__version__,
            "scipy": scipy.__version__, "matplotlib": matplotlib.__version__}


def train(district: District, as_of: date | None = None, seed: int = 0, kinds=CANDIDATES,
          calibration: str = "sigmoid", step_months: int = 6, n_folds: int = 3,
          progress: Callable[[str], None] | None = None, history_through: date | None = None,
          inspector_adjustment: bool = True) -> TrainResult:
    """Validate the candidates over time, refit the best on all snapshots, build its card.

    The as-of date and the end of the history come from `riskplan.score.history.history_window`
    (declared `history_through`, or inferred across non-working days)."""
    with threadpool_limits(THREADS):
        return _train(district, as_of, seed, kinds, calibration, step_months, n_folds, progress, history_through,
                      inspector_adjustment)


def _train(district, as_of, seed, kinds, calibration, step_months, n_folds, progress, history_through,
           inspector_adjustment) -> TrainResult:
    from riskplan.score.history import HistoryError, history_window

    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    try:
        window = history_window(district, as_of, history_through)
    except HistoryError as exc:
        raise TrainingError(str(exc)) from None
    say(window.note)
    extra = policy_extra(district)
    try:
        extra_columns(district, extra)   # a missing column or a bad cell: said before any work
    except ExtraFeatureError as exc:
        raise TrainingError(str(exc)) from None
    as_of = pd.Timestamp(window.as_of)
    cache: dict = {}
    say(_("temporal validation (up to {folds} folds, candidates: {models})").format(
        folds=n_folds, models=", ".join(kinds)))
    report = temporal_validation(district, as_of.date(), kinds, calibration, seed, step_months, n_folds, say, cache,
                                 inspector_adjustment)
    for warning in report.warnings():
        say(_("Warning: {warning}").format(warning=warning))
    dates = snapshot_dates(district, as_of.date(), step_months, report.min_history_days)
    say(_("refitting {model} on {snapshots} snapshots ({first} … {last})").format(
        model=report.chosen, snapshots=len(dates), first=dates[0].date(), last=dates[-1].date()))
    parts = [cache[d] if d in cache else (build_features(district, d, inspector_adjustment, extra), build_labels(district, d))
             for d in dates]
    X = pd.concat([p[0] for p in parts])
    y = pd.concat([p[1] for p in parts])
    groups = np.tile(np.arange(len(district.enterprises)), len(dates))
    model = fit_model(X, y, groups, report.chosen, calibration, seed,
                      recent=_latest_rows(len(X), len(district.enterprises)), extra=extra)
    model.inspector_adjustment = bool(inspector_adjustment)
    elapsed = time.perf_counter() - started
    summary = report.summary()
    card = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "feature_version": FEATURE_VERSION,
        "features": model.feature_names,
        "feature_groups": {g: list(c) for g, c in model.groups.items()},
        **({"extra_features": dict(extra)} if extra else {}),
        "kind": model.kind,
        "calibration": calibration,
        "seed": seed,
        "inspector_adjustment": bool(inspector_adjustment),
        "calibrated_on": (dates[-1].date().isoformat() if getattr(model, "calibrated_on_recent", False)
                          else "all snapshots"),
        "as_of": as_of.date().isoformat(),
        "label": "serious-or-worse accident, or a visit finding >= 1 major hazard, in the 12 months after the snapshot date",
        "training": {
            "district": str(district.path),
            "fingerprint": _fingerprint(district),
            "enterprises": int(len(district.enterprises)),
            "history": [history_start(district).date().isoformat(), history_end(district).date().isoformat()],
            "history_through": window.through.isoformat(),
            "history_basis": window.basis,
            "min_history_days": report.min_history_days,
            "snapshots": [d.date().isoformat() for d in dates],
            "rows": int(len(X)),
            "events": int(y.sum()),
        },
        "validation": {
            "kind": report.kind,
            "n_folds": len(report.folds),
            "folds": [f.test_date.date().isoformat() for f in report.folds],
            "warnings": report.warnings(),
            "chosen": report.chosen,
            "mean": {name: {k: _num(v) for k, v in row.items()} for name, row in summary.iterrows()},
            "per_fold": json.loads(report.per_fold().to_json(orient="records")),
            "latest_fold_calibration": json.loads(
                report.folds[-1].calibration[report.chosen].to_json(orient="records", double_precision=6)),
            "bias_audit_flagged": [f"{r.grouping}={r.group}" for r in report.audit.itertuples() if r.flagged],
        },
        "libraries": library_versions(),
    }
    model.card = card
    return TrainResult(model, report, card, seconds=round(elapsed, 2))


def _num(v):
    v = float(v)
    return None if np.isnan(v) else round(v, 6)
