"""Geography and enterprises of the generated district: subdistricts and parks, industries,
sizes, hazards, credit codes and names."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from riskplan.domain.credit_code import ALPHABET, WEIGHTS
from riskplan.synth.common import (
    ADMIN_CODE,
    CITY_LAT,
    CITY_LON,
    HAZCHEM_ROLES,
    INDUSTRIES,
    INDUSTRY_WORDS,
    OTHER_ADMIN_CODES,
    PARK_ROOTS,
    SIZE_BASE,
    SIZE_NAMES,
    SUBDISTRICT_ROOTS,
    TRADE_CHARS,
    _categorical,
)

# --------------------------------------------------------------------------------------
# Geography and enterprises
# --------------------------------------------------------------------------------------

def _n_subdistricts(n: int) -> int:
    return int(np.clip(round(8 + 12 * math.log(max(n, 1) / 2000) / math.log(25)), 8, 20))


def _n_parks(n: int) -> int:
    return 1 if n < 5000 else 2 if n < 15000 else 3


def _make_areas(rng: np.random.Generator, n: int) -> pd.DataFrame:
    n_sub, n_park = _n_subdistricts(n), _n_parks(n)
    roots = np.array(SUBDISTRICT_ROOTS)[np.sort(rng.permutation(len(SUBDISTRICT_ROOTS))[:n_sub])]
    km_lat, km_lon = 1 / 111.0, 1 / (111.0 * math.cos(math.radians(CITY_LAT)))
    radius = 9.0 * np.sqrt(rng.uniform(0.02, 1.0, n_sub))
    angle = rng.uniform(0, 2 * math.pi, n_sub)
    p_radius = rng.uniform(12.0, 18.0, n_park)
    p_angle = rng.uniform(0, 2 * math.pi, n_park)
    park_share = {1: 0.12, 2: 0.18, 3: 0.22}[n_park]
    weights = np.concatenate([rng.dirichlet(np.full(n_sub, 4.0)) * (1 - park_share),
                              rng.dirichlet(np.full(n_park, 4.0)) * park_share])
    return pd.DataFrame({
        "code": [f"JD{i + 1:02d}" for i in range(n_sub)] + [f"YQ{i + 1:02d}" for i in range(n_park)],
        "name": [f"{r}街道" for r in roots] + [f"{PARK_ROOTS[i]}工业园区" for i in range(n_park)],
        "park": [False] * n_sub + [True] * n_park,
        "lat": CITY_LAT + np.concatenate([radius * np.sin(angle), p_radius * np.sin(p_angle)]) * km_lat,
        "lon": CITY_LON + np.concatenate([radius * np.cos(angle), p_radius * np.cos(p_angle)]) * km_lon,
        "spread_km": np.where(np.arange(n_sub + n_park) < n_sub, rng.uniform(1.3, 2.2, n_sub + n_park), 0.7),
        "weight": weights,
    })


def _industry_table() -> pd.DataFrame:
    rows = []
    for name, (w_sub, w_park, p_hc, roles, p_mh, p_dust, p_molten, p_conf, shift, eff) in INDUSTRIES.items():
        rows.append(dict(industry=name, w_sub=w_sub, w_park=w_park, p_hazchem=p_hc,
                         r_produce=roles[0], r_use=roles[1], r_store=roles[2], r_trade=roles[3],
                         p_mh=p_mh, p_dust=p_dust, p_molten=p_molten, p_confined=p_conf,
                         size_shift=shift, effect=eff))
    return pd.DataFrame(rows)


def _credit_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unique valid unified social credit codes: 9 1 <admin> <9-char org code> <check>."""
    admin = np.where(rng.random(n) < 0.92, 0, 1 + rng.integers(0, len(OTHER_ADMIN_CODES), n))
    codes = (ADMIN_CODE, *OTHER_ADMIN_CODES)
    prefix = np.array([[ALPHABET.index(c) for c in "91" + code] for code in codes])[admin]
    org = rng.integers(0, 31, size=(n, 9))
    while True:  # the chance of a repeat is ~n²/31⁹; redraw the later copy
        dup = pd.Series(org.dot(31 ** np.arange(9, dtype=np.int64))).duplicated().to_numpy()
        if not dup.any():
            break
        org[dup] = rng.integers(0, 31, size=(int(dup.sum()), 9))
    body = np.concatenate([prefix, org], axis=1)  # 17 code values per row
    check = (31 - body.dot(np.array(WEIGHTS)) % 31) % 31  # GB 32100, as credit_code.check_character
    chars = np.array(list(ALPHABET))[np.concatenate([body, check[:, None]], axis=1)]
    return np.ascontiguousarray(chars).view("<U18").ravel()


def _enterprise_names(rng: np.random.Generator, areas: pd.DataFrame, area: np.ndarray,
                      industry: np.ndarray, size: np.ndarray) -> np.ndarray:
    n = len(area)
    chars = np.array(TRADE_CHARS)
    place = np.where(rng.random(n) < 0.5, "苏州", np.array([s[:2] for s in areas["name"]])[area])
    words = np.empty(n, dtype=object)
    ind_names = list(INDUSTRIES)
    pick = rng.integers(0, 4, n)
    for k, name in enumerate(ind_names):
        mask = industry == k
        words[mask] = np.array(INDUSTRY_WORDS[name])[pick[mask]]
    suffix = np.where(size == 3, np.where(rng.random(n) < 0.5, "股份有限公司", "有限公司"),
                      np.where(rng.random(n) < 0.15, "有限责任公司", "有限公司"))
    trade = np.char.add(chars[rng.integers(0, len(chars), n)], chars[rng.integers(0, len(chars), n)])
    names = pd.Series(place).str.cat([pd.Series(trade), pd.Series(words.astype(str)), pd.Series(suffix)])
    for _ in range(50):  # names are unique within a district: give repeats a longer trade name
        dup = names.duplicated().to_numpy()
        if not dup.any():
            break
        k = int(dup.sum())
        longer = np.char.add(np.char.add(chars[rng.integers(0, len(chars), k)], chars[rng.integers(0, len(chars), k)]),
                             chars[rng.integers(0, len(chars), k)])
        names[dup] = pd.Series(place[dup]).str.cat([pd.Series(longer), pd.Series(words[dup].astype(str)),
                                                    pd.Series(suffix[dup])]).to_numpy()
    return names.to_numpy()


def _make_enterprises(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    areas = _make_areas(rng, n)
    ind = _industry_table()
    # area, location, grid
    area = _categorical(rng, np.tile(areas["weight"].to_numpy(), (n, 1)))
    park = areas["park"].to_numpy()[area]
    km_lat, km_lon = 1 / 111.0, 1 / (111.0 * math.cos(math.radians(CITY_LAT)))
    spread = areas["spread_km"].to_numpy()[area]
    lat = areas["lat"].to_numpy()[area] + rng.normal(0, 1, n) * spread * km_lat
    lon = areas["lon"].to_numpy()[area] + rng.normal(0, 1, n) * spread * km_lon
    grid = np.empty(n, dtype=object)
    for a in range(len(areas)):
        members = np.flatnonzero(area == a)
        if len(members) == 0:
            continue
        k = int(np.clip(round(len(members) / 90), 3, 60))
        k = min(k, len(members))
        centres = members[rng.choice(len(members), size=k, replace=False)]
        d = (lat[members, None] - lat[None, centres]) ** 2 + ((lon[members, None] - lon[None, centres]) * 0.85) ** 2
        # number grids south-west to north-east so ids read like a map
        order = np.lexsort((lon[centres], lat[centres]))
        rank = np.empty(k, dtype=int)
        rank[order] = np.arange(k)
        nearest = rank[np.argmin(d, axis=1)]
        labels = np.array([f"{areas['code'].iloc[a]}-G{g + 1:03d}" for g in range(k)])
        grid[members] = labels[nearest]
    # industry by area type
    w = np.where(park[:, None], ind["w_park"].to_numpy()[None, :], ind["w_sub"].to_numpy()[None, :])
    industry = _categorical(rng, w)
    I = ind.iloc[industry].reset_index(drop=True)
    # size class: shift the base mix towards larger firms for heavy industries and parks
    shift = I["size_shift"].to_numpy() + 0.5 * park
    logits = np.log(SIZE_BASE)[None, :] + shift[:, None] * np.array([-0.6, 0.0, 0.7, 1.2])[None, :]
    size = _categorical(rng, np.exp(logits))
    lo = np.array([1, 10, 100, 1000])[size]
    hi = np.array([9, 99, 999, 6000])[size]
    employees = np.clip(np.round(np.exp(rng.uniform(np.log(lo), np.log(hi + 1)))), lo, hi).astype(np.int64)
    # hazards, clustered by industry and in parks
    park_boost = np.where(park, 1.3, 1.0)
    has_hc = rng.random(n) < np.minimum(0.97, I["p_hazchem"].to_numpy() * park_boost)
    roles = I[["r_produce", "r_use", "r_store", "r_trade"]].to_numpy()
    role = np.where(has_hc, 1 + _categorical(rng, roles + 1e-9), 0)
    size_mh = np.array([0.3, 0.8, 1.6, 2.5])[size]
    mh = (role >= 1) & (role <= 3) & (rng.random(n) < np.minimum(0.9, I["p_mh"].to_numpy() * size_mh * park_boost))
    mh_level = np.where(mh, 1 + _categorical(rng, np.tile([0.05, 0.15, 0.35, 0.45], (n, 1))), 0)
    dust = rng.random(n) < np.minimum(0.9, I["p_dust"].to_numpy() * park_boost)
    molten = rng.random(n) < np.minimum(0.9, I["p_molten"].to_numpy() * park_boost)
    confined = rng.random(n) < np.minimum(0.9, I["p_confined"].to_numpy() * 1.0)
    # standardization grade: larger and hazardous firms more often graded
    p_graded = np.array([0.05, 0.18, 0.50, 0.80])[size] + 0.30 * has_hc + 0.15 * mh + 0.05 * (dust | molten)
    graded = rng.random(n) < np.minimum(p_graded, 0.95)
    grade_mix = np.array([[0.01, 0.12, 0.87], [0.02, 0.18, 0.80], [0.06, 0.36, 0.58], [0.25, 0.45, 0.30]])[size]
    grade = np.where(graded, 1 + _categorical(rng, grade_mix), 0)
    ids = _credit_codes(rng, n)
    names = _enterprise_names(rng, areas, area, industry, size)
    ent = pd.DataFrame({
        "enterprise_id": ids,
        "name": names,
        "subdistrict": areas["name"].to_numpy()[area],
        "grid": grid.astype(str),
        "industry": ind["industry"].to_numpy()[industry],
        "size_class": SIZE_NAMES[size],
        "employees": employees,
        "lat": np.round(lat, 6),
        "lon": np.round(lon, 6),
        "hazchem": HAZCHEM_ROLES[role],
        "major_hazard_level": mh_level.astype(np.int64),
        "dust_explosion": dust.astype(np.int64),
        "molten_metal": molten.astype(np.int64),
        "confined_space": confined.astype(np.int64),
        "standardization_grade": grade.astype(np.int64),
    })
    raw = dict(area=area, park=park, industry=industry, size=size, role=role, mh_level=mh_level,
               dust=dust, molten=molten, confined=confined, grade=grade, employees=employees,
               ind_effect=I["effect"].to_numpy())
    return ent, areas, raw
