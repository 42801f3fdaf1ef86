"""Render the report in a real headless Chromium: no console error, a screenshot to look at,
and its Chinese drawn in a real font (no tofu boxes).

Chromium comes from Debian's packages (`.ci/run` installs it, with fonts-noto-cjk). Outside CI
a machine without it skips this test; in CI (CI=true) a missing browser is a failure, not a skip.

Tofu is told apart by drawing: a font's glyphs for different characters differ, while the
"missing glyph" box is the same for every character (and the same as for a private-use one).
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import QUARTER

from riskplan.export.report import write_report
from riskplan.pipeline import run_plan

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FC_LIST = shutil.which("fc-list")
HAS_CJK_FONT = bool(FC_LIST) and "CJK" in subprocess.run([FC_LIST, ":lang=zh", "family"], capture_output=True,
                                                         text=True).stdout

#: Measures the text of an element in the page: its width, and each character drawn in the
#: element's font on a canvas (as data URLs), against a private-use character no font has.
PROBE = """<pre id="probe"></pre><script>
function shot(ch, font) {
  const c = document.createElement("canvas"); c.width = 48; c.height = 48;
  const g = c.getContext("2d"); g.font = font; g.fillText(ch, 2, 36); return c.toDataURL();
}
const el = document.querySelector(%(selector)s);
const font = "32px " + getComputedStyle(el).fontFamily;
const chars = [...new Set([...%(chars)s])];
const none = shot("\\uE000", font);
const shots = chars.map(ch => shot(ch, font));
document.getElementById("probe").textContent = JSON.stringify({width: el.getBoundingClientRect().width,
  chars: chars.length, distinct: new Set(shots).size, tofu: shots.filter(s => s === none).length});
</script>"""


def render(html: Path, screenshot: Path, profile: Path) -> str:
    """Chromium's log of the page (console messages appear as CONSOLE lines)."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
           "--window-size=1280,3200", f"--screenshot={screenshot}", html.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def probe_text(html: Path, selector: str, chars: str | None, profile: Path) -> dict:
    """What PROBE measures of the element `selector` (its own text, or `chars`) in Chromium."""
    page = html.read_text(encoding="utf-8")
    text = chars if chars is not None else re.search(r'<h1 id="title">([^<]*)</h1>', page).group(1)
    cjk = "".join(c for c in text if "\u3400" <= c <= "\u9fff" or "\ue000" <= c <= "\uf8ff")
    probed = html.with_name("probed.html")
    probed.write_text(page.replace("</body>", PROBE % {"selector": json.dumps(selector), "chars": json.dumps(cjk)}
                                   + "</body>"), encoding="utf-8")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
           "--virtual-time-budget=5000", "--dump-dom", probed.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(re.search(r'<pre id="probe">([^<]*)</pre>', done.stdout).group(1))


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="chromium not installed")
def test_report_renders_without_console_errors(tiny_district, tmp_path):
    assert CHROMIUM is not None, "CI must install chromium (see .ci/run)"
    district = tiny_district()
    out = tmp_path / "out"
    run_plan(district.path, QUARTER, 5, district.tiers_csv, out_dir=out, time_limit=10)
    page = write_report(district.path, out, tmp_path / "report.html", lang="zh")
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


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="chromium not installed")
@pytest.mark.skipif(not HAS_CJK_FONT and not os.environ.get("CI"),
                    reason="no CJK font installed (Debian: apt-get install fonts-noto-cjk)")
def test_report_chinese_renders_in_a_real_font(tiny_district, tmp_path):
    district = tiny_district()
    out = tmp_path / "out"
    run_plan(district.path, QUARTER, 5, district.tiers_csv, out_dir=out, time_limit=10)
    page = write_report(district.path, out, tmp_path / "report.html", lang="zh")
    seen = probe_text(page, "#title", None, tmp_path / "profile")
    assert seen["chars"] >= 6 and seen["width"] > 100, seen
    assert seen["tofu"] == 0 and seen["distinct"] == seen["chars"], seen


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
def test_tofu_would_be_caught(tmp_path):
    """The probe's twin: characters no font has all draw as the same box, and are counted as tofu."""
    page = tmp_path / "page.html"
    page.write_text('<html><body><h1 id="title">x</h1></body></html>', encoding="utf-8")
    seen = probe_text(page, "#title", "\ue001\ue002\ue003", tmp_path / "profile")
    assert seen["chars"] == 3 and seen["distinct"] < 3 and seen["tofu"] == 3, seen
