"""Each solver pass ALONE on hard instances: start from a valid roster, run only that pass, and
check the result with `test_solver.violations` (the independent checker's rule functions plus
that file's own first-principles reading of the rules).

A pass that copied a rule instead of asking `riskplan.solve.rules` could break it without
any end-to-end test noticing (the other passes mask it); here nothing else runs after the
pass. The instances (`hard_problem(seed)`, seeds 1-3; seed 4 for the whole-week phase):
`test_solver.make_problem` with 12 red (3 monthly visits each), 10 orange, 80 drawn
enterprises over 4 subdistricts and 16 inspectors (capacity 4-8), then
- leave: 60 % of the inspectors with two multi-week leaves (8-20 days each);
- conflicts: 80 random (inspector, requested enterprise) pairs;
- rotation: every requested enterprise has a previous team (two past visits on its latest
  date, 15-40 days before the quarter: the previous team is their union), and
  min_days_between_visits = 21, so red months chain by rotation and spacing;
- cross_area on, capacity_reserve 0.1.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import numpy as np
import pandas as pd
import pytest
from test_solver import Q, make_policy, make_problem, violations

from riskplan.domain.roster import RosterProblem
from riskplan.solve.compile import compile_problem
from riskplan.solve.days import place_week
from riskplan.solve.greedy import greedy_roster
from riskplan.solve.objective import load_targets
from riskplan.solve.polish import (
    balance_pass,
    improve_pass,
    pair_singles_pass,
    relocate_pass,
)
from riskplan.solve.repair import repair
from riskplan.solve.result import build_roster, state_from_roster
from riskplan.solve.state import State
from riskplan.solve.teams import _load_weights

SEEDS = (1, 2, 3)
NEVER = float("inf")  # no deadline: the passes are bounded by counts


@cache
def hard_problem(seed: int) -> RosterProblem:
    """See the module docstring."""
    pol = make_policy(min_days_between_visits=21, cross_area=True, capacity_reserve=0.1, rotate_inspectors=True)
    p = make_problem(seed, policy=pol, n_ent=150, n_insp=16, n_red=12, n_orange=10, n_drawn=80, n_follow=4,
                     n_pinned=3, leave_share=0.0, n_conflicts=0)
    rng = np.random.default_rng([seed, 77])
    insp = list(p.inspectors["inspector_id"])
    leave = []
    for iid in rng.choice(insp, round(0.6 * len(insp)), replace=False):
        for _ in range(2):
            s = Q.start + timedelta(days=int(rng.integers(0, 80)))
            leave.append({"inspector_id": iid, "start": pd.Timestamp(s),
                          "end": pd.Timestamp(s + timedelta(days=int(rng.integers(8, 21))))})
    req_ents = sorted({r.enterprise_id for r in p.requests})
    conflicts = pd.DataFrame({"inspector_id": rng.choice(insp, 80), "enterprise_id": rng.choice(req_ents, 80),
                              "reason": "relative"})
    past = []
    for eid in req_ents:
        d = pd.Timestamp(Q.start - timedelta(days=int(rng.integers(15, 41))))
        for _ in range(2):
            past.append({"enterprise_id": eid, "date": d, "inspectors": ";".join(rng.choice(insp, 2, replace=False)),
                         "hazards_found": 0, "major_hazards_found": 0, "penalized": 0})
    return RosterProblem(p.quarter, p.calendar, p.policy, p.requests, p.enterprises, p.inspectors,
                         pd.DataFrame(leave), conflicts, pd.DataFrame(past))


@cache
def start(seed: int):
    """The compiled hard instance and its greedy roster (valid: checked in its own test)."""
    p = hard_problem(seed)
    inst = compile_problem(p)
    return p, inst, greedy_roster(p, seed, _instance=inst)


def fresh_state(seed: int) -> tuple[RosterProblem, object, State]:
    p, inst, roster = start(seed)
    return p, inst, state_from_roster(inst, roster)


def roster_of(inst, state):
    return build_roster(inst, state, {r: "not placed" for r in range(len(inst.requests)) if r not in state.placed})


def assert_valid(p, inst, state):
    assert violations(p, roster_of(inst, state)) == []


# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_greedy_roster_alone(seed):
    p, _, roster = start(seed)
    assert violations(p, roster) == []
    assert len(roster.visits) > 0.5 * len(p.requests)


@pytest.mark.parametrize("seed", SEEDS)
def test_repair_alone(seed):
    """A third of the greedy visits (mandatory ones included) are lifted, then repair re-places them."""
    p, inst, state = fresh_state(seed)
    rng = np.random.default_rng(seed)
    lifted = [int(r) for r in rng.permutation(sorted(state.placed))[: len(state.placed) // 3]]
    for r in lifted:
        state.remove(r)
    todo = lifted + [r for r in range(len(inst.requests)) if r not in state.placed and r not in lifted]
    before = len(state.placed)
    repair(inst, state, rng, todo, np.ones(inst.I), NEVER)
    assert len(state.placed) > before
    assert_valid(p, inst, state)


@pytest.mark.parametrize("seed", SEEDS)
def test_balance_pass_alone(seed):
    p, inst, state = fresh_state(seed)
    moves = balance_pass(inst, state, load_targets(inst, inst.team_size * len(state.placed)), NEVER)
    assert moves > 0
    assert_valid(p, inst, state)


@pytest.mark.parametrize("seed", SEEDS)
def test_improve_pass_alone(seed):
    p, inst, state = fresh_state(seed)
    assert improve_pass(inst, state, np.random.default_rng(seed), NEVER) > 0
    assert_valid(p, inst, state)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("plain", [True, False])
def test_pair_singles_pass_alone(seed, plain):
    p, inst, state = fresh_state(seed)
    assert pair_singles_pass(inst, state, NEVER, plain=plain) > 0
    assert_valid(p, inst, state)


@pytest.mark.parametrize("seed", SEEDS)
def test_relocate_pass_alone(seed):
    p, inst, state = fresh_state(seed)
    assert relocate_pass(inst, state, np.random.default_rng(seed), NEVER) > 0
    assert_valid(p, inst, state)


@pytest.mark.parametrize("seed", SEEDS + (4,))
def test_place_week_and_assign_cluster_alone(seed):
    """Phase 2 without phase 1: every request goes to a random ISO week of its window, then
    `place_week` (days, then `assign_cluster` teams per subdistrict-day) runs week by week."""
    p = hard_problem(seed)
    inst = compile_problem(p)
    rng = np.random.default_rng(seed)
    state = State(inst)
    state.even_weeks(True)
    by_week: dict[int, list[int]] = {}
    for r in range(len(inst.requests)):
        if inst.req_hi[r] < inst.req_lo[r]:
            continue
        w_lo, w_hi = int(inst.week_of_day[inst.req_lo[r]]), int(inst.week_of_day[inst.req_hi[r]])
        by_week.setdefault(int(rng.integers(w_lo, w_hi + 1)), []).append(r)
    target = load_targets(inst, inst.team_size * len(inst.requests))
    for w in range(inst.W):
        place_week(inst, state, rng, w, by_week.get(w, []), _load_weights(inst, state, target, np.ones(inst.I)))
    assert len(state.placed) > 0.4 * len(inst.requests)
    state.even_weeks(False)
    assert_valid(p, inst, state)
