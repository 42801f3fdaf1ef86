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

import io
import json
import platform
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from . import __version__
from .baseline import baseline_risk, rule_grade
from .district import District
from .evaluation import calibration_table, ranking_metrics
from .features import (
    CATEGORICAL,
    FEATURE_GROUPS,
    FEATURE_NAMES,
    FEATURE_VERSION,
    HORIZON_DAYS,
    NUMERIC,
    build_features,
    build_labels,
    history_end,
    history_start,
    snapshot_dates,
)
from .io import atomic_write_bytes, sha256_file

MODEL_FORMAT = "riskplan-risk-model"
MODEL_FORMAT_VERSION = 1
MODEL_FILE = "model.skops"
CARD_JSON = "model_card.json"
CARD_MD = "MODEL_CARD.md"
REPORT_TXT = "validation_report.txt"
REPORT_PNG = "validation.png"
CANDIDATES = ("logistic", "boosting")
CALIBRATIONS = ("sigmoid", "isotonic")
#: Native threads (OpenMP/BLAS) while fitting and scoring. One: on a shared 2-core machine
#: OpenMP's busy-waiting made boosting 6x slower with 2 threads than with 1 (measured).
THREADS = 1

#: The only types a model file may contain: every object node in the file's schema is
#: checked against this list before anything is loaded (skops' own default-trusted types
#: are not relied on), and skops is then told to trust exactly these.
TRUSTED_TYPES: tuple[str, ...] = (
    "builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int", "builtins.float",
    "builtins.bool", "builtins.NoneType", "builtins.slice",
    "numpy.ndarray", "numpy.float64", "numpy.int64", "numpy.uint64", "numpy.dtype",
    "numpy.random._generator.Generator",
    "functools.partial",
    "sklearn.utils.validation.check_array",
    "sklearn.pipeline.Pipeline",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._encoders.OrdinalEncoder",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.isotonic.IsotonicRegression",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.Interval",
    "sklearn._loss._loss.CyHalfBinomialLoss",
)


def schema_types(file: Path) -> set[str]:
    """Every `module.class` named in a skops file's schema (read as JSON, nothing executed)."""
    with zipfile.ZipFile(file) as zf:
        schema = json.loads(zf.read("schema.json"))
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__module__" in node and "__class__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


class ModelError(ValueError):
    """A model file that cannot be used (wrong kind of file, untrusted content, mismatch)."""


class TrainingError(ValueError):
    """The district cannot train a model (too little history, no events to learn from)."""


# ---------------------------------------------------------------- estimators

def make_estimator(kind: str, seed: int = 0) -> Pipeline:
    """An unfitted base pipeline of the given kind; input = the FEATURE_NAMES frame."""
    if kind == "logistic":
        pre = ColumnTransformer([
            ("num", StandardScaler(), list(NUMERIC)),
            ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=20, sparse_output=False), list(CATEGORICAL)),
        ])
        return Pipeline([("pre", pre), ("clf", LogisticRegression(C=0.3, max_iter=3000, random_state=seed))])
    if kind == "boosting":
        pre = ColumnTransformer([
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                   encoded_missing_value=np.nan, min_frequency=20), list(CATEGORICAL)),
            ("num", "passthrough", list(NUMERIC)),
        ])
        clf = HistGradientBoostingClassifier(
            learning_rate=0.08, max_iter=120, max_leaf_nodes=15, min_samples_leaf=40,
            l2_regularization=1.0, categorical_features=[0], early_stopping=False, random_state=seed)
        return Pipeline([("pre", pre), ("clf", clf)])
    raise ValueError(f"unknown model kind '{kind}' (use one of {', '.join(CANDIDATES)})")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def fit_calibrator(scores: np.ndarray, y: np.ndarray, method: str):
    if method == "isotonic":
        return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, y)
    if method == "sigmoid":
        return LogisticRegression(C=1e6, max_iter=1000).fit(scores.reshape(-1, 1), y)
    raise ValueError(f"unknown calibration '{method}'")


def apply_calibrator(calibrator, scores: np.ndarray) -> np.ndarray:
    if isinstance(calibrator, IsotonicRegression):
        return calibrator.predict(scores)
    return calibrator.predict_proba(scores.reshape(-1, 1))[:, 1]


def reference_row(X: pd.DataFrame) -> pd.DataFrame:
    """The district reference enterprise: median numeric features, most frequent industry."""
    ref = {c: [float(X[c].median())] for c in NUMERIC}
    for c in CATEGORICAL:
        ref[c] = [str(X[c].mode().iloc[0])]
    return pd.DataFrame(ref)[list(FEATURE_NAMES)]


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

    def decision(self, X: pd.DataFrame) -> np.ndarray:
        """Base model log-odds (uncalibrated)."""
        with threadpool_limits(THREADS):
            return self.base.decision_function(X[list(FEATURE_NAMES)])

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return apply_calibrator(self.calibrator, self.decision(X))

    def contributions(self, X: pd.DataFrame, base_scores: np.ndarray | None = None) -> pd.DataFrame:
        """Log-odds contribution of each feature group (columns) per row: score(x) minus the
        score with the group set to the reference. Rows already at the reference get 0."""
        X = X[list(FEATURE_NAMES)]
        s = self.decision(X) if base_scores is None else base_scores
        out = np.zeros((len(X), len(FEATURE_GROUPS)))
        for j, (group, cols) in enumerate(FEATURE_GROUPS.items()):
            cols = list(cols)
            differs = np.zeros(len(X), dtype=bool)
            for c in cols:
                differs |= (X[c].to_numpy() != self.reference[c].iloc[0])
            if not differs.any():
                continue
            Xg = X.loc[differs].copy() if not differs.all() else X.copy()
            for c in cols:
                Xg[c] = self.reference[c].iloc[0]
            out[differs, j] = s[differs] - self.decision(Xg)
        return pd.DataFrame(out, index=X.index, columns=list(FEATURE_GROUPS))

    @property
    def name(self) -> str:
        return self.path.name if self.path else "(unsaved)"


def fit_model(X: pd.DataFrame, y: pd.Series, groups: np.ndarray, kind: str, calibration: str = "sigmoid",
              seed: int = 0, folds: int = 3) -> LoadedModel:
    """Fit base model on all rows and a calibrator on its out-of-fold (grouped) log-odds."""
    with threadpool_limits(THREADS):
        return _fit_model(X, y, groups, kind, calibration, seed, folds)


def _fit_model(X, y, groups, kind, calibration, seed, folds) -> LoadedModel:
    X = X[list(FEATURE_NAMES)]
    events = int(y.sum())
    if events < folds or events > len(y) - folds:
        raise TrainingError(f"cannot learn from {len(y):,} training rows with {events:,} events: need events "
                            "and non-events in every fold (the event: a serious-or-worse accident or a visit "
                            "finding a major hazard)")
    yv = y.to_numpy()
    oof = np.zeros(len(X))
    splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tr, te in splitter.split(X, yv, groups):
        est = make_estimator(kind, seed).fit(X.iloc[tr], yv[tr])
        oof[te] = est.decision_function(X.iloc[te])
    base = make_estimator(kind, seed).fit(X, yv)
    cal = fit_calibrator(oof, yv, calibration)
    return LoadedModel(kind=kind, calibration=calibration, base=base, calibrator=cal, reference=reference_row(X))


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
        lines = ["Rolling temporal validation: for each fold date T, train on snapshots whose 12-month",
                 "label windows end by T, evaluate on the events of [T, T + 12 months).", "",
                 self.per_fold()[cols].to_string(index=False, float_format=fmt), "",
                 "Mean over folds:", self.summary().to_string(float_format=fmt), "",
                 f"Chosen: {self.chosen} (highest mean average precision)", ""]
        last = self.folds[-1]
        lines.append(f"Calibration of {self.chosen} on the latest fold ({last.test_date.date()}):")
        lines.append(last.calibration[self.chosen].to_string(index=False, float_format=fmt))
        if self.audit is not None:
            from .evaluation import bias_audit_text
            lines += ["", f"Bias audit of {self.chosen} on the latest fold ({last.test_date.date()}; observed events, "
                          "tiers by the district's policy):", bias_audit_text(self.audit)]
        return "\n".join(lines)


def _curve(score: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    ks = np.linspace(0.005, 0.30, 60)
    from .evaluation import precision_recall_at
    return {"k": ks, "precision": np.array([precision_recall_at(score, y, k)[0] for k in ks])}


def temporal_validation(district: District, as_of: date, kinds=CANDIDATES, calibration: str = "sigmoid",
                        seed: int = 0, step_months: int = 6, n_folds: int = 3,
                        progress: Callable[[str], None] | None = None,
                        cache: dict | None = None) -> ValidationReport:
    """Rolling-origin validation over the last `n_folds` yearly fold dates before as_of - 12 months."""
    say = progress or (lambda _msg: None)
    t = pd.Timestamp(as_of).normalize()
    last_test = t - pd.Timedelta(days=HORIZON_DAYS)
    fold_dates = [last_test - pd.DateOffset(years=i) for i in range(n_folds)][::-1]
    all_dates = snapshot_dates(district, as_of, step_months)
    cache = {} if cache is None else cache

    def frame(d: pd.Timestamp):
        if d not in cache:
            cache[d] = (build_features(district, d), build_labels(district, d))
        return cache[d]

    folds = []
    for fd in fold_dates:
        fd = pd.Timestamp(fd)
        train_dates = [d for d in all_dates if d + pd.Timedelta(days=HORIZON_DAYS) <= fd]
        if not train_dates:
            say(f"fold {fd.date()}: skipped (no earlier snapshot with a complete label window)")
            continue
        Xs, ys = zip(*(frame(d) for d in train_dates))
        X = pd.concat(Xs)
        y = pd.concat(ys)
        groups = np.tile(np.arange(len(district.enterprises)), len(train_dates))
        Xt, yt = frame(fd)
        metrics, cal, curves, preds = {}, {}, {}, {}
        for kind in kinds:
            say(f"fold {fd.date()}: fitting {kind} on {len(train_dates)} snapshot(s), {len(X):,} rows")
            m = fit_model(X, y, groups, kind, calibration, seed)
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
        raise TrainingError(
            f"not enough history to validate over time: the history starts {history_start(district).date()}, "
            f"and each fold needs a year of history plus a complete 12-month label window before its date "
            f"(at least 3 years before the as-of date {t.date()})")
    report = ValidationReport(folds, chosen="")
    summary = report.summary()
    cand = summary.loc[[k for k in kinds]]
    report.chosen = str(cand["average_precision"].idxmax())
    report.audit = _fold_audit(district, folds[-1], report.chosen)
    return report


def _fold_audit(district: District, fold: FoldResult, kind: str) -> pd.DataFrame:
    """Bias audit out of time: the chosen candidate's probabilities on the latest fold against
    the events observed after it (what a real district without a truth file can show)."""
    from .evaluation import bias_audit
    from .tiering import tiers_from_probability

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
    import skops
    import sklearn
    return {"python": platform.python_version(), "riskplan": __version__, "scikit-learn": sklearn.__version__,
            "skops": skops.__version__, "numpy": np.__version__, "pandas": pd.__version__,
            "scipy": scipy.__version__, "matplotlib": matplotlib.__version__}


def train(district: District, as_of: date | None = None, seed: int = 0, kinds=CANDIDATES,
          calibration: str = "sigmoid", step_months: int = 6, n_folds: int = 3,
          progress: Callable[[str], None] | None = None) -> TrainResult:
    """Validate the candidates over time, refit the best on all snapshots, build its card."""
    with threadpool_limits(THREADS):
        return _train(district, as_of, seed, kinds, calibration, step_months, n_folds, progress)


def _train(district, as_of, seed, kinds, calibration, step_months, n_folds, progress) -> TrainResult:
    from .features import default_as_of

    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    latest = pd.Timestamp(default_as_of(district))
    as_of = pd.Timestamp(as_of or latest).normalize()
    if as_of > latest:
        raise TrainingError(f"as-of date {as_of.date()} is after the history ends ({(latest - pd.Timedelta(days=1)).date()}): "
                            "the last 12-month label windows would count missing records as 'no event'")
    cache: dict = {}
    say(f"temporal validation ({n_folds} folds, candidates: {', '.join(kinds)})")
    report = temporal_validation(district, as_of.date(), kinds, calibration, seed, step_months, n_folds, say, cache)
    dates = snapshot_dates(district, as_of.date(), step_months)
    say(f"refitting {report.chosen} on {len(dates)} snapshots ({dates[0].date()} … {dates[-1].date()})")
    parts = [cache[d] if d in cache else (build_features(district, d), build_labels(district, d)) for d in dates]
    X = pd.concat([p[0] for p in parts])
    y = pd.concat([p[1] for p in parts])
    groups = np.tile(np.arange(len(district.enterprises)), len(dates))
    model = fit_model(X, y, groups, report.chosen, calibration, seed)
    elapsed = time.perf_counter() - started
    summary = report.summary()
    card = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "feature_version": FEATURE_VERSION,
        "features": list(FEATURE_NAMES),
        "feature_groups": {g: list(c) for g, c in FEATURE_GROUPS.items()},
        "kind": model.kind,
        "calibration": calibration,
        "seed": seed,
        "as_of": as_of.date().isoformat(),
        "label": "serious-or-worse accident, or a visit finding >= 1 major hazard, in the 12 months after the snapshot date",
        "training": {
            "district": str(district.path),
            "fingerprint": _fingerprint(district),
            "enterprises": int(len(district.enterprises)),
            "history": [history_start(district).date().isoformat(), history_end(district).date().isoformat()],
            "snapshots": [d.date().isoformat() for d in dates],
            "rows": int(len(X)),
            "events": int(y.sum()),
        },
        "validation": {
            "folds": [f.test_date.date().isoformat() for f in report.folds],
            "chosen": report.chosen,
            "mean": {name: {k: _num(v) for k, v in row.items()} for name, row in summary.iterrows()},
            "per_fold": json.loads(report.per_fold().to_json(orient="records")),
            "bias_audit_flagged": [f"{r.grouping}={r.group}" for r in report.audit.itertuples() if r.flagged],
        },
        "libraries": library_versions(),
    }
    model.card = card
    return TrainResult(model, report, card, seconds=round(elapsed, 2))


def _num(v):
    v = float(v)
    return None if np.isnan(v) else round(v, 6)


# ---------------------------------------------------------------- save and load

def _payload(model: LoadedModel) -> dict:
    return {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "feature_version": FEATURE_VERSION,
        "feature_names": list(FEATURE_NAMES),
        "kind": model.kind,
        "calibration": model.calibration,
        "base": model.base,
        "calibrator": model.calibrator,
        "reference_numeric": model.reference[list(NUMERIC)].to_numpy(float)[0],
        "reference_categorical": [str(model.reference[c].iloc[0]) for c in CATEGORICAL],
    }


def _reproducible_zip(data: bytes) -> bytes:
    """The same skops archive made reproducible: skops names objects (`__id__`) and array files
    by Python's id(), which changes from run to run, and stamps entries with the current time.
    Ids are renumbered in order of appearance (one consistent mapping, so shared references
    stay shared), array files renamed to match, timestamps fixed: the same model gives the
    same bytes and sha256 whenever it is saved."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        schema = json.loads(src.read("schema.json"))
        blobs = {name: src.read(name) for name in src.namelist() if name != "schema.json"}
    mapping: dict[str, str] = {}

    def new_id(old) -> str:
        return mapping.setdefault(str(old), str(len(mapping) + 1))

    def walk(node):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "__id__" and isinstance(value, int):
                    out[key] = int(new_id(value))
                elif key == "file" and isinstance(value, str) and value.endswith(".npy"):
                    out[key] = new_id(value[:-4]) + ".npy"
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    schema = walk(schema)
    entries = {"schema.json": json.dumps(schema, indent=2, sort_keys=True).encode("utf-8")}
    for name, blob in blobs.items():
        stem = name[:-4] if name.endswith(".npy") else None
        if stem is None or stem not in mapping:
            raise ModelError(f"unexpected entry {name!r} in the skops archive written by this skops version")
        entries[mapping[stem] + ".npy"] = blob
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, entries[name], compresslevel=9)
    return out.getvalue()


def write_model_files(model: LoadedModel, folder: Path) -> Path:
    """Write model.skops and the model card (JSON) into `folder`; returns the model path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    atomic_write_bytes(path, _reproducible_zip(sio.dumps(_payload(model))))
    card = dict(model.card)
    card["model_file"] = MODEL_FILE
    card["model_sha256"] = sha256_file(path)
    (folder / CARD_JSON).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    model.card = card
    return path


def _resolve(path: Path | str) -> tuple[Path, Path | None]:
    p = Path(path)
    if p.is_dir():
        return p / MODEL_FILE, p / CARD_JSON
    return p, p.parent / CARD_JSON


def load_model(path: Path | str) -> LoadedModel:
    """Load a saved model (a models/NAME folder or its model.skops) safely.

    Refuses: a missing file; a file that is not a skops archive (e.g. a pickle or text
    renamed); a skops file holding any type outside TRUSTED_TYPES (nothing from it is run);
    a file that is not a riskplan risk model; a model built on another feature set or
    version; a model card that does not describe this model file.
    """
    file, card_path = _resolve(path)
    if not file.exists():
        raise ModelError(f"{file}: model file not found")
    if not zipfile.is_zipfile(file):
        raise ModelError(f"{file}: not a skops model archive (the file is not a zip archive; "
                         "pickles and other formats are never loaded)")
    try:
        with zipfile.ZipFile(file) as zf:
            if "schema.json" not in zf.namelist():
                raise ModelError(f"{file}: a zip archive but not a skops model file (no schema.json)")
        named = schema_types(file)
        untrusted = set(sio.get_untrusted_types(file=file))
    except ModelError:
        raise
    except Exception as exc:  # a corrupt archive or schema raises many kinds
        raise ModelError(f"{file}: not a readable skops model file ({exc})") from None
    unexpected = sorted((named | untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise ModelError(f"{file}: refused; the file contains types outside riskplan's trusted list "
                         f"(nothing from it was loaded): {', '.join(unexpected)}")
    try:
        obj = sio.load(file, trusted=list(TRUSTED_TYPES))
    except Exception as exc:
        raise ModelError(f"{file}: could not be loaded as a skops model ({exc})") from None
    if not isinstance(obj, dict) or obj.get("format") != MODEL_FORMAT:
        raise ModelError(f"{file}: not a riskplan risk model (expected format '{MODEL_FORMAT}')")
    if obj.get("format_version") != MODEL_FORMAT_VERSION:
        raise ModelError(f"{file}: model format version {obj.get('format_version')} is not supported "
                         f"(this riskplan reads version {MODEL_FORMAT_VERSION}); retrain with `riskplan train`")
    if obj.get("feature_version") != FEATURE_VERSION or list(obj.get("feature_names", [])) != list(FEATURE_NAMES):
        theirs = list(obj.get("feature_names", []))
        missing = [f for f in FEATURE_NAMES if f not in theirs]
        extra = [f for f in theirs if f not in FEATURE_NAMES]
        raise ModelError(
            f"{file}: built on feature set version {obj.get('feature_version')!r} "
            f"({len(theirs)} features), but this riskplan computes version {FEATURE_VERSION!r} "
            f"({len(FEATURE_NAMES)} features)"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unknown: {', '.join(extra)}" if extra else "")
            + ". Retrain with `riskplan train`.")
    if obj.get("kind") not in CANDIDATES or obj.get("calibration") not in CALIBRATIONS:
        raise ModelError(f"{file}: unknown model kind {obj.get('kind')!r} / calibration {obj.get('calibration')!r}")
    if not isinstance(obj["base"], Pipeline) or not isinstance(obj["calibrator"], (IsotonicRegression, LogisticRegression)):
        raise ModelError(f"{file}: the model's estimator is not the pipeline it claims to be")
    card: dict = {}
    if card_path is not None and card_path.exists():
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"{card_path}: model card is not valid JSON ({exc})") from None
        if card.get("model_sha256") and card["model_sha256"] != sha256_file(file):
            raise ModelError(f"{card_path}: the model card describes a different model file "
                             f"(sha256 mismatch with {file.name})")
    ref = {c: [float(v)] for c, v in zip(NUMERIC, obj["reference_numeric"])}
    for c, v in zip(CATEGORICAL, obj["reference_categorical"]):
        ref[c] = [str(v)]
    reference = pd.DataFrame(ref)[list(FEATURE_NAMES)]
    return LoadedModel(kind=obj["kind"], calibration=obj["calibration"], base=obj["base"],
                       calibrator=obj["calibrator"], reference=reference, card=card, path=file.parent)


def default_model_dir() -> Path:
    """models/default of the repository this package lives in (editable install), or the copy
    installed inside the package as riskplan/default_model (plain install)."""
    here = Path(__file__).resolve()
    candidates = [here.parent / "default_model"] + [parent / "models" / "default" for parent in here.parents]
    for candidate in candidates:
        if (candidate / MODEL_FILE).exists():
            return candidate
    raise ModelError("the shipped default model (models/default/model.skops) was not found next to the "
                     f"riskplan sources ({here.parent}); train one with `riskplan train DIR --out models/NAME` "
                     "and pass --model")


def load_default_model() -> LoadedModel:
    return load_model(default_model_dir())


# ---------------------------------------------------------------- the saved folder

def card_markdown(card: dict) -> str:
    """The model card for people: what the model is, what it was trained on, how good it is."""
    v = card.get("validation", {})
    mean = v.get("mean", {})
    tr = card.get("training", {})
    lines = [
        f"# Model card: riskplan risk model ({card.get('kind')}, {card.get('calibration')} calibration)",
        "",
        "**Predicts**: the probability of the *event* — " + card.get("label", "") + ".",
        "**Use**: ranking enterprises and setting four-colour tiers (`riskplan tier`); reasons come from the",
        "model's own per-feature-group contributions. Inspector identity is never a feature.",
        "",
        "## Training data",
        f"- district: `{tr.get('district')}` ({tr.get('enterprises')} enterprises)",
        f"- history: {tr.get('history', ['?', '?'])[0]} … {tr.get('history', ['?', '?'])[1]}; as-of date {card.get('as_of')}",
        f"- snapshots: {', '.join(tr.get('snapshots', []))} ({tr.get('rows')} rows, {tr.get('events')} events)",
        f"- fingerprint (sha256 of the enterprise, accident and inspection tables): "
        f"`{tr.get('fingerprint', {}).get('tables_sha256', '')}`",
        f"- seed {card.get('seed')}",
        "",
        "## Temporal validation (rolling; mean over folds " + ", ".join(v.get("folds", [])) + ")",
        "",
        "| scorer | ROC AUC | AP | P@1% | P@5% | P@20% | R@5% | Brier |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def f(x):
        return "—" if x is None else f"{x:.3f}"

    for name, m in mean.items():
        lines.append(f"| {name} | {f(m.get('roc_auc'))} | {f(m.get('average_precision'))} | "
                     f"{f(m.get('precision@1%'))} | {f(m.get('precision@5%'))} | {f(m.get('precision@20%'))} | "
                     f"{f(m.get('recall@5%'))} | {f(m.get('brier'))} |")
    flagged = v.get("bias_audit_flagged", [])
    lines += ["", f"Chosen: **{v.get('chosen')}** (highest mean average precision).", "",
              "Bias audit on the latest fold (observed events): "
              + (f"flagged as scored beyond their actual risk: {', '.join(flagged)}." if flagged else
                 "no subdistrict, industry or size class is scored beyond its actual risk.")
              + " Details in validation_report.txt.", "",
              "## Features (feature set version " + str(card.get("feature_version")) + ")", ""]
    for g, cols in card.get("feature_groups", {}).items():
        lines.append(f"- {g}: {', '.join(cols)}")
    lines += ["", "## Libraries", ""]
    lines += [f"- {k} {val}" for k, val in card.get("libraries", {}).items()]
    lines += ["", f"Model file `{card.get('model_file')}` sha256 `{card.get('model_sha256')}` "
              "(skops format; loaded only with riskplan's trusted-type list).", ""]
    return "\n".join(lines)


def save_trained(result: TrainResult, out_dir: Path | str, force: bool = False) -> Path:
    """Write the model folder atomically: model.skops, model_card.json, MODEL_CARD.md,
    validation_report.txt and validation.png."""
    from .evaluation import plot_validation
    from .io import atomic_output_dir

    out_dir = Path(out_dir)
    with atomic_output_dir(out_dir, force) as staging:
        write_model_files(result.model, staging)
        (staging / CARD_MD).write_text(card_markdown(result.model.card), encoding="utf-8")
        (staging / REPORT_TXT).write_text(result.validation.text() + "\n", encoding="utf-8")
        plot_validation(result.validation, staging / REPORT_PNG)
    result.model.path = out_dir
    return out_dir
