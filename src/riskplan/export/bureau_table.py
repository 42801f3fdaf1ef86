"""Adding rows to a bureau's own table file, and changing single cells of it, without
restructuring it (what `record` writes into the district's inspections history).

A workbook is edited in place with openpyxl: every other sheet, the cell styles, column widths,
row heights, frozen panes, the sheet's name and its column order (its own headers, Chinese or
English) stay as they were. A new row takes the style of the row above it; a date goes in as a
date cell with the number format the column's cells already use (or as text in the column's
own text form, when the column holds dates typed as text), a number as a number. A table
object or autofilter that ends at the last row grows with the new rows. Parts of a workbook
openpyxl cannot keep (shapes, form controls, slicers ...) are detected and the change refused,
rather than lost.

A CSV file is never rewritten: new lines are appended in the file's own encoding (UTF-8 with
or without BOM, GB18030) and line ending, after a final newline if the file lacked one, with
the cells in the file's own column order. A correction rewrites only the lines of the records
it changes; a column the file lacks (e.g. the visit id) is added to the header line only —
earlier lines then have fewer cells, which spreadsheet programs and riskplan read as empty.

Both return the new bytes; the caller backs the file up and replaces it atomically.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path

from riskplan.domain.headers import canonical_header, display_header
from riskplan.i18n import _
from riskplan.io import neutralise_cell

#: Cell values a caller writes: a date, a whole number, a yes/no flag or text.
Value = datetime.date | int | bool | str
#: Workbook parts openpyxl does not read back; a workbook holding one is not edited.
UNKEPT_PARTS = ("xl/ctrlProps/", "xl/activeX/", "xl/slicers/", "xl/slicerCaches/", "xl/timelines/",
                "xl/timelineCaches/", "xl/drawings/vmlDrawing", "xl/webextensions/", "xl/model/")
DEFAULT_DATE_FORMAT = "yyyy-mm-dd"
_DATE_TEXT = re.compile(r"^(\d{4})(\D{1,2})(\d{1,2})(\D{1,2})(\d{1,2})(\D?)$")
_YES_WORDS = {"是": ("是", "否"), "否": ("是", "否"), "有": ("有", "无"), "无": ("有", "无"),
              "y": ("Y", "N"), "n": ("Y", "N"), "yes": ("yes", "no"), "no": ("yes", "no")}


class TableEditError(ValueError):
    """The file cannot be edited safely; nothing was written."""

    def __init__(self, path: Path, message: str):
        self.path, self.message = Path(path), message
        super().__init__(f"{self.path.name}: {message}")


@dataclass
class TableFile:
    """A bureau's table as found. `rows[i]` is the data row shown as spreadsheet row
    `first_row + i`, as {column: cell value} for the columns riskplan knows (workbook cells
    typed as openpyxl gives them, CSV cells as text)."""

    path: Path
    table: str
    sheet: str | None
    headers: list[str]
    columns: list[str | None]
    rows: list[dict[str, object]] = field(default_factory=list)
    first_row: int = 2

    @property
    def chinese(self) -> bool:
        """Headers written in Chinese: riskplan adds its columns and words in Chinese too."""
        return any(not h.isascii() for h, c in zip(self.headers, self.columns) if c)

    def header_for(self, column: str) -> str:
        return display_header(self.table, column, "zh" if self.chinese else "en")


# ---------------------------------------------------------------- reading

def read_table_file(path: Path, table: str, sheet: str | None = None) -> TableFile:
    """The table's headers and rows, positioned as the spreadsheet shows them."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        book = _load_book(path.read_bytes(), path)
        ws = _sheet(book, sheet, path)
        header_row, _last = _extent(ws, path)
        headers = _header_cells(ws, header_row)
        columns = [canonical_header(table, h) if h else None for h in headers]
        rows = []
        for values in ws.iter_rows(min_row=header_row + 1, max_col=len(headers), values_only=True):
            rows.append({c: v for c, v in zip(columns, values) if c})
        while rows and all(v in (None, "") for v in rows[-1].values()):
            rows.pop()
        return TableFile(path, table, ws.title, headers, columns, rows, header_row + 1)
    text, _encoding, _newline = _decode(path.read_bytes(), path)
    records = list(csv.reader(io.StringIO(text, newline="")))
    if not records:
        raise TableEditError(path, _("is empty (no header row)"))
    headers = [h.strip() for h in records[0]]
    columns = [canonical_header(table, h) if h else None for h in headers]
    rows = [{c: (r[i].strip() if i < len(r) else "") for i, c in enumerate(columns) if c} for r in records[1:]]
    return TableFile(path, table, None, headers, columns, rows, 2)


# ---------------------------------------------------------------- workbooks

def _load_book(data: bytes, path: Path):
    import openpyxl

    try:
        return openpyxl.load_workbook(io.BytesIO(data), rich_text=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise TableEditError(path, _("is not a workbook riskplan can edit: {error}").format(error=exc)) from None


def _sheet(book, sheet: str | None, path: Path):
    if sheet is None:
        return book.worksheets[0]  # the sheet the loader reads when none is named
    if sheet not in book.sheetnames:
        raise TableEditError(path, _("has no sheet '{sheet}' (sheets: {sheets})").format(
            sheet=sheet, sheets=", ".join(book.sheetnames)))
    return book[sheet]


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _extent(ws, path: Path) -> tuple[int, int]:
    """(header row, last row holding data): the first non-blank row, the last non-blank one."""
    header, last = None, 0
    for row in ws.iter_rows():
        if any(not _blank(c.value) for c in row):
            header = header or row[0].row
            last = row[0].row
    if header is None:
        raise TableEditError(path, _("sheet '{sheet}' is empty (no header row)").format(
            sheet=ws.title))
    return header, last


def _header_cells(ws, header_row: int) -> list[str]:
    cells = [("" if _blank(c.value) else str(c.value).strip()) for c in ws[header_row]]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _is_date(value) -> bool:
    return isinstance(value, (datetime.date, datetime.datetime))


def _date_text(sample: str, day: datetime.date) -> str:
    """`day` written the way `sample` writes a date (2027/1/5, 2027年1月5日, 2027-01-05)."""
    m = _DATE_TEXT.match(sample.strip())
    if not m:
        return day.isoformat()
    padded = m[3].startswith("0") or m[5].startswith("0")  # 2026/12/15 tells nothing: unpadded
    month, dom = (f"{day.month:02d}", f"{day.day:02d}") if padded else (str(day.month), str(day.day))
    return f"{day.year}{m[2]}{month}{m[4]}{dom}{m[6]}"


def _flag_text(sample: str, value: bool) -> str | None:
    words = _YES_WORDS.get(sample.strip().lower())
    return None if words is None else words[0 if value else 1]


def _like(sample, value: Value, *, text_file: bool):
    """`value` typed as the column's existing cell `sample` is (None: the column has none)."""
    if isinstance(value, bool):
        if isinstance(sample, str) and _flag_text(sample, value) is not None:
            return _flag_text(sample, value)
        value = int(value)
        return str(value) if text_file or isinstance(sample, str) else value
    if isinstance(value, datetime.date):
        if isinstance(sample, str) and not _blank(sample):
            return _date_text(sample, value)
        return value.isoformat() if text_file else value
    if isinstance(value, int):
        return str(value) if text_file or isinstance(sample, str) else value
    return value


def _set(cell, value) -> None:
    """A cell's new value; text stays text, never a formula (openpyxl takes '=...' for one)."""
    cell.value = value
    if cell.data_type == "f":
        cell.data_type = "s"
        cell.quotePrefix = True  # Excel keeps it text when the cell is edited


def _grow(ref: str, last: int, new_last: int) -> str | None:
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    lo_col, lo_row, hi_col, hi_row = range_boundaries(ref)
    if hi_row != last:
        return None
    return f"{get_column_letter(lo_col)}{lo_row}:{get_column_letter(hi_col)}{new_last}"


def edit_workbook(data: bytes, path: Path, table: str, rows: list[dict[str, Value]],
                  changes: list[tuple[int, str, Value]], sheet: str | None = None) -> bytes:
    """The workbook with `rows` appended to the table's sheet and each (row index, column,
    value) of `changes` set (row index as in `TableFile.rows`)."""
    book = _load_book(data, path)
    ws = _sheet(book, sheet, path)
    header_row, last = _extent(ws, path)
    headers = _header_cells(ws, header_row)
    position = {c: i + 1 for i, c in enumerate(canonical_header(table, h) if h else None for h in headers) if c}
    chinese = any(not h.isascii() for h in headers if canonical_header(table, h))
    needed = [c for r in rows for c in r if c not in position]
    for column in dict.fromkeys(needed):  # columns the file lacks go after its last header
        at = len(headers) + 1
        cell = ws.cell(header_row, at, display_header(table, column, "zh" if chinese else "en"))
        if headers:
            left = ws.cell(header_row, at - 1)
            cell._style = copy(left._style)
            from openpyxl.utils.cell import get_column_letter

            width = ws.column_dimensions[get_column_letter(at - 1)].width
            if width:
                ws.column_dimensions[get_column_letter(at)].width = width
        headers.append(cell.value)
        position[column] = at

    def sample(col: int):
        for r in range(last, header_row, -1):
            value = ws.cell(r, col).value
            if not _blank(value):
                return value
        return None

    samples = {c: sample(i) for c, i in position.items()}
    for index, column, value in changes:
        cell = ws.cell(header_row + 1 + index, position[column])
        _set(cell, _like(samples[column] if _blank(cell.value) else cell.value, value, text_file=False))
        if _is_date(cell.value) and not cell.is_date:
            cell.number_format = DEFAULT_DATE_FORMAT
    above = last if last > header_row else None
    for k, values in enumerate(rows):
        r = last + 1 + k
        if above is not None and ws.row_dimensions[above].height:
            ws.row_dimensions[r].height = ws.row_dimensions[above].height
        for col in range(1, len(headers) + 1):
            if above is not None:
                ws.cell(r, col)._style = copy(ws.cell(above, col)._style)
        for column, value in values.items():
            cell = ws.cell(r, position[column])
            _set(cell, _like(samples[column], value, text_file=False))
            if _is_date(cell.value) and not _is_date(samples[column]):
                cell.number_format = DEFAULT_DATE_FORMAT
    new_last = last + len(rows)
    if rows:
        for item in ws.tables.values():
            grown = _grow(item.ref, last, new_last)
            if grown:
                item.ref = grown
                if item.autoFilter is not None:
                    item.autoFilter.ref = grown
        if ws.auto_filter.ref:
            ws.auto_filter.ref = _grow(ws.auto_filter.ref, last, new_last) or ws.auto_filter.ref
    out = io.BytesIO()
    book.save(out)
    result = out.getvalue()
    lost = _lost_parts(data, result)
    if lost:
        raise TableEditError(path, _("holds parts riskplan cannot keep when it edits a workbook ({parts}); "
                                     "keep the inspections table in a workbook of its own").format(
            parts=", ".join(lost)))
    return result


def _lost_parts(before: bytes, after: bytes) -> list[str]:
    """Families of workbook parts present before the edit and gone after it."""
    with zipfile.ZipFile(io.BytesIO(before)) as a, zipfile.ZipFile(io.BytesIO(after)) as b:
        old, new = a.namelist(), b.namelist()
    return [p.rstrip("/") for p in UNKEPT_PARTS
            if any(n.startswith(p) for n in old) and not any(n.startswith(p) for n in new)]


# ---------------------------------------------------------------- CSV

def _decode(raw: bytes, path: Path) -> tuple[str, str, str]:
    """(text, encoding, line ending) of a CSV file as the bureau saved it."""
    if raw.startswith(b"\xef\xbb\xbf"):
        text, encoding = raw[3:].decode("utf-8"), "utf-8-sig"
    else:
        for encoding in ("utf-8", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise TableEditError(path, _("is neither UTF-8 nor GB18030 text"))
    m = re.search(r"\r\n|\n|\r", text)
    return text, encoding, m.group() if m else "\r\n"


def _text(value) -> str:
    """A CSV cell: text a spreadsheet would run as a formula gets the text prefix (io.neutralise_cell)."""
    return neutralise_cell(value) if isinstance(value, str) else str(value)


def _line(cells: list[str], newline: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerow(cells)
    return buf.getvalue()


def edit_csv(data: bytes, path: Path, table: str, rows: list[dict[str, Value]],
             changes: list[tuple[int, str, Value]]) -> bytes:
    """The CSV file's bytes with `rows` appended and `changes` applied (see the module notes):
    every byte not in a changed record stays as it was."""
    text, encoding, newline = _decode(data, path)
    bom = b"\xef\xbb\xbf" if encoding == "utf-8-sig" else b""
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    lines = io.StringIO(text, newline="").readlines()  # split as the csv reader counts lines
    reader = csv.reader(io.StringIO(text, newline=""))
    spans: list[tuple[int, int, list[str]]] = []  # (first line, end line, cells) per record
    start = 0
    for record in reader:
        spans.append((start, reader.line_num, record))
        start = reader.line_num
    if not spans:
        raise TableEditError(path, _("is empty (no header row)"))
    headers = [h.strip() for h in spans[0][2]]
    columns = [canonical_header(table, h) if h else None for h in headers]
    chinese = any(not h.isascii() for h, c in zip(headers, columns) if c)
    position = {c: i for i, c in enumerate(columns) if c}
    needed = list(dict.fromkeys(c for r in rows for c in r if c not in position))
    samples: dict[str, str | None] = {}
    for column, i in position.items():
        samples[column] = next((rec[i] for _a, _b, rec in reversed(spans[1:]) if i < len(rec) and rec[i].strip()),
                               None)
    replaced: dict[int, str] = {}
    if needed:
        header = list(spans[0][2])
        for c in needed:
            position[c], samples[c] = len(header), None
            header.append(display_header(table, c, "zh" if chinese else "en"))
        replaced[0] = _line(header, newline)
    width = max(len(spans[0][2]), max(position.values()) + 1)  # every column of the file, its own too
    by_record: dict[int, list[str]] = {}
    for index, column, value in changes:
        rec = by_record.setdefault(index + 1, list(spans[index + 1][2]))
        rec.extend([""] * (width - len(rec)))
        rec[position[column]] = _text(_like(samples[column], value, text_file=True))
    for r, rec in by_record.items():
        replaced[r] = _line(rec, newline)
    out: list[str] = []
    for r, (a, b, _rec) in enumerate(spans):
        out.append(replaced[r] if r in replaced else "".join(lines[a:b]))
    tail = "".join(lines[spans[-1][1]:])  # blank lines after the last record stay
    body = "".join(out) + tail
    if rows and body and not body.endswith(("\n", "\r")):
        body += newline
    for values in rows:
        cells = [""] * width
        for column, value in values.items():
            cells[position[column]] = _text(_like(samples[column], value, text_file=True))
        body += _line(cells, newline)
    return bom + body.encode(codec)


def edit_table_file(path: Path, table: str, rows: list[dict[str, Value]], changes: list[tuple[int, str, Value]],
                    sheet: str | None = None) -> bytes:
    """The file's new bytes (workbook or CSV by its extension), nothing written."""
    path = Path(path)
    data = path.read_bytes()
    if path.suffix.lower() == ".xlsx":
        return edit_workbook(data, path, table, rows, changes, sheet)
    return edit_csv(data, path, table, rows, changes)
