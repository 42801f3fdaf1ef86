"""Re-planning the rest of a quarter with the fewest changes (docs/replan.md).

The frozen visits (before the re-plan's first day, or already done) are placed first and
marked `State.frozen`, so no pass lifts, moves or re-teams them; they count for every rule that
crosses the first day (weekly loads, spacing, rotation, the tier maximum). Each earlier visit
after that day is then kept exactly — same day, same team — when the rules of `solve.rules`
still allow it under the new inputs (mandatory visits asked first, then drawn ones, each in date
order); the invalidated and the new requests go through `repair`, first with every kept visit
protected, then, for mandatory requests still left, with only the frozen ones protected (a kept
visit may then move, change a member or, if drawn, be displaced). Fewest changed visits first,
then fewest new inspector-days: repair tries the days an eligible inspector is already out in
the subdistrict first.

Lower bound on the visits that must change: the earlier visits each invalid on its own under the
new inputs (every rule but capacity, against the frozen part), plus, per inspector-week, the
visits above the new weekly limit divided by the team size (one changed visit frees at most
team_size inspector-visits), plus the new visits placed (each one is a change).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from riskplan.domain.roster import PlacedVisit, Roster, RosterProblem, Unplaced
from riskplan.solve.compile import CapacityChange, apply_capacity_changes, compile_problem
from riskplan.solve.instance import Instance
from riskplan.solve.objective import load_targets
from riskplan.solve.repair import repair
from riskplan.solve.rules import eligible_inspectors, inspector_weekly_capacity, required_qualifications_held
from riskplan.solve.shortfall import diagnose
from riskplan.solve.state import State
from riskplan.solve.teams import _load_weights

#: Why an earlier visit could not be kept (codes; the pipeline words them).
INVALID_REASONS = ("before_from", "window", "inspector_gone", "rules", "capacity")


@dataclass
class ReplanSolve:
    """The re-planned roster and what changed (visit ids)."""

    roster: Roster
    kept: set[str] = field(default_factory=set)
    invalid: dict[str, str] = field(default_factory=dict)  # earlier visit -> INVALID_REASONS code
    lower_bound: int = 0
    wall_time: float = 0.0


def _team(inst: Instance, names: tuple[str, ...]) -> tuple[int, ...] | None:
    index = {x: k for k, x in enumerate(inst.insp_ids)}
    if any(n not in index for n in names):
        return None
    return tuple(sorted(index[n] for n in names))


def _fits(inst: Instance, state: State, r: int, d: int, team: tuple[int, ...], capacity: bool,
          visit: int | None = None) -> bool:
    """May request r take day d with exactly this team (the rule functions, nothing else)?
    `visit`: r is placed there already and is asked about itself."""
    if len(set(team)) != inst.team_size:
        return False
    mask = eligible_inspectors(inst, state, r, d, capacity=capacity, visit=visit)
    if mask is None or not all(mask[i] for i in team):
        return False
    return bool(required_qualifications_held(inst, int(inst.req_ent[r]), team))


def replan_roster(problem: RosterProblem, seed: int, *, first_day: date,
                  frozen: dict[str, tuple[date, tuple[str, ...]]],
                  previous: dict[str, tuple[date, tuple[str, ...]]],
                  capacity: list[CapacityChange] = (), time_limit: float = 60.0) -> ReplanSolve:
    """The roster for the rest of the quarter from `first_day` on (see the module docstring).

    frozen: visit id -> (date, inspector ids) of visits no pass may change (they are returned as
    given). previous: the other earlier visits, kept where still valid. Every request of
    `problem` that is neither is new. Requests are not placed before `first_day`."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    inst = compile_problem(problem)
    apply_capacity_changes(inst, list(capacity))
    first = int(np.searchsorted(np.array([d.toordinal() for d in inst.days]), first_day.toordinal()))
    by_id = {r.visit_id: k for k, r in enumerate(inst.requests)}
    frozen_r = {by_id[v] for v in frozen}
    for r in range(len(inst.requests)):
        if r not in frozen_r:
            inst.req_lo[r] = max(int(inst.req_lo[r]), first)
    state = State(inst)
    for vid, (day, names) in sorted(frozen.items(), key=lambda x: (x[1][0], x[0])):
        d = inst.problem.calendar.index.get(day)
        team = tuple(sorted(k for k, x in enumerate(inst.insp_ids) if x in names))
        if d is not None:
            state.place(by_id[vid], d, team)
            state.frozen.add(by_id[vid])
    rng = np.random.default_rng([int(seed), 0x4E9A])

    # earlier visits, each on its own amid the frozen part and the other earlier visits, capacity
    # aside: the lower bound's first term
    out = ReplanSolve(Roster(problem.quarter))
    alone: dict[int, tuple[int, tuple[int, ...]]] = {}
    for vid, (day, names) in previous.items():
        r, d, team = by_id[vid], inst.problem.calendar.index.get(day), _team(inst, names)
        if d is None or d < first:
            out.invalid[vid] = "before_from"
        elif not int(inst.req_lo[r]) <= d <= int(inst.req_hi[r]):
            out.invalid[vid] = "window"
        elif team is None:
            out.invalid[vid] = "inspector_gone"
        else:
            alone[r] = (d, team)
    for r, (d, team) in alone.items():
        state.place(r, d, team)
    for r, (d, team) in list(alone.items()):
        if not _fits(inst, state, r, d, team, capacity=False, visit=r):
            out.invalid[inst.requests[r].visit_id] = "rules"
    for r in alone:
        state.remove(r)
    alone = {r: p for r, p in alone.items() if inst.requests[r].visit_id not in out.invalid}
    excess = 0
    load: dict[tuple[int, int], list[int]] = {}
    for d, team in alone.values():
        for i in team:
            load.setdefault((i, int(inst.week_of_day[d])), []).append(d)
    for (i, _w), ds in load.items():  # rule 3: how many of these the week still takes
        fits = [m for m in range(len(ds), 0, -1) if inspector_weekly_capacity(inst, state, ds[0], m)[i]]
        excess += len(ds) - (fits[0] if fits else 0)
    forced = len(out.invalid) + math.ceil(excess / inst.team_size)

    # keep what still fits, mandatory first, then drawn, each in date order
    for r in sorted(alone, key=lambda r: (not inst.req_mandatory[r], alone[r][0], r)):
        d, team = alone[r]
        if _fits(inst, state, r, d, team, capacity=True):
            state.place(r, d, team)
            out.kept.add(inst.requests[r].visit_id)
        else:
            out.invalid[inst.requests[r].visit_id] = "capacity"
    kept_r = {by_id[v] for v in out.kept}

    rest = [r for r in range(len(inst.requests)) if r not in frozen_r and r not in kept_r]
    todo = [r for r in rest if inst.req_lo[r] <= inst.req_hi[r]]
    past = [r for r in rest if inst.req_lo[r] > inst.req_hi[r]]  # no working day left from first_day
    target = load_targets(inst, inst.team_size * (len(state.placed) + len(todo)))
    weights = _load_weights(inst, state, target, np.ones(inst.I))
    state.frozen |= kept_r  # first: only the invalidated and the new move
    left = repair(inst, state, rng, todo, weights, deadline)
    state.frozen -= kept_r
    mandatory_left = [r for r in left if inst.req_mandatory[r]]
    if mandatory_left:  # then kept visits may give way to mandatory work
        again = repair(inst, state, rng, mandatory_left, weights, deadline)
        unplaced_drawn = [r for r in range(len(inst.requests)) if not inst.req_mandatory[r]
                          and r not in state.placed]
        left = sorted(set(again) | set(unplaced_drawn))
    left = [r for r in left if r not in state.placed] + past

    visits = []
    for r, (d, team) in state.placed.items():
        vid = inst.requests[r].visit_id
        if vid in frozen:
            visits.append(PlacedVisit(inst.requests[r], frozen[vid][0], tuple(frozen[vid][1])))
        else:
            visits.append(PlacedVisit(inst.requests[r], inst.days[d], tuple(sorted(inst.insp_ids[i] for i in team))))
    for vid in frozen:  # a frozen visit off the working calendar is still returned as given
        r = by_id[vid]
        if r not in state.placed:
            visits.append(PlacedVisit(inst.requests[r], frozen[vid][0], tuple(frozen[vid][1])))
    visits.sort(key=lambda v: (v.date, v.request.visit_id))
    out.kept = {v for v in out.kept if by_id[v] in state.placed and state.placed[by_id[v]] == alone[by_id[v]]}
    unplaced = [Unplaced(inst.requests[r], diagnose(inst, state, r)[1])
                for r in sorted(left, key=lambda r: (not inst.req_mandatory[r], r))]
    new_placed = sum(1 for r in state.placed if inst.requests[r].visit_id not in previous
                     and inst.requests[r].visit_id not in frozen)
    out.roster = Roster(problem.quarter, visits, unplaced)
    out.lower_bound = forced + new_placed
    out.wall_time = time.perf_counter() - t0
    return out
