"""Randomized greedy roster: the solver's fallback and the benchmarks' baseline.

Requests are taken mandatory first (rule 9), each group in a seeded random order; a request
first tries a few random days of its window, then the rules are evaluated on every day of
the window at once (`rules.eligible_matrix`, an inspectors x days mask), a random feasible
day is taken and `random_assignment` draws the team (up to `MAX_DAY_TRIES` feasible days
when a multi-qualification team cannot be covered). On the whole-window step rotation is
applied strictly (`rotate_inspectors(strict=True)`: no member of any of the enterprise's
teams), which is valid and cheap. Unplaced requests get a short reason;
`riskplan.solve.shortfall.explain_shortfall` diagnoses them in full. Only the solver's rule
functions decide eligibility, so its rosters are valid by construction; it just does not
plan capacity ahead, share team-days or balance load.
"""

from __future__ import annotations

import numpy as np

from riskplan.domain.roster import Roster, RosterProblem
from riskplan.i18n import _

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
        eligible_matrix,
        mandatory_coverage,
        on_working_day_in_window,
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
    for r in order:
        r = int(r)
        days = np.array(on_working_day_in_window(inst, r), dtype=np.int64)
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
        # ... then every day of the window at once: rules 1-8 as an inspectors x days mask,
        # rotation strict (every team of the enterprise avoided: stricter than needed, valid)
        days, M, ok = eligible_matrix(inst, state, r, strict_rotation=True)
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
    # cheap reason keeps the fallback quick even when thousands do not fit
    reasons = {}
    for r in left:
        n = int(inst.req_hi[r] - inst.req_lo[r] + 1)
        reasons[r] = diagnose(inst, state, r)[1] if n <= 0 else (
            _("greedy: no day of the window had an eligible team left (see the shortfall report)"))
    return build_roster(inst, state, reasons)
