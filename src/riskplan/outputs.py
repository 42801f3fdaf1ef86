"""Where riskplan writes: the one output guard and replaces that survive a crash.

An `--out` never touches an input: it is refused when it is, holds or lies inside an input of
the command or a district folder, `--force` or not; `--force` replaces only what riskplan
wrote (a folder with the `.riskplan-output` marker, a file of the command's own kind). Every
write goes through a temporary file or folder and renames, each step a named hook (`_step`),
so after a kill at any step the name holds the complete old or new output, or the next
command restores it and says so (docs/outputs.md).
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from riskplan.i18n import N_, _

TABLE_EXTENSIONS = (".csv", ".xlsx")  # the table files a district folder holds

#: What an output path is: a folder of files or one file (see `refuse_existing`).
OUTPUT_KINDS = ("folder", "file")
#: What callers say a folder holds (`refuse_existing(holds=...)`), translated where shown.
HOLDS = (N_("a plan"),)

#: A backup riskplan makes of a bureau's file before changing it: `inspections.bak-20270405T101500.xlsx`
#: (a second one in the same second gets `-2`). The loader skips files named so: a backup is never
#: read as a second copy of the table.
BACKUP_STAMP = "%Y%m%dT%H%M%S"
BACKUP_NAME = re.compile(r"\.bak-\d{8}T\d{6}(-\d+)?$")


def backup_path(path: Path, now: datetime.datetime | None = None) -> Path:
    """Where to back up `path` beside itself; never the name of an existing file."""
    stamp = (now or datetime.datetime.now()).strftime(BACKUP_STAMP)
    candidate, n = path.with_name(f"{path.stem}.bak-{stamp}{path.suffix}"), 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}.bak-{stamp}-{n}{path.suffix}")
    return candidate


def is_backup(path: Path) -> bool:
    return BACKUP_NAME.search(Path(path).stem) is not None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
    return OutputRefused(_("cannot write {path}: {error}").format(path=path, error=exc.strerror or exc))


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
                print(_("riskplan: restored {path} from before an interrupted replace "
                        "(the new output was never completed)").format(path=target), file=sys.stderr)
        _remove_stale(target)
    except OSError as exc:
        raise OutputRefused(_("cannot finish the interrupted replace of {path}: {error}").format(
            path=target, error=exc.strerror or exc)) from None
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
            raise OutputRefused(_("cannot write {path}: {link} is a symbolic link to {target}, which does not "
                                  "exist; remove the link or make it point to an existing folder").format(
                path=given, link=p, target=os.readlink(p)))


def _refuse_inputs(given: Path, target: Path, inputs: Iterable[Path | str | None]) -> None:
    for inp in inputs:
        if inp is None:
            continue
        source = Path(inp).resolve()
        if target == source:
            raise OutputRefused(_("the output {path} is {input}, which this command reads; riskplan never writes "
                                  "over its inputs, with or without --force; choose another output").format(
                path=given, input=inp))
        if target.is_relative_to(source):
            raise OutputRefused(_("the output {path} lies inside {input}, which this command reads; riskplan never "
                                  "writes into its inputs, with or without --force; choose another output").format(
                path=given, input=inp))
        if source.is_relative_to(target):
            raise OutputRefused(_("the output {path} contains {input}, which this command reads; replacing it "
                                  "would delete that input, so it is refused even with --force; choose another "
                                  "output").format(path=given, input=inp))


def _refuse_district(given: Path, target: Path, district_out: bool) -> None:
    if target.is_dir() and _holds_district(target) and not district_out:
        raise OutputRefused(_("the output {path} is the district folder {folder}; riskplan never writes over a "
                              "district's folder, with or without --force; choose another output").format(
            path=given, folder=target))
    for folder in target.parents:
        if _holds_district(folder):
            raise OutputRefused(_("the output {path} lies inside the district folder {folder}; riskplan never "
                                  "writes into a district's folder, with or without --force; choose another "
                                  "output").format(path=given, folder=folder))


def _refuse_unwritable(given: Path, target: Path) -> None:
    place = target.parent
    while not (place.exists() or place == place.parent):
        place = place.parent
    if not place.is_dir():
        raise OutputRefused(_("cannot write {path}: {place} is a file, not a folder").format(path=given, place=place))
    if not os.access(place, os.W_OK | os.X_OK):
        raise OutputRefused(_("cannot write {path}: the folder {place} is not writable").format(
            path=given, place=place))


def refuse_existing(path: Path | str, force: bool = False, kind: str = "folder", *,
                    marker: str | None = None, holds: str | None = None,
                    inputs: Iterable[Path | str | None] = (), suffixes: tuple[str, ...] = (),
                    own: Callable[[Path], bool] | None = None, district_out: bool = False) -> Path:
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
    `suffixes`, ends in one of them (what the command writes) and, given `own`, is recognised by
it as a file the command wrote (its header, its generator tag). Something of the other kind at
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
            raise FileExistsError(_("{path} exists and is not a folder").format(path=given))
        if any(target.iterdir()):
            if not force:
                if marker and holds and (target / marker).exists():
                    raise FileExistsError(_("{path} already holds {what}; use --force to replace it").format(
                        path=given, what=_(holds)))
                raise FileExistsError(_("{path} already exists and is not empty; use --force to replace it").format(
                    path=given))
            if not written_by_riskplan(target):
                raise OutputRefused(_("{path} was not written by riskplan (it has no {marker} file), so --force "
                                      "does not replace it; remove it yourself or choose another output").format(
                    path=given, marker=OUTPUT_MARKER))
            inner = next((p.parent for p in target.rglob(f"{_DISTRICT_TABLE}.*")
                          if p.suffix.lower() in TABLE_EXTENSIONS and p.parent != target), None)
            if inner is not None:
                raise OutputRefused(_("the output {path} contains the district folder {folder}; replacing it would "
                                      "delete that district, so it is refused even with --force; choose another "
                                      "output").format(path=given, folder=inner))
    else:
        if target.is_dir():
            raise FileExistsError(_("{path} exists and is a folder, not a file").format(path=given))
        if not force:
            raise FileExistsError(_("{path} already exists; use --force to replace it").format(path=given))
        if suffixes and target.suffix.lower() not in suffixes:
            raise OutputRefused(_("{path} is not a {suffixes} file, so --force does not replace it; remove it "
                                  "yourself or choose another output").format(
                path=given, suffixes=_(" or ").join(suffixes)))
        if own is not None and not own(target):
            raise OutputRefused(_("{path} was not written by riskplan, so --force does not replace it; "
                                  "remove it yourself or choose another output").format(path=given))
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
