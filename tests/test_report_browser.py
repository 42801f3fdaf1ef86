"""Render the report in a real headless Chromium: no console error, and a screenshot to look at.

Chromium comes from Debian's packages (`.ci/run` installs it). Outside CI a machine without
it skips this test; in CI (CI=true) a missing browser is a failure, not a skip.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import QUARTER

from riskplan.export.report import write_report
from riskplan.pipeline import run_plan

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def render(html: Path, screenshot: Path, profile: Path) -> str:
    """Chromium's log of the page (console messages appear as CONSOLE lines)."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
           "--window-size=1280,3200", f"--screenshot={screenshot}", html.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="chromium not installed")
def test_report_renders_without_console_errors(tiny_district, tmp_path):
    assert CHROMIUM is not None, "CI must install chromium (see .ci/run)"
    district = tiny_district()
    out = tmp_path / "out"
    run_plan(district.path, QUARTER, 5, district.tiers_csv, out_dir=out, time_limit=10)
    page = write_report(district.path, out, tmp_path / "report.html")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    log = render(page, shot, tmp_path / "profile")
    console = [line for line in log.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
def test_console_errors_would_be_caught(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text("<html><body><script>notAFunction();</script></body></html>")
    log = render(page, tmp_path / "bad.png", tmp_path / "profile")
    assert any(":CONSOLE" in line and "notAFunction" in line for line in log.splitlines())
