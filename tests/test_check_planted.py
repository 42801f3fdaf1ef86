"""Bugs planted in the planner are caught by `riskplan check`: the checker re-derives the
obligations and the draw with its own code, so it does not agree with a planner mistake.

Each test patches one planner function for the length of one `run_plan`, then checks the
plan it wrote with the unpatched checker.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta
from fractions import Fraction

from conftest import first_fit_solve, make_tiny_district

import riskplan.plan.draw as planner_draw
import riskplan.plan.obligations as planner_obligations
import riskplan.plan.problem as planner_problem
from riskplan.check.checker import check_roster
from riskplan.pipeline import run_plan


def rules_broken(district, out) -> set[str]:
    return {v.rule for v in check_roster(district, out)}


def plan(tmp_path, name: str, **district):
    t = make_tiny_district(tmp_path / name, **district)
    out = tmp_path / f"{name}_out"
    run_plan(t.path, "2027Q1", 3, t.tiers_csv, out_dir=out, solve=first_fit_solve)
    return t.path, out


ORANGE = dict(enterprises=[{"enterprise_id": "O1", "tier": "orange"}, {"enterprise_id": "B01", "tier": "blue"}],
              # 2026-08-06 + 182 days = Thursday 2027-02-04; + 183 = Friday 2027-02-05
              inspections=[{"enterprise_id": "O1", "date": "2026-08-06", "inspectors": "I01;I02"}])


def test_an_orange_deadline_one_day_late_is_caught(tmp_path, monkeypatch):
    assert rules_broken(*plan(tmp_path, "ok", **ORANGE)) == set()
    real = planner_obligations.find_obligations

    def plus_183(district, tiers, quarter, calendar=None):
        return [replace(o, window_end=o.window_end + timedelta(days=1)) if o.kind == "orange_due" else o
                for o in real(district, tiers, quarter, calendar)]

    monkeypatch.setattr(planner_problem, "find_obligations", plus_183)
    assert "roster_well_formed" in rules_broken(*plan(tmp_path, "late", **ORANGE))


STRATA = dict(enterprises=[{"enterprise_id": f"{s}{i:02d}", "tier": "yellow", "subdistrict": s}
                           for s, n in (("A", 14), ("B", 17), ("C", 9)) for i in range(n)],
              inspections=[], policy="[tiers.yellow]\nsample_share = 0.1\n")


def test_remainder_units_given_to_the_smallest_fractions_are_caught(tmp_path, monkeypatch):
    district, out = plan(tmp_path, "ok", **STRATA)
    assert rules_broken(district, out) == set()

    def smallest_first(share, eligible_by_stratum, keys):
        s = Fraction(str(share))
        strata = sorted(eligible_by_stratum)
        exact = {k: s * eligible_by_stratum[k] for k in strata}
        quota = {k: math.floor(v) for k, v in exact.items()}
        left = math.floor(s * sum(eligible_by_stratum.values()) + Fraction(1, 2)) - sum(quota.values())
        for i in sorted(range(len(strata)), key=lambda i: (exact[strata[i]] - quota[strata[i]], keys[i]))[:left]:
            quota[strata[i]] += 1
        return quota

    monkeypatch.setattr(planner_draw, "tier_quotas", smallest_first)
    assert rules_broken(*plan(tmp_path, "bad", **STRATA)) == {"exact_draw"}


def test_an_accident_look_back_of_32_days_is_caught(tmp_path, monkeypatch):
    # start − 32 days: no follow-up is due; the planted planner orders one anyway
    case = dict(enterprises=[{"enterprise_id": "B01", "tier": "blue"}, {"enterprise_id": "Y01", "tier": "yellow"}],
                inspections=[], accidents=[{"enterprise_id": "B01", "date": "2026-11-30", "severity": "serious",
                                            "deaths": 0, "injuries": 1}])
    assert rules_broken(*plan(tmp_path, "ok", **case)) == set()
    monkeypatch.setattr(planner_obligations, "ACCIDENT_LOOKBACK_DAYS", 32)
    assert "mandatory_coverage" in rules_broken(*plan(tmp_path, "bad", **case))
