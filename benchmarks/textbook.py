"""The textbook CP-SAT roster model, kept only as the benchmarks' point of comparison.

One boolean x[v, i, d] per (visit, certified inspector, working day of the visit's window)
and one y[v, d] per (visit, day): the model everyone writes first. Its size is visits x
inspectors x days, which is why riskplan's solver (`riskplan.solver`) decomposes instead.
Simplifications a textbook model usually makes are kept: rotation makes every visit of an
enterprise avoid its previous team and consecutive requests (in window order) share no
inspector; no travel or balance objective, only mandatory-first placement.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from riskplan.domain.roster import Roster, RosterProblem


def textbook_roster(problem: RosterProblem, seed: int, *, time_limit: float = 60.0, num_workers: int = 2) -> tuple[
        Roster, dict]:
    """(roster, stats): stats has status, variables, build and solve seconds."""
    from ortools.sat.python import cp_model

    from riskplan.solve.compile import compile_problem
    from riskplan.solve.result import build_roster
    from riskplan.solve.state import State

    t0 = time.perf_counter()
    inst = compile_problem(problem)
    m = cp_model.CpModel()
    t, k = inst.team_size, inst.day_limit
    x: dict[tuple[int, int, int], object] = {}
    y: dict[tuple[int, int], object] = {}
    by_id = defaultdict(list)  # (i, d) -> vars
    by_iw = defaultdict(list)  # (i, w) -> vars
    per_ent = defaultdict(list)
    certified = np.flatnonzero(inst.certified)
    placed = {}
    for r in range(len(inst.requests)):
        e = int(inst.req_ent[r])
        per_ent[e].append(r)
        days = range(int(inst.req_lo[r]), int(inst.req_hi[r]) + 1)
        ys = []
        for d in days:
            yv = m.NewBoolVar(f"y{r}_{d}")
            y[r, d] = yv
            ys.append(yv)
            xs = []
            for i in certified:
                xv = m.NewBoolVar(f"x{r}_{i}_{d}")
                x[r, int(i), d] = xv
                xs.append(xv)
                by_id[int(i), d].append(xv)
                by_iw[int(i), int(inst.week_of_day[d])].append(xv)
                home_ok = not inst.cross or inst.home[i] != inst.ent_sub[e]
                if inst.on_leave[i, d] or int(i) in inst.ent_conflict[e] or not home_ok or \
                        int(i) in inst.ent_prev_team[e]:
                    m.Add(xv == 0)
            m.Add(sum(xs) == t * yv)
            for q in inst.ent_need[e]:
                m.Add(sum(x[r, int(i), d] for i in certified if inst.qual[q][i]) >= yv)
            if int(inst.day_ord[d]) - int(inst.ent_last_past[e]) < inst.min_gap:
                m.Add(yv == 0)
        placed[r] = m.NewBoolVar(f"p{r}")
        m.Add(sum(ys) == placed[r])
    for vs in by_id.values():
        m.Add(sum(vs) <= k)
    for (i, w), vs in by_iw.items():
        m.Add(sum(vs) <= int(inst.wlim[i, w]))
    for e, rs in per_ent.items():
        m.Add(sum(placed[r] for r in rs) <= int(inst.ent_max[e]))
        rs = sorted(rs, key=lambda r: (inst.req_lo[r], inst.req_hi[r], r))
        for a in range(len(rs)):
            for b in range(a + 1, len(rs)):
                ra, rb = rs[a], rs[b]
                for da in range(int(inst.req_lo[ra]), int(inst.req_hi[ra]) + 1):
                    for db in range(int(inst.req_lo[rb]), int(inst.req_hi[rb]) + 1):
                        if abs(int(inst.day_ord[da]) - int(inst.day_ord[db])) < inst.min_gap:
                            m.AddBoolOr([y[ra, da].Not(), y[rb, db].Not()])
        if inst.rotate:
            for ra, rb in zip(rs, rs[1:]):
                for i in certified:
                    za = [x[ra, int(i), d] for d in range(int(inst.req_lo[ra]), int(inst.req_hi[ra]) + 1)]
                    zb = [x[rb, int(i), d] for d in range(int(inst.req_lo[rb]), int(inst.req_hi[rb]) + 1)]
                    if za and zb:
                        m.Add(sum(za) + sum(zb) <= 1)
    n_drawn = int((~inst.req_mandatory).sum())
    m.Maximize(sum((n_drawn + 1 if inst.req_mandatory[r] else 1) * v for r, v in placed.items()))
    build = time.perf_counter() - t0
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = num_workers
    solver.parameters.random_seed = int(seed) % (2**31 - 1)
    solver.parameters.max_time_in_seconds = max(0.1, time_limit - build)
    status = solver.Solve(m)
    name = solver.StatusName(status)
    state = State(inst)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for (r, d), yv in y.items():
            if solver.Value(yv):
                team = tuple(int(i) for i in certified if solver.Value(x[r, int(i), d]))
                state.place(r, d, team)
    reasons = {r: "textbook model: not placed" for r in range(len(inst.requests)) if r not in state.placed}
    stats = {"status": name, "variables": len(x) + len(y) + len(placed), "build_s": build,
             "solve_s": time.perf_counter() - t0 - build}
    return build_roster(inst, state, reasons), stats
