"""The checker's derivations against the planner's: two independent implementations of the same
documented rules, each a check on the other.

Random in-memory districts (hypothesis) exercise every obligation rule near its boundaries:
orange due dates around the quarter's edges, holidays and make-up days, accidents around the
31-day look-back, visits on and after the accident day, pinned rows partly or wholly outside
the quarter, several visits on the latest past date. The draw is compared for both methods,
several seeds and every weight power.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskplan.check.calendar import CheckQuarter, weekly_limit, working_days
from riskplan.check.draw import DrawRefused, capped_design, rerun_draw
from riskplan.check.obligations import derive_obligations, slot_of
from riskplan.domain.calendar import Quarter, WorkCalendar
from riskplan.domain.calendar import weekly_limit as planner_weekly_limit
from riskplan.domain.policy import Policy, PolicyError, RosterRules
from riskplan.domain.schema import TABLES_BY_NAME
from riskplan.load.district import District, empty_table
from riskplan.plan.draw import draw_spot_checks, inclusion_units
from riskplan.plan.obligations import exclusive_slot, find_obligations

TIER_NAMES = ("red", "orange", "yellow", "blue")
SUBDISTRICTS = ("A", "B", "Park", "南门街道")
QUARTERS = ("2026Q4", "2027Q1", "2027Q2", "2027Q3")


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    out = empty_table(TABLES_BY_NAME[table])
    if not rows:
        return out
    df = pd.DataFrame(rows)
    for col in out.columns:
        if col not in df.columns:
            df[col] = 0 if col in ("hazards_found", "penalized", "deaths", "injuries") else ""
    for col in ("date", "start", "end", "earliest", "latest"):
        if col in df.columns:
            df[col] = pd.to_datetime(df[col])
    return df[list(out.columns)]


@st.composite
def districts(draw):
    quarter = Quarter.parse(draw(st.sampled_from(QUARTERS)))
    start = quarter.start
    n = draw(st.integers(1, 24))
    ids = [f"E{i:02d}" for i in range(n)]
    tiers = pd.Series([draw(st.sampled_from(TIER_NAMES)) for _ in ids], index=ids)
    ent = empty_table(TABLES_BY_NAME["enterprises"]).reindex(range(n))
    ent["enterprise_id"], ent["name"] = ids, ids
    ent["subdistrict"] = [draw(st.sampled_from(SUBDISTRICTS)) for _ in ids]
    offsets = st.integers(-400, 30)
    inspections = [{"enterprise_id": draw(st.sampled_from(ids)), "date": start + timedelta(days=draw(offsets)),
                    "inspectors": "I1;I2", "major_hazards_found": draw(st.sampled_from([0, 0, 0, 1, 2]))}
                   for _ in range(draw(st.integers(0, 2 * n)))]
    # a few visits exactly 182/183/184 days before some quarter day, and on a shared latest date
    for _ in range(draw(st.integers(0, 3))):
        inspections.append({"enterprise_id": draw(st.sampled_from(ids)), "inspectors": "I3",
                            "date": start - timedelta(days=draw(st.sampled_from([182, 181, 183, 90, 91, 1]))),
                            "major_hazards_found": draw(st.sampled_from([0, 1]))})
    accidents = [{"enterprise_id": draw(st.sampled_from(ids)), "date": start + timedelta(days=draw(st.integers(-40, 3))),
                  "severity": draw(st.sampled_from(["minor", "serious", "major", "extraordinary"]))}
                 for _ in range(draw(st.integers(0, 4)))]
    pinned = []
    for _ in range(draw(st.integers(0, 3))):
        lo = start + timedelta(days=draw(st.integers(-60, 100)))
        pinned.append({"enterprise_id": draw(st.sampled_from(ids)), "reason": "order",
                       "earliest": lo, "latest": lo + timedelta(days=draw(st.integers(0, 50)))})
    near = [start + timedelta(days=k) for k in range(-3, 95)]
    holidays = sorted(set(draw(st.lists(st.sampled_from(near), max_size=6))))
    extra = sorted(d for d in set(draw(st.lists(st.sampled_from(near), max_size=3))) if d.weekday() >= 5)
    policy = Policy.model_validate({
        "roster": {"holidays": holidays, "extra_workdays": [d for d in extra if d not in holidays]},
        "draw": {"avoid_recent_days": draw(st.sampled_from([0, 30, 90])), "min_inclusion": 0.0},
        "tiers": {"red": {"visits_per_month": draw(st.integers(1, 2)), "max_visits_per_quarter": 6},
                  "orange": {"max_days_between_visits": draw(st.sampled_from([182, 100, 30])),
                             "max_visits_per_quarter": draw(st.integers(0, 2))},
                  "yellow": {"sample_share": draw(st.sampled_from([0.1, 0.25, 0.5, 0.35])),
                             "max_visits_per_quarter": draw(st.sampled_from([0, 2]))},
                  "blue": {"sample_share": draw(st.sampled_from([0.03, 0.3, 0.15]))}},
        "follow_up": {"after_major_hazard": draw(st.booleans()), "after_accident": draw(st.booleans())},
    })
    district = District(Path("."), ent, frame("accidents", accidents), frame("inspections", inspections),
                        empty_table(TABLES_BY_NAME["inspectors"]), empty_table(TABLES_BY_NAME["leave"]),
                        empty_table(TABLES_BY_NAME["conflicts"]), frame("pinned", pinned), policy)
    return district, tiers, quarter


def as_set(obligations) -> set[tuple]:
    return {(o.enterprise_id, o.kind, o.basis, o.window_start, o.window_end) for o in obligations}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(districts())
def test_the_checker_derives_the_planners_obligations(case):
    district, tiers, quarter = case
    mine = derive_obligations(district, tiers, quarter)
    assert as_set(mine) == as_set(find_obligations(district, tiers, quarter))
    assert len(mine) == len(as_set(mine))
    assert all(slot_of(o.kind) == exclusive_slot(o.kind) for o in mine)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(districts(), st.integers(0, 2**32 - 1))
def test_the_checker_reruns_the_planners_uniform_draw(case, seed):
    district, tiers, quarter = case
    obligations = find_obligations(district, tiers, quarter)
    theirs = draw_spot_checks(district, tiers, quarter, obligations, seed)
    mine = rerun_draw(district, tiers, quarter, derive_obligations(district, tiers, quarter), seed)
    assert mine.drawn_ids == theirs.drawn_ids
    rows = theirs.frame.set_index("enterprise_id")
    assert sorted(mine.rows) == sorted(rows.index)
    for eid, row in mine.rows.items():
        assert ("yes" if row.eligible else "no") == rows.at[eid, "eligible"]
        assert row.inclusion_probability == rows.at[eid, "inclusion_probability"]
    quotas = {(r.tier, r.subdistrict): r.quota for r in theirs.quotas.itertuples()}
    assert mine.quotas == quotas


def weighted_case(seed: int, power: int, sizes: dict[str, int], min_inclusion: float = 0.0,
                  max_inclusion: float = 1.0, text: bool = True):
    rng = np.random.default_rng(seed)
    ids, subs = [], []
    for name, n in sizes.items():
        ids += [f"{name}-{i:03d}" for i in range(n)]
        subs += [name] * n
    ent = empty_table(TABLES_BY_NAME["enterprises"]).reindex(range(len(ids)))
    ent["enterprise_id"], ent["name"], ent["subdistrict"] = ids, ids, subs
    policy = Policy.model_validate({"draw": {"method": "risk_weighted", "weight_power": power,
                                             "min_inclusion": min_inclusion, "max_inclusion": max_inclusion},
                                    "tiers": {"yellow": {"sample_share": 0.2}, "blue": {"sample_share": 0.1}}})
    tables = {name: empty_table(TABLES_BY_NAME[name]) for name in
              ("accidents", "inspections", "inspectors", "leave", "conflicts", "pinned")}
    district = District(path=Path("."), enterprises=ent, policy=policy, **tables)
    probs = np.round(rng.beta(0.4, 6.0, len(ids)), 6)
    probs[: len(ids) // 10] = 0.0  # some weights at the minimum 1
    tiers = pd.DataFrame({"enterprise_id": ids, "tier": rng.choice(["yellow", "blue"], len(ids)),
                          "probability": [f"{p:.6f}" for p in probs] if text else probs})
    return district, tiers


@pytest.mark.parametrize("power", [1, 2, 3, 4])
@pytest.mark.parametrize("seed", [1, 20270101, 987654321])
def test_the_checker_reruns_the_planners_risk_weighted_draw(seed, power):
    district, tiers = weighted_case(seed, power, {"A": 40, "B": 23, "南门街道": 9, "Park": 3})
    theirs = draw_spot_checks(district, tiers, "2027Q1", [], seed)
    mine = rerun_draw(district, tiers, "2027Q1", [], seed)
    assert mine.drawn_ids == theirs.drawn_ids and mine.drawn_ids
    units = dict(zip(theirs.frame["enterprise_id"], theirs.frame["inclusion_units"]))
    assert {e: r.inclusion_units for e, r in mine.rows.items()} == units


def test_a_float_probability_column_weighs_as_its_text():
    district, as_float = weighted_case(5, 2, {"A": 30, "B": 12}, text=False)
    _, as_text = weighted_case(5, 2, {"A": 30, "B": 12}, text=True)
    assert rerun_draw(district, as_float, "2027Q1", [], 5).drawn_ids == \
        draw_spot_checks(district, as_text, "2027Q1", [], 5).drawn_ids


def test_an_impossible_floor_is_refused_by_both():
    district, tiers = weighted_case(2, 1, {"A": 40, "B": 2}, min_inclusion=0.3)
    with pytest.raises(PolicyError):
        draw_spot_checks(district, tiers, "2027Q1", [], 2)
    with pytest.raises(DrawRefused, match="subdistrict"):
        rerun_draw(district, tiers, "2027Q1", [], 2)


@settings(max_examples=120, deadline=None)
@given(w=st.lists(st.integers(1, 10**6), min_size=1, max_size=30), n_frac=st.floats(0, 1),
       low=st.sampled_from([0, 10**7, 5 * 10**7]), high=st.sampled_from([10**9, 6 * 10**8, 3 * 10**8]),
       power=st.sampled_from([1, 2, 4]))
def test_the_checkers_design_equals_the_planners(w, n_frac, low, high, power):
    n = round(n_frac * len(w))
    w = [x**power for x in w]
    try:
        theirs = inclusion_units(w, n, low, high)
    except ValueError:
        with pytest.raises(DrawRefused):
            capped_design(w, n, low, high)
        return
    assert capped_design(w, n, low, high) == theirs


def test_the_planner_settles_a_design_with_extreme_weight_ratios():
    """Found by comparing the two designs: probabilities 0.000000 (weight 1) and 0.013803 with
    weight_power = 4 give weights 1 and 13803⁴; the planner's fixed-point loop oscillated from
    its floating-point start and raised ArithmeticError, so `riskplan plan` crashed on such a
    stratum. It now settles such a design by an exact sweep; both give [0, 10⁹]."""
    w = [1, 13803**4]
    assert capped_design(w, 1, 0, 10**9) == [0, 10**9]
    district, tiers = weighted_case(1, 4, {"A": 2})
    tiers["tier"], tiers["probability"] = "yellow", ["0.000000", "0.013803"]
    district = replace_policy(district, {"draw": {"method": "risk_weighted", "weight_power": 4, "min_inclusion": 0.0},
                                         "tiers": {"yellow": {"sample_share": 0.5}}})
    assert rerun_draw(district, tiers, "2027Q1", [], 1).drawn_ids == ["A-001"]
    assert inclusion_units(w, 1, 0, 10**9) == [0, 10**9]
    assert draw_spot_checks(district, tiers, "2027Q1", [], 1).drawn_ids == ["A-001"]


def replace_policy(district: District, policy: dict) -> District:
    from dataclasses import replace

    return replace(district, policy=Policy.model_validate(policy))


@settings(max_examples=200, deadline=None)
@given(capacity=st.integers(0, 40), reserve=st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.5, 0.7, 0.9, 1.0]),
       available=st.integers(0, 7))
def test_the_checkers_weekly_limit_equals_the_planners(capacity, reserve, available):
    assert weekly_limit(capacity, reserve, available) == planner_weekly_limit(capacity, reserve, available)


@given(st.sampled_from(QUARTERS), st.lists(st.dates(date(2026, 9, 25), date(2027, 10, 5)), max_size=8))
def test_the_checkers_working_days_equal_the_planners(text, days):
    holidays = [d for d in days if d.weekday() < 5]
    extra = [d for d in days if d.weekday() >= 5]
    # the policy's lists as the planner reads them (replacing the built-in calendar when they name a
    # day of the quarter; 2026Q4 without one gets chinesecalendar's days on both sides)
    theirs = WorkCalendar.for_quarter(Quarter.parse(text), RosterRules(holidays=tuple(holidays),
                                                                    extra_workdays=tuple(extra))).days
    assert tuple(working_days(CheckQuarter.parse(text), holidays, extra)) == theirs
