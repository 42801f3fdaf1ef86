"""What the checker reads and re-derives before any rule runs: the CheckContext.

`build_context(district, OUT)` reads OUT's plan.json (quarter, seed, shortfall), tiers.csv and
roster.csv, and re-derives the obligations and the draw with the checker's own code. Nothing
OUT says about obligations or the draw is trusted except to compare it with the re-derivation.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from riskplan.domain.headers import canonical_header, canonical_value, display_header
from riskplan.domain.policy import Policy
from riskplan.domain.roster import Obligation
from riskplan.domain.schema import split_list
from riskplan.i18n import N_, _
from riskplan.io import read_table_text
from riskplan.outputs import restore_interrupted
from riskplan.load.district import District, DistrictError, Problem, load_district
from riskplan.load.tiers import load_tiers_csv

from .calendar import CheckQuarter, as_check_quarter, working_days
from .draw import CheckDraw, DrawRefused, rerun_draw
from .obligations import derive_obligations, with_assumed_history

ROSTER_FILE = "roster.csv"
TIERS_FILE = "tiers.csv"
PLAN_FILE = "plan.json"
DRAW_FILE = "draw.csv"
ROSTER_COLUMNS = ("visit_id", "enterprise_id", "enterprise_name", "subdistrict", "tier", "basis",
                  "obligations", "window_start", "window_end", "date", "inspectors")

#: Each check's label: English shows the rule's code (docs/rules.md), the Chinese catalog the
#: rule's name as a clerk knows it followed by the code, so either leads to the rule.
RULE_LABELS: dict[str, str] = {
    "inputs_match_plan": N_("inputs_match_plan"),
    "roster_well_formed": N_("roster_well_formed"),
    "on_working_day_in_window": N_("on_working_day_in_window"),
    "team_of_certified_inspectors": N_("team_of_certified_inspectors"),
    "inspector_not_on_leave": N_("inspector_not_on_leave"),
    "inspector_weekly_capacity": N_("inspector_weekly_capacity"),
    "inspector_daily_limit": N_("inspector_daily_limit"),
    "no_conflict_of_interest": N_("no_conflict_of_interest"),
    "required_qualifications_held": N_("required_qualifications_held"),
    "rotate_inspectors": N_("rotate_inspectors"),
    "cross_area": N_("cross_area"),
    "visit_spacing": N_("visit_spacing"),
    "tier_visit_maximum": N_("tier_visit_maximum"),
    "mandatory_coverage": N_("mandatory_coverage"),
    "exact_draw": N_("exact_draw"),
}
#: Checks only a re-plan gets (check.replan), labelled the same way.
REPLAN_RULE_LABELS: dict[str, str] = {"replan_respected": N_("replan_respected")}


def rule_label(rule: str) -> str:
    """The rule as people read it in the current language (its code stays in it)."""
    labels = {**RULE_LABELS, **REPLAN_RULE_LABELS}
    return _(labels[rule]) if rule in labels else rule


@dataclass(frozen=True)
class Violation:
    """One broken rule; `message` is in the language that was current when the check ran."""

    rule: str
    visit_id: str
    enterprise_id: str
    message: str

    def __str__(self) -> str:
        where = " ".join(x for x in (self.visit_id, self.enterprise_id) if x) or "-"
        return _("[{rule}] {where}: {message}").format(rule=rule_label(self.rule), where=where, message=self.message)


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
    with defaults. `quarter` may be any quarter-like value (it is turned into the checker's
    own); `draw` is the checker's re-run (None when it could not be re-run: `draw_error`).
    """

    district: District
    out_dir: Path
    plan: dict
    quarter: CheckQuarter
    seed: int
    tiers: pd.Series  # enterprise_id -> tier
    visits: list[Visit]
    roster_frame: pd.DataFrame
    obligations: list[Obligation]
    draw: CheckDraw | None
    draw_error: str | None
    #: a re-plan's changes as the checker reads them (check.replan), None for a plan
    replan: object | None = None
    #: (enterprise_id, kind) of obligations that lapsed (a re-plan's closed enterprises)
    waived: set = field(default_factory=set)

    @property
    def policy(self) -> Policy:
        return self.district.policy

    def frozen_visit_ids(self) -> set[str] | dict:
        """A re-plan's visits already made (check.replan); none for a plan."""
        return getattr(self.replan, "frozen", None) or {}

    def capacity_in_week(self, iid: str, capacity: int, days: list) -> int:
        """The inspector's weekly capacity in the ISO week of `days`: the inspectors table's, or
        the last re-plan capacity change (inspector, start, end, capacity) reaching that week."""
        for who, start, end, cap in getattr(self.replan, "capacity", None) or ():
            if who == iid and any(start <= d <= end for d in days):
                capacity = cap
        return capacity

    def enterprise(self, eid: str) -> dict | None:
        """The enterprise's row as a dict, or None for an unknown id."""
        return self._enterprise_rows.get(eid)

    def inspector(self, iid: str) -> dict | None:
        """The inspector's row as a dict, or None for an unknown id."""
        return self._inspector_rows.get(iid)

    def __post_init__(self) -> None:
        self.quarter = as_check_quarter(self.quarter)
        self._enterprise_rows = self.district.enterprises.set_index("enterprise_id").to_dict("index")
        self._inspector_rows = self.district.inspectors.set_index("inspector_id").to_dict("index")
        rules = self.policy.roster
        self.working_days = working_days(self.quarter, rules.holidays, rules.extra_workdays)
        self.by_enterprise: dict[str, list[Visit]] = defaultdict(list)
        for v in sorted(self.visits, key=lambda v: (v.date, v.visit_id)):
            self.by_enterprise[v.enterprise_id].append(v)
        # the past, enterprise by enterprise: date -> the inspectors of that date's visits
        self.past_teams: dict[str, dict[date, set[str]]] = defaultdict(dict)
        for eid, when, cell in self.district.inspections[["enterprise_id", "date", "inspectors"]].itertuples(
                index=False):
            day = pd.Timestamp(when).date()
            if day < self.quarter.start:
                self.past_teams[eid].setdefault(day, set()).update(split_list(cell))
        self.leave: dict[str, list[tuple[date, date]]] = defaultdict(list)
        for iid, start, end in self.district.leave[["inspector_id", "start", "end"]].itertuples(index=False):
            self.leave[iid].append((pd.Timestamp(start).date(), pd.Timestamp(end).date()))
        shortfall = (self.plan or {}).get("shortfall", {})
        self.reported_unmet = {(r["enterprise_id"], r["obligation"]) for r in shortfall.get("unmet_obligations", [])}
        self.reported_not_placed = {r["enterprise_id"] for r in shortfall.get("drawn_not_placed", [])}

    def last_past_visit(self, eid: str) -> date | None:
        days = self.past_teams.get(eid)
        return max(days) if days else None

    def on_leave(self, iid: str, day: date) -> bool:
        return any(s <= day <= e for s, e in self.leave.get(iid, ()))


def _bad(file: str, message: str, row: int | None = None, column: str | None = None) -> DistrictError:
    return DistrictError([Problem(file, message, row=row, column=column)])


def read_plan_json(out_dir: Path) -> dict:
    path = Path(out_dir) / PLAN_FILE
    if not path.exists():
        raise _bad(PLAN_FILE, _("not found in {folder} (is this a riskplan plan folder?)").format(folder=out_dir))
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(PLAN_FILE, _("is not valid JSON: {error}").format(error=exc)) from None
    if not isinstance(plan, dict):
        raise _bad(PLAN_FILE, _("is not a JSON object"))
    for key in ("quarter", "seed"):
        if key not in plan:
            raise _bad(PLAN_FILE, _("lacks the key '{key}'").format(key=key))
    return plan


def read_plan_table(path: Path, table: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """A table riskplan wrote into the plan folder, its headers back to column names (Chinese or
    English, through `riskplan.domain.headers`), and each column's header as written, for
    messages. Two headers naming one column raise DistrictError."""
    frame = read_table_text(path)
    written: dict[str, str] = {}
    problems = []
    columns = []
    for header in frame.columns:
        column = canonical_header(table, header) or header
        if column in written:
            problems.append(Problem(path.name, _("headers '{first}' and '{second}' both name the column {column}")
                                    .format(first=written[column], second=header, column=column), row=1))
        written.setdefault(column, header)
        columns.append(column)
    if problems:
        raise DistrictError(problems)
    frame.columns = columns
    return frame, written


def plan_value(value_set: str, text: str) -> str:
    """A cell riskplan wrote (`红`, `随机抽查`, `red`) as its code; text no spelling names is kept,
    lower-cased, for the rules to report."""
    return canonical_value(value_set, text) or text.lower()


def read_roster_csv(path: Path) -> tuple[pd.DataFrame, list[Visit]]:
    """roster.csv (Chinese or English headers and values) as visits; malformed cells raise
    DistrictError naming file, row and column as written."""
    path = Path(path)
    if not path.exists():
        raise _bad(path.name, _("not found in {folder}").format(folder=path.parent))
    frame, written = read_plan_table(path, "roster")
    problems = [Problem(path.name, _("missing required column"), row=1, column=display_header("roster", c))
                for c in ROSTER_COLUMNS if c not in frame.columns]
    if problems:
        raise DistrictError(problems)
    for column, value_set in (("tier", "tier"), ("basis", "basis")):
        frame[column] = [plan_value(value_set, x) for x in frame[column]]
    visits = []
    for i, row in enumerate(frame.itertuples(index=False)):
        parsed = {}
        for col in ("window_start", "window_end", "date"):
            try:
                parsed[col] = date.fromisoformat(getattr(row, col))
            except ValueError:
                problems.append(Problem(path.name, _("'{value}' is not an ISO date").format(value=getattr(row, col)),
                                        row=i + 2, column=written[col]))
        for col in ("visit_id", "enterprise_id"):
            if not getattr(row, col):
                problems.append(Problem(path.name, _("empty cell; a value is required"), row=i + 2,
                                        column=written[col]))
        if len(parsed) == 3:
            visits.append(Visit(row.visit_id, row.enterprise_id, row.tier, row.basis,
                                tuple(split_list(row.obligations)), parsed["window_start"],
                                parsed["window_end"], parsed["date"], tuple(split_list(row.inspectors))))
    if problems:
        raise DistrictError(problems)
    return frame, visits


def build_context(district: District | Path | str, out_dir: Path | str) -> CheckContext:
    district = district if isinstance(district, District) else load_district(district)
    out_dir = Path(out_dir)
    restore_interrupted(out_dir)  # a replace a crash cut short: put the old plan back first
    plan = read_plan_json(out_dir)
    try:
        quarter = CheckQuarter.parse(str(plan["quarter"]))
        seed = int(plan["seed"])
    except (ValueError, TypeError) as exc:
        raise _bad(PLAN_FILE, _("bad quarter or seed: {error}").format(error=exc)) from None
    district = with_assumed_history(district, plan, quarter)  # a previous plan's visits without results
    tiers_frame = load_tiers_csv(out_dir / TIERS_FILE, district)
    tiers = tiers_frame.set_index("enterprise_id")["tier"]
    frame, visits = read_roster_csv(out_dir / ROSTER_FILE)
    obligations = derive_obligations(district, tiers, quarter)
    draw, draw_error = None, None
    try:
        draw = rerun_draw(district, tiers_frame, quarter, obligations, seed)
    except DrawRefused as exc:
        draw_error = str(exc)
    return CheckContext(district, out_dir, plan, quarter, seed, tiers, visits, frame, obligations, draw, draw_error)
