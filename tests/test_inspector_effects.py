"""Inspector effects: findings made comparable across teams, from the history before T only."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from riskplan.load.district import load_district
from riskplan.score.features import build_features
from riskplan.score.inspectors import adjusted_inspections, inspector_effects, team_factor
from riskplan.synth.district import generate_district, make_district

SEED, SPREAD = 5, 0.8


@pytest.fixture(scope="module")
def lenient(tmp_path_factory):
    path = tmp_path_factory.mktemp("lenient") / "d"
    generate_district(path, size="S", seed=SEED, n_enterprises=700, team_leniency=SPREAD)
    return load_district(path)


def test_leniency_draws_from_its_own_stream():
    """The enterprises and the first year's accidents (drawn before any finding) are the same with
    and without leniency; what is found differs; leniency 0 is the generator as it was."""
    plain = make_district("S", SEED, n_enterprises=300)
    lenient = make_district("S", SEED, n_enterprises=300, team_leniency=SPREAD)
    assert plain.files()["enterprises.csv"] == lenient.files()["enterprises.csv"]
    first = lambda f: f[f["date"] < "2023-01-01"].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(first(plain.accidents), first(lenient.accidents))
    assert plain.files()["inspections.csv"] != lenient.files()["inspections.csv"]
    assert make_district("S", SEED, n_enterprises=300, team_leniency=0.0).files() == plain.files()


def test_estimated_effects_follow_the_generators_leniency(lenient):
    ids = lenient.inspectors["inspector_id"].to_numpy()
    truth = np.random.Generator(np.random.PCG64([SEED, 16])).normal(0, SPREAD, len(ids))
    visits = lenient.inspections.assign(
        other=lenient.inspections["hazards_found"] - lenient.inspections["major_hazards_found"])
    index = pd.Index(lenient.enterprises["enterprise_id"])
    est = inspector_effects(visits, index, "other").reindex(ids).fillna(0.0).to_numpy()
    assert np.corrcoef(est, truth)[0, 1] > 0.7
    major = inspector_effects(visits, index, "major_hazards_found").reindex(ids).fillna(0.0).to_numpy()
    assert np.corrcoef(major, truth)[0, 1] > 0.4
    assert abs(major).max() < abs(truth).max()  # shrunk towards the mean


def test_an_inspector_with_few_visits_stays_near_the_mean():
    rng = np.random.Generator(np.random.PCG64(0))
    n = 1000
    firms = [f"E{i:03d}" for i in range(100)]

    def visits(strict_visits: int) -> pd.DataFrame:
        team = np.where(np.arange(n) < strict_visits, "S", rng.choice(["A", "B", "C", "D"], n))
        mean = np.where(team == "S", 3.0, 1.0)
        return pd.DataFrame({"enterprise_id": rng.choice(firms, n), "inspectors": team,
                             "hazards_found": rng.poisson(mean)})

    few = inspector_effects(visits(5), pd.Index(firms), "hazards_found")["S"]
    many = inspector_effects(visits(400), pd.Index(firms), "hazards_found")["S"]
    assert 0 < few < 0.5 * many and many > 0.8  # log 3 = 1.1 with enough visits


def test_adjusted_findings_divide_by_the_team_factor_and_leave_the_future_alone(lenient):
    t = pd.Timestamp("2026-01-01")
    index = pd.Index(lenient.enterprises["enterprise_id"])
    adj = adjusted_inspections(lenient.inspections, index, t)
    raw = lenient.inspections
    past = (raw["date"] < t).to_numpy()
    pd.testing.assert_frame_equal(adj.loc[~past].astype({"hazards_found": "int64", "major_hazards_found": "int64"}),
                                  raw.loc[~past])
    frame = raw.loc[past]
    effects = inspector_effects(frame, index, "major_hazards_found")
    expected = frame["major_hazards_found"].to_numpy() / team_factor(frame, effects)
    np.testing.assert_allclose(adj.loc[past, "major_hazards_found"].to_numpy(), expected)
    lenient_team = team_factor(frame, effects) < 0.9
    found = frame["major_hazards_found"].to_numpy() > 0
    assert (adj.loc[past, "major_hazards_found"].to_numpy()[lenient_team & found]
            > frame["major_hazards_found"].to_numpy()[lenient_team & found]).all()


def test_adjusted_features_ignore_everything_on_or_after_the_date(lenient):
    t = pd.Timestamp("2025-07-01")
    before = build_features(lenient, t, inspector_adjustment=True)
    ins = lenient.inspections.copy()
    later = ins["date"] >= t
    # other teams, other findings on and after T: the features as of T do not move
    ins.loc[later, "inspectors"] = ins.loc[later, "inspectors"].iloc[::-1].to_numpy()
    ins.loc[later, "major_hazards_found"] = 5
    changed = dataclasses.replace(lenient, inspections=ins)
    pd.testing.assert_frame_equal(build_features(changed, t, inspector_adjustment=True), before)
    assert not before.equals(build_features(lenient, t))  # the adjustment does change the past


def test_a_model_trained_on_adjusted_findings_is_saved_and_scored_with_them(tmp_path):
    from pathlib import Path

    from riskplan.score.model import train
    from riskplan.score.model_files import load_model, save_trained
    from riskplan.score.tiering import tier_district

    sample = load_district(Path(__file__).resolve().parents[1] / "data" / "sample")
    result = train(sample, kinds=("logistic",), n_folds=1)
    assert result.card["inspector_adjustment"] is True
    save_trained(result, tmp_path / "m")
    model = load_model(tmp_path / "m")
    assert model.inspector_adjustment
    t = pd.Timestamp("2027-01-01")
    tiers = tier_district(sample, model, t.date())
    np.testing.assert_allclose(tiers["probability"], model.predict_proba(build_features(sample, t, True)))
    assert not np.allclose(tiers["probability"], model.predict_proba(build_features(sample, t)))
    plain = train(sample, kinds=("logistic",), n_folds=1, inspector_adjustment=False)
    assert plain.card["inspector_adjustment"] is False and not plain.model.inspector_adjustment


def test_a_planted_strong_leniency_is_recovered():
    """Leniency SD 1.0 (the lenient sixth of inspectors find under 40% of the mean): the estimated
    propensities follow the planted ones in direction and size (shrunk, never inflated); the
    rarer major hazards are shrunk more."""
    spread = 1.0
    d = make_district("S", SEED, n_enterprises=2000, team_leniency=spread)
    ids = d.inspectors["inspector_id"].to_numpy()
    truth = np.random.Generator(np.random.PCG64([SEED, 16])).normal(0, spread, len(ids))
    truth = truth - truth.mean()
    visits = d.inspections.assign(other=d.inspections["hazards_found"] - d.inspections["major_hazards_found"])
    index = pd.Index(d.enterprises["enterprise_id"])
    other = inspector_effects(visits, index, "other").reindex(ids).fillna(0.0).to_numpy()
    major = inspector_effects(visits, index, "major_hazards_found").reindex(ids).fillna(0.0).to_numpy()
    assert np.corrcoef(other, truth)[0, 1] > 0.85
    assert 0.7 < np.polyfit(truth, other, 1)[0] < 1.05
    assert np.corrcoef(major, truth)[0, 1] > 0.7
    assert 0.3 < np.polyfit(truth, major, 1)[0] < np.polyfit(truth, other, 1)[0]


def test_exposure_aggregation_divides_a_windows_findings_by_its_summed_team_factors(lenient, monkeypatch):
    """features.ADJUSTMENT = "exposure": with every factor 1 the features are the recorded ones;
    with every past visit's major factor 2, the major-hazard counts halve and nothing else moves."""
    import riskplan.score.features as features
    import riskplan.score.inspectors as inspectors

    t = pd.Timestamp("2026-01-01")
    monkeypatch.setattr(features, "ADJUSTMENT", "exposure")

    def factors(major: float):
        def adjusted(inspections, enterprises, as_of, factors=False):
            assert factors
            past = (inspections["date"] < pd.Timestamp(as_of)).to_numpy()
            return inspections.assign(factor_other=1.0, factor_major=np.where(past, major, 1.0))
        return adjusted

    recorded = build_features(lenient, t)
    monkeypatch.setattr(inspectors, "adjusted_inspections", factors(1.0))
    pd.testing.assert_frame_equal(build_features(lenient, t, inspector_adjustment=True), recorded)
    monkeypatch.setattr(inspectors, "adjusted_inspections", factors(2.0))
    halved = build_features(lenient, t, inspector_adjustment=True)
    for c in ("major_found_1y", "major_found_5y", "major_found_recent", "major_found_last_visit"):
        np.testing.assert_allclose(halved[c], recorded[c] / 2)
    np.testing.assert_allclose(halved["hazards_5y"], recorded["hazards_5y"] - recorded["major_found_5y"] / 2)
    pd.testing.assert_series_equal(halved["visits_5y"], recorded["visits_5y"])
