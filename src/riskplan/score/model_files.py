"""Saving and loading a risk model safely: skops files (no pickle), its card and report.

Loading accepts only the types in `TRUSTED_TYPES` and refuses files that are not riskplan
models or were built on another feature set."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import skops.io as sio
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from riskplan.i18n import _
from riskplan.io import sha256_file
from riskplan.outputs import atomic_write_bytes
from riskplan.score.features import FEATURE_VERSION
from riskplan.score.model import (
    CALIBRATIONS,
    CANDIDATES,
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    LoadedModel,
    ModelError,
    TrainResult,
    feature_lists,
)

MODEL_FILE = "model.skops"
CARD_JSON = "model_card.json"
CARD_MD = "MODEL_CARD.md"
REPORT_TXT = "validation_report.txt"
REPORT_PNG = "validation.png"

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
    "sklearn.impute._base.SimpleImputer",
    "sklearn.impute._base.MissingIndicator",
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


# ---------------------------------------------------------------- save and load

def _payload(model: LoadedModel) -> dict:
    return {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "feature_version": FEATURE_VERSION,
        "feature_names": model.feature_names,
        "kind": model.kind,
        "calibration": model.calibration,
        "base": model.base,
        "calibrator": model.calibrator,
        "reference_numeric": model.reference[model.numeric].to_numpy(float)[0],
        "reference_categorical": [str(model.reference[c].iloc[0]) for c in model.categorical],
        **({"inspector_adjustment": True} if model.inspector_adjustment else {}),
        **({"extra_features": [[c, k] for c, k in model.extra.items()]} if model.extra else {}),
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
            raise ModelError(_("unexpected entry {name} in the skops archive written by this skops version").format(
                name=repr(name)))
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
        raise ModelError(_("{file}: model file not found").format(file=file))
    if not zipfile.is_zipfile(file):
        raise ModelError(_("{file}: not a skops model archive (the file is not a zip archive; "
                           "pickles and other formats are never loaded)").format(file=file))
    try:
        with zipfile.ZipFile(file) as zf:
            if "schema.json" not in zf.namelist():
                raise ModelError(_("{file}: a zip archive but not a skops model file (no schema.json)").format(
                    file=file))
        named = schema_types(file)
        untrusted = set(sio.get_untrusted_types(file=file))
    except ModelError:
        raise
    except Exception as exc:  # a corrupt archive or schema raises many kinds
        raise ModelError(_("{file}: not a readable skops model file ({error})").format(file=file, error=exc)) from None
    unexpected = sorted((named | untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise ModelError(_("{file}: refused; the file contains types outside riskplan's trusted list "
                           "(nothing from it was loaded): {types}").format(file=file, types=", ".join(unexpected)))
    try:
        obj = sio.load(file, trusted=list(TRUSTED_TYPES))
    except Exception as exc:
        raise ModelError(_("{file}: could not be loaded as a skops model ({error})").format(
            file=file, error=exc)) from None
    if not isinstance(obj, dict) or obj.get("format") != MODEL_FORMAT:
        raise ModelError(_("{file}: not a riskplan risk model (expected format '{format}')").format(
            file=file, format=MODEL_FORMAT))
    if obj.get("format_version") != MODEL_FORMAT_VERSION:
        raise ModelError(_("{file}: model format version {theirs} is not supported "
                           "(this riskplan reads version {ours}); retrain with `riskplan train`").format(
            file=file, theirs=obj.get("format_version"), ours=MODEL_FORMAT_VERSION))
    declared = obj.get("extra_features", []) if isinstance(obj, dict) else []
    if not (isinstance(declared, list) and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                               and p[1] in ("numeric", "categorical") for p in declared)):
        raise ModelError(_("{file}: the model's extra_features are not a list of (column, kind) pairs").format(
            file=file))
    extra_kinds = {c: k for c, k in declared}
    ours_names = feature_lists(extra_kinds)[0]
    if obj.get("feature_version") != FEATURE_VERSION or list(obj.get("feature_names", [])) != ours_names:
        theirs = list(obj.get("feature_names", []))
        missing = [f for f in ours_names if f not in theirs]
        extra = [f for f in theirs if f not in ours_names]
        raise ModelError(
            _("{file}: built on feature set version {theirs} ({their_count} features), but this riskplan "
              "computes version {ours} ({our_count} features)").format(
                file=file, theirs=repr(obj.get("feature_version")), their_count=len(theirs),
                ours=repr(FEATURE_VERSION), our_count=len(ours_names))
            + (_("; missing: {names}").format(names=", ".join(missing)) if missing else "")
            + (_("; unknown: {names}").format(names=", ".join(extra)) if extra else "")
            + _(". Retrain with `riskplan train`."))
    if obj.get("kind") not in CANDIDATES or obj.get("calibration") not in CALIBRATIONS:
        raise ModelError(_("{file}: unknown model kind {kind} / calibration {calibration}").format(
            file=file, kind=repr(obj.get("kind")), calibration=repr(obj.get("calibration"))))
    if not isinstance(obj["base"], Pipeline) or not isinstance(obj["calibrator"], (IsotonicRegression, LogisticRegression)):
        raise ModelError(_("{file}: the model's estimator is not the pipeline it claims to be").format(file=file))
    facts = estimator_facts(obj["base"], obj["calibrator"], file)
    _refuse_mismatch(file, _("the model file"), {"kind": obj["kind"], "calibration": obj["calibration"],
                                              "feature_names": list(obj["feature_names"])}, facts)
    card: dict = {}
    if card_path is not None and card_path.exists():
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(_("{file}: model card is not valid JSON ({error})").format(
                file=card_path, error=exc)) from None
        if not isinstance(card, dict):
            raise ModelError(_("{file}: model card is not a JSON object").format(file=card_path))
        if card.get("model_sha256") and card["model_sha256"] != sha256_file(file):
            raise ModelError(_("{file}: the model card describes a different model file "
                               "(sha256 mismatch with {model})").format(file=card_path, model=file.name))
        claims = {k: card[k] for k in ("kind", "calibration") if k in card}
        if "features" in card:
            claims["features"] = card["features"]
        if "feature_groups" in card:
            groups = card["feature_groups"]
            claims["feature_groups"] = ([c for cols in groups.values() for c in cols]
                                        if isinstance(groups, dict) else groups)
        if "feature_version" in card and card["feature_version"] != obj["feature_version"]:
            raise ModelError(_("{file}: the model card's 'feature_version' says {said}, "
                               "but {model} was built on feature set version {theirs}").format(
                file=card_path, said=repr(card["feature_version"]), model=file.name,
                theirs=repr(obj["feature_version"])))
        _refuse_mismatch(card_path, _("the model card"), claims, facts)
    _names, numeric, categorical = feature_lists(extra_kinds)
    ref = {c: [float(v)] for c, v in zip(numeric, obj["reference_numeric"])}
    for c, v in zip(categorical, obj["reference_categorical"]):
        ref[c] = [str(v)]
    reference = pd.DataFrame(ref)[ours_names]
    return LoadedModel(kind=obj["kind"], calibration=obj["calibration"], base=obj["base"],
                       calibrator=obj["calibrator"], reference=reference, card=card, path=file.parent,
                       inspector_adjustment=bool(obj.get("inspector_adjustment", False)), extra=extra_kinds)


_KINDS = {LogisticRegression: "logistic", HistGradientBoostingClassifier: "boosting"}
_CALIBRATORS = {IsotonicRegression: "isotonic", LogisticRegression: "sigmoid"}


def estimator_facts(base: Pipeline, calibrator, file: Path) -> dict:
    """What the fitted estimator inside the file is, read from the estimator itself (never
    from what the file or its card say about it), to hold the claims against."""
    clf = base.steps[-1][1] if base.steps else None
    kind = _KINDS.get(type(clf))
    if kind is None:
        raise ModelError(_("{file}: the pipeline's final estimator {estimator} is not a riskplan model kind").format(
            file=file, estimator=type(clf).__name__))
    names = getattr(base, "feature_names_in_", None)
    if names is None:
        raise ModelError(_("{file}: the pipeline was not fitted on named features").format(file=file))
    return {"kind": kind, "calibration": _CALIBRATORS[type(calibrator)], "feature_names": [str(n) for n in names],
            "estimator": type(clf).__name__, "calibrator": type(calibrator).__name__}


def _refuse_mismatch(where: Path, what: str, claims: dict, facts: dict) -> None:
    """ModelError naming the first field whose claim the estimator contradicts."""
    for field in ("kind", "calibration"):
        if field in claims and claims[field] != facts[field]:
            held = facts["estimator"] if field == "kind" else facts["calibrator"]
            raise ModelError(_("{file}: {what}'s '{field}' says {said}, but the fitted model is {fact} ({held})").format(
                file=where, what=what, field=field, said=repr(claims[field]), fact=repr(facts[field]), held=held))
    names = facts["feature_names"]
    for field in ("feature_names", "features", "feature_groups"):
        if field not in claims:
            continue
        said = claims[field]
        if not isinstance(said, list) or len(said) != len(names):
            count = len(said) if isinstance(said, (list, dict)) else said
            raise ModelError(_("{file}: {what}'s '{field}' lists {count} features, but the fitted model "
                               "takes {taken}").format(file=where, what=what, field=field, count=repr(count),
                                                       taken=len(names)))
        ordered = field != "feature_groups"  # groups are a partition, listed by group
        if (list(said) != names) if ordered else (sorted(map(str, said)) != sorted(names)):
            extra = [str(f) for f in said if f not in names]
            missing = [f for f in names if f not in said]
            parts = ([_("listed but not taken by the model: {names}").format(names=", ".join(extra[:3]))]
                     if extra else []) + \
                ([_("taken by the model but not listed: {names}").format(names=", ".join(missing[:3]))]
                 if missing else [])
            detail = "; ".join(parts) or _("the same features in another order")
            raise ModelError(_("{file}: {what}'s '{field}' does not match the features the fitted model takes "
                               "({detail})").format(file=where, what=what, field=field, detail=detail))


def default_model_dir() -> Path:
    """models/default of the repository this package lives in (editable install), or the copy
    installed inside the package as riskplan/default_model (plain install)."""
    here = Path(__file__).resolve()
    candidates = [here.parents[1] / "default_model"] + [parent / "models" / "default" for parent in here.parents]
    for candidate in candidates:
        if (candidate / MODEL_FILE).exists():
            return candidate
    raise ModelError(_("the shipped default model (models/default/model.skops) was not found next to the "
                       "riskplan sources ({path}); train one with `riskplan train DIR --out models/NAME` "
                       "and pass --model").format(path=here.parent))


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
        "## Validation (" + str(v.get("kind", "temporal")) + "; " + str(v.get("n_folds", len(v.get("folds", []))))
        + " fold(s); mean over folds " + ", ".join(v.get("folds", [])) + ")",
        "",
        *[f"**Warning**: {w}." for w in v.get("warnings", [])],
        "" if v.get("warnings") else None,
        "| scorer | ROC AUC | AP | P@1% | P@5% | P@20% | R@5% | Brier |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines = [x for x in lines if x is not None]

    def f(x):
        return "—" if x is None else f"{x:.3f}"

    for name, m in mean.items():
        lines.append(f"| {name} | {f(m.get('roc_auc'))} | {f(m.get('average_precision'))} | "
                     f"{f(m.get('precision@1%'))} | {f(m.get('precision@5%'))} | {f(m.get('precision@20%'))} | "
                     f"{f(m.get('recall@5%'))} | {f(m.get('brier'))} |")
    cal = v.get("latest_fold_calibration")
    if cal:
        lines += ["", f"Calibration of the chosen model on the latest fold ({v.get('folds', ['?'])[-1]}), "
                  "equal-count bins:", "", "| bin | n | mean predicted | observed event rate |", "|---|---|---|---|"]
        lines += [f"| {r.get('bin')} | {r.get('n')} | {f(r.get('predicted'))} | {f(r.get('observed'))} |" for r in cal]
    flagged = v.get("bias_audit_flagged", [])
    lines += ["", f"Chosen: **{v.get('chosen')}** (highest mean average precision).", "",
              "Bias audit on the latest fold (observed events): "
              + (f"flagged as scored beyond their actual risk: {', '.join(flagged)}." if flagged else
                 "no subdistrict, industry or size class is scored beyond its actual risk.")
              + " Details in validation_report.txt.", "",
              "## Features (feature set version " + str(card.get("feature_version")) + ")", ""]
    for g, cols in card.get("feature_groups", {}).items():
        lines.append(f"- {g}: {', '.join(cols)}")
    if card.get("extra_features"):
        lines += ["", "The bureau's own columns (policy.toml `[model] extra_features`): "
                  + ", ".join(f"{c} ({k})" for c, k in card["extra_features"].items()) + "."]
    if "inspector_adjustment" in card:
        lines += ["", "Past findings: " + ("adjusted for the inspecting team's estimated finding propensity."
                                           if card["inspector_adjustment"] else "as recorded.")]
    lines += ["", "## Libraries", ""]
    lines += [f"- {k} {val}" for k, val in card.get("libraries", {}).items()]
    lines += ["", f"Model file `{card.get('model_file')}` sha256 `{card.get('model_sha256')}` "
              "(skops format; loaded only with riskplan's trusted-type list).", ""]
    return "\n".join(lines)


def save_trained(result: TrainResult, out_dir: Path | str, force: bool = False) -> Path:
    """Write the model folder atomically: model.skops, model_card.json, MODEL_CARD.md,
    validation_report.txt and validation.png."""
    from riskplan.outputs import atomic_output_dir
    from riskplan.score.metrics import plot_validation

    out_dir = Path(out_dir)
    with atomic_output_dir(out_dir, force) as staging:
        write_model_files(result.model, staging)
        (staging / CARD_MD).write_text(card_markdown(result.model.card), encoding="utf-8")
        (staging / REPORT_TXT).write_text(result.validation.text() + "\n", encoding="utf-8")
        plot_validation(result.validation, staging / REPORT_PNG)
    result.model.path = out_dir
    return out_dir
