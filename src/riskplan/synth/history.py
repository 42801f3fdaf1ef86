"""The generated district's history: the latent true risk, its drift, and the accidents and
inspections it produces year by year, plus the true 12-month event probability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from riskplan.synth.common import (
    A0,
    CONVEX_U,
    F_ACC,
    F_RECHECK,
    H0,
    H1,
    HAZ_SCALE,
    HC_NOGRADE,
    M0,
    M1,
    PERCEIVED_SCALE,
    PUSH_MAJOR,
    RECHECK_DAYS,
    RECHECK_FACTOR,
    SERIOUS_SPLIT,
    SIGMA_SHOCK,
    SIGMA_U,
    SLIP_RATE,
    SLIP_SHARE,
    V0,
    V_MAX,
    V_R,
    _categorical,
    _sigmoid,
    _to_datetime,
)
from riskplan.synth.staff import _assign_teams

# --------------------------------------------------------------------------------------
# Latent risk and its consequences
# --------------------------------------------------------------------------------------

@dataclass
class _Risk:
    """Per-enterprise latent quantities: r(t) = base + drift·t (+ the year's shock)."""

    base: np.ndarray       # attributes + interactions + safety culture
    drift: np.ndarray      # per year
    u: np.ndarray          # safety culture
    exposure: np.ndarray   # accident exposure from headcount
    sev_logit: np.ndarray  # logit of P(serious-or-worse | accident) without the r term
    perceived: np.ndarray  # the bureau's view from visible hazards

    def at(self, t_years: float) -> np.ndarray:
        return self.base + self.drift * t_years


def _make_risk(rng: np.random.Generator, raw: dict[str, np.ndarray]) -> _Risk:
    n = len(raw["size"])
    role, mh, size, grade = raw["role"], raw["mh_level"], raw["size"], raw["grade"]
    dust, molten, confined = raw["dust"], raw["molten"], raw["confined"]
    hc = role > 0
    u = rng.normal(0, SIGMA_U, n)
    base = (
        raw["ind_effect"]
        + HAZ_SCALE * np.array([0.0, 0.70, 0.45, 0.45, 0.15])[role]
        + HAZ_SCALE * np.array([0.0, 0.80, 0.60, 0.40, 0.25])[mh]
        + 0.45 * dust + 0.45 * molten + 0.20 * confined
        + np.array([0.0, 0.10, 0.15, 0.15])[size]
        + np.array([0.0, -0.75, -0.50, -0.25])[grade]
        + 0.20 * raw["park"]
        # interactions a deduction table cannot express
        + HC_NOGRADE * (hc & (grade == 0))
        + 0.60 * (dust & (size <= 1))
        + 0.45 * (molten & (grade == 0))
        + 0.50 * ((mh > 0) & (u > 0.3))
        - 0.30 * ((grade > 0) & (u < 0))
        + u
        # a bad safety culture compounds: convex in u
        + CONVEX_U * np.maximum(u, 0) ** 2
    )
    # drift: graded firms improve, some firms slip (per year)
    slip = rng.random(n) < SLIP_SHARE
    drift = np.where(grade > 0, rng.normal(-0.08, 0.04, n), rng.normal(0.0, 0.05, n))
    drift = np.where(slip, rng.normal(SLIP_RATE, 0.04, n), drift)
    exposure = 0.30 * np.log1p(raw["employees"] / 20.0)
    sev_logit = (-3.6 + 0.9 * ((role == 1) | (role == 3)) + 0.5 * (role == 2) + 0.9 * (mh > 0)
                 + 0.5 * dust + 0.5 * molten + 0.3 * confined)
    perceived = PERCEIVED_SCALE * (1.3 * hc + 0.4 * (role == 1) + 1.0 * (mh > 0) + 0.3 * ((mh > 0) & (mh <= 2))
                 + 0.8 * dust + 0.8 * molten + 0.2 * confined + np.array([0.0, 0.1, 0.3, 0.5])[size]
                 - 0.3 * (grade > 0))
    return _Risk(base, drift, u, exposure, sev_logit, perceived)


def _accident_rates(risk: _Risk, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(accidents a year, P(serious-or-worse | accident)) at risk r."""
    return np.exp(A0 + r + risk.exposure), _sigmoid(risk.sev_logit + 0.3 * r)


def _visit_rate(risk: _Risk, r_no_shock: np.ndarray, hist: np.ndarray) -> np.ndarray:
    """Routine visits a year in the bureau's annual plan."""
    return np.minimum(V_MAX, np.exp(V0 + risk.perceived + V_R * r_no_shock + hist))


def _history_push(majors: np.ndarray, serious: np.ndarray, minor: np.ndarray) -> np.ndarray:
    """How much last year's record raises this year's planned visits (log scale)."""
    return PUSH_MAJOR * np.minimum(majors, 3) + 0.8 * np.minimum(serious, 1) + 0.3 * np.minimum(minor, 2)


# --------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------

@dataclass
class _Period:
    start: date
    days: int
    t_mid: float  # years relative to `end` at the middle of the period


def _simulate_period(rng: np.random.Generator, risk: _Risk, period: _Period, hist_push: np.ndarray,
                     area: np.ndarray, inspectors: pd.DataFrame, area_names: np.ndarray,
                     stringency: np.ndarray, last_day: int,
                     leniency: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Accidents and visits of one year. Day numbers count from `period.start`; events after
    `last_day` (the end of the simulated horizon) are dropped."""
    n = len(risk.base)
    years = period.days / 365.0
    r_bar = risk.at(period.t_mid)
    r = r_bar + rng.normal(0, SIGMA_SHOCK, n)
    lam, p_severe = _accident_rates(risk, r)
    # accidents
    k = rng.poisson(lam * years)
    a_ent = np.repeat(np.arange(n), k)
    a_day = rng.integers(0, period.days, len(a_ent))
    severe = rng.random(len(a_ent)) < p_severe[a_ent]
    sev = np.where(severe, 1 + _categorical(rng, np.tile(SERIOUS_SPLIT, (len(a_ent), 1))), 0)
    deaths, injuries = _casualties(rng, sev)
    # visits: routine, accident follow-ups, then re-checks of major findings
    v = _visit_rate(risk, r_bar, hist_push)
    kv = rng.poisson(v * years)
    v_ent = np.repeat(np.arange(n), kv)
    v_day = rng.integers(0, period.days, len(v_ent))
    follow = np.where(sev == 0, rng.random(len(a_ent)) < F_ACC, True)
    f_ent = a_ent[follow]
    f_day = a_day[follow] + np.where(sev[follow] == 0, rng.integers(3, 31, int(follow.sum())),
                                     rng.integers(1, 8, int(follow.sum())))
    v_ent = np.concatenate([v_ent, f_ent])
    v_day = np.concatenate([v_day, f_day])
    keep = v_day <= last_day
    v_ent, v_day = v_ent[keep], v_day[keep]
    mu_major = np.exp(M0 + M1 * r)
    mu_haz = np.exp(H0 + H1 * r)
    teams_txt, team = _assign_teams(rng, area[v_ent], inspectors, area_names)
    g = _team_stringency(team, stringency)
    lenient = np.ones(len(v_ent)) if leniency is None else _team_stringency(team, leniency)
    major = rng.poisson(mu_major[v_ent] * lenient)
    hazards = major + rng.poisson(mu_haz[v_ent] * g * lenient)
    # re-checks after a major hazard found: usually rectified
    rc = (major > 0) & (rng.random(len(major)) < F_RECHECK)
    rc_ent = v_ent[rc]
    rc_day = v_day[rc] + rng.integers(RECHECK_DAYS[0], RECHECK_DAYS[1] + 1, int(rc.sum()))
    keep = rc_day <= last_day
    rc_ent, rc_day = rc_ent[keep], rc_day[keep]
    rc_txt, rc_team = _assign_teams(rng, area[rc_ent], inspectors, area_names)
    rc_lenient = np.ones(len(rc_ent)) if leniency is None else _team_stringency(rc_team, leniency)
    rc_major = rng.poisson(RECHECK_FACTOR * mu_major[rc_ent] * rc_lenient)
    rc_haz = rc_major + rng.poisson(RECHECK_FACTOR * mu_haz[rc_ent] * _team_stringency(rc_team, stringency)
                                    * rc_lenient)
    ent = np.concatenate([v_ent, rc_ent])
    day = np.concatenate([v_day, rc_day])
    major_all = np.concatenate([major, rc_major])
    hazards_all = np.concatenate([hazards, rc_haz])
    p_pen = np.where(major_all > 0, 0.70, np.where(hazards_all >= 5, 0.30, np.where(hazards_all >= 1, 0.08, 0.01)))
    penalized = rng.random(len(ent)) < p_pen
    a_keep = a_day <= last_day
    return dict(
        a_ent=a_ent[a_keep], a_day=a_day[a_keep], a_sev=sev[a_keep], a_deaths=deaths[a_keep],
        a_injuries=injuries[a_keep],
        v_ent=ent, v_day=day, v_team=np.concatenate([teams_txt, rc_txt]), v_major=major_all,
        v_hazards=hazards_all, v_penalized=penalized.astype(np.int64),
    )


def _team_stringency(team: np.ndarray, stringency: np.ndarray) -> np.ndarray:
    s = np.where(team >= 0, stringency[np.maximum(team, 0)], 0.0)
    return s.sum(axis=1) / (team >= 0).sum(axis=1)


def _casualties(rng: np.random.Generator, sev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = len(sev)
    u = rng.random(m)
    deaths = np.zeros(m, dtype=np.int64)
    injuries = np.zeros(m, dtype=np.int64)
    # minor (一般): mostly injuries only; a few with 1–2 deaths
    minor = sev == 0
    d_minor = np.where(u < 0.90, 0, np.where(u < 0.98, 1, 2))
    deaths = np.where(minor, d_minor, deaths)
    inj_minor = np.where(d_minor == 0, 1 + rng.poisson(0.5, m), rng.poisson(0.7, m))
    injuries = np.where(minor, inj_minor, injuries)
    # serious (较大): 3–9 deaths, or 10–49 injuries
    serious = sev == 1
    with_deaths = u < 0.55
    deaths = np.where(serious & with_deaths, rng.integers(3, 10, m), np.where(serious, rng.integers(0, 3, m), deaths))
    injuries = np.where(serious & with_deaths, rng.poisson(4.0, m), np.where(serious, rng.integers(10, 50, m), injuries))
    # major (重大): 10–29 deaths, or 50–99 injuries
    major = sev == 2
    deaths = np.where(major & (u < 0.7), rng.integers(10, 30, m), np.where(major, rng.integers(3, 10, m), deaths))
    injuries = np.where(major & (u < 0.7), rng.poisson(15.0, m), np.where(major, rng.integers(50, 100, m), injuries))
    # extraordinary (特别重大): 30+ deaths
    extra = sev == 3
    deaths = np.where(extra, rng.integers(30, 45, m), deaths)
    injuries = np.where(extra, rng.integers(20, 120, m), injuries)
    return deaths.astype(np.int64), injuries.astype(np.int64)


# --------------------------------------------------------------------------------------
# Truth
# --------------------------------------------------------------------------------------

def _event_rate(risk: _Risk, r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Events a year: serious-or-worse accidents plus visits (routine and accident follow-ups)
    that find a major hazard; superposed Poisson processes."""
    lam, p_severe = _accident_rates(risk, r)
    q = 1.0 - np.exp(-np.exp(M0 + M1 * r))
    return lam * p_severe + (v + F_ACC * lam * (1 - p_severe)) * q


def _truth(risk: _Risk, hist_push: np.ndarray, t_mid: float, days: int) -> tuple[np.ndarray, np.ndarray]:
    """p_event over `days` after `end`, integrating the year's shock by Gauss–Hermite."""
    r_bar = risk.at(t_mid)
    v = _visit_rate(risk, r_bar, hist_push)
    nodes, weights = np.polynomial.hermite_e.hermegauss(15)
    weights = weights / weights.sum()
    p = np.zeros_like(r_bar)
    for x, w in zip(nodes, weights):
        p += w * (1.0 - np.exp(-_event_rate(risk, r_bar + SIGMA_SHOCK * x, v) * days / 365.0))
    return p, v


def _push_from(out: dict[str, np.ndarray], n: int, lo: int, hi: int) -> np.ndarray:
    """Last year's record (events dated in [lo, hi)) as the next plan's visit push."""
    vm = (out["v_day"] >= lo) & (out["v_day"] < hi)
    am = (out["a_day"] >= lo) & (out["a_day"] < hi)
    majors = np.bincount(out["v_ent"][vm], weights=out["v_major"][vm], minlength=n)
    serious = np.bincount(out["a_ent"][am & (out["a_sev"] >= 1)], minlength=n)
    minor = np.bincount(out["a_ent"][am & (out["a_sev"] == 0)], minlength=n)
    return _history_push(majors, serious, minor)


def _history_frames(parts: list[dict[str, np.ndarray]], ent: pd.DataFrame, origin: date,
                    horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = ent["enterprise_id"].to_numpy()
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    sev_names = np.array(["minor", "serious", "major", "extraordinary"])
    accidents = pd.DataFrame({
        "enterprise_id": ids[cat["a_ent"]], "date": _to_datetime(cat["a_day"], origin),
        "severity": sev_names[cat["a_sev"]], "deaths": cat["a_deaths"], "injuries": cat["a_injuries"],
        "_e": cat["a_ent"], "_d": cat["a_day"],
    })
    accidents = accidents.sort_values(["_d", "_e"], kind="stable").drop(columns=["_e", "_d"]).reset_index(drop=True)
    # visits happen on weekdays: a weekend visit moves to a weekday of the week before (Saturday) or
    # after (Sunday), spread by a hash of enterprise and day so no weekday is favoured
    v_day = cat["v_day"]
    weekday = (np.datetime64(origin, "D") + v_day.astype("timedelta64[D]")).astype("datetime64[D]").view("int64")
    weekday = (weekday + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    spread = (cat["v_ent"] + v_day) % 5
    v_day = v_day + np.where(weekday == 5, -1 - spread, np.where(weekday == 6, 1 + spread, 0))
    v_day = np.where(v_day < 0, v_day + 7, np.where(v_day > horizon, v_day - 7, v_day))
    inspections = pd.DataFrame({
        "enterprise_id": ids[cat["v_ent"]], "date": _to_datetime(v_day, origin),
        "inspectors": cat["v_team"], "hazards_found": cat["v_hazards"].astype(np.int64),
        "major_hazards_found": cat["v_major"].astype(np.int64), "penalized": cat["v_penalized"].astype(np.int64),
        "_e": cat["v_ent"], "_d": v_day,
    })
    # one visit per enterprise and day (a follow-up landing on a routine visit's day merges into it)
    inspections = inspections.sort_values(["_d", "_e"], kind="stable").drop_duplicates(["_e", "_d"])
    inspections = inspections.drop(columns=["_e", "_d"]).reset_index(drop=True)
    return accidents, inspections
