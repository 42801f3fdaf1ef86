"""`riskplan changes-template OUT.xlsx`: an empty changes workbook for `replan --changes`.

A sheet 变更 headed in Chinese (English with `--lang en`) with a drop-down list of the kinds,
date-formatted date columns, ids kept as text and the capacity a whole number, and a sheet 说明
saying for each kind what it means, which columns it needs, which it may use, and an example
row. The workbook as written reads as an empty changes table (`riskplan.load.changes`); same
language and version = same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

from riskplan.domain import headers
from riskplan.i18n import N_, _, get_language
from riskplan.io import reproducible_xlsx, workbook_sheets
from riskplan.load.cells import DATE_FORMS
from riskplan.load.changes import CHANGE_KINDS, FILE_COLUMNS, KIND_COLUMNS, TABLE

GENERATOR = "riskplan changes-template"
TEMPLATE_ROWS = 2_000
DATE_FORMAT = "yyyy/m/d"
#: kind -> what it means, and an example row (column -> cell, Chinese words as a bureau writes them).
KIND_NOTES: dict[str, str] = {
    "leave": N_("an inspector is away from start to end (both days included): no visits for them then"),
    "leaves_bureau": N_("an inspector leaves the bureau (retires, is transferred or seconded for good) from start: "
                        "their later visits go to others"),
    "capacity": N_("an inspector's weekly capacity becomes capacity from start (until end, or the quarter's end)"),
    "enterprise_closed": N_("an enterprise closed from start: its visits from then are dropped, with the reason"),
    "enterprise_suspended": N_("an enterprise suspended production from start (until end, or the quarter's end): "
                               "no visits to it then"),
    "urgent_visit": N_("a visit that must take place between start and end (e.g. after an accident); the reason "
                       "is required"),
    "pinned_visit": N_("a visit ordered from above between start and end; the reason is required"),
    "cancel_visit": N_("the visit with this visit id (from roster.csv) is cancelled"),
}
EXAMPLES: dict[str, dict[str, str]] = {
    "leave": {"inspector_id": "ZF001", "start": "2027/2/15", "end": "2027/3/7", "reason": "病假"},
    "leaves_bureau": {"inspector_id": "ZF002", "start": "2027/3/1", "reason": "调往市局"},
    "capacity": {"inspector_id": "ZF003", "start": "2027/2/1", "end": "2027/2/28", "capacity": "1",
                 "reason": "参加专项整治"},
    "enterprise_closed": {"enterprise_id": "91320505YDDNEEQ6MU", "start": "2027/2/10", "reason": "已注销"},
    "enterprise_suspended": {"enterprise_id": "91320505AJ66T7QW1H", "start": "2027/2/1", "end": "2027/2/28",
                             "reason": "停产整顿"},
    "urgent_visit": {"enterprise_id": "91320505AJ66T7QW1H", "start": "2027/2/20", "end": "2027/2/27",
                     "reason": "事故后复查 2月20日"},
    "pinned_visit": {"enterprise_id": "91320505YDDNEEQ6MU", "start": "2027/3/1", "end": "2027/3/15",
                     "reason": "市局交办"},
    "cancel_visit": {"visit_id": "2027Q1-7B27F2-00004", "reason": "上级通知取消"},
}


def sheet_names(lang: str) -> tuple[str, str]:
    """(the changes sheet, the instructions sheet) in `lang`."""
    return (headers.display_table(TABLE, lang), headers.INSTRUCTION_SHEETS[0] if lang == "zh" else "instructions")


def _columns(columns, lang: str) -> str:
    return "、".join(headers.display_header(TABLE, c, lang) for c in columns) if columns else "—"


def template_bytes(lang: str | None = None) -> bytes:
    """The workbook's bytes (see the module notes)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    lang = lang or get_language()
    book = Workbook()
    sheet = book.active
    sheet.title, info_title = sheet_names(lang)
    titles = [headers.display_header(TABLE, c, lang) for c in FILE_COLUMNS]
    sheet.append(titles)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = fill
    kinds = [headers.value_label("change_kind", k, lang) for k in CHANGE_KINDS]
    for i, (column, title) in enumerate(zip(FILE_COLUMNS, titles), start=1):
        letter = get_column_letter(i)
        cells = f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
        sheet.column_dimensions[letter].width = 40 if column == "reason" else max(14, 2 * len(title) + 4)
        if column == "change":
            check = DataValidation(type="list", formula1='"' + ",".join(kinds) + '"', allow_blank=True,
                                   showErrorMessage=True, errorTitle=_("not a change riskplan knows"),
                                   error=_("choose a change from the list: {choices}").format(choices=", ".join(kinds)))
        elif column == "capacity":
            check = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                                   showErrorMessage=True, error=_("A whole number of visits a week, 0 or more"))
        else:
            check = None
        if check is not None:
            check.add(cells)
            sheet.add_data_validation(check)
        if column in ("start", "end"):
            sheet.column_dimensions[letter].number_format = DATE_FORMAT
        elif column.endswith("_id"):
            sheet.column_dimensions[letter].number_format = "@"  # ids stay text (no 9.13E+17)
    sheet.freeze_panes = "A2"

    info = book.create_sheet(info_title)
    lines = [
        [_("riskplan changes workbook: one row per change of the quarter, for riskplan replan --changes. Keep "
           "the header row; headers and kinds may be Chinese or English.")],
        [_("Dates: {forms}, or date cells. A row whose dates lie wholly outside the quarter is refused. Leave the "
           "columns a kind does not use empty.").format(forms=DATE_FORMS)],
        [_("This workbook is internal: it names inspectors and enterprises to be visited.")],
        [],
        [_("kind of change"), _("code"), _("what it means"), _("required columns"), _("may also use"), _("example")],
    ]
    for kind in CHANGE_KINDS:
        required, optional = KIND_COLUMNS[kind]
        example = "；".join(f"{headers.display_header(TABLE, c, lang)}={v}" for c, v in EXAMPLES[kind].items())
        may = [*optional] + ([] if "reason" in required else ["reason"])
        lines.append([headers.value_label("change_kind", kind, lang), kind, _(KIND_NOTES[kind]),
                      _columns(required, lang), _columns(may, lang), example])
    for row in lines:
        info.append(row)
    for cell in info[5]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEF", (16, 22, 60, 30, 20, 70)):
        info.column_dimensions[letter].width = width
    for row in info.iter_rows(min_row=6):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    book.properties.creator = GENERATOR
    book.properties.keywords = GENERATOR
    buffer = io.BytesIO()
    book.save(buffer)
    return reproducible_xlsx(buffer.getvalue())


def is_blank_template(path: Path) -> bool:
    """A changes workbook riskplan wrote with no row filled in: `--force` may replace only that."""
    from riskplan.io import read_table_text

    try:
        sheets = workbook_sheets(path)
        if len(sheets) != 2 or headers.table_of_name(sheets[0], [TABLE]) != TABLE:
            return False
        frame = read_table_text(path, sheets[0])
    except Exception:  # not a workbook, or not one of ours
        return False
    return frame.shape[1] == len(FILE_COLUMNS) and not (frame != "").any(axis=None)
