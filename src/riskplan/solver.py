"""The roster solver: turn the quarter's visit requests into dated visits with random teams.

Why a decomposition: a textbook CP-SAT model with one boolean per (visit, inspector, day)
(`riskplan.textbook`) grows with visits x inspectors x days and stalls from district size M
up. Here no model ever sees that product. The solve runs in three phases:

1. **Aggregate week plan (CP-SAT).** Requests are grouped into classes of identical
   (mandatory?, rule, tier, subdistrict, required qualifications, window). One integer
   variable per (class, ISO week the window touches) counts the class's visits placed that
   week. Constraints are aggregate capacities per week: inspector-visit slots of all
   certified inspectors (each inspector's ISO-week limit, `weekly_limit`, and the daily
   limit times their non-leave days), per sub-range of a week that a window boundary cuts,
   per qualification (a visit needing a qualification takes at least one slot of a holder)
   and, with `cross_area`, per subdistrict from the inspectors based elsewhere. It is
   solved lexicographically in stages (`plan_weeks`): A maximises placements, every
   mandatory visit weighing more than all drawn ones together (stopping as soon as all
   fit; when A is proven optimal its unplaced mandatory count is a lower bound on any
   roster's, reported as `mandatory_shortfall_bound`); B keeps those totals and minimises
   the inspector stops the weeks' capacity structure forces (stops >= inspector-visits /
   daily limit; inspector-visits beyond what full days absorb cost a stop each) plus load
   above the quarter's utilisation + 5 %; C adds a penalty per subdistrict-week with a
   single visit (a lone visit cannot share a team-day), hinted with B.
   Size: classes x weeks, independent of the number of enterprises and inspectors. A
   subdistrict's lone visit of a week is then moved, within its window and the week
   capacities, to a week where that subdistrict has others (`merge_lone_visits`).
2. **Concrete days and teams, week by week (seeded randomized matching).** Each class's
   weekly quota is filled with concrete requests (enterprises with several visits first,
   spread so `visit_spacing` can hold); each request gets a day of the week (balancing
   daily load, preferring days where its subdistrict already has a visit so teams can
   share a day), then each (subdistrict, day) cluster gets teams: members are drawn at
   random among the eligible with seeded Efraimidis-Spirakis keys weighted towards
   inspectors behind their load target, re-using inspectors already in that subdistrict
   that day first (cyclic sharing: m visits need only ceil(team_size x m / daily limit)
   inspector stops).
   Weekly limits are rounded down to whole team-days during this phase (odd leftovers
   cost a stop each), and scarce qualifications are kept for the visits that need them
   (`qualification_scarcity`). Two inspectors making a one-visit trip to one
   subdistrict-day are then merged (`pair_singles_pass`, see phase 3).
3. **Repair and polish.** Requests left over try every feasible day of their window
   (`feasible_days` evaluates the rules on the whole window at once), the days where
   eligible inspectors are already out in their subdistrict first (`_new_stops`: fewest
   new stops); a mandatory one that
   still does not fit may re-plan its enterprise's visits chronologically (rotation and
   spacing chain them: `_replan_enterprise`), swap a blocked inspector out of another
   visit (`_swap_free`) or displace a drawn visit. Then, all bounded by counts: whole inspector-days move from
   inspectors above their load target to ones below (`balance_pass`, travel unchanged),
   visits that cost a trip of their own move to days their subdistrict already has a team
   out (`relocate_pass`), single members are swapped when travel + balance drops
   (`improve_pass`) and two inspectors who each make a one-visit trip to the same
   subdistrict-day are merged into one full day, the other taking a visit of theirs
   elsewhere in the week so weekly loads stay as they are (`pair_singles_pass`; mostly
   the odd weekly limits and the visits repair added). Whatever is still unplaced goes to `Roster.unplaced` with a
   diagnosed reason (see `riskplan.shortfall`).

Every hard rule is a function below named after the domain rule (the checker uses the same
names), and every placement goes through `eligible_inspectors` + `random_assignment`, so a
roster is valid by construction. The greedy baseline (`riskplan.greedy`) uses the same rule
functions. If phase 1 finds nothing, time runs out or the user interrupts, the greedy
roster is returned with status GREEDY_FALLBACK.

Determinism: one CP-SAT worker, `random_seed` from the seed and a deterministic time
limit (`max_deterministic_time`); numpy's seeded generator for every random choice; no
iteration over sets of strings; every repair and polish loop is bounded by counts, never
by the clock. Same inputs + seed + options give the same roster. The wall-clock limits
are safety nets only: CP-SAT's is set above the deterministic one, and a solve that runs
past `time_limit` is abandoned for the (equally seeded) greedy roster.

Soft objective (reported in `SolveResult.objective`): travel = inspector stops, the number
of distinct (inspector, day, subdistrict) triples; balance = sum over inspectors of
|load - target|, target proportional to their available capacity. Lower bound
(`SolveResult.bound`): travel >= the larger of (a) the sum over subdistricts of
max(team_size, ceil(team_size x visits / daily limit)) (each stop serves at most `daily
limit` of the subdistrict's inspector-visits), (b) the fewest stops the inspector-weeks
can serve the inspector-visits with (an inspector-week of limit L has floor(L / k) stops of
k visits and one of L mod k) and (c) CP-SAT's proven bound on the aggregate week model
with the placed visits fixed and only the stops minimised (windows and weekly capacity
respected; `build_week_model(bound_only=True)`), a relaxation of every roster; balance >=
the deviation of the best integer rounding of the targets (largest remainder); both for
the placed visits. Measured (benchmarks/bench_roster.py, seed 1): objective / bound - 1 =
3.1 % at M, 4.0 % at L, 1.9 % at XL (before `pair_singles_pass` and `_new_stops`: 6.3 %,
7.3 %, 3.1 %); seeds 2 and 3: 3.9 % and 3.7 % at M, 2.4 % and 3.3 % at L.
"""

from __future__ import annotations

import bisect
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

import numpy as np
import pandas as pd

from .calendar import iso_week, leave_days, weekly_limit
from .roster import PlacedVisit, Roster, RosterProblem, SolveResult, Unplaced, VisitRequest, required_qualifications
from .schema import split_list

Progress = Callable[[str], None]
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

#: Shortfall rule of an obligation kind (first match wins, most binding first).
RULE_OF_KIND = (
    ("red_month", "red_monthly"),
    ("orange_due", "orange_due"),
    ("follow_up", "follow_up"),
    ("pinned", "pinned"),
)


def rule_of(request: VisitRequest) -> str:
    """The shortfall rule a request serves: red_monthly, orange_due, follow_up, pinned or drawn."""
    if not request.mandatory:
        return "drawn"
    for prefix, rule in RULE_OF_KIND:
        if any(k.startswith(prefix) for k in request.obligations):
            return rule
    return request.basis


# --------------------------------------------------------------------------------------
# The compiled instance: arrays indexed by inspector, working day, ISO week, enterprise.
# --------------------------------------------------------------------------------------


@dataclass
class Instance:
    """A RosterProblem as arrays (only enterprises with requests are compiled)."""

    problem: RosterProblem
    team_size: int
    day_limit: int
    min_gap: int
    rotate: bool
    cross: bool
    days: tuple[date, ...]
    day_ord: np.ndarray  # D: date ordinal of each working day
    week_of_day: np.ndarray  # D
    weeks: tuple[tuple[int, int], ...]
    week_days: list[list[int]]  # W -> day indices
    insp_ids: list[str]
    certified: np.ndarray  # I bool
    qual: dict[str, np.ndarray]  # qualification -> I bool
    home: np.ndarray  # I int, -1 = district brigade
    on_leave: np.ndarray  # I x D bool
    wlim: np.ndarray  # I x W int
    subs: list[str]
    ent_ids: list[str]
    ent_sub: np.ndarray  # E
    ent_tier: list[str]
    ent_need: list[tuple[str, ...]]
    ent_max: np.ndarray  # E
    ent_conflict: list[np.ndarray]
    ent_prev_team: list[tuple[int, ...]]
    ent_last_past: np.ndarray  # E, date ordinal of the last past visit (very small if none)
    requests: tuple[VisitRequest, ...]
    req_ent: np.ndarray  # R
    req_lo: np.ndarray  # R first working-day index in the window
    req_hi: np.ndarray  # R last working-day index (hi < lo: no working day)
    req_mandatory: np.ndarray  # R bool
    sub_mask: np.ndarray = field(default=None)  # S x I: certified and allowed by cross_area

    @property
    def I(self) -> int:  # noqa: E743
        return len(self.insp_ids)

    @property
    def D(self) -> int:
        return len(self.days)

    @property
    def W(self) -> int:
        return len(self.weeks)

    def capacity(self) -> np.ndarray:
        """I: each certified inspector's usable visits in the quarter (week and day limits)."""
        per_week = np.zeros_like(self.wlim)
        avail = ~self.on_leave
        for w, ds in enumerate(self.week_days):
            per_week[:, w] = np.minimum(self.wlim[:, w], self.day_limit * avail[:, ds].sum(axis=1))
        return per_week.sum(axis=1) * self.certified


def _empty_home(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def compile_problem(problem: RosterProblem) -> Instance:
    """Arrays for the rule functions; cost grows with requests + inspectors x days, not their product."""
    rules = problem.policy.roster
    cal = problem.calendar
    days = cal.days
    D = len(days)
    weeks = cal.weeks
    week_index = {w: k for k, w in enumerate(weeks)}
    week_of_day = np.array([week_index[iso_week(d)] for d in days], dtype=np.int64)
    week_days = [[] for _ in weeks]
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
        raise ValueError(f"requests name enterprises not in the enterprise table: {missing[:5]}")
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

    conflict_lists: list[list[int]] = [[] for _ in ent_ids]
    conf = problem.conflicts
    if conf is not None and len(conf):
        for iid, eid in conf[["inspector_id", "enterprise_id"]].itertuples(index=False):
            k = ent_index.get(eid)
            if k is not None and iid in insp_index:
                conflict_lists[k].append(insp_index[iid])
    ent_conflict = [np.array(sorted(set(c)), dtype=np.int64) for c in conflict_lists]

    ent_prev_team: list[tuple[int, ...]] = [() for _ in ent_ids]
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


# --------------------------------------------------------------------------------------
# Mutable state of a partial roster.
# --------------------------------------------------------------------------------------


class State:
    """Loads and placed visits; every change goes through `place` / `remove`."""

    def __init__(self, inst: Instance):
        self.inst = inst
        self.day_load = np.zeros((inst.I, inst.D), dtype=np.int64)
        self.week_load = np.zeros((inst.I, inst.W), dtype=np.int64)
        self.placed: dict[int, tuple[int, tuple[int, ...]]] = {}
        self.ent_visits: list[list[tuple[int, tuple[int, ...], int]]] = [[] for _ in inst.ent_ids]
        self.stops: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)  # (day, sub) -> inspector -> visits
        #: the weekly limits placements respect: the true ones, or lower ones while planning
        self.wcap = inst.wlim
        self.by_insp_week: dict[tuple[int, int], set[int]] = defaultdict(set)
        self.by_week: dict[int, set[int]] = defaultdict(set)
        self._refresh_free()

    def _refresh_free(self) -> None:
        """free[i, d]: inspector i can take one more visit on day d (rule 3, kept incrementally)."""
        inst = self.inst
        wk = inst.week_of_day
        self.free = (self.day_load < inst.day_limit) & (self.week_load[:, wk] < self.wcap[:, wk])

    def _update_free(self, team: tuple[int, ...], w: int) -> None:
        inst = self.inst
        ds = inst.week_days[w]
        for i in team:
            self.free[i, ds] = (self.day_load[i, ds] < inst.day_limit) & (self.week_load[i, w] < self.wcap[i, w])

    def even_weeks(self, on: bool) -> None:
        """While on, weekly limits are rounded down to whole days (multiples of the daily limit),
        so inspector-weeks fill with full team-days; repair turns it off to use the rest."""
        k = self.inst.day_limit
        self.wcap = (self.inst.wlim // k) * k if on else self.inst.wlim
        self._refresh_free()

    def place(self, r: int, d: int, team: tuple[int, ...]) -> None:
        inst = self.inst
        w = int(inst.week_of_day[d])
        self.placed[r] = (d, team)
        e = int(inst.req_ent[r])
        bisect.insort(self.ent_visits[e], (d, team, r))
        st = self.stops[(d, int(inst.ent_sub[e]))]
        for i in team:
            self.day_load[i, d] += 1
            self.week_load[i, w] += 1
            st[i] = st.get(i, 0) + 1
            self.by_insp_week[(i, w)].add(r)
            # keep `free` current: a full week closes every day of it, a full day closes that day
            if self.week_load[i, w] >= self.wcap[i, w]:
                self.free[i, inst.week_days[w]] = False
            elif self.day_load[i, d] >= inst.day_limit:
                self.free[i, d] = False
        self.by_week[w].add(r)

    def remove(self, r: int) -> tuple[int, tuple[int, ...]]:
        inst = self.inst
        d, team = self.placed.pop(r)
        w = inst.week_of_day[d]
        idx = list(team)
        self.day_load[idx, d] -= 1
        self.week_load[idx, w] -= 1
        e = inst.req_ent[r]
        self.ent_visits[e].remove((d, team, r))
        st = self.stops[(d, int(inst.ent_sub[e]))]
        for i in team:
            st[i] -= 1
            if st[i] == 0:
                del st[i]
            self.by_insp_week[(i, int(w))].discard(r)
        self.by_week[int(w)].discard(r)
        self._update_free(team, int(w))
        return d, team

    def loads(self) -> np.ndarray:
        return self.week_load.sum(axis=1)


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


def random_assignment(
    inst: Instance,
    rng: np.random.Generator,
    mask: np.ndarray,
    need: tuple[str, ...],
    weights: np.ndarray | None = None,
    preferred: np.ndarray | None = None,
    max_preferred: int | None = None,
    scarcity: dict[str, float] | None = None,
) -> tuple[int, ...] | None:
    """Rule 11: a random team among the eligible (`mask`) that holds every needed qualification.

    Weighted sampling without replacement (Efraimidis-Spirakis keys u^(1/w) from the seeded
    generator): every eligible inspector can be chosen, inspectors behind their load target a
    little more often, holders of scarce qualifications the visit does not need (`scarcity`:
    qualification -> weight factor) less often. `preferred` inspectors (already in the
    subdistrict that day) are taken first, at most `max_preferred` of them, to share the trip.
    Among qualified holders the first one needed is taken, then the rest of the team.
    """
    t = inst.team_size
    cand = np.flatnonzero(mask)
    if len(cand) < t:
        return None
    for q in need:  # cheap refusal before any random draw
        holders = inst.qual.get(q)
        if holders is None or not holders[cand].any():
            return None
    u = rng.random(len(cand))
    if weights is None and not scarcity and (preferred is None or not len(preferred)):
        # uniform among the eligible: the largest of i.i.d. uniform keys, holders first where needed
        keys = u.copy()
        team: list[int] = []
        for q in need:
            if any(inst.qual[q][i] for i in team):
                continue
            if len(team) >= t:
                return None
            j = int(np.argmax(np.where(inst.qual[q][cand], keys, -1.0)))
            if keys[j] < 0 or not inst.qual[q][cand[j]]:
                return None
            team.append(int(cand[j]))
            keys[j] = -1.0
        while len(team) < t:
            j = int(np.argmax(keys))
            if keys[j] < 0:
                return None
            team.append(int(cand[j]))
            keys[j] = -1.0
        return tuple(sorted(team))
    w = weights[cand] if weights is not None else np.ones(len(cand))
    w_fill = w
    if scarcity:
        # holders of a scarce qualification this visit does not need are kept for visits that do;
        # once a needed qualification is covered, further holders of it are not needed either
        for q, factor in scarcity.items():
            pen = np.where(inst.qual[q][cand], factor, 1.0)
            w_fill = w_fill * pen
            if q not in need:
                w = w * pen
    logu = np.log(u + 1e-300)
    key_need = logu / w  # Efraimidis-Spirakis: the largest keys are a weighted sample
    key_fill = key_need if w_fill is w else logu / w_fill
    pref = np.zeros(len(cand), bool)
    budget = 0
    if preferred is not None and len(preferred):
        full = np.zeros(inst.I, bool)
        full[preferred] = True
        pref = full[cand]
        budget = t if max_preferred is None else max_preferred
    taken = np.zeros(len(cand), bool)
    team: list[int] = []

    def pick(filt: np.ndarray | None) -> bool:
        nonlocal budget
        keys = key_need if filt is not None else key_fill
        ok = ~taken if filt is None else (~taken & filt[cand])
        if not ok.any():
            return False
        for c in ((ok & pref) if budget > 0 else None, ok & ~pref, ok):
            if c is not None and c.any():
                j = int(np.argmax(np.where(c, keys, -np.inf)))
                taken[j] = True
                team.append(int(cand[j]))
                if pref[j] and budget > 0:
                    budget -= 1
                return True
        return False

    for q in need:
        holders = inst.qual.get(q)
        if holders is None:
            return None
        if any(holders[i] for i in team):
            continue
        if len(team) >= t or not pick(holders):
            return None
    while len(team) < t:
        if not pick(None):
            return None
    return tuple(sorted(team))


def try_place(
    inst: Instance,
    state: State,
    rng: np.random.Generator,
    r: int,
    d: int,
    weights: np.ndarray | None = None,
    max_preferred: int | None = None,
    scarcity: dict[str, float] | None = None,
) -> bool:
    """Place request r on day d with a random eligible team, sharing the subdistrict's day if possible."""
    if state.free[:, d].sum() < inst.team_size:  # the day is full: skip the rule checks
        return False
    mask = eligible_inspectors(inst, state, r, d)
    if mask is None:
        return False
    e = int(inst.req_ent[r])
    st = state.stops.get((d, int(inst.ent_sub[e])))
    preferred = np.array(sorted(st), dtype=np.int64) if st else None
    team = random_assignment(inst, rng, mask, inst.ent_need[e], weights, preferred, max_preferred, scarcity)
    if team is None:
        return False
    state.place(r, d, team)
    return True


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
    m = inst.certified if mask is None else (inst.certified & mask)
    avail = ~inst.on_leave[:, days]
    per_day = (inst.day_limit if day_free is None else day_free[:, days]) * avail
    wk = inst.wlim[:, w] if week_free is None else week_free[:, w]
    return int(np.minimum(wk, per_day.sum(axis=1))[m].sum())


def build_week_model(inst: Instance, classes: list[RequestClass], *, week_free=None, day_free=None,
                     elastic: bool = False, soft_terms: bool = True, singles_penalty: bool = False,
                     bound_only: bool = False, fixed_totals: dict[int, int] | None = None):
    """The aggregate CP-SAT model: x[c, w] visits of class c placed in week w.

    fixed_totals: class -> visits to place (stage B of `plan_weeks`).
    bound_only=True: every class member must be placed; minimise the stops the weeks' capacity
    structure forces (a relaxation: its best bound is a lower bound on any roster's travel).
    elastic=True: every mandatory visit must be placed and non-negative slack variables per
    (week, resource) buy extra capacity (used by the shortfall report). singles_penalty adds
    one boolean per (subdistrict, week) to avoid lone visits; it makes the model ~10x slower
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
                pairs = int((np.minimum(inst.wlim[:, w], inst.day_limit * (~inst.on_leave[:, wd]).sum(axis=1))
                             // inst.day_limit)[inst.certified].sum())
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
            cap = slot_capacity(inst, full, inst.qual.get(q, np.zeros(inst.I, bool)), week_free, day_free)
            expr = sum(x[ci, w] for ci in qcis)
            if elastic:
                slack[q, w] = m.NewIntVar(0, 10**6, f"e_{q}_{w}")
                m.Add(expr <= cap + slack[q, w])
            else:
                m.Add(expr <= cap)
        if inst.cross:
            for s in sorted({classes[ci].sub for ci in cis}):
                scis = [ci for ci in cis if classes[ci].sub == s]
                cap = slot_capacity(inst, full, inst.home != s, week_free, day_free)
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
    n_drawn = sum(len(c.members) for c in classes if not c.mandatory)
    w_drawn = 3 * t + 2  # more than the most one visit can add to the soft terms
    w_mand = w_drawn * (n_drawn + 1) + 1
    placed = sum((w_mand if classes[ci].mandatory else w_drawn) * v for (ci, w), v in x.items())
    m.Maximize(placed - sum(singles) - sum(penalties))
    return m, x, None


def _solver_params(seed: int, det_time: float, wall: float):
    from ortools.sat.python import cp_model

    s = cp_model.CpSolver()
    s.parameters.num_workers = 1
    s.parameters.random_seed = int(seed) % (2**31 - 1)
    s.parameters.max_deterministic_time = float(det_time)
    s.parameters.max_time_in_seconds = float(wall)
    return s


class _Reporter:
    def __init__(self, progress: Progress | None, t0: float):
        self.progress, self.t0 = progress, t0

    def __call__(self, msg: str) -> None:
        if self.progress is not None:
            self.progress(f"[{time.perf_counter() - self.t0:6.2f}s] {msg}")


def plan_weeks(inst: Instance, classes: list[RequestClass], seed: int, det_time: float, wall: float,
               report: _Reporter, num_workers: int = 1) -> tuple[dict[tuple[int, int], int], str, float]:
    """Phase 1: solve the aggregate model lexicographically; (class, week) -> count, status, objective.

    Stage A maximises the weighted placements (mandatory first) and stops as soon as every
    request is placed (CP-SAT's bound closes slowly on this model; the trivial bound is
    known). Stages B and C keep each class's placed total and minimise the soft terms
    (C also lone visits per subdistrict-week), each hinted with the previous plan. status is stage A's: OPTIMAL means its placements are proven
    maximal (or everything fits).
    """
    from ortools.sat.python import cp_model

    model, x, _ = build_week_model(inst, classes, soft_terms=False)
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
            report(f"phase 1 week plan ({self.stage}): objective {self.ObjectiveValue():.0f} "
                   f"(bound {self.BestObjectiveBound():.0f})")
            if self.stop_at is not None and self.ObjectiveValue() >= self.stop_at - 0.5:
                self.full = True
                self.StopSearch()

    cb = Stage("placements", ceiling)
    status = solver.Solve(model, cb)
    name = "OPTIMAL" if cb.full else solver.StatusName(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {}, name, float("nan")
    quota = {k: int(solver.Value(v)) for k, v in x.items()}
    objective = float(solver.ObjectiveValue())
    totals: dict[int, int] = defaultdict(int)
    for (ci, _w), v in quota.items():
        totals[ci] += v

    # stage B: travel and load terms with the totals fixed; stage C adds the lone-visit
    # penalty (one boolean per subdistrict-week), hinted with B and without presolve, which
    # is what keeps those booleans affordable
    stages = (("travel and load", False, min(4.0, max(0.1, det_time / 2)), True),
              ("lone visits", True, min(3.0, max(0.1, det_time / 4)), False))
    for label, singles, det, presolve in stages:
        if singles and inst.day_limit < 2:
            continue
        model_b, x_b, _ = build_week_model(inst, classes, fixed_totals=dict(totals), singles_penalty=singles)
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


# --------------------------------------------------------------------------------------
# Phase 2: concrete days and teams, week by week.
# --------------------------------------------------------------------------------------


def _load_weights(inst: Instance, state: State, target: np.ndarray, cum_share: np.ndarray) -> np.ndarray:
    """Sampling weight per inspector: > 1 when behind their pro-rated load target, < 1 when ahead."""
    behind = target * cum_share - state.loads()
    return np.clip(np.exp(behind / 2.0), 0.2, 5.0)


def merge_lone_visits(inst: Instance, classes: list[RequestClass], quota: dict[tuple[int, int], int]) -> int:
    """Move a subdistrict's only visit of a week to a week where that subdistrict has visits.

    A lone visit in a subdistrict-week cannot share a team-day, so it costs team_size stops
    instead of about one. Moves stay inside the class window and within each week's slot and
    qualification capacity (at most 95 % of it); returns the number of moves.
    """
    t = inst.team_size
    cap = [slot_capacity(inst, ds) for ds in inst.week_days]
    qcap = {q: [slot_capacity(inst, ds, inst.qual[q]) for ds in inst.week_days]
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
    ents = [e for _, _, e in sorted(zip([-len(per_ent[e]) for e in ents], rnd, ents))]
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


def place_week(inst: Instance, state: State, rng: np.random.Generator, w: int, reqs: list[int],
               weights: np.ndarray) -> list[int]:
    """Phase 2 for one week: days, then teams per (subdistrict, day) cluster; returns the failures."""
    wd = inst.week_days[w]
    t = inst.team_size
    # capacity per day in visits, from inspectors with room this week
    room = np.maximum(state.wcap[:, w] - state.week_load[:, w], 0) * inst.certified
    day_cap = {d: max(1e-9, float(np.minimum(room, (inst.day_limit - state.day_load[:, d])
                                             * ~inst.on_leave[:, d]).sum()) / t) for d in wd}
    day_load = {d: 0 for d in wd}
    sub_day: dict[tuple[int, int], int] = defaultdict(int)
    feasible: dict[int, list[int]] = {}
    for r in reqs:
        e = int(inst.req_ent[r])
        feasible[r] = [d for d in wd if inst.req_lo[r] <= d <= inst.req_hi[r] and visit_spacing(inst, state, e, d)]
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
        days = [d for d in wd if inst.req_lo[r] <= d <= inst.req_hi[r]]
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
    w = int(inst.week_of_day[d])
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
    uses = np.minimum(k - state.day_load[:, d], state.wcap[:, w] - state.week_load[:, w])
    uses = np.maximum(uses, 0)
    any_ok = np.zeros(inst.I, bool)
    for r in todo:
        any_ok |= masks[r]
    noise = np.log(rng.random(inst.I) + 1e-300)
    pool: list[int] = []
    in_pool = np.zeros(inst.I, bool)

    def draw(cands: np.ndarray, n: int, penal: tuple[str, ...]) -> None:
        wts = weights.copy()
        for q, f in scarcity.items():
            if q not in penal:
                wts = wts * np.where(inst.qual[q], f, 1.0)
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
        have = int((in_pool & inst.qual[q]).sum())
        want = math.ceil(needs[q] / k) - have
        if want > 0:
            elig = np.zeros(inst.I, bool)
            for r in todo:
                if q in inst.ent_need[inst.req_ent[r]]:
                    elig |= masks[r]
            draw(elig & inst.qual[q], want, (q,))
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
                if any(inst.qual[q][i] for i in team):
                    continue
                c = np.flatnonzero(cand & inst.qual[q])
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
                if scarcity and any(inst.qual[q][i] and scarcity.get(q, 1.0) < 0.5 for q in scarcity
                                    if q not in inst.ent_need[e]) and len(rest) > t:
                    continue  # keep scarce holders for those who need them when others are there
                team.append(i)
            for i in rest:
                if len(team) >= t:
                    break
                if i not in team:
                    team.append(i)
            covered = all(any(inst.qual[q][i] for i in team) for q in inst.ent_need[e])
            if len(team) == t and covered:
                break
            if attempt == 0:  # grow the pool for this visit
                missing_q = tuple(q for q in inst.ent_need[e] if not any(inst.qual[q][i] for i in team))
                need_n = t - len(team) if not missing_q else max(1, t - len(team))
                draw(m & (inst.qual[missing_q[0]] if missing_q else True), need_n, missing_q[:1])
                if missing_q and len(team) + 1 < t:
                    draw(m, t - len(team) - 1, ())
        if len(team) == t and all(any(inst.qual[q][i] for i in team) for q in inst.ent_need[e]):
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
    free_day = np.maximum(inst.day_limit - state.day_load[:, days], 0) * ~inst.on_leave[:, days]
    weeks = sorted({int(inst.week_of_day[d]) for d in days})
    free_week = np.maximum(state.wcap[:, weeks] - state.week_load[:, weeks], 0).sum(axis=1)
    free = np.minimum(free_day.sum(axis=1), free_week) * inst.certified
    for q, n in sorted(demand.items()):
        holders = inst.qual.get(q)
        if holders is None:
            continue
        cap = float(free[holders].sum())
        pressure = min(1.0, n / cap) if cap > 0 else 1.0
        out[q] = float(np.clip((1.0 - pressure) ** 2, 0.02, 1.0))
    return out


def _check_deadline(deadline: float, where: str) -> None:
    """Work is bounded by counts, never cut short by the clock (that would make the roster
    depend on machine speed): past the deadline the solve is abandoned for the greedy roster."""
    if time.perf_counter() > deadline:
        raise TimeoutError(f"time limit reached in {where}")


# --------------------------------------------------------------------------------------
# Phase 3: repair and polish.
# --------------------------------------------------------------------------------------


def repair(inst: Instance, state: State, rng: np.random.Generator, todo: list[int], weights: np.ndarray,
           deadline: float, hopeless: set[int] | frozenset = frozenset(), max_expensive: int = 400) -> list[int]:
    """Try every feasible day of each leftover's window; a mandatory one may re-plan its
    enterprise's other visits with it (`_replan_enterprise`), swap a blocked inspector out
    of another visit or displace a drawn visit (at most `max_expensive` re-plans and as
    many swap/displace attempts, and none for `hopeless` requests: those the optimal aggregate plan could not
    fit, where neither move can help)."""
    todo = sorted(set(todo), key=lambda r: (not inst.req_mandatory[r], r))
    left: list[int] = []
    displaced: list[int] = []
    expensive = replans = 0
    for r in todo:
        _check_deadline(deadline, "repair")
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
    old = [(v, d, team) for d, team, v in list(state.ent_visits[e])]
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
        if not visit_spacing(inst, state, e, d) or not tier_visit_maximum(inst, state, e):
            continue
        static = inst.sub_mask[inst.ent_sub[e]] & inspector_not_on_leave(inst, d)
        static &= no_conflict_of_interest(inst, e) & rotate_inspectors(inst, state, e, d)
        day_ok = inspector_daily_limit(inst, state, d)
        week_ok = inspector_weekly_capacity(inst, state, d)
        blocked = static & ~(day_ok & week_ok)
        if not blocked.any():
            continue
        need = inst.ent_need[e]
        prio = np.zeros(inst.I)
        for q in need:
            prio += inst.qual[q]
        hs = np.flatnonzero(blocked)
        hs = hs[np.argsort(-prio[hs] + rng.random(len(hs)) * 0.5, kind="stable")]
        w = int(inst.week_of_day[d])
        for h in hs[:16]:
            h = int(h)
            # visits of h whose removal frees what blocks h on d
            cands = [v for v in state.by_insp_week.get((h, w), ()) if day_ok[h] or state.placed[v][0] == d]
            for v in sorted(cands):
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
                    still_need = tuple(q for q in inst.ent_need[ev] if not any(inst.qual[q][m] for m in rest))
                    cand = np.flatnonzero(mask)
                    for q in still_need:
                        cand = cand[inst.qual[q][cand]]
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
                       and len(state.ent_visits[inst.req_ent[v]]) == 1)
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
            _check_deadline(deadline, "balance pass")
            i = int(i)
            for d in sorted(days_of[i]):
                rs = visits_of.get((i, d), [])
                if not rs:
                    continue
                n = len(rs)
                if loads[i] - target[i] < n / 2:
                    continue
                cand = (loads + n - target) < (target - loads)  # j strictly better off after the move
                cand &= inst.certified & ~inst.on_leave[:, d] & (state.day_load[:, d] == 0)
                cand &= inspector_weekly_capacity(inst, state, d, n)
                for r in rs:
                    e = int(inst.req_ent[r])
                    cand &= inst.sub_mask[inst.ent_sub[e]] & no_conflict_of_interest(inst, e)
                    d0, team = state.placed[r]
                    cand[list(team)] = False
                    # rotation: neighbours' teams of this visit
                    if inst.rotate:
                        exclude_neighbour_teams(inst, state, e, (d0, team, r), cand)
                    if not cand.any():
                        break
                    for q in inst.ent_need[e]:
                        holders = inst.qual.get(q)
                        if not any(holders[m] for m in team if m != i):
                            cand &= holders
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
            _check_deadline(deadline, "member swaps")
            d, team = state.placed[r]
            e = int(inst.req_ent[r])
            s_ = int(inst.ent_sub[e])
            w = int(inst.week_of_day[d])
            # a replacement gains at most 1 (balance) on its side: skip visits where no member's
            # leaving gains anything (under target and not a lone stop)
            stops_here = state.stops.get((d, s_), {})
            if all(abs(loads[i] - 1 - target[i]) - abs(loads[i] - target[i]) - (stops_here.get(i, 0) == 1)
                   >= 1 - 1e-9 for i in team):
                continue
            base = inst.sub_mask[s_] & ~inst.on_leave[:, d] & no_conflict_of_interest(inst, e)
            base &= (state.day_load[:, d] < inst.day_limit) & (state.week_load[:, w] < inst.wlim[:, w])
            base[list(team)] = False
            if inst.rotate:
                vis = exclude_neighbour_teams(inst, state, e, (d, team, r), base)
                for v in vis:
                    if v[0] == d:
                        base[list(v[1])] = False
            if not base.any():
                continue
            has_stop = np.zeros(inst.I, bool)
            if stops_here:
                has_stop[list(stops_here)] = True
            gain_j = np.abs(loads + 1 - target) - np.abs(loads - target) + (~has_stop)
            best = None
            for i in team:
                rest = tuple(m for m in team if m != i)
                cand = base.copy()
                for q in inst.ent_need[e]:
                    if not any(inst.qual[q][m] for m in rest):
                        cand &= inst.qual[q]
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
    k = inst.day_limit
    moves = 0

    def has(i: int, d: int, s: int) -> bool:
        return i in state.stops.get((d, s), ())

    def sub_of(r: int) -> int:
        return int(inst.ent_sub[inst.req_ent[r]])

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
            _check_deadline(deadline, "pairing single stops")
            w = int(inst.week_of_day[d])
            st = state.stops.get((d, s), {})
            singles = [i for i in sorted(st) if st[i] == 1]  # i gives v1 away: any day load
            takers = [j for j in singles if state.day_load[j, d] < k]  # j takes it: room that day
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
                    if j in inst.ent_conflict[e1] or not inst.sub_mask[s, j]:
                        continue
                    # i on v3 instead of j: gain 1 + (i already out there) - (j stays out there)
                    options = []
                    for v3 in sorted(state.by_insp_week[(j, w)]):
                        d3, team3 = state.placed[v3]
                        s3 = sub_of(v3)
                        if d3 == d or i in team3 or state.day_load[i, d3] >= k or inst.on_leave[i, d3]:
                            continue
                        e3 = int(inst.req_ent[v3])
                        if i in inst.ent_conflict[e3] or not inst.sub_mask[s3, i]:
                            continue
                        here3 = state.stops[(d3, s3)]
                        gain = 1 + (i in here3) - (here3[j] > 1)
                        if gain > 0:
                            options.append((-gain, v3))
                    options.sort()
                    if plain and state.week_load[j, w] < state.wcap[j, w]:
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
        _check_deadline(deadline, "relocation")
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
    L = np.zeros_like(inst.wlim)
    for w, ds in enumerate(inst.week_days):
        L[:, w] = np.minimum(inst.wlim[:, w], k * (~inst.on_leave[:, ds]).sum(axis=1))
    L = L[inst.certified]
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


def build_roster(inst: Instance, state: State, reasons: dict[int, str]) -> Roster:
    """PlacedVisits sorted by date then visit id; unplaced ones with their reasons, mandatory first.

    A last cheap self-check on every visit (team size, distinct members, qualifications):
    placements are valid by construction, so a failure here is a bug, never a roster.
    """
    visits = []
    for r, (d, team) in state.placed.items():
        e = int(inst.req_ent[r])
        if len(set(team)) != inst.team_size or not required_qualifications_held(inst, e, team):
            raise RuntimeError(f"internal error: visit {inst.requests[r].visit_id} got an invalid team {team}")
        visits.append(PlacedVisit(inst.requests[r], inst.days[d], tuple(sorted(inst.insp_ids[i] for i in team))))
    visits.sort(key=lambda v: (v.date, v.request.visit_id))
    unplaced = [Unplaced(inst.requests[r], reasons[r]) for r in sorted(reasons, key=lambda r: (
        not inst.req_mandatory[r], r))]
    return Roster(inst.problem.quarter, visits, unplaced)


def state_from_roster(inst: Instance, roster: Roster) -> State:
    """Re-load a roster's placed visits into a State (for diagnosis of any roster)."""
    state = State(inst)
    by_id = {r.visit_id: k for k, r in enumerate(inst.requests)}
    ins = {x: k for k, x in enumerate(inst.insp_ids)}
    for v in roster.visits:
        r = by_id.get(v.request.visit_id)
        if r is None or v.date not in inst.problem.calendar.index:
            continue
        state.place(r, inst.problem.calendar.index[v.date], tuple(ins[i] for i in v.inspectors if i in ins))
    return state


def _empty_shortfall() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in
                         ("rule", "tier", "subdistrict", "month", "missing", "reason", "suggestion")})


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
    """
    from .greedy import greedy_roster
    from .shortfall import explain_shortfall

    t0 = time.perf_counter()
    report = _Reporter(progress, t0)
    deadline = t0 + time_limit
    compiled = None
    try:
        report("compiling the problem")
        inst = compiled = compile_problem(problem)
        report(f"{len(inst.requests)} requests ({int(inst.req_mandatory.sum())} mandatory), "
               f"{inst.I} inspectors, {inst.D} working days")
        rng = np.random.default_rng([int(seed), 0x5017E])
        classes = request_classes(inst)
        det = deterministic_time if deterministic_time is not None else min(10.0, 0.5 + 0.002 * len(classes) * inst.W)
        wall = max(1.0, min(time_limit * 0.6, time_limit - (time.perf_counter() - t0) - 1.0))
        report(f"phase 1 week plan: {len(classes)} request classes x {inst.W} weeks")
        quota, status, p1_obj = plan_weeks(inst, classes, seed, det, max(wall, 2 * det), report, num_workers)
        if not quota and status not in ("OPTIMAL", "FEASIBLE"):
            raise TimeoutError(f"phase 1 found no week plan ({status})")
        merged = merge_lone_visits(inst, classes, quota)
        report(f"phase 1 week plan: {status}, {sum(quota.values())} visits planned, {merged} lone visits merged")
        week_req = assign_weeks(inst, classes, quota, rng)
        state = State(inst)
        planned = len(week_req)
        target = load_targets(inst, inst.team_size * planned)
        cap_weeks = np.zeros_like(inst.wlim, dtype=float)
        for w, ds in enumerate(inst.week_days):
            cap_weeks[:, w] = np.minimum(inst.wlim[:, w], inst.day_limit * (~inst.on_leave[:, ds]).sum(axis=1))
        cap_weeks *= inst.certified[:, None]
        cum = np.cumsum(cap_weeks, axis=1) / np.maximum(cap_weeks.sum(axis=1, keepdims=True), 1e-9)
        reqs_by_week: dict[int, list[int]] = defaultdict(list)
        for r, w in sorted(week_req.items()):
            reqs_by_week[w].append(r)
        failed: list[int] = []
        state.even_weeks(True)
        for w in range(inst.W):
            _check_deadline(deadline, "phase 2")
            weights = _load_weights(inst, state, target, cum[:, w])
            failed += place_week(inst, state, rng, w, reqs_by_week.get(w, []), weights)
        paired = pair_singles_pass(inst, state, deadline, plain=True)
        report(f"phase 2 days and teams: {len(state.placed)} placed, {paired} one-visit trips paired, "
               f"{len(failed)} to repair")
        state.even_weeks(False)
        not_planned = [r for r in range(len(inst.requests)) if r not in week_req]
        weights = _load_weights(inst, state, target, np.ones(inst.I))
        hopeless = set(not_planned) if status == "OPTIMAL" else set()
        left = repair(inst, state, rng, failed + not_planned, weights, deadline, hopeless)
        n_mand_left = int(sum(inst.req_mandatory[r] for r in left))
        report(f"phase 3 repair: {len(state.placed)} placed, {n_mand_left} mandatory and "
               f"{len(left) - n_mand_left} drawn unplaced")
        paired += pair_singles_pass(inst, state, deadline, plain=True)
        target = load_targets(inst, inst.team_size * len(state.placed))
        moves = balance_pass(inst, state, target, deadline)
        if left:  # the balance pass may have freed what a leftover needs
            left = repair(inst, state, rng, left, weights, deadline, hopeless)
            target = load_targets(inst, inst.team_size * len(state.placed))
            moves += balance_pass(inst, state, target, deadline)
        moved = swaps = 0
        for _ in range(3):  # alternate until neither finds anything
            m1 = relocate_pass(inst, state, rng, deadline)
            m2 = improve_pass(inst, state, rng, deadline)
            m2 += pair_singles_pass(inst, state, deadline)
            moved, swaps = moved + m1, swaps + m2
            if not (m1 or m2):
                break
        obj = soft_objective(inst, state.placed)
        bound = objective_bound(inst, state.placed)
        report(f"phase 3 polish: {moves} day swaps, {moved} visits moved to shared days, {swaps} member swaps; objective {obj['total']:.0f} "
               f"(travel {obj['travel']:.0f}, balance {obj['balance']:.1f}), bound {bound['total']:.1f}")
        from .shortfall import diagnose

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
        report(f"falling back to the greedy roster: {type(exc).__name__} {exc}")
        g0 = time.perf_counter()
        inst = compiled if compiled is not None else compile_problem(problem)
        roster = greedy_roster(problem, seed, _instance=inst)
        st = state_from_roster(inst, roster)
        obj = soft_objective(inst, st.placed)
        bound = objective_bound(inst, st.placed)
        report(f"greedy roster in {time.perf_counter() - g0:.2f}s")
        objective = dict(obj)
        objective.update({f"bound_{k}": v for k, v in bound.items()})
        return SolveResult(roster, "GREEDY_FALLBACK", objective, bound["total"], time.perf_counter() - t0,
                           explain_shortfall(problem, roster, _instance=inst))
