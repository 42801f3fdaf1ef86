"""The checker's own re-run of the first random draw, from the published algorithm alone.

The algorithm is the one the README states (section "The draw"), re-implemented here from
that text with exact arithmetic throughout: shares as the decimal written in the policy
(`Fraction(str(share))`), quotas by largest remainder, and for `risk_weighted` the capped
proportional design found by an exact search over its breakpoints (not the planner's
float-then-fixed-point route), then rounded as documented. The random numbers are drawn one
at a time from the documented generator, in the documented order; only numpy's PCG64
stream itself is shared, because that is what the published seed means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction

import numpy as np
import pandas as pd

from riskplan.domain.headers import value_label
from riskplan.domain.policy import Policy
from riskplan.domain.roster import Obligation
from riskplan.domain.schema import TIERS
from riskplan.i18n import _
from riskplan.load.district import District

from .calendar import CheckQuarter, as_check_quarter

D = 10**9  # inclusion probabilities in billionths
MILLIONTHS = 10**6
TWO_53 = 2**53


class DrawRefused(ValueError):
    """The draw cannot be re-run as configured (unknown method, impossible design, no scores)."""


@dataclass
class DrawRow:
    enterprise_id: str
    tier: str
    eligible: bool
    drawn: bool = False
    inclusion_probability: float = 0.0
    inclusion_units: int | None = None  # risk_weighted only


@dataclass
class CheckDraw:
    """The re-run draw: one row per enterprise of a sampled tier, and the strata quotas."""

    method: str
    rows: dict[str, DrawRow] = field(default_factory=dict)
    quotas: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def drawn_ids(self) -> list[str]:
        return sorted(e for e, r in self.rows.items() if r.drawn)

    def counts(self, what: str) -> dict[str, int]:
        """Per tier, how many rows are `eligible` or `drawn`."""
        out = {t.value: 0 for t in TIERS}
        for r in self.rows.values():
            out[r.tier] += bool(getattr(r, what))
        return out


class _Stream:
    """The documented generator, read one double at a time."""

    def __init__(self, seed: int):
        self._gen = np.random.Generator(np.random.PCG64(seed))

    def double(self) -> float:
        return float(self._gen.random())

    def doubles(self, n: int) -> list[float]:
        return [self.double() for _i in range(n)]


def quotas_by_largest_remainder(share: Fraction, eligible: dict[str, int], tie_keys: dict[str, float]) -> dict[str, int]:
    """floor(share × e) per stratum; the units left to reach round-half-up(share × E) go to
    the largest fractional parts, equal parts to the smaller tie-break key."""
    exact = {name: share * count for name, count in eligible.items()}
    quota = {name: value.numerator // value.denominator for name, value in exact.items()}
    grand = share * sum(eligible.values())
    total = (grand + Fraction(1, 2)).numerator // (grand + Fraction(1, 2)).denominator
    left = total - sum(quota.values())
    ranked = sorted(eligible, key=lambda name: (quota[name] - exact[name], tie_keys[name]))
    for name in ranked[:left]:
        quota[name] += 1
    return quota


def score_millionths(value: object) -> int:
    """A calibrated probability (text from tiers.csv, or a number) rounded half-even to six
    decimals, in millionths. Raises ValueError for anything that is not a probability."""
    text = value.strip() if isinstance(value, str) else None
    if text == "" or (text is None and (value is None or (isinstance(value, float) and math.isnan(value)))):
        raise ValueError(_("empty probability"))
    try:
        number = Decimal(text) if text is not None else Decimal(float(value))  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(_("'{value}' is not a number").format(value=value)) from None
    if not number.is_finite() or not 0 <= number <= 1:
        raise ValueError(_("'{value}' is not a probability in [0, 1]").format(value=value))
    return int(number.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN) * MILLIONTHS)


def capped_design(weights: list[int], n: int, low: int, high: int) -> list[int]:
    """Integer inclusion units a_i ∈ [low, high], Σ a_i = n·D, as close as integers allow to
    the exact target clip(c·w_i, low, high) with Σ = n·D: c is found exactly by searching
    the breakpoints low/w_i, high/w_i, the target rounded down, then one more unit each for
    the largest fractional parts (ties to the earlier position). Raises DrawRefused."""
    count, total = len(weights), n * D
    if not count * low <= total <= count * high:
        raise DrawRefused(_("{draws} draw(s) from {count} cannot keep every chance in [{low}, {high}]").format(
            draws=n, count=count, low=f"{low / D:g}", high=f"{high / D:g}"))
    if count == 0:
        return []

    def target(c: Fraction) -> list[Fraction]:
        return [min(max(c * w, Fraction(low)), Fraction(high)) for w in weights]

    # Σ target(c) never decreases in c and is linear between breakpoints: bisect them for the
    # last one with Σ ≤ n·D (the first breakpoint gives count × low, the last count × high)
    points = sorted({Fraction(low, w) for w in weights} | {Fraction(high, w) for w in weights})
    first, last = 0, len(points) - 1
    while first < last:
        middle = (first + last + 1) // 2
        if sum(target(points[middle])) <= total:
            first = middle
        else:
            last = middle - 1
    lo = points[first]
    hi = points[min(first + 1, len(points) - 1)]
    at_lo, at_hi = sum(target(lo)), sum(target(hi))
    c = lo if at_lo == total else lo + (hi - lo) * (total - at_lo) / (at_hi - at_lo)
    exact = target(c)
    units = [x.numerator // x.denominator for x in exact]
    short = total - sum(units)
    by_fraction = sorted(range(count), key=lambda i: (units[i] - exact[i], i))
    for i in by_fraction[:short]:
        units[i] += 1
    return units


def systematic_pick(units: list[int], keys: list[float], start_double: float) -> set[int]:
    """Positions picked by systematic PPS walked in key order (ties: earlier position), with
    points U, U + D, ... where U = floor(k·D / 2^53), k = the start double × 2^53."""
    k = Fraction(start_double) * TWO_53
    start = (k.numerator * D) // TWO_53  # k is an integer: the double has 53 bits
    wanted = sum(units) // D
    order = sorted(range(len(units)), key=lambda i: (keys[i], i))
    picked: set[int] = set()
    before = 0  # cumulative units before the current enterprise
    m = 0
    for i in order:
        after = before + units[i]
        while m < wanted and before <= start + m * D < after:
            picked.add(i)
            m += 1
        before = after
    return picked


def _recently_visited(district: District, quarter: CheckQuarter, days: int) -> set[str]:
    if days <= 0:
        return set()
    first = quarter.start - timedelta(days=days)
    out = set()
    for eid, when in district.inspections[["enterprise_id", "date"]].itertuples(index=False):
        day: date = pd.Timestamp(when).date()
        if first <= day < quarter.start:
            out.add(eid)
    return out


def _weights(tiers: pd.DataFrame | pd.Series, members: list[str], power: int) -> dict[str, int]:
    if not isinstance(tiers, pd.DataFrame) or "probability" not in tiers.columns:
        raise DrawRefused(_("risk_weighted draw needs the tiers' probability column, and there is none"))
    column = dict(zip(tiers["enterprise_id"], tiers["probability"]))
    out = {}
    for eid in members:
        try:
            out[eid] = max(1, score_millionths(column[eid])) ** power
        except ValueError as exc:
            raise DrawRefused(_("probability of {enterprise}: {error}").format(enterprise=eid, error=exc)) from None
    return out


def rerun_draw(district: District, tiers: pd.DataFrame | pd.Series, quarter: object,
               obligations: list[Obligation], seed: int) -> CheckDraw:
    """The draw as the README describes it (tiers: a frame with enterprise_id, tier and, for
    risk_weighted, probability; or a Series enterprise_id -> tier). Raises DrawRefused."""
    quarter = as_check_quarter(quarter)
    policy: Policy = district.policy
    method = policy.draw.method
    if method not in ("uniform", "risk_weighted"):
        raise DrawRefused(_("draw method '{method}' is unknown").format(method=method))
    if isinstance(tiers, pd.DataFrame):
        tier_of = {str(e): str(t).lower() for e, t in zip(tiers["enterprise_id"], tiers["tier"])}
    else:
        tier_of = {str(e): str(t).lower() for e, t in tiers.items()}
    home = dict(zip(district.enterprises["enterprise_id"], district.enterprises["subdistrict"]))
    obliged = {o.enterprise_id for o in obligations}
    recent = _recently_visited(district, quarter, policy.draw.avoid_recent_days)
    low = math.ceil(Fraction(str(policy.draw.min_inclusion)) * D)
    high = math.floor(Fraction(str(policy.draw.max_inclusion)) * D)

    stream = _Stream(seed)
    result = CheckDraw(method)
    refusals = []
    for tier in (t.value for t in TIERS):
        rules = policy.tier(tier)
        if rules.sample_share is None:
            continue
        share = Fraction(str(rules.sample_share))
        strata: dict[str, list[str]] = {}
        for eid in sorted(e for e, t in tier_of.items() if t == tier):
            ok = rules.max_visits_per_quarter > 0 and eid not in obliged and eid not in recent
            result.rows[eid] = DrawRow(eid, tier, ok)
            if ok:
                strata.setdefault(home[eid], []).append(eid)
        names = sorted(strata)
        tie_keys = dict(zip(names, stream.doubles(len(names))))
        quota = quotas_by_largest_remainder(share, {s: len(strata[s]) for s in names}, tie_keys)
        for name in names:
            members, n = strata[name], quota[name]
            result.quotas[(tier, name)] = n
            keys = stream.doubles(len(members))
            if method == "uniform":
                for i in sorted(range(len(members)), key=lambda i: (keys[i], i))[:n]:
                    result.rows[members[i]].drawn = True
                for m in members:
                    result.rows[m].inclusion_probability = n / len(members)
                continue
            start = stream.double()
            weights = _weights(tiers, members, policy.draw.weight_power)
            try:
                units = capped_design([weights[m] for m in members], n, low, high)
            except DrawRefused as exc:
                refusals.append(_("tier {tier}, subdistrict {subdistrict}: {error}").format(
                    tier=value_label("tier", tier), subdistrict=name, error=exc))
                continue
            for i in systematic_pick(units, keys, start):
                result.rows[members[i]].drawn = True
            for m, a in zip(members, units):
                result.rows[m].inclusion_units = a
                result.rows[m].inclusion_probability = a / D
    if refusals:
        raise DrawRefused("; ".join(refusals))
    if method == "risk_weighted":
        for row in result.rows.values():
            if row.inclusion_units is None:
                row.inclusion_units = 0
    return result
