"""A synthetic district a bureau would recognise, generated from a latent true risk.

Why: the scoring model and the roster solver need realistic data of every size (S–XL) to be
developed, tested and benchmarked honestly, and the model needs a known truth to be
evaluated against. `make_district` builds one in memory; `generate_district` writes it
as a district folder (plus `truth.csv`, for evaluation only).

How the district is made (all randomness from one `numpy.random.Generator(PCG64(seed))`,
consumed in a fixed order, so the same seed gives byte-identical files):

1. Geography: 8–20 subdistricts (街道, more for larger districts) and 1–3 industrial parks
   (工业园区, treated as subdistricts) around a city centre near Suzhou (WGS84). Enterprises
   scatter around their area's centre (parks denser) and belong to the community grid
   (网格, ids like ``JD03-G012``) whose centre is nearest.
2. Attributes: industry (parks lean to chemicals, metallurgy, machinery), size class
   (most micro/small), headcount, hazardous-chemical role, major hazard installation
   (level 1 rare … 4), explosive dust, molten metal, confined space, standardization grade
   (larger and hazchem firms more often graded). Hazards cluster in their industries and
   in parks. Ids are valid unified social credit codes (``91`` + admin division code + a
   random organisation code + check character); names are Chinese.
3. Latent true risk ``r(t)`` per enterprise: hazard terms + size + grade + industry, non-linear
   interactions (hazchem without a grade, explosive dust in micro/small firms, molten metal
   without a grade, a major hazard installation in a firm with a poor safety culture), an
   unobserved safety culture ``u ~ N(0, SIGMA_U)``, a drift over time (graded firms improve,
   some firms worsen) and a yearly shock ``e ~ N(0, SIGMA_SHOCK)``. From ``r``:
     - accidents: Poisson, rate ``exp(A0 + r + exposure(employees))`` a year; severity
       pyramid minor ≫ serious ≫ major ≫ extraordinary (hazardous firms' accidents are more
       often severe); deaths mostly 0, more for severe ones;
     - per visit: major hazards found ~ Poisson(``exp(M0 + M1·r)``), other hazards ~
       Poisson(``exp(H0 + H1·r)`` × the team's stringency), penalised more often with findings.
   Inspector stringency changes what is found: it is noise, not risk.
4. The bureau's usual visits (its annual plan, revised each year from the previous year's
   record): routine visits Poisson at ``v = min(V_MAX, exp(V0 + perceived risk))`` a year,
   where perceived risk = visible hazards + the firm's reputation (``V_R·r`` without the
   shock) + last year's major hazards and accidents; plus a follow-up visit after most
   accidents and a re-check after a major hazard found. Teams: 2 inspectors (sometimes 3),
   mostly from the area's station or the district brigade.
5. Truth: the event is a serious-or-worse accident or a visit finding ≥ 1 major hazard.
   In the 12 months after ``end`` the event arrives as the superposition of Poisson
   processes, rate ``λ_serious+ + (v + F_ACC·λ_minor)·q`` with ``q = 1 − exp(−μ_major)``, so
   ``p_event_12m = E_e[1 − exp(−rate(e))]``, the shock integrated by Gauss–Hermite
   quadrature: exactly the mechanism that generated the history (checked against a
   simulated future in the tests).
6. Inspectors: district brigade squads (执法一中队 …, no home subdistrict, ~30%) and
   subdistrict stations (…应急消防管理站); ~93% certified; qualifications (hazchem ~1/3,
   dust, metallurgy, mining, fire, general); leave in the following year; a few conflicts
   of interest; a few pinned visits in the quarter after ``end``.

Capacity calibration (why weekly_capacity is what it is): the next quarter's demand is
estimated with true-probability tiers as a proxy for the model's tiers under the default
policy — red (p ≥ 0.30) 3 visits, orange 1 visit when its last visit + 182 days falls in
the quarter or before, follow-ups (latest visit found a major hazard; serious-or-worse
accident in the 31 days before the quarter and no visit since) and pinned visits, then
10 % of eligible yellow and 3 % of eligible blue (not visited in the last 90 days, no
obligation) — times ``team_size`` = 2 inspector-visits. Supply is computed exactly as the
planner will (riskplan.calendar: floor(capacity × available days ÷ 5) per ISO week, leave
removed, certified inspectors only). Weekly capacities are integers ``round(s × w_i)``
(``w_i`` an inspector's relative capacity) with the smallest scale ``s`` at which the
*reference* inspector count of the size (S 30 per 2,000 enterprises, M 60 per 8,000, …,
scaled to ``n_enterprises`` when that is overridden) is loaded at most ``TARGET_LOAD``
(80 %) over the quarter and at most ``MONTH1_LOAD`` (95 %) in month 1. Month 1 is the
binding one in practice: every red's first visit, every overdue orange (the bureau's past
visits were not risk-based, so many are overdue), the follow-ups and the early pinned visits
fall there, while its first ISO week (1 January, a Friday) carries no capacity. So the
quarter's load comes out at ~75 % (M, L, XL) with month 1 at ~95 %; the roster planner,
given the true tiers, places every visit at S–XL. Specialists are kept in step: at least
35 % of certified inspectors hold hazchem, 20 % dust, 15 % metallurgy. Overriding ``n_inspectors`` keeps the per-inspector capacity, so fewer inspectors
give a starved district and more give slack. `SyntheticDistrict.capacity` records demand,
supply and load. Because S is staffed twice as densely as M–XL (30 per 2,000 against
60 per 8,000), S and the sample district get weekly capacities of about 2, M–XL about 4.

The constants below were tuned (on M, seeds 1–4) so that the truth gives a plausible tier
mix under the default thresholds — red ~1.5 %, orange ~5 %, yellow ~22 %, blue ~71 % — and
so that the risk is learnable from the history but not from a deduction table: a
gradient-boosted model on simple history features, trained on three yearly as-of dates
before `end`, reaches ~0.88 of the oracle's average precision, a logistic regression
~0.89 (0.86–0.88 from one year), the 100-point rule ~0.66 (benchmarks/bench_synth.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .calendar import Quarter, WorkCalendar, iso_week
from .credit_code import ALPHABET, WEIGHTS
from .io import atomic_output_dir, frame_to_csv_bytes
from .policy import DEFAULT_POLICY_TOML, Policy

# --------------------------------------------------------------------------------------
# Sizes and the model's constants (documented above; tests check the consequences)
# --------------------------------------------------------------------------------------

#: size -> (enterprises, inspectors)
SIZES: dict[str, tuple[int, int]] = {"S": (2000, 30), "M": (8000, 60), "L": (20000, 150), "XL": (50000, 370)}
DEFAULT_YEARS = 5
DEFAULT_END = date(2026, 12, 31)
TARGET_LOAD = 0.80    # the quarter's estimated demand / supply at the reference staffing
MONTH1_LOAD = 0.95    # at most this in month 1, where red, overdue orange and follow-ups crowd

CITY_LAT, CITY_LON = 31.32, 120.58
ADMIN_CODE = "320505"  # the district's 6-digit administrative division code
OTHER_ADMIN_CODES = ("320506", "320507", "320508", "320571")  # firms registered next door

SIGMA_U = 0.50        # safety culture: unobserved enterprise effect
SIGMA_SHOCK = 0.25    # yearly shock
A0 = -4.90            # accidents a year: exp(A0 + r + exposure)
M0, M1 = -2.50, 0.60  # major hazards per visit: Poisson mean exp(M0 + M1 r)
H0, H1 = 0.10, 1.00   # other hazards per visit: Poisson mean exp(H0 + H1 r) × stringency
V0, V_R, V_MAX = -1.20, 0.30, 4.0  # routine visits a year
PERCEIVED_SCALE = 0.5  # weight of visible hazards in the bureau's plan
CONVEX_U = 0.10       # a bad safety culture compounds
PUSH_MAJOR = 0.40     # log-visit push per major hazard found last year
HAZ_SCALE = 0.6       # weight of the hazchem role and major hazard terms in r
HC_NOGRADE = 0.50     # interaction: hazchem without a standardization grade
SLIP_SHARE, SLIP_RATE = 0.15, 0.15  # share of firms whose culture worsens, and how fast (r a year)
STRINGENCY_SD = 0.25  # inspectors differ in how much they find
F_ACC = 0.70          # share of minor accidents followed by a visit
F_RECHECK = 0.95      # share of major-hazard findings re-checked
RECHECK_DAYS = (10, 40)  # a re-check follows a major hazard found this many days later
RECHECK_FACTOR = 0.30 # a re-check finds this share of the usual hazards (rectified)
SERIOUS_SPLIT = (0.90, 0.092, 0.008)  # serious / major / extraordinary among serious-or-worse

TIER_THRESHOLDS = (0.30, 0.12, 0.04)

# industry: (weight in subdistricts, weight in parks, P(hazchem), role weights produce/use/store/trade,
#            P(major hazard | hazchem), P(dust), P(molten), P(confined), size shift, risk effect)
INDUSTRIES: dict[str, tuple] = {
    "化工":     (0.8, 14.0, 0.80, (0.50, 0.25, 0.17, 0.08), 0.35, 0.05, 0.00, 0.45, 0.8, 0.25),
    "医药":     (0.4, 4.0, 0.55, (0.35, 0.45, 0.15, 0.05), 0.15, 0.12, 0.00, 0.30, 0.7, 0.05),
    "冶金":     (0.6, 7.0, 0.12, (0.10, 0.70, 0.20, 0.00), 0.30, 0.10, 0.65, 0.30, 0.9, 0.25),
    "机械制造": (9.0, 16.0, 0.03, (0.00, 0.85, 0.15, 0.00), 0.05, 0.04, 0.06, 0.08, 0.3, 0.05),
    "金属制品": (6.0, 8.0, 0.04, (0.00, 0.85, 0.15, 0.00), 0.05, 0.12, 0.06, 0.06, 0.1, 0.10),
    "木材家具": (5.0, 5.0, 0.05, (0.00, 0.90, 0.10, 0.00), 0.00, 0.24, 0.00, 0.05, 0.0, 0.10),
    "食品加工": (7.0, 6.0, 0.04, (0.00, 0.80, 0.20, 0.00), 0.10, 0.06, 0.00, 0.25, 0.1, 0.00),
    "纺织服装": (8.0, 6.0, 0.02, (0.00, 0.90, 0.10, 0.00), 0.00, 0.03, 0.00, 0.05, 0.1, 0.00),
    "橡胶塑料": (4.0, 6.0, 0.07, (0.05, 0.80, 0.15, 0.00), 0.05, 0.05, 0.00, 0.06, 0.2, 0.10),
    "电子电器": (6.0, 10.0, 0.05, (0.00, 0.90, 0.10, 0.00), 0.05, 0.03, 0.01, 0.03, 0.4, -0.15),
    "建筑材料": (3.0, 4.0, 0.04, (0.00, 0.70, 0.30, 0.00), 0.05, 0.05, 0.05, 0.15, 0.2, 0.10),
    "印刷包装": (4.0, 3.0, 0.06, (0.00, 0.90, 0.10, 0.00), 0.00, 0.05, 0.00, 0.03, 0.0, -0.05),
    "仓储物流": (7.0, 5.0, 0.08, (0.00, 0.05, 0.80, 0.15), 0.20, 0.02, 0.00, 0.06, 0.2, 0.05),
    "批发零售": (22.0, 1.0, 0.025, (0.00, 0.00, 0.30, 0.70), 0.03, 0.00, 0.00, 0.01, -0.4, -0.25),
    "燃气加油": (1.2, 0.3, 1.00, (0.00, 0.00, 0.45, 0.55), 0.18, 0.00, 0.00, 0.10, 0.0, 0.20),
    "餐饮住宿": (14.0, 0.5, 0.02, (0.00, 0.60, 0.20, 0.20), 0.00, 0.00, 0.00, 0.02, -0.3, -0.20),
}
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "化工": ("化工", "化学", "精细化工", "新材料"),
    "医药": ("制药", "医药", "生物医药", "药业"),
    "冶金": ("冶金", "钢铁", "铸造", "合金材料"),
    "机械制造": ("机械", "机电设备", "精密机械", "装备制造"),
    "金属制品": ("金属制品", "五金", "金属材料", "模具"),
    "木材家具": ("家具", "木业", "木制品", "家居"),
    "食品加工": ("食品", "粮油", "饮料", "冷冻食品"),
    "纺织服装": ("纺织", "服饰", "制衣", "织造"),
    "橡胶塑料": ("塑胶", "橡塑", "塑料制品", "橡胶"),
    "电子电器": ("电子", "电器", "光电科技", "电子科技"),
    "建筑材料": ("建材", "新型建材", "玻璃", "水泥制品"),
    "印刷包装": ("印刷", "包装", "彩印", "纸业"),
    "仓储物流": ("物流", "仓储", "供应链", "运输"),
    "批发零售": ("商贸", "贸易", "超市", "百货"),
    "燃气加油": ("燃气", "加油站", "能源", "石油销售"),
    "餐饮住宿": ("餐饮管理", "酒店", "饮食", "酒店管理"),
}
SIZE_BASE = np.array([0.56, 0.32, 0.10, 0.02])  # micro, small, medium, large
SIZE_NAMES = np.array(["micro", "small", "medium", "large"])
HAZCHEM_ROLES = np.array(["none", "produce", "use", "store", "trade"])

SUBDISTRICT_ROOTS = ("城关", "东湖", "西山", "南苑", "北塘", "新华", "金桥", "龙泉", "凤凰", "青山",
                     "白沙", "长安", "红旗", "枫林", "梅园", "桂花", "狮山", "横塘", "望亭", "浒关")
PARK_ROOTS = ("滨江", "临港", "金山")
TRADE_CHARS = ("华", "泰", "鑫", "恒", "盛", "达", "通", "宏", "瑞", "丰", "昌", "隆", "顺", "兴", "源",
               "安", "康", "宝", "美", "佳", "永", "祥", "福", "光", "明", "天", "海", "金", "德", "嘉",
               "利", "新", "广", "富", "辉", "荣", "耀", "晨", "益", "诚", "信", "和", "中", "君", "博",
               "远", "锦", "汇", "腾", "创", "峰", "卓", "立", "贝", "正", "豪", "凯", "力", "奥", "联")
SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
            "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
            "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏")
GIVEN_CHARS = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
               "明", "超", "秀", "霞", "平", "刚", "桂", "英", "华", "建", "国", "志", "文", "斌", "玲",
               "鹏", "辉", "宇", "浩", "凯", "婷", "雪", "琳", "晨", "峰", "亮", "俊", "海", "波", "红")
CHINESE_NUMERALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十")
CONFLICT_REASONS = ("亲属在该企业任职", "曾在该企业工作", "与企业负责人有利害关系", "配偶持有该企业股份")
PINNED_REASONS = ("群众投诉举报", "上级交办", "重大危险源专项检查", "整改复查", "节前安全检查")


# --------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------

@dataclass
class SyntheticDistrict:
    """A generated district held in memory.

    Tables use the typed columns of `riskplan.schema` (dates datetime64[ns], ints int64);
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
        return (
            f"{len(ent):,} enterprises in {n_sub - n_parks} subdistricts + {n_parks} parks "
            f"({ent['grid'].nunique()} grids); {len(self.accidents):,} accidents and "
            f"{len(self.inspections):,} inspections over {self.years} years to {self.end}; "
            f"{len(self.inspectors)} inspectors ({int(self.inspectors['certified'].sum())} certified).\n"
            f"True tiers (p_event_12m): red {shares['red']:.1%}, orange {shares['orange']:.1%}, "
            f"yellow {shares['yellow']:.1%}, blue {shares['blue']:.1%}.\n"
            f"{self.quarter} capacity under the default policy: estimated demand "
            f"{cap['demand_inspector_visits']:.0f} inspector-visits / supply {cap['supply_inspector_visits']:.0f} "
            f"= load {cap['load']:.0%} (month 1: {cap['month1_load']:.0%}). Seed {self.seed}."
        )


def _csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


def true_tiers(p: np.ndarray, thresholds: tuple[float, float, float] = TIER_THRESHOLDS) -> np.ndarray:
    """'red'/'orange'/'yellow'/'blue' by probability thresholds (default policy cut-offs)."""
    red, orange, yellow = thresholds
    return np.where(p >= red, "red", np.where(p >= orange, "orange", np.where(p >= yellow, "yellow", "blue")))


# --------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------

def _categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of `probs` (rows need not be normalised)."""
    probs = np.asarray(probs, dtype=float)
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum <= u[:, None]).sum(axis=1), probs.shape[1] - 1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    quota = total * weights / weights.sum()
    base = np.floor(quota).astype(int)
    rest = total - base.sum()
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:rest]] += 1
    return base


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _to_datetime(days: np.ndarray, origin: date) -> pd.Series:
    return pd.Series(np.datetime64(origin, "D") + days.astype("timedelta64[D]")).astype("datetime64[ns]")


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
# History
# --------------------------------------------------------------------------------------

@dataclass
class _Period:
    start: date
    days: int
    t_mid: float  # years relative to `end` at the middle of the period


def _simulate_period(rng: np.random.Generator, risk: _Risk, period: _Period, hist_push: np.ndarray,
                     area: np.ndarray, inspectors: pd.DataFrame, area_names: np.ndarray,
                     stringency: np.ndarray, last_day: int) -> dict[str, np.ndarray]:
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
    major = rng.poisson(mu_major[v_ent])
    hazards = major + rng.poisson(mu_haz[v_ent] * g)
    # re-checks after a major hazard found: usually rectified
    rc = (major > 0) & (rng.random(len(major)) < F_RECHECK)
    rc_ent = v_ent[rc]
    rc_day = v_day[rc] + rng.integers(RECHECK_DAYS[0], RECHECK_DAYS[1] + 1, int(rc.sum()))
    keep = rc_day <= last_day
    rc_ent, rc_day = rc_ent[keep], rc_day[keep]
    rc_txt, rc_team = _assign_teams(rng, area[rc_ent], inspectors, area_names)
    rc_major = rng.poisson(RECHECK_FACTOR * mu_major[rc_ent])
    rc_haz = rc_major + rng.poisson(RECHECK_FACTOR * mu_haz[rc_ent] * _team_stringency(rc_team, stringency))
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
    exactly as riskplan.calendar.weekly_limits does. With `by_month`, an (inspectors × 3)
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


# --------------------------------------------------------------------------------------
# The public functions
# --------------------------------------------------------------------------------------

def make_district(size: str = "S", seed: int = 0, n_enterprises: int | None = None, n_inspectors: int | None = None,
                  years: int | None = None, end: date = DEFAULT_END, simulate_future: bool = False) -> SyntheticDistrict:
    """Generate a district in memory (see the module docstring for the mechanism)."""
    size = size.upper()
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    ref_ent, ref_insp = SIZES[size]
    n = int(n_enterprises or ref_ent)
    n_insp = int(n_inspectors or (ref_insp if n_enterprises is None else max(2, round(ref_insp * n / ref_ent))))
    ref_for_n = ref_insp * n / ref_ent
    years = int(years or DEFAULT_YEARS)
    if n < 1 or n_insp < 2 or years < 1:
        raise ValueError("need at least 1 enterprise, 2 inspectors and 1 year of history")
    rng = np.random.Generator(np.random.PCG64(seed))

    ent, areas, raw = _make_enterprises(rng, n)
    risk = _make_risk(rng, raw)
    area_counts = np.bincount(raw["area"], minlength=len(areas))
    inspectors = _make_inspectors(rng, n_insp, areas, area_counts)
    stringency = np.exp(rng.normal(0, STRINGENCY_SD, n_insp))
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
                               last_day=horizon - offset)
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
                               area_names, stringency, last_day=next_days - 1)
        serious = np.bincount(out["a_ent"][out["a_sev"] >= 1], minlength=n) > 0
        major = np.bincount(out["v_ent"][out["v_major"] > 0], minlength=n) > 0
        future = pd.DataFrame({"enterprise_id": ent["enterprise_id"], "event": (serious | major).astype(np.int64),
                               "serious_accident": serious.astype(np.int64), "major_found": major.astype(np.int64),
                               "visits": np.bincount(out["v_ent"], minlength=n)})
    return SyntheticDistrict(seed=seed, size=size, end=end, years=years, quarter=quarter, enterprises=ent,
                             accidents=accidents, inspections=inspections, inspectors=inspectors, leave=leave,
                             conflicts=conflicts, pinned=pinned, truth=truth, policy_toml=DEFAULT_POLICY_TOML,
                             latent=latent, capacity=capacity, future=future)


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


def generate_district(out_dir: Path | str, size: str = "S", seed: int = 0, n_enterprises: int | None = None,
                      n_inspectors: int | None = None, years: int | None = None, force: bool = False,
                      end: date = DEFAULT_END) -> str:
    """Write a synthetic district folder atomically; returns a short human summary.

    A non-empty `out_dir` is refused (FileExistsError) unless `force`.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise FileExistsError(f"{out_dir} already exists and is not empty (use --force to replace it)")
    district = make_district(size, seed, n_enterprises, n_inspectors, years, end)
    with atomic_output_dir(out_dir, force) as staging:
        for name, data in district.files().items():
            (staging / name).write_bytes(data)
    return f"Wrote {out_dir}: " + district.summary()


__all__ = ["SIZES", "SyntheticDistrict", "make_district", "generate_district", "true_tiers", "estimate_demand",
           "quarter_supply"]
