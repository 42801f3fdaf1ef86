"""The checker at the edges of each rule: one day, one visit or one unit either side.

Each case is written so that an off-by-one in the checker (or a planner bug the checker should
see) flips the verdict: a leave-shortened week, a month visited twice and another not, an
orange due date on a Saturday, an accident 31 vs 32 days back, a visit on vs after the accident
day, the avoid-recent boundary, the largest-remainder unit.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pandas as pd

from riskplan.check.checker import (
    CheckContext,
    Visit,
    inspector_not_on_leave,
    inspector_weekly_capacity,
    mandatory_coverage,
    rotate_inspectors,
)
from riskplan.check.coverage import match_visits
from riskplan.check.draw import (
    capped_design,
    quotas_by_largest_remainder,
    rerun_draw,
    systematic_pick,
)
from riskplan.check.obligations import derive_obligations
from riskplan.domain.policy import Policy
from riskplan.domain.roster import Obligation
from riskplan.domain.schema import TABLES_BY_NAME
from riskplan.load.district import District, empty_table

Q = "2027Q1"  # 2027-01-01 is a Friday; the quarter runs to 2027-03-31
START = date(2027, 1, 1)


def table(spec: str, rows: list[dict] | None = None, **defaults) -> pd.DataFrame:
    out = empty_table(TABLES_BY_NAME[spec])
    if not rows:
        return out
    df = pd.DataFrame([{**defaults, **r} for r in rows])
    for col in out.columns:
        if col not in df.columns:
            df[col] = 0
    for col in ("date", "start", "end", "earliest", "latest"):
        if col in df.columns:
            df[col] = pd.to_datetime(df[col])
    return df[list(out.columns)]


def district(enterprises: dict[str, str] | None = None, inspections=None, accidents=None, leave=None,
             inspectors=None, policy: dict | None = None) -> tuple[District, pd.Series]:
    """An in-memory district: enterprises id -> tier (all in subdistrict A unless 'id@sub')."""
    enterprises = enterprises or {"R1": "red"}
    ids = [e.split("@")[0] for e in enterprises]
    subs = [(e.split("@") + ["A"])[1] for e in enterprises]
    ent = table("enterprises", [{"enterprise_id": e, "name": e, "subdistrict": s, "hazchem": "none"}
                                for e, s in zip(ids, subs)])
    insp = table("inspectors", inspectors or [{"inspector_id": f"I{i}"} for i in range(1, 5)],
                 certified=1, weekly_capacity=5, qualifications="", home_subdistrict="", name="", squad="S")
    d = District(Path("."), ent, table("accidents", accidents), table("inspections", inspections, inspectors="I9"),
                 insp, table("leave", leave), table("conflicts"), table("pinned"),
                 Policy.model_validate(policy or {}))
    return d, pd.Series(list(enterprises.values()), index=ids)


def visit(vid: str, day: str, team: str = "I1;I2", eid: str = "R1") -> Visit:
    """A visit that claims nothing (basis drawn): coverage counts it by its date alone."""
    d = date.fromisoformat(day)
    return Visit(vid, eid, "red", "drawn", (), d, d, d, tuple(team.split(";")))


def ctx_of(d: District, tiers: pd.Series, visits: list[Visit], obligations=None, unmet=()) -> CheckContext:
    obligations = derive_obligations(d, tiers, Q) if obligations is None else obligations
    plan = {"shortfall": {"unmet_obligations": [{"enterprise_id": e, "obligation": k} for e, k in unmet]}}
    return CheckContext(d, Path("."), plan, Q, 0, tiers, visits, None, obligations, None, None)


def windows(d: District, tiers: pd.Series) -> dict[tuple[str, str], tuple[date, date]]:
    return {(o.enterprise_id, o.kind): (o.window_start, o.window_end) for o in derive_obligations(d, tiers, Q)}


# ---------------------------------------------------------------- capacity in a leave-shortened week

def test_a_leave_shortened_week_scales_the_limit_down():
    # ISO week 2027-W02 is Mon 11 .. Fri 15 January; I1 is away Wed 13 .. Fri 15: 2 days left
    leave = [{"inspector_id": "I1", "start": "2027-01-13", "end": "2027-01-15"}]
    d, tiers = district({"E1": "blue", "E2": "blue", "E3": "blue"}, leave=leave)
    two = [visit("V1", "2027-01-11", eid="E1"), visit("V2", "2027-01-12", eid="E2")]
    assert inspector_weekly_capacity(ctx_of(d, tiers, two, [])) == []  # floor(5 × 2/5) = 2
    three = two + [visit("V3", "2027-01-12", "I1;I3", eid="E3")]
    found = inspector_weekly_capacity(ctx_of(d, tiers, three, []))
    assert [(v.visit_id, "I1" in v.message, "limit 2 (2 available day(s))" in v.message) for v in found] == [
        ("V3", True, True)]
    # with a 20 % reserve: floor(5 × 0.8 × 2/5) = floor(1.6) = 1
    d, tiers = district({"E1": "blue", "E2": "blue"}, leave=leave, policy={"roster": {"capacity_reserve": 0.2}})
    assert inspector_weekly_capacity(ctx_of(d, tiers, two[:1], [])) == []
    found = inspector_weekly_capacity(ctx_of(d, tiers, two, []))
    assert [v.message.split(" has")[0] for v in found] == ["inspector I1"] and "limit 1" in found[0].message


def test_a_reserve_that_leaves_less_than_one_visit_gives_a_zero_limit():
    # I2: floor(3 × 0.3) = floor(0.9) = 0; I1: floor(10 × 0.3) = 3 exactly (3.0000000000000004 in floats)
    d, tiers = district({"E1": "blue"}, policy={"roster": {"capacity_reserve": 0.7}},
                        inspectors=[{"inspector_id": "I1", "weekly_capacity": 10},
                                    {"inspector_id": "I2", "weekly_capacity": 3}])
    found = inspector_weekly_capacity(ctx_of(d, tiers, [visit("V1", "2027-01-11", eid="E1")], []))
    assert [v.message.split(" has")[0] for v in found] == ["inspector I2"]


def test_leave_is_inclusive_at_both_ends():
    leave = [{"inspector_id": "I1", "start": "2027-01-13", "end": "2027-01-15"}]
    d, tiers = district(leave=leave)
    days = ["2027-01-12", "2027-01-13", "2027-01-15", "2027-01-18"]
    found = inspector_not_on_leave(ctx_of(d, tiers, [visit(f"V{i}", day) for i, day in enumerate(days)], []))
    assert sorted(v.visit_id for v in found) == ["V1", "V2"]


# ---------------------------------------------------------------- red months: one visit per monthly obligation

def test_a_red_enterprise_visited_twice_in_one_month_and_not_in_another_is_reported():
    d, tiers = district()
    twice_in_february = [visit("V1", "2027-01-11"), visit("V2", "2027-02-01", "I3;I4"),
                         visit("V3", "2027-02-22")]
    found = mandatory_coverage(ctx_of(d, tiers, twice_in_february))
    assert [(v.enterprise_id, "red_month_3" in v.message) for v in found] == [("R1", True)]
    every_month = twice_in_february[:2] + [visit("V3", "2027-03-01")]
    assert mandatory_coverage(ctx_of(d, tiers, every_month)) == []


def test_two_visits_a_month_need_two_distinct_visits_there():
    d, tiers = district(policy={"tiers": {"red": {"visits_per_month": 2}}})
    base = [visit("V1", "2027-01-04"), visit("V2", "2027-01-25"), visit("V3", "2027-02-01"),
            visit("V4", "2027-02-22"), visit("V5", "2027-03-01")]
    found = mandatory_coverage(ctx_of(d, tiers, base))
    assert len(found) == 1 and "red_month_3" in found[0].message  # one of month 3's two is missing
    assert mandatory_coverage(ctx_of(d, tiers, base + [visit("V6", "2027-03-22")])) == []
    # reported as shortfall: fine
    assert mandatory_coverage(ctx_of(d, tiers, base, unmet=[("R1", "red_month_3_2")])) == []


def test_the_matching_never_counts_one_visit_twice_but_finds_a_perfect_assignment():
    # ob0 fits visits 0 and 1, ob1 fits only visit 0: greedy in order would strand ob1
    obs = [Obligation("E", "pinned_2", "pinned", date(2027, 1, 4), date(2027, 1, 8)),
           Obligation("E", "pinned_3", "pinned", date(2027, 1, 4), date(2027, 1, 4))]
    visits = [visit("V1", "2027-01-04"), visit("V2", "2027-01-07")]
    assert match_visits(obs, visits) == {0: 1, 1: 0}
    assert len(match_visits(obs, visits[:1])) == 1


def test_a_reported_unmet_obligation_the_inputs_do_not_give_is_a_violation():
    d, tiers = district({"B1": "blue"})
    found = mandatory_coverage(ctx_of(d, tiers, [], unmet=[("B1", "red_month_1")]))
    assert len(found) == 1 and "do not give" in found[0].message


# ---------------------------------------------------------------- orange due dates

def test_an_orange_due_date_on_a_saturday_moves_back_to_friday():
    # 2026-08-01 + 182 days = Saturday 2027-01-30 -> Friday 2027-01-29
    d, tiers = district({"O1": "orange"}, inspections=[{"enterprise_id": "O1", "date": "2026-08-01"}])
    assert windows(d, tiers)[("O1", "orange_due")] == (START, date(2027, 1, 29))
    # 2026-08-03 + 182 = Monday 2027-02-01: stays
    d, tiers = district({"O1": "orange"}, inspections=[{"enterprise_id": "O1", "date": "2026-08-03"}])
    assert windows(d, tiers)[("O1", "orange_due")] == (START, date(2027, 2, 1))
    # a holiday on the Friday moves it to Thursday
    d, tiers = district({"O1": "orange"}, inspections=[{"enterprise_id": "O1", "date": "2026-08-01"}],
                        policy={"roster": {"holidays": ["2027-01-29"]}})
    assert windows(d, tiers)[("O1", "orange_due")] == (START, date(2027, 1, 28))


def test_an_orange_visit_on_the_moved_back_day_covers_and_the_next_working_day_does_not():
    d, tiers = district({"O1": "orange"}, inspections=[{"enterprise_id": "O1", "date": "2026-08-01"}])
    on_friday = [Visit("V1", "O1", "orange", "mandatory", ("orange_due",), START, date(2027, 1, 29),
                       date(2027, 1, 29), ("I1", "I2"))]
    assert mandatory_coverage(ctx_of(d, tiers, on_friday)) == []
    on_monday = [Visit("V1", "O1", "orange", "mandatory", ("orange_due",), START, date(2027, 1, 29),
                       date(2027, 2, 1), ("I1", "I2"))]
    assert [v.rule for v in mandatory_coverage(ctx_of(d, tiers, on_monday))] == ["mandatory_coverage"]


def test_orange_due_outside_overdue_and_pushed_out_of_the_quarter():
    d, tiers = district({"O1": "orange"}, inspections=[{"enterprise_id": "O1", "date": "2026-09-30"}])
    assert windows(d, tiers)[("O1", "orange_due")] == (START, date(2027, 3, 31))  # + 182 = Wed 31 March
    d, tiers = district({"O1": "orange"}, inspections=[{"enterprise_id": "O1", "date": "2026-10-01"}],
                        policy={"tiers": {"orange": {"max_days_between_visits": 182, "plan_ahead_days": 0}}})
    assert ("O1", "orange_due") not in windows(d, tiers)  # + 182 = 1 April: next quarter (planning ahead off)
    d, tiers = district({"O1": "orange"}, inspections=[{"enterprise_id": "O1", "date": "2026-10-01"}])
    assert windows(d, tiers)[("O1", "orange_due")] == (date(2027, 3, 4), date(2027, 3, 31))  # ahead, last 28 days
    # overdue (+182 = 2026-12-31) and never visited: by the end of month 1
    d, tiers = district({"O1": "orange", "O2": "orange"}, inspections=[{"enterprise_id": "O1", "date": "2026-07-02"}])
    w = windows(d, tiers)
    assert w[("O1", "orange_due")] == w[("O2", "orange_due")] == (START, date(2027, 1, 31))
    # + 182 = Saturday 2 January, and 1 January is a holiday: no working day on or before it -> overdue
    d, tiers = district({"O1": "orange"}, inspections=[{"enterprise_id": "O1", "date": "2026-07-04"}],
                        policy={"roster": {"holidays": ["2027-01-01"]}})
    assert windows(d, tiers)[("O1", "orange_due")] == (START, date(2027, 1, 31))


# ---------------------------------------------------------------- follow-ups

def test_an_accident_31_days_back_counts_and_32_does_not():
    acc = [{"enterprise_id": "B1", "date": "2026-12-01", "severity": "serious"},  # start − 31
           {"enterprise_id": "B2", "date": "2026-11-30", "severity": "major"},  # start − 32
           {"enterprise_id": "B3", "date": "2026-12-31", "severity": "minor"}]  # minor: never
    d, tiers = district({"B1": "blue", "B2": "blue", "B3": "blue"}, accidents=acc)
    assert {e for e, k in windows(d, tiers) if k == "follow_up_accident"} == {"B1"}
    assert windows(d, tiers)[("B1", "follow_up_accident")] == (START, date(2027, 1, 31))


def test_a_visit_on_the_accident_day_still_needs_a_follow_up_and_the_day_after_does_not():
    acc = [{"enterprise_id": e, "date": "2026-12-10", "severity": "serious"} for e in ("B1", "B2")]
    ins = [{"enterprise_id": "B1", "date": "2026-12-10"}, {"enterprise_id": "B2", "date": "2026-12-11"}]
    d, tiers = district({"B1": "blue", "B2": "blue"}, accidents=acc, inspections=ins,
                        policy={"follow_up": {"after_major_hazard": False}})
    assert {e for e, k in windows(d, tiers) if k == "follow_up_accident"} == {"B1"}


def test_a_major_hazard_follow_up_looks_at_the_whole_latest_date_only():
    ins = [{"enterprise_id": "B1", "date": "2026-11-02", "major_hazards_found": 0},
           {"enterprise_id": "B1", "date": "2026-11-02", "major_hazards_found": 1},  # same latest date
           {"enterprise_id": "B2", "date": "2026-10-01", "major_hazards_found": 3},  # older date found it
           {"enterprise_id": "B2", "date": "2026-11-02", "major_hazards_found": 0},
           {"enterprise_id": "B3", "date": "2027-01-05", "major_hazards_found": 2}]  # in the quarter: not past
    d, tiers = district({"B1": "blue", "B2": "blue", "B3": "blue"}, inspections=ins)
    assert {e for e, k in windows(d, tiers) if k == "follow_up_hazard"} == {"B1"}


# ---------------------------------------------------------------- the draw

def test_avoid_recent_days_boundary():
    ins = [{"enterprise_id": "Y1", "date": str(START - timedelta(days=90))},  # inside the 90 days
           {"enterprise_id": "Y2", "date": str(START - timedelta(days=91))}]  # just outside
    d, tiers = district({"Y1": "yellow", "Y2": "yellow", "Y3": "yellow"}, inspections=ins,
                        policy={"follow_up": {"after_major_hazard": False}})
    rows = rerun_draw(d, tiers, Q, [], 1).rows
    assert {e: r.eligible for e, r in rows.items()} == {"Y1": False, "Y2": True, "Y3": True}


def test_the_remaining_units_go_to_the_largest_fractions_not_the_keys():
    # share 0.1: A 14 -> 1.4, B 17 -> 1.7, C 9 -> 0.9; total round(4.0) = 4, floors 1 + 1 + 0 = 2
    keys = {"A": 0.01, "B": 0.99, "C": 0.5}  # A has the best key, but the smallest fraction
    assert quotas_by_largest_remainder(Fraction("0.1"), {"A": 14, "B": 17, "C": 9}, keys) == {"A": 1, "B": 2, "C": 1}
    # equal fractions: the smaller key wins; half rounds the tier total up (0.5 × 3 = 1.5 -> 2)
    assert quotas_by_largest_remainder(Fraction("0.5"), {"A": 1, "B": 1, "C": 1},
                                       {"A": 0.7, "B": 0.2, "C": 0.4}) == {"A": 0, "B": 1, "C": 1}


def test_the_draw_rerun_gives_each_stratum_its_largest_remainder_quota():
    ents = {f"{s}{i:02d}@{s}": "yellow" for s, n in (("A", 14), ("B", 17), ("C", 9)) for i in range(n)}
    d, tiers = district(ents, policy={"tiers": {"yellow": {"sample_share": 0.1}}})
    draw = rerun_draw(d, tiers, Q, [], 11)
    assert draw.quotas == {("yellow", "A"): 1, ("yellow", "B"): 2, ("yellow", "C"): 1}
    assert sorted(e[0] for e in draw.drawn_ids) == ["A", "B", "B", "C"]


def test_the_design_and_the_systematic_walk_by_hand():
    # weights 1, 1, 2 (sum 4), n = 2: target 0.5, 0.5, 1.0 of D
    assert capped_design([1, 1, 2], 2, 0, 10**9) == [5 * 10**8, 5 * 10**8, 10**9]
    # a cap at 0.8: the heavy one is capped and the rest share 1.2 equally
    assert capped_design([1, 1, 10], 2, 0, 8 * 10**8) == [6 * 10**8, 6 * 10**8, 8 * 10**8]
    # a floor of 0.3 lifts the light ones: 0.3 + 0.3 + 0.4 = 1
    assert capped_design([1, 1, 100], 1, 3 * 10**8, 10**9) == [3 * 10**8, 3 * 10**8, 4 * 10**8]
    # three units left over from 1/3 each: to the earliest positions
    assert capped_design([1, 1, 1], 1, 0, 10**9) == [333333334, 333333333, 333333333]
    # walk in key order (2, 0, 1): cumulated 10^9, 1.5·10^9, 2·10^9; start 0.25 -> U = 2.5·10^8
    assert systematic_pick([5 * 10**8, 5 * 10**8, 10**9], [0.5, 0.9, 0.1], 0.25) == {2, 0}
    assert systematic_pick([5 * 10**8, 5 * 10**8, 10**9], [0.5, 0.9, 0.1], 0.75) == {2, 1}


def test_rotation_bans_the_whole_latest_past_date_and_only_it():
    ins = [{"enterprise_id": "R1", "date": "2026-12-01", "inspectors": "I1;I2"},
           {"enterprise_id": "R1", "date": "2026-12-01", "inspectors": "I3"},
           {"enterprise_id": "R1", "date": "2026-11-01", "inspectors": "I4"}]
    d, tiers = district(inspections=ins)
    assert rotate_inspectors(ctx_of(d, tiers, [visit("V1", "2027-01-11", "I4;I1")], [])) != []
    assert rotate_inspectors(ctx_of(d, tiers, [visit("V1", "2027-01-11", "I3;I4")], [])) != []
    assert rotate_inspectors(ctx_of(d, tiers, [visit("V1", "2027-01-11", "I4;I9")], [])) == []
