"""Randomized greedy roster: the solver's fallback and the benchmarks' baseline.

Requests are taken mandatory first (rule 9), each group in a seeded random order; each
request tries up to `MAX_DAY_TRIES` random working days of its window and takes the first
day on which `random_assignment` finds an eligible team. Unplaced requests get a short
reason; `riskplan.shortfall.explain_shortfall` diagnoses them in full. It uses the solver's rule
functions, so its rosters are valid by construction; it just does not plan capacity ahead,
share team-days or balance load. Valid in well under a second at XL.
"""

from __future__ import annotations

import numpy as np

from .roster import Roster, RosterProblem

#: Days a request tries before it is left unplaced (keeps the greedy under a second when starved).
MAX_DAY_TRIES = 8


def greedy_roster(problem: RosterProblem, seed: int, *, _instance=None) -> Roster:
    """A valid roster in one randomized pass; unplaced requests carry a short reason.

    `_instance`: the solver's already compiled problem (the fallback path reuses it).
    """
    from .shortfall import diagnose
    from .solver import State, build_roster, compile_problem, on_working_day_in_window, try_place

    inst = _instance if _instance is not None else compile_problem(problem)
    rng = np.random.default_rng([int(seed), 0x6EED])
    state = State(inst)
    mand = np.flatnonzero(inst.req_mandatory)
    drawn = np.flatnonzero(~inst.req_mandatory)
    order = np.concatenate([rng.permutation(mand), rng.permutation(drawn)]).astype(int)
    left = []
    for r in order:
        days = np.array(on_working_day_in_window(inst, int(r)))
        if len(days) > MAX_DAY_TRIES:
            days = rng.choice(days, MAX_DAY_TRIES, replace=False)
        else:
            rng.shuffle(days)
        if not any(try_place(inst, state, rng, int(r), int(d)) for d in days):
            left.append(int(r))
    # a full diagnosis per request is the shortfall report's job (`explain_shortfall`); here a
    # cheap reason keeps the fallback under a second even when thousands do not fit
    reasons = {}
    for r in left:
        n = int(inst.req_hi[r] - inst.req_lo[r] + 1)
        reasons[r] = diagnose(inst, state, r)[1] if n <= 0 else (
            f"greedy: no eligible team on the {min(n, MAX_DAY_TRIES)} days tried (see the shortfall report)")
    return build_roster(inst, state, reasons)
