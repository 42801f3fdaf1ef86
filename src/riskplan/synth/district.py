"""Assemble the synthetic district: geography, enterprises, staff, history and capacity, in the
generator's fixed order (see the package docstring), and write it as a district folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from riskplan.domain.calendar import Quarter
from riskplan.domain.policy import DEFAULT_POLICY_TOML
from riskplan.i18n import _
from riskplan.io import frame_to_csv_bytes
from riskplan.outputs import atomic_output_dir, refuse_existing
from riskplan.synth.capacity import _calibrate_capacity, estimate_demand, quarter_supply
from riskplan.synth.common import (
    DEFAULT_END,
    DEFAULT_YEARS,
    SIZES,
    STRINGENCY_SD,
    _shift_years,
    true_tiers,
)
from riskplan.synth.enterprises import _make_enterprises
from riskplan.synth.history import (
    _history_frames,
    _make_risk,
    _Period,
    _push_from,
    _simulate_period,
    _truth,
)
from riskplan.synth.staff import (
    _make_conflicts,
    _make_inspectors,
    _make_leave,
    _make_pinned,
)

# --------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------

@dataclass
class SyntheticDistrict:
    """A generated district held in memory.

    Tables use the typed columns of `riskplan.domain.schema` (dates datetime64[ns], ints int64);
    `truth` has enterprise_id, p_event_12m; `latent` holds the generator's hidden per-
    enterprise quantities (safety culture, drift, risk at `end`, visit rate) for analysis;
    `capacity` the calibration figures; `future` (only with ``simulate_future=True``) one
    realisation of the 12 months after `end`: enterprise_id, event (0/1), serious_accident,
    major_found, visits.
    """

    seed: int
    size: str
    end: date
    years: int
    quarter: Quarter
    enterprises: pd.DataFrame
    accidents: pd.DataFrame
    inspections: pd.DataFrame
    inspectors: pd.DataFrame
    leave: pd.DataFrame
    conflicts: pd.DataFrame
    pinned: pd.DataFrame
    truth: pd.DataFrame
    policy_toml: str
    latent: pd.DataFrame
    capacity: dict[str, float] = field(default_factory=dict)
    future: pd.DataFrame | None = None

    TABLE_NAMES = ("enterprises", "accidents", "inspections", "inspectors", "leave", "conflicts", "pinned")

    def tier_shares(self) -> dict[str, float]:
        """Share of enterprises in each true-probability tier (default thresholds)."""
        tiers = true_tiers(self.truth["p_event_12m"].to_numpy())
        return {t: float(np.mean(tiers == t)) for t in ("red", "orange", "yellow", "blue")}

    def files(self) -> dict[str, bytes]:
        """File name -> bytes of the district folder, in a fixed order."""
        out: dict[str, bytes] = {}
        for name in self.TABLE_NAMES:
            out[f"{name}.csv"] = frame_to_csv_bytes(_csv_ready(getattr(self, name)))
        out["truth.csv"] = frame_to_csv_bytes(self.truth)
        out["policy.toml"] = self.policy_toml.encode("utf-8")
        return out

    def summary(self) -> str:
        ent = self.enterprises
        n_sub = ent["subdistrict"].nunique()
        n_parks = int(ent["subdistrict"].drop_duplicates().str.endswith("工业园区").sum())
        shares = self.tier_shares()
        cap = self.capacity
        return _(
            "{enterprises} enterprises in {subdistricts} subdistricts + {parks} parks ({grids} grids); "
            "{accidents} accidents and {inspections} inspections over {years} years to {end}; "
            "{inspectors} inspectors ({certified} certified).\n"
            "True tiers (p_event_12m): red {red}, orange {orange}, yellow {yellow}, blue {blue}.\n"
            "{quarter} capacity under the default policy: estimated demand {demand} inspector-visits / "
            "supply {supply} = load {load} (month 1: {month1}). Seed {seed}.").format(
            enterprises=f"{len(ent):,}", subdistricts=n_sub - n_parks, parks=n_parks, grids=ent["grid"].nunique(),
            accidents=f"{len(self.accidents):,}", inspections=f"{len(self.inspections):,}", years=self.years,
            end=self.end, inspectors=len(self.inspectors), certified=int(self.inspectors["certified"].sum()),
            red=f"{shares['red']:.1%}", orange=f"{shares['orange']:.1%}", yellow=f"{shares['yellow']:.1%}",
            blue=f"{shares['blue']:.1%}", quarter=self.quarter, demand=f"{cap['demand_inspector_visits']:.0f}",
            supply=f"{cap['supply_inspector_visits']:.0f}", load=f"{cap['load']:.0%}",
            month1=f"{cap['month1_load']:.0%}", seed=self.seed)


def _csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


# --------------------------------------------------------------------------------------
# The public functions
# --------------------------------------------------------------------------------------

def make_district(size: str = "S", seed: int = 0, n_enterprises: int | None = None, n_inspectors: int | None = None,
                  years: int | None = None, end: date = DEFAULT_END, simulate_future: bool = False,
                  team_leniency: float = 0.0) -> SyntheticDistrict:
    """Generate a district in memory (see the module docstring for the mechanism).

    `team_leniency` > 0 gives every inspector a finding propensity exp(N(0, team_leniency)),
    drawn from its own stream (PCG64([seed, 16])) so the rest of the district is the same as
    without it; a visit's expected findings, major hazards included, are multiplied by its
    team's mean propensity (a lenient team finds less). 0 (the default) leaves findings as before."""
    size = size.upper()
    if size not in SIZES:
        raise ValueError(_("size must be one of {sizes}, got {size}").format(sizes=", ".join(SIZES), size=repr(size)))
    ref_ent, ref_insp = SIZES[size]
    n = int(n_enterprises or ref_ent)
    n_insp = int(n_inspectors or (ref_insp if n_enterprises is None else max(2, round(ref_insp * n / ref_ent))))
    ref_for_n = ref_insp * n / ref_ent
    years = int(years or DEFAULT_YEARS)
    if n < 1 or n_insp < 2 or years < 1:
        raise ValueError(_("need at least 1 enterprise, 2 inspectors and 1 year of history"))
    rng = np.random.Generator(np.random.PCG64(seed))

    ent, areas, raw = _make_enterprises(rng, n)
    risk = _make_risk(rng, raw)
    area_counts = np.bincount(raw["area"], minlength=len(areas))
    inspectors = _make_inspectors(rng, n_insp, areas, area_counts)
    stringency = np.exp(rng.normal(0, STRINGENCY_SD, n_insp))
    team_leniency = float(team_leniency or 0.0)
    leniency = (np.exp(np.random.Generator(np.random.PCG64([seed, 16])).normal(0, team_leniency, n_insp))
                if team_leniency > 0 else None)
    area_names = areas["name"].to_numpy()

    # history: `years` consecutive 12-month periods ending on `end`
    bounds = [_shift_years(end, -k) for k in range(years, -1, -1)]  # period k: (bounds[k], bounds[k+1]]
    origin = bounds[0] + timedelta(days=1)
    horizon = (end - origin).days
    parts = []
    push = np.zeros(n)
    for k in range(years):
        start = bounds[k] + timedelta(days=1)
        days = (bounds[k + 1] - bounds[k]).days
        period = _Period(start, days, t_mid=-(years - k) + 0.5)
        offset = (start - origin).days
        out = _simulate_period(rng, risk, period, push, raw["area"], inspectors, area_names, stringency,
                               last_day=horizon - offset, leniency=leniency)
        out["a_day"] = out["a_day"] + offset
        out["v_day"] = out["v_day"] + offset
        parts.append(out)
        push = _push_from(out, n, lo=offset, hi=offset + days)
    accidents, inspections = _history_frames(parts, ent, origin, horizon)

    # the next 12 months: truth, and the quarter the roster will plan
    next_start = end + timedelta(days=1)
    next_days = (_shift_years(end, 1) - end).days
    p_event, v_next = _truth(risk, push, t_mid=0.5, days=next_days)
    truth = pd.DataFrame({"enterprise_id": ent["enterprise_id"], "p_event_12m": np.round(p_event, 6)})
    quarter = Quarter(next_start.year, (next_start.month - 1) // 3 + 1)

    leave = _make_leave(rng, inspectors, next_start)
    conflicts = _make_conflicts(rng, inspectors, ent)
    pinned = _make_pinned(rng, ent, raw, quarter)
    demand = estimate_demand(truth["p_event_12m"].to_numpy(), ent["enterprise_id"].to_numpy(), accidents,
                             inspections, pinned, quarter)
    inspectors["weekly_capacity"] = _calibrate_capacity(rng, inspectors, leave, quarter, demand, n_insp / ref_for_n)
    supply = quarter_supply(inspectors, leave, quarter, by_month=True)
    total, month1 = float(supply.sum()), float(supply[:, 0].sum())
    capacity = {"demand_inspector_visits": demand["inspector_visits"], "supply_inspector_visits": total,
                "load": demand["inspector_visits"] / total if total else float("inf"),
                "month1_load": demand["month1_inspector_visits"] / month1 if month1 else float("inf"),
                **{f"demand_{k}": v for k, v in demand.items() if k not in ("inspector_visits",)}}

    latent = pd.DataFrame({
        "enterprise_id": ent["enterprise_id"], "safety_culture": risk.u, "drift": risk.drift,
        "risk_at_end": risk.at(0.0), "visit_rate_next": v_next,
    })
    future = None
    if simulate_future:
        frng = np.random.Generator(np.random.PCG64([seed, 1]))
        out = _simulate_period(frng, risk, _Period(next_start, next_days, 0.5), push, raw["area"], inspectors,
                               area_names, stringency, last_day=next_days - 1, leniency=leniency)
        serious = np.bincount(out["a_ent"][out["a_sev"] >= 1], minlength=n) > 0
        major = np.bincount(out["v_ent"][out["v_major"] > 0], minlength=n) > 0
        future = pd.DataFrame({"enterprise_id": ent["enterprise_id"], "event": (serious | major).astype(np.int64),
                               "serious_accident": serious.astype(np.int64), "major_found": major.astype(np.int64),
                               "visits": np.bincount(out["v_ent"], minlength=n)})
    return SyntheticDistrict(seed=seed, size=size, end=end, years=years, quarter=quarter, enterprises=ent,
                             accidents=accidents, inspections=inspections, inspectors=inspectors, leave=leave,
                             conflicts=conflicts, pinned=pinned, truth=truth, policy_toml=DEFAULT_POLICY_TOML,
                             latent=latent, capacity=capacity, future=future)


def generate_district(out_dir: Path | str, size: str = "S", seed: int = 0, n_enterprises: int | None = None,
                      n_inspectors: int | None = None, years: int | None = None, force: bool = False,
                      end: date = DEFAULT_END, team_leniency: float = 0.0) -> str:
    """Write a synthetic district folder atomically; returns a short human summary.

    A non-empty `out_dir` is refused (FileExistsError) unless `force`.
    """
    out_dir = Path(out_dir)
    refuse_existing(out_dir, force, "folder", district_out=True)  # before generating, which takes a while
    district = make_district(size, seed, n_enterprises, n_inspectors, years, end, team_leniency=team_leniency)
    with atomic_output_dir(out_dir, force, district_out=True) as staging:
        for name, data in district.files().items():
            (staging / name).write_bytes(data)
    return f"Wrote {out_dir}: " + district.summary()


