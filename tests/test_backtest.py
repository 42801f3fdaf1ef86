"""`riskplan backtest`: train before a past date, score as of it, compare with the records after it."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from riskplan import i18n
from riskplan.cli import main
from riskplan.load.district import load_district
from riskplan.score.backtest import BacktestError, backtest, parse_horizon
from riskplan.score.model import train

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
AS_OF = date(2026, 1, 1)


@pytest.fixture(scope="module")
def sample():
    return load_district(SAMPLE)


@pytest.fixture(scope="module")
def result(sample):
    with i18n.language("en"):
        return backtest(sample, AS_OF, 365, kinds=("logistic",))


def test_outcomes_and_capacity_are_what_the_records_show_after_the_date(result):
    acc = pd.read_csv(SAMPLE / "accidents.csv", parse_dates=["date"])
    ins = pd.read_csv(SAMPLE / "inspections.csv", parse_dates=["date"])
    in_window = lambda f: f[(f["date"] >= "2026-01-01") & (f["date"] <= "2026-12-31")]  # noqa: E731
    a, v = in_window(acc), in_window(ins)
    hit = set(a.loc[a["severity"] != "minor", "enterprise_id"]) | set(v.loc[v["major_hazards_found"] > 0, "enterprise_id"])
    assert result.events == len(hit) and result.n == 1500
    assert result.capacity == round(len(v.drop_duplicates(["enterprise_id", "date"])) * 91.25 / 365)
    assert list(result.metrics["scorer"]) == ["model", "baseline", "recent_findings"]
    assert result.by_tier.groupby("scorer")["n"].sum().eq(1500).all()
    assert result.by_tier.groupby("scorer")["events"].sum().eq(result.events).all()
    assert result.calibration["n"].sum() == 1500 and len(result.calibration) == 10
    m = result.metrics.set_index("scorer")
    assert m.loc["model", "average_precision"] > result.events / result.n  # better than chance


def test_nothing_after_the_date_reaches_the_score(sample, result):
    """The model trained on the records cut at the date scores exactly as the backtest's model did."""
    cut = pd.Timestamp(AS_OF)
    before = dataclasses.replace(sample, accidents=sample.accidents[sample.accidents["date"] < cut],
                                 inspections=sample.inspections[sample.inspections["date"] < cut])
    with i18n.language("en"):
        model = train(before, AS_OF, kinds=("logistic",)).model
        again = backtest(sample, AS_OF, 365, model=model)
    pd.testing.assert_frame_equal(again.metrics, result.metrics)


def test_a_horizon_the_records_do_not_cover_is_refused(sample):
    with pytest.raises(BacktestError, match="2027-05-31"):
        backtest(sample, date(2026, 6, 1), 365, kinds=("logistic",))
    assert parse_horizon("6m") == 182 and parse_horizon("90d") == 90
    with pytest.raises(BacktestError):
        parse_horizon("soon")


def test_backtest_command_writes_tables_png_and_json(tmp_path):
    out = tmp_path / "bt"
    from riskplan.score.model_files import default_model_dir

    args = ["backtest", str(SAMPLE), "--as-of", "2026-01-01", "--out", str(out), "--model", str(default_model_dir())]
    res = CliRunner().invoke(main, args + ["--lang", "zh"])
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} >= {"backtest.csv", "backtest_calibration.csv", "backtest_tiers.csv",
                                               "backtest.png", "backtest.json"}
    table = pd.read_csv(out / "backtest.csv", encoding="utf-8-sig")
    assert table.columns[0] == "评分方法" and list(table["评分方法"]) == ["风险模型", "百分制扣分基线", "最近一次检查发现"]
    record = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    assert record["outcome_window"] == ["2026-01-01", "2026-12-31"] and record["metrics"][0]["scorer"] == "model"
    assert (out / "backtest.png").read_bytes()[:4] == b"\x89PNG"
    late = CliRunner().invoke(main, ["backtest", str(SAMPLE), "--as-of", "2026-06-01", "--out", str(tmp_path / "late"),
                                 "--lang", "en"])
    assert late.exit_code == 2 and "shorter --horizon" in late.stderr and not (tmp_path / "late").exists()
