"""Cells as bureaus write them, turned into typed columns.

Numbers, dates, codes and flags are read the way a Chinese workbook holds them: full-width
digits, Chinese labels for codes (中型, 储存, 较大, 二级 — through `riskplan.domain.headers.VALUES`),
是/否 and 有/无 for flags, and dates as Excel writes them (a date cell, `2027-01-05`, `2027-1-5`,
`2027/1/5`, `2027.1.5`, `2027年1月5日`, a date-time at midnight). A form that could mean two days
(`1/5/2027`) or an Excel serial number typed as text is refused, never guessed. Each bad cell
becomes one `Problem` with its spreadsheet row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskplan.domain import headers
from riskplan.domain.schema import LIST_SEPARATOR, Column, split_list
from riskplan.i18n import _, get_language
from riskplan.load.problems import Problem

#: The date forms riskplan reads, as shown to people.
DATE_FORMS = "2027-01-05, 2027-1-5, 2027/1/5, 2027.1.5, 2027年1月5日"
_DATE_SEPARATED = re.compile(r"^(\d{4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})(?:[ T]0?0:00(?::00(?:\.0+)?)?)?$")
_DATE_CHINESE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$")
_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$")


@dataclass(frozen=True)
class Where:
    """Where a column's cells are: table, file, sheet and the header as written."""

    table: str | None
    file: str
    sheet: str | None = None
    header: str | None = None


def value_set_of(table: str | None, col: Column) -> str | None:
    """The value set whose spellings a column accepts (`size_class`, `flag`, …), if any."""
    found = headers.COLUMN_VALUES.get((table, col.name)) if table else None
    if found is None and col.kind == "flag":
        return "flag"
    if found is None and col.name in headers.VALUES:
        return col.name
    return found


def _folded(raw: pd.Series) -> pd.Series:
    """Full-width digits and signs as ASCII (what a Chinese input method may type)."""
    if raw.empty:
        return raw
    return raw.map(lambda v: unicodedata.normalize("NFKC", v) if not v.isascii() else v)


def parse_dates(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(dates, form_ok): dates as datetime64 (NaT where not a date); form_ok marks cells in one of
    the accepted forms (a cell in form but NaT is an impossible day, like 2027-02-30)."""
    folded = _folded(text)
    parts = folded.str.extract(_DATE_SEPARATED)
    chinese = folded.str.extract(_DATE_CHINESE)
    year = parts[0].fillna(chinese[0])
    month = parts[2].fillna(chinese[1])
    day = parts[3].fillna(chinese[2])
    form_ok = year.notna()
    stamp = year.fillna("").str.cat([month.fillna("").str.zfill(2), day.fillna("").str.zfill(2)], sep="-")
    dates = pd.to_datetime(stamp.where(form_ok), format="%Y-%m-%d", errors="coerce")
    return dates.astype("datetime64[ns]"), form_ok


def convert(raw: pd.Series, col: Column, where: Where, problems: list[Problem]) -> pd.Series:
    """Typed column from text cells; appends a Problem for each bad cell."""
    empty = raw == ""

    def report(mask: pd.Series, kind: str, what: Callable[[str], str]) -> None:
        for idx in np.flatnonzero(mask.to_numpy(dtype=bool)):
            problems.append(Problem(where.file, what(raw.iloc[idx]), row=int(idx) + 2, column=col.name,
                                    sheet=where.sheet, header=where.header, kind=kind))

    if not col.allow_empty:
        report(empty, "empty cell", lambda v: _("empty cell; a value is required"))
    present = ~empty
    value_set = value_set_of(where.table, col)

    if col.kind in ("int", "flag", "float"):
        text = _folded(raw)
        if value_set:  # 二级 -> 2, 是 -> 1
            names = headers.value_names(value_set)
            text = text.map(lambda v: names.get(headers.normalize_value(v), v))
        numbers = pd.to_numeric(text.where(present), errors="coerce")
        if col.kind == "float":
            bad = present & numbers.isna()
            report(bad, "not a number", lambda v: _("'{value}' is not a number").format(value=v))
            _range_check(numbers, col, report)
            return numbers.astype("float64")
        bad = present & (numbers.isna() | (numbers.notna() & (numbers % 1 != 0)))
        if col.kind == "flag":
            report(bad, "not a flag", lambda v: _("'{value}' must be 0 or 1 (or 是/否, 有/无)").format(value=v))
        elif value_set:
            report(bad, "not a whole number", lambda v: _("'{value}' is not a whole number or one of "
                                                               "{choices}").format(value=v, choices=_choices(value_set)))
        else:
            report(bad, "not a whole number", lambda v: _("'{value}' is not a whole number").format(value=v))
        values = numbers.where(~bad)
        if col.kind == "flag":
            report(values.notna() & ~values.isin([0, 1]), "not a flag",
                   lambda v: _("'{value}' must be 0 or 1 (or 是/否, 有/无)").format(value=v))
        _range_check(values, col, report)
        return values.fillna(0).astype("int64")
    if col.kind == "date":
        dates, form_ok = parse_dates(raw.where(present, ""))
        serial = present & _folded(raw).str.match(_SERIAL)
        report(serial, "date serial", lambda v: _(
            "'{value}' looks like an Excel date serial number, which riskplan does not guess at; format the "
            "cell as a date or write the date as {forms}").format(value=v, forms=DATE_FORMS))
        report(present & ~serial & ~form_ok, "not a date", lambda v: _(
            "'{value}' is not a date in a form riskplan reads: {forms}, or a date cell (forms such as "
            "1/5/2027 could mean two days and are not read)").format(value=v, forms=DATE_FORMS))
        report(present & form_ok & dates.isna(), "no such day",
               lambda v: _("'{value}' is not a day of the calendar").format(value=v))
        return dates
    if col.kind == "enum":
        names = headers.value_names(value_set) if value_set else {}
        codes = raw.map(lambda v: names.get(headers.normalize_value(v), v.lower()))
        bad = present & ~codes.isin(col.choices)
        report(bad, "not one of", lambda v: _("'{value}' is not one of {choices}").format(
            value=v, choices=_choices(value_set) if value_set else ", ".join(col.choices)))
        return codes.where(present, "")
    if col.kind == "list":
        names = headers.value_names(value_set) if value_set else {}
        return raw.map(lambda cell: LIST_SEPARATOR.join(names.get(headers.normalize_value(t), t)
                                                        for t in split_list(cell)))
    return raw


def _choices(value_set: str) -> str:
    """The accepted values of a value set as people read them: the codes, then the Chinese words."""
    codes = list(headers.VALUES.get(value_set, {}))
    chinese = [headers.value_label(value_set, c, "zh") for c in codes]
    if get_language() == "zh":
        return f"{'、'.join(chinese)}（{', '.join(codes)}）"
    return f"{', '.join(codes)} ({'、'.join(chinese)})"


def _range_check(values: pd.Series, col: Column, report) -> None:
    if col.min is not None:
        report(values.notna() & (values < col.min), "below the minimum",
               lambda v: _("{value} is below the minimum {minimum:g}").format(value=v, minimum=col.min))
    if col.max is not None:
        report(values.notna() & (values > col.max), "above the maximum",
               lambda v: _("{value} is above the maximum {maximum:g}").format(value=v, maximum=col.max))
