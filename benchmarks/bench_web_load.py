"""Load check of the web workspace: 20 concurrent page loads while a plan of an S district runs.

    python -m pytest benchmarks/bench_web_load.py -m slow -s

A real `riskplan serve` process; the planner starts the quarter's plan, then 20 clients load
pages at once (districts, the district, tiers, the job's progress, the audit log). Printed:
every answer's status and the slowest and median latency; asserted: all answered 200, and the
plan the job wrote is byte-identical to `run_plan` with the same inputs and seed outside the
server (the load did not change it) and passes the checker.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from districts import district_path

from riskplan.check.checker import check_roster
from riskplan.cli import main
from riskplan.i18n import language
from riskplan.pipeline import run_plan

PASSWORD = "load check 123"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PAGES = ["/", "/d/S", "/d/S/tiers", "/audit"]
CLIENTS = 20


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _signed_in(base: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=120)
    token = CSRF.search(c.get("/login").text).group(1)
    assert c.post("/login", data={"csrf": token, "name": "plan", "password": PASSWORD}).status_code == 303
    return c


@pytest.mark.slow
def test_20_concurrent_page_loads_while_a_plan_runs(tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(district_path("S", 1), ws / "S", ignore=shutil.ignore_patterns(".*"))
    done = CliRunner().invoke(main, ["serve", "--workspace", str(ws), "--add-user", "plan", "--role", "planner"],
                              env={"RISKPLAN_PASSWORD": PASSWORD})
    assert done.exit_code == 0, done.output
    port = _port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen([sys.executable, "-m", "riskplan", "serve", "--workspace", str(ws), "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        planner = _signed_in(base)
        token = CSRF.search(planner.get("/d/S").text).group(1)
        r = planner.post("/d/S/plan", data={"csrf": token, "quarter": "2027Q1", "seed": "3", "time_limit": "120"})
        job = r.headers["location"]
        clients = [_signed_in(base) for _ in range(CLIENTS)]
        pages = PAGES + [job + "/status"]
        paths = [pages[i % len(pages)] for i in range(CLIENTS)]

        def load(args):
            c, path = args
            t0 = time.perf_counter()
            status = c.get(path).status_code
            return path, status, time.perf_counter() - t0

        state = re.search(r'data-state="(\w+)"', planner.get(job + "/status").text).group(1)
        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = list(pool.map(load, zip(clients, paths)))
        latencies = [t for _p, _s, t in answers]
        print(f"\n{CLIENTS} concurrent loads while the plan was {state}: statuses "
              f"{sorted({s for _p, s, _t in answers})}, median {statistics.median(latencies):.2f} s, "
              f"slowest {max(latencies):.2f} s")
        assert all(s == 200 for _p, s, _t in answers), answers
        deadline = time.monotonic() + 600
        while re.search(r'data-state="(queued|running)"', planner.get(job + "/status").text):
            assert time.monotonic() < deadline
            time.sleep(1)
        assert 'data-state="done"' in planner.get(job + "/status").text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    served = ws / "S.quarters" / "2027Q1" / "plan"
    alone = tmp_path / "alone"
    with language("zh"):  # the job plans in its user's language, Chinese by default
        run_plan(ws / "S", "2027Q1", 3, out_dir=alone, time_limit=120)
    assert (served / "roster.csv").read_bytes() == (alone / "roster.csv").read_bytes()
    assert check_roster(ws / "S", served) == []
