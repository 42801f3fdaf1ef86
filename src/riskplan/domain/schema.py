"""The district folder's tables: their columns, types and allowed values.

This is the input contract of riskplan (README, "File formats"). Every loader,
validator and generator works from these specifications, so a column is named,
typed and range-checked in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


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

#: Separator inside list cells (inspector ids of a visit, an inspector's qualifications).
LIST_SEPARATOR = ";"


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

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


ENTERPRISES = TableSpec(
    "enterprises",
    (
        Column("enterprise_id", description="unique id; 18-character credit codes are check-validated"),
        Column("name", description="enterprise name (Chinese text is fine)"),
        Column("subdistrict", description="subdistrict (街道) or park the enterprise belongs to"),
        Column("grid", description="community grid cell id (网格)"),
        Column("industry", description="industry label"),
        Column("size_class", "enum", SIZE_CLASSES),
        Column("employees", "int", min=0, description="headcount"),
        Column("lat", "float", min=-90, max=90, description="WGS84 latitude, degrees"),
        Column("lon", "float", min=-180, max=180, description="WGS84 longitude, degrees"),
        Column("hazchem", "enum", HAZCHEM_ROLES, description="hazardous-chemical role"),
        Column("major_hazard_level", "int", min=0, max=4, description="0 none, 1 most severe … 4"),
        Column("dust_explosion", "flag", description="explosive dust 涉爆粉尘, 0/1"),
        Column("molten_metal", "flag", description="molten metal 高温熔融金属, 0/1"),
        Column("confined_space", "flag", description="confined spaces 有限空间, 0/1"),
        Column("standardization_grade", "int", min=0, max=3, description="0 none, 1 best … 3"),
    ),
    key="enterprise_id",
)

ACCIDENTS = TableSpec(
    "accidents",
    (
        Column("enterprise_id"),
        Column("date", "date"),
        Column("severity", "enum", SEVERITIES),
        Column("deaths", "int", min=0),
        Column("injuries", "int", min=0),
    ),
)

INSPECTIONS = TableSpec(
    "inspections",
    (
        Column("enterprise_id"),
        Column("date", "date"),
        Column("inspectors", "list", description="inspector ids separated by ';'"),
        Column("hazards_found", "int", min=0),
        Column("major_hazards_found", "int", min=0),
        Column("penalized", "flag"),
    ),
)

INSPECTORS = TableSpec(
    "inspectors",
    (
        Column("inspector_id"),
        Column("name"),
        Column("squad", description="squad (中队) or station"),
        Column("certified", "flag", description="holds an enforcement certificate (持证)"),
        Column("qualifications", "list", allow_empty=True,
               description="';'-separated: hazchem, dust, metallurgy, mining, fire, general"),
        Column("home_subdistrict", allow_empty=True,
               description="empty for a district-brigade inspector"),
        Column("weekly_capacity", "int", min=0, description="max visits in a full working week"),
    ),
    key="inspector_id",
)

LEAVE = TableSpec(
    "leave",
    (Column("inspector_id"), Column("start", "date"), Column("end", "date")),
    optional=True,
)

CONFLICTS = TableSpec(
    "conflicts",
    (Column("inspector_id"), Column("enterprise_id"), Column("reason")),
    optional=True,
)

PINNED = TableSpec(
    "pinned",
    (Column("enterprise_id"), Column("reason"), Column("earliest", "date"), Column("latest", "date")),
    optional=True,
)

TABLES: tuple[TableSpec, ...] = (ENTERPRISES, ACCIDENTS, INSPECTIONS, INSPECTORS, LEAVE, CONFLICTS, PINNED)
TABLES_BY_NAME = {t.name: t for t in TABLES}


def split_list(cell: str) -> list[str]:
    """Tokens of a `;`-separated cell, stripped, empty ones dropped."""
    return [t.strip() for t in str(cell).split(LIST_SEPARATOR) if t.strip()]
