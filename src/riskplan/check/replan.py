"""The checker's own reading of a re-plan (a plan folder whose plan.json has "replan").

A re-plan judges the whole quarter: the visits before its --from date (frozen) and the new
ones together. What the checker reads, with its own code, from the re-plan's folder:

- `changes_applied.csv`: the changes the re-plan applied (canonical columns, ISO dates). Leave
  and leaving the bureau are added to the leave table; a capacity row sets the inspector's
  weekly capacity in every ISO week with a working day from its start to its end (the
  quarter's end when empty; a later row wins); an urgent or pinned visit is one more
  obligation (kinds `urgent_<row>`, `pinned_change_<row>`, row = its row in the file, header
  = 1) in its window clipped to the quarter; a closed or suspended enterprise's obligations
  whose window ends on or after the closure start lapse, and no visit after --from may fall in
  the closure (to the suspension's end, else the quarter's end); a cancelled visit is absent.
- `roster_before.csv`: the revised roster, byte for byte (its sha256 is in plan.json). Each of
  its visits dated before --from, and each recorded as done in the inspections table
  (`visit_id` column), is in the new roster with the same date and team.
- `draw.csv`: the revised plan's published draw (sha256 in plan.json), the draw the re-plan is
  judged against: it is not re-drawn from the current tables, and every drawn enterprise is
  visited once or reported as drawn, not placed.

Rules that judge one visit on its own (leave, conflicts, certificates, qualifications, home
subdistrict, rotation, spacing, the working day) are not applied to frozen visits: they have
happened. Weekly capacity is judged for every inspector-week with a visit after --from,
frozen visits of that week counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from riskplan.domain.roster import Obligation
from riskplan.i18n import _
from riskplan.io import read_table_text, sha256_file

from .context import CheckContext, Violation, plan_value, read_plan_table, read_roster_csv
from .draw import CheckDraw, DrawRow

APPLIED_FILE = "changes_applied.csv"
BEFORE_FILE = "roster_before.csv"
#: rules that judge one visit on its own: a frozen visit has happened, they are not asked of it
HISTORY_RULES = ("on_working_day_in_window", "team_of_certified_inspectors", "inspector_not_on_leave",
                 "no_conflict_of_interest", "required_qualifications_held", "rotate_inspectors", "cross_area",
                 "visit_spacing")


@dataclass
class CheckReplan:
    from_date: date
    frozen: dict[str, tuple[date, tuple[str, ...]]] = field(default_factory=dict)
    capacity: list[tuple[str, date, date, int]] = field(default_factory=list)
    closures: dict[str, list[tuple[date, date]]] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)
    problems: list[Violation] = field(default_factory=list)


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def apply_replan(ctx: CheckContext) -> CheckContext:
    """The re-plan's changes folded into the context (module docstring); file problems are kept
    for `replan_respected` to report."""
    record = ctx.plan.get("replan") or {}
    out = ctx.out_dir
    q = ctx.quarter
    info = CheckReplan(date.fromisoformat(str(record.get("from", q.start.isoformat()))))
    revises = record.get("revises") or {}
    for name, key in ((BEFORE_FILE, "roster_sha256"), ("draw.csv", "draw_sha256"), ("tiers.csv", "tiers_sha256")):
        path = out / name
        if not path.exists() or sha256_file(path) != revises.get(key):
            info.problems.append(Violation("replan_respected", "", "", _(
                "{file} is not the revised plan's (its sha256 differs from plan.json's record)").format(file=name)))
    changes = read_table_text(out / APPLIED_FILE) if (out / APPLIED_FILE).exists() else pd.DataFrame(
        columns=["change"])
    if not (out / APPLIED_FILE).exists():
        info.problems.append(Violation("replan_respected", "", "", _("{file} is missing").format(file=APPLIED_FILE)))
    for k, row in enumerate(changes.to_dict("records")):
        kind, start, end = row["change"], _date(row.get("start", "")), _date(row.get("end", ""))
        if kind == "leave":
            ctx.leave[row["inspector_id"]].append((start, end))
        elif kind == "leaves_bureau":
            ctx.leave[row["inspector_id"]].append((start, q.end))
        elif kind == "capacity":
            info.capacity.append((row["inspector_id"], start, end or q.end, int(row["capacity"])))
        elif kind in ("enterprise_closed", "enterprise_suspended"):
            info.closures.setdefault(row["enterprise_id"], []).append(
                (start, end if kind == "enterprise_suspended" and end else q.end))
        elif kind == "cancel_visit":
            info.cancelled.add(row["visit_id"])
        elif kind in ("urgent_visit", "pinned_visit"):
            label = "urgent" if kind == "urgent_visit" else "pinned_change"
            basis = "follow_up" if kind == "urgent_visit" else "pinned"
            ctx.obligations.append(Obligation(row["enterprise_id"], f"{label}_{k + 2}", basis, max(start, q.start),
                                              min(end, q.end), row.get("reason", "")))
    for o in ctx.obligations:
        if any(s <= o.window_end for s, _e in info.closures.get(o.enterprise_id, ())):
            ctx.waived.add((o.enterprise_id, o.kind))
    if (out / BEFORE_FILE).exists():
        _frame, before = read_roster_csv(out / BEFORE_FILE)
        ins = ctx.district.inspections
        done = set(ins["visit_id"].astype(str)) if "visit_id" in ins.columns else set()
        info.frozen = {v.visit_id: (v.date, v.inspectors) for v in before
                       if v.date < info.from_date or v.visit_id in done}
    ctx.draw, ctx.draw_error = _published_draw(ctx), None
    ctx.replan = info
    return ctx


def _published_draw(ctx: CheckContext) -> CheckDraw | None:
    path = ctx.out_dir / "draw.csv"
    if not path.exists():
        return None
    frame, _written = read_plan_table(path, "draw")
    rows = {}
    for r in frame.to_dict("records"):
        units = r.get("inclusion_units")
        rows[r["enterprise_id"]] = DrawRow(r["enterprise_id"], plan_value("tier", r["tier"]),
                                           plan_value("yes_no", r["eligible"]) == "yes",
                                           plan_value("yes_no", r["drawn"]) == "yes",
                                           float(r.get("inclusion_probability") or 0.0),
                                           int(units) if units not in (None, "") else None)
    return CheckDraw(str(ctx.policy.draw.method), rows)


def replan_respected(ctx: CheckContext) -> list[Violation]:
    """The re-plan kept the past and applied its changes: frozen visits unchanged, cancelled
    visits gone, no visit to a closed or suspended enterprise in its closure after --from."""
    info = ctx.replan
    if info is None:
        return []
    out = list(info.problems)
    mine = {v.visit_id: v for v in ctx.visits}
    for vid, (day, team) in sorted(info.frozen.items()):
        v = mine.get(vid)
        if v is None:
            out.append(Violation("replan_respected", vid, "", _("a visit before --from or already done is missing")))
        elif (v.date, tuple(sorted(v.inspectors))) != (day, tuple(sorted(team))):
            out.append(Violation("replan_respected", vid, v.enterprise_id, _(
                "a visit before --from or already done was changed ({old_date} {old_team} -> {date} {team})").format(
                old_date=day, old_team=";".join(team), date=v.date, team=";".join(v.inspectors))))
    for vid in sorted(info.cancelled & set(mine)):
        out.append(Violation("replan_respected", vid, mine[vid].enterprise_id, _("the visit was cancelled")))
    for v in ctx.visits:
        if v.visit_id in info.frozen:
            continue
        if v.date < info.from_date:
            out.append(Violation("replan_respected", v.visit_id, v.enterprise_id, _(
                "a new or moved visit dated {date}, before --from {from_date}").format(
                date=v.date, from_date=info.from_date)))
        for start, end in info.closures.get(v.enterprise_id, ()):
            if start <= v.date <= end:
                out.append(Violation("replan_respected", v.visit_id, v.enterprise_id, _(
                    "visits an enterprise closed or suspended from {start} to {end}").format(start=start, end=end)))
    return out


def replan_rules(rules: tuple) -> tuple:
    """The checker's rules for a re-plan: every rule of a plan (weekly capacity reads the
    capacity changes and frozen visits from the context), then `replan_respected`."""
    return rules + (replan_respected,)


def judged(ctx: CheckContext, violations: list[Violation]) -> list[Violation]:
    """Violations a re-plan answers for: one-visit rules are not asked of frozen visits."""
    if ctx.replan is None:
        return violations
    return [v for v in violations if not (v.rule in HISTORY_RULES and v.visit_id in ctx.replan.frozen)]
