"""History as bureaus have it: a declared or inferred end, and short histories with fewer folds."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import riskplan.score.model as M
from riskplan.load.district import load_district
from riskplan.score.history import DECLARED, LAST_RECORD, NON_WORKING_GAP, HistoryError, history_window

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def sample():
    return load_district(SAMPLE)


def _through(district, last: str):
    """The district with its accident and inspection records cut after `last`."""
    end = pd.Timestamp(last)
    return dataclasses.replace(district, accidents=district.accidents[district.accidents["date"] <= end],
                               inspections=district.inspections[district.inspections["date"] <= end])


def test_a_holiday_between_the_last_record_and_the_as_of_date_is_tolerated(sample):
    # 2025-10-01 … 10-08 is China's National Day holiday; the records end the day before it
    d = _through(sample, "2025-09-30")
    w = history_window(d, date(2025, 10, 9))
    assert (w.basis, w.through, w.last_record) == (NON_WORKING_GAP, date(2025, 10, 8), date(2025, 9, 30))
    assert "2025-10-01" in w.note and "2025-10-08" in w.note


def test_a_working_day_in_the_gap_is_refused_and_names_it(sample):
    # Sunday 2025-09-28 was a make-up working day (调休): a weekend alone is not enough here
    d = _through(sample, "2025-09-26")
    with pytest.raises(HistoryError, match="2025-09-28") as err:
        history_window(d, date(2025, 9, 29))
    assert "--history-through 2025-09-28" in str(err.value)
    # an ordinary weekend is fine: Friday 2025-09-19 to Monday 2025-09-22
    assert history_window(_through(sample, "2025-09-19"), date(2025, 9, 22)).basis == NON_WORKING_GAP


def test_declared_history_end_wins_and_bounds_the_as_of_date(sample):
    d = _through(sample, "2025-09-26")
    w = history_window(d, None, date(2025, 9, 28))
    assert (w.as_of, w.basis) == (date(2025, 9, 29), DECLARED)
    with pytest.raises(HistoryError):
        history_window(d, date(2025, 10, 1), date(2025, 9, 28))
    plain = history_window(sample)
    assert (plain.as_of, plain.basis) == (date(2027, 1, 1), LAST_RECORD)


def test_train_accepts_a_history_ending_on_the_last_working_day(sample):
    d = _through(sample, "2025-09-30")
    result = M.train(d, date(2025, 10, 9), kinds=("logistic",), n_folds=2)
    assert result.card["as_of"] == "2025-10-09"
    assert result.card["training"]["history_basis"] == NON_WORKING_GAP
    assert result.card["training"]["history_through"] == "2025-10-08"


def test_a_history_just_short_of_three_years_still_validates_over_time(sample):
    # records from 2022-01-03: as of 2024-12-28 no fold has a year of history before its training
    # snapshot; half a year gives one temporal fold, and the card says the choice rests on it
    result = M.train(sample, date(2024, 12, 28), kinds=("logistic",), n_folds=3)
    v = result.card["validation"]
    assert v["kind"] == M.TEMPORAL and v["n_folds"] == 1
    assert result.validation.min_history_days == 182
    assert any("one validation fold" in w for w in v["warnings"])
    for fold in result.validation.folds:
        assert all(d + pd.Timedelta(days=365) <= fold.test_date for d in fold.train_dates)


def test_two_years_of_records_train_on_held_out_enterprises(sample):
    d = dataclasses.replace(sample, accidents=sample.accidents[sample.accidents["date"] >= "2025-01-01"],
                            inspections=sample.inspections[sample.inspections["date"] >= "2025-01-01"])
    result = M.train(d, kinds=("logistic",))
    v = result.card["validation"]
    assert v["kind"] == M.HELD_OUT and v["n_folds"] == 1 and len(v["warnings"]) == 2
    fold = result.validation.folds[0]
    assert fold.n == len(d.enterprises) and fold.test_date == pd.Timestamp(result.card["training"]["snapshots"][-1])
    assert result.card["training"]["snapshots"][-1] <= "2026-01-01"
    assert "Warning" in result.validation.text()


def test_long_histories_keep_a_year_before_every_snapshot(sample):
    min_days, folds = M.fold_plan(sample, date(2027, 1, 1), n_folds=3)
    assert min_days == 365 and len(folds) == 3


def test_the_card_for_people_states_folds_warnings_and_latest_calibration(sample):
    from riskplan.score.model_files import card_markdown

    d = dataclasses.replace(sample, accidents=sample.accidents[sample.accidents["date"] >= "2025-01-01"],
                            inspections=sample.inspections[sample.inspections["date"] >= "2025-01-01"])
    card = M.train(d, kinds=("logistic",), inspector_adjustment=False).card
    text = card_markdown(card)
    assert "held-out enterprises; 1 fold(s)" in text
    assert text.count("**Warning**") == 2 and "rests on one validation fold" in text
    assert "Calibration of the chosen model on the latest fold" in text
    assert len(card["validation"]["latest_fold_calibration"]) == 10


def test_train_command_takes_a_declared_history_end(tmp_path):
    import json
    import shutil

    from click.testing import CliRunner

    from riskplan.cli import main

    folder = tmp_path / "district"
    shutil.copytree(SAMPLE, folder)
    for name in ("accidents.csv", "inspections.csv"):
        table = pd.read_csv(folder / name, dtype=str, encoding="utf-8-sig")
        table[table["date"] <= "2025-09-26"].to_csv(folder / name, index=False)
    args = ["train", str(folder), "--as-of", "2025-09-29", "--model-kind", "logistic", "--findings-as-recorded"]
    refused = CliRunner().invoke(main, args + ["--out", str(tmp_path / "m1")])
    assert refused.exit_code == 2 and "--history-through 2025-09-28" in refused.stderr
    assert not (tmp_path / "m1").exists()
    ok = CliRunner().invoke(main, args + ["--history-through", "2025-09-28", "--out", str(tmp_path / "m2")])
    assert ok.exit_code == 0, ok.output
    assert "declared with --history-through" in ok.stderr
    card = json.loads((tmp_path / "m2" / "model_card.json").read_text(encoding="utf-8"))
    assert card["training"]["history_basis"] == DECLARED and card["inspector_adjustment"] is False
