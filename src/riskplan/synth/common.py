"""The generator's parameters and small helpers shared by its sections."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

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
