"""Training, temporal validation, calibration, contributions and safe loading of the risk model."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.neighbors import KNeighborsClassifier

from riskplan import i18n
import riskplan.score.estimators as E
import riskplan.score.model as M
import riskplan.score.model_files as F
from riskplan.outputs import OUTPUT_MARKER
from riskplan.load.district import load_district
from riskplan.score.features import (
    FEATURE_GROUPS,
    FEATURE_NAMES,
    build_features,
    default_as_of,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def district():
    return load_district(SAMPLE)


@pytest.fixture(scope="module")
def trained(district):
    """Both candidates over two yearly folds on the 1,500-enterprise sample (a few seconds)."""
    with i18n.language("en"):  # module-scoped: made before the per-test English default applies
        return M.train(district, seed=0, n_folds=2)


@pytest.fixture(scope="module")
def saved(trained, tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "sample"
    with i18n.language("en"):
        F.save_trained(trained, out)
    return out


def test_temporal_validation_trains_only_on_complete_past_labels(trained):
    report = trained.validation
    assert len(report.folds) == 2
    for fold in report.folds:
        assert fold.train_dates, "every fold has training snapshots"
        assert all(d + pd.Timedelta(days=365) <= fold.test_date for d in fold.train_dates)
        assert set(fold.metrics) == {"logistic", "boosting", "baseline"}
    assert report.chosen in ("logistic", "boosting")
    summary = report.summary()
    assert summary.loc[report.chosen, "average_precision"] == summary.loc[["logistic", "boosting"],
                                                                          "average_precision"].max()
    assert trained.card["training"]["snapshots"][-1] <= "2026-01-01"


def test_saved_folder_has_model_card_report_and_plot(saved, trained, district):
    names = {p.name for p in saved.iterdir()}
    assert names == {"model.skops", "model_card.json", "MODEL_CARD.md", "validation_report.txt", "validation.png",
                     OUTPUT_MARKER}
    card = json.loads((saved / "model_card.json").read_text(encoding="utf-8"))
    assert card["features"] == list(FEATURE_NAMES) and card["feature_version"] == M.FEATURE_VERSION
    assert card["training"]["fingerprint"]["files"]["enterprises.csv"]
    assert card["training"]["history"][1] == "2026-12-31"
    assert "scikit-learn" in card["libraries"] and card["validation"]["chosen"] == trained.validation.chosen
    assert (saved / "validation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "baseline" in (saved / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "Bias audit" in (saved / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert isinstance(card["validation"]["bias_audit_flagged"], list)
    report = (saved / "validation_report.txt").read_text(encoding="utf-8")
    assert "Bias audit of" in report and "subdistrict" in report and "size_class" in report
    assert (saved / "model.skops").stat().st_size < 5_000_000
    loaded = F.load_model(saved)
    X = build_features(district, default_as_of(district))
    np.testing.assert_allclose(loaded.predict_proba(X), trained.model.predict_proba(X))


def test_calibration_direction(trained, district):
    """Higher predicted probability means more observed events, and the mean is about right."""
    fold = trained.validation.folds[-1]
    cal = fold.calibration[trained.validation.chosen]
    n = cal["n"].to_numpy()
    top = (cal["observed"] * n).iloc[-2:].sum() / n[-2:].sum()        # riskiest 20% by prediction
    bottom = (cal["observed"] * n).iloc[:5].sum() / n[:5].sum()       # safest 50%
    assert top > 2 * bottom
    assert (cal["predicted"].iloc[-2:] > cal["predicted"].iloc[:5].max()).all()
    n = cal["n"].to_numpy()
    mean_pred = (cal["predicted"] * n).sum() / n.sum()
    mean_obs = (cal["observed"] * n).sum() / n.sum()
    assert mean_pred == pytest.approx(mean_obs, rel=0.35)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrator_keeps_the_direction_of_the_score(method):
    """A higher model score never gives a lower probability, and probabilities track outcomes."""
    rng = np.random.default_rng(5)
    score = rng.normal(-3, 1.2, 5000)
    y = (rng.random(5000) < 1 / (1 + np.exp(-(score + 0.5)))).astype(int)   # truth: shifted logit
    cal = M.fit_calibrator(score, y, method)
    grid = np.linspace(-8, 3, 200)
    p = M.apply_calibrator(cal, grid)
    assert np.all(np.diff(p) >= 0) and p[-1] > p[0]
    assert M.apply_calibrator(cal, score).mean() == pytest.approx(y.mean(), rel=0.05)
    if method == "sigmoid":
        assert np.all(np.diff(p) > 0)  # strictly: Platt scaling never ties two scores


@pytest.mark.parametrize("kind", ["logistic", "boosting"])
def test_contributions_are_what_if_typical_differences(kind, district):
    X = build_features(district, default_as_of(district))
    groups = np.arange(len(X))
    model = M.fit_model(X, pd.Series(np.asarray(X["major_found_3y"] > 0, int) | (X["serious_5y"] > 0).astype(int),
                                     index=X.index), groups, kind, "sigmoid", seed=0, folds=2)
    rows = X.iloc[:300]
    contrib = model.contributions(rows)
    # independently: set one group to the reference by hand and re-score
    for group in ("hazchem", "major_hazards_found", "visits"):
        changed = rows.copy()
        for c in FEATURE_GROUPS[group]:
            changed[c] = model.reference[c].iloc[0]
        np.testing.assert_allclose(contrib[group].to_numpy(), model.decision(rows) - model.decision(changed), atol=1e-9)
    if kind == "logistic":
        # linear model: contribution = coefficient x (x - reference) summed over the group, exactly
        pre, clf = model.base.named_steps["pre"], model.base.named_steps["clf"]
        z = pre.transform(rows)
        z_ref = pre.transform(model.reference)
        names = list(pre.get_feature_names_out())
        for group, cols in FEATURE_GROUPS.items():
            idx = [i for i, n in enumerate(names) if n.split("__", 1)[1].startswith(cols) or
                   n.split("__", 1)[1] in cols]
            expect = ((z[:, idx] - z_ref[:, idx]) * clf.coef_[0, idx]).sum(axis=1)
            np.testing.assert_allclose(contrib[group].to_numpy(), expect, atol=1e-9)


# ---------------------------------------------------------------- refusals

def test_refuses_model_built_on_another_feature_set(saved, monkeypatch):
    built_on = M.FEATURE_VERSION
    monkeypatch.setattr(F, "FEATURE_VERSION", "999")
    with pytest.raises(M.ModelError, match=f"feature set version '{built_on}'.*computes version '999'"):
        F.load_model(saved)


def test_refuses_model_missing_a_feature_we_compute(saved, monkeypatch):
    monkeypatch.setattr(E, "FEATURE_NAMES", tuple(FEATURE_NAMES) + ("new_feature",))
    with pytest.raises(M.ModelError, match="missing: new_feature"):
        F.load_model(saved)


def test_refuses_a_pickle_posing_as_a_model_without_running_it(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    fake = tmp_path / "evil"
    fake.mkdir()
    (fake / "model.skops").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(M.ModelError, match="not a skops model archive"):
        F.load_model(fake)
    assert not marker.exists()


def test_refuses_text_and_foreign_zip(tmp_path):
    (tmp_path / "model.skops").write_text("hello", encoding="utf-8")
    with pytest.raises(M.ModelError, match="not a skops model archive"):
        F.load_model(tmp_path / "model.skops")
    with zipfile.ZipFile(tmp_path / "z.skops", "w") as zf:
        zf.writestr("readme.txt", "not a model")
    with pytest.raises(M.ModelError, match="no schema.json"):
        F.load_model(tmp_path / "z.skops")
    with pytest.raises(M.ModelError, match="not found"):
        F.load_model(tmp_path / "nothing-here")


def test_refuses_skops_file_with_types_outside_the_allow_list(tmp_path):
    # KNeighborsClassifier is an ordinary sklearn type skops would trust by default; we do not.
    sio.dump({"format": M.MODEL_FORMAT, "base": KNeighborsClassifier()}, tmp_path / "model.skops")
    with pytest.raises(M.ModelError, match="outside riskplan's trusted list.*KNeighborsClassifier"):
        F.load_model(tmp_path / "model.skops")


def test_refuses_a_skops_file_that_is_not_a_riskplan_model(tmp_path):
    sio.dump({"something": np.arange(3)}, tmp_path / "model.skops")
    with pytest.raises(M.ModelError, match="not a riskplan risk model"):
        F.load_model(tmp_path / "model.skops")


def test_refuses_a_card_that_describes_another_file(saved, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for p in saved.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    card = json.loads((copy / "model_card.json").read_text(encoding="utf-8"))
    card["model_sha256"] = "0" * 64
    (copy / "model_card.json").write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(M.ModelError, match="describes a different model file"):
        F.load_model(copy)


def test_shipped_default_model_loads_and_is_small():
    folder = F.default_model_dir()
    assert (folder / "model.skops").stat().st_size < 5_000_000
    model = F.load_default_model()
    assert model.kind in M.CANDIDATES
    assert (folder / "MODEL_CARD.md").exists() and model.card["feature_version"] == M.FEATURE_VERSION


def test_train_command_writes_the_model_folder_and_shows_progress(tmp_path):
    from click.testing import CliRunner

    from riskplan.cli import main

    out = tmp_path / "models" / "cli"
    args = ["train", str(SAMPLE), "--as-of", "2026-07-01", "--out", str(out), "--model-kind", "logistic"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "Chosen: logistic" in res.output and "fitting logistic" in res.stderr
    card = json.loads((out / "model_card.json").read_text(encoding="utf-8"))
    assert card["as_of"] == "2026-07-01" and card["training"]["snapshots"][-1] <= "2025-07-01"
    assert F.load_model(out).kind == "logistic"
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_train_refuses_a_history_too_short_to_validate(tmp_path):
    from click.testing import CliRunner

    from riskplan.cli import main

    res = CliRunner().invoke(main, ["train", str(SAMPLE), "--as-of", "2023-05-01", "--out", str(tmp_path / "m")])
    assert res.exit_code == 2
    assert "not enough history to train" in res.stderr and "a year and a half" in res.stderr
    assert not (tmp_path / "m").exists()
    late = CliRunner().invoke(main, ["train", str(SAMPLE), "--as-of", "2027-06-01", "--out", str(tmp_path / "m")])
    assert late.exit_code == 2 and "after the history ends" in late.stderr and "--history-through" in late.stderr
    assert not (tmp_path / "m").exists()


def test_the_same_model_saves_to_the_same_bytes(tmp_path):
    """skops names objects by Python id(); riskplan renumbers them, so saving is reproducible."""
    a, b = F.load_default_model(), F.load_default_model()
    F.write_model_files(a, tmp_path / "a")
    F.write_model_files(b, tmp_path / "b")
    assert (tmp_path / "a" / "model.skops").read_bytes() == (tmp_path / "b" / "model.skops").read_bytes()
    assert (tmp_path / "a" / "model_card.json").read_bytes() == (tmp_path / "b" / "model_card.json").read_bytes()
    assert F.load_model(tmp_path / "a").kind == a.kind
