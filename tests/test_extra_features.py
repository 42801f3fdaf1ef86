"""A bureau's own enterprise columns as features (policy.toml `[model] extra_features`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskplan.domain.policy import PolicyError, parse_policy
from riskplan.load.district import load_district
from riskplan.score.features import build_features
from riskplan.score.model import ModelError, TrainingError, train
from riskplan.score.model_files import load_model, save_trained
from riskplan.score.tiering import tier_district
from riskplan.synth.district import generate_district

SEED = 7
POLICY = '\n[model]\nextra_features = ["complaints", "credit_rating"]\ncategorical = ["credit_rating"]\n'


def _add_columns(path, complaints, rating, policy=POLICY):
    file = path / "enterprises.csv"
    ent = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    ent["complaints"] = complaints
    ent["credit_rating"] = rating
    ent.to_csv(file, index=False, encoding="utf-8-sig")
    with open(path / "policy.toml", "a", encoding="utf-8") as fh:
        fh.write(policy)


@pytest.fixture(scope="module")
def bureau(tmp_path_factory):
    """A generated district whose register has a complaints count that tracks the true risk and a
    credit rating that does not; a few complaint cells are blank."""
    path = tmp_path_factory.mktemp("extra") / "d"
    generate_district(path, size="S", seed=SEED, n_enterprises=700)
    truth = pd.read_csv(path / "truth.csv")["p_event_12m"].to_numpy()
    rng = np.random.Generator(np.random.PCG64(SEED))
    complaints = rng.poisson(40 * truth).astype(object)
    complaints[::50] = ""
    rating = rng.choice(["A", "B", "C"], len(truth))
    _add_columns(path, complaints, rating)
    return path


@pytest.fixture(scope="module")
def trained(bureau):
    district = load_district(bureau)
    return district, train(district, kinds=("logistic",), n_folds=1, inspector_adjustment=False)


def test_the_extra_columns_are_features_recorded_in_the_card_and_kept_when_saved(trained, tmp_path):
    district, result = trained
    card = result.card
    assert card["extra_features"] == {"complaints": "numeric", "credit_rating": "categorical"}
    assert card["features"][-2:] == ["complaints", "credit_rating"]
    assert card["feature_groups"]["extra:complaints"] == ["complaints"]
    save_trained(result, tmp_path / "m")
    assert "complaints (numeric), credit_rating (categorical)" in (tmp_path / "m" / "MODEL_CARD.md").read_text("utf-8")
    model = load_model(tmp_path / "m")
    assert model.extra == {"complaints": "numeric", "credit_rating": "categorical"}
    np.testing.assert_allclose(tier_district(district, model)["probability"],
                               tier_district(district, result.model)["probability"])


def test_an_informative_extra_column_moves_scores_and_is_given_as_a_reason(trained):
    district, result = trained
    X = build_features(district, "2027-01-01", extra=result.model.extra)
    assert X["complaints"].isna().sum() == 14   # blank cells are missing, not 0
    high = X.assign(complaints=X["complaints"].max())
    low = X.assign(complaints=0.0)
    assert (result.model.predict_proba(high) > result.model.predict_proba(low)).all()
    tiers = tier_district(district, result.model)
    reasons = tiers[["reason_1", "reason_2", "reason_3"]].to_numpy().ravel()
    assert any(str(r).startswith("complaints: ") for r in reasons)


def test_an_unseen_extra_category_is_other_counted_and_never_a_reason(trained):
    district, result = trained
    ent = district.enterprises.copy()
    ent.loc[:9, "credit_rating"] = "D"
    import dataclasses

    tiers = tier_district(dataclasses.replace(district, enterprises=ent), result.model)
    assert any("10 enterprises" in w and "credit_rating" in w and "D (10)" in w for w in tiers.attrs["warnings"])
    first = tiers.iloc[:10][["reason_1", "reason_2", "reason_3"]].to_numpy().ravel()
    assert not any("credit_rating" in str(r) for r in first)


def test_a_model_that_reads_a_column_the_district_lacks_is_refused(trained):
    district, result = trained
    import dataclasses

    ent = district.enterprises.drop(columns=["complaints"])
    with pytest.raises(ModelError, match="enterprises.csv: .*'complaints'"):
        tier_district(dataclasses.replace(district, enterprises=ent), result.model)


def test_a_declared_column_the_table_lacks_is_named_with_a_suggestion(tmp_path):
    path = tmp_path / "d"
    generate_district(path, size="S", seed=SEED, n_enterprises=200)
    _add_columns(path, "1", "A", policy='\n[model]\nextra_features = ["complaint"]\n')
    with pytest.raises(TrainingError, match=r"enterprises.csv: .*'complaint'.*did you mean 'complaints'\?"):
        train(load_district(path), kinds=("logistic",), n_folds=1)


def test_text_in_a_number_column_names_the_row_and_suggests_categorical(tmp_path):
    path = tmp_path / "d"
    generate_district(path, size="S", seed=SEED, n_enterprises=200)
    complaints = ["1"] * 200
    complaints[4] = "3件"
    _add_columns(path, complaints, "A", policy='\n[model]\nextra_features = ["complaints"]\n')
    with pytest.raises(TrainingError, match=r"row 6, column 'complaints': '3件' is not a number.*categorical"):
        train(load_district(path), kinds=("logistic",), n_folds=1)


@pytest.mark.parametrize("section, expected", [
    ({"extra_features": ["industry"]}, "'industry' is a built-in column"),
    ({"extra_features": ["a", "a"]}, "'a' is listed twice"),
    ({"extra_features": ["credit"], "categorical": ["credt"]}, "'credt' is not one of extra_features"),
    ({"extra_featres": ["a"]}, "unknown key 'extra_featres'"),
    ({"extra_features": [3]}, "must be text"),
])
def test_the_model_section_is_validated(section, expected):
    with pytest.raises(PolicyError, match=expected):
        parse_policy({"model": section})


def test_the_model_section_does_not_enter_the_plans_policy():
    plain = parse_policy({})
    declared = parse_policy({"model": {"extra_features": ["complaints"]}})
    assert declared.to_dict() == plain.to_dict() and "model" not in plain.to_dict()
