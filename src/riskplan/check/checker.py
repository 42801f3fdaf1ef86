"""The independent checker: verify a published roster against every rule, from first principles.

`check_roster(district, OUT)` re-reads the district's inputs and OUT's roster.csv, tiers.csv
and plan.json (quarter, seed, shortfall), re-derives the obligations and the draw, and runs
each rule of `ROSTER_RULES` — one function per roster rule of the domain notes, named like
its twin in the solver. It never imports the solver, and it does not trust anything OUT says
about obligations or the draw except to compare it with what it re-derives.

The checker keeps its own arithmetic for working days and weekly capacity (it does not call
`riskplan.calendar`), so a mistake shared by the solver and the calendar module would show up
here instead of being agreed with. Obligations and the draw are re-derived with
`find_obligations` / `draw_spot_checks`: they are pure functions of the published inputs and
the seed, independent of the solver, and are tested against hand-computed cases.

Rule 11 (who inspects whom is random) is statistical: it is tested over many seeds, not here.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Callable

import pandas as pd

from riskplan.domain.calendar import Quarter
from riskplan.domain.policy import Policy
from riskplan.domain.roster import BASES, Obligation
from riskplan.domain.schema import split_list
from riskplan.io import read_table_text, sha256_file
from riskplan.load.district import District, DistrictError, Problem, load_district
from riskplan.plan.draw import DrawResult, draw_spot_checks
from riskplan.plan.obligations import exclusive_slot, find_obligations

ROSTER_FILE = "roster.csv"
TIERS_FILE = "tiers.csv"
PLAN_FILE = "plan.json"
DRAW_FILE = "draw.csv"
ROSTER_COLUMNS = ("visit_id", "enterprise_id", "enterprise_name", "subdistrict", "tier", "basis",
                  "obligations", "window_start", "window_end", "date", "inspectors")


@dataclass(frozen=True)
class Violation:
    rule: str
    visit_id: str
    enterprise_id: str
    message: str

    def __str__(self) -> str:
        where = " ".join(x for x in (self.visit_id, self.enterprise_id) if x) or "-"
        return f"[{self.rule}] {where}: {self.message}"


@dataclass(frozen=True)
class Visit:
    visit_id: str
    enterprise_id: str
    tier: str
    basis: str
    obligations: tuple[str, ...]
    window_start: date
    window_end: date
    date: date
    inspectors: tuple[str, ...]


@dataclass
class CheckContext:
    """Everything the rules look at, re-derived from the inputs where it can be.

    Solver tests and benchmarks build one positionally around an in-memory roster to run single
    rule functions, so the field order is part of the interface: add new fields at the end,
    with defaults.
    """

    district: District
    out_dir: Path
    plan: dict
    quarter: Quarter
    seed: int
    tiers: pd.Series  # enterprise_id -> tier
    visits: list[Visit]
    roster_frame: pd.DataFrame
    obligations: list[Obligation]
    draw: DrawResult | None
    draw_error: str | None

    @property
    def policy(self) -> Policy:
        return self.district.policy

    def enterprise(self, eid: str) -> dict | None:
        """The enterprise's row as a dict, or None for an unknown id."""
        return self._enterprise_rows.get(eid)

    def __post_init__(self) -> None:
        self._enterprise_rows = self.district.enterprises.set_index("enterprise_id").to_dict("index")
        self._inspectors = self.district.inspectors.set_index("inspector_id")
        rules = self.policy.roster
        self.working_days = _working_days(self.quarter, set(rules.holidays), set(rules.extra_workdays))
        self.by_enterprise: dict[str, list[Visit]] = defaultdict(list)
        for v in sorted(self.visits, key=lambda v: (v.date, v.visit_id)):
            self.by_enterprise[v.enterprise_id].append(v)
        past = self.district.inspections
        self.past = past[past["date"] < pd.Timestamp(self.quarter.start)]
        shortfall = self.plan.get("shortfall", {})
        self.reported_unmet = {(r["enterprise_id"], r["obligation"]) for r in shortfall.get("unmet_obligations", [])}
        self.reported_not_placed = {r["enterprise_id"] for r in shortfall.get("drawn_not_placed", [])}


def _v(rule: str, visit: Visit | None, message: str, enterprise_id: str = "") -> Violation:
    if visit is not None:
        return Violation(rule, visit.visit_id, visit.enterprise_id, message)
    return Violation(rule, "", enterprise_id, message)


def _working_days(quarter: Quarter, holidays: set[date], extra: set[date]) -> list[date]:
    """Monday–Friday minus holidays plus make-up days, inside the quarter (own arithmetic)."""
    out, day = [], quarter.start
    while day <= quarter.end:
        if (day.weekday() < 5 and day not in holidays) or day in extra:
            out.append(day)
        day += timedelta(days=1)
    return out


def _leave(ctx: CheckContext) -> dict[str, list[tuple[date, date]]]:
    out: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for iid, s, e in ctx.district.leave[["inspector_id", "start", "end"]].itertuples(index=False):
        out[iid].append((s.date(), e.date()))
    return out


def _on_leave(spans: list[tuple[date, date]], day: date) -> bool:
    return any(s <= day <= e for s, e in spans)


# ---------------------------------------------------------------- the rules (domain "Roster rules")

def roster_well_formed(ctx: CheckContext) -> list[Violation]:
    """The roster's own columns agree with the inputs: unique ids, known enterprises, the
    enterprise's name/subdistrict/tier as published, a known basis."""
    out = []
    counts = Counter(v.visit_id for v in ctx.visits)
    for row, v in zip(ctx.roster_frame.itertuples(index=False), ctx.visits):
        if counts[v.visit_id] > 1:
            out.append(_v("roster_well_formed", v, f"visit id appears {counts[v.visit_id]} times"))
        ent = ctx.enterprise(v.enterprise_id)
        if ent is None:
            out.append(_v("roster_well_formed", v, "unknown enterprise"))
            continue
        if row.enterprise_name != ent["name"] or row.subdistrict != ent["subdistrict"]:
            out.append(_v("roster_well_formed", v, "enterprise name or subdistrict differs from enterprises table"))
        if v.tier != ctx.tiers.get(v.enterprise_id):
            out.append(_v("roster_well_formed", v, f"tier '{v.tier}' differs from tiers.csv "
                                                   f"('{ctx.tiers.get(v.enterprise_id)}')"))
        if v.basis not in BASES:
            out.append(_v("roster_well_formed", v, f"basis '{v.basis}' is not one of {', '.join(BASES)}"))
    return out


def inputs_match_plan(ctx: CheckContext) -> list[Violation]:
    """The district files, the policy in force and OUT/tiers.csv are the ones the plan was made
    from (sha256 and policy recorded in plan.json): otherwise every other check would verify
    the roster against the wrong inputs."""
    recorded = ctx.plan.get("inputs", {})
    now = ctx.district.fingerprints()
    out = []
    for name in sorted(set(recorded) | set(now)):
        if recorded.get(name) != now.get(name):
            what = "is new" if name not in recorded else "is missing" if name not in now else "has changed"
            out.append(Violation("inputs_match_plan", "", "", f"input file {name} {what} since the plan was made"))
    if "policy" in ctx.plan and ctx.plan["policy"] != ctx.policy.to_dict():
        out.append(Violation("inputs_match_plan", "", "", "the policy in force differs from the one in plan.json"))
    tiers_sha = ctx.plan.get("tiers", {}).get("tiers_csv_sha256")
    if tiers_sha and sha256_file(ctx.out_dir / TIERS_FILE) != tiers_sha:
        out.append(Violation("inputs_match_plan", "", "", f"{TIERS_FILE} differs from the tiers the plan used"))
    return out


def on_working_day_in_window(ctx: CheckContext) -> list[Violation]:
    """Rule 1: a working day of the quarter, inside the visit's window and inside the window of
    every obligation it claims to serve (windows re-derived, not read from the roster)."""
    workdays = set(ctx.working_days)
    windows = {(o.enterprise_id, o.kind): (o.window_start, o.window_end) for o in ctx.obligations}
    out = []
    for v in ctx.visits:
        if v.date not in workdays:
            why = "outside the quarter" if not ctx.quarter.start <= v.date <= ctx.quarter.end else "not a working day"
            out.append(_v("on_working_day_in_window", v, f"{v.date} is {why}"))
        if not v.window_start <= v.date <= v.window_end:
            out.append(_v("on_working_day_in_window", v,
                          f"{v.date} is outside the window {v.window_start} to {v.window_end}"))
        for kind in v.obligations:
            w = windows.get((v.enterprise_id, kind))
            if w is not None and not w[0] <= v.date <= w[1]:
                out.append(_v("on_working_day_in_window", v,
                              f"{v.date} is outside the window of {kind} ({w[0]} to {w[1]})"))
    return out


def team_of_certified_inspectors(ctx: CheckContext) -> list[Violation]:
    """Rule 2: exactly team_size distinct, known, certified inspectors."""
    size = ctx.policy.roster.team_size
    out = []
    for v in ctx.visits:
        if len(set(v.inspectors)) != len(v.inspectors):
            out.append(_v("team_of_certified_inspectors", v, "an inspector is listed twice"))
        if len(set(v.inspectors)) != size:
            out.append(_v("team_of_certified_inspectors", v,
                          f"team has {len(set(v.inspectors))} distinct inspector(s), team_size is {size}"))
        for iid in v.inspectors:
            if iid not in ctx._inspectors.index:
                out.append(_v("team_of_certified_inspectors", v, f"unknown inspector {iid}"))
            elif int(ctx._inspectors.at[iid, "certified"]) != 1:
                out.append(_v("team_of_certified_inspectors", v, f"inspector {iid} is not certified"))
    return out


def inspector_not_on_leave(ctx: CheckContext) -> list[Violation]:
    """Rule 2: nobody on the team is on leave that day."""
    leave = _leave(ctx)
    return [_v("inspector_not_on_leave", v, f"inspector {iid} is on leave on {v.date}")
            for v in ctx.visits for iid in v.inspectors if _on_leave(leave.get(iid, []), v.date)]


def inspector_weekly_capacity(ctx: CheckContext) -> list[Violation]:
    """Rule 3: per ISO week, floor(weekly_capacity × (1 − reserve) × available days ÷ 5), where
    available days are the week's working days in the quarter not on leave (exact fractions)."""
    leave = _leave(ctx)
    reserve = Fraction(str(ctx.policy.roster.capacity_reserve))
    week_days: dict[tuple[int, int], list[date]] = defaultdict(list)
    for d in ctx.working_days:
        week_days[tuple(d.isocalendar())[:2]].append(d)
    load: dict[tuple[str, tuple[int, int]], list[Visit]] = defaultdict(list)
    for v in ctx.visits:
        for iid in set(v.inspectors):
            load[(iid, tuple(v.date.isocalendar())[:2])].append(v)
    out = []
    for (iid, week), visits in sorted(load.items()):
        if iid not in ctx._inspectors.index:
            continue
        available = sum(not _on_leave(leave.get(iid, []), d) for d in week_days.get(week, []))
        limit = math.floor(int(ctx._inspectors.at[iid, "weekly_capacity"]) * (1 - reserve) * available / 5)
        if len(visits) > limit:
            ids = ", ".join(sorted(x.visit_id for x in visits))
            out.append(Violation("inspector_weekly_capacity", sorted(x.visit_id for x in visits)[-1], "",
                                 f"inspector {iid} has {len(visits)} visits in ISO week {week[0]}-W{week[1]:02d}, "
                                 f"limit {limit} ({available} available day(s)): {ids}"))
    return out


def inspector_daily_limit(ctx: CheckContext) -> list[Violation]:
    """Rule 3: at most max_visits_per_inspector_day visits per inspector per day."""
    limit = ctx.policy.roster.max_visits_per_inspector_day
    per_day: dict[tuple[str, date], list[str]] = defaultdict(list)
    for v in ctx.visits:
        for iid in set(v.inspectors):
            per_day[(iid, v.date)].append(v.visit_id)
    return [Violation("inspector_daily_limit", sorted(ids)[-1], "",
                      f"inspector {iid} has {len(ids)} visits on {day}, limit {limit}: {', '.join(sorted(ids))}")
            for (iid, day), ids in sorted(per_day.items()) if len(ids) > limit]


def no_conflict_of_interest(ctx: CheckContext) -> list[Violation]:
    """Rule 4: no inspector visits an enterprise they declared a conflict with (回避)."""
    pairs = {(i, e): r for i, e, r in ctx.district.conflicts[["inspector_id", "enterprise_id", "reason"]]
             .itertuples(index=False)}
    return [_v("no_conflict_of_interest", v, f"inspector {iid} has a conflict of interest ({pairs[(iid, v.enterprise_id)]})")
            for v in ctx.visits for iid in v.inspectors if (iid, v.enterprise_id) in pairs]


def _needed_qualifications(ent: dict, policy: Policy) -> set[str]:
    q = policy.qualifications
    need = set()
    if ent["hazchem"] != "none":
        need.add(q.hazchem)
    if int(ent["major_hazard_level"]) >= 1:
        need.add(q.major_hazard)
    if int(ent["dust_explosion"]) == 1:
        need.add(q.dust_explosion)
    if int(ent["molten_metal"]) == 1:
        need.add(q.molten_metal)
    return need


def required_qualifications_held(ctx: CheckContext) -> list[Violation]:
    """Rule 5: each hazard's qualification is held by at least one team member."""
    held = {i: set(split_list(q)) for i, q in ctx._inspectors["qualifications"].items()}
    out = []
    for v in ctx.visits:
        ent = ctx.enterprise(v.enterprise_id)
        if ent is None:
            continue
        team = set().union(*(held.get(i, set()) for i in v.inspectors)) if v.inspectors else set()
        for need in sorted(_needed_qualifications(ent, ctx.policy) - team):
            out.append(_v("required_qualifications_held", v, f"no team member holds '{need}'"))
    return out


def rotate_inspectors(ctx: CheckContext) -> list[Violation]:
    """Rule 6: no member of the enterprise's previous team on its next visit. The previous team
    before the quarter is the union of the inspectors on all past visits of the latest past
    date; within the quarter, consecutive visits share no inspector."""
    if not ctx.policy.roster.rotate_inspectors:
        return []
    past = ctx.past
    previous: dict[str, set[str]] = {}
    if not past.empty:
        last = past.groupby("enterprise_id")["date"].transform("max")
        for eid, cell in past.loc[past["date"] == last, ["enterprise_id", "inspectors"]].itertuples(index=False):
            previous.setdefault(eid, set()).update(split_list(cell))
    out = []
    for eid, visits in ctx.by_enterprise.items():
        team, source = previous.get(eid, set()), "the last visit before the quarter"
        for v in visits:
            shared = sorted(team & set(v.inspectors))
            if shared:
                out.append(_v("rotate_inspectors", v, f"{', '.join(shared)} also on {source}"))
            team, source = set(v.inspectors), f"visit {v.visit_id} ({v.date})"
    return out


def cross_area(ctx: CheckContext) -> list[Violation]:
    """Rule 7: with cross_area, no subdistrict-based inspector visits their home subdistrict."""
    if not ctx.policy.roster.cross_area:
        return []
    home = ctx._inspectors["home_subdistrict"]
    out = []
    for v in ctx.visits:
        ent = ctx.enterprise(v.enterprise_id)
        if ent is None:
            continue
        for iid in v.inspectors:
            if iid in home.index and home[iid] and home[iid] == ent["subdistrict"]:
                out.append(_v("cross_area", v, f"inspector {iid} visits their home subdistrict {home[iid]}"))
    return out


def visit_spacing(ctx: CheckContext) -> list[Violation]:
    """Rule 8: visits to one enterprise at least min_days_between_visits apart, also against
    its last visit before the quarter."""
    gap = ctx.policy.roster.min_days_between_visits
    last_past = ctx.past.groupby("enterprise_id")["date"].max() if not ctx.past.empty else pd.Series(dtype=object)
    out = []
    for eid, visits in ctx.by_enterprise.items():
        prev = last_past[eid].date() if eid in last_past.index else None
        label = "the last visit before the quarter"
        for v in visits:
            if prev is not None and (v.date - prev).days < gap:
                out.append(_v("visit_spacing", v, f"{(v.date - prev).days} day(s) after {label} ({prev}), "
                                                  f"minimum {gap}"))
            prev, label = v.date, f"visit {v.visit_id}"
    return out


def tier_visit_maximum(ctx: CheckContext) -> list[Violation]:
    """Rule 8: no enterprise gets more visits than its tier's max_visits_per_quarter."""
    out = []
    for eid, visits in ctx.by_enterprise.items():
        tier = ctx.tiers.get(eid)
        if tier is None:
            continue
        limit = ctx.policy.tier(tier).max_visits_per_quarter
        if len(visits) > limit:
            out.append(_v("tier_visit_maximum", visits[-1],
                          f"{len(visits)} visits this quarter, {tier} maximum is {limit}"))
    return out


def mandatory_coverage(ctx: CheckContext) -> list[Violation]:
    """Rule 9: every re-derived obligation is met by visits of that enterprise in its window
    (n obligations of one slot, e.g. two visits a month, need n visits there) or is listed as
    unmet in plan.json's shortfall. Also: a visit may only claim obligations that exist, and a
    non-drawn visit must serve at least one."""
    out = []
    exists = {(o.enterprise_id, o.kind) for o in ctx.obligations}
    slots: dict[tuple[str, str], list[Obligation]] = defaultdict(list)
    for o in ctx.obligations:
        slots[(o.enterprise_id, exclusive_slot(o.kind))].append(o)
    for (eid, _), obs in sorted(slots.items()):
        for rank, ob in enumerate(sorted(obs, key=lambda o: o.kind)):
            inside = [v for v in ctx.by_enterprise.get(eid, []) if ob.window_start <= v.date <= ob.window_end]
            if len(inside) > rank or (eid, ob.kind) in ctx.reported_unmet:
                continue
            out.append(_v("mandatory_coverage", None,
                          f"obligation {ob.kind} ({ob.window_start} to {ob.window_end}: {ob.reason}) has no visit "
                          "in its window and is not reported as shortfall", enterprise_id=eid))
    for v in ctx.visits:
        for kind in v.obligations:
            if (v.enterprise_id, kind) not in exists:
                out.append(_v("mandatory_coverage", v, f"claims obligation {kind}, which the inputs do not give"))
        if v.basis != "drawn" and not v.obligations:
            out.append(_v("mandatory_coverage", v, f"basis {v.basis} but serves no obligation"))
    return out


def exact_draw(ctx: CheckContext) -> list[Violation]:
    """Rule 10: the drawn visits are exactly the re-run draw (same inputs, tiers and seed),
    each drawn enterprise placed once or reported as drawn-not-placed; draw.csv, if present,
    matches the re-run row for row."""
    if ctx.draw is None:
        return [Violation("exact_draw", "", "", f"cannot re-run the draw: {ctx.draw_error}")]
    drawn = set(ctx.draw.drawn_ids)
    out = []
    placed = Counter()
    for v in ctx.visits:
        if v.basis != "drawn":
            continue
        placed[v.enterprise_id] += 1
        if v.enterprise_id not in drawn:
            out.append(_v("exact_draw", v, "drawn visit to an enterprise the seeded draw did not select"))
        elif placed[v.enterprise_id] == 2:
            out.append(_v("exact_draw", v, "second drawn visit to the same enterprise"))
    for eid in sorted(drawn - set(placed) - ctx.reported_not_placed):
        out.append(_v("exact_draw", None, "drawn by the seeded draw but neither placed nor reported as "
                                          "drawn, not placed", enterprise_id=eid))
    for eid in sorted(ctx.reported_not_placed - drawn):
        out.append(_v("exact_draw", None, "reported as drawn, not placed, but the seeded draw did not "
                                          "select it", enterprise_id=eid))
    path = ctx.out_dir / DRAW_FILE
    if path.exists():
        published = read_table_text(path)
        cols = ["enterprise_id", "eligible", "drawn"]
        if not set(cols) <= set(published.columns):
            out.append(Violation("exact_draw", "", "", f"{DRAW_FILE} lacks columns {', '.join(cols)}"))
        else:
            mine = ctx.draw.frame[cols].astype(str).set_index("enterprise_id")
            theirs = published[cols].set_index("enterprise_id")
            for eid in sorted(set(mine.index) ^ set(theirs.index)):
                out.append(_v("exact_draw", None, f"{DRAW_FILE} and the re-run draw disagree on whether it "
                                                  "belongs to the draw", enterprise_id=eid))
            both = sorted(set(mine.index) & set(theirs.index))
            diff = (mine.loc[both] != theirs.loc[both]).any(axis=1)
            for eid in diff.index[diff.to_numpy()]:
                out.append(_v("exact_draw", None, f"{DRAW_FILE} says eligible={theirs.at[eid, 'eligible']} "
                                                  f"drawn={theirs.at[eid, 'drawn']}, the re-run draw says "
                                                  f"eligible={mine.at[eid, 'eligible']} drawn={mine.at[eid, 'drawn']}",
                                   enterprise_id=eid))
    return out


#: The checks, in the order of the domain's roster rules (rule 11, randomness, is statistical).
ROSTER_RULES: tuple[Callable[[CheckContext], list[Violation]], ...] = (
    inputs_match_plan,
    roster_well_formed,
    on_working_day_in_window,
    team_of_certified_inspectors,
    inspector_not_on_leave,
    inspector_weekly_capacity,
    inspector_daily_limit,
    no_conflict_of_interest,
    required_qualifications_held,
    rotate_inspectors,
    cross_area,
    visit_spacing,
    tier_visit_maximum,
    mandatory_coverage,
    exact_draw,
)


# ---------------------------------------------------------------- reading OUT/

def _bad(file: str, message: str, row: int | None = None, column: str | None = None) -> DistrictError:
    return DistrictError([Problem(file, message, row=row, column=column)])


def read_plan_json(out_dir: Path) -> dict:
    path = Path(out_dir) / PLAN_FILE
    if not path.exists():
        raise _bad(PLAN_FILE, f"not found in {out_dir} (is this a riskplan plan folder?)")
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(PLAN_FILE, f"is not valid JSON: {exc}") from None
    for key in ("quarter", "seed"):
        if key not in plan:
            raise _bad(PLAN_FILE, f"lacks the key '{key}'")
    return plan


def read_roster_csv(path: Path) -> tuple[pd.DataFrame, list[Visit]]:
    """roster.csv as visits; malformed cells raise DistrictError naming file, row, column."""
    path = Path(path)
    if not path.exists():
        raise _bad(path.name, f"not found in {path.parent}")
    frame = read_table_text(path)
    problems = [Problem(path.name, "missing required column", row=1, column=c)
                for c in ROSTER_COLUMNS if c not in frame.columns]
    if problems:
        raise DistrictError(problems)
    visits = []
    for i, row in enumerate(frame.itertuples(index=False)):
        parsed = {}
        for col in ("window_start", "window_end", "date"):
            try:
                parsed[col] = date.fromisoformat(getattr(row, col))
            except ValueError:
                problems.append(Problem(path.name, f"'{getattr(row, col)}' is not an ISO date", row=i + 2, column=col))
        for col in ("visit_id", "enterprise_id"):
            if not getattr(row, col):
                problems.append(Problem(path.name, "empty cell; a value is required", row=i + 2, column=col))
        if len(parsed) == 3:
            visits.append(Visit(row.visit_id, row.enterprise_id, row.tier.lower(), row.basis.lower(),
                                tuple(split_list(row.obligations)), parsed["window_start"],
                                parsed["window_end"], parsed["date"], tuple(split_list(row.inspectors))))
    if problems:
        raise DistrictError(problems)
    return frame, visits


def build_context(district: District | Path | str, out_dir: Path | str) -> CheckContext:
    from riskplan.load.tiers import load_tiers_csv

    district = district if isinstance(district, District) else load_district(district)
    out_dir = Path(out_dir)
    plan = read_plan_json(out_dir)
    try:
        quarter = Quarter.parse(str(plan["quarter"]))
        seed = int(plan["seed"])
    except (ValueError, TypeError) as exc:
        raise _bad(PLAN_FILE, f"bad quarter or seed: {exc}") from None
    tiers_frame = load_tiers_csv(out_dir / TIERS_FILE, district)
    tiers_frame.attrs["source"] = TIERS_FILE  # a risk-weighted draw reads its probability column
    tiers = tiers_frame.set_index("enterprise_id")["tier"]
    frame, visits = read_roster_csv(out_dir / ROSTER_FILE)
    obligations = find_obligations(district, tiers, quarter)
    draw, draw_error = None, None
    try:
        draw = draw_spot_checks(district, tiers_frame, quarter, obligations, seed)
    except ValueError as exc:  # e.g. a draw method not supported
        draw_error = str(exc)
    return CheckContext(district, out_dir, plan, quarter, seed, tiers, visits, frame, obligations, draw, draw_error)


def check_roster(district: District | Path | str, out_dir: Path | str) -> list[Violation]:
    """Every violation of every roster rule in OUT/, in rule order then visit id."""
    ctx = build_context(district, out_dir)
    out: list[Violation] = []
    for rule in ROSTER_RULES:
        out.extend(sorted(rule(ctx), key=lambda v: (v.visit_id, v.enterprise_id, v.message)))
    return out
