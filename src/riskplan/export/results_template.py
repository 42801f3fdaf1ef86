"""The quarter's results workbook (`riskplan results-template PLAN_DIR OUT.xlsx`): one row per
planned visit, with the columns a clerk fills in after the visit, which `record` reads back.

Why a workbook of riskplan's own: the clerk should only type what happened (actual date, the
outcome from a drop-down of the categories provincial platforms use, hazards found, penalized
是/否, a substitute inspector), never a visit id, so results cannot name a visit that does not
exist or another plan's visit. The sheet's header row is row 1 (nothing above it), so reading
is plain; 内部资料 (the workbook names inspectors) is in the page header that prints on every page.
A second sheet (说明) explains the columns. Same plan = same bytes.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from riskplan.domain.headers import VALUES, canonical_headers, display_header, value_label
from riskplan.domain.schema import split_list
from riskplan.i18n import N_, _, language
from riskplan.io import read_csv_text, read_table_text, reproducible_xlsx

#: The columns, in order: what the roster tells (given) and what the clerk fills in.
GIVEN = ("visit_id", "enterprise_id", "enterprise_name", "subdistrict", "planned_date", "team")
TO_FILL = ("date", "outcome", "hazards_found", "major_hazards_found", "penalized", "substitute_inspectors")
GENERATOR = "riskplan results-template"
#: The sheets' names (results, instructions): the results first, as `record` reads the first sheet.
SHEETS = {"zh": ("检查结果", "说明"), "en": ("results", "instructions")}
DATE_FORMAT = "yyyy-mm-dd"
FILL_COLOUR = "FFF2CC"  # the light yellow of cells to fill in
INSTRUCTIONS = (
    N_("One row per planned visit of plan {plan_id} ({quarter}). Fill in the yellow columns after the visit; "
       "leave a row empty while its visit has no result yet."),
    N_("{date}: the day the visit took place (a date cell)."),
    N_("{outcome}: choose from the list: {choices}. {closed} and {not_inspected} mean the visit did not "
       "happen: it is not recorded as an inspection and is listed when the results are recorded."),
    N_("{hazards} and {major}: whole numbers (empty counts as 0)."),
    N_("{penalized}: {yes} or {no} (empty counts as {no})."),
    N_("{substitute}: only when other inspectors went than planned: their ids or names, separated by ';'."),
    N_("Do not change the visit ids, the order of the columns or the headers. Then run: riskplan record "
       "DISTRICT_DIR PLAN_DIR this-file.xlsx"),
)


def _names(inspectors: pd.DataFrame | None) -> dict[str, str]:
    if inspectors is None or "name" not in inspectors.columns:
        return {}
    return {i: n for i, n in zip(inspectors["inspector_id"], inspectors["name"]) if n}


def _width(values) -> float:
    """Column width in Excel's units: CJK characters count double."""
    longest = max((sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(v)) for v in values), default=4)
    return min(60, max(6, longest + 2))


def template_bytes(plan_dir: Path, inspectors: pd.DataFrame | None = None, lang: str | None = None) -> bytes:
    """The results workbook of the plan in `plan_dir` (see the module notes), in `lang`."""
    with language(lang) as chosen:
        return _template_bytes(Path(plan_dir), inspectors, chosen)


def _template_bytes(plan_dir: Path, inspectors: pd.DataFrame | None, lang: str) -> bytes:
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    plan = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    roster = read_csv_text(plan_dir / "roster.csv")
    roster = roster.sort_values(["date", "visit_id"], kind="mergesort")
    names = _names(inspectors)
    separator = "、" if lang == "zh" else "; "
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = SHEETS[lang][0]
    columns = GIVEN + TO_FILL
    header = [display_header("results", c, lang) for c in columns]
    ws.append(header)
    for r in roster.itertuples(index=False):
        team = separator.join(names.get(i, i) for i in split_list(r.inspectors))
        ws.append([r.visit_id, r.enterprise_id, r.enterprise_name, r.subdistrict,
                   pd.Timestamp(r.date).date(), team] + [None] * len(TO_FILL))
    n = len(roster)
    last = max(n + 1, 2)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor=FILL_COLOUR)
    for i, column in enumerate(columns, start=1):
        letter = get_column_letter(i)
        ws.cell(1, i).font = bold
        ws.cell(1, i).alignment = Alignment(wrap_text=False)
        values = [header[i - 1]] + [ws.cell(k, i).value for k in range(2, n + 2)]
        ws.column_dimensions[letter].width = 12 if column in ("planned_date", "date") else _width(values)
        for k in range(2, n + 2):
            cell = ws.cell(k, i)
            if column in ("planned_date", "date"):
                cell.number_format = DATE_FORMAT
            if column in TO_FILL:
                cell.fill = fill
    ws.column_dimensions[get_column_letter(columns.index("outcome") + 1)].width = 20
    ws.freeze_panes = "A2"

    def letter(column: str) -> str:
        return get_column_letter(columns.index(column) + 1)

    quarter = plan["quarter"]
    outcome = DataValidation(type="list", allow_blank=True, showErrorMessage=True,
                             formula1='"' + ",".join(value_label("outcome", c, lang) for c in VALUES["outcome"]) + '"',
                             error=_("Choose an outcome from the list"))
    yes_no = DataValidation(type="list", allow_blank=True, showErrorMessage=True,
                            formula1=f'"{value_label("yes_no", "yes", lang)},{value_label("yes_no", "no", lang)}"')
    counts = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                            showErrorMessage=True, error=_("A whole number, 0 or more"))
    from riskplan.domain.calendar import Quarter

    q = Quarter.parse(quarter)
    dates = DataValidation(type="date", operator="between", allow_blank=True, showErrorMessage=True,
                           formula1=f"DATE({q.start.year},{q.start.month},{q.start.day})",
                           formula2=f"DATE({q.end.year},{q.end.month},{q.end.day})",
                           error=_("A date within {quarter}").format(quarter=quarter))
    for validation, column in ((outcome, "outcome"), (yes_no, "penalized"), (dates, "date")):
        validation.add(f"{letter(column)}2:{letter(column)}{last}")
        ws.add_data_validation(validation)
    counts.add(f"{letter('hazards_found')}2:{letter('major_hazards_found')}{last}")
    ws.add_data_validation(counts)
    internal = _("Internal document")
    for page in (ws.oddHeader, ws.evenHeader, ws.firstHeader):
        page.right.text = internal
        page.left.text = f"{quarter} {plan.get('plan_id', '')}".strip()
    ws.oddFooter.center.text = "&P / &N"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"

    info = book.create_sheet(SHEETS[lang][1])
    fields = {"plan_id": plan.get("plan_id", ""), "quarter": quarter,
              "choices": "、".join(value_label("outcome", c, lang) for c in VALUES["outcome"]),
              "closed": value_label("outcome", "closed_or_not_found", lang),
              "not_inspected": value_label("outcome", "not_inspected", lang),
              "yes": value_label("yes_no", "yes", lang), "no": value_label("yes_no", "no", lang),
              **{k: display_header("results", c, lang) for k, c in (
                  ("date", "date"), ("outcome", "outcome"), ("hazards", "hazards_found"),
                  ("major", "major_hazards_found"), ("penalized", "penalized"),
                  ("substitute", "substitute_inspectors"))}}
    for line in INSTRUCTIONS:
        info.append([_(line).format(**fields)])
    info.column_dimensions["A"].width = 120
    for row in info.iter_rows():
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    book.properties.creator = GENERATOR
    book.properties.keywords = GENERATOR
    buf = io.BytesIO()
    book.save(buf)
    return reproducible_xlsx(buf.getvalue())


def is_blank_template(path: Path) -> bool:
    """A results workbook riskplan wrote with nothing filled in yet: `--force` may replace only that."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            if GENERATOR not in z.read("docProps/core.xml").decode("utf-8"):
                return False
        frame = read_table_text(path)
    except Exception:  # not a workbook, or not one of ours
        return False
    frame.columns = canonical_headers("results", frame.columns)
    filled = [c for c in TO_FILL if c in frame.columns]
    return len(filled) == len(TO_FILL) and not (frame[filled] != "").any(axis=None)
