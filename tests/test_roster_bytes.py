"""Seeds keep their meaning: the plan files for fixed districts and seeds are byte-identical to
the recorded fingerprints (`tests/golden/plan_bytes.json`).

A pure refactoring must not change which roster a seed gives. When a change is meant to
change rosters (a solver improvement, a rule fix), re-record with
``python tests/test_roster_bytes.py --record`` and say so in the README's solver section.
The fingerprints depend on the numeric libraries too, so they are keyed by their versions:
with other versions installed the comparison is skipped with the reason (the library, not
riskplan, changed the roster).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden" / "plan_bytes.json"
REPO = Path(__file__).resolve().parents[1]
PLAN_FILES = ("roster.csv", "tiers.csv", "inspector_schedule.csv", "draw.csv", "shortfall.csv", "unplaced.csv")
#: (case name, synth size or None for the bundled sample, synth seed, plan seed)
CASES = (("sample", None, 0, 1), ("S-1", "S", 1, 7), ("M-2", "M", 2, 3))
LIBRARIES = ("numpy", "ortools", "pandas", "scikit-learn", "scipy")


def library_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in LIBRARIES}


def _riskplan(*args: str) -> None:
    """The plan files in English (their headers and values are in the language chosen), whether run
    by pytest or by `--record` from a shell whose default is Chinese."""
    env = {**os.environ, "RISKPLAN_LANG": "en"}
    subprocess.run([sys.executable, "-m", "riskplan", *args], check=True, capture_output=True, cwd=REPO, env=env)


def plan_fingerprint(work: Path, size: str | None, synth_seed: int, plan_seed: int) -> dict[str, str]:
    """sha256 of every plan file, plan.json without its wall times and versions."""
    if size is None:
        district = REPO / "data" / "sample"
    else:
        district = work / "district"
        _riskplan("synth", "--size", size, "--seed", str(synth_seed), "--out", str(district))
    out = work / "plan"
    _riskplan("plan", str(district), "--quarter", "2027Q1", "--seed", str(plan_seed), "--out", str(out))
    prints = {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in PLAN_FILES}
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    for key in ("timing", "versions"):
        plan.pop(key, None)
    prints["plan.json"] = hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()
    return prints


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_plan_bytes_unchanged(case, tmp_path):
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    if golden["libraries"] != library_versions():
        pytest.skip(f"recorded with {golden['libraries']}, installed {library_versions()}")
    name, size, synth_seed, plan_seed = case
    assert plan_fingerprint(tmp_path, size, synth_seed, plan_seed) == golden["cases"][name]


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    import tempfile

    record = {"libraries": library_versions(), "cases": {}}
    for name, size, synth_seed, plan_seed in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            record["cases"][name] = plan_fingerprint(Path(tmp), size, synth_seed, plan_seed)
            print(name, record["cases"][name]["roster.csv"][:12])
    GOLDEN.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
