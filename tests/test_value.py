"""`riskplan value`: expected serious-risk events reached by each draw design, on a district with truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from riskplan.analysis.value import (
    DESIGNS,
    design_inputs,
    gain_share,
    measure_value,
    summarise,
    with_draw_rules,
    write_value,
)
from riskplan.cli import main
from riskplan.load.district import load_district
from riskplan.plan.draw import draw_spot_checks
from riskplan.synth.district import generate_district


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A small generated district (truth.csv included) and its measured value over 3 seeds."""
    path = tmp_path_factory.mktemp("value") / "district"
    generate_district(path, size="S", seed=3, n_enterprises=600, force=True)
    return path, measure_value(path, seeds=3, first_seed=10, min_inclusion=0.0)


def test_every_design_is_measured_on_every_seed_with_equal_sizes_where_the_tiers_agree(small):
    _, result = small
    runs = result.runs
    assert list(result.summary["design"]) == list(DESIGNS)
    assert sorted(runs["seed"].unique()) == [10, 11, 12] and len(runs) == 3 * len(DESIGNS)
    by_seed = runs.pivot(index="seed", columns="design", values="drawn_visits")
    assert all((by_seed["uniform"] == by_seed[d]).all() for d in ("risk_weighted", "ceiling", "oracle"))
    s = result.summary.set_index("design")
    # the design expectation Σπp: drawing by the truth beats drawing uniformly (π rises with p, same Σπ)
    assert s.at["oracle", "drawn_expected"] > s.at["uniform", "drawn_expected"]
    assert (s["drawn_lo"] <= s["drawn_events"]).all() and (s["drawn_events"] <= s["drawn_hi"]).all()
    assert s.at["uniform", "drawn_ratio_to_uniform"] == pytest.approx(1.0)
    # all visits = the drawn ones plus the mandatory ones, which the model's three designs share
    extra = (s["all_events"] - s["drawn_events"]).loc[["uniform", "risk_weighted", "ceiling", "oracle"]]
    assert np.ptp(extra.to_numpy()) < 1e-9


def test_a_run_is_the_sum_of_the_truth_over_the_drawn_enterprises(small):
    path, result = small
    district = with_draw_rules(load_district(path), min_inclusion=0.0)  # as measured above
    truth = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=path / "truth.csv", dtype={"enterprise_id": str}).set_index("enterprise_id")["p_event_12m"]
    from riskplan.analysis.value import default_quarter

    quarter = default_quarter(district)
    inputs = design_inputs(district, quarter, truth)["oracle"]
    draw = draw_spot_checks(district, inputs.tiers, quarter, inputs.obligations, 11, method="risk_weighted",
                            scores=truth.to_dict())
    run = result.runs[(result.runs["design"] == "oracle") & (result.runs["seed"] == 11)].iloc[0]
    assert run["drawn_events"] == pytest.approx(truth[draw.drawn_ids].sum())
    assert run["drawn_visits"] == len(draw.drawn_ids)
    visited = set(draw.drawn_ids) | {o.enterprise_id for o in inputs.obligations}
    assert run["all_events"] == pytest.approx(truth[sorted(visited)].sum())
    chances = draw.frame.loc[draw.frame["eligible"] == "yes", "inclusion_probability"]
    assert run["at_floor"] == pytest.approx((chances <= 0.0).mean())  # floor 0 here: the never-drawn
    assert run["max_inclusion_seen"] == pytest.approx(chances.max())


def test_ceiling_is_fitted_out_of_fold_and_tracks_the_truth(small):
    """The ceiling score of an enterprise never depends on its own truth, yet follows the truth."""
    from riskplan.analysis.value import ceiling_scores, default_quarter

    path, _ = small
    district = load_district(path)
    quarter = default_quarter(district)
    truth = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=path / "truth.csv", dtype={"enterprise_id": str}).set_index("enterprise_id")["p_event_12m"]
    score = ceiling_scores(district, quarter, truth)
    assert score.index.equals(truth.index) and (score > 0).all()
    assert np.corrcoef(np.log(score), np.log(truth))[0, 1] > 0.5
    # moving one enterprise's truth changes no score in its own fold's prediction of it ...
    from sklearn.model_selection import KFold

    from riskplan.analysis.value import CEILING_FOLDS

    folds = list(KFold(CEILING_FOLDS, shuffle=True, random_state=0).split(np.arange(len(truth))))
    k = 7
    own_fold = next(test for _, test in folds if k in test)
    moved = truth.copy()
    moved.iloc[k] = 0.9
    again = ceiling_scores(district, quarter, moved)
    np.testing.assert_allclose(again.iloc[own_fold], score.iloc[own_fold])
    # ... while the other folds, which trained on it, may move
    assert len(own_fold) < len(truth)


def test_gain_share_is_the_share_of_the_oracles_gain():
    runs = pd.DataFrame({"design": ["uniform", "risk_weighted", "ceiling", "oracle", "baseline"], "seed": 0,
                         "drawn_visits": 10, "drawn_events": [2.0, 3.5, 3.8, 4.0, 1.0], "drawn_expected": 0.0,
                         "all_visits": 20, "all_events": [5.0, 6.0, 7.0, 9.0, 4.0], "min_inclusion_seen": 0.01,
                         "max_inclusion_seen": 0.5, "at_floor": [0.0, 0.4, 0.4, 0.5, 0.0]})
    summary = summarise(runs)
    assert gain_share(summary) == pytest.approx(0.75) and gain_share(summary, "all_events") == pytest.approx(0.25)
    assert gain_share(summary, design="ceiling") == pytest.approx(0.9)
    assert summary.set_index("design").at["oracle", "at_floor"] == pytest.approx(0.5)
    assert gain_share(summary, of="ceiling") == pytest.approx(1.5 / 1.8)
    assert summary.set_index("design").at["oracle", "drawn_ratio_to_uniform"] == pytest.approx(2.0)


def test_outputs_table_csv_and_png(small, tmp_path):
    _, result = small
    files = write_value(result, tmp_path / "out")
    assert all(p.exists() for p in files)
    assert (tmp_path / "out" / "value.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(encoding="utf-8-sig", filepath_or_buffer=tmp_path / "out" / "value.csv")
    assert list(table["design"]) == list(DESIGNS)
    with pytest.raises(FileExistsError):
        write_value(result, tmp_path / "out")


def test_cli_refuses_a_district_without_truth_and_an_impossible_floor(small, tmp_path):
    path, _ = small
    runner = CliRunner()
    no_truth = tmp_path / "no_truth"
    no_truth.mkdir()
    for f in path.iterdir():
        if f.name != "truth.csv":
            (no_truth / f.name).write_bytes(f.read_bytes())
    result = runner.invoke(main, ["value", str(no_truth), str(tmp_path / "o1"), "--seeds", "2"])
    assert result.exit_code == 2 and "truth.csv" in result.output and not (tmp_path / "o1").exists()
    result = runner.invoke(main, ["value", str(path), str(tmp_path / "o2"), "--seeds", "2", "--min-inclusion", "0.5"])
    assert result.exit_code == 2 and "min_inclusion" in result.output and not (tmp_path / "o2").exists()


def test_a_steeper_weight_power_applies_to_every_weighted_design_alike(small):
    """--weight-power changes the design of the model, ceiling and oracle draws together, so the
    shares stay a like-for-like comparison; on the truth a steeper design reaches more risk."""
    path, result = small
    steep = measure_value(path, seeds=2, first_seed=10, min_inclusion=0.0, weight_power=3)
    assert steep.info["weight_power"] == 3 and result.info["weight_power"] == 1
    flat, sharp = (r.summary.set_index("design")["drawn_expected"] for r in (result, steep))
    assert sharp["oracle"] > flat["oracle"] and sharp["uniform"] == pytest.approx(flat["uniform"], rel=0.2)
    runner = CliRunner()
    bad = runner.invoke(main, ["value", str(path), "unused", "--weight-power", "5"])
    assert bad.exit_code == 2 and "weight-power" in bad.output
