"""A tiers file (`enterprise_id, tier`, from `riskplan tier` or the bureau's own), validated
against the district: every enterprise exactly once, each tier one of the four colours."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskplan.domain.schema import TIERS
from riskplan.io import read_table_text
from riskplan.load.district import District, DistrictError, Problem

TIER_ALIASES = {"红": "red", "橙": "orange", "黄": "yellow", "蓝": "blue"}


# ---------------------------------------------------------------- tiers input

def load_tiers_csv(path: Path | str, district: District) -> pd.DataFrame:
    """A tiers file (`enterprise_id, tier`, .csv or .xlsx, extra columns kept) validated against
    the district: every enterprise exactly once, tiers red|orange|yellow|blue (or 红橙黄蓝).
    Raises DistrictError naming file, row and column."""
    path = Path(path)
    if not path.exists():
        raise DistrictError([Problem(path.name, f"tiers file not found: {path}")])
    raw = read_table_text(path)
    problems = [Problem(path.name, "missing required column", row=1, column=c)
                for c in ("enterprise_id", "tier") if c not in raw.columns]
    if problems:
        raise DistrictError(problems)
    known = set(district.enterprises["enterprise_id"])
    allowed = {t.value for t in TIERS}
    first_row: dict[str, int] = {}
    tiers = []
    for i, (eid, tier) in enumerate(zip(raw["enterprise_id"], raw["tier"])):
        row = i + 2
        value = TIER_ALIASES.get(tier, tier.lower())
        tiers.append(value)
        if not eid:
            problems.append(Problem(path.name, "empty cell; a value is required", row=row, column="enterprise_id"))
        elif eid not in known:
            problems.append(Problem(path.name, f"unknown enterprise '{eid}' (not in the district's enterprises)",
                                    row=row, column="enterprise_id"))
        elif eid in first_row:
            problems.append(Problem(path.name, f"duplicate enterprise_id '{eid}' (first at row {first_row[eid]})",
                                    row=row, column="enterprise_id"))
        else:
            first_row[eid] = row
        if not tier:
            problems.append(Problem(path.name, "empty cell; a value is required", row=row, column="tier"))
        elif value not in allowed:
            problems.append(Problem(path.name, f"'{tier}' is not one of red, orange, yellow, blue",
                                    row=row, column="tier"))
    ent_file = district.sources["enterprises"].name if "enterprises" in district.sources else "enterprises.csv"
    for i, eid in enumerate(district.enterprises["enterprise_id"]):
        if eid not in first_row:
            problems.append(Problem(path.name, f"no tier for enterprise '{eid}' ({ent_file} row {i + 2})",
                                    column="enterprise_id"))
    if problems:
        raise DistrictError(problems)
    out = raw.copy()
    out["tier"] = tiers
    return out
