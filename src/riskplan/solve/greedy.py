"""Randomized greedy roster: the solver's fallback and the benchmarks' baseline.

Requests are taken mandatory first (rule 9), each group in a seeded random order; for each
request the rules are evaluated on every day of its window at once (an inspectors x days
mask), a random feasible day is taken and `random_assignment` draws the team (up to
`MAX_DAY_TRIES` feasible days when a multi-qualification team cannot be covered). Rotation
is applied strictly (no member of any of the enterprise's teams), which is valid and simple. Unplaced requests get a short
reason; `riskplan.shortfall.explain_shortfall` diagnoses them in full. It uses the solver's rule
functions, so its rosters are valid by construction; it just does not plan capacity ahead,
share team-days or balance load. Valid in well under a second at XL.
"""

from __future__ import annotations

import numpy as np

from riskplan.domain.roster import Roster, RosterProblem

#: Random days a request tries one by one before the whole window is evaluated at once.
QUICK_TRIES = 2
#: Feasible days a request tries before it is left unplaced.
MAX_DAY_TRIES = 8


def greedy_roster(problem: RosterProblem, seed: int, *, _instance=None) -> Roster:
    """A valid roster in one randomized pass; unplaced requests carry a short reason.

    `_instance`: the solver's already compiled problem (the fallback path reuses it).
    """
    from riskplan.solve.compile import compile_problem
    from riskplan.solve.result import build_roster
    from riskplan.solve.rules import (
        eligible_inspectors,
        mandatory_coverage,
        tier_visit_maximum,
    )
    from riskplan.solve.shortfall import diagnose
    from riskplan.solve.state import State
    from riskplan.solve.teams import random_assignment

    inst = _instance if _instance is not None else compile_problem(problem)
    rng = np.random.default_rng([int(seed), 0x6EED])
    state = State(inst)
    order = mandatory_coverage(inst, rng)
    left = []
    t = inst.team_size
    avail = ~inst.on_leave
    for r in order:
        r = int(r)
        days = np.arange(inst.req_lo[r], inst.req_hi[r] + 1)
        e = int(inst.req_ent[r])
        if not len(days) or not tier_visit_maximum(inst, state, e):
            left.append(r)
            continue
        # a few random days one by one first (cheap when the quarter is not full) ...
        quick = False
        for d in rng.permutation(days)[:QUICK_TRIES]:
            mask = eligible_inspectors(inst, state, r, int(d))  # exact rules, rotation included
            if mask is None:
                continue
            team = random_assignment(inst, rng, mask, inst.ent_need[e])
            if team is not None:
                state.place(r, int(d), team)
                quick = True
                break
        if quick:
            continue
        # ... then every day of the window at once: rules 1-8 as an inspectors x days mask
        o = inst.day_ord[days]
        ok = o - inst.ent_last_past[e] >= inst.min_gap
        for v in state.ent_visits[e]:
            ok &= np.abs(o - inst.day_ord[v[0]]) >= inst.min_gap
        M = avail[:, days] & state.free[:, days]
        M &= inst.sub_mask[inst.ent_sub[e]][:, None]
        if inst.ent_conflict[e].size:
            M[inst.ent_conflict[e], :] = False
        if inst.rotate:  # stricter than needed, still valid: avoid every team of the enterprise
            for v in state.ent_visits[e]:
                M[list(v[1]), :] = False
            if inst.ent_prev_team[e]:
                M[list(inst.ent_prev_team[e]), :] = False
        ok &= M.sum(axis=0) >= t
        for q in inst.ent_need[e]:
            ok &= (M & inst.qual[q][:, None]).any(axis=0)
        cand = np.flatnonzero(ok)
        placed = False
        for k in rng.permutation(cand)[:MAX_DAY_TRIES]:
            team = random_assignment(inst, rng, M[:, k], inst.ent_need[e])
            if team is not None:
                state.place(r, int(days[k]), team)
                placed = True
                break
        if not placed:
            left.append(r)
    # a full diagnosis per request is the shortfall report's job (`explain_shortfall`); here a
    # cheap reason keeps the fallback under a second even when thousands do not fit
    reasons = {}
    for r in left:
        n = int(inst.req_hi[r] - inst.req_lo[r] + 1)
        reasons[r] = diagnose(inst, state, r)[1] if n <= 0 else (
            "greedy: no day of the window had an eligible team left (see the shortfall report)")
    return build_roster(inst, state, reasons)
