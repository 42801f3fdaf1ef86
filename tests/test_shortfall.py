"""Shortfall: a capacity-starved quarter names the rule, tier, month and the capacity to add."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd
from test_solver import Q, make_policy, make_problem, violations

from riskplan.domain.roster import RosterProblem, VisitRequest
from riskplan.solve.shortfall import COLUMNS, explain_shortfall
from riskplan.solve.solve import solve_roster


def starved_in_february() -> RosterProblem:
    """Enough inspectors in January and March, most of them on leave in February."""
    p = make_problem(31, n_insp=10, capacity=(5, 5), n_red=30, n_orange=0, n_follow=0, n_pinned=0, n_drawn=10,
                     leave_share=0.0, n_conflicts=0, hazard_share=0.0, policy=make_policy(rotate_inspectors=False))
    ids = list(p.inspectors["inspector_id"])[:7]
    leave = pd.DataFrame({"inspector_id": ids, "start": pd.Timestamp("2027-02-01"), "end": pd.Timestamp("2027-02-28")})
    return RosterProblem(p.quarter, p.calendar, p.policy, p.requests, p.enterprises, p.inspectors, leave,
                         p.conflicts, p.past_inspections)


def test_capacity_starved_month_is_named_with_tier_and_added_capacity():
    p = starved_in_february()
    res = solve_roster(p, seed=1, time_limit=30)
    assert violations(p, res.roster) == []
    sf = res.shortfall
    assert list(sf.columns) == list(COLUMNS)
    unplaced_mandatory = [u for u in res.roster.unplaced if u.request.mandatory]
    assert unplaced_mandatory and all(u.request.window_start.month == 2 for u in unplaced_mandatory)
    red = sf[sf["rule"] == "red_monthly"]
    assert set(red["tier"]) == {"red"} and set(red["month"]) == {"2027-02"}
    assert set(red["reason"]) == {"capacity"}
    assert red["missing"].sum() == len(unplaced_mandatory)
    cap = red[red["reason"] == "capacity"]
    m = re.search(r"\+(\d+) inspector-weeks in 2027-02", cap["suggestion"].iloc[0])
    assert m, cap["suggestion"].iloc[0]
    # the suggested inspector-weeks close the capacity gap: 2 inspector-visit slots per missing visit
    # at 5 visits an inspector-week, not more than one week of slack
    weeks = int(m.group(1))
    assert 2 * cap["missing"].sum() - 5 <= weeks * 5 <= 2 * cap["missing"].sum() + 5


def test_window_without_working_day_is_reported():
    p = make_problem(32, n_red=0, n_orange=0, n_follow=0, n_pinned=0, n_drawn=5)
    sat = date(2027, 1, 2)
    extra = VisitRequest("V99999", p.enterprises["enterprise_id"].iloc[-1], "pinned", ("pinned_9",), sat,
                         sat + timedelta(days=1))
    p = RosterProblem(p.quarter, p.calendar, p.policy, p.requests + (extra,), p.enterprises, p.inspectors,
                      p.leave, p.conflicts, p.past_inspections)
    res = solve_roster(p, seed=2, time_limit=30)
    assert violations(p, res.roster) == []
    row = res.shortfall[res.shortfall["rule"] == "pinned"]
    assert list(row["reason"]) == ["no working day"] and list(row["missing"]) == [1]
    assert list(row["month"]) == ["2027-01"]


def test_explain_shortfall_is_empty_when_all_placed_and_works_on_any_roster():
    from riskplan.solve.greedy import greedy_roster

    p = make_problem(33)
    res = solve_roster(p, seed=3, time_limit=30)
    assert res.roster.unplaced == [] and res.shortfall.empty
    starved = starved_in_february()
    g = greedy_roster(starved, 1)
    sf = explain_shortfall(starved, g)
    assert sf["missing"].sum() == len(g.unplaced)
    assert (sf.loc[sf["rule"] == "red_monthly", "month"] == "2027-02").all()
    assert Q.start.year == 2027
