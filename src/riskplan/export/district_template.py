"""`riskplan template OUT.xlsx`: an empty district workbook a bureau fills in.

One sheet per table of the district (named and headed in Chinese, in English with `--lang en`),
a drop-down list for every coded column (size, hazardous-chemical role, grades, flags,
accident grade), date-formatted date columns, widths that fit the headers, a frozen header row,
and a first sheet 说明 saying what each table and column means, whether it is required, the
values accepted and the date forms read. The filled-in workbook is a district folder's whole
input (riskplan.load.workbook); the 说明 sheet is ignored when it is read.
"""

from __future__ import annotations

import io
from pathlib import Path

from riskplan.domain import headers
from riskplan.domain.schema import TABLES, Column, TableSpec
from riskplan.i18n import N_, _, get_language
from riskplan.io import reproducible_xlsx, workbook_sheets
from riskplan.load.cells import DATE_FORMS, value_set_of
from riskplan.outputs import atomic_write_bytes, refuse_existing

#: Rows a drop-down list and a date format cover (a district's largest table fits).
TEMPLATE_ROWS = 20_000
DATE_FORMAT = "yyyy/m/d"
TABLE_PURPOSE = {
    "enterprises": N_("the enterprises the bureau supervises (生产经营单位), one row each"),
    "accidents": N_("accidents of the past years, one row each"),
    "inspections": N_("past inspections (检查记录), one row per visit"),
    "inspectors": N_("the enforcement officers (执法人员), one row each"),
    "leave": N_("optional: inspectors' leave, one row per period"),
    "conflicts": N_("optional: who must recuse (回避) from which enterprise"),
    "pinned": N_("optional: visits ordered for this quarter (指定检查)"),
}


def _choices(table: str, col: Column) -> list[str] | None:
    """The drop-down values of a column in the current language, or None for free text."""
    value_set = value_set_of(table, col)
    if value_set is None or col.kind == "list":
        return None
    words = headers.value_spellings(value_set)
    if col.kind == "enum":
        return words
    if value_set == "flag":
        return [headers.value_label("flag", c) for c in ("1", "0")]
    return words  # grades and levels: 无, 一级 … (or 0, 1 … in English)


def _accepted(table: str, col: Column) -> str:
    value_set = value_set_of(table, col)
    if col.kind == "date":
        return _("a date cell, or {forms}").format(forms=DATE_FORMS)
    if col.kind == "list":
        extra = f" ({'、'.join(headers.value_spellings(value_set, 'zh'))})" if value_set else ""
        return _("several values separated by ; or 、") + extra
    if value_set:
        codes = list(headers.VALUES[value_set])
        return ", ".join(f"{headers.value_label(value_set, c, 'zh')} / {c}" for c in codes)
    if col.kind in ("int", "float"):
        bounds = [f"≥ {col.min:g}" if col.min is not None else "", f"≤ {col.max:g}" if col.max is not None else ""]
        number = _("a whole number") if col.kind == "int" else _("a number")
        return " ".join([number, *[b for b in bounds if b]])
    return _("text")


def _instructions(sheet, lang: str) -> None:
    from openpyxl.styles import Alignment, Font

    rows = [
        [_("riskplan district workbook: fill one sheet per table, keep the header row. Headers may be Chinese "
           "or English; extra columns are kept.")],
        [_("Dates: {forms}, or date cells. Lists: separated by ; or 、. Codes: the Chinese word or the English "
           "code.").format(forms=DATE_FORMS)],
        [_("This sheet is ignored when the workbook is read. Check the workbook with: riskplan validate FOLDER")],
        [],
        [_("sheet"), _("column"), _("riskplan name"), _("required"), _("meaning"), _("accepted values")],
    ]
    for spec in TABLES:
        rows.append([headers.display_table(spec.name, lang), "", spec.name, _("optional table") if spec.optional
                     else _("required table"), _(TABLE_PURPOSE[spec.name]), ""])
        for col in spec.columns:
            rows.append(["", headers.display_header(spec.name, col.name, lang), col.name,
                         _("may be empty") if col.allow_empty else _("required"),
                         _(col.description) if col.description else "", _accepted(spec.name, col)])
    for row in rows:
        sheet.append(row)
    for cell in sheet[5]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEF", (16, 22, 24, 12, 60, 60)):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=6):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A6"


def _table_sheet(book, spec: TableSpec, lang: str) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    sheet = book.create_sheet(headers.display_table(spec.name, lang))
    titles = [headers.display_header(spec.name, c.name, lang) for c in spec.columns]
    sheet.append(titles)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = fill
    for i, (col, title) in enumerate(zip(spec.columns, titles), start=1):
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = max(12, 2 * len(title) + 4 if not title.isascii() else len(title) + 4)
        cells = f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
        choices = _choices(spec.name, col)
        if choices:
            check = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                                   showErrorMessage=True, errorTitle=_("not an accepted value"),
                                   error=_("choose one of: {choices}").format(choices=", ".join(choices)))
            check.add(cells)
            sheet.add_data_validation(check)
        if col.kind == "date":
            sheet.column_dimensions[letter].number_format = DATE_FORMAT  # the column's style: new cells are dates
        elif col.kind == "text" or col.name.endswith("_id"):
            sheet.column_dimensions[letter].number_format = "@"  # ids stay text (no 9.13E+17)
    sheet.freeze_panes = "A2"


def template_bytes(lang: str | None = None) -> bytes:
    """The workbook's bytes (the same for the same language and riskplan version)."""
    from openpyxl import Workbook

    lang = lang or get_language()
    book = Workbook()
    info = book.active
    info.title = headers.INSTRUCTION_SHEETS[0] if lang == "zh" else "instructions"
    _instructions(info, lang)
    for spec in TABLES:
        _table_sheet(book, spec, lang)
    book.properties.creator = "riskplan template"
    buffer = io.BytesIO()
    book.save(buffer)
    return reproducible_xlsx(buffer.getvalue())


def _is_template(path: Path) -> bool:
    """A workbook `riskplan template` wrote (its instructions sheet and table sheets), so --force
    may replace it; anything else is the bureau's and is refused."""
    try:
        sheets = workbook_sheets(path)
    except Exception:  # not a workbook at all
        return False
    return bool(sheets) and headers.is_instructions(sheets[0]) and all(
        any(headers.table_of_name(s, [t.name]) for s in sheets) for t in TABLES)


def write_template(out: Path | str, force: bool = False) -> Path:
    """Write the template to `out` (.xlsx), refusing an existing file unless `force` (and then
    only one riskplan wrote)."""
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise FileExistsError(_("{path}: the template is a workbook; give a name ending in .xlsx").format(path=out))
    target = refuse_existing(out, force, "file", suffixes=(".xlsx",), own=_is_template)
    atomic_write_bytes(target, template_bytes())
    return target
