"""Substitutes for one member of one planned visit (or for its whole team), ranked by load and
travel, each one a roster the independent checker passes (docs/substitute.md).

Who may go is decided by the solver's rule functions (`solve.rules`), asked of the plan's own
roster re-loaded into the solver's state with the visit lifted; why the others may not is the
first of those rules each one fails. Every suggestion is then judged by the checker
(`check.checker.ROSTER_RULES`) on the plan with that one visit changed, in memory, against
the district's current tables: a suggestion the checker rejects is dropped and counted, so
the two sets of rules can be seen to agree (tests/test_substitute.py asserts none is dropped).
"""

from __future__ import annotations

import copy
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from riskplan.check.checker import ROSTER_RULES
from riskplan.check.context import CheckContext, Violation, build_context
from riskplan.domain.calendar import Quarter, WorkCalendar
from riskplan.domain.roster import PlacedVisit, Roster, RosterProblem, VisitRequest
from riskplan.i18n import N_, _
from riskplan.load.district import District, load_district
from riskplan.plan.obligations import past_inspections
from riskplan.plan.problem import PROBLEM_ENTERPRISE_COLUMNS
from riskplan.solve.compile import compile_problem
from riskplan.solve.instance import Instance
from riskplan.solve.result import state_from_roster
from riskplan.solve.rules import (
    cross_area,
    eligible_inspectors,
    inspector_daily_limit,
    inspector_not_on_leave,
    inspector_weekly_capacity,
    no_conflict_of_interest,
    on_working_day_in_window,
    required_qualifications_held,
    rotate_inspectors,
    team_of_certified_inspectors,
)
from riskplan.solve.state import State

DEFAULT_TOP = 10
#: Why an inspector cannot take the seat, in the order the rules are asked (the first one
#: failed is the reason given); codes, shown through `EXCLUSION_LABELS`.
EXCLUSIONS = ("team_member", "not_certified", "home_subdistrict", "on_leave", "recused", "rotation",
              "daily_limit", "weekly_capacity", "not_qualified")
EXCLUSION_LABELS = {
    "team_member": N_("already on the visit"),
    "not_certified": N_("not certified"),
    "home_subdistrict": N_("home subdistrict (cross_area)"),
    "on_leave": N_("on leave that day"),
    "recused": N_("recused (conflict of interest)"),
    "rotation": N_("on a neighbouring visit's team (rotation)"),
    "daily_limit": N_("at the daily limit"),
    "weekly_capacity": N_("at weekly capacity"),
    "not_qualified": N_("the team would lack a required qualification"),
}
#: How many of the best individually ranked inspectors whole-team mode forms teams from.
TEAM_POOL = 24
EARTH_KM = 6371.0


class SubstituteError(ValueError):
    """A request substitute cannot answer (unknown visit, an inspector not on it, a past visit)."""


def exclusion_label(code: str) -> str:
    return _(EXCLUSION_LABELS[code])


# ---------------------------------------------------------------- the plan, re-loaded


@dataclass
class PlanView:
    """A plan folder re-loaded against the district's current tables: the checker's context of
    the plan as written (`base`, with plan.json's input fingerprints brought up to date, as a
    substituted plan would record them) and the solver's instance and state of its roster."""

    district: District
    out_dir: Path
    base: CheckContext
    inst: Instance
    state: State
    request_of: dict[str, int]
    location: dict[str, tuple[float, float]]
    base_violations: frozenset[Violation]


def current_plan(plan: dict, district: District) -> dict:
    """plan.json as a substituted plan records it: the inputs it is judged against now."""
    return {**plan, "inputs": district.fingerprints()}


def load_plan(district: District | Path | str, out_dir: Path | str) -> PlanView:
    district = district if isinstance(district, District) else load_district(district)
    out_dir = Path(out_dir)
    ctx = build_context(district, out_dir)
    ctx = _context_with(ctx, ctx.visits, ctx.roster_frame, current_plan(ctx.plan, district))
    quarter = Quarter.parse(str(ctx.plan["quarter"]))
    policy = district.policy
    requests = tuple(VisitRequest(v.visit_id, v.enterprise_id, v.basis, v.obligations, v.window_start, v.window_end)
                     for v in ctx.visits)
    enterprises = district.enterprises[list(PROBLEM_ENTERPRISE_COLUMNS)].copy()
    enterprises["tier"] = enterprises["enterprise_id"].map(ctx.tiers)
    problem = RosterProblem(quarter=quarter, calendar=WorkCalendar.for_quarter(quarter, policy.roster), policy=policy,
                            requests=requests, enterprises=enterprises.reset_index(drop=True),
                            inspectors=district.inspectors, leave=district.leave, conflicts=district.conflicts,
                            past_inspections=past_inspections(district, quarter).reset_index(drop=True))
    inst = compile_problem(problem)
    roster = Roster(quarter, [PlacedVisit(req, v.date, v.inspectors) for req, v in zip(requests, ctx.visits)])
    state = state_from_roster(inst, roster)
    location = {str(e): (float(la), float(lo)) for e, la, lo in
                district.enterprises[["enterprise_id", "lat", "lon"]].itertuples(index=False)}
    return PlanView(district, out_dir, ctx, inst, state, {r.visit_id: k for k, r in enumerate(requests)},
                    location, frozenset(run_checker(ctx)))


def _context_with(ctx: CheckContext, visits, frame: pd.DataFrame, plan: dict) -> CheckContext:
    """The checker's context of another roster of the same plan: obligations, draw, history and
    leave re-used; what the checker derives from the visits (`by_enterprise`) derived again as
    `CheckContext.__post_init__` does (tests/test_substitute.py compares the two contexts)."""
    out = copy.copy(ctx)
    out.plan, out.visits, out.roster_frame = plan, list(visits), frame
    shortfall = (plan or {}).get("shortfall", {})
    out.reported_unmet = {(r["enterprise_id"], r["obligation"]) for r in shortfall.get("unmet_obligations", [])}
    out.reported_not_placed = {r["enterprise_id"] for r in shortfall.get("drawn_not_placed", [])}
    out.by_enterprise = defaultdict(list)
    for v in sorted(out.visits, key=lambda v: (v.date, v.visit_id)):
        out.by_enterprise[v.enterprise_id].append(v)
    return out


def run_checker(ctx: CheckContext) -> list[Violation]:
    return [v for rule in ROSTER_RULES for v in rule(ctx)]


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class InspectorLoad:
    """An added inspector's visits with the substitution made: in the visit's ISO week and in
    the quarter, against their limits (rule 3's weekly limit; usable visits in the quarter)."""

    inspector_id: str
    week_visits: int
    week_limit: int
    quarter_visits: int
    quarter_capacity: int

    @property
    def share(self) -> float:
        return self.quarter_visits / self.quarter_capacity if self.quarter_capacity else math.inf

    @property
    def week_share(self) -> float:
        return self.week_visits / self.week_limit if self.week_limit else math.inf


@dataclass(frozen=True)
class Candidate:
    """One valid change of the visit: its new team (and date), who leaves and who joins, the
    joiners' resulting loads, the change in the solver's travel (inspector stops: distinct
    inspector, day, subdistrict) and the distance the joiners add (km, from their nearest other
    visit that day, else from the centre of their home subdistrict, else of the district)."""

    visit_id: str
    date: date
    team: tuple[str, ...]
    leaving: tuple[str, ...]
    joining: tuple[InspectorLoad, ...]
    travel_change: int
    distance_km: float

    @property
    def load_share(self) -> float:
        return max((j.share for j in self.joining), default=0.0)

    def rank_key(self) -> tuple:
        return (round(self.load_share, 9), max((round(j.week_share, 9) for j in self.joining), default=0.0),
                self.travel_change, round(self.distance_km, 6), self.date, self.team)


@dataclass
class SubstituteResult:
    """The answer for one visit: the best `top` same-day candidates, the exclusions (reason code ->
    inspector ids), the nearest other dates (when asked, or when no same-day change exists), and
    what the checker said: candidates it rejected (expected none) and violations the plan
    already has elsewhere (they are neither added nor mended by a substitution)."""

    visit_id: str
    enterprise_id: str
    date: date
    team: tuple[str, ...]
    replacing: tuple[str, ...]
    candidates: list[Candidate]
    valid_count: int
    exclusions: dict[str, list[str]]
    other_days: list[Candidate] = field(default_factory=list)
    day_ruled_out: bool = False
    staying_blocked: dict[str, str] = field(default_factory=dict)  # staying member -> exclusion code
    rejected: list[tuple[Candidate, list[Violation]]] = field(default_factory=list)
    elsewhere: list[Violation] = field(default_factory=list)

    @property
    def same_day_possible(self) -> bool:
        return bool(self.candidates)


# ---------------------------------------------------------------- the search


def _check_request(view: PlanView, visit_id: str, inspector: str | None, today: date) -> int:
    if visit_id not in view.request_of:
        raise SubstituteError(_("visit '{visit_id}' is not in the plan's roster ({folder})").format(
            visit_id=visit_id, folder=view.out_dir))
    r = view.request_of[visit_id]
    visit = view.base.visits[r]
    if inspector is not None and inspector not in visit.inspectors:
        raise SubstituteError(_("inspector '{inspector}' is not on visit {visit_id} (its team: {team})").format(
            inspector=inspector, visit_id=visit_id, team=", ".join(visit.inspectors)))
    if visit.date < today:
        raise SubstituteError(_("visit {visit_id} was planned for {date}, before today ({today}): a past visit "
                                "is recorded (riskplan record, substitute inspectors column), not re-teamed").format(
            visit_id=visit_id, date=visit.date, today=today))
    if visit_id in recorded_visit_ids(view.district):
        raise SubstituteError(_("visit {visit_id} is already recorded as done in the inspections history").format(
            visit_id=visit_id))
    if r not in view.state.placed:
        raise SubstituteError(_("visit {visit_id} is dated {date}, not a working day of the plan's calendar").format(
            visit_id=visit_id, date=visit.date))
    return r


def recorded_visit_ids(district: District) -> set[str]:
    """Visit ids the district's inspections history holds (written there by `riskplan record`)."""
    from riskplan.export.record import HISTORY_KEY, history_location
    from riskplan.export.bureau_table import read_table_file

    path, sheet = history_location(district)
    table = read_table_file(path, "inspections", sheet)
    return {str(row.get(HISTORY_KEY) or "").strip() for row in table.rows} - {""}


def exclusion_reasons(view: PlanView, r: int, d: int, exclude: tuple[int, ...]) -> tuple[np.ndarray, list[str | None]]:
    """(the inspectors who may join visit r on day d, the first rule each other one fails), with
    r lifted from the state. The mask is `eligible_inspectors` itself; the reasons ask its rules
    one by one, so they explain the mask and never decide it."""
    inst, state = view.inst, view.state
    e = int(inst.req_ent[r])
    mask = eligible_inspectors(inst, state, r, d)
    if mask is None:
        return np.zeros(inst.I, bool), [None] * inst.I
    tests = (("not_certified", team_of_certified_inspectors(inst)),
             ("home_subdistrict", cross_area(inst, int(inst.ent_sub[e]))),
             ("on_leave", inspector_not_on_leave(inst, d)),
             ("recused", no_conflict_of_interest(inst, e)),
             ("rotation", rotate_inspectors(inst, state, e, d)),
             ("daily_limit", inspector_daily_limit(inst, state, d)),
             ("weekly_capacity", inspector_weekly_capacity(inst, state, d)))
    reasons: list[str | None] = []
    for i in range(inst.I):
        code = "team_member" if i in exclude else next((c for c, ok in tests if not ok[i]), None)
        if code is None and not mask[i]:
            raise RuntimeError(f"internal error: {inst.insp_ids[i]} refused by eligible_inspectors for no rule")
        reasons.append(code)
    return mask & ~np.isin(np.arange(inst.I), exclude), reasons


def _haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


class _Ranker:
    """Loads, travel and distance of a change on one day, from the lifted state."""

    def __init__(self, view: PlanView, r: int):
        self.view, self.r = view, r
        inst, state = view.inst, view.state
        self.e = int(inst.req_ent[r])
        self.s = int(inst.ent_sub[self.e])
        self.eid = inst.ent_ids[self.e]
        self.loads = state.loads()
        self.capacity = inst.capacity()
        self.visits_on: dict[tuple[int, int], list[str]] = defaultdict(list)
        for rr, (d, team) in state.placed.items():
            for i in team:
                self.visits_on[(i, d)].append(inst.requests[rr].enterprise_id)
        ent = view.district.enterprises
        self.centre = {str(s): (float(g["lat"].mean()), float(g["lon"].mean())) for s, g in ent.groupby("subdistrict")}
        self.district_centre = (float(ent["lat"].mean()), float(ent["lon"].mean()))

    def load(self, i: int, d: int) -> InspectorLoad:
        inst, state = self.view.inst, self.view.state
        w = int(inst.week_of_day[d])
        return InspectorLoad(inst.insp_ids[i], int(state.week_load[i, w]) + 1, int(state.wcap[i, w]),
                             int(self.loads[i]) + 1, int(self.capacity[i]))

    def stop_added(self, i: int, d: int) -> int:
        return 0 if i in self.view.state.stops.get((d, self.s), {}) else 1

    def distance(self, i: int, d: int) -> float:
        inst = self.view.inst
        here = self.view.location[self.eid]
        others = [self.view.location[x] for x in self.visits_on.get((i, d), ())]
        if others:
            return min(_haversine(here, p) for p in others)
        home = int(inst.home[i])
        return _haversine(here, self.centre.get(inst.subs[home], self.district_centre) if home >= 0
                          else self.district_centre)

    def candidate(self, d: int, team: tuple[int, ...], leaving: tuple[int, ...], joining: tuple[int, ...],
                  old_day: int) -> Candidate:
        inst = self.view.inst
        left = sum(1 for i in leaving if i not in self.view.state.stops.get((old_day, self.s), {}))
        moved = [i for i in team if i not in joining]  # staying members on a new date travel anew
        travel = sum(self.stop_added(i, d) for i in joining) - left
        if d != old_day:
            travel += sum(self.stop_added(i, d) for i in moved) - sum(
                1 for i in moved if i not in self.view.state.stops.get((old_day, self.s), {}))
        loads = tuple(self.load(i, d) for i in sorted(joining, key=lambda i: inst.insp_ids[i]))
        return Candidate(inst.requests[self.r].visit_id, inst.days[d], tuple(sorted(inst.insp_ids[i] for i in team)),
                         tuple(sorted(inst.insp_ids[i] for i in leaving)), loads, travel,
                         sum(self.distance(i, d) for i in joining))


def _teams(view: PlanView, rk: _Ranker, d: int, old_day: int, mask: np.ndarray, staying: tuple[int, ...],
           team: tuple[int, ...]) -> tuple[list[Candidate], np.ndarray]:
    """Every valid team for the visit on day d keeping `staying`, best first, and the inspectors
    of the mask no valid team can take (rule 5). Whole teams are formed from the TEAM_POOL best
    individually ranked inspectors."""
    inst = view.inst
    seats = inst.team_size - len(staying)
    leaving = tuple(i for i in team if i not in staying)
    if seats == 1:
        fits = required_qualifications_held(inst, rk.e, staying, with_one_of=mask)
        out = [rk.candidate(d, tuple(sorted(staying + (int(i),))), leaving, (int(i),), old_day)
               for i in np.flatnonzero(fits)]
        return sorted(out, key=Candidate.rank_key), mask & ~fits
    solo = sorted(np.flatnonzero(mask), key=lambda i: rk.candidate(d, (int(i),), (), (int(i),), old_day).rank_key())
    out = []
    for group in itertools.combinations(solo[:TEAM_POOL], seats):
        new = tuple(sorted(staying + tuple(int(i) for i in group)))
        if required_qualifications_held(inst, rk.e, new):
            out.append(rk.candidate(d, new, leaving, tuple(int(i) for i in group), old_day))
    return sorted(out, key=Candidate.rank_key), np.zeros(inst.I, bool)


def candidate_violations(view: PlanView, cand: Candidate) -> list[Violation]:
    """What the checker finds on the plan with the visit changed that it does not find on the
    plan as it is, plus anything it finds on the changed visit itself."""
    ctx = view.base
    r = view.request_of[cand.visit_id]
    old = ctx.visits[r]
    visits = list(ctx.visits)
    visits[r] = replace(old, date=cand.date, inspectors=cand.team)
    frame = ctx.roster_frame.copy()
    row = frame.index[frame["visit_id"] == cand.visit_id]
    frame.loc[row, "date"] = cand.date.isoformat()
    frame.loc[row, "inspectors"] = ";".join(cand.team)
    found = run_checker(_context_with(ctx, visits, frame, ctx.plan))
    return [v for v in found if v not in view.base_violations or v.visit_id == cand.visit_id]


def _accepted(view: PlanView, ranked: list[Candidate], top: int,
              rejected: list[tuple[Candidate, list[Violation]]]) -> list[Candidate]:
    out = []
    for cand in ranked:
        if len(out) >= top or len(rejected) > 2 * top + 5:  # the rules and the checker disagree: a bug, stop
            break
        bad = candidate_violations(view, cand)
        if bad:
            rejected.append((cand, bad))
        else:
            out.append(cand)
    return out


def find_substitutes(district: District | Path | str, out_dir: Path | str, visit_id: str,
                     inspector: str | None = None, *, top: int = DEFAULT_TOP, other_days: bool = False,
                     today: date | None = None, view: PlanView | None = None) -> SubstituteResult:
    """The best `top` valid replacements for `inspector` on `visit_id` (None: for the whole team),
    same day; with `other_days`, or when no same-day change exists, the nearest other dates of the
    visit's window (from today on) with a valid team, one best team per date."""
    view = view or load_plan(district, out_dir)
    today = today or date.today()
    r = _check_request(view, visit_id, inspector, today)
    inst, state = view.inst, view.state
    d, team = state.placed[r]
    ins = {x: k for k, x in enumerate(inst.insp_ids)}
    replacing = (ins[inspector],) if inspector is not None else team
    staying = tuple(i for i in team if i not in replacing)
    state.remove(r)
    try:
        rk = _Ranker(view, r)
        mask, reasons = exclusion_reasons(view, r, d, team)
        day_ruled_out = eligible_inspectors(inst, state, r, d) is None
        alone = exclusion_reasons(view, r, d, ())[1]
        blocked = {inst.insp_ids[i]: alone[i] for i in staying if alone[i] is not None}
        ranked, unfit = ([], np.zeros(inst.I, bool)) if blocked or day_ruled_out else _teams(
            view, rk, d, d, mask, staying, team)
        exclusions: dict[str, list[str]] = {c: [] for c in EXCLUSIONS}
        for i, code in enumerate(reasons):
            if code is None and unfit[i]:
                code = "not_qualified"
            if code is not None:
                exclusions[code].append(inst.insp_ids[i])
        rejected: list[tuple[Candidate, list[Violation]]] = []
        result = SubstituteResult(visit_id, inst.requests[r].enterprise_id, inst.days[d],
                                  tuple(sorted(inst.insp_ids[i] for i in team)),
                                  tuple(sorted(inst.insp_ids[i] for i in replacing)), [], len(ranked),
                                  {k: v for k, v in exclusions.items() if v}, day_ruled_out=day_ruled_out,
                                  staying_blocked=blocked, rejected=rejected)
        result.candidates = _accepted(view, ranked, top, rejected)
        if other_days or not result.candidates:
            result.other_days = _other_days(view, rk, r, d, team, replacing, today, top, rejected)
        result.elsewhere = sorted((v for v in view.base_violations if v.visit_id != visit_id),
                                  key=lambda v: (v.rule, v.visit_id, v.message))
        return result
    finally:
        state.place(r, d, team)


def _other_days(view: PlanView, rk: _Ranker, r: int, d: int, team: tuple[int, ...], replacing: tuple[int, ...],
                today: date, top: int, rejected: list) -> list[Candidate]:
    """One best change per other date of the window, nearest dates first: keeping the staying
    members where they may go that day, else with a whole new team; never with a member being
    replaced."""
    inst = view.inst
    staying = tuple(i for i in team if i not in replacing)
    days = sorted((x for x in on_working_day_in_window(inst, r) if x != d and inst.days[x] >= today),
                  key=lambda x: (abs(x - d), x))
    out: list[Candidate] = []
    for x in days:
        if len(out) >= top:
            break
        mask, _reasons = exclusion_reasons(view, r, x, ())
        if not mask.any():
            continue
        keep = staying if all(mask[i] for i in staying) else ()
        others = mask.copy()
        others[list(keep) + list(replacing)] = False
        ranked, _unfit = _teams(view, rk, x, d, others, keep, team)
        out += _accepted(view, ranked, 1, rejected)
    return sorted(out, key=lambda c: (abs((c.date - inst.days[d]).days), c.date))
