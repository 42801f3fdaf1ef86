"""Helpers of the province tests: a real Dask cluster as separate processes, small generated
districts, single `riskplan plan` runs to compare with, and the byte-for-byte comparison.

`DaskProcesses` starts `dask scheduler` and `dask worker` processes (python -m dask ...) on
127.0.0.1 with ports the OS chooses (port 0; the scheduler writes its address to a
--scheduler-file), each in its own session so a test can kill one worker (nanny and worker
process) for good, and stops them all when closed.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner

from riskplan.cli import main

QUARTER = "2027Q1"
#: The four small districts of the province tests: name -> generator seed.
DISTRICTS = {"east": 1, "west": 2, "north": 3, "south": 4}
TIME_LIMIT = 10.0
START_TIMEOUT = 60.0


def documented_seed(province_seed: int, name: str) -> int:
    """The rule docs/province.md states, written out again here (not imported from riskplan)."""
    return int(hashlib.sha256(f"{province_seed}:{name}".encode("utf-8")).hexdigest()[:8], 16)


def make_district(folder: Path, seed: int, n_enterprises: int = 40, n_inspectors: int = 4) -> Path:
    from riskplan.synth.district import generate_district

    generate_district(folder, seed=seed, n_enterprises=n_enterprises, n_inspectors=n_inspectors, years=2)
    return folder


def make_province(root: Path, districts: dict[str, int] = DISTRICTS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, seed in districts.items():
        make_district(root / name, seed)
    return root


def plan_alone(district: Path, seed: int, out: Path, *extra: str) -> Path:
    """`riskplan plan` on one district, as a bureau would run it."""
    result = CliRunner().invoke(main, ["plan", str(district), "--quarter", QUARTER, "--seed", str(seed),
                                       "--out", str(out), "--time-limit", str(TIME_LIMIT), *extra])
    assert result.exit_code == 0, result.output
    return out


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _without_wall_times(plan_json: bytes) -> dict:
    """plan.json less its wall times: the one thing two runs of `riskplan plan` on the same
    input never share (everything else, the file's bytes included, must be equal)."""
    record = json.loads(plan_json)
    record.pop("timing")
    return record


def assert_same_plan(alone: Path, province: Path) -> None:
    """Every file of a plan folder equal byte for byte (plan.json: but for its wall times)."""
    a, b = files_of(alone), files_of(province)
    assert sorted(a) == sorted(b)
    for name in a:
        if name == "plan.json":
            assert _without_wall_times(a[name]) == _without_wall_times(b[name])
            strip = lambda data: b"\n".join(  # noqa: E731 - the bytes, timing lines aside
                line for line in data.splitlines() if b"wall_time_s" not in line)
            assert strip(a[name]) == strip(b[name]), name
        else:
            assert a[name] == b[name], name


@dataclass
class DaskProcesses:
    folder: Path
    address: str = ""
    scheduler: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)

    def _start(self, *args: str, log: str) -> subprocess.Popen:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[1] / "src"),
                                             *filter(None, [env.get("PYTHONPATH")])])
        out = open(self.folder / log, "wb")  # noqa: SIM115 - closed with the process
        return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=out, stderr=subprocess.STDOUT,
                                env=env, cwd=self.folder, start_new_session=True)

    def start(self, n_workers: int = 2) -> DaskProcesses:
        self.folder.mkdir(parents=True, exist_ok=True)
        address_file = self.folder / "scheduler.json"
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                     "--scheduler-file", str(address_file), log="scheduler.log")
        deadline = time.monotonic() + START_TIMEOUT
        while not address_file.is_file():
            assert self.scheduler.poll() is None, (self.folder / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        while not self.address:
            try:
                self.address = json.loads(address_file.read_text())["address"]
            except ValueError:  # written but not yet complete
                time.sleep(0.1)
        for i in range(n_workers):
            self.add_worker(f"w{i}")
        self.wait_for_workers(n_workers)
        return self

    def add_worker(self, name: str) -> None:
        self.workers.append(self._start("worker", self.address, "--host", "127.0.0.1", "--nthreads", "1",
                                        "--nworkers", "1", "--no-dashboard", "--name", name,
                                        "--local-directory", str(self.folder / name),
                                        log=f"{name}.log"))

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=START_TIMEOUT) as client:
            client.wait_for_workers(n, timeout=START_TIMEOUT)

    def worker_addresses(self) -> dict[str, str]:
        """Worker name -> address, as the scheduler knows them."""
        from distributed import Client

        with Client(self.address, timeout=START_TIMEOUT) as client:
            return {w["name"]: a for a, w in client.scheduler_info()["workers"].items()}

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker and its nanny: no goodbye to the scheduler, no restart."""
        process = self.workers[int(name.lstrip("w"))]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def close(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*self.workers, self.scheduler]:
            if process is None:
                continue
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
