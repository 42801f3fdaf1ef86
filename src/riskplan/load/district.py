"""Load and validate a district folder: the first step of the pipeline.

`load_district(DIR)` returns a `District` whose tables have typed columns (ints as int64,
dates as datetime64, enums lower-case text) or raises `DistrictError` listing every
problem found, each with the file, the sheet, the spreadsheet row (header = row 1), the
column and what is wrong, the causes first. Nothing downstream has to re-check the input.

Tables are found by `riskplan.load.workbook` (a file per table, or sheets of a workbook, named in
English or Chinese), headers through `riskplan.domain.headers` (Chinese, English, mixed), cells
by `riskplan.load.cells` (Chinese labels, Excel's dates).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from riskplan.domain import credit_code, headers
from riskplan.domain.policy import Policy, PolicyError, load_policy
from riskplan.domain.schema import (
    ENTERPRISES,
    INSPECTORS,
    TABLES,
    Column,
    TableSpec,
    split_list,
)
from riskplan.i18n import _
from riskplan.io import TableReadError, read_table_text, sha256_file
from riskplan.load.cells import Where, convert
from riskplan.load.problems import MAX_PROBLEMS_SHOWN, DistrictError, FollowOn, Problem
from riskplan.load.workbook import locate_tables, missing_table_message
from riskplan.outputs import restore_interrupted

__all__ = ["District", "DistrictError", "Problem", "FollowOn", "load_district", "parse_table", "summarize",
           "MAX_PROBLEMS_SHOWN", "POLICY_FILE"]

POLICY_FILE = "policy.toml"


@dataclass
class District:
    """A validated district.

    Tables (pandas DataFrames, columns as in `riskplan.domain.schema`, typed):
    enterprises, accidents, inspections, inspectors, leave, conflicts, pinned
    (the optional ones are empty frames with the right columns when absent).
    `sources` maps each table (and `policy`) to the file it was read from, `sheets` each table
    read from a sheet of a workbook to that sheet.
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
    sheets: dict[str, str] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def fingerprints(self) -> dict[str, str]:
        """sha256 of every input file, by file name: what a published plan cites."""
        return {p.name: sha256_file(p) for _, p in sorted(self.sources.items())}


def _convert(raw: pd.Series, col: Column, file: str, problems: list[Problem], table: str | None = None,
             sheet: str | None = None, header: str | None = None) -> pd.Series:
    """Typed column from text cells (riskplan.load.cells.convert); a Problem for each bad cell."""
    return convert(raw, col, Where(table, file, sheet, header), problems)


def empty_table(spec: TableSpec) -> pd.DataFrame:
    dtypes = {"int": "int64", "flag": "int64", "float": "float64", "date": "datetime64[ns]"}
    return pd.DataFrame({c.name: pd.Series(dtype=dtypes.get(c.kind, "object")) for c in spec.columns})


#: C0 control characters other than tab, newline and carriage return: never text a person typed.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_REPEATED_HEADER = re.compile(r"^(.*)\.(\d+)$")


def _check_control_characters(raw: pd.DataFrame, where: Where, header_of: dict[str, str],
                              problems: list[Problem]) -> set[tuple[int, str]]:
    """NUL and the other control characters break the files and programs downstream; the
    (row, column) of each cell holding one is returned."""
    flagged: set[tuple[int, str]] = set()
    for position, name in enumerate(raw.columns):
        column = raw.iloc[:, position]
        hits = column.str.contains(CONTROL_CHARACTERS, regex=True)
        for idx in np.flatnonzero(hits.to_numpy(dtype=bool)):
            found = CONTROL_CHARACTERS.search(column.iloc[idx]).group()
            problems.append(Problem(where.file, _("contains the control character U+{code}; remove it").format(
                code=f"{ord(found):04X}"), row=int(idx) + 2, column=name, sheet=where.sheet,
                header=header_of.get(name), kind="control character"))
            flagged.add((int(idx) + 2, name))
    return flagged


def column_letter(position: int) -> str:
    """The spreadsheet letter of a 0-based column position (0 -> A, 26 -> AA)."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _suggestion(column: str, table: str, unmatched: dict[str, int]) -> str | None:
    """'did you mean' for a missing column: the header written closest to one of its names."""
    names = [headers.normalize_header(n) for n in (column, *headers.HEADERS.get(table, {}).get(column, ()))]
    best: tuple[float, str] | None = None
    for written in unmatched:
        key = headers.normalize_header(written)
        score = max(difflib.SequenceMatcher(None, key, n).ratio() for n in names)
        if score >= 0.6 and (best is None or score > best[0]):
            best = (score, written)
    if best is None:
        return None
    chinese = headers.display_header(table, column, "zh")
    return _("the header '{header}' in column {letter} looks like a misspelling: did you mean '{column}' "
             "({chinese})?").format(header=best[1], letter=column_letter(unmatched[best[1]]), column=column,
                                    chinese=chinese)


def _as_written(header: str) -> str:
    """A header as the file writes it (pandas numbers a repeated header `name.1`)."""
    repeat = _REPEATED_HEADER.match(header)
    return repeat.group(1) if repeat else header


def read_headers(raw: pd.DataFrame, spec: TableSpec, where: Where,
                 problems: list[Problem]) -> tuple[pd.DataFrame, dict[str, str], bool]:
    """(the frame with riskplan's column names, column -> header as written, usable): headers in
    Chinese, English or mixed; a header that names no column stays as an extra column."""
    written = list(raw.columns)
    canonical: list[str | None] = []
    for h in written:
        name = headers.canonical_header(spec.name, h)
        repeat = _REPEATED_HEADER.match(h)
        if name is None and repeat and headers.canonical_header(spec.name, repeat.group(1)):
            name = headers.canonical_header(spec.name, repeat.group(1))  # pandas' name for a repeated header
        canonical.append(name)
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(canonical):
        if name is not None:
            positions.setdefault(name, []).append(i)
    ok = True
    for name, at in positions.items():
        if len(at) > 1:
            ok = False
            shown = ", ".join(f"'{_as_written(written[i])}' ({column_letter(i)})" for i in at)
            problems.append(Problem(where.file, _("the column appears more than once in the header: {headers}").format(
                headers=shown), row=1, column=name, sheet=where.sheet, cause=True))
    unmatched = {h: i for i, (h, c) in enumerate(zip(written, canonical)) if c is None}
    for col in spec.columns:
        if col.name not in positions:
            ok = False
            hint = _suggestion(col.name, spec.name, unmatched)
            message = _("missing required column") if hint is None else _("missing required column; {hint}").format(
                hint=hint)
            problems.append(Problem(where.file, message, row=1, column=col.name, sheet=where.sheet,
                                    header=headers.display_header(spec.name, col.name, "zh"), cause=True))
    frame = raw.copy()
    frame.columns = [c if c is not None else h for h, c in zip(written, canonical)]
    header_of = {c: h for h, c in zip(written, canonical) if c is not None and h != c}
    return frame, header_of, ok


def parse_table(raw: pd.DataFrame, spec: TableSpec, file: str, problems: list[Problem],
                sheet: str | None = None) -> pd.DataFrame:
    """Typed table from a text frame; extra columns are kept as text."""
    return parse_table_checked(raw, spec, file, problems, sheet)[0]


def parse_table_checked(raw: pd.DataFrame, spec: TableSpec, file: str, problems: list[Problem],
                        sheet: str | None = None) -> tuple[pd.DataFrame, bool]:
    """(typed table, usable): not usable when its columns cannot be told apart, or it is a table
    that must have rows and has none; other tables' references to it are then not checked."""
    where = Where(spec.name, file, sheet)
    frame, header_of, ok = read_headers(raw, spec, where, problems)
    if not ok:
        return empty_table(spec), False
    if spec.needs_rows and not len(frame):
        problems.append(Problem(file, _("the table has a header but no rows; it needs at least one"), row=2,
                                sheet=sheet, cause=True))
        return empty_table(spec), False
    flagged = _check_control_characters(frame, where, header_of, problems)
    out = frame.copy()
    found: list[Problem] = []
    for col in spec.columns:
        out[col.name] = convert(frame[col.name], col, Where(spec.name, file, sheet, header_of.get(col.name)), found)
    problems.extend(p for p in found if (p.row, p.column) not in flagged)  # one problem per cell
    if spec.key:
        first_row: dict[str, int] = {}
        for i, value in enumerate(frame[spec.key]):
            if value == "":
                continue
            if value in first_row:
                problems.append(Problem(file, _("duplicate {column} '{value}' (first at row {first})").format(
                    column=spec.key, value=value, first=first_row[value]), row=i + 2, column=spec.key,
                    sheet=sheet, header=header_of.get(spec.key), cause=True))
            else:
                first_row[value] = i + 2
    out.attrs["headers"] = header_of
    return out, True


def _check_credit_codes(ent: pd.DataFrame, where: Where, problems: list[Problem]) -> None:
    for i, code in enumerate(ent["enterprise_id"]):
        if credit_code.has_code_form(code) and not credit_code.is_valid(code):
            expected = credit_code.check_character(code[:17])
            problems.append(Problem(
                where.file, _("credit code '{code}' fails the GB 32100 check: last character is '{last}', expected "
                              "'{expected}'").format(code=code, last=code[17], expected=expected),
                row=i + 2, column="enterprise_id", sheet=where.sheet, header=where.header, kind="credit code"))


def _check_references(frame: pd.DataFrame, column: str, known: set[str], what: str, where: Where,
                      problems: list[Problem], is_list: bool = False) -> None:
    for i, cell in enumerate(frame[column]):
        ids = split_list(cell) if is_list else ([cell] if cell != "" else [])
        for value in ids:
            if value not in known:
                message = (_("unknown enterprise '{value}'") if what == "enterprise"
                           else _("unknown inspector '{value}'")).format(value=value)
                problems.append(Problem(where.file, message, row=i + 2, column=column, sheet=where.sheet,
                                        header=where.header, kind=f"unknown {what}"))


def _referring_rows(frame: pd.DataFrame, column: str) -> int:
    return int((frame[column] != "").sum()) if column in frame.columns else 0


def _check_order(frame: pd.DataFrame, first: str, last: str, where: Where, problems: list[Problem]) -> None:
    bad = frame[first].notna() & frame[last].notna() & (frame[last] < frame[first])
    for idx in np.flatnonzero(bad.to_numpy()):
        a = frame[first].iloc[idx].date()
        b = frame[last].iloc[idx].date()
        problems.append(Problem(where.file, _("{last} {last_date} is before {first} {first_date}").format(
            last=last, last_date=b, first=first, first_date=a), row=int(idx) + 2, column=last, sheet=where.sheet,
            header=frame.attrs.get("headers", {}).get(last), kind="order"))


#: table -> (column, the table it refers to, whether the cell is a list)
REFERENCES = (
    ("accidents", "enterprise_id", "enterprises", False),
    ("inspections", "enterprise_id", "enterprises", False),
    ("conflicts", "enterprise_id", "enterprises", False),
    ("pinned", "enterprise_id", "enterprises", False),
    ("inspections", "inspectors", "inspectors", True),
    ("leave", "inspector_id", "inspectors", False),
    ("conflicts", "inspector_id", "inspectors", False),
)


def load_district(path: Path | str) -> District:
    """Read and validate every file of the district folder at `path`."""
    folder = Path(path)
    restore_interrupted(folder)  # a generated district whose replace a crash cut short
    if not folder.is_dir():
        raise DistrictError([Problem(str(folder), _("is not a folder"), cause=True)])
    located, problems, notes = locate_tables(folder, [t.name for t in TABLES])
    tables: dict[str, pd.DataFrame] = {}
    sources: dict[str, Path] = {}
    sheets: dict[str, str] = {}
    usable: set[str] = set()
    label: dict[str, str] = {}
    for spec in TABLES:
        tables[spec.name] = empty_table(spec)
        place = located.get(spec.name)
        label[spec.name] = str(place) if place else f"{spec.name}.csv"
        if place is None:
            if not spec.optional and not any(p.cause and spec.name in p.message for p in problems):
                problems.append(Problem(f"{spec.name}.csv", missing_table_message(spec.name, notes), cause=True))
            elif spec.optional:
                usable.add(spec.name)  # absent: nothing refers to it wrongly
            continue
        try:
            raw = read_table_text(place.path, place.sheet)
        except TableReadError as exc:
            problems.append(Problem(exc.path.name, exc.message, sheet=place.sheet_label, cause=True))
            continue
        sources[spec.name] = place.path
        if place.sheet is not None:
            sheets[spec.name] = place.sheet
        tables[spec.name], ok = parse_table_checked(raw, spec, place.path.name, problems, place.sheet_label)
        if ok:
            usable.add(spec.name)

    def where(name: str, column: str) -> Where:
        place = located.get(name)
        file = place.path.name if place else f"{name}.csv"
        return Where(name, file, place.sheet_label if place else None,
                     tables[name].attrs.get("headers", {}).get(column))

    if "enterprises" in sources and "enterprises" in usable and len(tables["enterprises"]):
        _check_credit_codes(tables["enterprises"], where("enterprises", "enterprise_id"), problems)
    known = {"enterprises": set(tables["enterprises"][ENTERPRISES.key]),
             "inspectors": set(tables["inspectors"][INSPECTORS.key])}
    follow: dict[str, list[tuple[str, int]]] = {}
    for name, column, target, is_list in REFERENCES:
        if name not in sources or name not in usable:
            continue
        if target in usable:
            _check_references(tables[name], column, known[target], target.rstrip("s"), where(name, column),
                              problems, is_list)
        elif (count := _referring_rows(tables[name], column)):
            follow.setdefault(target, []).append((label[name], count))
    follow_ons = [FollowOn(label[target], sum(n for _f, n in found), tuple(dict.fromkeys(f for f, _n in found)))
                  for target, found in follow.items()]
    if "leave" in sources and "leave" in usable:
        _check_order(tables["leave"], "start", "end", where("leave", "end"), problems)
    if "pinned" in sources and "pinned" in usable:
        _check_order(tables["pinned"], "earliest", "latest", where("pinned", "latest"), problems)

    policy_path = folder / POLICY_FILE
    policy = Policy()
    try:
        policy = load_policy(policy_path)
        if policy_path.exists():
            sources["policy"] = policy_path
    except PolicyError as exc:
        problems.extend(Problem(POLICY_FILE, p) for p in exc.problems)

    if problems:
        raise DistrictError(problems, follow_ons)
    return District(path=folder, policy=policy, sources=sources, sheets=sheets, **tables)


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
