"""The workspace on disk: a folder of district folders, each quarter's work beside its district.

    WORKSPACE/
      <district>/                      a district folder, as `riskplan validate` reads it
      <district>.quarters/<quarter>/
        plan/                          `riskplan plan --out` (roster, schedule, plan.json ...)
        public-plan/                   `riskplan publish --stage plan`
        results/                       uploaded results workbooks, as uploaded
        public-results/                `riskplan publish --stage results`
        whatif/                        `riskplan whatif --inspectors` (table, summary, charts)
      .riskplan-web/app.sqlite3        users, sessions, jobs, audit log (`store`)
      .riskplan-web/backups/           district folders as they were before an upload replaced them
      .riskplan-web/staging/           uploads being validated (removed afterwards)

Every name that comes from a request (district, quarter, file) is checked here against a strict
pattern or against the files that exist, never joined to a path as given.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from riskplan.domain.calendar import Quarter
from riskplan.load.district import District, DistrictError, Problem, load_district

APP_DIR = ".riskplan-web"
QUARTERS_SUFFIX = ".quarters"
#: District names: letters (Chinese too), digits, '-' and '_'; no dots, no slashes.
DISTRICT_NAME = re.compile(r"^[\w\-]{1,64}$")
#: Uploaded file names that a district folder may hold.
UPLOAD_SUFFIXES = (".csv", ".xlsx", ".toml")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_UPLOAD_FILES = 20
STAGES = ("plan", "public-plan", "results", "public-results", "whatif")


class WorkspaceError(ValueError):
    """A request names something the workspace does not hold (shown as 404 or 400)."""


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def app_dir(self) -> Path:
        return self.root / APP_DIR

    @property
    def database(self) -> Path:
        return self.app_dir / "app.sqlite3"

    def districts(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and DISTRICT_NAME.match(p.name) and not p.name.startswith("."))

    def district_dir(self, name: str, must_exist: bool = True) -> Path:
        if not DISTRICT_NAME.match(name or ""):
            raise WorkspaceError(name)
        path = self.root / name
        if must_exist and not path.is_dir():
            raise WorkspaceError(name)
        return path

    def quarter_dir(self, name: str, quarter: str) -> Path:
        q = str(Quarter.parse(quarter))  # ValueError on anything but a quarter
        if q != quarter:
            raise WorkspaceError(quarter)
        return self.root / f"{self.district_dir(name).name}{QUARTERS_SUFFIX}" / q

    def stage_dir(self, name: str, quarter: str, stage: str) -> Path:
        if stage not in STAGES:
            raise WorkspaceError(stage)
        return self.quarter_dir(name, quarter) / stage

    def quarters(self, name: str) -> list[str]:
        folder = self.root / f"{self.district_dir(name).name}{QUARTERS_SUFFIX}"
        if not folder.is_dir():
            return []
        found = []
        for p in folder.iterdir():
            try:
                if str(Quarter.parse(p.name)) == p.name and p.is_dir():
                    found.append(p.name)
            except ValueError:
                continue
        return sorted(found, reverse=True)

    def stage_file(self, name: str, quarter: str, stage: str, file: str) -> Path:
        """A file of a stage folder, only if it is one of the files there (no path from the request)."""
        folder = self.stage_dir(name, quarter, stage)
        files = {p.name: p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")} \
            if folder.is_dir() else {}
        if file not in files:
            raise WorkspaceError(file)
        return files[file]

    def stage_files(self, name: str, quarter: str, stage: str) -> list[str]:
        folder = self.stage_dir(name, quarter, stage)
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def safe_upload_name(filename: str) -> str | None:
    """The file name to store an upload under, or None when it is not a plain district file name
    (browsers send the bare name; a name with a folder in it did not come from a file picker)."""
    name = str(filename)
    if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name or len(name) > 128:
        return None
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        return None
    return name


@dataclass
class UploadOutcome:
    district: District | None
    problems: list[Problem]
    follow_ons: list[str]
    backup: Path | None = None


def replace_district(ws: Workspace, name: str, files: dict[str, bytes]) -> UploadOutcome:
    """Validate the uploaded files as a district folder with `load_district` (the validator of
    `riskplan validate`) and, only if they are valid, put them in place of the district's files.

    The upload is the district's complete set of tables; a policy.toml the district already has
    is kept unless one is uploaded. The old folder is moved to the backups first."""
    target = ws.district_dir(name, must_exist=False)
    staging = ws.app_dir / "staging" / f"{name}-{secrets.token_hex(4)}"
    staging.mkdir(parents=True)
    try:
        for file, data in files.items():
            (staging / file).write_bytes(data)
        policy = target / "policy.toml"
        if "policy.toml" not in files and policy.is_file():
            shutil.copy2(policy, staging / "policy.toml")
        try:
            load_district(staging)
        except DistrictError as exc:
            return UploadOutcome(None, exc.problems, [str(f) for f in exc.follow_ons])
        backup = None
        if target.exists():
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            backup = ws.app_dir / "backups" / f"{name}-{stamp}-{secrets.token_hex(2)}"
            backup.parent.mkdir(parents=True, exist_ok=True)
            target.rename(backup)
        staging.rename(target)
        return UploadOutcome(load_district(target), [], [], backup)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
