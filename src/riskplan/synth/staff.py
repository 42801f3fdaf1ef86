"""Inspectors of the generated district: squads, certificates, qualifications and home
subdistricts, the teams of past visits, leave, conflicts of interest and pinned visits."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd

from riskplan.domain.calendar import Quarter
from riskplan.synth.common import (
    CHINESE_NUMERALS,
    CONFLICT_REASONS,
    GIVEN_CHARS,
    PINNED_REASONS,
    SURNAMES,
    _largest_remainder,
    _to_datetime,
)

# --------------------------------------------------------------------------------------
# Inspectors
# --------------------------------------------------------------------------------------

def _person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    sur = np.array(SURNAMES)[np.minimum(rng.geometric(0.09, n) - 1, len(SURNAMES) - 1)]
    g = np.array(GIVEN_CHARS)
    one = g[rng.integers(0, len(g), n)]
    two = np.char.add(g[rng.integers(0, len(g), n)], g[rng.integers(0, len(g), n)])
    return np.char.add(sur, np.where(rng.random(n) < 0.35, one, two))


def _make_inspectors(rng: np.random.Generator, n: int, areas: pd.DataFrame, area_counts: np.ndarray) -> pd.DataFrame:
    n_brigade = max(1, int(round(0.30 * n))) if n >= 4 else n
    n_station = n - n_brigade
    home = np.full(n, "", dtype=object)
    squad = np.empty(n, dtype=object)
    n_squads = int(np.clip(round(n_brigade / 10), 1, 10))
    squad[:n_brigade] = [f"执法{CHINESE_NUMERALS[i * n_squads // n_brigade]}中队" for i in range(n_brigade)]
    if n_station:
        per_area = _largest_remainder(n_station, area_counts.astype(float) + 1e-9)
        area_of = np.repeat(np.arange(len(areas)), per_area)
        home[n_brigade:] = areas["name"].to_numpy()[area_of]
        squad[n_brigade:] = [f"{areas['name'].iloc[a]}应急消防管理站" if not areas["park"].iloc[a]
                             else f"{areas['name'].iloc[a]}安全监管站" for a in area_of]
    certified = np.ones(n, dtype=np.int64)
    n_aux = int(math.floor(0.07 * n))
    if n_aux and n_station:
        aux = n_brigade + rng.choice(n_station, size=min(n_aux, n_station), replace=False)
        certified[aux] = 0
    brigade = np.arange(n) < n_brigade
    probs = {  # (brigade, station)
        "hazchem": (0.50, 0.33), "dust": (0.35, 0.25), "metallurgy": (0.30, 0.15),
        "mining": (0.08, 0.03), "fire": (0.35, 0.45), "general": (0.70, 0.80),
    }
    held = {q: rng.random(n) < np.where(brigade, pb, ps) for q, (pb, ps) in probs.items()}
    # every district has enough of each specialist for its hazardous firms' visits
    for q, floor in (("hazchem", 0.35), ("dust", 0.20), ("metallurgy", 0.15)):
        cert_idx = np.flatnonzero(certified == 1)
        need = max(1, int(round(floor * len(cert_idx))))
        have = int(held[q][cert_idx].sum())
        if have < need:
            pool = cert_idx[~held[q][cert_idx]]
            held[q][rng.choice(pool, size=min(need - have, len(pool)), replace=False)] = True
    aux_mask = certified == 0
    held["general"] |= ~aux_mask & ~np.any([held[q] for q in probs], axis=0)
    for q in ("hazchem", "dust", "metallurgy", "mining"):
        held[q] &= ~aux_mask
    quals = np.array([";".join(q for q in probs if held[q][i]) for i in range(n)], dtype=object)
    width = max(3, len(str(n)))
    return pd.DataFrame({
        "inspector_id": [f"ZF{i + 1:0{width}d}" for i in range(n)],
        "name": _person_names(rng, n),
        "squad": squad.astype(str),
        "certified": certified,
        "qualifications": quals.astype(str),
        "home_subdistrict": home.astype(str),
        "weekly_capacity": np.zeros(n, dtype=np.int64),  # set by the capacity calibration
    })


def _assign_teams(rng: np.random.Generator, visit_area: np.ndarray, inspectors: pd.DataFrame,
                  area_names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Teams for past visits: (';'-joined ids, team stringency index array per member (n, 3) with -1)."""
    m = len(visit_area)
    cert = np.flatnonzero(inspectors["certified"].to_numpy() == 1)
    if len(cert) < 2:
        cert = np.arange(len(inspectors))
    home = inspectors["home_subdistrict"].to_numpy()
    # local pools: certified inspectors by home area
    local_pool = {a: cert[home[cert] == name] for a, name in enumerate(area_names)}
    first = cert[rng.integers(0, len(cert), m)]
    use_local = rng.random(m) < 0.55
    draw = rng.random(m)
    for a, pool in local_pool.items():
        if len(pool) == 0:
            continue
        mask = use_local & (visit_area == a)
        first[mask] = pool[np.minimum((draw[mask] * len(pool)).astype(int), len(pool) - 1)]
    # second: any certified inspector other than the first
    pos = np.searchsorted(cert, first)
    off = 1 + rng.integers(0, len(cert) - 1, m) if len(cert) > 1 else np.zeros(m, dtype=int)
    second = cert[(pos + off) % len(cert)]
    team = np.full((m, 3), -1, dtype=np.int64)
    team[:, 0], team[:, 1] = first, second
    third = rng.random(m) < 0.06
    if len(inspectors) >= 3:
        cand = rng.integers(0, len(inspectors), m)
        for _ in range(20):
            clash = third & ((cand == first) | (cand == second))
            if not clash.any():
                break
            cand[clash] = rng.integers(0, len(inspectors), int(clash.sum()))
        third &= (cand != first) & (cand != second)
        team[third, 2] = cand[third]
    ids = inspectors["inspector_id"].to_numpy().astype(str)
    joined = np.char.add(np.char.add(ids[team[:, 0]], ";"), ids[team[:, 1]])
    joined = np.where(team[:, 2] >= 0, np.char.add(np.char.add(joined, ";"), ids[np.maximum(team[:, 2], 0)]), joined)
    return joined, team


# --------------------------------------------------------------------------------------
# Leave, conflicts, pinned visits, capacity
# --------------------------------------------------------------------------------------

def _make_leave(rng: np.random.Generator, inspectors: pd.DataFrame, year_start: date) -> pd.DataFrame:
    """Leave in the 12 months after `end`: annual leave, training, the odd long absence."""
    n = len(inspectors)
    rows_i, rows_s, rows_len = [], [], []
    for kind_p, lo, hi in ((0.85, 5, 15), (0.35, 3, 6), (0.04, 30, 91)):
        has = rng.random(n) < kind_p
        start = rng.integers(0, 365, n)
        length = rng.integers(lo, hi, n)
        rows_i.append(np.flatnonzero(has))
        rows_s.append(start[has])
        rows_len.append(length[has])
    idx = np.concatenate(rows_i)
    start = np.concatenate(rows_s)
    length = np.concatenate(rows_len)
    order = np.lexsort((start, idx))
    idx, start, length = idx[order], start[order], length[order]
    end = np.minimum(start + length - 1, 364)
    merged: list[list[int]] = []  # overlapping or touching periods of one inspector become one
    for i, s, e in zip(idx.tolist(), start.tolist(), end.tolist()):
        if merged and merged[-1][0] == i and s <= merged[-1][2] + 1:
            merged[-1][2] = max(merged[-1][2], e)
        else:
            merged.append([i, s, e])
    rows = np.array(merged, dtype=np.int64).reshape(-1, 3)
    return pd.DataFrame({
        "inspector_id": inspectors["inspector_id"].to_numpy()[rows[:, 0]],
        "start": _to_datetime(rows[:, 1], year_start),
        "end": _to_datetime(rows[:, 2], year_start),
    })


def _make_conflicts(rng: np.random.Generator, inspectors: pd.DataFrame, ent: pd.DataFrame) -> pd.DataFrame:
    n_insp = len(inspectors)
    k = min(len(ent), max(2, int(round(n_insp / 6))))
    who = np.sort(rng.choice(n_insp, size=min(k, n_insp), replace=False))
    home = inspectors["home_subdistrict"].to_numpy()[who]
    rows = []
    for i, h in zip(who, home):
        pool = np.flatnonzero(ent["subdistrict"].to_numpy() == h) if h else np.arange(len(ent))
        if len(pool) == 0:
            pool = np.arange(len(ent))
        e = pool[rng.integers(0, len(pool))]
        rows.append((inspectors["inspector_id"].iloc[i], ent["enterprise_id"].iloc[e],
                     CONFLICT_REASONS[rng.integers(0, len(CONFLICT_REASONS))]))
    return pd.DataFrame(rows, columns=["inspector_id", "enterprise_id", "reason"]).drop_duplicates(
        ["inspector_id", "enterprise_id"]).reset_index(drop=True)


def _make_pinned(rng: np.random.Generator, ent: pd.DataFrame, raw: dict, quarter: Quarter) -> pd.DataFrame:
    n = len(ent)
    k = min(n, max(2, int(round(n / 500))))
    weight = 1.0 + 4.0 * (raw["mh_level"] > 0) + 1.0 * (raw["role"] > 0)
    chosen = np.sort(rng.choice(n, size=k, replace=False, p=weight / weight.sum()))
    q_days = (quarter.end - quarter.start).days + 1
    earliest = rng.integers(0, q_days - 10, k)
    latest = np.minimum(earliest + rng.integers(10, 46, k), q_days - 1)
    reason = np.where(raw["mh_level"][chosen] > 0, "重大危险源专项检查",
                      np.array(PINNED_REASONS)[rng.integers(0, len(PINNED_REASONS), k)])
    return pd.DataFrame({
        "enterprise_id": ent["enterprise_id"].to_numpy()[chosen],
        "reason": reason,
        "earliest": _to_datetime(earliest, quarter.start),
        "latest": _to_datetime(latest, quarter.start),
    })
