"""A tiers file (`enterprise_id, tier`, from `riskplan tier` or the bureau's own), validated
against the district: every enterprise exactly once, each tier one of the four colours.

Headers and tier names go through `riskplan.domain.headers` like every input (统一社会信用代码 /
风险等级, 红/橙/黄/蓝 or 红色…, red/orange/…), so riskplan's own Chinese tiers file reads back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskplan.domain import headers
from riskplan.domain.schema import TIERS
from riskplan.i18n import _
from riskplan.io import read_table_text, workbook_sheets
from riskplan.load.district import District, DistrictError, Problem
from riskplan.load.workbook import choose_sheet

REQUIRED = ("enterprise_id", "tier")


# ---------------------------------------------------------------- tiers input

def _read(path: Path) -> tuple[pd.DataFrame, str | None]:
    """The tiers table and the sheet it was read from (a workbook's tiers sheet or its only one)."""
    if path.suffix.lower() != ".xlsx":
        return read_table_text(path), None
    sheets = workbook_sheets(path)
    place = choose_sheet(path, "tiers", sheets)
    return read_table_text(path, place.sheet), place.sheet_label


def load_tiers_csv(path: Path | str, district: District) -> pd.DataFrame:
    """A tiers file (`enterprise_id, tier`, .csv or .xlsx, extra columns kept) validated against
    the district: every enterprise exactly once, tiers red|orange|yellow|blue (or 红橙黄蓝).
    Raises DistrictError naming file, row and column."""
    path = Path(path)
    if not path.exists():
        raise DistrictError([Problem(path.name, _("tiers file not found: {path}").format(path=path), cause=True)])
    raw, sheet = _read(path)
    raw.columns = headers.canonical_headers("tiers", raw.columns)
    problems = [Problem(path.name, _("missing required column"), row=1, column=c, sheet=sheet, cause=True)
                for c in REQUIRED if c not in raw.columns]
    if problems:
        raise DistrictError(problems)
    known = set(district.enterprises["enterprise_id"])
    allowed = {t.value for t in TIERS}
    first_row: dict[str, int] = {}
    tiers = []
    for i, (eid, tier) in enumerate(zip(raw["enterprise_id"], raw["tier"])):
        row = i + 2
        value = headers.canonical_value("tier", tier) or tier.lower()
        tiers.append(value)
        if not eid:
            problems.append(Problem(path.name, _("empty cell; a value is required"), row=row, column="enterprise_id",
                                    sheet=sheet))
        elif eid not in known:
            problems.append(Problem(path.name, _("unknown enterprise '{value}' (not in the district's enterprises)")
                                    .format(value=eid), row=row, column="enterprise_id", sheet=sheet))
        elif eid in first_row:
            problems.append(Problem(path.name, _("duplicate enterprise_id '{value}' (first at row {first})").format(
                value=eid, first=first_row[eid]), row=row, column="enterprise_id", sheet=sheet))
        else:
            first_row[eid] = row
        if not tier:
            problems.append(Problem(path.name, _("empty cell; a value is required"), row=row, column="tier",
                                    sheet=sheet))
        elif value not in allowed:
            problems.append(Problem(path.name, _("'{value}' is not one of red, orange, yellow, blue")
                                    .format(value=tier), row=row, column="tier", sheet=sheet))
    ent_file = district.sources["enterprises"].name if "enterprises" in district.sources else "enterprises.csv"
    for i, eid in enumerate(district.enterprises["enterprise_id"]):
        if eid not in first_row:
            problems.append(Problem(path.name, _("no tier for enterprise '{value}' ({file} row {row})").format(
                value=eid, file=ent_file, row=i + 2), column="enterprise_id", sheet=sheet))
    if problems:
        raise DistrictError(problems)
    out = raw.copy()
    out["tier"] = tiers
    return out
