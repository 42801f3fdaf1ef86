"""Why requested visits were not placed, and the smallest capacity change that would place them.

`diagnose` names the first rule that rules a request out, relaxing nothing: no working day
in the window, qualification (no certified holder), cross_area, leave, conflicts, spacing
(or the tier's visit maximum), rotation, and otherwise capacity (every eligible inspector
is fully booked that week or day).

For capacity shortfalls `explain_shortfall` re-solves the solver's aggregate week model
(`riskplan.solve.weekplan.build_week_model`) on the capacity the roster leaves free (drawn visits
count as free: mandatory visits come first) in elastic form: every missing mandatory visit
must be placed, and slack variables per (week, all inspectors) and per (week,
qualification) buy extra inspector-visit slots at unit cost. The minimal slack, summed per
month and divided by a typical inspector's week, is the suggestion ("+14 inspector-weeks
in 2027-02", "2 more hazchem-qualified inspectors"). A sentence that is the same for a whole
month is written once per (rule, tier, month); that group's other subdistrict rows point to it.

Reasons and suggestions are sentences for people, in the current language (riskplan.i18n);
the reason category (`reason` column: capacity, qualification, ...) stays a code.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import NamedTuple

import numpy as np
import pandas as pd

from riskplan.domain.headers import value_label
from riskplan.domain.roster import Roster, RosterProblem
from riskplan.i18n import _, get_language, ngettext

COLUMNS = ("rule", "tier", "subdistrict", "month", "missing", "reason", "suggestion")
RULE_ORDER = ("red_monthly", "orange_due", "follow_up", "pinned", "mandatory", "drawn")


class Diagnosis(NamedTuple):
    category: str  # capacity, qualification, no working day, cross_area, leave, conflicts, spacing, rotation
    sentence: str  # for people, in the current language
    missing: tuple[str, ...] = ()  # qualifications no certified inspector holds


def _joined(parts, sep: str = ",") -> str:
    """Parts of one sentence joined as the reader's language punctuates a list."""
    return ({",": "、", ";": "；"} if get_language() == "zh" else {",": ", ", ";": "; "})[sep].join(parts)


def _qualifications(codes) -> str:
    """Qualification codes as the reader's words (危险化学品 in Chinese), joined."""
    return _joined(value_label("qualification", q) for q in codes)


def diagnose(inst, state, r: int) -> Diagnosis:
    """(reason category, sentence, missing qualifications) for why request r cannot be placed
    in the current roster.

    The rules are added one at a time, in the order of the module doc, each through its
    function in `solve.rules`; the first that leaves no day with a possible team is named."""
    from riskplan.solve.rules import (
        cross_area,
        holders_of,
        inspector_daily_limit,
        inspector_not_on_leave,
        inspector_weekly_capacity,
        no_conflict_of_interest,
        on_working_day_in_window,
        rotate_inspectors,
        team_of_certified_inspectors,
        team_possible,
        tier_visit_maximum,
        visit_spacing,
    )

    req = inst.requests[r]
    days = np.array(on_working_day_in_window(inst, r), dtype=np.int64)
    if not len(days):
        return Diagnosis("no working day", _("no working day between {start} and {end}").format(
            start=req.window_start, end=req.window_end))
    e = int(inst.req_ent[r])
    need = inst.ent_need[e]
    sub = inst.subs[int(inst.ent_sub[e])]
    cert = team_of_certified_inspectors(inst)
    if cert.sum() < inst.team_size:
        return Diagnosis("capacity", _("the district has {certified} certified inspectors; a team needs {team_size}")
                         .format(certified=int(cert.sum()), team_size=inst.team_size))
    if not team_possible(inst, e, cert[:, None], exact=True)[0]:
        missing = [q for q in need if not (cert & holders_of(inst, q)).any()]
        if missing:
            return Diagnosis("qualification", _("no certified inspector holds {qualifications}").format(
                qualifications=_qualifications(missing)), tuple(missing))
        return Diagnosis("qualification", _("no team of {team_size} certified inspectors covers {qualifications}")
                         .format(team_size=inst.team_size, qualifications=" + ".join(
                             value_label("qualification", q) for q in need)))
    base = cert & cross_area(inst, int(inst.ent_sub[e]))
    if not team_possible(inst, e, base[:, None], exact=True)[0]:
        return Diagnosis("cross_area", _("too few qualified certified inspectors based outside {subdistrict}")
                         .format(subdistrict=sub))
    M = base[:, None] & inspector_not_on_leave(inst, days)
    ok = team_possible(inst, e, M, exact=True)
    if not ok.any():
        return Diagnosis("leave", _("too few qualified certified inspectors off leave on any day of the window"))
    M &= no_conflict_of_interest(inst, e)[:, None]
    ok &= team_possible(inst, e, M, exact=True)
    if not ok.any():
        return Diagnosis("conflicts",
                         _("conflicts of interest leave too few qualified inspectors on every day of the window"))
    if not tier_visit_maximum(inst, state, e):
        return Diagnosis("spacing", _("the enterprise already has its tier's maximum of {count} visits").format(
            count=int(inst.ent_max[e])))
    ok &= visit_spacing(inst, state, e, days)
    if not ok.any():
        return Diagnosis("spacing", _("every day of the window is within {days} days of another visit").format(
            days=inst.min_gap))
    M &= rotate_inspectors(inst, state, e, days)
    ok &= team_possible(inst, e, M, exact=True)
    if not ok.any():
        return Diagnosis("rotation", _("rotation excludes too many of the remaining qualified inspectors"))
    M &= inspector_daily_limit(inst, state, days) & inspector_weekly_capacity(inst, state, days)
    if team_possible(inst, e, M[:, ok], exact=True).any():
        return Diagnosis("capacity", _("a team fits but was not found by the search (mandatory visits took the slots)"))
    short = [q for q in need if not (M[:, ok] & holders_of(inst, q)[:, None]).any()]
    if short:
        return Diagnosis("capacity", _("every eligible {qualifications}-qualified inspector is fully booked in the "
                                       "window").format(qualifications=_qualifications(short)))
    return Diagnosis("capacity", _("every eligible inspector is fully booked in the window"))


def _month_label(d) -> str:
    return f"{d.year}-{d.month:02d}"


def capacity_suggestions(inst, state, requests: list[int], seed: int = 0) -> dict[str, str]:
    """month label -> the smallest extra capacity (from the elastic aggregate model) that places `requests`."""
    from riskplan.solve.rules import team_of_certified_inspectors
    from riskplan.solve.weekplan import (
        _solver_params,
        build_week_model,
        request_classes,
    )

    if not requests:
        return {}
    # capacity left free by the roster's mandatory visits (drawn visits yield to mandatory ones)
    day_load = np.zeros((inst.I, inst.D), dtype=np.int64)
    week_load = np.zeros((inst.I, inst.W), dtype=np.int64)
    for r, (d, team) in state.placed.items():
        if inst.req_mandatory[r]:
            day_load[list(team), d] += 1
            week_load[list(team), inst.week_of_day[d]] += 1
    week_free = np.maximum(inst.wlim - week_load, 0)
    day_free = np.maximum(inst.day_limit - day_load, 0)
    classes = request_classes(inst, requests)
    if not classes:
        return {}
    model, x, slack = build_week_model(inst, classes, week_free=week_free, day_free=day_free, elastic=True)
    solver = _solver_params(seed, 5.0, 20.0)
    status = solver.Solve(model)
    if solver.StatusName(status) not in ("OPTIMAL", "FEASIBLE"):
        return {}
    full = inst.wlim.max(axis=1)[team_of_certified_inspectors(inst)]
    typical = float(np.median(full)) if len(full) else 1.0
    typical = max(typical, 1.0)

    def month_of_week(w: int) -> str:
        ds = inst.week_days[w]
        labels = [_month_label(inst.days[d]) for d in ds]
        return max(sorted(set(labels)), key=labels.count)

    need_all: dict[str, float] = defaultdict(float)
    need_q: dict[tuple[str, str], float] = defaultdict(float)
    need_x: dict[tuple[str, str], float] = defaultdict(float)
    weeks_in_month: dict[str, int] = defaultdict(int)
    for w in range(inst.W):
        weeks_in_month[month_of_week(w)] += 1
    for key, var in slack.items():
        v = solver.Value(var)
        if v <= 0:
            continue
        w = key[-1]
        m = month_of_week(w)
        if key[0] == "all":
            need_all[m] += v
        elif key[0] == "cross":
            need_x[(m, inst.subs[key[1]])] += v
        else:
            need_q[(m, key[0])] += v
    out: dict[str, list[str]] = defaultdict(list)
    for (m, q), v in sorted(need_q.items()):
        people = math.ceil(v / (typical * weeks_in_month[m]))
        out[m].append(ngettext(
            "{people} more {qualification}-qualified inspector (+{weeks} {qualification}-qualified "
            "inspector-weeks in {month})",
            "{people} more {qualification}-qualified inspectors (+{weeks} {qualification}-qualified "
            "inspector-weeks in {month})", people).format(
            people=people, qualification=value_label("qualification", q), weeks=math.ceil(v / typical), month=m))
    for m, v in sorted(need_all.items()):
        q_cover = sum(vq for (mm, _q), vq in need_q.items() if mm == m)
        extra = max(0.0, v - q_cover * inst.team_size)
        weeks = math.ceil(extra / typical)
        if weeks > 0:
            out[m].append(_("+{weeks} inspector-weeks in {month}").format(weeks=weeks, month=m))
    for (m, s), v in sorted(need_x.items()):
        out[m].append(_("+{weeks} inspector-weeks in {month} from inspectors based outside {subdistrict}").format(
            weeks=math.ceil(v / typical), month=m, subdistrict=s))
    return {m: _joined(v, ";") for m, v in out.items()}


def explain_shortfall(problem: RosterProblem, roster: Roster, *, _instance=None, seed: int = 0) -> pd.DataFrame:
    """One row per (rule, tier, subdistrict, month, reason) of unplaced requests; columns COLUMNS.

    month is the YYYY-MM of the window's end (the deadline). Drawn visits appear with rule
    "drawn" (drawn, not placed). Empty when everything was placed.
    """
    from riskplan.domain.obligation_kinds import rule_of
    from riskplan.solve.compile import compile_problem
    from riskplan.solve.result import state_from_roster
    from riskplan.solve.rules import team_of_certified_inspectors

    if not roster.unplaced:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "missing" else object) for c in COLUMNS})
    inst = _instance if _instance is not None else compile_problem(problem)
    state = state_from_roster(inst, roster)
    by_id = {r.visit_id: k for k, r in enumerate(inst.requests)}
    rows: dict[tuple, list[int]] = defaultdict(list)
    texts: dict[tuple, Diagnosis] = {}
    capacity_mandatory = []
    for u in roster.unplaced:
        r = by_id[u.request.visit_id]
        found = diagnose(inst, state, r)
        cat = found.category
        e = int(inst.req_ent[r])
        key = (rule_of(u.request), inst.ent_tier[e], inst.subs[int(inst.ent_sub[e])],
               _month_label(u.request.window_end), cat)
        rows[key].append(r)
        texts.setdefault(key, found)
        if cat == "capacity" and u.request.mandatory:
            capacity_mandatory.append(r)
    sugg = capacity_suggestions(inst, state, capacity_mandatory, seed)
    out = []
    said: dict[tuple[str, str, str, str], str] = {}  # (rule, tier, month, sentence) -> first subdistrict
    for key in sorted(rows, key=lambda k: (RULE_ORDER.index(k[0]) if k[0] in RULE_ORDER else 99,) + k):
        rule, tier, sub, month, cat = key
        n = len(rows[key])
        n_cert = int(team_of_certified_inspectors(inst).sum())
        found = texts[key]
        if cat == "capacity" and n_cert < inst.team_size:
            s = _("{reason}: certify at least {count} more").format(reason=found.sentence,
                                                                     count=inst.team_size - n_cert)
        elif cat == "capacity" and rule != "drawn":
            s = sugg.get(month) or _joined(sugg.values(), ";") or found.sentence
            first = said.setdefault((rule, tier, month, s), sub)
            if first != sub:  # the month-wide sentence is on the group's first row
                s = _("see the row of {subdistrict}: the need is for the whole month").format(subdistrict=first)
        elif cat == "capacity":
            s = _("drawn visits yield to mandatory ones; more inspector-weeks would place them")
        elif cat == "qualification":
            # enough holders to serve these visits: one holder slot per visit, a typical week each
            full = inst.wlim.max(axis=1)[team_of_certified_inspectors(inst)]
            per_person = max(1.0, float(np.median(full)) if len(full) else 1.0) * max(1, inst.W)
            people = max(1, math.ceil(sum(len(v) for k2, v in rows.items() if k2[4] == "qualification") / per_person))
            s = ngettext("{people} more {qualifications}-qualified certified inspector",
                         "{people} more {qualifications}-qualified certified inspectors", people).format(
                people=people, qualifications=_qualifications(found.missing)) if found.missing else \
                _("{reason}: one more certified inspector holding several of them").format(reason=found.sentence)
        elif cat == "no working day":
            s = _("widen the window to include a working day")
        elif cat == "leave":
            s = _("move leave out of the window or add available inspectors")
        elif cat == "conflicts":
            s = _("add inspectors without a conflict of interest for these enterprises")
        elif cat == "rotation":
            s = _("add eligible inspectors (rotation excludes the previous team)")
        elif cat == "cross_area":
            s = _("add qualified inspectors based in other subdistricts or district-wide")
        else:
            s = found.sentence
        out.append({"rule": rule, "tier": tier, "subdistrict": sub, "month": month, "missing": n,
                    "reason": cat, "suggestion": s})
    df = pd.DataFrame(out, columns=list(COLUMNS))
    df["missing"] = df["missing"].astype("int64")
    return df
