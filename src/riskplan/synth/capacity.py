"""Demand and supply of the generated district's quarter, and inspector capacity calibrated so
the planner's load is realistic (month 1 the tightest)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskplan.domain.calendar import Quarter, WorkCalendar, iso_week
from riskplan.domain.policy import Policy
from riskplan.synth.common import MONTH1_LOAD, TARGET_LOAD, true_tiers


def estimate_demand(truth_p: np.ndarray, ent_ids: np.ndarray, accidents: pd.DataFrame, inspections: pd.DataFrame,
                    pinned: pd.DataFrame, quarter: Quarter, policy: Policy | None = None) -> dict[str, float]:
    """Visits the next quarter will ask for under `policy`, with true-probability tiers as the proxy.

    Returns counts of visits by reason and `inspector_visits` (visits × team_size). Yellow
    and blue draws are expected values (share × eligible).
    """
    policy = policy or Policy()
    tiers = true_tiers(truth_p, (policy.tiering.red, policy.tiering.orange, policy.tiering.yellow))
    idx = pd.Index(ent_ids)
    q_start = pd.Timestamp(quarter.start)
    q_end = pd.Timestamp(quarter.end)
    past = inspections[inspections["date"] < q_start]
    last = past.groupby("enterprise_id")["date"].max().astype("datetime64[ns]")
    last_visit = pd.Series(last.reindex(idx).to_numpy(), index=idx)
    latest = past[past["date"].to_numpy() == last.reindex(past["enterprise_id"]).to_numpy()]
    major_last = latest.groupby("enterprise_id")["major_hazards_found"].sum().reindex(idx).fillna(0).to_numpy() > 0
    severe = accidents[accidents["severity"].isin(["serious", "major", "extraordinary"])
                       & (accidents["date"] >= q_start - pd.Timedelta(days=31)) & (accidents["date"] < q_start)]
    acc_last = severe.groupby("enterprise_id")["date"].max().astype("datetime64[ns]").reindex(idx)
    acc_follow = (acc_last.notna() & ~(last_visit > acc_last)).to_numpy()
    pinned_any = idx.isin(pinned["enterprise_id"])
    red = tiers == "red"
    orange = tiers == "orange"
    max_gap = policy.tiers.orange.max_days_between_visits or 182
    due = last_visit.isna() | (last_visit + pd.Timedelta(days=max_gap) <= q_end)
    orange_due = orange & due.to_numpy()
    follow = (major_last | acc_follow) & ~red & ~orange_due
    pinned_extra = pinned_any & ~red & ~orange_due & ~follow
    obligated = red | orange_due | follow | pinned_any
    recent = (last_visit >= q_start - pd.Timedelta(days=policy.draw.avoid_recent_days)).to_numpy()
    eligible = ~obligated & ~recent
    yellow_share = policy.tiers.yellow.sample_share or 0.0
    blue_share = policy.tiers.blue.sample_share or 0.0
    counts = {
        "red": float(3 * red.sum()),
        "orange_due": float(orange_due.sum()),
        "follow_up": float(follow.sum()),
        "pinned": float(pinned_extra.sum()),
        "yellow_drawn": float(round(yellow_share * (eligible & (tiers == "yellow")).sum())),
        "blue_drawn": float(round(blue_share * (eligible & (tiers == "blue")).sum())),
    }
    counts["visits"] = float(sum(counts.values()))
    counts["inspector_visits"] = counts["visits"] * policy.roster.team_size
    # month 1 carries every red's first visit, overdue oranges, follow-ups and early pinned visits
    m1_end = pd.Timestamp(quarter.month_end(1))
    due_m1 = (last_visit.isna() | (last_visit + pd.Timedelta(days=max_gap) <= m1_end)).to_numpy()
    pinned_m1 = idx.isin(pinned.loc[pinned["latest"] <= m1_end, "enterprise_id"])
    counts["month1_visits"] = float(red.sum() + (orange & due_m1).sum() + follow.sum() + (pinned_extra & pinned_m1).sum())
    counts["month1_inspector_visits"] = counts["month1_visits"] * policy.roster.team_size
    return counts


def quarter_supply(inspectors: pd.DataFrame, leave: pd.DataFrame, quarter: Quarter,
                   policy: Policy | None = None, by_month: bool = False) -> np.ndarray:
    """Each inspector's inspector-visit capacity in the quarter (0 for the uncertified), computed
    exactly as riskplan.domain.calendar.weekly_limits does. With `by_month`, an (inspectors × 3)
    array: each week's limit shared among months by the week's available days in each."""
    policy = policy or Policy()
    cal = WorkCalendar.for_quarter(quarter, policy.roster)
    days = np.array(cal.days, dtype="datetime64[D]")
    weeks = np.array([iso_week(d) for d in cal.days])
    week_key = weeks[:, 0] * 100 + weeks[:, 1]
    _, week_idx = np.unique(week_key, return_inverse=True)
    n = len(inspectors)
    away = np.zeros((n, len(days)), dtype=bool)
    if len(leave):
        pos = pd.Index(inspectors["inspector_id"]).get_indexer(leave["inspector_id"])
        s = leave["start"].to_numpy().astype("datetime64[D]")
        e = leave["end"].to_numpy().astype("datetime64[D]")
        for i, a, b in zip(pos, s, e):
            if i >= 0:
                away[i] |= (days >= a) & (days <= b)
    avail = np.zeros((n, week_idx.max() + 1))
    np.add.at(avail.T, week_idx, (~away).T.astype(float))
    cap = inspectors["weekly_capacity"].to_numpy().astype(float)
    limit = np.floor(cap[:, None] * (1.0 - policy.roster.capacity_reserve) * avail / 5 + 1e-9)
    certified = inspectors["certified"].to_numpy() == 1
    if not by_month:
        return limit.sum(axis=1) * certified
    month = np.array([quarter.month_of(d) - 1 for d in cal.days])
    out = np.zeros((n, 3))
    for m in range(3):
        in_month = np.zeros((n, week_idx.max() + 1))
        np.add.at(in_month.T, week_idx[month == m], (~away[:, month == m]).T.astype(float))
        out[:, m] = (limit * np.divide(in_month, avail, out=np.zeros_like(avail), where=avail > 0)).sum(axis=1)
    return out * certified[:, None]


def _calibrate_capacity(rng: np.random.Generator, inspectors: pd.DataFrame, leave: pd.DataFrame,
                        quarter: Quarter, demand: dict[str, float], ref_share: float) -> np.ndarray:
    """Integer weekly capacities: the smallest scale at which the reference staffing runs at most
    TARGET_LOAD over the quarter and MONTH1_LOAD in its crowded first month."""
    n = len(inspectors)
    brigade = inspectors["home_subdistrict"].to_numpy() == ""
    w = np.exp(rng.normal(0, 0.18, n)) * np.where(brigade, 1.1, 1.0)
    # ref_share = n_inspectors / reference inspectors: other staffing keeps the per-head capacity
    need_quarter = demand["inspector_visits"] / TARGET_LOAD * ref_share
    need_month1 = demand["month1_inspector_visits"] / MONTH1_LOAD * ref_share

    def caps(s: float) -> np.ndarray:
        return np.maximum(1, np.round(s * w)).astype(np.int64)

    def enough(s: float) -> bool:
        supply = quarter_supply(inspectors.assign(weekly_capacity=caps(s)), leave, quarter, by_month=True)
        return supply.sum() >= need_quarter and supply[:, 0].sum() >= need_month1

    lo, hi = 0.05, 200.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if enough(mid) else (mid, hi)
    return caps(hi)
