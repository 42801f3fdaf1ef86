"""Does team adjustment of past findings help? AP on the next 12 months, with and without.

    PYTHONPATH=src python benchmarks/inspector_effects.py [--size M] [--seeds 1 2 3] [--leniency 0 0.5]

For each seed and generator leniency (`riskplan synth --team-leniency`), trains the model on
the district's history twice — past findings as recorded, and team-adjusted
(riskplan.score.inspectors) — scores as of the day after the history and prints the average
precision against truth.csv's expected outcome of the next 12 months (no sampling noise).
Districts are cached in benchmarks/.districts/ (git-ignored)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from districts import district_path  # noqa: E402

from riskplan.load.district import load_district  # noqa: E402
from riskplan.score.metrics import average_precision, read_truth  # noqa: E402
from riskplan.score.model import train  # noqa: E402
from riskplan.score.tiering import tier_district  # noqa: E402


def measure(size: str, seed: int, leniency: float, kinds: tuple[str, ...]) -> dict:
    path = district_path(size, seed, team_leniency=leniency or None)
    district = load_district(path)
    truth = read_truth(path, district.enterprises["enterprise_id"])
    row = {"size": size, "seed": seed, "leniency": leniency}
    for adjust in (False, True):
        started = time.perf_counter()
        result = train(district, seed=0, kinds=kinds, inspector_adjustment=adjust)
        p = tier_district(district, result.model)["probability"].to_numpy()
        key = "adjusted" if adjust else "as_recorded"
        row[f"ap_{key}"] = average_precision(p, truth)
        row[f"chosen_{key}"] = result.model.kind
        row[f"seconds_{key}"] = round(time.perf_counter() - started, 1)
    row["ap_oracle"] = average_precision(truth, truth)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="M")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--leniency", type=float, nargs="+", default=[0.0, 0.5])
    parser.add_argument("--kinds", nargs="+", default=["logistic", "boosting"])
    args = parser.parse_args()
    import pandas as pd

    rows = []
    for leniency in args.leniency:
        for seed in args.seeds:
            rows.append(measure(args.size, seed, leniency, tuple(args.kinds)))
            print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    frame["gain"] = frame["ap_adjusted"] - frame["ap_as_recorded"]
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(frame.groupby("leniency")[["ap_as_recorded", "ap_adjusted", "gain"]].mean().to_string(
        float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
