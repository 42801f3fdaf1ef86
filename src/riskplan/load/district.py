"""Load and validate a district folder: the first step of the pipeline.

`load_district(DIR)` returns a `District` whose tables have typed columns (ints as int64,
dates as datetime64, enums lower-case text) or raises `DistrictError` listing every
problem found, each with the file, the spreadsheet row (header = row 1), the column
and what is wrong. Nothing downstream has to re-check the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from riskplan.domain import credit_code
from riskplan.domain.policy import Policy, PolicyError, load_policy
from riskplan.domain.schema import (
    ENTERPRISES,
    INSPECTORS,
    TABLES,
    Column,
    TableSpec,
    split_list,
)
from riskplan.io import TableReadError, find_table, read_table_text, sha256_file
from riskplan.outputs import restore_interrupted

POLICY_FILE = "policy.toml"
MAX_PROBLEMS_SHOWN = 50


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input; `row` is the spreadsheet row (header = 1)."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class DistrictError(ValueError):
    """The district folder cannot be used; `problems` lists every reason found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = [str(p) for p in problems[:MAX_PROBLEMS_SHOWN]]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            shown.append(f"… and {len(problems) - MAX_PROBLEMS_SHOWN} more problems")
        super().__init__(f"{len(problems)} problem(s) in the district input:\n" + "\n".join(shown))


@dataclass
class District:
    """A validated district.

    Tables (pandas DataFrames, columns as in `riskplan.domain.schema`, typed):
    enterprises, accidents, inspections, inspectors, leave, conflicts, pinned
    (the optional ones are empty frames with the right columns when absent).
    `sources` maps each table (and `policy`) to the file it was read from.
    """

    path: Path
    enterprises: pd.DataFrame
    accidents: pd.DataFrame
    inspections: pd.DataFrame
    inspectors: pd.DataFrame
    leave: pd.DataFrame
    conflicts: pd.DataFrame
    pinned: pd.DataFrame
    policy: Policy
    sources: dict[str, Path] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def fingerprints(self) -> dict[str, str]:
        """sha256 of every input file, by file name: what a published plan cites."""
        return {p.name: sha256_file(p) for _, p in sorted(self.sources.items())}


def _convert(raw: pd.Series, col: Column, file: str, problems: list[Problem]) -> pd.Series:
    """Typed column from text cells; appends a Problem for each bad cell."""
    empty = raw == ""

    def report(mask: pd.Series, what) -> None:
        for idx in np.flatnonzero(mask.to_numpy()):
            value = raw.iloc[idx]
            problems.append(Problem(file, what(value), row=int(idx) + 2, column=col.name))

    if not col.allow_empty:
        report(empty, lambda v: "empty cell; a value is required")
    present = ~empty

    if col.kind in ("int", "flag"):
        numbers = pd.to_numeric(raw.where(present), errors="coerce")
        bad = present & (numbers.isna() | (numbers.notna() & (numbers % 1 != 0)))
        report(bad, lambda v: f"'{v}' is not a whole number")
        values = numbers.where(~bad)
        if col.kind == "flag":
            report(values.notna() & ~values.isin([0, 1]), lambda v: f"'{v}' must be 0 or 1")
        _range_check(values, col, report)
        return values.fillna(0).astype("int64")
    if col.kind == "float":
        numbers = pd.to_numeric(raw.where(present), errors="coerce")
        bad = present & numbers.isna()
        report(bad, lambda v: f"'{v}' is not a number")
        _range_check(numbers, col, report)
        return numbers.astype("float64")
    if col.kind == "date":
        text = raw.str.replace(r"[ T]00:00:00$", "", regex=True)
        dates = pd.to_datetime(text.where(present), format="%Y-%m-%d", errors="coerce")
        bad = present & dates.isna()
        report(bad, lambda v: f"'{v}' is not an ISO date (YYYY-MM-DD)")
        return dates.astype("datetime64[ns]")
    if col.kind == "enum":
        lowered = raw.str.lower()
        bad = present & ~lowered.isin(col.choices)
        report(bad, lambda v: f"'{v}' is not one of {', '.join(col.choices)}")
        return lowered
    if col.kind == "list":
        return raw.map(lambda cell: ";".join(split_list(cell)))
    return raw


def _range_check(values: pd.Series, col: Column, report) -> None:
    if col.min is not None:
        report(values.notna() & (values < col.min), lambda v: f"{v} is below the minimum {col.min:g}")
    if col.max is not None:
        report(values.notna() & (values > col.max), lambda v: f"{v} is above the maximum {col.max:g}")


def empty_table(spec: TableSpec) -> pd.DataFrame:
    dtypes = {"int": "int64", "flag": "int64", "float": "float64", "date": "datetime64[ns]"}
    return pd.DataFrame({c.name: pd.Series(dtype=dtypes.get(c.kind, "object")) for c in spec.columns})


#: C0 control characters other than tab, newline and carriage return: never text a person typed.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _check_control_characters(raw: pd.DataFrame, file: str, problems: list[Problem]) -> set[tuple[int, str]]:
    """NUL and the other control characters break the files and programs downstream; the
    (row, column) of each cell holding one is returned."""
    flagged: set[tuple[int, str]] = set()
    for position, name in enumerate(raw.columns):
        column = raw.iloc[:, position]
        hits = column.str.contains(CONTROL_CHARACTERS, regex=True)
        for idx in np.flatnonzero(hits.to_numpy(dtype=bool)):
            found = CONTROL_CHARACTERS.search(column.iloc[idx]).group()
            problems.append(Problem(file, f"contains the control character U+{ord(found):04X}; remove it",
                                    row=int(idx) + 2, column=name))
            flagged.add((int(idx) + 2, name))
    return flagged


def parse_table(raw: pd.DataFrame, spec: TableSpec, file: str, problems: list[Problem]) -> pd.DataFrame:
    """Typed table from a text frame; extra columns are kept as text."""
    missing = [c for c in spec.column_names if c not in raw.columns]
    for name in missing:
        problems.append(Problem(file, "missing required column", row=1, column=name))
    dupes = raw.columns[raw.columns.duplicated()].unique()
    for name in dupes:
        problems.append(Problem(file, "column appears more than once in the header", row=1, column=name))
    if missing or len(dupes):
        return empty_table(spec)
    flagged = _check_control_characters(raw, file, problems)
    out = raw.copy()
    found: list[Problem] = []
    for col in spec.columns:
        out[col.name] = _convert(raw[col.name], col, file, found)
    problems.extend(p for p in found if (p.row, p.column) not in flagged)  # one problem per cell
    if spec.key:
        first_row: dict[str, int] = {}
        for i, value in enumerate(raw[spec.key]):
            if value == "":
                continue
            if value in first_row:
                problems.append(Problem(file, f"duplicate {spec.key} '{value}' (first at row {first_row[value]})",
                                        row=i + 2, column=spec.key))
            else:
                first_row[value] = i + 2
    return out


def _check_credit_codes(ent: pd.DataFrame, file: str, problems: list[Problem]) -> None:
    for i, code in enumerate(ent["enterprise_id"]):
        if credit_code.has_code_form(code) and not credit_code.is_valid(code):
            expected = credit_code.check_character(code[:17])
            problems.append(Problem(
                file, f"credit code '{code}' fails the GB 32100 check: last character is "
                      f"'{code[17]}', expected '{expected}'", row=i + 2, column="enterprise_id"))


def _check_references(frame: pd.DataFrame, column: str, known: set[str], what: str,
                      file: str, problems: list[Problem], is_list: bool = False) -> None:
    for i, cell in enumerate(frame[column]):
        ids = split_list(cell) if is_list else ([cell] if cell != "" else [])
        for value in ids:
            if value not in known:
                problems.append(Problem(file, f"unknown {what} '{value}'", row=i + 2, column=column))


def _check_order(frame: pd.DataFrame, first: str, last: str, file: str, problems: list[Problem]) -> None:
    bad = frame[first].notna() & frame[last].notna() & (frame[last] < frame[first])
    for idx in np.flatnonzero(bad.to_numpy()):
        a = frame[first].iloc[idx].date()
        b = frame[last].iloc[idx].date()
        problems.append(Problem(file, f"{last} {b} is before {first} {a}", row=int(idx) + 2, column=last))


def load_district(path: Path | str) -> District:
    """Read and validate every file of the district folder at `path`."""
    folder = Path(path)
    restore_interrupted(folder)  # a generated district whose replace a crash cut short
    if not folder.is_dir():
        raise DistrictError([Problem(str(folder), "is not a folder")])
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    sources: dict[str, Path] = {}
    for spec in TABLES:
        try:
            file_path = find_table(folder, spec.name)
            if file_path is None:
                if not spec.optional:
                    problems.append(Problem(f"{spec.name}.csv",
                                            f"required table is missing (expected {spec.name}.csv or {spec.name}.xlsx)"))
                tables[spec.name] = empty_table(spec)
                continue
            raw = read_table_text(file_path)
        except TableReadError as exc:
            problems.append(Problem(exc.path.name, exc.message))
            tables[spec.name] = empty_table(spec)
            continue
        sources[spec.name] = file_path
        tables[spec.name] = parse_table(raw, spec, file_path.name, problems)

    def fname(name: str) -> str:
        return sources[name].name if name in sources else f"{name}.csv"

    ent = tables["enterprises"]
    if "enterprises" in sources and len(ent):
        _check_credit_codes(ent, fname("enterprises"), problems)
    enterprise_ids = set(ent[ENTERPRISES.key]) if len(ent) else set()
    inspector_ids = set(tables["inspectors"][INSPECTORS.key]) if len(tables["inspectors"]) else set()
    for name in ("accidents", "inspections", "conflicts", "pinned"):
        if name in sources and "enterprises" in sources:
            _check_references(tables[name], "enterprise_id", enterprise_ids, "enterprise", fname(name), problems)
    if "inspectors" in sources:
        if "inspections" in sources:
            _check_references(tables["inspections"], "inspectors", inspector_ids, "inspector",
                              fname("inspections"), problems, is_list=True)
        for name in ("leave", "conflicts"):
            if name in sources:
                _check_references(tables[name], "inspector_id", inspector_ids, "inspector", fname(name), problems)
    if "leave" in sources:
        _check_order(tables["leave"], "start", "end", fname("leave"), problems)
    if "pinned" in sources:
        _check_order(tables["pinned"], "earliest", "latest", fname("pinned"), problems)

    policy_path = folder / POLICY_FILE
    policy = Policy()
    try:
        policy = load_policy(policy_path)
        if policy_path.exists():
            sources["policy"] = policy_path
    except PolicyError as exc:
        problems.extend(Problem(POLICY_FILE, p) for p in exc.problems)

    if problems:
        problems.sort(key=lambda p: (p.file, p.row or 0))
        raise DistrictError(problems)
    return District(path=folder, policy=policy, sources=sources, **tables)


def summarize(district: District) -> dict[str, pd.DataFrame]:
    """The tables `riskplan validate` prints: what a bureau checks at a glance."""
    ent = district.enterprises
    hazards = pd.DataFrame({
        "enterprises": 1,
        "hazchem": ent["hazchem"] != "none",
        "major_hazard": ent["major_hazard_level"] > 0,
        "dust_explosion": ent["dust_explosion"] == 1,
        "molten_metal": ent["molten_metal"] == 1,
        "confined_space": ent["confined_space"] == 1,
        "no_standardization": ent["standardization_grade"] == 0,
        "subdistrict": ent["subdistrict"],
    }).groupby("subdistrict").sum().astype(int)
    hazards.loc["TOTAL"] = hazards.sum()
    insp = district.inspectors
    quals = insp.assign(qualification=insp["qualifications"].map(split_list)).explode("qualification")
    quals["qualification"] = quals["qualification"].fillna("(none)")
    by_qual = (quals.groupby("qualification")
               .agg(inspectors=("inspector_id", "nunique"), certified=("certified", "sum"))
               .astype(int))
    history = pd.DataFrame({
        "rows": [len(district.accidents), len(district.inspections), len(district.inspectors),
                 len(district.leave), len(district.conflicts), len(district.pinned)],
    }, index=["accidents", "inspections", "inspectors", "leave", "conflicts", "pinned"])
    return {"by_subdistrict": hazards, "inspectors_by_qualification": by_qual, "tables": history}
