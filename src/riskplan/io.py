"""Reading and writing tables at the edges of the pipeline.

Reading: a table may come as `NAME.csv` or `NAME.xlsx` (not both) or as a sheet of a workbook.
CSV is UTF-8 (with or without BOM) or GB18030, which is what Chinese Excel exports. Everything
is read as text so the validator can report each bad cell with its spreadsheet row; a date
cell reads as its ISO date. Which file or sheet holds which table is the loader's business
(riskplan.load.workbook).

Writing: every output goes through a temporary file in the same folder and an
`os.replace`, so a crash or a refused input never leaves a half-written file. CSV is UTF-8
with a BOM (Chinese Excel opens it as UTF-8 only then) and '\\n' line ends; a workbook has
typed cells (real dates shown as yyyy-mm-dd, numbers), a frozen header row with a filter and
fitted column widths. riskplan's own tables are written in the reader's language and read
back in either (`read_csv_text`, `read_own_table`, through domain.headers).

Safe for the people who open them: a text cell that a spreadsheet program would take for a
formula (leading `=`, `+`, `-`, `@`, tab or carriage return) is written to CSV with a leading
single quote, which Excel and WPS show as text; reading riskplan's own CSVs back drops that
one quote again (`unquote_cell`). Workbook cells are typed as text, number or date, never
as formulas, and a workbook's bytes depend only on its content (fixed zip and document
timestamps), so the same plan publishes the same files.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from riskplan.i18n import _
from riskplan.outputs import TABLE_EXTENSIONS, atomic_write_bytes

#: Limits a table file must keep (non-blank data rows, columns): beyond them it is not a table.
MAX_ROWS = 1_000_000
MAX_COLUMNS = 200
#: Leading characters that make a spreadsheet program read a text cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: What a neutralised CSV cell starts with (the OWASP CSV-injection advice).
TEXT_PREFIX = "'"
#: The zip entry time of every workbook riskplan writes (the earliest a zip can hold).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
#: The created/modified time of a workbook whose writer names none.
WORKBOOK_EPOCH = "2000-01-01T00:00:00Z"
#: What every CSV riskplan writes starts with: the UTF-8 byte order mark Excel looks for.
CSV_BOM = "\ufeff".encode("utf-8")
#: How a workbook shows a date cell, and the text cells written as dates.
DATE_FORMAT = "yyyy-mm-dd"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: The widest a fitted workbook column gets (in characters; a CJK character counts two).
MAX_COLUMN_WIDTH = 60


class TableReadError(ValueError):
    """A table file that cannot be read at all (encoding, format, both formats present)."""

    def __init__(self, path: Path, message: str, sheet: str | None = None):
        self.path = Path(path)
        self.message = message
        self.sheet = sheet
        where = self.path.name if sheet is None else _("{file}, sheet {sheet}").format(file=self.path.name,
                                                                                        sheet=sheet)
        super().__init__(f"{where}: {message}")


def find_table(folder: Path, name: str, *aliases: str) -> Path | None:
    """The file holding table `name` (or one of its `aliases`, e.g. its Chinese names) in `folder`,
    or None; two files for one table (both formats, or two names) is an error naming both."""
    found = [folder / f"{stem}{ext}" for stem in (name, *aliases) for ext in TABLE_EXTENSIONS
             if (folder / f"{stem}{ext}").is_file()]
    if len(found) > 1:
        raise TableReadError(found[0], _("both {first} and {second} are present; keep one").format(
            first=found[0].name, second=found[1].name))
    return found[0] if found else None


def decode_csv_bytes(raw: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableReadError(path, _("is neither UTF-8 nor GB18030 text; save it as CSV UTF-8 from Excel"))


def neutralise_cell(value):
    """A text cell a spreadsheet would run as a formula gets the text prefix; others unchanged.

    A cell that already looks neutralised gets one more quote, so reading back is exact.
    """
    if isinstance(value, str) and (value.startswith(FORMULA_TRIGGERS) or unquote_cell(value) != value):
        return TEXT_PREFIX + value
    return value


def unquote_cell(value):
    """Undo `neutralise_cell`: of quotes before a formula trigger, one is dropped."""
    if isinstance(value, str) and value.startswith(TEXT_PREFIX) and value.lstrip(TEXT_PREFIX).startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text cell neutralised (header too); numeric columns untouched."""
    out = frame.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_datetime64_any_dtype(col)):
            out.isetitem(i, col.map(neutralise_cell))
    out.columns = [neutralise_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def unquote_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Read-back side of `neutralise_frame` for an all-text frame."""
    frame = frame.map(unquote_cell)
    frame.columns = [unquote_cell(c) for c in frame.columns]
    return frame


def own_table_of(path: Path) -> str | None:
    """The table of riskplan's that a file holds, by its name (`roster.csv` -> roster), or None."""
    from riskplan.domain.headers import HEADERS

    stem = Path(path).stem
    return stem if stem in HEADERS else None


def read_csv_text(path: Path, table: str | None = None) -> pd.DataFrame:
    """One of riskplan's own CSV outputs, every cell as text exactly as written (unquoted), in
    either language: the headers and enumerated values of `table` (by default the table the
    file name names, `own_table_of`) mapped back to column names and codes (domain.headers)."""
    from riskplan.domain.headers import canonical_frame

    frame = unquote_frame(pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig"))
    table = table if table is not None else own_table_of(path)
    return canonical_frame(table, frame) if table else frame


def read_own_table(path: Path, table: str) -> pd.DataFrame:
    """A table riskplan wrote (.csv or a workbook's first sheet), Chinese or English, with the
    column names and value codes of `table`."""
    from riskplan.domain.headers import canonical_frame

    path = Path(path)
    if path.suffix.lower() == ".csv":
        return read_csv_text(path, table)
    return canonical_frame(table, read_table_text(path))


def read_table_text(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """All cells as stripped strings ('' for empty), header names stripped.

    A CSV cell neutralised by riskplan's writers (or by a careful clerk) reads as its text.
    A workbook is read from `sheet` (default: its first sheet); a date cell reads as its ISO
    date, so a typed date and a date cell read alike.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        text = decode_csv_bytes(path.read_bytes(), path)
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=False)
        except pd.errors.EmptyDataError:
            raise TableReadError(path, _("is empty (no header row)")) from None
        except pd.errors.ParserError as exc:
            raise TableReadError(path, _("is not a well-formed CSV file: {error}").format(error=exc)) from None
        frame = unquote_frame(frame) if len(frame.columns) else frame
    elif path.suffix.lower() == ".xlsx":
        frame = _read_xlsx_text(path, sheet)
    else:
        raise TableReadError(path, _("has an unsupported extension (use .csv or .xlsx)"))
    if frame.shape[1] > MAX_COLUMNS:
        raise TableReadError(path, _("has {count} columns; a table has at most {limit}").format(
            count=frame.shape[1], limit=MAX_COLUMNS), sheet)
    if len(frame) > MAX_ROWS:
        raise TableReadError(path, _("has more than {limit} rows; split it or remove the rows that are not "
                                     "data").format(limit=MAX_ROWS), sheet)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.apply(lambda col: col.str.strip()) if len(frame.columns) else frame


def _cell_text(value) -> str:
    """A workbook cell as the text a CSV export of it would hold; a date cell (or a date-time
    cell at midnight) as its ISO date."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _open_workbook(path: Path):
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for a broken workbook
        raise TableReadError(path, _("is not a readable .xlsx workbook: {error}").format(error=exc)) from None


def workbook_sheets(path: Path) -> list[str]:
    """The sheet names of a workbook, in the workbook's order."""
    book = _open_workbook(Path(path))
    try:
        return list(book.sheet_names)
    finally:
        book.close()


def _read_xlsx_text(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """One sheet (default the first) as text, streamed (a workbook's styled or blank rows cost
    no memory), trailing blank rows and columns dropped, refused beyond `MAX_ROWS` / `MAX_COLUMNS`.

    Read with calamine (a compiled reader, through python-calamine) rather than openpyxl: it
    reads the cached values the same way but spends nanoseconds, not microseconds, on a blank
    cell, so a workbook padded with a million blank rows validates in seconds."""
    book = _open_workbook(path)
    try:
        rows: list[list[str]] = []
        pending_blank = 0  # blank rows kept only if data follows them
        width = 0
        if sheet is not None and sheet not in book.sheet_names:
            raise TableReadError(path, _("has no sheet named '{sheet}' (its sheets: {sheets})").format(
                sheet=sheet, sheets=", ".join(book.sheet_names)))
        data = book.get_sheet_by_index(0) if sheet is None else book.get_sheet_by_name(sheet)
        # calamine's rows begin at row 1 but its columns at the first used one: put back the
        # empty columns before it, so column letters stay as the user sees them
        left = data.start[1] if data.start is not None else 0
        for values in data.iter_rows():
            cells = [""] * left + [_cell_text(v) for v in values]
            used = [i for i, c in enumerate(cells) if c.strip()]
            if not used:
                pending_blank += 1
                continue
            width = max(width, used[-1] + 1)
            if width > MAX_COLUMNS:
                raise TableReadError(path, _("has a cell in column {column}; a table has at most {limit} "
                                             "columns").format(column=width, limit=MAX_COLUMNS), sheet)
            if len(rows) - 1 >= MAX_ROWS:
                raise TableReadError(path, _("has more than {limit} rows; split it or remove the rows that are "
                                             "not data").format(limit=MAX_ROWS), sheet)
            if rows:
                rows.extend([[]] * pending_blank)
            pending_blank = 0
            rows.append(cells)
    except TableReadError:
        raise
    except Exception as exc:
        raise TableReadError(path, _("is not a readable .xlsx workbook: {error}").format(error=exc), sheet) from None
    finally:
        book.close()
    if not rows:
        raise TableReadError(path, _("is empty (no header row)"), sheet)
    padded = [(r + [""] * width)[:width] for r in rows]
    header: list[str] = []
    for i, name in enumerate(padded[0]):
        name = name or f"Unnamed: {i}"
        base, n = name, 0
        while name in header:  # as pandas names a repeated header
            n += 1
            name = f"{base}.{n}"
        header.append(name)
    return pd.DataFrame(padded[1:], columns=header, dtype=str)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def frame_to_csv_bytes(frame: pd.DataFrame, float_format: str | None = None) -> bytes:
    """CSV as UTF-8 with a BOM (so Chinese Excel and WPS open it as UTF-8, not as garbled
    GBK) and '\\n' line ends (stable bytes), text cells neutralised."""
    return CSV_BOM + neutralise_frame(frame).to_csv(index=False, lineterminator="\n",
                                                    float_format=float_format).encode("utf-8")


def text_width(text: str) -> int:
    """Columns a text takes on screen: a CJK (wide or full-width) character counts two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _is_iso_dates(values: list) -> bool:
    """A text column whose every non-empty cell is a YYYY-MM-DD date (and at least one is)."""
    seen = False
    for v in values:
        if v is None:
            continue
        if not (isinstance(v, str) and ISO_DATE.fullmatch(v)):
            return False
        try:
            datetime.date.fromisoformat(v)
        except ValueError:
            return False
        seen = True
    return seen


def _sheet_cells(frame: pd.DataFrame) -> list[list]:
    """The frame's columns as workbook values: numbers as numbers, dates (datetime columns and
    text columns of ISO dates) as dates, missing as blank, everything else as text."""
    columns = []
    for i in range(frame.shape[1]):
        col = frame.iloc[:, i]
        if pd.api.types.is_datetime64_any_dtype(col):
            values = [None if pd.isna(v) else v.date() if v == v.normalize() else v.to_pydatetime() for v in col]
        elif pd.api.types.is_bool_dtype(col):
            values = [bool(v) for v in col]
        elif pd.api.types.is_numeric_dtype(col):
            values = [None if pd.isna(v) else v.item() if hasattr(v, "item") else v for v in col]
        else:
            values = [None if v is None or v == "" or (isinstance(v, float) and v != v) else v for v in col]
            if _is_iso_dates(values):
                values = [None if v is None else datetime.date.fromisoformat(v) for v in values]
        columns.append(values)
    return [list(row) for row in zip(*columns)] if columns else [[] for _ in range(len(frame))]


def _shown_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return "0000-00-00"  # as DATE_FORMAT shows it
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def _write_sheet(sheet, frame: pd.DataFrame) -> None:
    """One table on one worksheet: a bold frozen header row with an autofilter, cells typed
    (never formulas), date cells shown as yyyy-mm-dd, each column as wide as its widest cell."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    header = [str(c) for c in frame.columns]
    sheet.append(header)
    for row in _sheet_cells(frame):
        sheet.append(row)
    widths = [text_width(h) + 2 for h in header]  # room for the filter's drop-down button
    bold = Font(bold=True)
    for r, row in enumerate(sheet.iter_rows()):
        for c, cell in enumerate(row):
            if cell.data_type == "f":  # openpyxl takes any text starting with '=' for a formula
                cell.data_type = "s"
                cell.quotePrefix = True  # Excel keeps it text when the cell is edited
            if r == 0:
                cell.font = bold
            elif isinstance(cell.value, datetime.date) and not isinstance(cell.value, datetime.datetime):
                cell.number_format = DATE_FORMAT
            if r:
                widths[c] = max(widths[c], text_width(_shown_text(cell.value)))
    for c, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(c + 1)].width = min(MAX_COLUMN_WIDTH, width + 2)
    if header:
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(1, len(frame) + 1)}"


def sheets_to_xlsx_bytes(sheets: Mapping[str, pd.DataFrame], stamp: str = WORKBOOK_EPOCH) -> bytes:
    """One workbook, a sheet per frame, made to be worked with in Excel or WPS: typed cells
    (text never a formula, numbers as numbers, real date cells), a frozen header row with a
    filter, fitted column widths; the bytes depend only on the frames and `stamp` (an ISO UTC
    time for the document properties)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        _write_sheet(book.create_sheet(name[:31]), frame)
    buf = io.BytesIO()
    book.save(buf)
    return reproducible_xlsx(buf.getvalue(), stamp)


def frame_to_xlsx_bytes(frame: pd.DataFrame, sheet: str = "data") -> bytes:
    return sheets_to_xlsx_bytes({sheet: frame})


def reproducible_xlsx(data: bytes, stamp: str = WORKBOOK_EPOCH) -> bytes:
    """The same workbook with fixed zip entry times and fixed created/modified properties."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = blob.decode("utf-8")
                for tag in ("created", "modified"):
                    text = re.sub(rf"(<dcterms:{tag}\b[^>]*>)[^<]*(</dcterms:{tag}>)", rf"\g<1>{stamp}\g<2>", text)
                blob = text.encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, blob)
    return out.getvalue()


def write_table(frame: pd.DataFrame, path: Path, table: str | None = None) -> None:
    """Write `frame` atomically as .csv or .xlsx by the path's extension (cells neutralised);
    given `table`, its headers and enumerated values in the reader's language (domain.headers)."""
    path = Path(path)
    if table is not None:
        from riskplan.domain.headers import display_frame

        frame = display_frame(table, frame)
    if path.suffix.lower() == ".xlsx":
        atomic_write_bytes(path, frame_to_xlsx_bytes(frame, path.stem))
    else:
        atomic_write_bytes(path, frame_to_csv_bytes(frame))
