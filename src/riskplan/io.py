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

import contextlib
import datetime
import glob
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pandas as pd

TABLE_EXTENSIONS = (".csv", ".xlsx")
#: What an output path is: a folder of files or one file (see `refuse_existing`).
OUTPUT_KINDS = ("folder", "file")
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
    trailing blank rows and columns dropped, refused beyond `MAX_ROWS` / `MAX_COLUMNS`."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise TableReadError(path, f"is not a readable .xlsx workbook: {exc}") from None
    try:
        rows: list[list[str]] = []
        pending_blank = 0  # blank rows kept only if data follows them
        width = 0
        for values in book.worksheets[0].iter_rows(values_only=True):
            cells = [_cell_text(v) for v in values]
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


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `path` through a temp file and one rename, so after a crash at any step `path`
    holds the old bytes or the new ones, never a part. A link is written through, not replaced."""
    path = Path(path).resolve()
    _step("file-temp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_staging_prefix(path), suffix=_TEMP_FILE, dir=path.parent)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            _step("file-write")
            fh.write(data)
            fh.flush()
            _step("file-sync")
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual mode
        _step("file-replace")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _step("file-sync-folder")
    _fsync_folder(path.parent)
    _step("file-done")

def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


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


# ---------------------------------------------------------------- the output guard

#: Every output folder riskplan writes holds this file; `--force` replaces only such a folder.
OUTPUT_MARKER = ".riskplan-output"
_MARKER_TEXT = "Written by riskplan: `--force` may replace this folder with a new output.\n"
#: The table every district folder holds (domain.schema.ENTERPRISES); no output goes into such a folder.
_DISTRICT_TABLE = "enterprises"


class OutputRefused(FileExistsError):
    """An output path riskplan will not write (an input, a district folder, a folder riskplan
    did not write, a dangling link, an unwritable place). A FileExistsError, so every command
    reports it as bad input with exit status 2."""


def _step(name: str) -> None:
    """Called before each step of a write or a replace: tests make it fail or end the process
    there, to show that a crash at that step loses nothing."""


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (best effort: some file systems cannot sync a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _sync_tree(folder: Path) -> None:
    """Flush every file of a staged folder to disk before it is moved into place."""
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError), open(os.path.join(root, name), "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_folder(Path(root))


def _unwritable(path: Path, exc: OSError) -> OutputRefused:
    return OutputRefused(f"cannot write {path}: {exc.strerror or exc}")


def _parked(target: Path) -> Path:
    """Where the old output waits while the new one moves in (a fixed name, so a later run finds it)."""
    return target.parent / f".{target.name}.riskplan-old"


def _trash(target: Path) -> Path:
    return target.parent / f".{target.name}.riskplan-trash"


_STAGING_FOLDER, _TEMP_FILE = ".riskplan-new", ".tmp"


def _staging_prefix(target: Path) -> str:
    """Staging names carry the writer's process id, so a later run can tell a dead writer's leftovers."""
    return f".{target.name}.{os.getpid()}."


def _remove_stale(target: Path) -> None:
    """Remove the staging folders and temp files that processes no longer running left for `target`."""
    if not target.parent.is_dir():
        return
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*"):
        pid = stale.name[len(target.name) + 2:].split(".", 1)[0]
        if not (pid.isdigit() and stale.name.endswith((_STAGING_FOLDER, _TEMP_FILE))) or _pid_alive(int(pid)):
            continue
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    """Whether process `pid` still runs; on Windows, where `os.kill` would signal it, assume it does."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def restore_interrupted(path: Path | str) -> bool:
    """Finish a folder replace that a crash interrupted; True when the old output was put back.

    A replace parks the old folder under a fixed hidden name, moves the new one in, then drops
    the parked one. After a crash between the two moves only the parked folder is left: it goes
    back under its name (said on stderr). With both present the new one is complete and the
    parked one goes. Staging folders and temp files of writers that no longer run are removed.
    Every writer calls this before it looks at its output (`refuse_existing`), and the readers
    of a plan, public or district folder before they read it.
    """
    target = Path(path).resolve()
    parked, trash = _parked(target), _trash(target)
    restored = False
    try:
        if trash.is_dir() and not trash.is_symlink():
            shutil.rmtree(trash)
        if parked.is_dir() and not parked.is_symlink():
            if target.exists() or target.is_symlink():
                os.replace(parked, trash)
                shutil.rmtree(trash)
            else:
                os.replace(parked, target)
                _fsync_folder(target.parent)
                restored = True
                print(f"riskplan: restored {target} from before an interrupted replace "
                      f"(the new output was never completed)", file=sys.stderr)
        _remove_stale(target)
    except OSError as exc:
        raise OutputRefused(f"cannot finish the interrupted replace of {target}: {exc.strerror or exc}") from None
    return restored


def written_by_riskplan(folder: Path) -> bool:
    """A folder riskplan wrote: it holds the marker, or it is a plan folder from before the marker
    (a plan.json naming the riskplan version)."""
    folder = Path(folder)
    if (folder / OUTPUT_MARKER).is_file():
        return True
    try:
        return "riskplan_version" in json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


def _holds_district(folder: Path) -> bool:
    return any((folder / f"{_DISTRICT_TABLE}{ext}").is_file() for ext in TABLE_EXTENSIONS)


def _refuse_dangling(given: Path) -> None:
    for p in (given, *given.parents):
        if p.is_symlink() and not p.exists():
            raise OutputRefused(f"cannot write {given}: {p} is a symbolic link to {os.readlink(p)}, which does "
                                f"not exist; remove the link or make it point to an existing folder")


def _refuse_inputs(given: Path, target: Path, inputs: Iterable[Path | str | None]) -> None:
    for inp in inputs:
        if inp is None:
            continue
        source = Path(inp).resolve()
        if target == source:
            raise OutputRefused(f"the output {given} is {inp}, which this command reads; riskplan never writes "
                                f"over its inputs, with or without --force; choose another output")
        if target.is_relative_to(source):
            raise OutputRefused(f"the output {given} lies inside {inp}, which this command reads; riskplan never "
                                f"writes into its inputs, with or without --force; choose another output")
        if source.is_relative_to(target):
            raise OutputRefused(f"the output {given} contains {inp}, which this command reads; replacing it "
                                f"would delete that input, so it is refused even with --force; choose another output")


def _refuse_district(given: Path, target: Path, district_out: bool) -> None:
    if target.is_dir() and _holds_district(target) and not district_out:
        raise OutputRefused(f"the output {given} is the district folder {target}; riskplan never writes over a "
                            f"district's folder, with or without --force; choose another output")
    for folder in target.parents:
        if _holds_district(folder):
            raise OutputRefused(f"the output {given} lies inside the district folder {folder}; riskplan never "
                                f"writes into a district's folder, with or without --force; choose another output")


def _refuse_unwritable(given: Path, target: Path) -> None:
    place = target.parent
    while not (place.exists() or place == place.parent):
        place = place.parent
    if not place.is_dir():
        raise OutputRefused(f"cannot write {given}: {place} is a file, not a folder")
    if not os.access(place, os.W_OK | os.X_OK):
        raise OutputRefused(f"cannot write {given}: the folder {place} is not writable")


def refuse_existing(path: Path | str, force: bool = False, kind: str = "folder", *,
                    marker: str | None = None, holds: str | None = None,
                    inputs: Iterable[Path | str | None] = (), suffixes: tuple[str, ...] = (),
                    district_out: bool = False) -> Path:
    """The one guard every output path goes through (FileExistsError, exit 2 in the CLI); returns
    the path with links resolved.

    Refused with or without `force`, because writing would damage the bureau's files: a path
    that is, lies inside or contains one of `inputs` (what the command reads) or that is or
    lies inside a district folder (one holding the enterprises table; `district_out` lets the
    synthetic generator replace a district it wrote itself); a dangling link; a place that
    cannot be written. kind "folder": an existing non-empty folder is refused unless `force`,
    and `force` replaces only a folder riskplan wrote (`written_by_riskplan`: the marker file
    every output folder gets). kind "file": an existing file is refused unless `force`; with
    `force` it is replaced when it is not in any input or district folder and, given
    `suffixes`, ends in one of them (what the command writes). Something of the other kind at
    the path is refused even with `force`. `marker` and `holds` name what the folder holds when
    it contains `marker` (e.g. "plan.json", "a plan") for the message. Called early, before the
    work, so a refusal costs nothing; `atomic_output_dir` calls it again before the move. An
    interrupted replace at the path is finished first (`restore_interrupted`).
    """
    if kind not in OUTPUT_KINDS:
        raise ValueError(f"kind must be one of {OUTPUT_KINDS}, not {kind!r}")
    given = Path(path)
    _refuse_dangling(given)
    target = given.resolve()
    restore_interrupted(target)
    _refuse_inputs(given, target, inputs)
    _refuse_district(given, target, district_out)
    _refuse_unwritable(given, target)
    if not target.exists():
        return target
    if kind == "folder":
        if not target.is_dir():
            raise FileExistsError(f"{given} exists and is not a folder")
        if any(target.iterdir()):
            if not force:
                what = f"holds {holds}" if marker and holds and (target / marker).exists() else "exists and is not empty"
                raise FileExistsError(f"{given} already {what}; use --force to replace it")
            if not written_by_riskplan(target):
                raise OutputRefused(f"{given} was not written by riskplan (it has no {OUTPUT_MARKER} file), so --force "
                                    f"does not replace it; remove it yourself or choose another output")
            inner = next((p.parent for p in target.rglob(f"{_DISTRICT_TABLE}.*")
                          if p.suffix.lower() in TABLE_EXTENSIONS and p.parent != target), None)
            if inner is not None:
                raise OutputRefused(f"the output {given} contains the district folder {inner}; replacing it would "
                                    f"delete that district, so it is refused even with --force; choose another output")
    else:
        if target.is_dir():
            raise FileExistsError(f"{given} exists and is a folder, not a file")
        if not force:
            raise FileExistsError(f"{given} already exists; use --force to replace it")
        if suffixes and target.suffix.lower() not in suffixes:
            raise OutputRefused(f"{given} is not a {' or '.join(suffixes)} file, so --force does not replace it; "
                                f"remove it yourself or choose another output")
    return target


@contextlib.contextmanager
def atomic_output_dir(target: Path, force: bool = False, *, inputs: Iterable[Path | str | None] = (),
                      district_out: bool = False) -> Iterator[Path]:
    """Build a whole output folder in a sibling staging folder, then move it into place.

    Nothing appears at `target` unless the block finishes; an existing `target` is replaced
    only as `refuse_existing` allows. The folder gets the marker file that lets a later
    `--force` replace it. A replace parks the old folder under a fixed name first, so after a
    crash at any step the name holds the old or the new folder, or the next run that writes
    or reads it puts the old one back (`restore_interrupted`).
    """
    inputs = tuple(inputs)
    target = refuse_existing(target, force, "folder", inputs=inputs, district_out=district_out)
    _step("staging")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(target), suffix=_STAGING_FOLDER, dir=target.parent))
    except OSError as exc:
        raise _unwritable(target, exc) from None
    os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700; the output folder gets the usual mode
    try:
        yield staging
        _step("marker")
        (staging / OUTPUT_MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
        _step("sync")
        _sync_tree(staging)
        refuse_existing(target, force, "folder", inputs=inputs, district_out=district_out)
        _move_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _move_into_place(staging: Path, target: Path) -> None:
    """Park the old folder, move the new one in, drop the old one: each step one rename."""
    if not target.exists():
        _step("swap")
        os.replace(staging, target)
    else:
        parked, trash = _parked(target), _trash(target)
        _step("park")
        os.replace(target, parked)
        try:
            _step("swap")
            os.replace(staging, target)
        except BaseException:
            restore_interrupted(target)
            raise
        _step("drop")
        os.replace(parked, trash)
        _step("remove")
        shutil.rmtree(trash, ignore_errors=True)
    _step("sync-folder")
    _fsync_folder(target.parent)
    _step("done")
