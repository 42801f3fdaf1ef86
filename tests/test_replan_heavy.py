"""Re-planning a generated district under heavy leave, with rotation on: the checker passes on
the whole quarter, the frozen part is byte for byte the old one, the published draw is kept."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest

from riskplan.check.checker import check_roster
from riskplan.pipeline import run_plan
from riskplan.replan import run_replan
from riskplan.synth.district import generate_district


@pytest.mark.parametrize("seed,first", [(11, date(2027, 2, 1)), (12, date(2027, 3, 3))])
def test_heavy_leave_and_rotation(tmp_path, seed, first):
    generate_district(tmp_path / "d", "S", seed=seed, n_enterprises=450, n_inspectors=9)
    run_plan(tmp_path / "d", "2027Q1", seed, out_dir=tmp_path / "out", time_limit=20)
    inspectors = sorted(pd.read_csv(tmp_path / "d" / "inspectors.csv", dtype=str)["inspector_id"])
    rows = []
    for k, iid in enumerate(inspectors[:4]):  # four of nine away three weeks each, staggered
        start = first + timedelta(days=5 * k)
        rows.append({"change": "leave", "inspector_id": iid, "start": start, "end": start + timedelta(days=20),
                     "reason": "sick"})
    rows.append({"change": "leaves_bureau", "inspector_id": inspectors[4], "start": first + timedelta(days=10),
                 "reason": "seconded"})
    table = pd.DataFrame(rows)
    table["start"], table["end"] = pd.to_datetime(table["start"]), pd.to_datetime(table["end"])
    result = run_replan(tmp_path / "d", tmp_path / "out", first, table, out_dir=tmp_path / "new", time_limit=20)
    assert [str(v) for v in check_roster(tmp_path / "d", tmp_path / "new")] == []
    policy = json.loads((tmp_path / "new" / "plan.json").read_text(encoding="utf-8"))["policy"]
    assert policy["roster"]["rotate_inspectors"] is True
    old = (tmp_path / "out" / "roster.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    new = set((tmp_path / "new" / "roster.csv").read_text(encoding="utf-8-sig").splitlines()[1:])
    frozen = [line for line in old if line.split(",")[9] < first.isoformat()]
    assert frozen and all(line in new for line in frozen)
    assert (tmp_path / "new" / "draw.csv").read_bytes() == (tmp_path / "out" / "draw.csv").read_bytes()
    s = result.summary
    assert s["frozen"] == len(frozen) and s["changed"] >= s["lower_bound"] > 0
