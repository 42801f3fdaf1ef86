"""Features and labels of the risk model, as of a date T.

Every feature of an enterprise is computed from its attributes and from accidents and
inspections dated strictly before T; nothing on or after T can change them (tested).
The label is the *event* in the 12 months from T: a serious-or-worse accident, or a
visit that finds at least one major hazard (what `truth.csv`'s `p_event_12m` is the
probability of). Who inspected is not a feature: the inspector changes what is found, which
is noise about the inspector, not risk of the enterprise; with `inspector_adjustment` the past
findings are made comparable across teams first (`riskplan.score.inspectors`).

`FEATURE_GROUPS` names the columns that together make one plain-words reason
("2 serious-or-worse accidents in the past 3 years"); the model's contributions are
summed per group and `describe_group` turns a group into words.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from riskplan.domain.headers import value_label
from riskplan.domain.schema import SERIOUS_OR_WORSE, SIZE_CLASSES
from riskplan.i18n import N_, _, ngettext
from riskplan.load.district import District

#: Bump when a feature is added, removed or computed differently: a saved model records it,
#: and loading a model built on another version is refused.
FEATURE_VERSION = "2"

#: Days in the look-back windows ("past year", "past 3 years", "past 5 years").
YEAR = 365
WINDOWS = {"1y": 365, "3y": 1095, "5y": 1826}
#: Label horizon: the event is looked for in [T, T + HORIZON_DAYS).
HORIZON_DAYS = 365
#: "Time since" features are capped here (years); never = the cap.
CAP_YEARS = 5.0
#: Half-life (days) of the recency weight in the "recent" features: an event 18 months ago
#: counts half as much as one yesterday, so a firm that slipped lately stands out from one
#: whose record is old.
HALF_LIFE_DAYS = 547
#: How team-adjusted findings are aggregated: "divide" each visit's findings by its team's factor,
#: or by "exposure" (a window's findings over its visits' summed factors, times the visits).
ADJUSTMENT = "divide"
#: Hazard rates are shrunk toward one hazard per visit: log((hazards + a) / (visits + a)),
#: so a single visit cannot make a rate extreme (a = PRIOR_VISITS).
PRIOR_VISITS = 1.0

HAZCHEM_ROLES = ("produce", "use", "store", "trade")

#: feature group -> columns. Order is the order of the feature matrix.
FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "hazchem": tuple(f"hazchem_{r}" for r in HAZCHEM_ROLES),
    "major_hazard": ("major_hazard_1", "major_hazard_2", "major_hazard_3", "major_hazard_4"),
    "dust_explosion": ("dust_explosion",),
    "molten_metal": ("molten_metal",),
    "confined_space": ("confined_space",),
    "standardization": ("std_none", "std_3", "std_2"),
    "size": ("size_rank", "log_employees"),
    "industry": ("industry",),
    "serious_accidents": ("serious_1y", "serious_3y", "serious_5y", "deaths_5y",
                          "years_since_serious"),
    "minor_accidents": ("minor_1y", "minor_3y", "minor_5y", "minor_recent", "years_since_accident"),
    "visits": ("visits_1y", "visits_3y", "visits_5y", "visits_recent", "years_since_visit", "never_visited"),
    "hazards_found": ("hazards_per_visit_3y", "hazards_last_visit", "hazards_1y", "hazards_5y", "hazards_recent",
                      "hazard_rate_1y", "hazard_rate_5y", "hazard_rate_recent", "hazard_trend"),
    "major_hazards_found": ("major_found_1y", "major_found_3y", "major_found_5y", "major_found_recent",
                            "major_found_last_visit"),
    "penalties": ("penalized_1y", "penalized_3y"),
}
FEATURE_NAMES: tuple[str, ...] = tuple(c for cols in FEATURE_GROUPS.values() for c in cols)
GROUP_OF: dict[str, str] = {c: g for g, cols in FEATURE_GROUPS.items() for c in cols}
#: Text columns (one-hot / categorical in the model); all others are numeric.
CATEGORICAL: tuple[str, ...] = ("industry",)
NUMERIC: tuple[str, ...] = tuple(c for c in FEATURE_NAMES if c not in CATEGORICAL)


def _ts(day: date | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(day).normalize()


def history_end(district: District) -> pd.Timestamp:
    """The latest date in the district's accident and inspection history."""
    dates = [d for d in (district.accidents["date"].max(), district.inspections["date"].max()) if pd.notna(d)]
    if not dates:
        raise ValueError("the district has no accident or inspection history to date the scoring")
    return max(dates)


def history_start(district: District) -> pd.Timestamp:
    dates = [d for d in (district.accidents["date"].min(), district.inspections["date"].min()) if pd.notna(d)]
    if not dates:
        raise ValueError("the district has no accident or inspection history")
    return min(dates)


def default_as_of(district: District) -> date:
    """The day after the latest date in the history: 'now' for a district's files."""
    return (history_end(district) + pd.Timedelta(days=1)).date()


def _index(district: District) -> pd.Index:
    return pd.Index(district.enterprises["enterprise_id"], name="enterprise_id")


def _positions(ids: pd.Series, index: pd.Index) -> np.ndarray:
    pos = index.get_indexer(ids)
    return pos


def _count(pos: np.ndarray, mask: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    w = None if weights is None else weights[mask]
    return np.bincount(pos[mask], weights=w, minlength=n).astype(float)


def _latest(pos: np.ndarray, days_before: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """Smallest days-before-T per enterprise among rows in `mask` (inf if none)."""
    out = np.full(n, np.inf)
    np.minimum.at(out, pos[mask], days_before[mask])
    return out


def _recency(days_before: np.ndarray) -> np.ndarray:
    """Weight of an event `days_before` days before T (0 for events on or after T)."""
    return np.where(days_before > 0, 0.5 ** (np.maximum(days_before, 0) / HALF_LIFE_DAYS), 0.0)


def _rate(hazards: np.ndarray, visits: np.ndarray) -> np.ndarray:
    """Shrunk log hazards per visit; 0 (one per visit) with no visits."""
    return np.log((hazards + PRIOR_VISITS) / (visits + PRIOR_VISITS))


def build_features(district: District, as_of: date | pd.Timestamp, inspector_adjustment: bool = False,
                   extra: dict[str, str] | None = None) -> pd.DataFrame:
    """Feature matrix (one row per enterprise, in the enterprises table's order).

    Index: enterprise_id. Columns: FEATURE_NAMES, then the `extra` columns (column -> kind, see
    `extra_columns`). Uses only events dated before `as_of`.
    With `inspector_adjustment`, past findings are first divided by their team's estimated
    propensity (`riskplan.score.inspectors`, from visits before `as_of` only).
    """
    t = _ts(as_of)
    ent = district.enterprises
    index = _index(district)
    n = len(index)
    f: dict[str, np.ndarray] = {}

    role = ent["hazchem"].to_numpy()
    for r in HAZCHEM_ROLES:
        f[f"hazchem_{r}"] = (role == r).astype(float)
    level = ent["major_hazard_level"].to_numpy()
    for lv in (1, 2, 3, 4):
        f[f"major_hazard_{lv}"] = (level == lv).astype(float)
    for flag in ("dust_explosion", "molten_metal", "confined_space"):
        f[flag] = ent[flag].to_numpy().astype(float)
    grade = ent["standardization_grade"].to_numpy()
    f["std_none"] = (grade == 0).astype(float)
    f["std_3"] = (grade == 3).astype(float)
    f["std_2"] = (grade == 2).astype(float)
    f["size_rank"] = ent["size_class"].map({s: i for i, s in enumerate(SIZE_CLASSES)}).to_numpy().astype(float)
    f["log_employees"] = np.log1p(ent["employees"].to_numpy().astype(float))

    # Accidents strictly before T.
    acc = district.accidents
    apos = _positions(acc["enterprise_id"], index)
    adays = ((t - acc["date"]).dt.days).to_numpy()
    before = (adays > 0) & (apos >= 0)
    serious = acc["severity"].isin(SERIOUS_OR_WORSE).to_numpy()
    for key, span in WINDOWS.items():
        inside = before & (adays <= span)
        f[f"serious_{key}"] = _count(apos, inside & serious, n)
        f[f"minor_{key}"] = _count(apos, inside & ~serious, n)
    f["deaths_5y"] = _count(apos, before & (adays <= WINDOWS["5y"]), n, acc["deaths"].to_numpy().astype(float))
    f["years_since_serious"] = np.minimum(_latest(apos, adays, before & serious, n) / YEAR, CAP_YEARS)
    f["years_since_accident"] = np.minimum(_latest(apos, adays, before, n) / YEAR, CAP_YEARS)
    f["minor_recent"] = _count(apos, before & ~serious, n, _recency(adays))

    # Inspections strictly before T (the inspectors column is deliberately not read).
    ins = district.inspections
    exposure = inspector_adjustment and ADJUSTMENT == "exposure"
    if inspector_adjustment:
        from riskplan.score.inspectors import adjusted_inspections

        ins = adjusted_inspections(ins, index, t, factors=exposure)
    ipos = _positions(ins["enterprise_id"], index)
    idays = ((t - ins["date"]).dt.days).to_numpy()
    ib = (idays > 0) & (ipos >= 0)
    in1 = ib & (idays <= WINDOWS["1y"])
    in3 = ib & (idays <= WINDOWS["3y"])
    hazards = ins["hazards_found"].to_numpy().astype(float)
    majors = ins["major_hazards_found"].to_numpy().astype(float)
    pen = ins["penalized"].to_numpy().astype(float)
    if exposure:
        f_other, f_major = ins["factor_other"].to_numpy(float), ins["factor_major"].to_numpy(float)

    def found(mask: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(hazards, major hazards) found per enterprise over the visits in `mask`. Adjusted by
        exposure: the findings over the visits' summed team factors, times the visits (the Poisson
        maximum likelihood of the firm's findings with the average team)."""
        w = np.ones(len(hazards)) if weights is None else weights
        if not exposure:
            return _count(ipos, mask, n, hazards * w), _count(ipos, mask, n, majors * w)
        visits = _count(ipos, mask, n, w)
        out = []
        for y, fac in ((hazards - majors, f_other), (majors, f_major)):
            total, exp_ = _count(ipos, mask, n, y * w), _count(ipos, mask, n, fac * w)
            out.append(np.divide(total * visits, exp_, out=np.zeros(n), where=exp_ > 0))
        return out[0] + out[1], out[1]

    f["visits_1y"] = _count(ipos, in1, n)
    f["visits_3y"] = _count(ipos, in3, n)
    in5 = ib & (idays <= WINDOWS["5y"])
    f["visits_5y"] = _count(ipos, in5, n)
    recency = _recency(idays)
    f["visits_recent"] = _count(ipos, ib, n, recency)
    last = _latest(ipos, idays, ib, n)
    f["never_visited"] = np.isinf(last).astype(float)
    f["years_since_visit"] = np.minimum(last / YEAR, CAP_YEARS)
    h1, m1 = found(in1)
    h3, m3 = found(in3)
    h5, m5 = found(in5)
    hr, mr = found(ib, recency)
    f["hazards_per_visit_3y"] = np.divide(h3, f["visits_3y"], out=np.zeros(n), where=f["visits_3y"] > 0)
    # The latest visit(s): every visit on the enterprise's latest past date.
    on_last = ib & (idays == np.where(ipos >= 0, last[np.clip(ipos, 0, None)], -1))
    f["hazards_last_visit"], f["major_found_last_visit"] = found(on_last)
    f["major_found_1y"] = m1
    f["major_found_3y"] = m3
    f["major_found_5y"] = m5
    f["major_found_recent"] = mr
    # Hazards found are the densest signal of a firm's own safety culture (several per visit,
    # against an accident every few years): counts, shrunk log rates per visit, and the trend
    # (recent rate against the 5-year rate) for firms that are slipping or improving.
    f["hazards_1y"] = h1
    f["hazards_5y"] = h5
    f["hazards_recent"] = hr
    f["hazard_rate_1y"] = _rate(f["hazards_1y"], f["visits_1y"])
    f["hazard_rate_5y"] = _rate(f["hazards_5y"], f["visits_5y"])
    f["hazard_rate_recent"] = _rate(f["hazards_recent"], f["visits_recent"])
    f["hazard_trend"] = f["hazard_rate_recent"] - f["hazard_rate_5y"]
    f["penalized_1y"] = _count(ipos, in1, n, pen)
    f["penalized_3y"] = _count(ipos, in3, n, pen)

    frame = pd.DataFrame(f, index=index)
    frame["industry"] = ent["industry"].astype(str).to_numpy()
    frame = frame[list(FEATURE_NAMES)]
    if extra:
        for column, values in extra_columns(district, extra).items():
            frame[column] = values
    return frame


# ---------------------------------------------------------------- a bureau's own columns

#: Prefix of the feature group of an extra column (one group per column: one reason each).
EXTRA_GROUP = "extra:"
#: The value an extra categorical column has where the cell is blank.
BLANK = ""


class ExtraFeatureError(ValueError):
    """A declared extra feature the enterprises table cannot give (missing column, text in a number column)."""


def policy_extra(district: District) -> dict[str, str]:
    """The district policy's `[model] extra_features` as column -> "numeric" / "categorical"."""
    return district.policy.model.kinds()


def extra_columns(district: District, extra: dict[str, str]) -> dict[str, np.ndarray]:
    """The extra feature columns from the enterprises table: numbers as floats (a blank cell is
    missing, NaN, which the model imputes), categories as text (blank = ""). A column the table
    does not have, or a cell of a number column that is not a number, is an ExtraFeatureError
    naming the file, the row as the spreadsheet shows it, the column and a suggestion."""
    import difflib

    ent = district.enterprises
    source = district.sources.get("enterprises")
    file = source.name if source is not None else "enterprises"
    if district.sheets.get("enterprises"):
        file = f"{file} [{district.sheets['enterprises']}]"
    builtin = set(FEATURE_NAMES) | {"enterprise_id", "name", "subdistrict", "grid", "lat", "lon"}
    own = [c for c in ent.columns if c not in builtin]
    out: dict[str, np.ndarray] = {}
    for column, kind in extra.items():
        if column not in ent.columns:
            close = difflib.get_close_matches(column, own, n=1, cutoff=0.5)
            hint = (_("did you mean '{name}'?").format(name=close[0]) if close else
                    _("the table's own columns: {names}").format(names=", ".join(map(str, own)) or "-"))
            raise ExtraFeatureError(_(
                "{file}: policy.toml [model] extra_features names column '{column}', which the enterprises "
                "table does not have ({hint})").format(file=file, column=column, hint=hint))
        text = ent[column].astype("string").fillna("").str.strip()
        if kind == "categorical":
            out[column] = text.to_numpy(dtype=object)
            continue
        numbers = pd.to_numeric(text.replace("", None), errors="coerce")
        bad = numbers.isna().to_numpy() & (text != "").to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ExtraFeatureError(ngettext(
                "{file}: row {row}, column '{column}': '{value}' is not a number ({count} such cell); an extra "
                "feature is a number unless policy.toml [model] categorical lists it",
                "{file}: row {row}, column '{column}': '{value}' is not a number ({count} such cells); an extra "
                "feature is a number unless policy.toml [model] categorical lists it", int(bad.sum())).format(
                file=file, row=i + 2, column=column, value=text.iloc[i], count=int(bad.sum())))
        out[column] = numbers.to_numpy(dtype=float)
    return out


def extra_groups(extra: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """Feature groups of the extra columns: one per column."""
    return {EXTRA_GROUP + c: (c,) for c in extra}


def build_labels(district: District, as_of: date | pd.Timestamp, horizon_days: int = HORIZON_DAYS) -> pd.Series:
    """1 where the event happens in [as_of, as_of + horizon): a serious-or-worse accident,
    or a visit finding at least one major hazard; else 0. Index: enterprise_id."""
    t = _ts(as_of)
    end = t + pd.Timedelta(days=horizon_days)
    index = _index(district)
    acc = district.accidents
    a = acc[(acc["date"] >= t) & (acc["date"] < end) & acc["severity"].isin(SERIOUS_OR_WORSE)]
    ins = district.inspections
    v = ins[(ins["date"] >= t) & (ins["date"] < end) & (ins["major_hazards_found"] >= 1)]
    hit = set(a["enterprise_id"]) | set(v["enterprise_id"])
    return pd.Series(index.isin(list(hit)).astype(np.int64), index=index, name="event")


def snapshot_dates(district: District, as_of: date | pd.Timestamp, step_months: int = 6,
                   min_history_days: int = YEAR) -> list[pd.Timestamp]:
    """Training snapshot dates T_s whose 12-month label window ends by `as_of`
    (T_s + horizon <= as_of) and that have at least `min_history_days` of history before them.
    Latest first is not assumed: returned ascending."""
    t = _ts(as_of)
    # history is counted from the first of the month of the first recorded event, so a history
    # whose first accident falls on 3 January still counts as starting on 1 January
    first = history_start(district).normalize()
    start = first.replace(day=1) + pd.Timedelta(days=min_history_days)
    latest = t - pd.Timedelta(days=HORIZON_DAYS)
    out = []
    d = latest
    while d >= start:
        out.append(d)
        d = d - pd.DateOffset(months=step_months)
    return sorted(pd.Timestamp(x) for x in out)


def training_frame(district: District, dates: list[pd.Timestamp],
                   inspector_adjustment: bool = False) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """Stacked (features, labels, snapshot date per row) over the snapshot `dates`."""
    xs, ys, ts = [], [], []
    for d in dates:
        xs.append(build_features(district, d, inspector_adjustment))
        ys.append(build_labels(district, d))
        ts.append(np.full(len(district.enterprises), np.datetime64(d, "ns")))
    return pd.concat(xs), pd.concat(ys), np.concatenate(ts)


# ---------------------------------------------------------------- plain words per group

def _n(x: float) -> str:
    return f"{int(round(x))}" if abs(x - round(x)) < 1e-9 else f"{x:.1f}"


def _k(x: float) -> int:
    """The count that picks a phrase's singular or plural (the rounded count)."""
    return int(round(x))


#: "hazardous chemicals: produces" per hazchem role (translated where shown).
_HAZCHEM_WORDS = {"produce": N_("hazardous chemicals: produces"), "use": N_("hazardous chemicals: uses"),
                  "store": N_("hazardous chemicals: stores"), "trade": N_("hazardous chemicals: trades")}


def describe_group(group: str, row: pd.Series) -> str:
    """Plain words for one feature group of one enterprise's feature row, in the current
    language (the catalogs' `score_features`): the words a clerk reads in tiers.csv."""
    if group == "hazchem":
        roles = [r for r in HAZCHEM_ROLES if row[f"hazchem_{r}"] > 0]
        return _(_HAZCHEM_WORDS[roles[0]]) if roles else _("no hazardous chemicals")
    if group == "major_hazard":
        lv = [k for k in (1, 2, 3, 4) if row[f"major_hazard_{k}"] > 0]
        return (_("major hazard installation, level {level}").format(level=lv[0]) if lv
                else _("no major hazard installation"))
    if group == "dust_explosion":
        return _("explosive dust") if row["dust_explosion"] > 0 else _("no explosive dust")
    if group == "molten_metal":
        return _("molten metal") if row["molten_metal"] > 0 else _("no molten metal")
    if group == "confined_space":
        return _("confined spaces") if row["confined_space"] > 0 else _("no confined spaces")
    if group == "standardization":
        if row["std_none"] > 0:
            return _("no standardization grade")
        grade = 3 if row["std_3"] > 0 else 2 if row["std_2"] > 0 else 1
        return _("standardization grade {grade}").format(grade=grade)
    if group == "size":
        size = SIZE_CLASSES[int(row["size_rank"])]
        if row.get("employees_known", 1) == 0:
            return _("{size} enterprise (headcount unknown)").format(size=value_label("size_class", size))
        employees = int(round(np.expm1(row["log_employees"])))
        return _("{size} enterprise ({employees} employees)").format(size=value_label("size_class", size),
                                                                      employees=employees)
    if group == "industry":
        return _("industry: {industry}").format(industry=row["industry"])
    if group == "serious_accidents":
        if row["serious_3y"] > 0:
            return ngettext("{count} serious-or-worse accident in the past 3 years",
                            "{count} serious-or-worse accidents in the past 3 years",
                            _k(row["serious_3y"])).format(count=_n(row["serious_3y"]))
        if row["serious_5y"] > 0:
            return ngettext("{count} serious-or-worse accident in the past 5 years",
                            "{count} serious-or-worse accidents in the past 5 years",
                            _k(row["serious_5y"])).format(count=_n(row["serious_5y"]))
        return _("no serious accident in the past 5 years")
    if group == "minor_accidents":
        if row["minor_3y"] > 0:
            return ngettext("{count} minor accident in the past 3 years",
                            "{count} minor accidents in the past 3 years",
                            _k(row["minor_3y"])).format(count=_n(row["minor_3y"]))
        if row["minor_5y"] > 0:
            return ngettext("{count} minor accident in the past 5 years",
                            "{count} minor accidents in the past 5 years",
                            _k(row["minor_5y"])).format(count=_n(row["minor_5y"]))
        return _("no accident in the past 5 years")
    if group == "visits":
        if row["never_visited"] > 0:
            return _("no inspection on record")
        return ngettext("last inspected {years} years ago, {count} visit in the past 3 years",
                        "last inspected {years} years ago, {count} visits in the past 3 years",
                        _k(row["visits_3y"])).format(
            count=_n(row["visits_3y"]), years=f"{row['years_since_visit']:.1f}")
    if group == "hazards_found":
        if row["never_visited"] > 0:
            return _("no hazards found (never inspected)")
        last = _n(row["hazards_last_visit"])
        if row["visits_3y"] == 0:
            return _("{per_visit} hazards found per visit in the past 5 years, {last} at the last visit").format(
                per_visit=f"{row['hazards_5y'] / max(row['visits_5y'], 1):.1f}", last=last)
        return _("{per_visit} hazards found per visit in the past 3 years, {last} at the last visit").format(
            per_visit=f"{row['hazards_per_visit_3y']:.1f}", last=last)
    if group == "major_hazards_found":
        if row["major_found_last_visit"] > 0:
            return ngettext("{count} major hazard found at the last visit",
                            "{count} major hazards found at the last visit",
                            _k(row["major_found_last_visit"])).format(count=_n(row["major_found_last_visit"]))
        if row["major_found_3y"] > 0:
            return ngettext("{count} major hazard found at visits in the past 3 years",
                            "{count} major hazards found at visits in the past 3 years",
                            _k(row["major_found_3y"])).format(count=_n(row["major_found_3y"]))
        if row["major_found_5y"] > 0:
            return ngettext("{count} major hazard found at visits in the past 5 years",
                            "{count} major hazards found at visits in the past 5 years",
                            _k(row["major_found_5y"])).format(count=_n(row["major_found_5y"]))
        return _("no major hazard found in the past 5 years")
    if group.startswith(EXTRA_GROUP):
        column = group[len(EXTRA_GROUP):]
        value = row[column]
        if isinstance(value, float) and np.isnan(value):
            return _("{column}: not recorded").format(column=column)
        if isinstance(value, str):
            return _("{column}: {value}").format(column=column, value=value or _("blank"))
        return _("{column}: {value}").format(column=column, value=_n(float(value)))
    if group == "penalties":
        if row["penalized_3y"] > 0:
            return ngettext("penalised at {count} visit in the past 3 years",
                            "penalised at {count} visits in the past 3 years",
                            _k(row["penalized_3y"])).format(count=_n(row["penalized_3y"]))
        return _("not penalised in the past 3 years")
    raise KeyError(group)


__all__ = [
    "FEATURE_VERSION", "FEATURE_GROUPS", "FEATURE_NAMES", "GROUP_OF", "CATEGORICAL", "NUMERIC",
    "build_features", "build_labels", "snapshot_dates", "training_frame", "describe_group",
    "default_as_of", "history_end", "history_start", "HORIZON_DAYS",
    "EXTRA_GROUP", "ExtraFeatureError", "extra_columns", "extra_groups", "policy_extra",
]
