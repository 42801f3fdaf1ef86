"""Which districts a province folder holds, and the fingerprint that decides whether a district
must be planned again.

ROOT holds one folder per district (hidden folders, starting with "." or "_", are not
districts), or a `districts.csv` / `districts.xlsx` listing them: column `folder` (relative to
ROOT or absolute) and optionally `name` (default: the folder's name). A listed folder that is
missing is reported for that district alone, like any other bad input.

The fingerprint is sha256 of everything a district's outputs depend on: the sha256 of every
input file riskplan reads (the seven tables, policy.toml), the shipped scoring model, the
quarter, the district seed, the options and the riskplan and OR-Tools versions. Same
fingerprint and unchanged output files = nothing to recompute (fingerprints, never timestamps).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from riskplan import __version__
from riskplan.domain.headers import canonical_headers
from riskplan.domain.schema import TABLES
from riskplan.i18n import _
from riskplan.io import TableReadError, find_table, read_table_text, sha256_file
from riskplan.load.district import POLICY_FILE, DistrictError, Problem

LISTING = "districts"  # districts.csv or districts.xlsx in ROOT
#: A district name becomes a folder name under OUT/districts/: no separators, no leading dot.
_BAD_NAME = re.compile(r"[/\\\x00-\x1f]|^\.|^$")


@dataclass(frozen=True)
class DistrictEntry:
    name: str
    folder: Path


def _hidden(path: Path) -> bool:
    return path.name.startswith((".", "_"))


def find_districts(root: Path | str) -> list[DistrictEntry]:
    """The districts of ROOT, by name (module docstring); DistrictError when ROOT names none."""
    root = Path(root)
    if not root.is_dir():
        raise DistrictError([Problem(str(root), _("is not a folder of districts"))])
    listing = find_table(root, LISTING)
    if listing is not None:
        return _listed(root, listing)
    entries = [DistrictEntry(p.name, p.resolve()) for p in sorted(root.iterdir())
               if p.is_dir() and not _hidden(p)]
    if not entries:
        raise DistrictError([Problem(str(root), _("holds no district folder (one folder per district, "
                                                  "or a districts.csv listing them)"))])
    return entries


def _listed(root: Path, listing: Path) -> list[DistrictEntry]:
    raw = read_table_text(listing)
    raw.columns = canonical_headers(LISTING, raw.columns)
    if "folder" not in raw.columns:
        raise DistrictError([Problem(listing.name, _("the column of district folders is missing"), row=1, column="folder")])
    problems: list[Problem] = []
    entries: list[DistrictEntry] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(raw.to_dict("records")):
        line = i + 2  # the spreadsheet row: the header is row 1
        folder_text = row["folder"]
        if not folder_text:
            problems.append(Problem(listing.name, _("the district folder is empty"), row=line, column="folder"))
            continue
        folder = Path(folder_text)
        folder = folder if folder.is_absolute() else root / folder
        name = row.get("name") or folder.name
        if _BAD_NAME.search(name):
            problems.append(Problem(listing.name, _("\"{name}\" cannot be a district name (no slashes, no "
                                                    "leading dot)").format(name=name), row=line, column="name"))
            continue
        if name in seen:
            problems.append(Problem(listing.name, _("district \"{name}\" is listed twice (first in row {first})")
                                    .format(name=name, first=seen[name]), row=line, column="name"))
            continue
        seen[name] = line
        entries.append(DistrictEntry(name, folder.resolve()))
    if problems:
        raise DistrictError(problems)
    if not entries:
        raise DistrictError([Problem(listing.name, _("lists no district"))])
    return entries


def _input_paths(folder: Path) -> list[Path]:
    """Every file `load_district` reads in `folder` ([] if it is no folder)."""
    if not folder.is_dir():
        return []
    files = [folder / POLICY_FILE]
    for spec in TABLES:
        try:
            files.append(find_table(folder, spec.name))
        except TableReadError:  # both formats present: the task reports it as bad input
            files += [folder / f"{spec.name}{ext}" for ext in (".csv", ".xlsx")]
    return sorted(f for f in files if f is not None and f.is_file())


def input_files(folder: Path) -> dict[str, str]:
    """sha256 of every file `load_district` reads in `folder`, by file name ({} if it is no folder)."""
    return {p.name: sha256_file(p) for p in _input_paths(folder)}


def input_bytes(folder: Path) -> int:
    """The size of the district's input files: a rough, free measure of how long it takes to
    plan (an XL district's files are many times an S district's)."""
    return sum(p.stat().st_size for p in _input_paths(folder))


def fingerprint(folder: Path, *, quarter: str, seed: int, options: dict[str, Any], model_sha256: str) -> str:
    """The district's fingerprint (module docstring)."""
    try:
        import ortools

        ortools_version = ortools.__version__
    except ImportError:  # pragma: no cover - ortools is a dependency
        ortools_version = None
    record = {"inputs": input_files(folder), "quarter": quarter, "seed": seed, "options": options,
              "model_sha256": model_sha256, "riskplan": __version__, "ortools": ortools_version}
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode("utf-8")).hexdigest()
