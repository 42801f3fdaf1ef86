"""The roster solver: every hard rule on random instances, priorities, determinism, randomness.

Problems are built by hand (`make_problem`) so each test controls the rule it exercises.
Every roster a test produces is checked by `violations` (below): the rule functions of the
independent checker (`riskplan.check`), plus this file's own first-principles
reading of the roster rules (docs/rules.md).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, timedelta

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskplan.domain.calendar import (
    Quarter,
    WorkCalendar,
    iso_week,
    leave_days,
    weekly_limits,
)
from riskplan.domain.policy import Policy
from riskplan.domain.roster import (
    Roster,
    RosterProblem,
    VisitRequest,
    required_qualifications,
)
from riskplan.domain.schema import split_list
from riskplan.solve.solve import solve_roster

Q = Quarter.parse("2027Q1")
QUALS = ("hazchem", "dust", "metallurgy", "general")


def make_policy(**roster) -> Policy:
    base = Policy().model_dump()
    base["roster"].update(roster)
    return Policy.model_validate(base)


def make_problem(
    seed: int = 0,
    *,
    n_ent: int = 200,
    n_insp: int = 16,
    n_sub: int = 4,
    n_red: int = 6,
    n_orange: int = 10,
    n_follow: int = 4,
    n_pinned: int = 3,
    n_drawn: int = 40,
    capacity: tuple[int, int] = (4, 8),
    leave_share: float = 0.25,
    n_conflicts: int = 10,
    hazard_share: float = 0.15,
    policy: Policy | None = None,
    inspectors: pd.DataFrame | None = None,
) -> RosterProblem:
    """A random but well-formed quarter: enterprises, inspectors, leave, conflicts, history, requests."""
    rng = np.random.default_rng(seed)
    policy = policy or Policy()
    subs = [f"S{k}" for k in range(n_sub)]
    ids = [f"E{k:05d}" for k in range(n_ent)]
    tiers = ["red"] * n_red + ["orange"] * n_orange + list(rng.choice(["yellow", "blue"], n_ent - n_red - n_orange))
    ent = pd.DataFrame({
        "enterprise_id": ids, "name": [f"企业{k}" for k in range(n_ent)],
        "subdistrict": rng.choice(subs, n_ent), "lat": 29.0, "lon": 121.0,
        "hazchem": np.where(rng.random(n_ent) < hazard_share, "store", "none"),
        "major_hazard_level": np.where(rng.random(n_ent) < hazard_share / 3, 2, 0).astype("int64"),
        "dust_explosion": (rng.random(n_ent) < hazard_share / 2).astype("int64"),
        "molten_metal": (rng.random(n_ent) < hazard_share / 3).astype("int64"),
        "tier": tiers,
    })
    if inspectors is None:
        quals = []
        for k in range(n_insp):
            qs = [q for q in QUALS if rng.random() < 0.35]
            if k < 3:
                qs = sorted(set(qs) | {("hazchem", "dust", "metallurgy")[k]})
            quals.append(";".join(qs))
        inspectors = pd.DataFrame({
            "inspector_id": [f"I{k:03d}" for k in range(n_insp)], "name": [f"检查员{k}" for k in range(n_insp)],
            "squad": "Q1", "certified": np.where(np.arange(n_insp) == n_insp - 1, 0, 1).astype("int64"),
            "qualifications": quals,
            "home_subdistrict": [subs[k % n_sub] if k % 3 == 0 else "" for k in range(n_insp)],
            "weekly_capacity": rng.integers(capacity[0], capacity[1] + 1, n_insp).astype("int64"),
        })
    insp_ids = list(inspectors["inspector_id"])
    rows = []
    for iid in insp_ids:
        if rng.random() < leave_share:
            s = Q.start + timedelta(days=int(rng.integers(0, 80)))
            rows.append({"inspector_id": iid, "start": pd.Timestamp(s),
                         "end": pd.Timestamp(s + timedelta(days=int(rng.integers(1, 12))))})
    leave = pd.DataFrame(rows, columns=["inspector_id", "start", "end"])
    conflicts = pd.DataFrame({"inspector_id": rng.choice(insp_ids, n_conflicts),
                              "enterprise_id": rng.choice(ids[: max(1, n_red + n_orange + 20)], n_conflicts),
                              "reason": "relative"})
    past = []
    for k, eid in enumerate(ids):
        if rng.random() < 0.6:
            d = Q.start - timedelta(days=int(rng.integers(5, 300)))
            team = rng.choice(insp_ids, 2, replace=False)
            past.append({"enterprise_id": eid, "date": pd.Timestamp(d), "inspectors": ";".join(team),
                         "hazards_found": 0, "major_hazards_found": 0, "penalized": 0})
    past = pd.DataFrame(past, columns=["enterprise_id", "date", "inspectors", "hazards_found",
                                       "major_hazards_found", "penalized"])
    cal = WorkCalendar.for_quarter(Q, policy.roster)
    reqs: list[VisitRequest] = []

    def add(eid, basis, obl, a, b):
        reqs.append(VisitRequest(f"V{len(reqs) + 1:05d}", eid, basis, tuple(obl), a, b))

    for k in range(n_red):
        for m in (1, 2, 3):
            add(ids[k], "mandatory", [f"red_month_{m}"], Q.month_start(m), Q.month_end(m))
    for k in range(n_red, n_red + n_orange):
        due = Q.start + timedelta(days=int(rng.integers(20, 89)))
        add(ids[k], "mandatory", ["orange_due"], Q.start, due)
    others = list(range(n_red + n_orange, n_ent))
    pick = rng.choice(others, n_follow + n_pinned + n_drawn, replace=False)
    for k in pick[:n_follow]:
        add(ids[k], "follow_up", ["follow_up_hazard"], Q.start, Q.month_end(1))
    for j, k in enumerate(pick[n_follow:n_follow + n_pinned]):
        a = Q.start + timedelta(days=int(rng.integers(0, 60)))
        add(ids[k], "pinned", [f"pinned_{j + 2}"], a, a + timedelta(days=int(rng.integers(3, 25))))
    for k in pick[n_follow + n_pinned:]:
        add(ids[k], "drawn", [], Q.start, Q.end)
    return RosterProblem(Q, cal, policy, tuple(reqs), ent, inspectors, leave, conflicts, past)


def own_violations(problem: RosterProblem, roster: Roster) -> list[str]:
    """The roster rules (docs/rules.md) read from first principles (DataFrames, not solver internals)."""
    pol = problem.policy.roster
    cal = problem.calendar
    out = []
    insp = problem.inspectors.set_index("inspector_id")
    ent = problem.enterprises.set_index("enterprise_id")
    away = leave_days(problem.leave, cal)
    limits = weekly_limits(problem.inspectors, problem.leave, cal, pol)
    conflicts = set(zip(problem.conflicts["inspector_id"], problem.conflicts["enterprise_id"]))
    week_count: Counter = Counter()
    day_count: Counter = Counter()
    by_ent: dict[str, list] = defaultdict(list)
    placed_ids = [v.request.visit_id for v in roster.visits]
    unplaced_ids = [u.request.visit_id for u in roster.unplaced]
    if sorted(placed_ids + unplaced_ids) != sorted(r.visit_id for r in problem.requests):
        out.append("requests lost or duplicated")
    for v in roster.visits:
        r, d, team = v.request, v.date, v.inspectors
        vid = r.visit_id
        if not cal.is_working_day(d) or not (r.window_start <= d <= r.window_end):
            out.append(f"{vid}: on_working_day_in_window")
        if len(set(team)) != pol.team_size or len(team) != pol.team_size:
            out.append(f"{vid}: team_of_certified_inspectors (size)")
        for i in team:
            if int(insp.loc[i, "certified"]) != 1:
                out.append(f"{vid}: team_of_certified_inspectors ({i})")
            if d in away.get(i, ()):
                out.append(f"{vid}: inspector_not_on_leave ({i})")
            if (i, r.enterprise_id) in conflicts:
                out.append(f"{vid}: no_conflict_of_interest ({i})")
            home = insp.loc[i, "home_subdistrict"]
            if pol.cross_area and isinstance(home, str) and home and home == ent.loc[r.enterprise_id, "subdistrict"]:
                out.append(f"{vid}: cross_area ({i})")
            week_count[(i, iso_week(d))] += 1
            day_count[(i, d)] += 1
        need = required_qualifications(ent.loc[r.enterprise_id], problem.policy)
        for q in need:
            if not any(q in split_list(insp.loc[i, "qualifications"] or "") for i in team):
                out.append(f"{vid}: required_qualifications_held ({q})")
        by_ent[r.enterprise_id].append((d, set(team)))
    for (i, w), n in week_count.items():
        if n > limits[i][w]:
            out.append(f"{i} {w}: inspector_weekly_capacity {n} > {limits[i][w]}")
    for (i, d), n in day_count.items():
        if n > pol.max_visits_per_inspector_day:
            out.append(f"{i} {d}: inspector_daily_limit")
    past = problem.past_inspections
    for eid, vs in by_ent.items():
        vs.sort(key=lambda x: x[0])
        p = past[past["enterprise_id"] == eid]
        prev_team, last = set(), None
        if len(p):
            last = p["date"].max().date()
            for cell in p[p["date"] == p["date"].max()]["inspectors"]:
                prev_team |= set(split_list(cell))
        if pol.rotate_inspectors:
            teams = [prev_team] + [t for _, t in vs]
            for a, b in zip(teams, teams[1:]):
                if a & b:
                    out.append(f"{eid}: rotate_inspectors")
        dates = ([last] if last else []) + [d for d, _ in vs]
        for a, b in zip(dates, dates[1:]):
            if (b - a).days < pol.min_days_between_visits:
                out.append(f"{eid}: visit_spacing")
        tier = ent.loc[eid, "tier"]
        if len(vs) > problem.policy.tier(tier).max_visits_per_quarter:
            out.append(f"{eid}: tier_visit_maximum")
    return out


#: The checker's rule functions that judge a roster on its own (the rest re-derive obligations
#: and the draw from a district folder, which hand-built problems do not have).
CHECKER_RULES = ("on_working_day_in_window", "team_of_certified_inspectors", "inspector_not_on_leave",
                 "inspector_weekly_capacity", "inspector_daily_limit", "no_conflict_of_interest",
                 "required_qualifications_held", "rotate_inspectors", "cross_area", "visit_spacing",
                 "tier_visit_maximum")


def checker_violations(problem: RosterProblem, roster: Roster) -> list[str]:
    """The independent checker's rule functions run on a roster of a hand-built problem."""
    from pathlib import Path

    from riskplan.check import checker
    from riskplan.load.district import District

    empty = pd.DataFrame()
    district = District(Path("."), problem.enterprises.drop(columns=["tier"]), empty, problem.past_inspections,
                        problem.inspectors, problem.leave, problem.conflicts, empty, problem.policy)
    tiers = problem.enterprises.set_index("enterprise_id")["tier"]
    visits = [checker.Visit(v.request.visit_id, v.request.enterprise_id, tiers[v.request.enterprise_id],
                            v.request.basis, v.request.obligations, v.request.window_start, v.request.window_end,
                            v.date, v.inspectors) for v in roster.visits]
    ctx = checker.CheckContext(district, Path("."), {"shortfall": {}}, problem.quarter, 0, tiers, visits,
                               pd.DataFrame(), [], None, None)
    return [str(v) for name in CHECKER_RULES for v in getattr(checker, name)(ctx)]


def violations(problem: RosterProblem, roster: Roster) -> list[str]:
    """The independent checker's verdict plus this file's own reading of the rules."""
    return checker_violations(problem, roster) + own_violations(problem, roster)


def entropy_over_seeds(problem: RosterProblem, seeds, solve) -> float:
    """Mean normalised entropy of the inspector distribution per enterprise over seeds."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for s in seeds:
        roster = solve(problem, s)
        assert violations(problem, roster) == []
        for v in roster.visits:
            if v.request.basis == "drawn":
                counts[v.request.enterprise_id].update(v.inspectors)
    certified = int(problem.inspectors["certified"].sum())
    vals = []
    for c in counts.values():
        n = sum(c.values())
        p = np.array(list(c.values())) / n
        h = -(p * np.log(p)).sum()
        vals.append(h / math.log(min(certified, n)))
    return float(np.mean(vals))


# ----------------------------------------------------------------------------------------


def test_solves_a_small_quarter_validly_with_full_mandatory_coverage():
    p = make_problem(1)
    res = solve_roster(p, seed=1, time_limit=30)
    assert violations(p, res.roster) == []
    assert [u for u in res.roster.unplaced if u.request.mandatory] == []
    assert len(res.roster.visits) == len(p.requests)
    assert res.status in ("OPTIMAL", "FEASIBLE")
    assert res.bound is not None and res.objective["total"] >= res.bound - 1e-6
    assert res.shortfall.empty


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), team=st.integers(1, 3), day_limit=st.integers(1, 3),
       gap=st.sampled_from([0, 7, 14, 30]), rotate=st.booleans(), cross=st.booleans(),
       reserve=st.sampled_from([0.0, 0.2]))
def test_every_hard_rule_holds_on_random_instances(seed, team, day_limit, gap, rotate, cross, reserve):
    pol = make_policy(team_size=team, max_visits_per_inspector_day=day_limit, min_days_between_visits=gap,
                      rotate_inspectors=rotate, cross_area=cross, capacity_reserve=reserve,
                      holidays=[date(2027, 2, 8), date(2027, 2, 9)])
    p = make_problem(seed, policy=pol, n_ent=120, n_insp=12, n_drawn=30)
    res = solve_roster(p, seed=seed, time_limit=20)
    assert violations(p, res.roster) == []
    for v in res.roster.visits:
        assert v.date not in (date(2027, 2, 8), date(2027, 2, 9))
    for u in res.roster.unplaced:
        assert u.reason


def test_mandatory_visits_come_before_drawn_ones_when_capacity_is_short():
    p = make_problem(3, n_insp=12, capacity=(1, 2), n_drawn=60, n_red=4, n_orange=6, leave_share=0.0)
    res = solve_roster(p, seed=3, time_limit=30)
    assert violations(p, res.roster) == []
    unplaced_mandatory = [u for u in res.roster.unplaced if u.request.mandatory]
    unplaced_drawn = [u for u in res.roster.unplaced if not u.request.mandatory]
    assert unplaced_drawn, "the instance is meant to be short of capacity"
    assert unplaced_mandatory == []


def test_leave_conflicts_holidays_and_qualifications_are_honoured():
    pol = make_policy(holidays=[date(2027, 1, d) for d in range(4, 9)])
    p = make_problem(5, policy=pol, n_conflicts=40, leave_share=0.6, hazard_share=0.5)
    res = solve_roster(p, seed=5, time_limit=30)
    assert violations(p, res.roster) == []
    assert all(not (date(2027, 1, 4) <= v.date <= date(2027, 1, 8)) for v in res.roster.visits)
    assert [u for u in res.roster.unplaced if u.request.mandatory] == []


def test_missing_qualification_is_reported_not_violated():
    p = make_problem(6, hazard_share=0.0)
    insp = p.inspectors.copy()
    insp["qualifications"] = insp["qualifications"].str.replace("dust", "")
    ent = p.enterprises.copy()
    red0 = p.requests[0].enterprise_id
    ent.loc[ent["enterprise_id"] == red0, "dust_explosion"] = 1
    p = RosterProblem(p.quarter, p.calendar, p.policy, p.requests, ent, insp, p.leave, p.conflicts,
                      p.past_inspections)
    res = solve_roster(p, seed=6, time_limit=30)
    assert violations(p, res.roster) == []
    missing = [u for u in res.roster.unplaced if u.request.enterprise_id == red0]
    assert len(missing) == 3
    row = res.shortfall[res.shortfall["rule"] == "red_monthly"]
    assert set(row["reason"]) == {"qualification"} and row["missing"].sum() == 3
    assert all("dust" in s for s in row["suggestion"])


def test_same_seed_same_roster_and_different_seed_different_teams():
    p = make_problem(7)
    a = solve_roster(p, seed=11, time_limit=30).roster
    b = solve_roster(p, seed=11, time_limit=30).roster
    c = solve_roster(p, seed=12, time_limit=30).roster
    key = lambda r: [(v.request.visit_id, v.date, v.inspectors) for v in r.visits]  # noqa: E731
    assert key(a) == key(b)
    assert [(u.request.visit_id, u.reason) for u in a.unplaced] == [(u.request.visit_id, u.reason) for u in b.unplaced]
    assert key(a) != key(c)


def test_inspector_choice_is_random_over_seeds():
    p = make_problem(8, n_ent=80, n_insp=12, n_red=0, n_orange=0, n_follow=0, n_pinned=0, n_drawn=20,
                     n_conflicts=0, hazard_share=0.0, leave_share=0.0)
    h = entropy_over_seeds(p, range(20), lambda prob, s: solve_roster(prob, seed=s, time_limit=20).roster)
    # a uniform sampler reaches about 0.92 with 40 draws over 11 inspectors
    assert h > 0.85


def test_progress_reports_phases():
    lines = []
    p = make_problem(9, n_ent=80)
    solve_roster(p, seed=1, time_limit=20, progress=lines.append)
    text = "\n".join(lines)
    assert "phase 1" in text and "phase 2" in text and "phase 3" in text


def test_rotation_chain_with_two_qualified_inspectors_places_every_red_month():
    """Two hazchem holders, one in the previous team: the red months must alternate them."""
    pol = Policy()
    p = make_problem(40, n_ent=30, n_insp=6, n_red=1, n_orange=0, n_follow=0, n_pinned=0, n_drawn=6,
                     n_conflicts=0, leave_share=0.0, hazard_share=0.0, capacity=(5, 5), policy=pol)
    insp = p.inspectors.copy()
    insp["qualifications"] = ["hazchem", "hazchem", "", "", "", ""]
    insp["certified"] = 1
    insp["home_subdistrict"] = ""
    ent = p.enterprises.copy()
    red = p.requests[0].enterprise_id
    ent.loc[ent["enterprise_id"] == red, "hazchem"] = "produce"
    past = p.past_inspections[p.past_inspections["enterprise_id"] != red]
    past = pd.concat([past, pd.DataFrame([{"enterprise_id": red, "date": pd.Timestamp("2026-12-10"),
                                           "inspectors": "I000;I002", "hazards_found": 0,
                                           "major_hazards_found": 0, "penalized": 0}])], ignore_index=True)
    p = RosterProblem(p.quarter, p.calendar, pol, p.requests, ent, insp, p.leave, p.conflicts, past)
    for seed in range(3):
        res = solve_roster(p, seed=seed, time_limit=30)
        assert violations(p, res.roster) == []
        reds = sorted((v.date, v.inspectors) for v in res.roster.visits if v.request.enterprise_id == red)
        assert len(reds) == 3, [u.reason for u in res.roster.unplaced]
        assert [("I000" in team, "I001" in team) for _, team in reds] == [(False, True), (True, False), (False, True)]


def test_pairing_single_stops_cuts_travel_and_keeps_rules_and_weekly_loads():
    """pair_singles_pass on a greedy roster (many one-visit trips): fewer stops, same loads, valid."""
    from riskplan.solve.compile import compile_problem
    from riskplan.solve.greedy import greedy_roster
    from riskplan.solve.objective import soft_objective
    from riskplan.solve.polish import pair_singles_pass
    from riskplan.solve.result import state_from_roster

    p = make_problem(7, n_insp=10, n_drawn=60, leave_share=0.1)
    greedy = greedy_roster(p, 7)
    inst = compile_problem(p)
    state = state_from_roster(inst, greedy)
    before = soft_objective(inst, state.placed)["travel"]
    week_load = state.week_load.copy()
    moves = pair_singles_pass(inst, state, deadline=float("inf"))
    after = soft_objective(inst, state.placed)["travel"]
    assert moves > 0
    assert after <= before - moves  # every move removes at least one stop
    assert (state.week_load == week_load).all()  # i and j trade visits: loads and balance unchanged
    by_id = {v.request.visit_id: v for v in greedy.visits}
    visits = [type(by_id[inst.requests[r].visit_id])(inst.requests[r], inst.days[d],
                                                      tuple(sorted(inst.insp_ids[i] for i in team)))
              for r, (d, team) in sorted(state.placed.items())]
    assert len(visits) == len(greedy.visits)
    assert violations(p, Roster(greedy.quarter, visits, greedy.unplaced)) == []
