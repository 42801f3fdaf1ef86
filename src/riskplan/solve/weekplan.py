"""Phase 1 of the solve: the aggregate week plan (CP-SAT over counts of request classes per
ISO week), solved lexicographically, then filled with concrete requests per week."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from riskplan.domain.obligation_kinds import rule_of
from riskplan.i18n import N_, _
from riskplan.solve.instance import Instance
from riskplan.solve.progress import _Reporter
from riskplan.solve.rules import (
    cross_area,
    holders_of,
    inspector_not_on_leave,
    team_of_certified_inspectors,
    weekly_slots,
)

# --------------------------------------------------------------------------------------
# Phase 1: the aggregate week plan.
# --------------------------------------------------------------------------------------


@dataclass
class RequestClass:
    key: tuple
    members: list[int]
    lo: int
    hi: int
    sub: int
    need: tuple[str, ...]
    mandatory: bool


def request_classes(inst: Instance, requests: list[int] | None = None) -> list[RequestClass]:
    """Requests grouped by what the aggregate model can tell apart."""
    groups: dict[tuple, list[int]] = {}
    rs = range(len(inst.requests)) if requests is None else requests
    for r in rs:
        if inst.req_hi[r] < inst.req_lo[r]:
            continue
        e = int(inst.req_ent[r])
        key = (not bool(inst.req_mandatory[r]), rule_of(inst.requests[r]), inst.ent_tier[e], int(inst.ent_sub[e]),
               inst.ent_need[e], int(inst.req_lo[r]), int(inst.req_hi[r]))
        groups.setdefault(key, []).append(r)
    out = []
    for key in sorted(groups):
        out.append(RequestClass(key, groups[key], key[5], key[6], key[3], key[4], not key[0]))
    return out


def slot_capacity(inst: Instance, days: list[int], mask: np.ndarray | None = None,
                  week_free: np.ndarray | None = None, day_free: np.ndarray | None = None) -> int:
    """Inspector-visit slots on `days` (one ISO week) of the inspectors in mask."""
    if not days:
        return 0
    w = inst.week_of_day[days[0]]
    cert = team_of_certified_inspectors(inst)
    m = cert if mask is None else (cert & mask)
    avail = inspector_not_on_leave(inst, days)
    per_day = (inst.day_limit if day_free is None else day_free[:, days]) * avail
    wk = inst.wlim[:, w] if week_free is None else week_free[:, w]
    return int(np.minimum(wk, per_day.sum(axis=1))[m].sum())


#: Penalty per drawn visit a week holds beyond its share of the quarter's drawn visits (see
#: `build_week_model`): above a stop's cost, so spreading wins over a little travel.
SPREAD_WEIGHT = 3
#: Deviation from a week's share of drawn visits that costs nothing (a share of the target).
SPREAD_SLACK = 0.1
#: Drawn visits take the room mandatory ones leave up to this share of a week's capacity; each
#: visit beyond costs CROWD_WEIGHT (phase 2 rounds weeks down to whole team-days, and the
#: mandatory visits need the last of the room).
CROWDED = 0.9
CROWD_WEIGHT = 8


def build_week_model(inst: Instance, classes: list[RequestClass], *, week_free=None, day_free=None,
                     elastic: bool = False, soft_terms: bool = True, singles_penalty: bool = False,
                     bound_only: bool = False, fixed_totals: dict[int, int] | None = None):
    """The aggregate CP-SAT model: x[c, w] visits of class c placed in week w.

    fixed_totals: class -> visits to place (stage B of `plan_weeks`). With them, drawn visits are
    spread over the quarter: each week should hold the drawn total times its share of the
    quarter's working days (spot checks fall in every month, so a published enterprise cannot
    tell which month is safe); beyond SPREAD_SLACK of that, each visit too many or too few
    costs SPREAD_WEIGHT. Capacity and the fixed mandatory totals still come first, and a
    week's visits beyond CROWDED of its capacity cost CROWD_WEIGHT each (the last of a week's
    room goes to mandatory visits, which may move there; drawn ones go elsewhere).
    bound_only=True: every class member must be placed; minimise the stops the weeks' capacity
    structure forces (a relaxation: its best bound is a lower bound on any roster's travel).
    elastic=True: every mandatory visit must be placed and non-negative slack variables per
    (week, resource) buy extra capacity (used by the shortfall report). singles_penalty adds
    one boolean per (subdistrict, week) to avoid lone visits; it makes the model much slower
    for little gain (phase 2 pairs visits within the week), so it is off by default.
    """
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    t = inst.team_size
    x: dict[tuple[int, int], object] = {}
    by_week: dict[int, list[int]] = defaultdict(list)
    for ci, c in enumerate(classes):
        w_lo, w_hi = inst.week_of_day[c.lo], inst.week_of_day[c.hi]
        for w in range(w_lo, w_hi + 1):
            x[ci, w] = m.NewIntVar(0, len(c.members), f"x{ci}_{w}")
            by_week[w].append(ci)
        total = sum(x[ci, w] for w in range(w_lo, w_hi + 1))
        if fixed_totals is not None:
            m.Add(total == fixed_totals.get(ci, 0))
        elif (elastic and c.mandatory) or bound_only:
            m.Add(total == len(c.members))
        else:
            m.Add(total <= len(c.members))

    slack: dict[tuple, object] = {}
    quals = sorted({q for c in classes for q in c.need})
    penalties = []
    stops_vars = []
    # load level: a little above the quarter's overall utilisation, so weeks fill evenly
    total_cap = sum(slot_capacity(inst, ds) for ds in inst.week_days)
    slots = weekly_slots(inst)
    cert = team_of_certified_inspectors(inst)
    level = min(0.95, t * sum(len(c.members) for c in classes) / max(total_cap, 1) + 0.05)
    for w, cis in sorted(by_week.items()):
        wd = inst.week_days[w]
        # sub-ranges of the week cut by class windows: constrain each distinct range
        ranges = sorted({(max(classes[ci].lo, wd[0]), min(classes[ci].hi, wd[-1])) for ci in cis})
        ranges = sorted(set(ranges) | {(wd[0], wd[-1])})
        for lo, hi in ranges:
            inside = [ci for ci in cis if max(classes[ci].lo, wd[0]) >= lo and min(classes[ci].hi, wd[-1]) <= hi]
            if not inside:
                continue
            days = list(range(lo, hi + 1))
            cap = slot_capacity(inst, days, None, week_free, day_free)
            expr = t * sum(x[ci, w] for ci in inside)
            if elastic and (lo, hi) == (wd[0], wd[-1]):
                slack["all", w] = m.NewIntVar(0, 10**6, f"e_all_{w}")
                m.Add(expr <= cap + slack["all", w])
            else:
                m.Add(expr <= cap)
            if (lo, hi) == (wd[0], wd[-1]) and soft_terms and not elastic:
                over = m.NewIntVar(0, 10**6, f"over{w}")
                m.Add(over >= expr - int(level * cap))
                if not bound_only:
                    penalties.append(over)
                # travel: stops this week >= inspector-visits / daily limit, and every inspector-visit
                # beyond what full days (daily limit visits each) can take costs a stop of its own
                pairs = int((slots[:, w] // inst.day_limit)[cert].sum())
                stops = m.NewIntVar(0, 10**6, f"stops{w}")
                m.Add(inst.day_limit * stops >= expr)
                if inst.day_limit == 2:  # ceil(l / 2) >= l - floor(L / 2) per inspector-week
                    m.Add(stops >= expr - pairs)
                stops_vars.append(stops)
                if not bound_only:
                    penalties.append(stops)
        full = list(range(wd[0], wd[-1] + 1))
        for q in quals:
            qcis = [ci for ci in cis if q in classes[ci].need]
            if not qcis:
                continue
            cap = slot_capacity(inst, full, holders_of(inst, q), week_free, day_free)
            expr = sum(x[ci, w] for ci in qcis)
            if elastic:
                slack[q, w] = m.NewIntVar(0, 10**6, f"e_{q}_{w}")
                m.Add(expr <= cap + slack[q, w])
            else:
                m.Add(expr <= cap)
        if inst.cross:
            for s in sorted({classes[ci].sub for ci in cis}):
                scis = [ci for ci in cis if classes[ci].sub == s]
                cap = slot_capacity(inst, full, cross_area(inst, s), week_free, day_free)
                if elastic:
                    slack["cross", s, w] = m.NewIntVar(0, 10**6, f"e_x{s}_{w}")
                    m.Add(t * sum(x[ci, w] for ci in scis) <= cap + slack["cross", s, w])
                else:
                    m.Add(t * sum(x[ci, w] for ci in scis) <= cap)

    if elastic:
        m.Minimize(sum(slack.values()))
        return m, x, slack

    if bound_only:
        m.Minimize(sum(stops_vars))
        return m, x, None
    singles = []
    if soft_terms and inst.day_limit >= 2 and singles_penalty:
        for w, cis in sorted(by_week.items()):
            for s in sorted({classes[ci].sub for ci in cis}):
                scis = [ci for ci in cis if classes[ci].sub == s]
                n = sum(x[ci, w] for ci in scis)
                ub = sum(len(classes[ci].members) for ci in scis)
                active = m.NewBoolVar(f"a{s}_{w}")
                single = m.NewIntVar(0, 1, f"s{s}_{w}")
                m.Add(n <= ub * active)
                m.Add(n >= 2 * active - single)
                singles.append(single)
    spread = []
    if fixed_totals is not None and soft_terms and inst.D:
        drawn_total = sum(fixed_totals.get(ci, 0) for ci, c in enumerate(classes) if not c.mandatory)
        for w in range(inst.W):
            cis = [ci for ci in by_week.get(w, []) if not classes[ci].mandatory]
            if not cis or not drawn_total:
                continue
            n = sum(x[ci, w] for ci in cis)
            target = drawn_total * len(inst.week_days[w]) / inst.D
            free = int(math.floor(SPREAD_SLACK * target))
            dev = m.NewIntVar(0, drawn_total, f"spread{w}")
            m.Add(dev >= n - int(math.ceil(target)) - free)
            m.Add(dev >= int(math.floor(target)) - free - n)
            spread.append(SPREAD_WEIGHT * dev)
            wd = inst.week_days[w]
            room = int(CROWDED * slot_capacity(inst, list(range(wd[0], wd[-1] + 1)), None, week_free, day_free)) // t
            crowd = m.NewIntVar(0, sum(len(classes[ci].members) for ci in by_week[w]), f"crowd{w}")
            m.Add(crowd >= sum(x[ci, w] for ci in by_week[w]) - room)
            spread.append(CROWD_WEIGHT * crowd)
    n_drawn = sum(len(c.members) for c in classes if not c.mandatory)
    w_drawn = 3 * t + 2  # more than the most one visit can add to the soft terms
    w_mand = w_drawn * (n_drawn + 1) + 1
    placed = sum((w_mand if classes[ci].mandatory else w_drawn) * v for (ci, w), v in x.items())
    m.Maximize(placed - sum(singles) - sum(penalties) - sum(spread))
    return m, x, None


def _solver_params(seed: int, det_time: float, wall: float):
    from ortools.sat.python import cp_model

    s = cp_model.CpSolver()
    s.parameters.num_workers = 1
    s.parameters.random_seed = int(seed) % (2**31 - 1)
    s.parameters.max_deterministic_time = float(det_time)
    s.parameters.max_time_in_seconds = float(wall)
    # CP-SAT would otherwise take Ctrl-C itself and return its best plan as if it had finished:
    # the interrupt must reach the solve, which marks the plan as a fallback
    s.parameters.catch_sigint_signal = False
    return s


def plan_weeks(inst: Instance, classes: list[RequestClass], seed: int, det_time: float, wall: float,
               report: _Reporter, num_workers: int = 1) -> tuple[dict[tuple[int, int], int], str, float]:
    """Phase 1: solve the aggregate model lexicographically; (class, week) -> count, status, objective.

    Stage A maximises the weighted placements (mandatory first) and stops as soon as every
    request is placed (CP-SAT's bound closes slowly on this model; the trivial bound is
    known). Stages B and C keep each class's placed total and minimise the soft terms
    (C also lone visits per subdistrict-week; skipped when mandatory visits do not all fit),
    each hinted with the previous plan. status is stage A's: OPTIMAL means its placements are proven
    maximal (or everything fits).
    """
    from ortools.sat.python import cp_model

    model, x, _slack = build_week_model(inst, classes, soft_terms=False)
    n_drawn = sum(len(c.members) for c in classes if not c.mandatory)
    w_drawn = 3 * inst.team_size + 2
    w_mand = w_drawn * (n_drawn + 1) + 1
    ceiling = sum((w_mand if c.mandatory else w_drawn) * len(c.members) for c in classes)
    solver = _solver_params(seed, det_time, wall)
    solver.parameters.num_workers = int(num_workers)

    class Stage(cp_model.CpSolverSolutionCallback):
        def __init__(self, stage: str, stop_at: float | None):
            super().__init__()
            self.stage, self.stop_at, self.full = stage, stop_at, False

        def on_solution_callback(self):
            report(_("phase 1 week plan ({stage}): objective {objective} (bound {bound})").format(
                stage=_(self.stage), objective=f"{self.ObjectiveValue():.0f}",
                bound=f"{self.BestObjectiveBound():.0f}"))
            if self.stop_at is not None and self.ObjectiveValue() >= self.stop_at - 0.5:
                self.full = True
                self.StopSearch()

    cb = Stage(N_("placements"), ceiling)
    status = solver.Solve(model, cb)
    name = "OPTIMAL" if cb.full else solver.StatusName(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {}, name, float("nan")
    quota = {k: int(solver.Value(v)) for k, v in x.items()}
    objective = float(solver.ObjectiveValue())
    totals: dict[int, int] = defaultdict(int)
    for (ci, _w), v in quota.items():
        totals[ci] += v
    # a quarter that cannot hold its mandatory visits: coverage is what matters, and stage C
    # (lone visits, without presolve) is slowest exactly there, so it is skipped
    starved = any(totals[ci] < len(c.members) for ci, c in enumerate(classes) if c.mandatory)

    # stage B: travel and load terms with the totals fixed; stage C adds the lone-visit
    # penalty (one boolean per subdistrict-week), hinted with B and without presolve, which
    # is what keeps those booleans affordable
    stages = ((N_("travel and load"), False, min(4.0, max(0.1, det_time / 2)), True),
              (N_("lone visits"), True, min(3.0, max(0.1, det_time / 4)), False))
    for label, singles, det, presolve in stages:
        if singles and (inst.day_limit < 2 or starved):
            continue
        model_b, x_b, _slack_b = build_week_model(inst, classes, fixed_totals=dict(totals), singles_penalty=singles)
        for k, v in x_b.items():
            model_b.AddHint(v, quota.get(k, 0))
        solver_b = _solver_params(seed, det, wall)
        solver_b.parameters.num_workers = int(num_workers)
        solver_b.parameters.cp_model_presolve = presolve
        status_b = solver_b.Solve(model_b, Stage(label, None))
        if status_b in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            quota = {k: int(solver_b.Value(v)) for k, v in x_b.items()}
            objective = float(solver_b.ObjectiveValue())
    return {k: v for k, v in quota.items() if v}, name, objective


def merge_lone_visits(inst: Instance, classes: list[RequestClass], quota: dict[tuple[int, int], int]) -> int:
    """Move a subdistrict's only visit of a week to a week where that subdistrict has visits.

    A lone visit in a subdistrict-week cannot share a team-day, so it costs team_size stops
    instead of about one. Moves stay inside the class window and within each week's slot and
    qualification capacity (at most 0.95 of it); returns the number of moves.
    """
    t = inst.team_size
    cap = [slot_capacity(inst, ds) for ds in inst.week_days]
    qcap = {q: [slot_capacity(inst, ds, holders_of(inst, q)) for ds in inst.week_days]
            for q in sorted({q for c in classes for q in c.need})}
    n_w = defaultdict(int)
    n_qw = defaultdict(int)
    n_sw = defaultdict(int)
    for (ci, w), v in quota.items():
        c = classes[ci]
        n_w[w] += v
        n_sw[(c.sub, w)] += v
        for q in c.need:
            n_qw[(q, w)] += v
    moves = 0
    for (ci, w) in sorted(quota):
        c = classes[ci]
        if quota.get((ci, w), 0) != 1 or n_sw[(c.sub, w)] != 1:
            continue
        best = None
        for w2 in range(int(inst.week_of_day[c.lo]), int(inst.week_of_day[c.hi]) + 1):
            if w2 == w or n_sw[(c.sub, w2)] == 0:
                continue
            if t * (n_w[w2] + 1) > 0.95 * cap[w2]:
                continue
            if any(n_qw[(q, w2)] + 1 > 0.95 * qcap[q][w2] for q in c.need):
                continue
            # the week must hold the window's days, not just touch them
            days = [d for d in inst.week_days[w2] if c.lo <= d <= c.hi]
            if len(days) < min(3, len(inst.week_days[w2])):
                continue
            key = (n_sw[(c.sub, w2)] % 2 == 1, -abs(w2 - w))
            if best is None or key > best[0]:
                best = (key, w2)
        if best is None:
            continue
        w2 = best[1]
        quota[(ci, w)] -= 1
        if not quota[(ci, w)]:
            del quota[(ci, w)]
        quota[(ci, w2)] = quota.get((ci, w2), 0) + 1
        for key, delta in (((c.sub, w), -1), ((c.sub, w2), 1)):
            n_sw[key] += delta
        n_w[w] -= 1
        n_w[w2] += 1
        for q in c.need:
            n_qw[(q, w)] -= 1
            n_qw[(q, w2)] += 1
        moves += 1
    return moves


def assign_weeks(inst: Instance, classes: list[RequestClass], quota: dict[tuple[int, int], int],
                 rng: np.random.Generator) -> dict[int, int]:
    """Fill each class's weekly quotas with concrete requests, spacing an enterprise's visits."""
    week_req: dict[int, int] = {}
    remaining = {k: v for k, v in quota.items()}
    per_ent: dict[int, list[int]] = defaultdict(list)
    for c in classes:
        for r in c.members:
            per_ent[int(inst.req_ent[r])].append(r)
    cls_of = {r: ci for ci, c in enumerate(classes) for r in c.members}
    # enterprises with several visits first (their spacing is the constraint), then at random
    ents = sorted(per_ent)
    rnd = rng.random(len(ents))
    ents = [e for _n, _r, e in sorted(zip([-len(per_ent[e]) for e in ents], rnd, ents))]
    gap = inst.min_gap
    for mandatory_pass in (True, False):
        for e in ents:
            chosen_days: list[tuple[int, int]] = []  # (first ordinal, last ordinal) of chosen weeks
            if inst.ent_last_past[e] > -10**8:
                o = int(inst.ent_last_past[e])
                chosen_days.append((o, o))
            for r in sorted(per_ent[e], key=lambda r: (inst.req_lo[r], inst.req_hi[r], r)):
                if bool(inst.req_mandatory[r]) != mandatory_pass:
                    continue
                ci = cls_of[r]
                c = classes[ci]
                best, best_score = None, None
                for w in range(inst.week_of_day[c.lo], inst.week_of_day[c.hi] + 1):
                    if remaining.get((ci, w), 0) <= 0:
                        continue
                    wd = [d for d in inst.week_days[w] if c.lo <= d <= c.hi]
                    lo_o, hi_o = int(inst.day_ord[wd[0]]), int(inst.day_ord[wd[-1]])
                    # the largest achievable distance to the nearest chosen visit
                    sep = min((max(abs(hi_o - a), abs(lo_o - b), abs(hi_o - b), abs(lo_o - a))
                               for a, b in chosen_days), default=10**6)
                    score = (min(sep, gap + 7) if gap else 0, rng.random())
                    if best_score is None or score > best_score:
                        best, best_score = w, score
                if best is None:
                    continue
                remaining[ci, best] -= 1
                week_req[r] = best
                wd = [d for d in inst.week_days[best] if c.lo <= d <= c.hi]
                chosen_days.append((int(inst.day_ord[wd[0]]), int(inst.day_ord[wd[-1]])))
    return week_req
