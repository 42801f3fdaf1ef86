"""Does team adjustment of past findings help? AP on the next 12 months, with and without.

    PYTHONPATH=src python benchmarks/inspector_effects.py [--size M] [--seeds 1 2 3] \
        [--leniency 0 0.5 1.0] [--kinds logistic boosting]

For each seed and generator leniency (`riskplan synth --team-leniency`), trains the model on
the district's history three times and scores as of the day after the history:

- `as_recorded`: past findings as recorded;
- `adjusted`: team-adjusted with the estimated propensities (riskplan.score.inspectors);
- `oracle_adj`: adjusted with the generator's *true* per-visit team factors (leniency and,
  for hazards other than major ones, stringency), the best any adjustment of the features can do.

Printed: the average precision of each against truth.csv's expected outcome of the next 12
months (no sampling noise), the oracle's AP (ranking by the truth), and how well the estimated
propensities recover the generator's (correlation and slope of estimated on true log leniency).
`exposure` and `oracle_exposure`: the same two adjustments aggregated by exposure instead of
per visit (riskplan.score.features.ADJUSTMENT: a window's findings over its visits' summed team
factors, times the visits).
Districts are cached in benchmarks/.districts/ (git-ignored)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from districts import district_path  # noqa: E402

import riskplan.score.features as features_mod  # noqa: E402
import riskplan.score.inspectors as inspectors_mod  # noqa: E402
from riskplan.domain.schema import split_list  # noqa: E402
from riskplan.load.district import load_district  # noqa: E402
from riskplan.score.metrics import average_precision, read_truth  # noqa: E402
from riskplan.score.model import train  # noqa: E402
from riskplan.score.tiering import tier_district  # noqa: E402


def true_propensities(district, size: str, seed: int, leniency: float) -> tuple[np.ndarray, np.ndarray]:
    """(leniency, stringency) per inspector of the inspectors table, replayed from the generator's streams."""
    from riskplan.synth.common import STRINGENCY_SD
    from riskplan.synth.common import SIZES
    from riskplan.synth.enterprises import _make_enterprises
    from riskplan.synth.history import _make_risk
    from riskplan.synth.staff import _make_inspectors

    n, n_insp = len(district.enterprises), len(district.inspectors)
    assert (n, n_insp) == SIZES[size.upper()], "replay needs the size's own counts"
    rng = np.random.Generator(np.random.PCG64(seed))
    _ent, areas, raw = _make_enterprises(rng, n)
    _make_risk(rng, raw)
    _make_inspectors(rng, n_insp, areas, np.bincount(raw["area"], minlength=len(areas)))
    stringency = np.exp(rng.normal(0, STRINGENCY_SD, n_insp))
    lenient = (np.exp(np.random.Generator(np.random.PCG64([seed, 16])).normal(0, leniency, n_insp))
               if leniency > 0 else np.ones(n_insp))
    return lenient, stringency


def _team_mean(visits: pd.DataFrame, per_inspector: dict[str, float]) -> np.ndarray:
    return np.array([np.mean([per_inspector[i] for i in split_list(t)]) for t in visits["inspectors"].astype(str)])


def oracle_adjustment(district, lenient: np.ndarray, stringency: np.ndarray):
    """An `adjusted_inspections` that divides by the generator's true team factors."""
    ids = district.inspectors["inspector_id"].astype(str).to_numpy()
    len_of = dict(zip(ids, lenient))
    str_of = dict(zip(ids, lenient * stringency))

    def adjusted(inspections, enterprises, as_of, factors=False):
        t = pd.Timestamp(as_of).normalize()
        out = inspections.copy()
        before = (out["date"] < t).to_numpy()
        past = out.loc[before]
        if factors:
            out["factor_other"], out["factor_major"] = 1.0, 1.0
            out.loc[before, "factor_other"] = _team_mean(past, str_of)
            out.loc[before, "factor_major"] = _team_mean(past, len_of)
            return out
        other = (past["hazards_found"] - past["major_hazards_found"]).clip(lower=0).to_numpy(float)
        major = past["major_hazards_found"].to_numpy(float) / _team_mean(past, len_of)
        out["hazards_found"] = out["hazards_found"].astype(float)
        out["major_hazards_found"] = out["major_hazards_found"].astype(float)
        out.loc[before, "major_hazards_found"] = major
        out.loc[before, "hazards_found"] = other / _team_mean(past, str_of) + major
        return out

    return adjusted


def recovery(district, lenient: np.ndarray) -> tuple[float, float]:
    """(correlation, slope) of the estimated major-hazard effects on the true log leniency."""
    ids = district.inspectors["inspector_id"].astype(str).to_numpy()
    index = pd.Index(district.enterprises["enterprise_id"])
    est = inspectors_mod.inspector_effects(district.inspections, index, "major_hazards_found")
    est = est.reindex(ids).fillna(0.0).to_numpy()
    truth = np.log(lenient)
    if truth.std() == 0:
        return float("nan"), float("nan")
    return float(np.corrcoef(est, truth)[0, 1]), float(np.polyfit(truth, est, 1)[0])


def _ap(district, truth, kinds, adjust: bool) -> tuple[float, str, float]:
    started = time.perf_counter()
    result = train(district, seed=0, kinds=kinds, inspector_adjustment=adjust)
    p = tier_district(district, result.model)["probability"].to_numpy()
    return average_precision(p, truth), result.model.kind, round(time.perf_counter() - started, 1)


def measure(size: str, seed: int, leniency: float, kinds: tuple[str, ...]) -> dict:
    path = district_path(size, seed, team_leniency=leniency or None)
    district = load_district(path)
    truth = read_truth(path, district.enterprises["enterprise_id"])
    row = {"size": size, "seed": seed, "leniency": leniency}
    row["ap_as_recorded"], row["chosen"], row["s_plain"] = _ap(district, truth, kinds, False)
    row["ap_adjusted"], _kind, row["s_adjusted"] = _ap(district, truth, kinds, True)
    lenient, stringency = true_propensities(district, size, seed, leniency)
    real = inspectors_mod.adjusted_inspections
    inspectors_mod.adjusted_inspections = oracle_adjustment(district, lenient, stringency)
    try:
        row["ap_oracle_adj"], _kind, _s = _ap(district, truth, kinds, True)
    finally:
        inspectors_mod.adjusted_inspections = real
    features_mod.ADJUSTMENT = "exposure"
    try:
        row["ap_exposure"], _kind, _s = _ap(district, truth, kinds, True)
        inspectors_mod.adjusted_inspections = oracle_adjustment(district, lenient, stringency)
        row["ap_oracle_exposure"], _kind, _s = _ap(district, truth, kinds, True)
    finally:
        inspectors_mod.adjusted_inspections = real
        features_mod.ADJUSTMENT = "divide"
    row["corr"], row["slope"] = recovery(district, lenient)
    row["ap_oracle"] = average_precision(truth, truth)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="M")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--leniency", type=float, nargs="+", default=[0.0, 0.5, 1.0])
    parser.add_argument("--kinds", nargs="+", default=["logistic", "boosting"])
    args = parser.parse_args()

    rows = []
    for leniency in args.leniency:
        for seed in args.seeds:
            rows.append(measure(args.size, seed, leniency, tuple(args.kinds)))
            print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    frame["gain"] = frame["ap_adjusted"] - frame["ap_as_recorded"]
    frame["oracle_gain"] = frame["ap_oracle_adj"] - frame["ap_as_recorded"]
    frame["exposure_gain"] = frame["ap_exposure"] - frame["ap_as_recorded"]
    frame["oracle_exposure_gain"] = frame["ap_oracle_exposure"] - frame["ap_as_recorded"]
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    cols = ["ap_as_recorded", "ap_adjusted", "ap_oracle_adj", "ap_exposure", "ap_oracle_exposure", "gain",
            "oracle_gain", "exposure_gain", "oracle_exposure_gain", "corr", "slope"]
    print(frame.groupby("leniency")[cols].mean().to_string(float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
