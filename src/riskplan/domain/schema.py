"""The district folder's tables: their columns, types and allowed values.

This is the input contract of riskplan (README, "File formats"). Every loader,
validator and generator works from these specifications, so a column is named,
typed and range-checked in exactly one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from riskplan.i18n import N_


class Tier(str, Enum):
    """Risk tiers, highest risk first (安全风险等级)."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"

    @property
    def rank(self) -> int:
        """0 for red … 3 for blue: how many colours below the top."""
        return TIERS.index(self)


TIERS: tuple[Tier, ...] = (Tier.RED, Tier.ORANGE, Tier.YELLOW, Tier.BLUE)

SIZE_CLASSES = ("micro", "small", "medium", "large")
HAZCHEM_ROLES = ("none", "produce", "use", "store", "trade")
SEVERITIES = ("minor", "serious", "major", "extraordinary")
SERIOUS_OR_WORSE = ("serious", "major", "extraordinary")
QUALIFICATIONS = ("hazchem", "dust", "metallurgy", "mining", "fire", "general")

#: Separator inside list cells (inspector ids of a visit, an inspector's qualifications): what
#: riskplan writes. Reading also accepts the separators a Chinese input method types.
LIST_SEPARATOR = ";"
LIST_SEPARATORS_READ = re.compile("[;；、，,]")


@dataclass(frozen=True)
class Column:
    """One required column of a table.

    kind: text | int | float | date | enum | flag | list
    (flag = 0/1 stored as int; list = `;`-separated tokens kept as text).
    """

    name: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    allow_empty: bool = False
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    """A table of the district folder (`NAME.csv` or `NAME.xlsx`)."""

    name: str
    columns: tuple[Column, ...]
    optional: bool = False
    key: str | None = None  # a column whose values must be unique
    needs_rows: bool = False  # a header without rows is an error (no enterprises, no inspectors)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


ENTERPRISES = TableSpec(
    "enterprises",
    (
        Column("enterprise_id", description=N_("unique id; 18-character credit codes are check-validated")),
        Column("name", description=N_("enterprise name (Chinese text is fine)")),
        Column("subdistrict", description=N_("subdistrict (街道) or park the enterprise belongs to")),
        Column("grid", description=N_("community grid cell id (网格)")),
        Column("industry", description=N_("industry label")),
        Column("size_class", "enum", SIZE_CLASSES, description=N_("enterprise size (微型/小型/中型/大型)")),
        Column("employees", "int", min=0, description=N_("headcount")),
        Column("lat", "float", min=-90, max=90, description=N_("WGS84 latitude, degrees")),
        Column("lon", "float", min=-180, max=180, description=N_("WGS84 longitude, degrees")),
        Column("hazchem", "enum", HAZCHEM_ROLES, description=N_("hazardous-chemical role")),
        Column("major_hazard_level", "int", min=0, max=4, description=N_("0 none, 1 most severe … 4")),
        Column("dust_explosion", "flag", description=N_("explosive dust 涉爆粉尘, 0/1")),
        Column("molten_metal", "flag", description=N_("molten metal 高温熔融金属, 0/1")),
        Column("confined_space", "flag", description=N_("confined spaces 有限空间, 0/1")),
        Column("standardization_grade", "int", min=0, max=3, description=N_("0 none, 1 best … 3")),
    ),
    key="enterprise_id",
    needs_rows=True,
)

ACCIDENTS = TableSpec(
    "accidents",
    (
        Column("enterprise_id", description=N_("the enterprise's id, as in the enterprises table")),
        Column("date", "date", description=N_("day of the accident")),
        Column("severity", "enum", SEVERITIES, description=N_("accident grade (一般/较大/重大/特别重大)")),
        Column("deaths", "int", min=0, description=N_("people killed")),
        Column("injuries", "int", min=0, description=N_("people injured")),
    ),
)

INSPECTIONS = TableSpec(
    "inspections",
    (
        Column("enterprise_id", description=N_("the enterprise's id, as in the enterprises table")),
        Column("date", "date", description=N_("day of the inspection")),
        Column("inspectors", "list", description=N_("inspector ids separated by ';'")),
        Column("hazards_found", "int", min=0, description=N_("hazards (隐患) found")),
        Column("major_hazards_found", "int", min=0, description=N_("major accident hazards (重大事故隐患) found")),
        Column("penalized", "flag", description=N_("an administrative penalty followed, 0/1")),
    ),
)

INSPECTORS = TableSpec(
    "inspectors",
    (
        Column("inspector_id", description=N_("unique id of the inspector (e.g. the enforcement card number)")),
        Column("name", description=N_("the inspector's name")),
        Column("squad", description=N_("squad (中队) or station")),
        Column("certified", "flag", description=N_("holds an enforcement certificate (持证)")),
        Column("qualifications", "list", allow_empty=True,
               description=N_("separated by ';' (or 、): hazchem, dust, metallurgy, mining, fire, general")),
        Column("home_subdistrict", allow_empty=True,
               description=N_("empty for a district-brigade inspector")),
        Column("weekly_capacity", "int", min=0, description=N_("max visits in a full working week")),
    ),
    key="inspector_id",
    needs_rows=True,
)

LEAVE = TableSpec(
    "leave",
    (Column("inspector_id", description=N_("the inspector's id, as in the inspectors table")),
     Column("start", "date", description=N_("first day of leave")),
     Column("end", "date", description=N_("last day of leave"))),
    optional=True,
)

CONFLICTS = TableSpec(
    "conflicts",
    (Column("inspector_id", description=N_("the inspector's id, as in the inspectors table")),
     Column("enterprise_id", description=N_("the enterprise's id, as in the enterprises table")),
     Column("reason", description=N_("why the inspector must recuse (回避)"))),
    optional=True,
)

PINNED = TableSpec(
    "pinned",
    (Column("enterprise_id", description=N_("the enterprise's id, as in the enterprises table")),
     Column("reason", description=N_("why the visit is ordered (complaint, order from above …)")),
     Column("earliest", "date", description=N_("first day the visit may take place")),
     Column("latest", "date", description=N_("last day the visit may take place"))),
    optional=True,
)

TABLES: tuple[TableSpec, ...] = (ENTERPRISES, ACCIDENTS, INSPECTIONS, INSPECTORS, LEAVE, CONFLICTS, PINNED)
TABLES_BY_NAME = {t.name: t for t in TABLES}


def split_list(cell: str) -> list[str]:
    """Tokens of a list cell (`;`, or `；`, `、`, `，`, `,`), stripped, empty ones dropped."""
    return [t.strip() for t in LIST_SEPARATORS_READ.split(str(cell)) if t.strip()]
