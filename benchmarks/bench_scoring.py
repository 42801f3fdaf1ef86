"""Scoring-model benchmarks and the Done-when figures of the scoring issue.

    python -m pytest benchmarks/bench_scoring.py -m "not slow"   # scoring S and M with the default model
    python -m pytest benchmarks/bench_scoring.py -m slow -s      # training on M (< 2 min), scoring XL
                                                                 # (50,000 enterprises, < 10 s), and the
                                                                 # quality / stability figures on M seeds 1, 2

Districts come from benchmarks/districts.py (generated once into benchmarks/.districts/).
Timings are wall-clock on whatever else the machine is doing; the targets are for 2 cores.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from districts import district_path

from riskplan.domain.schema import Tier
from riskplan.load.district import load_district
from riskplan.score.evaluation import evaluate_district
from riskplan.score.model import train
from riskplan.score.model_files import load_default_model
from riskplan.score.tiering import tier_district

TRAIN_TARGET_S = 120.0
SCORE_TARGET_S = 10.0
RANK = {t.value: t.rank for t in Tier}


def _score(district, model):
    return tier_district(district, model)


@pytest.mark.parametrize("size", ["S", "M"])
def test_score(benchmark, size):
    district = load_district(district_path(size, 1))
    model = load_default_model()
    tiers = benchmark.pedantic(_score, args=(district, model), rounds=3, iterations=1)
    assert len(tiers) == len(district.enterprises)


@pytest.mark.slow
def test_score_xl_under_10_seconds(benchmark):
    """Tier 50,000 enterprises (features, probabilities, contributions, reasons, overrides)."""
    district = load_district(district_path("XL", 1))
    model = load_default_model()
    start = time.perf_counter()
    tiers = benchmark.pedantic(_score, args=(district, model), rounds=3, iterations=1)
    per_round = (time.perf_counter() - start) / 3
    print(f"\nXL scoring: {len(tiers):,} enterprises, {per_round:.2f} s per run")
    assert len(tiers) == 50_000
    assert per_round < SCORE_TARGET_S


@pytest.mark.slow
def test_train_m_under_2_minutes(benchmark):
    district = load_district(district_path("M", 1))
    start = time.perf_counter()
    result = benchmark.pedantic(train, args=(district,), kwargs={"seed": 0}, rounds=1, iterations=1)
    elapsed = time.perf_counter() - start
    print(f"\nM training: {elapsed:.1f} s, chosen {result.validation.chosen}")
    assert elapsed < TRAIN_TARGET_S


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_quality_and_stability_on_m(seed):
    """Done-when: beats the rule baseline on AP and precision@5%, AP >= 0.85 x oracle AP;
    retraining with another random seed moves < 2% of enterprises by more than one colour.
    Seed 1 is the district the defaults were tuned on; seed 2 was not looked at while tuning."""
    district = load_district(district_path("M", seed))
    first = train(district, seed=0)
    ev = evaluate_district(district, first.model)
    m = ev.comparison.metrics
    print(f"\nM seed {seed}: chosen {first.validation.chosen}\n{m.to_string(float_format=lambda v: f'{v:.4f}')}\n"
          f"model/oracle {ev.comparison.ratio_to_oracle}\ntier mix {ev.tier_mix.round(4).to_dict()}")
    assert m.loc["model", "average_precision"] > m.loc["baseline", "average_precision"]
    assert m.loc["model", "precision@5%"] > m.loc["baseline", "precision@5%"]
    assert ev.comparison.ratio_to_oracle["average_precision"] >= 0.85
    second = train(district, seed=1)
    a = tier_district(district, first.model)["tier"].map(RANK).to_numpy()
    b = tier_district(district, second.model)["tier"].map(RANK).to_numpy()
    moved_far = float(np.mean(np.abs(a - b) > 1))
    print(f"stability: {moved_far:.4%} moved by more than one colour, {np.mean(a != b):.4%} changed at all")
    assert moved_far < 0.02
