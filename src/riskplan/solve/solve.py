"""`solve_roster`: the three phases composed (see the package docstring), with the greedy
roster as the fallback when phase 1 finds nothing, time runs out or the user interrupts."""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from riskplan.domain.roster import RosterProblem, SolveResult
from riskplan.i18n import N_, _
from riskplan.solve.compile import compile_problem
from riskplan.solve.days import place_week
from riskplan.solve.degenerate import NothingToPlan, nothing_to_plan
from riskplan.solve.objective import load_targets, objective_bound, soft_objective
from riskplan.solve.polish import (
    balance_pass,
    improve_pass,
    pair_singles_pass,
    relocate_pass,
)
from riskplan.solve.progress import Progress, _check_deadline, _Reporter
from riskplan.solve.repair import repair
from riskplan.solve.result import build_roster, state_from_roster
from riskplan.solve.rules import team_of_certified_inspectors, weekly_slots
from riskplan.solve.state import State
from riskplan.solve.teams import _load_weights
from riskplan.solve.weekplan import (
    assign_weeks,
    merge_lone_visits,
    plan_weeks,
    request_classes,
)

#: CP-SAT's status of the week plan, as the progress line says it.
WEEK_PLAN_STATUS = {"OPTIMAL": N_("optimal"), "FEASIBLE": N_("feasible (not proven optimal)")}


def solve_roster(
    problem: RosterProblem,
    seed: int,
    *,
    time_limit: float = 60.0,
    progress: Progress | None = None,
    deterministic_time: float | None = None,
    num_workers: int = 1,
) -> SolveResult:
    """The quarter's roster: aggregate week plan, randomized teams per week, repair (module doc).

    `deterministic_time` bounds phase 1 in CP-SAT's deterministic units (default scales with
    the model, at most 20); the roster depends only on the inputs, the seed and these options.
    `num_workers` > 1 runs phase 1 in parallel: faster to a good week plan on big models, but
    not reproducible (kept for the benchmark that measures what determinism costs).
    Raises `riskplan.solve.degenerate.NothingToPlan` (a DistrictError naming the cause) when no
    visit can be placed at all: no working day, too few certified inspectors, no capacity.
    """
    from riskplan.solve.greedy import greedy_roster
    from riskplan.solve.shortfall import explain_shortfall

    t0 = time.perf_counter()
    report = _Reporter(progress, t0)
    deadline = t0 + time_limit
    compiled = None
    try:
        report(_("compiling the problem"))
        inst = compiled = compile_problem(problem)
        cause = nothing_to_plan(inst)
        if cause is not None:  # no solver status at all: nothing could be placed
            raise NothingToPlan([cause])
        report(_("{requests} requests ({mandatory} mandatory), {inspectors} inspectors, {days} working days").format(
            requests=len(inst.requests), mandatory=int(inst.req_mandatory.sum()), inspectors=inst.I, days=inst.D))
        rng = np.random.default_rng([int(seed), 0x5017E])
        classes = request_classes(inst)
        det = deterministic_time if deterministic_time is not None else min(10.0, 0.5 + 0.002 * len(classes) * inst.W)
        wall = max(1.0, min(time_limit * 0.6, time_limit - (time.perf_counter() - t0) - 1.0))
        report(_("phase 1 week plan: {classes} request classes x {weeks} weeks").format(
            classes=len(classes), weeks=inst.W))
        quota, status, p1_obj = plan_weeks(inst, classes, seed, det, max(wall, 2 * det), report, num_workers)
        if not quota and status not in ("OPTIMAL", "FEASIBLE"):
            raise _NoWeekPlan(_("phase 1 found no week plan ({status})").format(status=status))
        merged = merge_lone_visits(inst, classes, quota)
        report(_("phase 1 week plan: {status}, {planned} visits planned, {merged} lone visits merged").format(
            status=_(WEEK_PLAN_STATUS[status]) if status in WEEK_PLAN_STATUS else status, planned=sum(quota.values()), merged=merged))
        week_req = assign_weeks(inst, classes, quota, rng)
        state = State(inst)
        planned = len(week_req)
        target = load_targets(inst, inst.team_size * planned)
        cap_weeks = weekly_slots(inst).astype(float) * team_of_certified_inspectors(inst)[:, None]
        cum = np.cumsum(cap_weeks, axis=1) / np.maximum(cap_weeks.sum(axis=1, keepdims=True), 1e-9)
        reqs_by_week: dict[int, list[int]] = defaultdict(list)
        for r, w in sorted(week_req.items()):
            reqs_by_week[w].append(r)
        failed: list[int] = []
        state.even_weeks(True)
        for w in range(inst.W):
            _check_deadline(deadline, N_("phase 2"))
            weights = _load_weights(inst, state, target, cum[:, w])
            failed += place_week(inst, state, rng, w, reqs_by_week.get(w, []), weights)
        paired = pair_singles_pass(inst, state, deadline, plain=True)
        report(_("phase 2 days and teams: {placed} placed, {paired} one-visit trips paired, {failed} to repair")
               .format(placed=len(state.placed), paired=paired, failed=len(failed)))
        state.even_weeks(False)
        not_planned = [r for r in range(len(inst.requests)) if r not in week_req]
        weights = _load_weights(inst, state, target, np.ones(inst.I))
        hopeless = set(not_planned) if status == "OPTIMAL" else set()
        left = repair(inst, state, rng, failed + not_planned, weights, deadline, hopeless)
        n_mand_left = int(sum(inst.req_mandatory[r] for r in left))
        report(_("phase 3 repair: {placed} placed, {mandatory} mandatory and {drawn} drawn unplaced").format(
            placed=len(state.placed), mandatory=n_mand_left, drawn=len(left) - n_mand_left))
        paired += pair_singles_pass(inst, state, deadline, plain=True)
        target = load_targets(inst, inst.team_size * len(state.placed))
        moves = balance_pass(inst, state, target, deadline)
        if left:  # the balance pass may have freed what a leftover needs
            left = repair(inst, state, rng, left, weights, deadline, hopeless)
            target = load_targets(inst, inst.team_size * len(state.placed))
            moves += balance_pass(inst, state, target, deadline)
        moved = swaps = 0
        for _round in range(3):  # alternate until neither finds anything
            m1 = relocate_pass(inst, state, rng, deadline)
            m2 = improve_pass(inst, state, rng, deadline)
            m2 += pair_singles_pass(inst, state, deadline)
            moved, swaps = moved + m1, swaps + m2
            if not (m1 or m2):
                break
        obj = soft_objective(inst, state.placed)
        bound = objective_bound(inst, state.placed)
        report(_("phase 3 polish: {moves} day swaps, {moved} visits moved to shared days, {swaps} member swaps; "
                 "objective {total} (travel {travel}, balance {balance}), bound {bound}").format(
            moves=moves, moved=moved, swaps=swaps, total=f"{obj['total']:.0f}", travel=f"{obj['travel']:.0f}",
            balance=f"{obj['balance']:.1f}", bound=f"{bound['total']:.1f}"))
        from riskplan.solve.shortfall import diagnose

        reasons = {r: diagnose(inst, state, r)[1] for r in left}
        roster = build_roster(inst, state, reasons)
        shortfall = explain_shortfall(problem, roster, _instance=inst)
        objective = dict(obj)
        objective.update({f"bound_{k}": v for k, v in bound.items()})
        objective["phase1_objective"] = p1_obj
        # the aggregate model is a relaxation: when it is solved to optimality, no roster can
        # place more mandatory visits than it does
        if status == "OPTIMAL":
            objective["mandatory_shortfall_bound"] = float(sum(
                1 for r in range(len(inst.requests)) if inst.req_mandatory[r] and r not in week_req))
        return SolveResult(roster, "FEASIBLE",
                           objective, bound["total"], time.perf_counter() - t0, shortfall)
    except (KeyboardInterrupt, TimeoutError) as exc:
        reason = _fallback_reason(exc)
        report(_("falling back to the greedy roster ({reason}): {error}").format(
            reason=_(reason), error=f"{type(exc).__name__} {exc}"))
        g0 = time.perf_counter()
        inst = compiled if compiled is not None else compile_problem(problem)
        roster = greedy_roster(problem, seed, _instance=inst)
        st = state_from_roster(inst, roster)
        obj = soft_objective(inst, st.placed)
        bound = objective_bound(inst, st.placed)
        report(_("greedy roster in {seconds} s").format(seconds=f"{time.perf_counter() - g0:.2f}"))
        objective = dict(obj)
        objective.update({f"bound_{k}": v for k, v in bound.items()})
        return SolveResult(roster, "GREEDY_FALLBACK", objective, bound["total"], time.perf_counter() - t0,
                           explain_shortfall(problem, roster, _instance=inst), fallback=reason,
                           fallback_detail=str(exc) or type(exc).__name__)


class _NoWeekPlan(TimeoutError):
    """Phase 1 ended without a week plan: a fallback, but neither the clock nor the user."""


def _fallback_reason(exc: BaseException) -> str:
    """The key of FALLBACK_REASONS for what stopped the solve, so plan.json can tell a user's
    interrupt from the time limit."""
    if isinstance(exc, KeyboardInterrupt):
        return N_("user interrupt")
    if isinstance(exc, _NoWeekPlan):
        return N_("no week plan")
    return N_("time limit")
