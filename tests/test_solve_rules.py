"""Each roster rule of the solver alone (`riskplan.solve.rules`), on a tiny hand-built quarter,
allows and refuses exactly what docs/rules.md says, boundaries included; and no solver module
outside `rules` reads the arrays a rule decides on (each rule is written once).

The tiny quarter (2027Q1, policy: team_size 2, daily limit 2, min_days_between_visits 14,
capacity_reserve 0.2, rotation on; `cross` switches cross_area):

- inspectors I0 (hazchem, home S0), I1 (dust), I2 (no home: district brigade), I3 (not
  certified), I4 (hazchem, home S1), I5 (on leave Mon 11 and Tue 12 Jan: a 3-day week);
  weekly capacity 5 each;
- enterprises E0 (S0, blue, hazchem store + explosive dust: needs hazchem and dust), E1 (S1,
  blue, no hazard; I2 has a conflict with it), E2 (S0, red);
- past visits of E0: 2026-11-02 by I5, and two on the latest date 2026-12-25, by I0;I1 and
  by I2 (the previous team is their union);
- requests: E0 x3, E1 x2, E2 x1, all windows the whole quarter except V6 (4-15 Jan).
"""

from __future__ import annotations

import ast
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_solver import Q, make_policy

from riskplan.domain.calendar import WorkCalendar
from riskplan.domain.roster import RosterProblem, VisitRequest
from riskplan.solve import rules
from riskplan.solve.compile import compile_problem
from riskplan.solve.state import State

SOLVE = Path(__file__).resolve().parents[1] / "src" / "riskplan" / "solve"
I0, I1, I2, I3, I4, I5 = range(6)


def tiny(cross: bool = False):
    policy = make_policy(team_size=2, max_visits_per_inspector_day=2, min_days_between_visits=14,
                         capacity_reserve=0.2, rotate_inspectors=True, cross_area=cross)
    insp = pd.DataFrame({
        "inspector_id": [f"I{k}" for k in range(6)], "name": "x", "squad": "Q1",
        "certified": [1, 1, 1, 0, 1, 1],
        "qualifications": ["hazchem", "dust", "", "hazchem;dust", "hazchem", ""],
        "home_subdistrict": ["S0", "", "", "", "S1", ""],
        "weekly_capacity": [5] * 6,
    })
    ent = pd.DataFrame({
        "enterprise_id": ["E0", "E1", "E2"], "name": "x", "subdistrict": ["S0", "S1", "S0"],
        "lat": 29.0, "lon": 121.0, "hazchem": ["store", "none", "none"], "major_hazard_level": 0,
        "dust_explosion": [1, 0, 0], "molten_metal": 0, "tier": ["blue", "blue", "red"],
    })
    leave = pd.DataFrame({"inspector_id": ["I5"], "start": [pd.Timestamp("2027-01-11")],
                          "end": [pd.Timestamp("2027-01-12")]})
    conflicts = pd.DataFrame({"inspector_id": ["I2"], "enterprise_id": ["E1"], "reason": ["relative"]})
    past = pd.DataFrame({
        "enterprise_id": ["E0", "E0", "E0"],
        "date": pd.to_datetime(["2026-11-02", "2026-12-25", "2026-12-25"]),
        "inspectors": ["I5", "I0;I1", "I2"], "hazards_found": 0, "major_hazards_found": 0, "penalized": 0,
    })
    reqs = tuple(VisitRequest(f"V{k}", e, "drawn", (), Q.start, Q.end)
                 for k, e in enumerate(["E0", "E0", "E0", "E1", "E1", "E2"]))
    reqs += (VisitRequest("V6", "E2", "pinned", ("pinned_1",), date(2027, 1, 4), date(2027, 1, 15)),)
    cal = WorkCalendar.for_quarter(Q, policy.roster)
    problem = RosterProblem(Q, cal, policy, reqs, ent, insp, leave, conflicts, past)
    inst = compile_problem(problem)
    return inst, State(inst)


def day(inst, iso: str) -> int:
    return inst.problem.calendar.index[date.fromisoformat(iso)]


def ids(mask) -> set[int]:
    return {int(i) for i in np.flatnonzero(mask)}


ALL = {I0, I1, I2, I3, I4, I5}


# --------------------------------------------------------------------------------------
# One rule at a time.
# --------------------------------------------------------------------------------------


def test_on_working_day_in_window():
    inst, _ = tiny()
    window = rules.on_working_day_in_window(inst, 6)
    assert [inst.days[d].isoformat() for d in window] == [
        "2027-01-04", "2027-01-05", "2027-01-06", "2027-01-07", "2027-01-08",
        "2027-01-11", "2027-01-12", "2027-01-13", "2027-01-14", "2027-01-15"]
    assert len(rules.on_working_day_in_window(inst, 0)) == inst.D
    st = State(inst)
    assert rules.eligible_inspectors(inst, st, 6, day(inst, "2027-01-18")) is None  # outside the window


def test_team_of_certified_inspectors_refuses_the_uncertified():
    inst, st = tiny()
    assert ids(rules.team_of_certified_inspectors(inst)) == ALL - {I3}
    mask = rules.eligible_inspectors(inst, st, 5, day(inst, "2027-01-05"))
    assert not mask[I3]


def test_inspector_not_on_leave_one_day_and_many():
    inst, _ = tiny()
    mon, wed = day(inst, "2027-01-11"), day(inst, "2027-01-13")
    assert ids(rules.inspector_not_on_leave(inst, mon)) == ALL - {I5}
    assert ids(rules.inspector_not_on_leave(inst, wed)) == ALL
    m = rules.inspector_not_on_leave(inst, np.array([mon, wed]))
    assert m.shape == (6, 2) and not m[I5, 0] and m[I5, 1]


def test_weekly_capacity_on_a_leave_shortened_week():
    """floor(capacity x (1 - reserve) x available days / 5): I5 has 3 days in the week of 11 Jan."""
    inst, st = tiny()
    wed, thu = day(inst, "2027-01-13"), day(inst, "2027-01-14")
    w = int(inst.week_of_day[wed])
    assert inst.wlim[I5, w] == math.floor(5 * (1 - 0.2) * 3 / 5) == 2
    assert inst.wlim[I4, w] == math.floor(5 * (1 - 0.2) * 5 / 5) == 4
    st.place(5, wed, (I4, I5))  # E2
    assert rules.inspector_weekly_capacity(inst, st, thu)[I5]
    assert not rules.inspector_weekly_capacity(inst, st, thu, n=2)[I5]
    st.place(3, thu, (I4, I5))  # E1: I5 reaches 2 of 2
    assert not rules.inspector_weekly_capacity(inst, st, thu)[I5]
    assert rules.inspector_weekly_capacity(inst, st, thu)[I4]  # 2 of 4
    assert not rules.inspector_has_room(inst, st, day(inst, "2027-01-15"))[I5]  # every day of that week
    assert rules.inspector_has_room(inst, st, day(inst, "2027-01-18"))[I5]  # next week
    both = rules.inspector_weekly_capacity(inst, st, np.array([thu, day(inst, "2027-01-18")]))
    assert both.shape == (6, 2) and not both[I5, 0] and both[I5, 1]


def test_daily_limit_at_the_limit():
    inst, st = tiny()
    d = day(inst, "2027-01-20")
    assert rules.inspector_daily_limit(inst, st, d, n=2)[I4]
    st.place(5, d, (I2, I4))
    assert rules.inspector_daily_limit(inst, st, d)[I4]  # 1 of 2
    assert not rules.inspector_daily_limit(inst, st, d, n=2)[I4]
    st.place(3, d, (I0, I4))
    assert not rules.inspector_daily_limit(inst, st, d)[I4]  # 2 of 2: at the limit
    assert not rules.inspector_has_room(inst, st, d)[I4]
    assert rules.inspector_daily_limit(inst, st, d + 1)[I4]
    assert rules.visits_left(inst, st, d)[I4] == 0 and rules.visits_left(inst, st, d)[I1] == 2


def test_no_conflict_of_interest():
    inst, st = tiny()
    assert ids(rules.no_conflict_of_interest(inst, 1)) == ALL - {I2}
    assert ids(rules.no_conflict_of_interest(inst, 0)) == ALL
    assert not rules.eligible_inspectors(inst, st, 3, day(inst, "2027-01-05"))[I2]


def test_required_qualifications_held():
    inst, _ = tiny()
    assert inst.ent_need[0] == ("dust", "hazchem")
    assert rules.required_qualifications_held(inst, 0, (I0, I1))
    assert not rules.required_qualifications_held(inst, 0, (I0, I2))  # no dust
    assert not rules.required_qualifications_held(inst, 0, (I1, I2))  # no hazchem
    assert rules.required_qualifications_held(inst, 1, (I2, I5))  # E1 needs nothing
    # one seat left: who completes the team
    allm = np.ones(6, bool)
    assert ids(rules.required_qualifications_held(inst, 0, (I0,), allm)) == {I1, I3}
    assert ids(rules.required_qualifications_held(inst, 0, (I2,), allm)) == {I3}
    assert ids(rules.required_qualifications_held(inst, 0, (I1,), allm & ~np.eye(6, dtype=bool)[I3])) == {I0, I4}


def test_rotation_previous_team_is_the_union_on_the_latest_past_date():
    inst, st = tiny()
    assert inst.ent_prev_team[0] == (I0, I1, I2)  # I5 visited earlier: not the previous team
    first = rules.rotate_inspectors(inst, st, 0, day(inst, "2027-01-20"))
    assert ids(first) == {I3, I4, I5}
    assert ids(rules.rotate_inspectors(inst, st, 1, day(inst, "2027-01-20"))) == ALL  # no history


def test_rotation_excludes_the_neighbours_teams():
    inst, st = tiny()
    feb = day(inst, "2027-02-10")
    st.place(0, feb, (I3, I4))
    # after the placed visit: its team only (the previous past team is not a neighbour)
    assert ids(rules.rotate_inspectors(inst, st, 0, day(inst, "2027-03-10"))) == ALL - {I3, I4}
    # before it: the previous past team and the placed visit's team
    assert ids(rules.rotate_inspectors(inst, st, 0, day(inst, "2027-01-20"))) == {I5}
    # between two placed visits: both neighbours
    st.place(1, day(inst, "2027-03-15"), (I0, I5))
    assert ids(rules.rotate_inspectors(inst, st, 0, day(inst, "2027-03-01"))) == {I1, I2}
    # several days at once, grouped by neighbours
    m = rules.rotate_inspectors(inst, st, 0, np.array([day(inst, "2027-01-20"), day(inst, "2027-03-01"),
                                                       day(inst, "2027-03-25")]))
    assert [ids(m[:, k]) for k in range(3)] == [{I5}, {I1, I2}, ALL - {I0, I5}]
    # strict: every team of the enterprise and the previous past team, whatever the day
    strict = rules.rotate_inspectors(inst, st, 0, day(inst, "2027-03-25"), strict=True)
    assert ids(strict) == set()


def test_rotation_of_a_team_change_lifts_the_visit_itself():
    inst, st = tiny()
    st.place(0, day(inst, "2027-02-10"), (I3, I4))
    st.place(1, day(inst, "2027-03-15"), (I0, I5))
    # changing visit 0's team (the quarter's first): previous past team and visit 1's team
    # are excluded, its own members are not
    lifted = rules.rotate_inspectors(inst, st, 0, day(inst, "2027-02-10"), visit=0)
    assert ids(lifted) == {I3, I4}
    # changing visit 1's team: only visit 0's team is its neighbour
    assert ids(rules.rotate_inspectors(inst, st, 0, day(inst, "2027-03-15"), visit=1)) == ALL - {I3, I4}
    mask = rules.eligible_inspectors(inst, st, 1, day(inst, "2027-03-15"), visit=1)
    assert mask is not None and ids(mask) == {I0, I1, I2, I5}  # I3 uncertified, I4 a neighbour


def test_rotation_off_allows_everyone():
    inst, st = tiny()
    inst.rotate = False
    assert ids(rules.rotate_inspectors(inst, st, 0, day(inst, "2027-01-20"))) == ALL


@pytest.mark.parametrize("cross", [False, True])
def test_cross_area(cross):
    inst, st = tiny(cross)
    s0, s1 = inst.subs.index("S0"), inst.subs.index("S1")
    if not cross:
        assert ids(rules.cross_area(inst, s0)) == ALL
        return
    assert ids(rules.cross_area(inst, s0)) == ALL - {I0}  # I2 (no home) goes anywhere
    assert ids(rules.cross_area(inst, s1)) == ALL - {I4}
    mask = rules.eligible_inspectors(inst, st, 5, day(inst, "2027-01-20"))  # E2 in S0
    assert not mask[I0] and mask[I2] and mask[I4]


def test_visit_spacing_boundaries_against_past_and_placed_visits():
    inst, st = tiny()
    assert inst.min_gap == 14
    # the last past visit is Fri 2026-12-25: 14 days later is allowed, 13 refused
    assert rules.visit_spacing(inst, st, 0, day(inst, "2027-01-08")) is True
    assert rules.visit_spacing(inst, st, 0, day(inst, "2027-01-07")) is False
    st.place(0, day(inst, "2027-02-02"), (I3, I4))  # Tue
    assert rules.visit_spacing(inst, st, 0, day(inst, "2027-02-16")) is True  # 14 days after
    assert rules.visit_spacing(inst, st, 0, day(inst, "2027-02-15")) is False  # 13
    assert rules.visit_spacing(inst, st, 0, day(inst, "2027-01-19")) is True  # 14 before
    assert rules.visit_spacing(inst, st, 0, day(inst, "2027-01-20")) is False  # 13 before
    # the visit itself lifted (its team is being changed): it does not space against itself
    assert rules.visit_spacing(inst, st, 0, day(inst, "2027-02-02"), visit=0) is True
    assert rules.visit_spacing(inst, st, 0, day(inst, "2027-02-02")) is False
    days = np.array([day(inst, x) for x in ("2027-01-07", "2027-01-08", "2027-02-15", "2027-02-16")])
    assert list(rules.visit_spacing(inst, st, 0, days)) == [False, True, False, True]
    assert rules.eligible_inspectors(inst, st, 1, day(inst, "2027-02-15")) is None
    assert day(inst, "2027-02-15") not in set(rules.feasible_days(inst, st, 1).tolist())


def test_tier_visit_maximum_at_the_maximum():
    inst, st = tiny()
    assert int(inst.ent_max[0]) == 2  # blue
    st.place(0, day(inst, "2027-01-20"), (I3, I4))
    assert rules.tier_visit_maximum(inst, st, 0)
    st.place(1, day(inst, "2027-03-01"), (I0, I5))
    assert not rules.tier_visit_maximum(inst, st, 0)  # two of two: the third is refused
    assert rules.tier_visit_maximum(inst, st, 0, visit=1)  # changing a placed one is fine
    assert rules.eligible_inspectors(inst, st, 2, day(inst, "2027-02-10")) is None
    assert len(rules.feasible_days(inst, st, 2)) == 0


def test_mandatory_coverage_orders_mandatory_first():
    inst, _ = tiny()
    assert list(rules.mandatory_coverage(inst)) == [6, 0, 1, 2, 3, 4, 5]
    order = rules.mandatory_coverage(inst, np.random.default_rng(1))
    assert order[0] == 6 and sorted(order[1:]) == [0, 1, 2, 3, 4, 5]


def test_eligible_inspectors_is_the_conjunction_of_the_rules():
    """Every inspector and day of a window: the composed mask is exactly the rules' AND, and
    feasible_days keeps the days where a qualified team of two is left."""
    inst, st = tiny(cross=True)
    st.place(0, day(inst, "2027-02-02"), (I3, I4))
    st.place(3, day(inst, "2027-01-13"), (I4, I5))
    for r in (1, 4, 5, 6):
        e = int(inst.req_ent[r])
        feasible = set(rules.feasible_days(inst, st, r).tolist())
        for d in rules.on_working_day_in_window(inst, r):
            mask = rules.eligible_inspectors(inst, st, r, d)
            if not (rules.visit_spacing(inst, st, e, d) and rules.tier_visit_maximum(inst, st, e)):
                assert mask is None and d not in feasible
                continue
            want = (rules.team_of_certified_inspectors(inst) & rules.inspector_not_on_leave(inst, d)
                    & rules.inspector_daily_limit(inst, st, d) & rules.inspector_weekly_capacity(inst, st, d)
                    & rules.no_conflict_of_interest(inst, e) & rules.rotate_inspectors(inst, st, e, d)
                    & rules.cross_area(inst, int(inst.ent_sub[e])))
            assert (mask == want).all()
            cand = np.flatnonzero(mask)
            team_ok = any(rules.required_qualifications_held(inst, e, (a, b))
                          for a in cand for b in cand if a < b)
            assert (d in feasible) == team_ok


# --------------------------------------------------------------------------------------
# Each rule once: no solver module outside rules.py reads what a rule decides on.
# --------------------------------------------------------------------------------------

#: Attributes of Instance / State a rule decides on.
RULE_ATTRIBUTES = frozenset({
    "on_leave", "ent_conflict", "sub_mask", "home", "certified", "qual", "min_gap", "ent_last_past",
    "ent_prev_team", "free", "wcap", "wlim", "day_load", "week_load",
})
#: Modules that build those arrays or are the rules.
BUILDERS = frozenset({"rules", "instance", "compile", "state"})
#: (module, function, attribute): reads outside the rules that decide nothing, with the reason.
ALLOWED = {
    ("weekplan", "slot_capacity", "wlim"): "aggregate slot count of the week model",
    ("weekplan", "assign_weeks", "min_gap"): "spreads an enterprise's visits over weeks; visit_spacing decides",
    ("weekplan", "assign_weeks", "ent_last_past"): "the same spreading, from the last past visit",
    ("shortfall", "capacity_suggestions", "wlim"): "free capacity counted for the elastic model",
    ("shortfall", "explain_shortfall", "wlim"): "a typical inspector-week for the suggestion text",
    ("shortfall", "diagnose", "min_gap"): "the diagnosis sentence names the gap",
}


def rule_attribute_reads() -> list[tuple[str, str, str, int]]:
    """(module, top-level function, attribute, line) of every read of a rule attribute."""
    out = []
    for path in sorted(SOLVE.glob("*.py")):
        if path.stem in BUILDERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for top in tree.body:
            name = getattr(top, "name", "<module>")
            for node in ast.walk(top):
                if isinstance(node, ast.Attribute) and node.attr in RULE_ATTRIBUTES:
                    out.append((path.stem, name, node.attr, node.lineno))
    return out


def test_no_module_outside_rules_reads_what_a_rule_decides_on():
    reads = rule_attribute_reads()
    bad = [f"solve/{m}.py:{line} {f}() reads .{a}" for m, f, a, line in reads if (m, f, a) not in ALLOWED]
    assert bad == [], "use the rule functions of riskplan.solve.rules:\n" + "\n".join(bad)
    assert {(m, f, a) for m, f, a, _ in reads} == set(ALLOWED), "stale allow-list entries"


def test_the_guard_sees_a_planted_rule_copy(tmp_path, monkeypatch):
    """The guard itself: a pass that tests leave inline is reported."""
    planted = tmp_path / "planted.py"
    planted.write_text("def balance_pass(inst, state, d):\n    return ~inst.on_leave[:, d]\n", encoding="utf-8")
    monkeypatch.setattr(__import__(__name__), "SOLVE", tmp_path)
    assert rule_attribute_reads() == [("planted", "balance_pass", "on_leave", 2)]
