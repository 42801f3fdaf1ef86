"""The roster rules, one function per rule, each `(CheckContext) -> list[Violation]`.

Named like their twins in the solver. Coverage and the draw (rules 9 and 10) are in
`coverage.py`; the order the checker runs them in is `checker.ROSTER_RULES`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from riskplan.domain.headers import value_label
from riskplan.domain.policy import Policy
from riskplan.domain.roster import BASES
from riskplan.domain.schema import split_list
from riskplan.i18n import _
from riskplan.io import sha256_file

from .calendar import iso_week_of, weekly_limit
from .context import TIERS_FILE, CheckContext, Violation, Visit


def _v(rule: str, visit: Visit | None, message: str, enterprise_id: str = "") -> Violation:
    if visit is not None:
        return Violation(rule, visit.visit_id, visit.enterprise_id, message)
    return Violation(rule, "", enterprise_id, message)


def roster_well_formed(ctx: CheckContext) -> list[Violation]:
    """The roster's own columns agree with the inputs: unique ids, known enterprises, the
    enterprise's name/subdistrict/tier as published, a known basis, and the window the
    re-derived obligations give (their intersection; the whole quarter for a drawn visit)."""
    out = []
    counts = Counter(v.visit_id for v in ctx.visits)
    windows = {(o.enterprise_id, o.kind): (o.window_start, o.window_end) for o in ctx.obligations}
    rows = ctx.roster_frame.itertuples(index=False) if ctx.roster_frame is not None else iter(())
    for row, v in zip(rows, ctx.visits):
        if counts[v.visit_id] > 1:
            out.append(_v("roster_well_formed", v, _("visit id appears {count} times").format(count=counts[v.visit_id])))
        ent = ctx.enterprise(v.enterprise_id)
        if ent is None:
            out.append(_v("roster_well_formed", v, _("unknown enterprise")))
            continue
        if row.enterprise_name != ent["name"] or row.subdistrict != ent["subdistrict"]:
            out.append(_v("roster_well_formed", v, _("enterprise name or subdistrict differs from enterprises table")))
        if v.tier != ctx.tiers.get(v.enterprise_id):
            out.append(_v("roster_well_formed", v, _("tier '{tier}' differs from tiers.csv ('{expected}')").format(
                tier=value_label("tier", v.tier), expected=value_label("tier", str(ctx.tiers.get(v.enterprise_id))))))
        if v.basis not in BASES:
            out.append(_v("roster_well_formed", v, _("basis '{basis}' is not one of {choices}").format(
                basis=v.basis, choices=", ".join(value_label("basis", b) for b in BASES))))
        claimed = [windows.get((v.enterprise_id, k)) for k in v.obligations]
        if v.obligations and None not in claimed:
            expected = (max(w[0] for w in claimed), min(w[1] for w in claimed))
        elif not v.obligations and v.basis == "drawn":
            expected = (ctx.quarter.start, ctx.quarter.end)
        else:
            continue  # claims nothing, or claims what does not exist: mandatory_coverage says so
        if (v.window_start, v.window_end) != expected:
            out.append(_v("roster_well_formed", v, _("window {start} to {end}, the obligations it serves give "
                                                     "{expected_start} to {expected_end}").format(
                start=v.window_start, end=v.window_end, expected_start=expected[0], expected_end=expected[1])))
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
            what = (_("input file {name} is new since the plan was made") if name not in recorded
                    else _("input file {name} is missing since the plan was made") if name not in now
                    else _("input file {name} has changed since the plan was made"))
            out.append(Violation("inputs_match_plan", "", "", what.format(name=name)))
    if "policy" in ctx.plan and ctx.plan["policy"] != ctx.policy.to_dict():
        out.append(Violation("inputs_match_plan", "", "", _("the policy in force differs from the one in plan.json")))
    tiers_sha = ctx.plan.get("tiers", {}).get("tiers_csv_sha256")
    if tiers_sha and sha256_file(ctx.out_dir / TIERS_FILE) != tiers_sha:
        out.append(Violation("inputs_match_plan", "", "", _("{file} differs from the tiers the plan used").format(
            file=TIERS_FILE)))
    return out


def on_working_day_in_window(ctx: CheckContext) -> list[Violation]:
    """Rule 1: a working day of the quarter, inside the visit's window and inside the window of
    every obligation it claims to serve (windows re-derived, not read from the roster)."""
    workdays = set(ctx.working_days)
    windows = {(o.enterprise_id, o.kind): (o.window_start, o.window_end) for o in ctx.obligations}
    out = []
    for v in ctx.visits:
        if v.date not in workdays:
            why = _("{date} is outside the quarter") if v.date not in ctx.quarter else _("{date} is not a working day")
            out.append(_v("on_working_day_in_window", v, why.format(date=v.date)))
        if not v.window_start <= v.date <= v.window_end:
            out.append(_v("on_working_day_in_window", v, _("{date} is outside the window {start} to {end}").format(
                date=v.date, start=v.window_start, end=v.window_end)))
        for kind in v.obligations:
            w = windows.get((v.enterprise_id, kind))
            if w is not None and not w[0] <= v.date <= w[1]:
                out.append(_v("on_working_day_in_window", v, _("{date} is outside the window of {obligation} "
                                                               "({start} to {end})").format(
                    date=v.date, obligation=kind, start=w[0], end=w[1])))
    return out


def team_of_certified_inspectors(ctx: CheckContext) -> list[Violation]:
    """Rule 2: exactly team_size distinct, known, certified inspectors."""
    size = ctx.policy.roster.team_size
    out = []
    for v in ctx.visits:
        distinct = set(v.inspectors)
        if len(distinct) != len(v.inspectors):
            out.append(_v("team_of_certified_inspectors", v, _("an inspector is listed twice")))
        if len(distinct) != size:
            out.append(_v("team_of_certified_inspectors", v, _("team has {count} distinct inspector(s), team_size "
                                                               "is {size}").format(count=len(distinct), size=size)))
        for iid in v.inspectors:
            row = ctx.inspector(iid)
            if row is None:
                out.append(_v("team_of_certified_inspectors", v, _("unknown inspector {inspector}").format(inspector=iid)))
            elif int(row["certified"]) != 1:
                out.append(_v("team_of_certified_inspectors", v, _("inspector {inspector} is not certified").format(inspector=iid)))
    return out


def inspector_not_on_leave(ctx: CheckContext) -> list[Violation]:
    """Rule 2: nobody on the team is on leave that day."""
    return [_v("inspector_not_on_leave", v, _("inspector {inspector} is on leave on {date}").format(
                inspector=iid, date=v.date))
            for v in ctx.visits for iid in v.inspectors if ctx.on_leave(iid, v.date)]


def inspector_weekly_capacity(ctx: CheckContext) -> list[Violation]:
    """Rule 3: per ISO week, floor(weekly_capacity × (1 − reserve) × available days ÷ 5), where
    available days are the week's working days in the quarter not on leave (exact fractions).
    In a re-plan the capacity is the one a change sets for that week (`ctx.capacity_in_week`),
    and a week whose visits are all frozen (already made) is not judged again."""
    reserve = ctx.policy.roster.capacity_reserve
    frozen = ctx.frozen_visit_ids()
    week_days: dict[tuple[int, int], list[date]] = defaultdict(list)
    for d in ctx.working_days:
        week_days[iso_week_of(d)].append(d)
    load: dict[tuple[str, tuple[int, int]], list[Visit]] = defaultdict(list)
    for v in ctx.visits:
        for iid in set(v.inspectors):
            load[(iid, iso_week_of(v.date))].append(v)
    out = []
    for (iid, week), visits in sorted(load.items()):
        row = ctx.inspector(iid)
        if row is None or all(v.visit_id in frozen for v in visits):
            continue
        capacity = ctx.capacity_in_week(iid, int(row["weekly_capacity"]), week_days.get(week, []))
        available = sum(not ctx.on_leave(iid, d) for d in week_days.get(week, []))
        limit = weekly_limit(capacity, reserve, available)
        if len(visits) > limit:
            ids = sorted(x.visit_id for x in visits)
            out.append(Violation("inspector_weekly_capacity", ids[-1], "", _(
                "inspector {inspector} has {count} visits in ISO week {week}, limit {limit} ({available} available "
                "day(s)): {visits}").format(inspector=iid, count=len(visits), week=f"{week[0]}-W{week[1]:02d}",
                                           limit=limit, available=available, visits=", ".join(ids))))
    return out


def inspector_daily_limit(ctx: CheckContext) -> list[Violation]:
    """Rule 3: at most max_visits_per_inspector_day visits per inspector per day."""
    limit = ctx.policy.roster.max_visits_per_inspector_day
    per_day: dict[tuple[str, date], list[str]] = defaultdict(list)
    for v in ctx.visits:
        for iid in set(v.inspectors):
            per_day[(iid, v.date)].append(v.visit_id)
    return [Violation("inspector_daily_limit", sorted(ids)[-1], "",
                      _("inspector {inspector} has {count} visits on {date}, limit {limit}: {visits}").format(
                          inspector=iid, count=len(ids), date=day, limit=limit, visits=", ".join(sorted(ids))))
            for (iid, day), ids in sorted(per_day.items()) if len(ids) > limit]


def no_conflict_of_interest(ctx: CheckContext) -> list[Violation]:
    """Rule 4: no inspector visits an enterprise they declared a conflict with (回避)."""
    pairs = {(i, e): r for i, e, r in ctx.district.conflicts[["inspector_id", "enterprise_id", "reason"]]
             .itertuples(index=False)}
    return [_v("no_conflict_of_interest", v, _("inspector {inspector} has a conflict of interest ({reason})").format(
                inspector=iid, reason=pairs[(iid, v.enterprise_id)]))
            for v in ctx.visits for iid in v.inspectors if (iid, v.enterprise_id) in pairs]


def needed_qualifications(ent: dict, policy: Policy) -> set[str]:
    """The qualification each of the enterprise's hazards asks a team member to hold."""
    q = policy.qualifications
    hazards = ((ent["hazchem"] != "none", q.hazchem), (int(ent["major_hazard_level"]) >= 1, q.major_hazard),
               (int(ent["dust_explosion"]) == 1, q.dust_explosion), (int(ent["molten_metal"]) == 1, q.molten_metal))
    return {qualification for present, qualification in hazards if present}


def required_qualifications_held(ctx: CheckContext) -> list[Violation]:
    """Rule 5: each hazard's qualification is held by at least one team member."""
    out = []
    for v in ctx.visits:
        ent = ctx.enterprise(v.enterprise_id)
        if ent is None:
            continue
        held: set[str] = set()
        for iid in v.inspectors:
            row = ctx.inspector(iid)
            if row is not None:
                held.update(split_list(row["qualifications"]))
        for need in sorted(needed_qualifications(ent, ctx.policy) - held):
            out.append(_v("required_qualifications_held", v, _("no team member holds '{qualification}'").format(
                qualification=value_label("qualification", need))))
    return out


def rotate_inspectors(ctx: CheckContext) -> list[Violation]:
    """Rule 6: no member of the enterprise's previous team on its next visit. The previous team
    before the quarter is the union of the inspectors on all past visits of the latest past
    date; within the quarter, consecutive visits share no inspector."""
    if not ctx.policy.roster.rotate_inspectors:
        return []
    out = []
    for eid, visits in ctx.by_enterprise.items():
        last = ctx.last_past_visit(eid)
        team = set(ctx.past_teams[eid][last]) if last is not None else set()
        source = _("the last visit before the quarter")
        for v in visits:
            shared = sorted(team & set(v.inspectors))
            if shared:
                out.append(_v("rotate_inspectors", v, _("{inspectors} also on {previous}").format(
                    inspectors=", ".join(shared), previous=source)))
            team, source = set(v.inspectors), _("visit {visit} ({date})").format(visit=v.visit_id, date=v.date)
    return out


def cross_area(ctx: CheckContext) -> list[Violation]:
    """Rule 7: with cross_area, no subdistrict-based inspector visits their home subdistrict."""
    if not ctx.policy.roster.cross_area:
        return []
    out = []
    for v in ctx.visits:
        ent = ctx.enterprise(v.enterprise_id)
        if ent is None:
            continue
        for iid in v.inspectors:
            row = ctx.inspector(iid)
            home = row["home_subdistrict"] if row is not None else ""
            if home and home == ent["subdistrict"]:
                out.append(_v("cross_area", v, _("inspector {inspector} visits their home subdistrict "
                                                 "{subdistrict}").format(inspector=iid, subdistrict=home)))
    return out


def visit_spacing(ctx: CheckContext) -> list[Violation]:
    """Rule 8: visits to one enterprise at least min_days_between_visits apart, also against
    its last visit before the quarter."""
    gap = ctx.policy.roster.min_days_between_visits
    out = []
    for eid, visits in ctx.by_enterprise.items():
        prev, label = ctx.last_past_visit(eid), _("the last visit before the quarter")
        for v in visits:
            if prev is not None and (v.date - prev).days < gap:
                out.append(_v("visit_spacing", v, _("{days} day(s) after {previous} ({date}), minimum {minimum}")
                              .format(days=(v.date - prev).days, previous=label, date=prev, minimum=gap)))
            prev, label = v.date, _("visit {visit}").format(visit=v.visit_id)
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
            out.append(_v("tier_visit_maximum", visits[-1], _("{count} visits this quarter, {tier} maximum is "
                                                              "{limit}").format(count=len(visits),
                                                                                tier=value_label("tier", tier),
                                                                                limit=limit)))
    return out

