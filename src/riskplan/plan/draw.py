"""The first random draw (双随机, part one): which yellow and blue enterprises are spot-checked.

The draw must be reproducible by anyone from the published inputs (the district files, the
tiers, the policy) and the seed, so its algorithm is fixed down to the order of random calls.
Two methods share steps 1–3; they differ only in how a stratum's quota is drawn (step 4).

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
        enterprise sorted by enterprise_id;
        `method = "risk_weighted"` only: then one more double `rng.random()`, the start.
   All calls happen even when a quota is 0, so the sequence never depends on the quotas.
   (`rng.random()` is numpy's documented, version-stable double: the next 64-bit PCG64 output
   shifted right by 11 bits, times 2⁻⁵³; PCG64 is seeded from `seed` by numpy's SeedSequence.)
4. The stratum's sample of n = its quota from its N eligible:
   - `uniform`: the n enterprises with the smallest keys (ties: earlier enterprise_id), a
     uniform sample without replacement. Inclusion probability n / N.
   - `risk_weighted` (a fixed-size unequal-probability design: randomly ordered systematic
     PPS). Every number below is an integer, so any language reproduces it exactly.
     * Weight w_i: the enterprise's calibrated probability (the `probability` column of the
       tiers) rounded half-even to 6 decimals, in millionths (so 0.012345 → 12345), at least 1,
       raised to the integer power P = `weight_power` (1 by default: proportional).
     * Inclusion probabilities in units of D = 10⁹: π_i = a_i / D with floor F = ⌈min_inclusion
       × D⌉ and cap K = ⌊max_inclusion × D⌋. The design needs N × F ≤ n × D ≤ N × K (otherwise
       the floor or the cap cannot be honoured with n draws: the draw is refused, naming the
       stratum). The exact target is a*_i = clip(c × w_i, F, K) with the one c > 0 where
       Σ a*_i = n × D ("iterative capping" with a floor and a cap). Writing C = {capped:
       c·w_i ≥ K}, L = {floored: c·w_i ≤ F} and M the rest, c = num / den with
       num = n·D − K·|C| − F·|L| and den = Σ_{i∈M} w_i. Integers: a_i = K on C, F on L, and on
       M ⌊w_i·num / den⌋ plus one for the (n·D − Σ of those) members of M with the largest
       remainders (w_i·num mod den), ties to the earlier enterprise_id. Σ a_i = n × D exactly
       and F ≤ a_i ≤ K.
     * Order: enterprises sorted by their step-3b key (ties: earlier enterprise_id).
     * Start: with the step-3b start double u, k = u × 2⁵³ (an integer) and
       U = ⌊k × D / 2⁵³⌋, an integer in [0, D).
     * Walk the enterprises in that order, cumulating A_j = a_1 + … + a_j (A_0 = 0); the points
       U, U + D, …, U + (n − 1)·D select the enterprise j with A_{j−1} ≤ point < A_j. Since
       a_j ≤ D, no enterprise is selected twice and exactly n are selected.
     Each enterprise is selected with probability a_i / D whatever the order (U is uniform on
     D values up to a relative error below 2⁻²³ from mapping 2⁵³ doubles onto 10⁹ values);
     the random order spreads the joint selection probabilities.
5. draw.csv records every enterprise's inclusion probability (0 when not eligible); with
   risk_weighted also its `score` (the rounded probability; the weight is its P-th power)
   and `inclusion_units` (a_i, the exact probability in billionths).

Each drawn enterprise gets one visit request whose window is the whole quarter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from riskplan.domain.calendar import Quarter
from riskplan.domain.headers import value_label
from riskplan.domain.policy import Policy, PolicyError
from riskplan.domain.roster import Obligation, VisitRequest
from riskplan.domain.schema import TIERS
from riskplan.i18n import _
from riskplan.load.district import District, DistrictError, Problem
from riskplan.plan.obligations import as_tier_series, past_inspections, visit_id

DRAW_COLUMNS = ("enterprise_id", "name", "subdistrict", "tier", "eligible", "why_not",
                "inclusion_probability", "drawn")
RISK_COLUMNS = ("score", "inclusion_units")  # appended to draw.csv by a risk-weighted draw
METHODS = ("uniform", "risk_weighted")
UNITS = 10**9  # D: risk-weighted inclusion probabilities are integers out of 10^9
SCORE_UNITS = 10**6  # weights are probabilities in millionths
SCORE_COLUMN = "probability"


@dataclass
class DrawResult:
    """frame: one row per enterprise of a sampled tier (columns DRAW_COLUMNS, plus RISK_COLUMNS
    for a risk-weighted draw, sorted by tier then enterprise_id); requests: the drawn visits,
    window = whole quarter; quotas: one row per (tier, subdistrict) stratum with eligible, floor,
    quota; method: the method used."""

    frame: pd.DataFrame
    requests: list[VisitRequest] = field(default_factory=list)
    quotas: pd.DataFrame = field(default_factory=pd.DataFrame)
    method: str = "uniform"

    @property
    def drawn_ids(self) -> list[str]:
        return sorted(self.frame.loc[self.frame["drawn"] == "yes", "enterprise_id"])


def _unknown_method(method: str) -> PolicyError:
    return PolicyError("policy.toml", [_("[draw] method = \"{method}\" is not one of {methods}").format(
        method=method, methods=", ".join(METHODS))])


def check_draw_method(policy: Policy) -> None:
    if policy.draw.method not in METHODS:
        raise _unknown_method(policy.draw.method)


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


# ---------------------------------------------------------------- risk-weighted design

def score_units(value: object) -> int:
    """A probability (float, or text as written in a tiers file) as the integer weight of
    step 4: rounded half-even to 6 decimals, in millionths. A float is taken at its exact binary
    value, so it gives the same weight as its '%.6f' text in OUT/tiers.csv. Raises ValueError."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError(_("empty cell; a probability is required"))
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("'{value}' is not a number").format(value=value)) from None
    else:
        f = float(value)  # type: ignore[arg-type]
        if math.isnan(f):
            raise ValueError(_("empty cell; a probability is required"))
        d = Decimal(f)
    if not d.is_finite() or d < 0 or d > 1:
        raise ValueError(_("'{value}' is not a probability in [0, 1]").format(value=value))
    return int(d.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN) * SCORE_UNITS)


def inclusion_bounds(policy: Policy) -> tuple[int, int]:
    """(F, K): the floor and the cap in units of D, from the exact decimals of the policy."""
    floor = math.ceil(Fraction(str(policy.draw.min_inclusion)) * UNITS)
    cap = math.floor(Fraction(str(policy.draw.max_inclusion)) * UNITS)
    return floor, cap


def inclusion_units(weights: Sequence[int], n: int, floor: int, cap: int) -> list[int]:
    """The integer inclusion probabilities a_i (out of UNITS) of step 4: a_i ∝ w_i clipped to
    [floor, cap], Σ a_i = n × UNITS exactly. Weights are integers ≥ 1, in the stratum's
    enterprise_id order (the order breaks ties in the rounding). Raises ValueError when the
    design is impossible (n × UNITS outside [N × floor, N × cap])."""
    N = len(weights)
    total = n * UNITS
    if total < N * floor or total > N * cap:
        raise ValueError(_("{n} draw(s) from {size} cannot give every enterprise an inclusion probability "
                           "in [{floor}, {cap}]").format(n=n, size=N, floor=f"{floor / UNITS:g}",
                                                         cap=f"{cap / UNITS:g}"))
    if N == 0:
        return []
    w = [int(x) for x in weights]
    if min(w) < 1:
        raise ValueError(_("weights must be integers >= 1"))
    if floor == cap:
        return [floor] * N
    wf = np.asarray(w, dtype=float)
    # locate c in floating point (g(c) = Σ clip(c·w, F, K) is continuous and nondecreasing) ...
    lo, hi = 0.0, cap / float(wf.min())
    for _step in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if np.clip(mid * wf, floor, cap).sum() < total:
            lo = mid
        else:
            hi = mid
    c = (lo + hi) / 2
    capped = set(np.flatnonzero(c * wf >= cap).tolist())
    floored = set(np.flatnonzero(c * wf <= floor).tolist()) - capped
    # ... then settle the sets exactly, in integers (a fixed point: the sets c = num/den gives)
    for _step in range(N + 2):
        free = [i for i in range(N) if i not in capped and i not in floored]
        num = total - cap * len(capped) - floor * len(floored)
        den = sum(w[i] for i in free)
        if den == 0:
            if num == 0:
                break
            if num > 0:  # too little: free the heaviest floored enterprise
                floored.discard(max(floored, key=lambda i: (w[i], -i)))
            else:  # too much: free the lightest capped enterprise
                capped.discard(min(capped, key=lambda i: (w[i], i)))
            continue
        new_capped = {i for i in range(N) if w[i] * num >= cap * den}
        new_floored = {i for i in range(N) if w[i] * num <= floor * den} - new_capped
        if new_capped == capped and new_floored == floored:
            break
        capped, floored = new_capped, new_floored
    else:  # a float start too far off to settle from (weight ratios near 1e16): sweep exactly
        capped, floored = _exact_sets(w, total, floor, cap)
        num = total - cap * len(capped) - floor * len(floored)
        den = sum(w[i] for i in range(N) if i not in capped and i not in floored)
    a = [cap if i in capped else floor if i in floored else 0 for i in range(N)]
    free = [i for i in range(N) if i not in capped and i not in floored]
    remainders = []
    for i in free:
        q, r = divmod(w[i] * num, den)
        a[i] = q
        remainders.append((-r, i))
    short = total - sum(a)
    for _r, i in sorted(remainders)[:short]:
        a[i] += 1
    if sum(a) != total or min(a) < floor or max(a) > cap:  # pragma: no cover - guaranteed above
        raise ArithmeticError(_("inclusion probabilities do not meet the design"))
    return a


def _exact_sets(w: list[int], total: int, floor: int, cap: int) -> tuple[set[int], set[int]]:
    """The capped and floored sets of the one c with Σ clip(c·w_i, F, K) = total, found by
    sweeping the breakpoints F/w_i (leaves the floor) and K/w_i (reaches the cap) in exact
    fractions: between two breakpoints the sum is linear in c."""
    events = sorted([(Fraction(floor, x), 0, i) for i, x in enumerate(w)]
                    + [(Fraction(cap, x), 1, i) for i, x in enumerate(w)])
    floored, capped = set(range(len(w))), set()
    free_weight = 0
    for value, kind, i in events:
        if floor * len(floored) + cap * len(capped) + value * free_weight >= total:
            break  # c lies between the previous breakpoint and this one
        if kind == 0:
            floored.discard(i)
            free_weight += w[i]
        else:
            capped.add(i)
            free_weight -= w[i]
    return capped, floored


def start_units(u: float) -> int:
    """U = ⌊k × D / 2⁵³⌋ with k = u × 2⁵³ (step 4): the systematic start in units of D."""
    k = int(u * 2.0**53)
    return (k * UNITS) >> 53


def systematic_selection(units: Sequence[int], keys: np.ndarray, start: int) -> list[int]:
    """Positions (in the stratum's enterprise_id order) that randomly ordered systematic PPS
    selects: walk in key order, points start + m·D, m = 0 … Σunits/D − 1."""
    a = np.asarray(units, dtype=np.int64)
    n = int(a.sum()) // UNITS
    if n == 0:
        return []
    order = np.lexsort((np.arange(len(a)), keys))
    cum = np.cumsum(a[order])
    points = start + UNITS * np.arange(n, dtype=np.int64)
    hit = np.searchsorted(cum, points, side="right")
    return sorted(order[hit].tolist())


def risk_scores(tiers: pd.Series | pd.DataFrame, wanted: Sequence[str], source: str = "tiers") -> dict[str, int]:
    """The integer weights (step 4) of the `wanted` enterprises, from the `probability` column of
    the tiers. Raises DistrictError naming the file (`source`), row and column."""
    if not isinstance(tiers, pd.DataFrame) or SCORE_COLUMN not in tiers.columns:
        raise DistrictError([Problem(source, _("[draw] method = \"risk_weighted\" needs each enterprise's "
                                               "calibrated probability, and the tiers have no such column "
                                               "(tier the district with the scoring model, or add the column)"),
                                     row=1, column=SCORE_COLUMN)])
    ids = tiers["enterprise_id"].tolist() if "enterprise_id" in tiers.columns else list(tiers.index)
    position = {e: i for i, e in enumerate(ids)}
    values = tiers[SCORE_COLUMN].tolist()
    out: dict[str, int] = {}
    problems = []
    for eid in wanted:
        i = position[eid]
        try:
            out[eid] = score_units(values[i])
        except ValueError as exc:
            problems.append(Problem(source, _("{error} (enterprise '{enterprise_id}')").format(
                error=exc, enterprise_id=eid), row=i + 2, column=SCORE_COLUMN))
    if problems:
        raise DistrictError(problems)
    return out


def impossible_design(policy: Policy, tier: str, subdistrict: str, eligible: int, quota: int) -> str:
    """Why a stratum's risk-weighted design cannot exist, and the policy change that fixes it."""
    floor, cap = policy.draw.min_inclusion, policy.draw.max_inclusion
    fields = {"tier": tier, "tier_name": value_label("tier", tier), "subdistrict": subdistrict,
              "eligible": eligible, "quota": quota, "floor": floor, "cap": cap}
    if quota == 0:
        return _("tier {tier_name}, subdistrict {subdistrict}: sample_share × {eligible} eligible rounds to a quota "
                 "of 0, so nobody there can be drawn and the floor min_inclusion = {floor} cannot hold; raise "
                 "[tiers.{tier}] sample_share or set [draw] min_inclusion = 0").format(**fields)
    if quota < floor * eligible:
        return _("tier {tier_name}, subdistrict {subdistrict}: {eligible} eligible with a quota of {quota} cannot "
                 "give each the floor min_inclusion = {floor} (that needs {needed} expected draws); lower [draw] "
                 "min_inclusion to at most {quota}/{eligible} = {largest} or raise [tiers.{tier}] sample_share"
                 ).format(**fields, needed=f"{floor * eligible:g}", largest=f"{quota / eligible:.6g}")
    return _("tier {tier_name}, subdistrict {subdistrict}: {eligible} eligible with a quota of {quota} cannot keep "
             "each below the cap max_inclusion = {cap} (that allows at most {allowed} draws); raise [draw] "
             "max_inclusion to at least {quota}/{eligible} or lower [tiers.{tier}] sample_share").format(
        **fields, allowed=f"{cap * eligible:g}")


# ---------------------------------------------------------------- the draw

def draw_spot_checks(district: District, tiers: pd.Series | pd.DataFrame, quarter: Quarter | str,
                     obligations: list[Obligation], seed: int, first_number: int = 1, *,
                     method: str | None = None, scores: Mapping[str, object] | None = None,
                     units: Mapping[str, int] | None = None, id_prefix: str | None = None) -> DrawResult:
    """The seeded, stratified spot-check draw (algorithm in the module docstring).

    method: overrides `[draw] method`. risk_weighted weights come from `scores` (enterprise_id ->
    probability) when given, else from the `probability` column of `tiers` (a DataFrame; its
    `attrs["source"]` names the file in errors). `units`: published inclusion probabilities in
    billionths (verify-draw): step 4's design is skipped, each stratum's units must sum to its
    quota × 10⁹ (else ValueError). `id_prefix`: the plan's, for the visit ids (obligations.visit_id).
    """
    quarter = Quarter.parse(quarter) if isinstance(quarter, str) else quarter
    policy = district.policy
    method = method or policy.draw.method
    if method not in METHODS:
        raise _unknown_method(method)
    weighted = method == "risk_weighted"
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
    floor_units, cap_units = inclusion_bounds(policy)
    power = policy.draw.weight_power

    rng = np.random.Generator(np.random.PCG64(seed))
    rows: list[dict] = []
    quota_rows: list[dict] = []
    weights: dict[str, int] = {}
    impossible: list[str] = []
    for tier in TIERS:
        share = policy.tier(tier).sample_share
        if share is None:
            continue
        tv = tier.value
        ids = sorted(tier_of.index[tier_of == tv])
        strata: dict[str, list[str]] = {}
        tier_rows: list[dict] = []
        no_visits = policy.tier(tier).max_visits_per_quarter == 0
        for eid in ids:
            if no_visits:
                why = _("[tiers.{tier}] max_visits_per_quarter is 0").format(tier=tv)
            elif eid in obliged:
                why = _("obligation this quarter: {obligations}").format(obligations=";".join(obliged[eid]))
            elif eid in recent:
                why = _("visited {date}, within {days} days before the quarter").format(
                    date=recent[eid], days=policy.draw.avoid_recent_days)
            else:
                why = ""
                strata.setdefault(subdistrict_of[eid], []).append(eid)
            tier_rows.append({"enterprise_id": eid, "tier": tv, "eligible": "no" if why else "yes",
                              "why_not": why, "inclusion_probability": 0.0, "drawn": "no"})
        names = sorted(strata)
        if weighted and units is None:
            wanted = [e for name in names for e in strata[name]]
            if scores is not None:
                weights.update({e: score_units(scores[e]) for e in wanted})
            else:
                weights.update(risk_scores(tiers, wanted, getattr(tiers, "attrs", {}).get("source", "tiers")))
        keys = rng.random(len(names))
        quotas = tier_quotas(share, {k: len(strata[k]) for k in names}, keys)
        chosen: dict[str, float] = {}
        exact_units: dict[str, int] = {}
        drawn: set[str] = set()
        for name in names:
            members = strata[name]  # already sorted by enterprise_id
            n = quotas[name]
            u = rng.random(len(members))
            if not weighted:
                picks = np.lexsort((np.arange(len(members)), u))[:n]
                drawn.update(members[i] for i in picks)
                chosen.update({m: n / len(members) for m in members})
            else:
                start = start_units(rng.random())
                if units is not None:
                    missing = [m for m in members if m not in units]
                    if missing:
                        raise ValueError(_("tier {tier}, subdistrict {subdistrict}: no inclusion probability "
                                           "for {count} enterprise(s), e.g. {example}").format(
                            tier=value_label("tier", tier.value), subdistrict=name, count=len(missing),
                            example=missing[0]))
                    a = [int(units[m]) for m in members]
                    if sum(a) != n * UNITS:
                        raise ValueError(_("tier {tier}, subdistrict {subdistrict}: the inclusion probabilities "
                                           "sum to {total}, not to the quota {quota}").format(
                            tier=value_label("tier", tier.value), subdistrict=name, total=sum(a) / UNITS, quota=n))
                else:
                    try:
                        a = inclusion_units([max(1, weights[m]) ** power for m in members], n, floor_units,
                                            cap_units)
                    except ValueError:
                        impossible.append(impossible_design(policy, tier.value, name, len(members), n))
                        continue
                picks = systematic_selection(a, u, start)
                drawn.update(members[i] for i in picks)
                exact_units.update(zip(members, a))
                chosen.update({m: ai / UNITS for m, ai in zip(members, a)})
            quota_rows.append({"tier": tier.value, "subdistrict": name, "eligible": len(members),
                               "floor": math.floor(Fraction(str(share)) * len(members)), "quota": n})
        for row in tier_rows:
            eid = row["enterprise_id"]
            if eid in chosen:
                row["inclusion_probability"] = chosen[eid]
                row["drawn"] = "yes" if eid in drawn else "no"
            if weighted:
                row["score"] = weights[eid] / SCORE_UNITS if eid in weights else float("nan")
                row["inclusion_units"] = exact_units.get(eid, 0)
        rows.extend(tier_rows)
    if impossible:
        raise PolicyError("policy.toml", [_("the risk-weighted draw is impossible as configured: {reason}").format(
            reason=p) for p in impossible])

    columns = [c for c in DRAW_COLUMNS if c not in ("name", "subdistrict")]
    columns += list(RISK_COLUMNS) if weighted else []
    frame = pd.DataFrame(rows, columns=columns)
    frame.insert(1, "name", frame["enterprise_id"].map(ent["name"]).astype(object))
    frame.insert(2, "subdistrict", frame["enterprise_id"].map(ent["subdistrict"]).astype(object))
    frame = frame[list(DRAW_COLUMNS) + (list(RISK_COLUMNS) if weighted else [])].reset_index(drop=True)
    if weighted:
        frame["inclusion_units"] = frame["inclusion_units"].astype(np.int64)
    drawn_ids = sorted(frame.loc[frame["drawn"] == "yes", "enterprise_id"])
    requests = [VisitRequest(visit_id(first_number + i, id_prefix), eid, "drawn", (), quarter.start, quarter.end)
                for i, eid in enumerate(drawn_ids)]
    return DrawResult(frame, requests, pd.DataFrame(quota_rows, columns=["tier", "subdistrict", "eligible",
                                                                         "floor", "quota"]), method)
