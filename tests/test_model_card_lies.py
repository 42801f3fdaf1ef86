"""A model whose card (or whose own payload) misdescribes the estimator inside it is refused,
naming the field, before any tiers are written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from riskplan.cli import main
from riskplan.score import model_files as F
from riskplan.score.model import ModelError

SHIPPED = Path(__file__).resolve().parents[1] / "models" / "default"  # also when src/ is a copy elsewhere


@pytest.fixture
def model_dir(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(SHIPPED, folder)
    return folder


def lie(folder, **changes):
    path = folder / F.CARD_JSON
    card = json.loads(path.read_text(encoding="utf-8"))
    for key, edit in changes.items():
        card[key] = edit(card[key]) if callable(edit) else edit
    path.write_text(json.dumps(card), encoding="utf-8")


def test_the_truthful_default_model_loads(model_dir):
    model = F.load_model(model_dir)
    assert model.kind == "logistic" and model.card["kind"] == "logistic"


@pytest.mark.parametrize("changes, field", [
    ({"kind": "boosting"}, "'kind' says 'boosting'"),
    ({"calibration": "isotonic"}, "'calibration' says 'isotonic'"),
    ({"features": lambda f: f[:-1]}, "'features' lists 48 features"),
    ({"features": lambda f: f[:-1] + ["inspector_id"]}, "'features' does not match"),
    ({"features": lambda f: f[1:] + f[:1]}, "another order"),
    ({"feature_groups": lambda g: {**g, "inspector": ["inspector_id"]}}, "'feature_groups' lists 50"),
    ({"feature_version": "1"}, "'feature_version' says '1'"),
], ids=["kind", "calibration", "one-feature-fewer", "renamed-feature", "reordered", "extra-group", "version"])
def test_a_card_that_lies_is_refused_naming_the_field(model_dir, changes, field):
    lie(model_dir, **changes)
    with pytest.raises(ModelError) as info:
        F.load_model(model_dir)
    assert field in str(info.value) and F.CARD_JSON in str(info.value)


def test_tier_writes_nothing_with_a_lying_card(model_dir, tiny_district, tmp_path):
    t = tiny_district()
    out = tmp_path / "tiers.csv"
    ok = CliRunner().invoke(main, ["tier", str(t.path), "--model", str(model_dir), "--out", str(out)])
    assert ok.exit_code == 0 and out.exists(), ok.output  # the truthful card tiers
    out.unlink()
    lie(model_dir, kind="boosting")
    r = CliRunner().invoke(main, ["tier", str(t.path), "--model", str(model_dir), "--out", str(out)])
    assert r.exit_code == 2 and "'kind' says 'boosting'" in r.stderr and not out.exists()


def test_a_payload_that_lies_about_its_kind_is_refused(tmp_path):
    model = F.load_model(SHIPPED)
    model.kind = "boosting"  # the payload now claims boosting around a logistic regression
    F.write_model_files(model, tmp_path / "m")
    with pytest.raises(ModelError, match=r"the model file's 'kind' says 'boosting'.*LogisticRegression"):
        F.load_model(tmp_path / "m")


def test_a_payload_that_lies_about_its_calibrator_is_refused(tmp_path):
    model = F.load_model(SHIPPED)
    model.calibration = "isotonic"
    F.write_model_files(model, tmp_path / "m")
    with pytest.raises(ModelError, match=r"'calibration' says 'isotonic'"):
        F.load_model(tmp_path / "m")


def test_an_estimator_fitted_on_other_features_is_refused(tmp_path):
    model = F.load_model(SHIPPED)
    pre = model.base.steps[0][1]
    pre.feature_names_in_ = np.array(list(pre.feature_names_in_[:-1]) + ["inspector_id"], dtype=object)
    F.write_model_files(model, tmp_path / "m")
    with pytest.raises(ModelError, match=r"'feature_names' does not match .*inspector_id"):
        F.load_model(tmp_path / "m")
