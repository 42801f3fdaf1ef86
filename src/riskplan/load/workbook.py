"""Which file, or which sheet of which workbook, holds each table of a district folder.

A bureau keeps its data as it likes: one file per table named in English or Chinese
(`enterprises.csv`, `企业.xlsx`, `企业名单.csv`), or one workbook with a sheet per table (any file
name, e.g. `区县数据.xlsx` or what `riskplan template` writes), or a mix. The names are those of
`riskplan.domain.headers.TABLE_NAMES`, compared without regard to case, width or spaces.

- A file named after a table is that table; if it is a workbook, the table is the sheet named
  after the table, or else its only sheet besides an instructions sheet (说明); otherwise the
  sheets found and the names accepted are reported.
- Any other workbook is searched for sheets named after tables; its other sheets are ignored.
- A table found twice (a file and a sheet, two sheets) is an error naming both places.
- Excel's lock files (`~$…`), hidden files and riskplan's own backups (`inspections.bak-<time>.xlsx`)
  are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from riskplan.domain import headers
from riskplan.i18n import _
from riskplan.io import TableReadError, workbook_sheets
from riskplan.load.problems import Problem
from riskplan.outputs import is_backup

READ_EXTENSIONS = (".csv", ".xlsx")


@dataclass(frozen=True)
class TableSource:
    """Where a table is: the file and, for a workbook, the sheet to read (`shown`: whether the
    sheet is named in messages — it is when the workbook has other sheets)."""

    path: Path
    sheet: str | None = None
    shown: bool = False

    @property
    def sheet_label(self) -> str | None:
        return self.sheet if self.shown else None

    def __str__(self) -> str:
        if self.sheet_label is None:
            return self.path.name
        return _("{file}, sheet {sheet}").format(file=self.path.name, sheet=self.sheet)


def _candidates(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.iterdir(), key=lambda p: p.name)
            if p.is_file() and p.suffix.lower() in READ_EXTENSIONS and not p.name.startswith(("~$", ".")) and not is_backup(p)]


def accepted_sheet_names(table: str) -> str:
    return ", ".join(headers.table_names(table))


def choose_sheet(path: Path, table: str, sheets: list[str]) -> TableSource:
    """The sheet of a workbook named after `table` that holds it (see the module docstring)."""
    named = [s for s in sheets if headers.table_of_name(s, [table]) == table]
    data = [s for s in sheets if not headers.is_instructions(s)]
    shown = len(sheets) > 1
    if len(named) == 1:
        return TableSource(path, named[0], shown)
    if not named and len(data) == 1:
        return TableSource(path, data[0], shown)
    raise TableReadError(path, _("has the sheets {sheets}; riskplan cannot tell which one holds the table. Name "
                                 "that sheet {names}, or keep only one sheet besides 说明").format(
        sheets=", ".join(sheets), names=accepted_sheet_names(table)))


def locate_tables(folder: Path, tables: list[str]) -> tuple[dict[str, TableSource], list[Problem], list[str]]:
    """(table -> where it is, the problems found, notes on workbooks that hold no table — for the
    message about a missing table)."""
    places: dict[str, list[TableSource]] = {}
    problems: list[Problem] = []
    notes: list[str] = []
    for path in _candidates(folder):
        table = headers.table_of_name(path.stem, tables)
        if table is not None and path.suffix.lower() == ".csv":
            places.setdefault(table, []).append(TableSource(path))
            continue
        if path.suffix.lower() != ".xlsx":
            continue
        try:
            sheets = workbook_sheets(path)
        except TableReadError as exc:
            if table is not None:
                problems.append(Problem(path.name, exc.message, cause=True))
            else:
                notes.append(f"{path.name}: {exc.message}")
            continue
        if table is not None:
            try:
                places.setdefault(table, []).append(choose_sheet(path, table, sheets))
            except TableReadError as exc:
                problems.append(Problem(path.name, exc.message, cause=True))
                places.setdefault(table, [])
            continue
        held = False
        for sheet in sheets:
            named = headers.table_of_name(sheet, tables)
            if named is not None:
                places.setdefault(named, []).append(TableSource(path, sheet, True))
                held = True
        if not held:
            notes.append(_("{file} has no sheet named after a table (its sheets: {sheets})").format(
                file=path.name, sheets=", ".join(sheets)))
    found: dict[str, TableSource] = {}
    for table in tables:
        where = places.get(table, [])
        if len(where) > 1:
            problems.append(Problem(where[0].path.name, _("the table {table} is given more than once: {places}; "
                                                          "keep one").format(
                table=headers.display_table(table), places="; ".join(str(w) for w in where)), sheet=where[0].sheet_label, cause=True))
        elif where:
            found[table] = where[0]
    return found, problems, notes


def missing_table_message(table: str, notes: list[str]) -> str:
    """What to do about a required table that is nowhere in the folder."""
    names = headers.table_names(table)
    text = _("required table is missing: put {file} (or {others}, as .csv or .xlsx) in the folder, or a sheet "
             "named {sheet} in a workbook").format(file=f"{table}.csv", others=", ".join(names[1:]) or table,
                                                   sheet=" / ".join(names[:2]))
    if notes:
        text += " (" + "; ".join(notes) + ")"
    return text
