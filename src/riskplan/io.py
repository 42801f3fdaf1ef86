"""Reading and writing tables at the edges of the pipeline.

Reading: a table may come as `NAME.csv` or `NAME.xlsx` (not both). CSV is UTF-8 (with
or without BOM) or GB18030, which is what Chinese Excel exports. Everything is read as
text so the validator can report each bad cell with its spreadsheet row.

Writing: every output goes through a temporary file in the same folder and an
`os.replace`, so a crash or a refused input never leaves a half-written file.

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
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

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


class TableReadError(ValueError):
    """A table file that cannot be read at all (encoding, format, both formats present)."""

    def __init__(self, path: Path, message: str):
        self.path = Path(path)
        self.message = message
        super().__init__(f"{self.path.name}: {message}")


def find_table(folder: Path, name: str) -> Path | None:
    """The file holding table `name` in `folder`, or None; both formats present is an error."""
    found = [folder / f"{name}{ext}" for ext in TABLE_EXTENSIONS if (folder / f"{name}{ext}").exists()]
    if len(found) > 1:
        raise TableReadError(found[0], f"both {name}.csv and {name}.xlsx are present; keep one")
    return found[0] if found else None


def decode_csv_bytes(raw: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableReadError(path, "is neither UTF-8 nor GB18030 text; save it as CSV UTF-8 from Excel")


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


def read_csv_text(path: Path) -> pd.DataFrame:
    """One of riskplan's own CSV outputs, every cell as text exactly as written (unquoted)."""
    return unquote_frame(pd.read_csv(path, dtype=str, keep_default_na=False))


def read_table_text(path: Path) -> pd.DataFrame:
    """All cells as stripped strings ('' for empty), header names stripped.

    A CSV cell neutralised by riskplan's writers (or by a careful clerk) reads as its text.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        text = decode_csv_bytes(path.read_bytes(), path)
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=False)
        except pd.errors.EmptyDataError:
            raise TableReadError(path, "is empty (no header row)") from None
        except pd.errors.ParserError as exc:
            raise TableReadError(path, f"is not a well-formed CSV file: {exc}") from None
        frame = unquote_frame(frame) if len(frame.columns) else frame
    elif path.suffix.lower() == ".xlsx":
        frame = _read_xlsx_text(path)
    else:
        raise TableReadError(path, "has an unsupported extension (use .csv or .xlsx)")
    if frame.shape[1] > MAX_COLUMNS:
        raise TableReadError(path, f"has {frame.shape[1]} columns; a table has at most {MAX_COLUMNS}")
    if len(frame) > MAX_ROWS:
        raise TableReadError(path, f"has more than {MAX_ROWS} rows; split it or remove the rows that are not data")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.apply(lambda col: col.str.strip()) if len(frame.columns) else frame


def _cell_text(value) -> str:
    """A workbook cell as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _read_xlsx_text(path: Path) -> pd.DataFrame:
    """The first sheet as text, streamed (a workbook's styled or blank rows cost no memory),
    trailing blank rows and columns dropped, refused beyond `MAX_ROWS` / `MAX_COLUMNS`.

    Read with calamine (a compiled reader, through python-calamine) rather than openpyxl: it
    reads the cached values the same way but spends nanoseconds, not microseconds, on a blank
    cell, so a workbook padded with a million blank rows validates in seconds."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for a broken workbook
        raise TableReadError(path, f"is not a readable .xlsx workbook: {exc}") from None
    try:
        rows: list[list[str]] = []
        pending_blank = 0  # blank rows kept only if data follows them
        width = 0
        sheet = book.get_sheet_by_index(0)
        # calamine's rows begin at row 1 but its columns at the first used one: put back the
        # empty columns before it, so column letters stay as the user sees them
        left = sheet.start[1] if sheet.start is not None else 0
        for values in sheet.iter_rows():
            cells = [""] * left + [_cell_text(v) for v in values]
            used = [i for i, c in enumerate(cells) if c.strip()]
            if not used:
                pending_blank += 1
                continue
            width = max(width, used[-1] + 1)
            if width > MAX_COLUMNS:
                raise TableReadError(path, f"has a cell in column {width}; a table has at most {MAX_COLUMNS} columns")
            if len(rows) - 1 >= MAX_ROWS:
                raise TableReadError(path, f"has more than {MAX_ROWS} rows; split it or remove the rows "
                                           f"that are not data")
            if rows:
                rows.extend([[]] * pending_blank)
            pending_blank = 0
            rows.append(cells)
    except TableReadError:
        raise
    except Exception as exc:
        raise TableReadError(path, f"is not a readable .xlsx workbook: {exc}") from None
    finally:
        book.close()
    if not rows:
        raise TableReadError(path, "is empty (no header row)")
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
    """CSV as UTF-8 with '\\n' line ends (stable bytes), text cells neutralised."""
    return neutralise_frame(frame).to_csv(index=False, lineterminator="\n",
                                          float_format=float_format).encode("utf-8")


def sheets_to_xlsx_bytes(sheets: Mapping[str, pd.DataFrame], stamp: str = WORKBOOK_EPOCH) -> bytes:
    """One workbook, a sheet per frame: text cells typed as text, never formulas; the bytes
    depend only on the frames and `stamp` (an ISO UTC time for the document properties)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, index=False, sheet_name=name[:31])
        for sheet in writer.book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":  # openpyxl takes any text starting with '=' for a formula
                        cell.data_type = "s"
                        cell.quotePrefix = True  # Excel keeps it text when the cell is edited
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


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write `frame` atomically as .csv or .xlsx by the path's extension (cells neutralised)."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        atomic_write_bytes(path, frame_to_xlsx_bytes(frame, path.stem))
    else:
        atomic_write_bytes(path, frame_to_csv_bytes(frame))
