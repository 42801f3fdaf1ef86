"""Who must be visited this quarter, and in how few visits (pipeline step: tier -> obligations).

`find_obligations` reads the policy's rules (docs/obligations.md):

- a tier with `visits_per_month` (red): that many visits in each calendar month of the quarter;
- a tier with `max_days_between_visits` (orange): due by last past visit + that many days when
  the date falls in the quarter, moved back to the last working day on or before it; overdue
  or never visited: due by the end of the quarter's first month (a due date that moving back
  would push out of the quarter, e.g. Saturday 2 January after a New Year holiday, counts as
  overdue); due in the first `plan_ahead_days` days after the quarter's end: planned ahead, a
  visit in the quarter's last `plan_ahead_days` days (not sooner than `min_days_between_visits`
  after the last visit; none when that holds no working day);
- follow-up after a major hazard (`[follow_up] after_major_hazard`): the latest past visit
  found >= 1 major hazard -> a visit in month 1 (several past visits on that latest date: any
  of them counts);
- follow-up after an accident (`[follow_up] after_accident`): a serious-or-worse accident
  dated in the 31 days before the quarter start (start - 31 days included) and no visit on a
  later day than the accident -> a visit in month 1;
- pinned: each row of the pinned table is one visit in its window clipped to the quarter; a
  row whose window lies wholly outside the quarter belongs to another quarter.

`group_obligations` merges each enterprise's obligations into as few visits as their windows
allow (one visit serves several obligations when its date lies in each window; its window is
their intersection), keeps each enterprise within its tier's `max_visits_per_quarter`, and
returns, never drops, the obligations it cannot turn into a visit: windows with no working day,
and obligations beyond the tier's maximum.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pandas as pd

from riskplan.domain.calendar import Quarter, WorkCalendar
from riskplan.domain.policy import Policy
from riskplan.domain.roster import BASES, Obligation, VisitRequest
from riskplan.domain.schema import SERIOUS_OR_WORSE, TIERS, Tier
from riskplan.domain.headers import value_label
from riskplan.i18n import N_, _
from riskplan.load.district import District

ACCIDENT_LOOKBACK_DAYS = 31
#: English month names, as strftime gives them (marked so the catalog holds them).
MONTH_NAMES = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"), N_("July"),
               N_("August"), N_("September"), N_("October"), N_("November"), N_("December"))
VISIT_ID_WIDTH = 5
PLAN_ID_LENGTH = 6
#: A visit id with its plan's identity: quarter, plan id, number (2027Q1-7F3A9C-00001).
VISIT_ID_PATTERN = re.compile(r"^(?P<quarter>\d{4}Q[1-4])-(?P<plan>[0-9A-F]{%d})-(?P<number>\d+)$" % PLAN_ID_LENGTH)


def plan_fingerprint(district: District, tiers: pd.Series | pd.DataFrame, quarter: Quarter | str,
                     seed: int, previous: dict | None = None) -> dict:
    """What decides which visits a plan requests and how they are numbered: the input files'
    sha256, the tiers (and the probabilities a risk-weighted draw reads), the policy, the
    quarter and the seed, and the previous plan whose unrecorded visits count as history
    (`previous`, only when given). Options that only change the search (the time limit) are not in it."""
    if isinstance(tiers, pd.DataFrame):
        columns = [c for c in ("enterprise_id", "tier", "probability") if c in tiers.columns]
        frame = tiers[columns].astype(str).sort_values("enterprise_id", kind="mergesort")
        tier_rows = frame.values.tolist()
    else:
        tier_rows = sorted([str(k), str(v)] for k, v in as_tier_series(tiers).items())
    return {"quarter": str(quarter), "seed": int(seed), "inputs": district.fingerprints(),
            "tiers": hashlib.sha256(json.dumps(tier_rows, ensure_ascii=False).encode("utf-8")).hexdigest(),
            "policy": district.policy.to_dict(), **({"previous": previous} if previous is not None else {})}


def plan_id(fingerprint: dict) -> str:
    """The short plan id (6 hex digits, upper case) of a plan's fingerprint: two plans of one
    quarter from different inputs get different ids, the same inputs and seed the same id."""
    text = json.dumps(fingerprint, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:PLAN_ID_LENGTH].upper()


def visit_id(number: int, prefix: str | None = None) -> str:
    """The visit id of the n-th requested visit of the plan whose `plan_prefix` is `prefix`
    (2027Q1-7F3A9C-00001: sorts as text within the plan). Without a prefix, the V00001 of
    earlier versions (what a history recorded before plan ids holds; library callers that
    plan nothing, e.g. the value analysis, still get these)."""
    if prefix is None:
        return f"V{number:0{VISIT_ID_WIDTH}d}"
    return f"{prefix}-{number:0{VISIT_ID_WIDTH}d}"


def plan_prefix(quarter: Quarter | str, plan: str) -> str:
    """The part of a visit id every visit of the plan shares ("2027Q1-7F3A9C")."""
    return f"{quarter}-{plan}"


def parse_visit_id(text: str) -> tuple[str, str, int] | None:
    """(quarter, plan id, number) of a visit id with its plan's identity; None for an old V00001."""
    m = VISIT_ID_PATTERN.match(text)
    return (m["quarter"], m["plan"], int(m["number"])) if m else None


def as_tier_series(tiers: pd.Series | pd.DataFrame) -> pd.Series:
    """enterprise_id -> tier text from a Series or an (enterprise_id, tier) frame."""
    if isinstance(tiers, pd.DataFrame):
        tiers = tiers.set_index("enterprise_id")["tier"]
    return tiers.astype(str).str.lower()


def past_inspections(district: District, quarter: Quarter) -> pd.DataFrame:
    """The inspections dated before the quarter start (the history every rule looks back on)."""
    ins = district.inspections
    return ins[ins["date"] < pd.Timestamp(quarter.start)]


def latest_past_visits(district: District, quarter: Quarter) -> pd.DataFrame:
    """Per enterprise with history: `date` of its latest past visit and `major_hazards_found`
    on that date (summed over that date's visits). Index: enterprise_id."""
    past = past_inspections(district, quarter)
    last = past.groupby("enterprise_id")["date"].transform("max")
    latest = past[past["date"] == last]
    return latest.groupby("enterprise_id").agg(date=("date", "first"),
                                               major_hazards_found=("major_hazards_found", "sum"))


def _month_name(day: date) -> str:
    """January 2027 / 2027年1月."""
    return _("{month} {year}").format(month=_(MONTH_NAMES[day.month - 1]), year=day.year)


def _tier_obligations(eid: str, tier: str, policy: Policy, quarter: Quarter, calendar: WorkCalendar,
                      last_visit: date | None) -> list[Obligation]:
    out: list[Obligation] = []
    rules = policy.tier(tier)
    for k in (1, 2, 3):
        for j in range(1, rules.visits_per_month + 1):
            kind = f"{tier}_month_{k}" + (f"_{j}" if j > 1 else "")
            out.append(Obligation(
                eid, kind, "mandatory", quarter.month_start(k), quarter.month_end(k),
                _("{tier}: {count} visit(s) in each month ({month})").format(
                    tier=value_label("tier", tier), count=rules.visits_per_month,
                    month=_month_name(quarter.month_start(k)))))
    if rules.max_days_between_visits is not None:
        gap = rules.max_days_between_visits
        if last_visit is None:
            out.append(Obligation(eid, f"{tier}_due", "mandatory", quarter.start, quarter.month_end(1),
                                  _("{tier}: never visited, due by the end of month 1").format(
                                      tier=value_label("tier", tier))))
        else:
            due = last_visit + timedelta(days=gap)
            if due < quarter.start:
                out.append(Obligation(
                    eid, f"{tier}_due", "mandatory", quarter.start, quarter.month_end(1),
                    _("{tier}: overdue since {due} (last visit {last_visit} + {gap} days), due by the end of "
                      "month 1").format(tier=value_label("tier", tier), due=due, last_visit=last_visit, gap=gap)))
            elif due > quarter.end:
                ahead = _planned_ahead(eid, tier, rules, policy, quarter, calendar, last_visit, due)
                if ahead is not None:
                    out.append(ahead)
            else:
                moved = calendar.last_working_day_on_or_before(due)
                reason = _("{tier}: last visit {last_visit} + {gap} days = {due}").format(
                    tier=value_label("tier", tier), last_visit=last_visit, gap=gap, due=due)
                if moved is None:  # moved back out of the quarter: as good as overdue
                    out.append(Obligation(
                        eid, f"{tier}_due", "mandatory", quarter.start, quarter.month_end(1),
                        reason + _(", no working day of the quarter on or before it: overdue, due by the end of "
                                   "month 1")))
                else:
                    if moved != due:
                        reason += _(", moved back to the working day {day}").format(day=moved)
                    out.append(Obligation(eid, f"{tier}_due", "mandatory", quarter.start, moved, reason))
    return out


def _planned_ahead(eid: str, tier: str, rules, policy: Policy, quarter: Quarter, calendar: WorkCalendar,
                   last_visit: date, due: date) -> Obligation | None:
    """A deadline in the first `plan_ahead_days` days after the quarter: a visit in the quarter's
    last `plan_ahead_days` days (never sooner than `min_days_between_visits` after the last
    visit), or None when that holds no working day (the next quarter then plans it)."""
    ahead = rules.plan_ahead_days
    if ahead == 0 or (due - quarter.end).days > ahead:
        return None
    start = max(quarter.start, quarter.end - timedelta(days=ahead - 1),
                last_visit + timedelta(days=policy.roster.min_days_between_visits))
    if not calendar.days_in(start, quarter.end):
        return None
    return Obligation(eid, f"{tier}_due", "mandatory", start, quarter.end, _(
        "{tier}: last visit {last_visit} + {gap} days = {due}, within {days} days after the quarter: planned "
        "ahead, from {start}").format(tier=value_label("tier", tier), last_visit=last_visit,
                                      gap=rules.max_days_between_visits, due=due, days=ahead, start=start))


def find_obligations(district: District, tiers: pd.Series | pd.DataFrame, quarter: Quarter | str,
                     calendar: WorkCalendar | None = None) -> list[Obligation]:
    """Every obligation of the quarter, sorted by enterprise, window and kind.

    tiers: enterprise_id -> tier text (red|orange|yellow|blue) for every enterprise.
    """
    quarter = Quarter.parse(quarter) if isinstance(quarter, str) else quarter
    policy = district.policy
    calendar = calendar or WorkCalendar.for_quarter(quarter, policy.roster)
    tier_of = as_tier_series(tiers)
    latest = latest_past_visits(district, quarter)
    last_date = {e: ts.date() for e, ts in latest["date"].items()}
    out: list[Obligation] = []

    for tier in TIERS:
        rules = policy.tier(tier)
        if rules.visits_per_month == 0 and rules.max_days_between_visits is None:
            continue
        for eid in sorted(tier_of.index[tier_of == tier.value]):
            out.extend(_tier_obligations(eid, tier.value, policy, quarter, calendar, last_date.get(eid)))

    if policy.follow_up.after_major_hazard:
        found = latest[latest["major_hazards_found"] >= 1]
        for eid, row in found.iterrows():
            out.append(Obligation(
                eid, "follow_up_hazard", "follow_up", quarter.start, quarter.month_end(1),
                _("latest visit {date} found {count} major hazard(s)").format(
                    date=row["date"].date(), count=int(row["major_hazards_found"]))))

    if policy.follow_up.after_accident:
        acc = district.accidents
        lo = pd.Timestamp(quarter.start - timedelta(days=ACCIDENT_LOOKBACK_DAYS))
        recent = acc[acc["severity"].isin(SERIOUS_OR_WORSE) & (acc["date"] >= lo)
                     & (acc["date"] < pd.Timestamp(quarter.start))]
        if not recent.empty:
            worst = recent.sort_values(["date", "severity"]).groupby("enterprise_id").last()
            for eid, row in worst.iterrows():
                accident_day = row["date"].date()
                seen = last_date.get(eid)
                if seen is not None and seen > accident_day:
                    continue
                out.append(Obligation(
                    eid, "follow_up_accident", "follow_up", quarter.start, quarter.month_end(1),
                    _("{severity} accident on {date}, not visited since").format(
                        severity=value_label("severity", row["severity"]), date=accident_day)))

    pinned = district.pinned
    for idx, row in enumerate(pinned.itertuples(index=False)):
        earliest, latest_day = row.earliest.date(), row.latest.date()
        if latest_day < quarter.start or earliest > quarter.end:
            continue
        start, end = max(earliest, quarter.start), min(latest_day, quarter.end)
        reason = _("pinned: {reason} ({earliest} to {latest})").format(reason=row.reason, earliest=earliest,
                                                                       latest=latest_day)
        if (start, end) != (earliest, latest_day):
            reason += _(", clipped to {start} to {end}").format(start=start, end=end)
        out.append(Obligation(row.enterprise_id, f"pinned_{idx + 2}", "pinned", start, end, reason))

    return sorted(out, key=obligation_sort_key)


def _natural(text: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text))


def obligation_sort_key(ob: Obligation) -> tuple:
    return (ob.enterprise_id, ob.window_start, ob.window_end, BASES.index(ob.basis), _natural(ob.kind))


def exclusive_slot(kind: str) -> str:
    """Obligations with the same slot need separate visits (e.g. a 2nd visit in one month)."""
    m = re.match(r"^(.*_month_\d)(_\d+)?$", kind)
    return m.group(1) if m else kind


@dataclass
class Grouping:
    """Result of `group_obligations`.

    requests: the mandatory visits, numbered (see `visit_id`) in (enterprise, window) order;
    no_working_day: obligations whose window holds no working day of the quarter;
    beyond_max: obligations that would take an enterprise past its tier's max_visits_per_quarter.
    """

    requests: list[VisitRequest] = field(default_factory=list)
    no_working_day: list[Obligation] = field(default_factory=list)
    beyond_max: list[Obligation] = field(default_factory=list)


@dataclass
class _Group:
    members: list[Obligation]
    lo: int  # working-day index range shared by all members
    hi: int

    @property
    def basis(self) -> str:
        return min((o.basis for o in self.members), key=BASES.index)

    def accepts(self, ob: Obligation, lo: int, hi: int) -> bool:
        slots = {exclusive_slot(o.kind) for o in self.members}
        return exclusive_slot(ob.kind) not in slots and max(lo, self.lo) <= min(hi, self.hi)

    def add(self, ob: Obligation, lo: int, hi: int) -> None:
        self.members.append(ob)
        self.lo, self.hi = max(lo, self.lo), min(hi, self.hi)


def _day_range(ob: Obligation, calendar: WorkCalendar) -> tuple[int, int] | None:
    days = calendar.days_in(ob.window_start, ob.window_end)
    if not days:
        return None
    return calendar.index[days[0]], calendar.index[days[-1]]


def _merge_enterprise(obs: list[Obligation], ranges: dict[Obligation, tuple[int, int]],
                      max_visits: int) -> tuple[list[_Group], list[Obligation]]:
    """Fewest visits stabbing every window (greedy by earliest window end, which is optimal
    for intervals), then the tier maximum: keep the most binding visits, fold what the
    dropped ones served into kept visits where windows allow, report the rest."""
    pending = sorted(obs, key=lambda o: (ranges[o][1], ranges[o][0], obligation_sort_key(o)))
    groups: list[_Group] = []
    while pending:
        first = pending.pop(0)
        group = _Group([first], *ranges[first])
        point = ranges[first][1]
        rest = []
        for ob in pending:
            lo, hi = ranges[ob]
            if lo <= point and group.accepts(ob, lo, hi):
                group.add(ob, lo, hi)
            else:
                rest.append(ob)
        pending = rest
        groups.append(group)
    if len(groups) <= max_visits:
        return groups, []
    ranked = sorted(groups, key=lambda g: (BASES.index(g.basis), g.hi, g.lo))
    kept, dropped = ranked[:max_visits], ranked[max_visits:]
    excess: list[Obligation] = []
    for group in dropped:
        for ob in group.members:
            home = next((g for g in kept if g.accepts(ob, *ranges[ob])), None)
            if home is None:
                excess.append(ob)
            else:
                home.add(ob, *ranges[ob])
    return kept, excess


def group_obligations(obligations: list[Obligation], policy: Policy, calendar: WorkCalendar,
                      tiers: pd.Series | pd.DataFrame, first_number: int = 1, id_prefix: str | None = None) -> Grouping:
    """Merge each enterprise's obligations into as few visits as their windows allow; the
    visits are numbered from `first_number` with the plan's `id_prefix` (see `visit_id`)."""
    tier_of = as_tier_series(tiers)
    result = Grouping()
    by_enterprise: dict[str, list[Obligation]] = {}
    ranges: dict[Obligation, tuple[int, int]] = {}
    for ob in obligations:
        r = _day_range(ob, calendar)
        if r is None:
            result.no_working_day.append(ob)
            continue
        ranges[ob] = r
        by_enterprise.setdefault(ob.enterprise_id, []).append(ob)

    drafts: list[VisitRequest] = []
    for eid in sorted(by_enterprise):
        limit = policy.tier(Tier(tier_of[eid])).max_visits_per_quarter
        groups, excess = _merge_enterprise(by_enterprise[eid], ranges, limit)
        result.beyond_max.extend(excess)
        for g in groups:
            members = sorted(g.members, key=lambda o: (BASES.index(o.basis), _natural(o.kind)))
            drafts.append(VisitRequest(
                visit_id="", enterprise_id=eid, basis=g.basis,
                obligations=tuple(o.kind for o in members),
                window_start=max(o.window_start for o in members),
                window_end=min(o.window_end for o in members)))
    drafts.sort(key=lambda r: (r.enterprise_id, r.window_start, r.window_end, r.obligations))
    result.requests = [replace(r, visit_id=visit_id(first_number + i, id_prefix)) for i, r in enumerate(drafts)]
    result.beyond_max.sort(key=obligation_sort_key)
    return result


def group_into_requests(obligations: list[Obligation], policy: Policy, calendar: WorkCalendar,
                        tiers: pd.Series | pd.DataFrame) -> list[VisitRequest]:
    """The mandatory visit requests (see `group_obligations` for what cannot become one)."""
    return group_obligations(obligations, policy, calendar, tiers).requests
