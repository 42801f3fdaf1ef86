"""Shared fixtures: a tiny hand-made district, written as real files, for exact tests.

`tiny_district(**overrides)` (a pytest fixture returning a factory) writes a district folder
under `tmp_path` and returns a `TinyDistrict` (`.path`, `.tiers_csv`, `.tiers`, `.load()`).
Tables are given as lists of row dicts; enterprise and inspector rows only need the fields a
test cares about (the rest get harmless defaults), and an enterprise row's `tier` goes to the
tiers file, not to enterprises.csv. Any table argument replaces the default table; `policy`
is the text of policy.toml (default: no file, i.e. the default policy).

The default district (quarter 2027Q1; 2027-01-01 is a Friday):
- subdistricts A and B; red R1 (hazchem producer, in A), orange O1 (last visit 2026-08-01,
  due 2027-01-30, a Saturday) and O2 (never visited), yellow Y01..Y08, blue B01..B10;
- certified inspectors I01..I06 (I01, I02 hazchem; I03 dust; I04 metallurgy; I05 home A;
  I06 home B), uncertified I07; capacity 5 a week each.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from riskplan import i18n

from riskplan.domain.schema import ENTERPRISES, INSPECTIONS, INSPECTORS, TABLES_BY_NAME
from riskplan.load.district import District, load_district

QUARTER = "2027Q1"


# Module- and session-scoped fixtures run before the autouse fixture below: English for them too.
os.environ[i18n.ENV_VAR] = "en"


@pytest.fixture(autouse=True)
def english_unless_asked(monkeypatch):
    """Tests read riskplan's messages in English unless they ask for Chinese (the default a
    user gets is tested on its own, in test_i18n and the Chinese-first tests): RISKPLAN_LANG=en
    for this process and the commands it starts, and no language choice left over afterwards."""
    monkeypatch.setenv(i18n.ENV_VAR, "en")
    i18n.set_language(None)
    yield
    i18n.set_language(None)


@pytest.fixture
def chinese(monkeypatch):
    """What a bureau's clerk gets: no language asked for anywhere (no RISKPLAN_LANG, no locale)."""
    for var in (i18n.ENV_VAR, "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    i18n.set_language(None)
    assert i18n.get_language() == "zh"


def visible_text(html: str) -> str:
    """The text a reader of a page sees: not scripts, styles or attribute values."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self):
            super().__init__()
            self.parts, self.skip = [], 0

        def handle_starttag(self, tag, attrs):
            self.skip += tag in ("style", "script")

        def handle_endtag(self, tag):
            self.skip -= tag in ("style", "script")

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(html)
    return " ".join(parser.parts)

ENTERPRISE_DEFAULTS: dict[str, Any] = {
    "name": "", "subdistrict": "A", "grid": "G1", "industry": "manufacturing",
    "size_class": "small", "employees": 20, "lat": 29.87, "lon": 121.54, "hazchem": "none",
    "major_hazard_level": 0, "dust_explosion": 0, "molten_metal": 0, "confined_space": 0,
    "standardization_grade": 2,
}
INSPECTOR_DEFAULTS: dict[str, Any] = {
    "name": "", "squad": "S1", "certified": 1, "qualifications": "", "home_subdistrict": "",
    "weekly_capacity": 5,
}
INSPECTION_DEFAULTS: dict[str, Any] = {"hazards_found": 0, "major_hazards_found": 0, "penalized": 0}


def default_enterprises() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"enterprise_id": "R1", "tier": "red", "hazchem": "produce", "major_hazard_level": 2},
        {"enterprise_id": "O1", "tier": "orange", "subdistrict": "B", "dust_explosion": 1},
        {"enterprise_id": "O2", "tier": "orange", "molten_metal": 1},
    ]
    rows += [{"enterprise_id": f"Y{i:02d}", "tier": "yellow", "subdistrict": "AB"[i % 2]} for i in range(1, 9)]
    rows += [{"enterprise_id": f"B{i:02d}", "tier": "blue", "subdistrict": "AB"[i % 2]} for i in range(1, 11)]
    return rows


def default_inspectors() -> list[dict[str, Any]]:
    return [
        {"inspector_id": "I01", "qualifications": "hazchem;general"},
        {"inspector_id": "I02", "qualifications": "hazchem"},
        {"inspector_id": "I03", "qualifications": "dust"},
        {"inspector_id": "I04", "qualifications": "metallurgy"},
        {"inspector_id": "I05", "home_subdistrict": "A"},
        {"inspector_id": "I06", "home_subdistrict": "B"},
        {"inspector_id": "I07", "certified": 0},
    ]


def default_inspections() -> list[dict[str, Any]]:
    return [
        {"enterprise_id": "R1", "date": "2026-12-10", "inspectors": "I01;I03"},
        {"enterprise_id": "O1", "date": "2026-08-01", "inspectors": "I02;I05"},
    ]


@dataclass
class TinyDistrict:
    path: Path
    tiers_csv: Path
    tiers: pd.DataFrame  # enterprise_id, tier
    quarter: str = QUARTER

    def load(self) -> District:
        return load_district(self.path)

    @property
    def tier_series(self) -> pd.Series:
        return self.tiers.set_index("enterprise_id")["tier"]


def _frame(rows: list[dict[str, Any]] | pd.DataFrame, table: str,
           defaults: dict[str, Any] | None = None) -> pd.DataFrame:
    spec = TABLES_BY_NAME[table]
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if frame.empty:
        return pd.DataFrame(columns=list(spec.column_names))
    for column, value in (defaults or {}).items():
        if column not in frame.columns:
            frame[column] = value
        else:
            frame[column] = frame[column].where(frame[column].notna(), value)
    if table == "enterprises":
        frame["name"] = [n or f"Enterprise {e}" for n, e in zip(frame["name"], frame["enterprise_id"])]
    if table == "inspectors":
        frame["name"] = [n or f"Inspector {i}" for n, i in zip(frame["name"], frame["inspector_id"])]
    ordered = [c for c in spec.column_names] + [c for c in frame.columns if c not in spec.column_names]
    return frame[ordered]


def make_tiny_district(folder: Path, *, enterprises=None, accidents=None, inspections=None,
                       inspectors=None, leave=None, conflicts=None, pinned=None,
                       policy: str | None = None, tiers: dict[str, str] | None = None) -> TinyDistrict:
    """Write a district folder at `folder` (see the module docstring) and its tiers file beside it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ent_rows = default_enterprises() if enterprises is None else enterprises
    ent = _frame(ent_rows, "enterprises", ENTERPRISE_DEFAULTS)
    tier_col = ent.pop("tier") if "tier" in ent.columns else pd.Series("blue", index=ent.index)
    tier_frame = pd.DataFrame({"enterprise_id": ent["enterprise_id"], "tier": tier_col.fillna("blue")})
    if tiers:
        tier_frame["tier"] = [tiers.get(e, t) for e, t in zip(tier_frame["enterprise_id"], tier_frame["tier"])]
    tables = {
        "enterprises": ent,
        "accidents": _frame([] if accidents is None else accidents, "accidents"),
        "inspections": _frame(default_inspections() if inspections is None else inspections,
                              "inspections", INSPECTION_DEFAULTS),
        "inspectors": _frame(default_inspectors() if inspectors is None else inspectors,
                             "inspectors", INSPECTOR_DEFAULTS),
    }
    for name, rows in (("leave", leave), ("conflicts", conflicts), ("pinned", pinned)):
        if rows is not None:
            tables[name] = _frame(rows, name)
    for name, frame in tables.items():
        (folder / f"{name}.csv").write_text(frame.to_csv(index=False), encoding="utf-8")
    if policy is not None:
        (folder / "policy.toml").write_text(policy, encoding="utf-8")
    tiers_csv = folder.parent / f"{folder.name}_tiers.csv"
    tiers_csv.write_text(tier_frame.to_csv(index=False), encoding="utf-8")
    return TinyDistrict(folder, tiers_csv, tier_frame.reset_index(drop=True))


@pytest.fixture
def tiny_district(tmp_path):
    """Factory: `tiny_district(name="district", **overrides) -> TinyDistrict` under tmp_path."""

    def build(name: str = "district", **overrides) -> TinyDistrict:
        return make_tiny_district(tmp_path / name, **overrides)

    return build


# keep the schema imports honest: the defaults above must cover every required column
assert set(ENTERPRISE_DEFAULTS) | {"enterprise_id"} == set(ENTERPRISES.column_names)
assert set(INSPECTOR_DEFAULTS) | {"inspector_id"} == set(INSPECTORS.column_names)
assert set(INSPECTION_DEFAULTS) | {"enterprise_id", "date", "inspectors"} == set(INSPECTIONS.column_names)


# ---------------------------------------------------------------- a first-fit test double of the solver

def first_fit_solve(problem, seed, time_limit=None, progress=None):
    """Test double with `solve_roster`'s signature: place each request, in order, on its first
    working day with the first valid team (inspectors by id). Deterministic, tiny districts only.

    Rotation bans the enterprise's previous team (latest past date, then its latest placed visit),
    which is right when an enterprise's requests come in date order, as they do in tiny tests.
    """
    import time
    from itertools import combinations

    from riskplan.domain.calendar import iso_week, leave_days, weekly_limits
    from riskplan.domain.roster import (
        PlacedVisit,
        Roster,
        SolveResult,
        Unplaced,
        required_qualifications,
    )
    from riskplan.domain.schema import split_list

    started = time.perf_counter()
    rules, cal, quarter = problem.policy.roster, problem.calendar, problem.quarter
    limits = weekly_limits(problem.inspectors, problem.leave, cal, rules)
    away = leave_days(problem.leave, cal)
    insp = problem.inspectors
    certified = sorted(insp.loc[insp["certified"] == 1, "inspector_id"])
    quals = {i: set(split_list(q)) for i, q in zip(insp["inspector_id"], insp["qualifications"])}
    home = dict(zip(insp["inspector_id"], insp["home_subdistrict"]))
    conflicts = set(zip(problem.conflicts["inspector_id"], problem.conflicts["enterprise_id"]))
    ent = problem.enterprises.set_index("enterprise_id")
    past = problem.past_inspections[problem.past_inspections["date"] < pd.Timestamp(quarter.start)]
    dates: dict[str, list] = {}
    banned: dict[str, set] = {}
    for eid, group in past.groupby("enterprise_id"):
        last = group["date"].max()
        dates[eid] = [last.date()]
        if rules.rotate_inspectors:
            banned[eid] = {i for c in group.loc[group["date"] == last, "inspectors"] for i in split_list(c)}
    day_load: dict = {}
    week_load: dict = {}
    roster = Roster(quarter)
    for req in problem.requests:
        e = ent.loc[req.enterprise_id]
        need = required_qualifications(e, problem.policy)
        placed = None
        for d in cal.days_in(req.window_start, req.window_end):
            if any(abs((d - x).days) < rules.min_days_between_visits for x in dates.get(req.enterprise_id, [])):
                continue
            wk = iso_week(d)
            free = [i for i in certified
                    if d not in away.get(i, ()) and (i, req.enterprise_id) not in conflicts
                    and not (rules.cross_area and home[i] and home[i] == e["subdistrict"])
                    and i not in banned.get(req.enterprise_id, set())
                    and day_load.get((i, d), 0) < rules.max_visits_per_inspector_day
                    and week_load.get((i, wk), 0) < limits[i][wk]]
            for team in combinations(free, rules.team_size):
                if need <= set().union(*(quals[i] for i in team)):
                    placed = (d, team)
                    break
            if placed:
                break
        if placed is None:
            roster.unplaced.append(Unplaced(req, "no day with a free valid team (first-fit)"))
            continue
        d, team = placed
        roster.visits.append(PlacedVisit(req, d, tuple(team)))
        dates.setdefault(req.enterprise_id, []).append(d)
        if rules.rotate_inspectors:
            banned[req.enterprise_id] = set(team)
        for i in team:
            day_load[(i, d)] = day_load.get((i, d), 0) + 1
            week_load[(i, iso_week(d))] = week_load.get((i, iso_week(d)), 0) + 1
    rows = [{"rule": "capacity", "tier": ent.at[u.request.enterprise_id, "tier"],
             "subdistrict": ent.at[u.request.enterprise_id, "subdistrict"],
             "month": f"{u.request.window_end:%Y-%m}", "missing": 1, "reason": u.reason,
             "suggestion": "more inspector-days"} for u in roster.unplaced]
    shortfall = pd.DataFrame(rows, columns=["rule", "tier", "subdistrict", "month", "missing", "reason", "suggestion"])
    if len(shortfall):
        shortfall = (shortfall.groupby(["rule", "tier", "subdistrict", "month", "reason", "suggestion"],
                                       as_index=False)["missing"].sum())
    return SolveResult(roster, "FIRST_FIT", {"visits_placed": float(len(roster.visits))}, None,
                       time.perf_counter() - started, shortfall)


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.slow` tests stay out of the default suite (pyproject's marker says so): they
    run when `-m` names them (`-m slow`, `-m "slow or not slow"`)."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
