"""Phase 3 polish passes: each moves visits or team members only when travel + balance drops,
and every new placement is checked by the rule functions of `solve.rules`."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from riskplan.i18n import N_
from riskplan.solve.instance import Instance
from riskplan.solve.objective import load_targets
from riskplan.solve.progress import _check_deadline
from riskplan.solve.rules import (
    cross_area,
    eligible_inspectors,
    inspector_daily_limit,
    inspector_not_on_leave,
    inspector_weekly_capacity,
    no_conflict_of_interest,
    on_working_day_in_window,
    required_qualifications_held,
    team_of_certified_inspectors,
)
from riskplan.solve.state import State
from riskplan.solve.teams import random_assignment


def balance_pass(inst: Instance, state: State, target: np.ndarray, deadline: float) -> int:
    """Hand whole inspector-days from inspectors above target to eligible ones below; returns moves."""
    moves = 0
    visits_of: dict[tuple[int, int], list[int]] = defaultdict(list)  # (inspector, day) -> requests
    days_of: dict[int, set[int]] = defaultdict(set)
    for r, (d, team) in sorted(state.placed.items()):
        for i in team:
            visits_of[(i, d)].append(r)
            days_of[i].add(d)
    for _ in range(4):
        improved = False
        loads = state.loads()
        over = [i for i in np.argsort(-(loads - target), kind="stable") if loads[i] - target[i] > 0.5]
        for i in over:
            _check_deadline(deadline, N_("balance pass"))
            i = int(i)
            for d in sorted(days_of[i]):
                rs = visits_of.get((i, d), [])
                if not rs:
                    continue
                n = len(rs)
                if loads[i] - target[i] < n / 2:
                    continue
                cand = (loads + n - target) < (target - loads)  # j strictly better off after the move
                # j takes i's whole day: j has none of its own (travel unchanged) and room for n
                cand &= inspector_daily_limit(inst, state, d, inst.day_limit)
                cand &= inspector_weekly_capacity(inst, state, d, n)
                for r in rs:
                    e = int(inst.req_ent[r])
                    elig = eligible_inspectors(inst, state, r, d, capacity=False, visit=r)
                    if elig is None:
                        cand[:] = False
                        break
                    cand &= elig
                    _, team = state.placed[r]
                    cand[list(team)] = False
                    if not cand.any():
                        break
                    cand = required_qualifications_held(inst, e, tuple(m for m in team if m != i), cand)
                if not cand.any():
                    continue
                j = int(np.flatnonzero(cand)[np.argmax((target - loads)[cand])])
                for r in rs:
                    d0, team = state.remove(r)
                    state.place(r, d0, tuple(sorted(j if m == i else m for m in team)))
                visits_of[(j, d)] = visits_of.pop((i, d))
                days_of[i].discard(d)
                days_of[j].add(d)
                loads[i] -= n
                loads[j] += n
                moves += 1
                improved = True
        if not improved:
            break
    return moves


def improve_pass(inst: Instance, state: State, rng: np.random.Generator, deadline: float, rounds: int = 4) -> int:
    """Local search on travel + balance: replace one member of one visit when that lowers the sum.

    Moving inspector i's place on visit v to j changes travel by (j has no stop in v's
    subdistrict that day) - (v was i's only visit there that day) and balance by the change
    of |load - target| of both. Only moves that keep every rule are tried (same masks as
    placement); ties between equally good replacements are broken at random.
    """
    loads = state.loads().astype(float)
    target = load_targets(inst, int(loads.sum()))
    moves = 0
    for _ in range(rounds):
        improved = 0
        for r in sorted(state.placed):
            _check_deadline(deadline, N_("member swaps"))
            d, team = state.placed[r]
            e = int(inst.req_ent[r])
            s_ = int(inst.ent_sub[e])
            # a replacement gains at most 1 (balance) on its side: skip visits where no member's
            # leaving gains anything (under target and not a lone stop)
            stops_here = state.stops.get((d, s_), {})
            if all(abs(loads[i] - 1 - target[i]) - abs(loads[i] - target[i]) - (stops_here.get(i, 0) == 1)
                   >= 1 - 1e-9 for i in team):
                continue
            base = eligible_inspectors(inst, state, r, d, visit=r)
            if base is None:
                continue
            base[list(team)] = False
            if not base.any():
                continue
            has_stop = np.zeros(inst.I, bool)
            if stops_here:
                has_stop[list(stops_here)] = True
            gain_j = np.abs(loads + 1 - target) - np.abs(loads - target) + (~has_stop)
            best = None
            for i in team:
                rest = tuple(m for m in team if m != i)
                cand = required_qualifications_held(inst, e, rest, base)
                idx = np.flatnonzero(cand)
                if not len(idx):
                    continue
                gain_i = abs(loads[i] - 1 - target[i]) - abs(loads[i] - target[i]) - (stops_here.get(i, 0) == 1)
                delta = gain_j[idx] + gain_i
                k = int(np.argmin(delta + rng.random(len(idx)) * 1e-6))
                if delta[k] < -1e-9 and (best is None or delta[k] < best[0]):
                    best = (delta[k], i, int(idx[k]))
            if best is None:
                continue
            _, i, j = best
            state.remove(r)
            state.place(r, d, tuple(sorted(j if m == i else m for m in team)))
            loads[i] -= 1
            loads[j] += 1
            improved += 1
        moves += improved
        if not improved:
            break
    return moves


def pair_singles_pass(inst: Instance, state: State, deadline: float, rounds: int = 3, plain: bool = False) -> int:
    """Merge two one-visit stops of one subdistrict-day into a full day of one inspector.

    Inspectors i and j each make a trip to subdistrict s on day d for a single visit (v1 and
    v2), j with room left that day. j takes i's place on v1 (j's day there fills up, i's trip
    there goes); when that would break j's weekly limit, i takes j's place on one of j's
    other visits of the week (v3), so both weekly loads and the balance are unchanged. Both placements go through
    `eligible_inspectors` and the qualification rule with the other visit lifted; the move is
    kept only when the stops of i and j on the days involved go down. plain=True (after
    phase 2 and after repair, before the balance pass evens loads out again) first tries j simply taking i's
    place when j has room in the week: one stop less, loads shift by one visit. Returns the
    moves made.
    """
    moves = 0

    def has(i: int, d: int, s: int) -> bool:
        return i in state.stops.get((d, s), ())

    def sub_of(r: int) -> int:
        return int(inst.ent_sub[inst.req_ent[r]])

    def allowed(e: int, s: int) -> np.ndarray:
        """Rules 2, 4 and 7, whatever the day: a cheap filter before the exact `put`."""
        return team_of_certified_inspectors(inst) & cross_area(inst, s) & no_conflict_of_interest(inst, e)

    def put(r: int, d: int, team: tuple[int, ...]) -> bool:
        mask = eligible_inspectors(inst, state, r, d)
        if mask is None or not all(mask[m] for m in team) or len(set(team)) != inst.team_size \
                or not required_qualifications_held(inst, int(inst.req_ent[r]), team):
            return False
        state.place(r, d, team)
        return True

    for _ in range(rounds):
        found = 0
        for (d, s) in sorted(state.stops):
            _check_deadline(deadline, N_("pairing single stops"))
            w = int(inst.week_of_day[d])
            st = state.stops.get((d, s), {})
            singles = [i for i in sorted(st) if st[i] == 1]  # i gives v1 away: any day load
            room_d = inspector_daily_limit(inst, state, d)
            takers = [j for j in singles if room_d[j]]  # j takes it: room that day
            if len(singles) < 2 or not takers:
                continue
            done = False
            for i in singles:
                if done:
                    break
                v1 = next((r for r in sorted(state.by_insp_week[(i, w)])
                           if state.placed[r][0] == d and sub_of(r) == s), None)
                if v1 is None:
                    continue
                for j in takers:
                    if j == i or j in state.placed[v1][1] or done:
                        continue
                    _, team1 = state.placed[v1]
                    new1 = tuple(sorted(j if m == i else m for m in team1))
                    # v3: none (j has room this week) or one of j's other visits of the week
                    e1 = int(inst.req_ent[v1])
                    if not allowed(e1, s)[j]:
                        continue
                    # i on v3 instead of j: gain 1 + (i already out there) - (j stays out there)
                    options = []
                    for v3 in sorted(state.by_insp_week[(j, w)]):
                        d3, team3 = state.placed[v3]
                        s3 = sub_of(v3)
                        if d3 == d or i in team3 or not inspector_daily_limit(inst, state, d3)[i] \
                                or not inspector_not_on_leave(inst, d3)[i]:
                            continue
                        if not allowed(int(inst.req_ent[v3]), s3)[i]:
                            continue
                        here3 = state.stops[(d3, s3)]
                        gain = 1 + (i in here3) - (here3[j] > 1)
                        if gain > 0:
                            options.append((-gain, v3))
                    options.sort()
                    if plain and inspector_weekly_capacity(inst, state, d)[j]:
                        state.remove(v1)
                        if put(v1, d, new1):  # j has room: a plain replacement, one stop less
                            moves += 1
                            found += 1
                            done = True
                            break
                        state.place(v1, d, team1)
                    for _, v3 in options:
                        d3, team3 = state.placed[v3]
                        s3 = sub_of(v3)
                        keys = [(i, d, s), (j, d, s), (i, d3, s3), (j, d3, s3)]
                        before = sum(has(*key) for key in keys)
                        new3 = tuple(sorted(i if m == j else m for m in team3))
                        state.remove(v1)
                        state.remove(v3)
                        ok1 = put(v1, d, new1)
                        ok3 = ok1 and put(v3, d3, new3)
                        if ok3 and sum(has(*key) for key in keys) < before:
                            moves += 1
                            found += 1
                            done = True
                            break
                        if ok3:
                            state.remove(v3)
                        if ok1:
                            state.remove(v1)
                        state.place(v1, d, team1)
                        state.place(v3, d3, team3)
        if not found:
            break
    return moves


def relocate_pass(inst: Instance, state: State, rng: np.random.Generator, deadline: float,
                  max_days: int = 10) -> int:
    """Move a visit whose team made a trip for it alone to a day its subdistrict already has a team out.

    For visit v on (d, s), cost = members for whom v is their only visit in s that day (the
    stops v alone causes). On another day d' of its window with visits in s, a team drawn
    first from inspectors already there (free capacity, every rule checked with v lifted)
    costs team_size minus those. The move is kept when travel + balance goes down.
    """
    t = inst.team_size
    loads = state.loads().astype(float)
    target = load_targets(inst, int(loads.sum()))
    moves = 0
    for r in sorted(state.placed):
        _check_deadline(deadline, N_("relocation"))
        d, team = state.placed[r]
        e = int(inst.req_ent[r])
        s_ = int(inst.ent_sub[e])
        here = state.stops.get((d, s_), {})
        cost = sum(1 for i in team if here.get(i, 0) == 1)
        if cost == 0:
            continue
        days = [d2 for d2 in on_working_day_in_window(inst, r) if d2 != d and state.stops.get((d2, s_))]
        if not days:
            continue
        days.sort(key=lambda d2: (abs(d2 - d), d2))
        state.remove(r)
        best = None
        for d2 in days[:max_days]:
            mask = eligible_inspectors(inst, state, r, d2)
            if mask is None:
                continue
            there = np.zeros(inst.I, bool)
            there[list(state.stops[(d2, s_)])] = True
            pool = mask & there
            if not pool.any():
                continue
            team2 = random_assignment(inst, rng, mask, inst.ent_need[e], None, np.flatnonzero(pool), t)
            if team2 is None:
                continue
            new_cost = sum(1 for i in team2 if not there[i])
            dl = loads.copy()
            dl[list(team)] -= 1
            dl[list(team2)] += 1
            dbal = float(np.abs(dl - target).sum() - np.abs(loads - target).sum())
            delta = new_cost - cost + dbal
            if delta < -1e-9 and (best is None or delta < best[0]):
                best = (delta, d2, team2, dl)
        if best is None:
            state.place(r, d, team)
            continue
        _, d2, team2, dl = best
        state.place(r, d2, team2)
        loads = dl
        moves += 1
    return moves
