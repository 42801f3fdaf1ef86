"""Phase 2 of the solve, one ISO week at a time: each planned request gets a day of the week,
then each (subdistrict, day) cluster gets its teams from a small shared pool of inspectors,
so several visits share one trip."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from riskplan.solve.instance import Instance
from riskplan.solve.rules import (
    eligible_inspectors,
    free_slots,
    holders_of,
    inspector_not_on_leave,
    on_working_day_in_window,
    required_qualifications_held,
    team_of_certified_inspectors,
    visit_spacing,
    visits_left,
)
from riskplan.solve.state import State
from riskplan.solve.teams import try_place


def place_week(inst: Instance, state: State, rng: np.random.Generator, w: int, reqs: list[int],
               weights: np.ndarray) -> list[int]:
    """Phase 2 for one week: days, then teams per (subdistrict, day) cluster; returns the failures."""
    wd = inst.week_days[w]
    t = inst.team_size
    # capacity per day in visits: what certified inspectors off leave can still take that day
    usable = team_of_certified_inspectors(inst)
    day_cap = {d: max(1e-9, float((visits_left(inst, state, d) * (usable & inspector_not_on_leave(inst, d))).sum())
                      / t) for d in wd}
    day_load = {d: 0 for d in wd}
    sub_day: dict[tuple[int, int], int] = defaultdict(int)
    feasible: dict[int, list[int]] = {}
    for r in reqs:
        e = int(inst.req_ent[r])
        window = on_working_day_in_window(inst, r)
        feasible[r] = [d for d in wd if d in window and visit_spacing(inst, state, e, d)]
    rnd = rng.random(len(reqs))
    order = [r for _, _, _, r in sorted(zip([not inst.req_mandatory[r] for r in reqs],
                                            [len(feasible[r]) for r in reqs], rnd, reqs))]
    day_of: dict[int, int] = {}
    failed: list[int] = []
    for r in order:
        if not feasible[r]:
            failed.append(r)
            continue
        s = int(inst.ent_sub[inst.req_ent[r]])
        best, best_score = None, None
        for d in feasible[r]:
            n = sub_day[(s, d)]
            score = (day_load[d] + 1) / day_cap[d] - (0.6 if n % 2 == 1 else 0.0) - (0.05 if n else 0.0) \
                + 0.01 * rng.random()
            if best_score is None or score < best_score:
                best, best_score = d, score
        day_of[r] = best
        day_load[best] += 1
        sub_day[(s, best)] += 1

    scarcity = qualification_scarcity(inst, state, [r for r in order if r in day_of], wd)
    # teams, day by day, cluster by cluster; visits needing a qualification first (pass 0)
    clusters: dict[tuple[int, int], list[int]] = defaultdict(list)
    for r in order:
        if r in day_of:
            clusters[(day_of[r], int(inst.ent_sub[inst.req_ent[r]]))].append(r)
    for key in sorted(clusters):
        failed += assign_cluster(inst, state, rng, clusters[key], key[0], weights, scarcity)
    # failures: another day of this week
    still = []
    for r in failed:
        days = [d for d in wd if d in on_working_day_in_window(inst, r)]
        rng.shuffle(days)
        if not any(try_place(inst, state, rng, r, d, weights, None, scarcity) for d in days):
            still.append(r)
    return still


def assign_cluster(inst: Instance, state: State, rng: np.random.Generator, members: list[int], d: int,
                   weights: np.ndarray, scarcity: dict[str, float]) -> list[int]:
    """Teams for the visits of one (subdistrict, day): a small shared pool of inspectors.

    The pool gets ceil(visits needing q / daily limit) holders of each needed qualification q and
    is filled up to ceil(team_size x visits / daily limit) inspectors, all drawn at random among
    the eligible (load- and scarcity-weighted keys). Each visit then takes the eligible pool
    members with the most uses left (random tie-break), which shares stops cyclically (three
    visits: ab, ca, bc). A visit the pool cannot serve draws extra inspectors. Returns failures.
    """
    t, k = inst.team_size, inst.day_limit
    masks: dict[int, np.ndarray] = {}
    failed = []
    for r in members:
        m = eligible_inspectors(inst, state, r, d)
        if m is None or m.sum() < t:
            failed.append(r)
        else:
            masks[r] = m
    todo = [r for r in members if r in masks]
    if not todo:
        return failed
    uses = visits_left(inst, state, d)
    any_ok = np.zeros(inst.I, bool)
    for r in todo:
        any_ok |= masks[r]
    noise = np.log(rng.random(inst.I) + 1e-300)
    pool: list[int] = []
    in_pool = np.zeros(inst.I, bool)

    held = {q: holders_of(inst, q) for q in sorted(set(scarcity) | {q for r in todo for q in inst.ent_need[inst.req_ent[r]]})}

    def draw(cands: np.ndarray, n: int, penal: tuple[str, ...]) -> None:
        wts = weights.copy()
        for q, f in scarcity.items():
            if q not in penal:
                wts = wts * np.where(held[q], f, 1.0)
        idx = np.flatnonzero(cands & ~in_pool & (uses > 0))
        if not len(idx):
            return
        best = idx[np.argsort(-(noise[idx] / wts[idx]), kind="stable")][:n]
        for i in best:
            pool.append(int(i))
            in_pool[i] = True

    needs: dict[str, int] = defaultdict(int)
    for r in todo:
        for q in inst.ent_need[inst.req_ent[r]]:
            needs[q] += 1
    for q in sorted(needs):
        have = int((in_pool & held[q]).sum())
        want = math.ceil(needs[q] / k) - have
        if want > 0:
            elig = np.zeros(inst.I, bool)
            for r in todo:
                if q in inst.ent_need[inst.req_ent[r]]:
                    elig |= masks[r]
            draw(elig & held[q], want, (q,))
    # fill the pool until it has team_size members and enough uses for every visit's team
    full = any_ok & (uses >= k)
    while len(pool) < t or int(uses[in_pool].sum()) < t * len(todo):
        before = len(pool)
        short = t * len(todo) - int(uses[in_pool].sum())
        draw(full if (full & ~in_pool).any() else any_ok, max(1, math.ceil(short / k), t - len(pool)), ())
        if len(pool) == before:
            break
    left = uses.copy()
    order = sorted(todo, key=lambda r: (-len(inst.ent_need[inst.req_ent[r]]), int(masks[r][in_pool].sum()),
                                        not inst.req_mandatory[r]))
    for pos, r in enumerate(order):
        is_last = pos == len(order) - 1
        e = int(inst.req_ent[r])
        m = eligible_inspectors(inst, state, r, d)  # fresh: earlier visits of the cluster are placed
        if m is None:
            failed.append(r)
            continue
        m &= left > 0
        team: list[int] = []
        for attempt in range(2):
            team = []
            cand = m & in_pool
            for q in inst.ent_need[e]:
                if any(held[q][i] for i in team):
                    continue
                c = np.flatnonzero(cand & held[q])
                c = [i for i in c if i not in team]
                if not c:
                    break
                team.append(int(max(c, key=lambda i: (left[i] < uses[i], left[i], rng.random()))))
            rest = [int(i) for i in np.flatnonzero(cand) if i not in team]
            # complete the days of members already out here, then those with the most uses left
            rest.sort(key=lambda i: (not left[i] < uses[i], -left[i], rng.random()))
            # cyclic sharing: before the cluster's last visit, keep one seat for a fresh member
            # (three visits: ab, ac, bc = 3 stops rather than ab, ab, cd = 4)
            cap_partial = t if is_last else t - 1
            n_partial = sum(1 for i in team if left[i] < uses[i])
            for i in rest:
                if len(team) >= t:
                    break
                if left[i] < uses[i]:
                    if n_partial >= cap_partial:
                        continue
                    n_partial += 1
                if scarcity and any(held[q][i] and scarcity.get(q, 1.0) < 0.5 for q in scarcity
                                    if q not in inst.ent_need[e]) and len(rest) > t:
                    continue  # keep scarce holders for those who need them when others are there
                team.append(i)
            for i in rest:
                if len(team) >= t:
                    break
                if i not in team:
                    team.append(i)
            if len(team) == t and required_qualifications_held(inst, e, tuple(team)):
                break
            if attempt == 0:  # grow the pool for this visit
                missing_q = tuple(q for q in inst.ent_need[e] if not any(held[q][i] for i in team))
                need_n = t - len(team) if not missing_q else max(1, t - len(team))
                draw(m & (held[missing_q[0]] if missing_q else True), need_n, missing_q[:1])
                if missing_q and len(team) + 1 < t:
                    draw(m, t - len(team) - 1, ())
        if len(team) == t and required_qualifications_held(inst, e, tuple(team)):
            state.place(r, d, tuple(sorted(team)))
            for i in team:
                left[i] -= 1
        else:
            failed.append(r)
    return failed


def qualification_scarcity(inst: Instance, state: State, reqs: list[int], days: list[int]) -> dict[str, float]:
    """Qualification -> sampling factor (0.02..1) for its holders on visits that do not need it.

    Pressure = visits needing it / free slots of its holders on `days`; factor = (1 - pressure)^2.
    """
    demand: dict[str, int] = defaultdict(int)
    for r in reqs:
        for q in inst.ent_need[inst.req_ent[r]]:
            demand[q] += 1
    out = {}
    if not days:
        return out
    free = free_slots(inst, state, days)
    for q, n in sorted(demand.items()):
        holders = holders_of(inst, q)
        cap = float(free[holders].sum())
        pressure = min(1.0, n / cap) if cap > 0 else 1.0
        out[q] = float(np.clip((1.0 - pressure) ** 2, 0.02, 1.0))
    return out
