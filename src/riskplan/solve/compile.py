"""Compile a RosterProblem into the arrays the rule functions read (`Instance`).

Cost grows with requests + inspectors x days, never with their product."""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from riskplan.domain.calendar import iso_week, leave_days, weekly_limit
from riskplan.domain.roster import RosterProblem, required_qualifications
from riskplan.domain.schema import split_list
from riskplan.i18n import _
from riskplan.solve.instance import _EPOCH_ORDINAL, Instance, _empty_home
from riskplan.solve.rules import cross_area, team_of_certified_inspectors


def compile_problem(problem: RosterProblem) -> Instance:
    """Arrays for the rule functions; cost grows with requests + inspectors x days, not their product."""
    rules = problem.policy.roster
    cal = problem.calendar
    days = cal.days
    D = len(days)
    weeks = cal.weeks
    week_index = {w: k for k, w in enumerate(weeks)}
    week_of_day = np.array([week_index[iso_week(d)] for d in days], dtype=np.int64)
    week_days = [[] for _week in weeks]
    for k, w in enumerate(week_of_day):
        week_days[w].append(k)
    day_ord = np.array([d.toordinal() for d in days], dtype=np.int64)

    insp = problem.inspectors.reset_index(drop=True)
    insp_ids = [str(x) for x in insp["inspector_id"]]
    I = len(insp_ids)
    insp_index = {x: k for k, x in enumerate(insp_ids)}
    certified = insp["certified"].astype(int).to_numpy() == 1 if I else np.zeros(0, bool)
    qual: dict[str, np.ndarray] = {}
    for k, cell in enumerate(insp["qualifications"] if I else []):
        for q in split_list("" if cell is None or (isinstance(cell, float) and math.isnan(cell)) else cell):
            qual.setdefault(q, np.zeros(I, bool))[k] = True

    ent = problem.enterprises
    subs = sorted(set(ent["subdistrict"].astype(str).unique().tolist()) | {
        str(h) for h in (insp["home_subdistrict"] if I else []) if not _empty_home(h)})
    sub_index = {s: k for k, s in enumerate(subs)}
    home = np.array([-1 if _empty_home(h) else sub_index[str(h)] for h in (insp["home_subdistrict"] if I else [])],
                    dtype=np.int64)

    on_leave = np.zeros((I, D), bool)
    day_index = cal.index
    for iid, lds in leave_days(problem.leave, cal).items():
        if iid in insp_index:
            for d in lds:
                on_leave[insp_index[iid], day_index[d]] = True
    # calendar.weekly_limits, evaluated once per distinct (capacity, available days) pair
    avail_days = np.zeros((I, len(weeks)), dtype=np.int64)
    for w, ds in enumerate(week_days):
        avail_days[:, w] = (~on_leave[:, ds]).sum(axis=1)
    caps = insp["weekly_capacity"].astype(np.int64).to_numpy() if I else np.zeros(0, np.int64)
    memo: dict[tuple[int, int], int] = {}
    wlim = np.zeros((I, len(weeks)), dtype=np.int64)
    for i in range(I):
        for w in range(len(weeks)):
            key = (int(caps[i]), int(avail_days[i, w]))
            if key not in memo:
                memo[key] = weekly_limit(key[0], rules.capacity_reserve, key[1])
            wlim[i, w] = memo[key]

    # enterprises with requests, in order of first request
    req_eids = [r.enterprise_id for r in problem.requests]
    ent_ids = list(dict.fromkeys(req_eids))
    ent_index = {e: k for k, e in enumerate(ent_ids)}
    erows = ent.drop_duplicates("enterprise_id").set_index("enterprise_id").reindex(ent_ids)
    if erows["subdistrict"].isna().any():
        missing = [e for e, s in zip(ent_ids, erows["subdistrict"]) if pd.isna(s)]
        raise ValueError(_("requests name enterprises not in the enterprise table: {enterprises}").format(
            enterprises=", ".join(map(str, missing[:5]))))
    ent_sub = np.array([sub_index[str(s)] for s in erows["subdistrict"]], dtype=np.int64)
    ent_tier = [str(t) for t in erows["tier"]]
    policy = problem.policy
    ent_need = []
    for rec in erows[["hazchem", "major_hazard_level", "dust_explosion", "molten_metal"]].to_dict("records"):
        ent_need.append(tuple(sorted(required_qualifications(rec, policy))))
    ent_max = np.array([policy.tier(t).max_visits_per_quarter for t in ent_tier], dtype=np.int64)
    for need in ent_need:  # a qualification nobody holds is still a known (empty) one
        for q in need:
            qual.setdefault(q, np.zeros(I, bool))

    conflict_lists: list[list[int]] = [[] for _e in ent_ids]
    conf = problem.conflicts
    if conf is not None and len(conf):
        for iid, eid in conf[["inspector_id", "enterprise_id"]].itertuples(index=False):
            k = ent_index.get(eid)
            if k is not None and iid in insp_index:
                conflict_lists[k].append(insp_index[iid])
    ent_conflict = [np.array(sorted(set(c)), dtype=np.int64) for c in conflict_lists]

    ent_prev_team: list[tuple[int, ...]] = [() for _e in ent_ids]
    ent_last_past = np.full(len(ent_ids), -10**9, dtype=np.int64)
    past = problem.past_inspections
    if past is not None and len(past):
        dates = pd.to_datetime(past["date"]).to_numpy().astype("datetime64[D]").astype(np.int64) + _EPOCH_ORDINAL
        keep = past["enterprise_id"].isin(set(ent_ids)).to_numpy() & (dates < problem.quarter.start.toordinal())
        if keep.any():
            eids = past["enterprise_id"].to_numpy()[keep]
            ords = dates[keep]
            cells = past["inspectors"].to_numpy()[keep]
            order = np.lexsort((ords, eids))  # by enterprise, then date
            eids, ords, cells = eids[order], ords[order], cells[order]
            last_of: dict[str, int] = {}
            for eid, o in zip(eids, ords):
                last_of[eid] = int(o)  # sorted: the last one seen is the latest
            teams: dict[str, set[str]] = defaultdict(set)
            for eid, o, cell in zip(eids, ords, cells):
                if o == last_of[eid]:
                    teams[eid].update(split_list(cell))
            for eid, o in last_of.items():
                k = ent_index[eid]
                ent_last_past[k] = o
                ent_prev_team[k] = tuple(sorted(insp_index[i] for i in teams[eid] if i in insp_index))

    R = len(problem.requests)
    req_ent = np.array([ent_index[e] for e in req_eids], dtype=np.int64)
    req_lo = np.zeros(R, dtype=np.int64)
    req_hi = np.zeros(R, dtype=np.int64)
    for k, r in enumerate(problem.requests):
        req_lo[k] = bisect.bisect_left(days, r.window_start)
        req_hi[k] = bisect.bisect_right(days, r.window_end) - 1
    req_mandatory = np.array([r.mandatory for r in problem.requests], dtype=bool)

    inst = Instance(
        problem=problem, team_size=rules.team_size, day_limit=rules.max_visits_per_inspector_day,
        min_gap=rules.min_days_between_visits, rotate=rules.rotate_inspectors, cross=rules.cross_area,
        days=days, day_ord=day_ord, week_of_day=week_of_day, weeks=weeks, week_days=week_days,
        insp_ids=insp_ids, certified=certified, qual=qual, home=home, on_leave=on_leave, wlim=wlim,
        subs=subs, ent_ids=ent_ids, ent_sub=ent_sub, ent_tier=ent_tier, ent_need=ent_need, ent_max=ent_max,
        ent_conflict=ent_conflict, ent_prev_team=ent_prev_team, ent_last_past=ent_last_past,
        requests=tuple(problem.requests), req_ent=req_ent, req_lo=req_lo, req_hi=req_hi,
        req_mandatory=req_mandatory,
    )
    sub_mask = np.zeros((len(subs), I), bool)
    for s in range(len(subs)):
        sub_mask[s] = team_of_certified_inspectors(inst) & cross_area(inst, s)
    inst.sub_mask = sub_mask
    return inst


@dataclass(frozen=True)
class CapacityChange:
    """An inspector's weekly capacity from `start` to `end` (inclusive): it applies to every ISO
    week of the quarter with a working day in that range."""

    inspector_id: str
    start: date
    end: date
    capacity: int


def apply_capacity_changes(inst: Instance, changes: list[CapacityChange]) -> None:
    """Weekly limits of the changed inspector-weeks, recomputed from the new capacity with the
    same formula the plan uses (`domain.calendar.weekly_limit`); later rows win."""
    index = {x: k for k, x in enumerate(inst.insp_ids)}
    reserve = inst.problem.policy.roster.capacity_reserve
    for ch in changes:
        i = index.get(ch.inspector_id)
        if i is None:
            continue
        for w, ds in enumerate(inst.week_days):
            if any(ch.start <= inst.days[d] <= ch.end for d in ds):
                avail = int((~inst.on_leave[i, ds]).sum())
                inst.wlim[i, w] = weekly_limit(int(ch.capacity), reserve, avail)
