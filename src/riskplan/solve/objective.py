"""The soft objective (travel and balance) and its lower bound, for the placed visits.

travel = inspector stops, the number of distinct (inspector, day, subdistrict) triples;
balance = sum over inspectors of |load - target|, target proportional to their available
capacity. See `objective_bound` for how the bound is derived."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from riskplan.solve.instance import Instance
from riskplan.solve.rules import team_of_certified_inspectors, weekly_slots
from riskplan.solve.weekplan import _solver_params, build_week_model, request_classes

# --------------------------------------------------------------------------------------
# Objective, bound and the roster.
# --------------------------------------------------------------------------------------


def load_targets(inst: Instance, total_slots: int) -> np.ndarray:
    """Each inspector's fair share of the placed inspector-visits, proportional to available capacity."""
    cap = inst.capacity().astype(float)
    if cap.sum() <= 0:
        return np.zeros(inst.I)
    return total_slots * cap / cap.sum()


def soft_objective(inst: Instance, placed: dict[int, tuple[int, tuple[int, ...]]]) -> dict[str, float]:
    """travel (inspector stops), balance (sum |load - target|), split_days (inspector-days in > 1 subdistrict)."""
    stops = set()
    loads = np.zeros(inst.I)
    for r, (d, team) in placed.items():
        s = int(inst.ent_sub[inst.req_ent[r]])
        for i in team:
            stops.add((i, d, s))
            loads[i] += 1
    target = load_targets(inst, int(loads.sum()))
    per_day: dict[tuple[int, int], int] = defaultdict(int)
    for i, d, _ in stops:
        per_day[(i, d)] += 1
    travel = float(len(stops))
    balance = float(np.abs(loads - target).sum())
    return {"travel": travel, "balance": balance, "total": travel + balance,
            "split_days": float(sum(1 for v in per_day.values() if v > 1))}


def objective_bound(inst: Instance, placed: dict[int, tuple[int, tuple[int, ...]]],
                    use_model: bool = True) -> dict[str, float]:
    """Lower bounds on travel and balance for this many placed visits per subdistrict (see module doc)."""
    t, k = inst.team_size, inst.day_limit
    per_sub: dict[int, int] = defaultdict(int)
    for r in placed:
        per_sub[int(inst.ent_sub[inst.req_ent[r]])] += 1
    travel = sum(max(t, math.ceil(t * n / k)) for n in per_sub.values() if n)
    total = t * len(placed)
    # inspector-week structure: a stop serves at most `daily limit` visits and an inspector-week
    # with limit L offers floor(L / k) full stops plus one stop of L mod k visits
    L = weekly_slots(inst)[team_of_certified_inspectors(inst)]
    full_stops = int((L // k).sum())
    if total <= k * full_stops:
        week_bound = math.ceil(total / k)
    else:
        rest = total - k * full_stops
        rems = np.sort((L % k).ravel())[::-1]
        used = np.cumsum(rems)
        week_bound = full_stops + int(np.searchsorted(used, rest) + 1) if len(rems) and used[-1] >= rest \
            else full_stops + len(rems)
    travel = max(travel, week_bound)
    if use_model and placed:
        from ortools.sat.python import cp_model

        classes = request_classes(inst, sorted(placed))
        model, _, _ = build_week_model(inst, classes, bound_only=True)
        solver = _solver_params(0, 2.0, 10.0)
        status = solver.Solve(model)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            travel = max(travel, math.ceil(solver.BestObjectiveBound() - 1e-6))
    target = load_targets(inst, total)
    cap = inst.capacity()
    fl = np.minimum(np.floor(target), cap)
    rest = int(total - fl.sum())
    frac = target - fl
    order = np.argsort(-frac, kind="stable")
    lo = fl.copy()
    for i in order:
        if rest <= 0:
            break
        if lo[i] < cap[i]:
            lo[i] += 1
            rest -= 1
    balance = float(np.abs(lo - target).sum())
    return {"travel": float(travel), "balance": balance, "total": float(travel) + balance}
