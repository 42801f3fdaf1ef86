"""The province run: every district of ROOT as one task on the Dask engine, resumable.

OUT/ holds:

    province.json            the province manifest: quarter, province seed, the seed rule, and per
                             district its folder, seed, fingerprint, state, reason, check result,
                             summary figures and the sha256 of every output file; wall times and
                             the engine used under "timing"
    province_summary.xlsx    the summary (summary.py), Chinese by default
    province_summary.html    the same with the chart, self-contained
    province_summary.png     the chart
    districts/<name>/plan/   the district's plan, as `riskplan plan` writes it
    districts/<name>/public/ its public spot-check files (with --publish)

A re-run with the same OUT resumes: a district whose fingerprint (inputs, seed, options,
model, versions; see districts.py) equals the manifest's, whose state was finished and whose
output files still have the recorded sha256 is not planned again. Every other district is
(re)planned; a failure stays that district's. The manifest is rewritten atomically after each
district, so a run cut short (a crash, Ctrl-C) resumes from where it stopped.

The districts go to the workers longest first, so the run does not end with one worker on a
long district while the others idle: each district's expected time is the task time an earlier
run recorded for it (OUT's own, or `times_from`, e.g. last quarter's OUT), else its input size
(`expected_seconds`). The order changes when a district is planned, never what is written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riskplan import __version__
from riskplan.analysis.cluster import Outcome, Progress, longest_first, open_engine, run_here, run_tasks
from riskplan.domain.calendar import Quarter
from riskplan.i18n import _, get_language
from riskplan.io import sha256_file
from riskplan.outputs import OUTPUT_MARKER, OutputRefused, atomic_write_text, refuse_existing, written_by_riskplan

from .districts import DistrictEntry, find_districts, fingerprint, input_bytes
from .seeds import SEED_RULE, district_seed
from .task import CRASHED, FINISHED, DistrictJob, output_files, plan_district

MANIFEST = "province.json"
DISTRICTS_DIR = "districts"
_MARKER = "Written by riskplan province: a later run with the same --out resumes this province.\n"


@dataclass
class ProvinceResult:
    out_dir: Path
    manifest: dict[str, Any]
    order: list[str]
    resumed: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def districts(self) -> dict[str, dict[str, Any]]:
        return self.manifest["districts"]

    def in_state(self, *states: str) -> list[str]:
        return [n for n in self.order if self.districts[n]["state"] in states]


def _prepare_out(out: Path, root: Path, entries: list[DistrictEntry]) -> dict[str, Any]:
    """Guard OUT (never an input, a district or a folder riskplan did not write) and return the
    previous run's manifest when OUT holds one ({} otherwise)."""
    inputs = (root, *(e.folder for e in entries))
    resuming = out.is_dir() and (out / MANIFEST).is_file() and written_by_riskplan(out)
    refuse_existing(out, resuming, "folder", inputs=inputs)
    if out.exists() and any(out.iterdir()) and not resuming:
        raise OutputRefused(_("{out} is not empty and holds no province run ({manifest}); choose a new or "
                              "empty folder").format(out=out, manifest=MANIFEST))
    out.mkdir(parents=True, exist_ok=True)
    if not (out / OUTPUT_MARKER).exists():
        atomic_write_text(out / OUTPUT_MARKER, _MARKER)
    if not resuming:
        return {}
    try:
        previous = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # an unreadable manifest: every district is planned again
    return previous if isinstance(previous, dict) else {}


def _unchanged(folder: Path, recorded: dict[str, str] | None) -> bool:
    return bool(recorded) and output_files(folder) == recorded


def _model_sha256() -> str:
    from riskplan.score.model_files import MODEL_FILE, default_model_dir

    try:
        return sha256_file(default_model_dir() / MODEL_FILE)
    except (OSError, ValueError):
        return ""  # no model installed: each district reports it as bad input


def read_task_times(path: Path | str) -> dict[str, float]:
    """Each district's task wall time recorded by an earlier province run (its OUT folder or
    its province.json); {} when there is none to read (a missing or unreadable file is no error:
    the times only order the tasks)."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return _task_times(manifest.get("districts", {}) if isinstance(manifest, dict) else {})


def _task_times(records: dict[str, Any]) -> dict[str, float]:
    times: dict[str, float] = {}
    for name, rec in records.items():
        seconds = (rec.get("timing") or {}).get("task_wall_time_s") if isinstance(rec, dict) else None
        if isinstance(seconds, (int, float)) and seconds > 0 and rec.get("state") in FINISHED:
            times[name] = float(seconds)
    return times


def expected_seconds(entries: list[DistrictEntry], recorded: dict[str, float]) -> dict[str, float]:
    """How long each district's task is expected to take, to start the longest first: its
    recorded time when an earlier run has one; else its input files' size in bytes, scaled by
    the median seconds per byte of the districts with a recorded time (by the size alone when
    none has one). The size tells an S district from an XL one, not two districts of one size."""
    size = {e.name: max(1, input_bytes(e.folder)) for e in entries}
    rates = sorted(recorded[n] / size[n] for n in size if n in recorded)
    rate = rates[len(rates) // 2] if rates else 1.0
    return {n: recorded.get(n, size[n] * rate) for n in size}


def run_province(root: Path | str, quarter: Quarter | str, seed: int, out_dir: Path | str, *,
                 scheduler: str | None = None, workers: int | None = None, time_limit: float = 60.0,
                 publish: bool = False, task_timeout: float | None = None,
                 whatif_levels: tuple[float, ...] = (), whatif_qualification: str = "hazchem",
                 times_from: Path | str | None = None,
                 progress: Callable[[Progress], None] | None = None,
                 on_district: Callable[[str, dict[str, Any]], None] | None = None) -> ProvinceResult:
    """Plan every district of ROOT for the quarter (module docstring); failures stay per district.

    `times_from`: an earlier province run (OUT or its province.json, e.g. last quarter's) whose
    recorded task times order this run's tasks, longest first; OUT's own earlier run counts too.
    One local worker (`workers=1`, no scheduler, no `task_timeout`) plans here, in this process."""
    from .summary import write_summary

    started = time.perf_counter()
    quarter = str(Quarter.parse(quarter) if isinstance(quarter, str) else quarter)
    root, out = Path(root), Path(out_dir)
    entries = find_districts(root)
    previous = _prepare_out(out, root, entries).get("districts", {})
    recorded = {**(read_task_times(times_from) if times_from else {}), **_task_times(previous)}
    lang = get_language()
    options = {"time_limit": float(time_limit), "publish": bool(publish), "lang": lang}
    if whatif_levels:  # only then: a province without what-if keeps the fingerprints it had
        options["whatif"] = {"levels": [float(f) for f in whatif_levels], "qualification": whatif_qualification}
    model = _model_sha256()
    records: dict[str, dict[str, Any]] = {}
    jobs: dict[str, DistrictJob] = {}
    resumed: list[str] = []
    for entry in entries:
        dseed = district_seed(seed, entry.name)
        print_ = fingerprint(entry.folder, quarter=quarter, seed=dseed, options=options, model_sha256=model)
        base = {"folder": str(entry.folder), "seed": dseed, "fingerprint": print_}
        old = previous.get(entry.name) or {}
        district_out = out / DISTRICTS_DIR / entry.name
        if (old.get("fingerprint") == print_ and old.get("state") in FINISHED
                and _unchanged(district_out, old.get("outputs"))):
            records[entry.name] = {**old, **base}
            resumed.append(entry.name)
        else:
            records[entry.name] = {**base, "state": "waiting", "reason": ""}
            jobs[entry.name] = DistrictJob(entry.name, str(entry.folder), quarter, dseed, float(time_limit),
                                           str(district_out), bool(publish), lang, tuple(whatif_levels),
                                           whatif_qualification)
    manifest: dict[str, Any] = {
        "riskplan_version": __version__, "quarter": quarter, "province_seed": int(seed), "seed_rule": SEED_RULE,
        "options": options, "districts": records,
        "timing": {"engine": None, "total_wall_time_s": None, "resumed": resumed},
    }
    _write_manifest(out, manifest)

    def record(outcome: Outcome) -> None:
        rec = records[outcome.name]
        rec.pop("timing", None)
        rec["workers"] = outcome.workers
        if outcome.state == "finished":
            rec.update({"figures": {}, "outputs": {}, "check": {}, **outcome.value})
        else:
            rec.update({"state": outcome.state, "reason": outcome.reason, "figures": {}, "outputs": {}, "check": {}})
        _write_manifest(out, manifest)
        if on_district:
            on_district(outcome.name, rec)

    succeeded = lambda value: value.get("state") in FINISHED  # noqa: E731
    if jobs and not scheduler and workers == 1 and task_timeout is None:
        manifest["timing"]["engine"] = {"scheduler": None, "local": True, "workers": 1, "dashboard": None}
        outcomes = run_here(plan_district, jobs, on_progress=progress, on_outcome=record, succeeded=succeeded)
    elif jobs:
        expected = expected_seconds([e for e in entries if e.name in jobs], recorded)
        with open_engine(scheduler, workers) as engine:
            manifest["timing"]["engine"] = {"scheduler": engine.address, "local": engine.local,
                                            "workers": engine.workers, "dashboard": engine.dashboard}
            outcomes = run_tasks(engine, plan_district, jobs, timeout=task_timeout, on_progress=progress,
                                 on_outcome=record, succeeded=succeeded, priority=longest_first(expected))
        for name in jobs:
            if name not in outcomes:  # never reported (the run was stopped): planned next time
                records[name].update({"state": CRASHED, "reason": _("the run stopped before this district finished")})
    manifest["timing"]["total_wall_time_s"] = round(time.perf_counter() - started, 3)
    order = [e.name for e in entries]
    files = write_summary(out, manifest, order)
    _write_manifest(out, manifest)
    return ProvinceResult(out, manifest, order, resumed, files)


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    atomic_write_text(out / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
