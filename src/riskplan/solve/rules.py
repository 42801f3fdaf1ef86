"""The roster rules, each once, named as in docs/rules.md and as the checker's twins.

Every pass of the solver, the greedy roster and the shortfall diagnosis ask these functions
whether an inspector may go on a visit on a day; none of them writes a rule again."""

from __future__ import annotations

import numpy as np

from riskplan.solve.instance import Instance
from riskplan.solve.state import State

# --------------------------------------------------------------------------------------
# The rules, named as in domain.md and the checker.
# --------------------------------------------------------------------------------------


def on_working_day_in_window(inst: Instance, r: int) -> range:
    """Rule 1: the working days (indices) inside request r's window."""
    return range(int(inst.req_lo[r]), int(inst.req_hi[r]) + 1)


def team_of_certified_inspectors(inst: Instance) -> np.ndarray:
    """Rule 2: only certified inspectors may be on a team (a team has team_size distinct ones)."""
    return inst.certified.copy()


def inspector_not_on_leave(inst: Instance, d: int) -> np.ndarray:
    """Rule 2: inspectors not on leave on day d."""
    return ~inst.on_leave[:, d]


def inspector_weekly_capacity(inst: Instance, state: State, d: int, n: int = 1) -> np.ndarray:
    """Rule 3: inspectors who can take n more visits in day d's ISO week."""
    w = inst.week_of_day[d]
    return state.week_load[:, w] + n <= state.wcap[:, w]


def inspector_daily_limit(inst: Instance, state: State, d: int, n: int = 1) -> np.ndarray:
    """Rule 3: inspectors who can take n more visits on day d."""
    return state.day_load[:, d] + n <= inst.day_limit


def no_conflict_of_interest(inst: Instance, e: int) -> np.ndarray:
    """Rule 4: inspectors without a declared conflict with enterprise e."""
    ok = np.ones(inst.I, bool)
    ok[inst.ent_conflict[e]] = False
    return ok


def required_qualifications_held(inst: Instance, e: int, team: tuple[int, ...]) -> bool:
    """Rule 5: every qualification enterprise e's hazards require is held by a team member."""
    return all(any(inst.qual[q][i] for i in team) for q in inst.ent_need[e])


def rotate_inspectors(inst: Instance, state: State, e: int, d: int) -> np.ndarray:
    """Rule 6: inspectors allowed on a visit to e on day d.

    Excluded: the team of the visit just before d (or the previous past team when d would be
    the quarter's first) and of the visit just after d, so neighbours never share anyone.
    """
    ok = np.ones(inst.I, bool)
    if not inst.rotate:
        return ok
    visits = state.ent_visits[e]
    before = [v for v in visits if v[0] < d]
    after = [v for v in visits if v[0] > d]
    same = [v for v in visits if v[0] == d]
    if before:
        ok[list(before[-1][1])] = False
    elif inst.ent_prev_team[e]:
        ok[list(inst.ent_prev_team[e])] = False
    if after:
        ok[list(after[0][1])] = False
    for v in same:
        ok[list(v[1])] = False
    return ok


def exclude_neighbour_teams(inst: Instance, state: State, e: int, visit: tuple, mask: np.ndarray) -> list:
    """Rotation around an already placed visit of enterprise `e` when its team is changed: clear
    in `mask` the teams of the visits just before (or the previous quarter's team) and after it.
    Returns the enterprise's visits in date order."""
    vis = state.ent_visits[e]
    k = vis.index(visit)
    if k > 0:
        mask[list(vis[k - 1][1])] = False
    elif inst.ent_prev_team[e]:
        mask[list(inst.ent_prev_team[e])] = False
    if k + 1 < len(vis):
        mask[list(vis[k + 1][1])] = False
    return vis


def cross_area(inst: Instance, s: int) -> np.ndarray:
    """Rule 7: with cross_area, subdistrict-based inspectors never visit their home subdistrict."""
    if not inst.cross:
        return np.ones(inst.I, bool)
    return inst.home != s


def visit_spacing(inst: Instance, state: State, e: int, d: int) -> bool:
    """Rule 8: a visit to e on day d is >= min_days_between_visits from its others and the last past one."""
    o = int(inst.day_ord[d])
    if o - int(inst.ent_last_past[e]) < inst.min_gap:
        return False
    return all(abs(o - int(inst.day_ord[v[0]])) >= inst.min_gap for v in state.ent_visits[e])


def tier_visit_maximum(inst: Instance, state: State, e: int) -> bool:
    """Rule 8: enterprise e may take one more visit within its tier's max_visits_per_quarter."""
    return len(state.ent_visits[e]) < int(inst.ent_max[e])


def mandatory_coverage(inst: Instance, rng: np.random.Generator | None = None) -> np.ndarray:
    """Rule 9: the order requests are served in: mandatory ones first, then drawn (each group in
    a seeded random order when rng is given). The week plan weights mandatory placements
    above all drawn ones together (`plan_weeks`), and repair may displace drawn visits."""
    mand, drawn = np.flatnonzero(inst.req_mandatory), np.flatnonzero(~inst.req_mandatory)
    if rng is not None:
        mand, drawn = rng.permutation(mand), rng.permutation(drawn)
    return np.concatenate([mand, drawn]).astype(int)


def eligible_inspectors(inst: Instance, state: State, r: int, d: int, n: int = 1) -> np.ndarray | None:
    """Inspectors who may join request r's team on day d (None: the day itself is ruled out)."""
    e = int(inst.req_ent[r])
    if not (inst.req_lo[r] <= d <= inst.req_hi[r]):
        return None
    if not tier_visit_maximum(inst, state, e) or not visit_spacing(inst, state, e, d):
        return None
    mask = inst.sub_mask[inst.ent_sub[e]] & inspector_not_on_leave(inst, d)
    if n == 1:  # rule 3 as kept incrementally by the state
        mask &= state.free[:, d]
    else:
        mask &= inspector_daily_limit(inst, state, d, n) & inspector_weekly_capacity(inst, state, d, n)
    if inst.ent_conflict[e].size:
        mask[inst.ent_conflict[e]] = False  # no_conflict_of_interest
    if inst.rotate and (state.ent_visits[e] or inst.ent_prev_team[e]):
        mask &= rotate_inspectors(inst, state, e, d)
    return mask


def feasible_days(inst: Instance, state: State, r: int, capacity: bool = True) -> np.ndarray:
    """Days of r's window on which the rules leave a team possible (all days evaluated at once).

    capacity=False ignores the day and week limits (the days where freeing a slot could help).
    """
    days = np.arange(inst.req_lo[r], inst.req_hi[r] + 1)
    e = int(inst.req_ent[r])
    if not len(days) or not tier_visit_maximum(inst, state, e):
        return days[:0]
    o = inst.day_ord[days]
    ok = o - inst.ent_last_past[e] >= inst.min_gap
    for v in state.ent_visits[e]:
        ok &= np.abs(o - inst.day_ord[v[0]]) >= inst.min_gap
    M = inst.sub_mask[inst.ent_sub[e]][:, None] & ~inst.on_leave[:, days]
    if capacity:
        M &= state.free[:, days]
    if inst.ent_conflict[e].size:
        M[inst.ent_conflict[e], :] = False
    if inst.rotate and (state.ent_visits[e] or inst.ent_prev_team[e]):
        cache: dict[tuple[int, int], np.ndarray] = {}
        for k in np.flatnonzero(ok):
            d = int(days[k])
            key = (sum(1 for v in state.ent_visits[e] if v[0] < d), sum(1 for v in state.ent_visits[e] if v[0] == d))
            if key not in cache:
                cache[key] = rotate_inspectors(inst, state, e, d)
            M[:, k] &= cache[key]
    ok &= M.sum(axis=0) >= inst.team_size
    for q in inst.ent_need[e]:
        ok &= (M & inst.qual[q][:, None]).any(axis=0)
    return days[ok]
