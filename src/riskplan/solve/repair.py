"""Phase 3 repair: place what phases 1 and 2 left over, trying every feasible day of each
request's window; a mandatory request may re-plan its enterprise's visits, free a blocked
inspector by a swap, or displace a drawn visit."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from riskplan.i18n import N_
from riskplan.solve.instance import Instance
from riskplan.solve.progress import _check_deadline
from riskplan.solve.rules import (
    eligible_inspectors,
    feasible_days,
    holders_of,
    inspector_daily_limit,
    inspector_weekly_capacity,
    required_qualifications_held,
)
from riskplan.solve.state import State
from riskplan.solve.teams import try_place

# --------------------------------------------------------------------------------------
# Phase 3: repair and polish.
# --------------------------------------------------------------------------------------


def repair(inst: Instance, state: State, rng: np.random.Generator, todo: list[int], weights: np.ndarray,
           deadline: float, hopeless: set[int] | frozenset = frozenset(), max_expensive: int = 400) -> list[int]:
    """Try every feasible day of each leftover's window; a mandatory one may re-plan its
    enterprise's other visits with it (`_replan_enterprise`), swap a blocked inspector out
    of another visit or displace a drawn visit (at most `max_expensive` re-plans and as
    many swap/displace attempts, and none for `hopeless` requests: those the optimal aggregate plan could not
    fit, where neither move can help). Visits in `state.frozen` are never lifted, swapped or displaced."""
    todo = sorted(set(todo), key=lambda r: (not inst.req_mandatory[r], r))
    left: list[int] = []
    displaced: list[int] = []
    expensive = replans = 0
    for r in todo:
        _check_deadline(deadline, N_("repair"))
        e = int(inst.req_ent[r])
        s = int(inst.ent_sub[e])
        days = [int(d) for d in feasible_days(inst, state, r)]
        rng.shuffle(days)
        # share a day first: fewest new stops, then the busiest subdistrict-day
        days.sort(key=lambda d: (_new_stops(inst, state, r, d), -len(state.stops.get((d, s), ()))))
        if any(try_place(inst, state, rng, r, d, weights) for d in days):
            continue
        if inst.req_mandatory[r] and r not in hopeless and state.ent_visits[e] and replans < max_expensive:
            replans += 1
            if _replan_enterprise(inst, state, rng, r, weights):
                continue
        if inst.req_mandatory[r] and r not in hopeless and expensive < max_expensive:
            blocked = [int(d) for d in feasible_days(inst, state, r, capacity=False)]
            if blocked:
                expensive += 1
                rng.shuffle(blocked)
                if _swap_free(inst, state, rng, r, blocked, weights):
                    continue
                if _displace_drawn(inst, state, rng, r, blocked, weights, displaced):
                    continue
        left.append(r)
    for r in displaced:  # displaced drawn visits try anywhere else
        days = [int(d) for d in feasible_days(inst, state, r)]
        rng.shuffle(days)
        if not any(try_place(inst, state, rng, r, d, weights) for d in days):
            left.append(r)
    return left


def _replan_enterprise(inst: Instance, state: State, rng: np.random.Generator, r: int,
                       weights: np.ndarray) -> bool:
    """Place r by re-planning its enterprise's other visits with it, in window order.

    Rotation and spacing tie an enterprise's visits together: a sibling placed first (say
    month 3) can leave month 2 no qualified inspector outside both neighbours' teams. All
    of the enterprise's visits are lifted and placed again chronologically; if any of them
    does not fit, the previous placements are restored.
    """
    e = int(inst.req_ent[r])
    old = [(v, d, team) for d, team, v in list(state.ent_visits[e]) if v not in state.frozen]
    for v, _, _ in old:
        state.remove(v)
    todo = sorted([r] + [v for v, _, _ in old], key=lambda v: (inst.req_lo[v], inst.req_hi[v], v))
    done = []
    for v in todo:
        days = [int(d) for d in feasible_days(inst, state, v)]
        rng.shuffle(days)
        s_ = int(inst.ent_sub[e])
        days.sort(key=lambda d: -len(state.stops.get((d, s_), ())))
        if not any(try_place(inst, state, rng, v, d, weights) for d in days):
            break
        done.append(v)
    if len(done) == len(todo):
        return True
    for v in done:
        state.remove(v)
    for v, d, team in old:
        state.place(v, d, team)
    return False


def _new_stops(inst: Instance, state: State, r: int, d: int) -> int:
    """The fewest inspector stops placing r on day d adds: team members not already out in its
    subdistrict that day (eligible ones with a stop there join it at no travel cost)."""
    mask = eligible_inspectors(inst, state, r, d)
    if mask is None:
        return inst.team_size + 1
    st = state.stops.get((d, int(inst.ent_sub[inst.req_ent[r]])))
    if not st:
        return inst.team_size
    there = np.array(sorted(st), dtype=np.int64)
    return inst.team_size - min(inst.team_size, int(mask[there].sum()))


def _swap_free(inst: Instance, state: State, rng: np.random.Generator, r: int, days: list[int],
               weights: np.ndarray, max_tries: int = 60) -> bool:
    """Place r by first replacing a blocked inspector h on one of h's other visits.

    h passes every rule for r on day d except the day or week limit; on a visit v of h that day
    (or that week) whose qualifications do not depend on h, h is swapped for a free eligible
    inspector, which frees h's slot for r.
    """
    e = int(inst.req_ent[r])
    tries = 0
    for d in days:
        static = eligible_inspectors(inst, state, r, d, capacity=False)
        if static is None:
            continue
        day_ok = inspector_daily_limit(inst, state, d)
        week_ok = inspector_weekly_capacity(inst, state, d)
        blocked = static & ~(day_ok & week_ok)
        if not blocked.any():
            continue
        need = inst.ent_need[e]
        prio = np.zeros(inst.I)
        for q in need:
            prio += holders_of(inst, q)
        hs = np.flatnonzero(blocked)
        hs = hs[np.argsort(-prio[hs] + rng.random(len(hs)) * 0.5, kind="stable")]
        w = int(inst.week_of_day[d])
        for h in hs[:16]:
            h = int(h)
            # visits of h whose removal frees what blocks h on d
            cands = [v for v in state.by_insp_week.get((h, w), ()) if day_ok[h] or state.placed[v][0] == d]
            for v in sorted(cands):
                if v in state.frozen:
                    continue
                tries += 1
                if tries > max_tries:
                    return False
                ev = int(inst.req_ent[v])
                dv, team = state.remove(v)
                mask = eligible_inspectors(inst, state, v, dv)
                ok = False
                if mask is not None:
                    mask[list(team)] = False
                    mask[h] = False
                    rest = tuple(m for m in team if m != h)
                    cand = np.flatnonzero(required_qualifications_held(inst, ev, rest, mask))
                    if len(cand):
                        k = int(cand[int(rng.integers(len(cand)))])
                        state.place(v, dv, tuple(sorted(rest + (k,))))
                        ok = True
                if not ok:
                    state.place(v, dv, team)
                    continue
                if try_place(inst, state, rng, r, d, weights):
                    return True
                break  # h freed but r still does not fit that day: next day
    return False


def _displace_drawn(inst: Instance, state: State, rng: np.random.Generator, r: int, days: list[int],
                    weights: np.ndarray, displaced: list[int]) -> bool:
    """Free capacity for mandatory r by unplacing a drawn visit on the same week (its only visit)."""
    weeks_days: dict[int, list[int]] = defaultdict(list)
    for d in days:
        weeks_days[int(inst.week_of_day[d])].append(d)
    tries = 0
    for w in sorted(weeks_days, key=lambda w: rng.random()):
        drawn = sorted(v for v in state.by_week.get(w, ()) if not inst.req_mandatory[v]
                       and len(state.ent_visits[inst.req_ent[v]]) == 1 and v not in state.frozen)
        for v in drawn:
            tries += 1
            if tries > 60:
                return False
            d0, team0 = state.remove(v)
            for d in weeks_days[w]:
                if try_place(inst, state, rng, r, d, weights):
                    displaced.append(v)
                    return True
            state.place(v, d0, team0)
    return False
