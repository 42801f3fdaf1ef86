"""The first random draw (双随机, part one): which yellow and blue enterprises are spot-checked.

The draw must be reproducible by anyone from the published inputs (the district files, the
tiers, the policy) and the seed, so its algorithm is fixed down to the order of random calls.

Algorithm (README, "The draw")
------------------------------
1. Eligible: an enterprise whose tier has a `sample_share` (by default yellow and blue) and
   allows visits (`max_visits_per_quarter` > 0), that
   has no obligation this quarter (red/orange rules, follow-ups, pinned visits — including
   obligations that end up as shortfall), and has no past visit dated in the
   `avoid_recent_days` days before the quarter start (quarter start − N … quarter start − 1).
2. Quotas, per tier: with s = `sample_share` taken as the exact decimal written in the policy
   and E = eligible enterprises of the tier, the tier total is T = round-half-up(s × E).
   Strata are the subdistricts with at least one eligible enterprise of the tier. Each stratum
   with e eligible gets floor(s × e); the R = T − Σ floors remaining units go one each to the
   R strata with the largest fractional parts s × e − floor(s × e); ties are broken by a
   random key per stratum (smaller key first).
3. Random calls: one generator `numpy.random.Generator(numpy.random.PCG64(seed))`, used in
   exactly this order:
   for each tier with a sample_share, in the order red, orange, yellow, blue:
     a. `rng.random(n_strata)`: one tie-break key per stratum, strata sorted by subdistrict
        name (Python string order, i.e. by Unicode code point);
     b. for each stratum in that order: `rng.random(n_eligible)`, one key per eligible
        enterprise sorted by enterprise_id; the stratum's quota enterprises with the smallest
        keys are drawn (a uniform sample without replacement).
   Both calls happen even when a quota is 0, so the sequence never depends on the quotas.
   (`rng.random()` is numpy's documented, version-stable double: the next 64-bit PCG64 output
   shifted right by 11 bits, times 2⁻⁵³; PCG64 is seeded from `seed` by numpy's SeedSequence.
   Ties between equal keys go to the earlier enterprise_id.)
4. Inclusion probability of an eligible enterprise = stratum quota / stratum eligible.

Each drawn enterprise gets one visit request whose window is the whole quarter.
`[draw] method = "risk_weighted"` is not supported yet (planned in issue 7): refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction

import numpy as np
import pandas as pd

from .calendar import Quarter
from .district import District
from .obligations import as_tier_series, past_inspections, visit_id
from .policy import Policy, PolicyError
from .roster import Obligation, VisitRequest
from .schema import TIERS

DRAW_COLUMNS = ("enterprise_id", "name", "subdistrict", "tier", "eligible", "why_not",
                "inclusion_probability", "drawn")


@dataclass
class DrawResult:
    """frame: one row per enterprise of a sampled tier (columns DRAW_COLUMNS, sorted by tier
    then enterprise_id); requests: the drawn visits, window = whole quarter; quotas: one row per
    (tier, subdistrict) stratum with eligible, floor, quota."""

    frame: pd.DataFrame
    requests: list[VisitRequest] = field(default_factory=list)
    quotas: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def drawn_ids(self) -> list[str]:
        return sorted(self.frame.loc[self.frame["drawn"] == "yes", "enterprise_id"])


def check_draw_method(policy: Policy) -> None:
    if policy.draw.method != "uniform":
        raise PolicyError("policy.toml", [
            f"[draw] method = \"{policy.draw.method}\" is not supported yet (risk-weighted sampling is "
            "planned in issue 7); use method = \"uniform\""])


def round_half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def tier_quotas(share: float, eligible_by_stratum: dict[str, int], keys: np.ndarray) -> dict[str, int]:
    """Largest-remainder quotas (step 2 of the algorithm); `keys` are the tie-break keys of the
    strata in sorted order."""
    s = Fraction(str(share))
    strata = sorted(eligible_by_stratum)
    exact = {k: s * eligible_by_stratum[k] for k in strata}
    quota = {k: math.floor(v) for k, v in exact.items()}
    total = round_half_up(s * sum(eligible_by_stratum.values()))
    remaining = total - sum(quota.values())
    order = sorted(range(len(strata)), key=lambda i: (-(exact[strata[i]] - quota[strata[i]]), keys[i]))
    for i in order[:remaining]:
        quota[strata[i]] += 1
    return quota


def draw_spot_checks(district: District, tiers: pd.Series | pd.DataFrame, quarter: Quarter | str,
                     obligations: list[Obligation], seed: int, first_number: int = 1) -> DrawResult:
    """The seeded, stratified spot-check draw (algorithm in the module docstring)."""
    quarter = Quarter.parse(quarter) if isinstance(quarter, str) else quarter
    policy = district.policy
    check_draw_method(policy)
    tier_of = as_tier_series(tiers)
    ent = district.enterprises.set_index("enterprise_id")
    subdistrict_of = ent["subdistrict"].to_dict()
    obliged: dict[str, list[str]] = {}
    for ob in obligations:
        obliged.setdefault(ob.enterprise_id, []).append(ob.kind)
    recent: dict[str, str] = {}
    if policy.draw.avoid_recent_days > 0:
        past = past_inspections(district, quarter)
        lo = pd.Timestamp(quarter.start - timedelta(days=policy.draw.avoid_recent_days))
        last = past[past["date"] >= lo].groupby("enterprise_id")["date"].max()
        recent = {e: d.date().isoformat() for e, d in last.items()}

    rng = np.random.Generator(np.random.PCG64(seed))
    rows: list[dict] = []
    quota_rows: list[dict] = []
    for tier in TIERS:
        share = policy.tier(tier).sample_share
        if share is None:
            continue
        ids = sorted(tier_of.index[tier_of == tier.value])
        strata: dict[str, list[str]] = {}
        tier_rows: list[dict] = []
        no_visits = policy.tier(tier).max_visits_per_quarter == 0
        for eid in ids:
            if no_visits:
                why = f"[tiers.{tier.value}] max_visits_per_quarter is 0"
            elif eid in obliged:
                why = "obligation this quarter: " + ";".join(obliged[eid])
            elif eid in recent:
                why = f"visited {recent[eid]}, within {policy.draw.avoid_recent_days} days before the quarter"
            else:
                why = ""
                strata.setdefault(subdistrict_of[eid], []).append(eid)
            tier_rows.append({"enterprise_id": eid, "tier": tier.value, "eligible": "no" if why else "yes",
                              "why_not": why, "inclusion_probability": 0.0, "drawn": "no"})
        names = sorted(strata)
        keys = rng.random(len(names))
        quotas = tier_quotas(share, {k: len(strata[k]) for k in names}, keys)
        chosen: dict[str, float] = {}
        drawn: set[str] = set()
        for name in names:
            members = strata[name]  # already sorted by enterprise_id
            u = rng.random(len(members))
            picks = np.lexsort((np.arange(len(members)), u))[: quotas[name]]
            drawn.update(members[i] for i in picks)
            p = quotas[name] / len(members)
            chosen.update({m: p for m in members})
            quota_rows.append({"tier": tier.value, "subdistrict": name, "eligible": len(members),
                               "floor": math.floor(Fraction(str(share)) * len(members)), "quota": quotas[name]})
        for row in tier_rows:
            if row["enterprise_id"] in chosen:
                row["inclusion_probability"] = chosen[row["enterprise_id"]]
                row["drawn"] = "yes" if row["enterprise_id"] in drawn else "no"
        rows.extend(tier_rows)

    frame = pd.DataFrame(rows, columns=[c for c in DRAW_COLUMNS if c not in ("name", "subdistrict")])
    frame.insert(1, "name", frame["enterprise_id"].map(ent["name"]).astype(object))
    frame.insert(2, "subdistrict", frame["enterprise_id"].map(ent["subdistrict"]).astype(object))
    frame = frame[list(DRAW_COLUMNS)].reset_index(drop=True)
    drawn_ids = sorted(frame.loc[frame["drawn"] == "yes", "enterprise_id"])
    requests = [VisitRequest(visit_id(first_number + i), eid, "drawn", (), quarter.start, quarter.end)
                for i, eid in enumerate(drawn_ids)]
    return DrawResult(frame, requests, pd.DataFrame(quota_rows, columns=["tier", "subdistrict", "eligible",
                                                                         "floor", "quota"]))
