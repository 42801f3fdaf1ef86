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

from .roster import Roster, RosterProblem

#: Feasible days a request tries before it is left unplaced.
MAX_DAY_TRIES = 8


def greedy_roster(problem: RosterProblem, seed: int, *, _instance=None) -> Roster:
    """A valid roster in one randomized pass; unplaced requests carry a short reason.

    `_instance`: the solver's already compiled problem (the fallback path reuses it).
    """
    from .shortfall import diagnose
    from .solver import State, build_roster, compile_problem, random_assignment, tier_visit_maximum

    inst = _instance if _instance is not None else compile_problem(problem)
    rng = np.random.default_rng([int(seed), 0x6EED])
    state = State(inst)
    mand = np.flatnonzero(inst.req_mandatory)
    drawn = np.flatnonzero(~inst.req_mandatory)
    order = np.concatenate([rng.permutation(mand), rng.permutation(drawn)]).astype(int)
    left = []
    t = inst.team_size
    for r in order:
        r = int(r)
        days = np.arange(inst.req_lo[r], inst.req_hi[r] + 1)
        e = int(inst.req_ent[r])
        if not len(days) or not tier_visit_maximum(inst, state, e):
            left.append(r)
            continue
        # every day of the window at once: rules 1-8 as an inspectors x days mask
        o = inst.day_ord[days]
        ok = o - inst.ent_last_past[e] >= inst.min_gap
        for v in state.ent_visits[e]:
            ok &= np.abs(o - inst.day_ord[v[0]]) >= inst.min_gap
        M = inst.sub_mask[inst.ent_sub[e]][:, None] & ~inst.on_leave[:, days] & state.free[:, days]
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
