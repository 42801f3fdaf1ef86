"""The checker's own reading of the obligations: who must be visited this quarter, and when.

Derived enterprise by enterprise from the raw tables (its past visits, its accidents, its
pinned rows) with plain date arithmetic, instead of the planner's table-wide pandas pass,
so the two readings can be compared and a slip in either shows up:

- a tier with `visits_per_month` (red by default): that many visits in each calendar month
  (kinds `<tier>_month_<k>`, `<tier>_month_<k>_<j>` for the j-th, j ≥ 2);
- a tier with `max_days_between_visits` (orange): due by the last past visit + that many
  days when that falls in the quarter, moved back to the last working day of the quarter on
  or before it; overdue, never visited, or no working day on or before the due date: due by
  the end of month 1 (kind `<tier>_due`); due at most `plan_ahead_days` days after the
  quarter's last day: met ahead, on one of the quarter's last `plan_ahead_days` days and at
  least `min_days_between_visits` after the last visit (nothing when no working day is left);
- `follow_up_hazard`: the latest past date's visits found ≥ 1 major hazard between them;
- `follow_up_accident`: a serious-or-worse accident dated in the 31 days before the quarter
  start, with no past visit on a later day than it;
- `pinned_<row>`: a pinned row (row = its spreadsheet row, header = 1) clipped to the
  quarter; a row wholly outside the quarter belongs to another quarter.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta

import pandas as pd

from riskplan.domain.headers import value_label
from riskplan.domain.policy import Policy
from riskplan.domain.roster import Obligation
from riskplan.domain.schema import SERIOUS_OR_WORSE, TIERS, split_list
from riskplan.i18n import _
from riskplan.load.district import District, DistrictError, Problem

from .calendar import (
    CheckQuarter,
    as_check_quarter,
    last_working_day_on_or_before,
    working_days,
)

LOOKBACK_DAYS = 31  # an accident on quarter start − 31 days still counts


def _day(value: object) -> date:
    return pd.Timestamp(value).date()


def slot_of(kind: str) -> str:
    """Obligations that need separate visits share a slot: `red_month_2` and `red_month_2_2`
    (a second visit in that month) are one slot; every other kind is its own slot."""
    parts = kind.split("_")
    if len(parts) >= 4 and parts[-3] == "month" and parts[-2].isdigit() and parts[-1].isdigit():
        return "_".join(parts[:-1])
    return kind


class _History:
    """Per enterprise: its past visits by date (major hazards summed per date) and its
    serious-or-worse accidents in the look-back window."""

    def __init__(self, district: District, quarter: CheckQuarter):
        self.hazards_on: dict[str, dict[date, int]] = defaultdict(dict)
        for eid, when, majors in district.inspections[["enterprise_id", "date", "major_hazards_found"]].itertuples(
                index=False):
            day = _day(when)
            if day >= quarter.start:
                continue  # only the past counts
            per_day = self.hazards_on[eid]
            per_day[day] = per_day.get(day, 0) + int(majors)
        earliest = quarter.start - timedelta(days=LOOKBACK_DAYS)
        self.accidents: dict[str, list[tuple[date, str]]] = defaultdict(list)
        for eid, when, severity in district.accidents[["enterprise_id", "date", "severity"]].itertuples(index=False):
            day = _day(when)
            if severity in SERIOUS_OR_WORSE and earliest <= day < quarter.start:
                self.accidents[eid].append((day, severity))

    def last_visit(self, eid: str) -> date | None:
        days = self.hazards_on.get(eid)
        return max(days) if days else None


def _tier_rules(eid: str, tier: str, policy: Policy, quarter: CheckQuarter, workdays: list[date],
                last: date | None) -> list[Obligation]:
    rules = policy.tier(tier)
    out = []
    for k in (1, 2, 3):
        first, final = quarter.month(k)
        for j in range(1, rules.visits_per_month + 1):
            kind = f"{tier}_month_{k}" if j == 1 else f"{tier}_month_{k}_{j}"
            out.append(Obligation(eid, kind, "mandatory", first, final,
                                  _("{tier}: visit {visit} of {count} in {month}").format(
                                      tier=value_label("tier", tier), visit=j, count=rules.visits_per_month,
                                      month=f"{first:%Y-%m}")))
    gap = rules.max_days_between_visits
    if gap is None:
        return out
    month_one_end = quarter.month(1)[1]
    if last is None:
        out.append(Obligation(eid, f"{tier}_due", "mandatory", quarter.start, month_one_end,
                              _("{tier}: no past visit, due by {due}").format(tier=value_label("tier", tier),
                                                                               due=month_one_end)))
        return out
    due = last + timedelta(days=gap)
    if due > quarter.end:
        early = _ahead_of_next_quarter(eid, tier, policy, quarter, workdays, last, due)
        return out + early  # otherwise due in a later quarter
    moved = last_working_day_on_or_before(workdays, due) if due >= quarter.start else None
    if moved is None:
        out.append(Obligation(eid, f"{tier}_due", "mandatory", quarter.start, month_one_end,
                              _("{tier}: due {due} (last visit {last} + {days} days), overdue: by {deadline}").format(
                                  tier=value_label("tier", tier), due=due, last=last, days=gap,
                                  deadline=month_one_end)))
    else:
        out.append(Obligation(eid, f"{tier}_due", "mandatory", quarter.start, moved,
                              _("{tier}: due {due} (last visit {last} + {days} days), last working day "
                                "{deadline}").format(tier=value_label("tier", tier), due=due, last=last, days=gap,
                                                     deadline=moved)))
    return out


def _ahead_of_next_quarter(eid: str, tier: str, policy: Policy, quarter: CheckQuarter, workdays: list[date],
                           last: date, due: date) -> list[Obligation]:
    """A deadline at most `plan_ahead_days` days past the quarter's last day is met in the
    quarter: on one of its last `plan_ahead_days` calendar days, and at least
    `min_days_between_visits` days after the last visit. No working day there: nothing now."""
    days = policy.tier(tier).plan_ahead_days
    late_by = due.toordinal() - quarter.end.toordinal()
    if days < 1 or late_by > days:
        return []
    opens = date.fromordinal(max(quarter.end.toordinal() - days + 1, quarter.start.toordinal(),
                                 last.toordinal() + policy.roster.min_days_between_visits))
    if not any(opens <= day <= quarter.end for day in workdays):
        return []
    return [Obligation(eid, f"{tier}_due", "mandatory", opens, quarter.end,
                       _("{tier}: due {due} (last visit {last} + {days} days), {late} day(s) after the quarter: "
                         "met ahead, from {opens}").format(tier=value_label("tier", tier), due=due, last=last,
                                                          days=policy.tier(tier).max_days_between_visits,
                                                          late=late_by, opens=opens))]


def derive_obligations(district: District, tiers: pd.Series, quarter: object) -> list[Obligation]:
    """Every obligation of the quarter, enterprise by enterprise (tiers: enterprise_id -> tier)."""
    quarter = as_check_quarter(quarter)
    policy = district.policy
    rules = policy.roster
    workdays = working_days(quarter, rules.holidays, rules.extra_workdays)
    history = _History(district, quarter)
    pinned: dict[str, list[tuple[int, str, date, date]]] = defaultdict(list)
    for position, (eid, reason, earliest, latest) in enumerate(
            district.pinned[["enterprise_id", "reason", "earliest", "latest"]].itertuples(index=False)):
        pinned[eid].append((position + 2, reason, _day(earliest), _day(latest)))
    tier_names = {t.value for t in TIERS}
    tier_of = {str(e): str(t).lower() for e, t in tiers.items()}
    month_one = (quarter.start, quarter.month(1)[1])

    out: list[Obligation] = []
    for eid in sorted(set(tier_of) | set(history.hazards_on) | set(history.accidents) | set(pinned)):
        tier = tier_of.get(eid)
        last = history.last_visit(eid)
        if tier in tier_names:
            out.extend(_tier_rules(eid, tier, policy, quarter, workdays, last))
        if policy.follow_up.after_major_hazard and last is not None:
            found = history.hazards_on[eid][last]
            if found >= 1:
                out.append(Obligation(eid, "follow_up_hazard", "follow_up", *month_one,
                                      _("the visit of {date} found {count} major hazard(s)").format(date=last,
                                                                                                    count=found)))
        if policy.follow_up.after_accident:
            unseen = [(day, sev) for day, sev in history.accidents.get(eid, []) if last is None or last <= day]
            if unseen:
                day, severity = max(unseen)
                out.append(Obligation(eid, "follow_up_accident", "follow_up", *month_one,
                                      _("{severity} accident on {date} and no visit since").format(
                                          severity=value_label("severity", severity), date=day)))
        for row, reason, earliest, latest in pinned.get(eid, []):
            if latest < quarter.start or earliest > quarter.end:
                continue
            start, end = max(earliest, quarter.start), min(latest, quarter.end)
            out.append(Obligation(eid, f"pinned_{row}", "pinned", start, end,
                                  _("pinned: {reason} ({earliest} to {latest})").format(reason=reason,
                                                                                        earliest=earliest,
                                                                                        latest=latest)))
    return out


def with_assumed_history(district: District, plan: dict, quarter: object) -> District:
    """The district with the visits plan.json's "previous_plan" counts as done without a result
    ("planned_not_recorded": visit_id, enterprise_id, date, inspectors) added to its past
    inspections, as the plan stated it assumed them; a visit the history already holds (by
    visit id) is not added twice. A listed visit that is not a past visit of a known enterprise
    makes plan.json unusable (DistrictError)."""
    quarter = as_check_quarter(quarter)
    listed = (plan.get("previous_plan") or {}).get("planned_not_recorded") or []
    history = district.inspections
    held = set(history["visit_id"]) if "visit_id" in history.columns else set()
    known = set(district.enterprises["enterprise_id"])
    rows, problems = [], []
    for number, entry in enumerate(listed, start=1):
        try:
            vid, eid = str(entry["visit_id"]), str(entry["enterprise_id"])
            day = date.fromisoformat(str(entry["date"]))
            team = split_list(str(entry["inspectors"]))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(_("previous_plan visit {number}: {error}").format(number=number, error=exc))
            continue
        if eid not in known or not day < quarter.start or not team:
            problems.append(_("previous_plan visit {visit_id}: not a past visit of a known enterprise by a team "
                              "({enterprise_id}, {date})").format(visit_id=vid, enterprise_id=eid, date=day))
            continue
        if vid not in held:
            rows.append({"enterprise_id": eid, "date": pd.Timestamp(day), "inspectors": ";".join(team),
                         "hazards_found": 0, "major_hazards_found": 0, "penalized": 0, "visit_id": vid})
    if problems:
        raise DistrictError([Problem("plan.json", p) for p in problems])
    if not rows:
        return district
    added = pd.DataFrame(rows).reindex(columns=list(history.columns))
    for column, dtype in history.dtypes.items():
        if column in ("enterprise_id", "date", "inspectors", "hazards_found", "major_hazards_found", "penalized"):
            added[column] = added[column].astype(dtype)
    return replace(district, inspections=pd.concat([history, added], ignore_index=True))
