"""The web workspace (`riskplan serve`) as a real server process driven over HTTP: sign-in,
roles and what each may see, CSRF, uploads validated like `riskplan validate`, a plan job run to
completion and judged by the independent checker, publication, the audit log, the language.

One server for the module (a small generated district in a fresh workspace); accounts made with
`riskplan serve --create-admin` and `riskplan users add`, as a bureau makes them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from riskplan.check.checker import check_roster
from riskplan.cli import main
from riskplan.io import read_csv_text
from riskplan.load.district import DistrictError, load_district
from riskplan.synth.district import generate_district

PASSWORD = "correct horse 1"
USERS = {"boss": "admin", "plan": "planner", "chief": "chief", "insp": "inspector", "view": "viewer"}
QUARTER = "2027Q1"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_workspace(root: Path) -> Path:
    ws = root / "ws"
    generate_district(ws / "demo", size="S", seed=3, n_enterprises=60, n_inspectors=6, years=1)
    runner = CliRunner()
    for name, role in USERS.items():
        args = (["serve", "--workspace", str(ws), "--create-admin", name] if role == "admin"
                else ["users", "add", name, "--role", role, "--workspace", str(ws)])
        done = runner.invoke(main, args, env={"RISKPLAN_PASSWORD": PASSWORD})
        assert done.exit_code == 0, done.output
    return ws


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(base URL, workspace) of a `riskplan serve` process on a free port of 127.0.0.1."""
    ws = make_workspace(tmp_path_factory.mktemp("web"))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    log = (ws.parent / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "riskplan", "serve", "--workspace", str(ws), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, (ws.parent / "server.log").read_text()
                time.sleep(0.1)
        yield base, ws
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def client(base: str, user: str | None = None) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=30)
    if user is not None:
        page = c.get("/login")
        token = CSRF.search(page.text).group(1)
        r = c.post("/login", data={"csrf": token, "name": user, "password": PASSWORD, "next": "/"})
        assert r.status_code == 303, r.text
    return c


def csrf_of(c: httpx.Client, path: str = "/") -> str:
    return CSRF.search(c.get(path).text).group(1)


def wait_for(c: httpx.Client, job_url: str, limit: float = 120) -> str:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        state = re.search(r'data-state="(\w+)"', c.get(job_url + "/status").text).group(1)
        if state not in ("queued", "running"):
            return state
        time.sleep(0.3)
    raise AssertionError(f"{job_url} still running after {limit} s")


@pytest.fixture(scope="module")
def planned(server):
    """The quarter planned through the page by the planner; (client, job URL, plan folder)."""
    base, ws = server
    c = client(base, "plan")
    token = csrf_of(c, "/d/demo")
    r = c.post("/d/demo/plan", data={"csrf": token, "quarter": QUARTER, "seed": "7", "time_limit": "20"})
    assert r.status_code == 303, r.text
    job = r.headers["location"]
    again = c.post("/d/demo/plan", data={"csrf": token, "quarter": QUARTER, "seed": "7", "time_limit": "20"})
    assert again.status_code == 409  # one plan of a quarter at a time
    assert wait_for(c, job) == "done", c.get(job).text
    return c, job, ws / "demo.quarters" / QUARTER / "plan"


def files_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


# ------------------------------------------------------------------------------ sign-in

def test_signed_out_requests_go_to_the_login_page(server):
    base, _ws = server
    c = client(base)
    for path in ("/", "/d/demo", f"/d/demo/q/{QUARTER}/calendar", f"/d/demo/q/{QUARTER}/files/plan/roster.csv",
                 "/audit"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    r = c.post("/d/demo/plan", data={"quarter": QUARTER, "seed": "1"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_wrong_password_gives_no_session(server):
    base, _ws = server
    c = client(base)
    token = CSRF.search(c.get("/login").text).group(1)
    r = c.post("/login", data={"csrf": token, "name": "plan", "password": "wrong password"})
    assert r.status_code == 401 and "riskplan_session" not in r.cookies
    assert c.get("/").status_code == 303


def test_session_cookie_is_httponly_and_samesite(server):
    base, _ws = server
    c = client(base)
    token = CSRF.search(c.get("/login").text).group(1)
    r = c.post("/login", data={"csrf": token, "name": "view", "password": PASSWORD})
    cookie = r.headers["set-cookie"].lower()
    assert "riskplan_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_chinese_by_default_english_on_switch(server):
    base, _ws = server
    c = client(base)
    page = c.get("/login").text
    assert 'lang="zh-CN"' in page and "登录" in page and "Sign in" not in page
    assert c.get("/lang/en?next=/login").status_code == 303
    assert "Sign in" in c.get("/login").text
    signed_in = client(base, "view")
    assert "区县" in signed_in.get("/").text
    signed_in.get("/lang/en?next=/")
    assert "Districts" in signed_in.get("/").text
    assert "Districts" in client(base, "view").get("/").text  # the user's choice, kept for the next session
    client(base, "view").get("/lang/zh?next=/")


# --------------------------------------------------------------------------------- CSRF

def test_posts_without_the_csrf_token_are_refused(server):
    base, ws = server
    c = client(base, "plan")
    for data in ({}, {"csrf": "forged"}):
        r = c.post("/d/demo/plan", data={"quarter": "2027Q3", "seed": "1", **data})
        assert r.status_code == 403
    assert not (ws / "demo.quarters" / "2027Q3").exists()
    anonymous = client(base)
    r = anonymous.post("/login", data={"name": "plan", "password": PASSWORD})
    assert r.status_code == 403 and "riskplan_session" not in r.cookies


# ----------------------------------------------------------------------------- uploads

def test_bad_upload_shows_the_validate_problems_and_replaces_nothing(server, tmp_path):
    base, ws = server
    before = files_digest(ws / "demo")
    files = {p.name: p.read_bytes() for p in (ws / "demo").iterdir() if p.suffix == ".csv" and p.name != "truth.csv"}
    lines = files["enterprises.csv"].decode("utf-8-sig").splitlines()
    header = lines[0].split(",")
    row = lines[3].split(",")
    row[header.index(next(h for h in header if h in ("employees", "从业人数", "从业人员数")))] = "many"
    lines[3] = ",".join(row)
    files["enterprises.csv"] = ("\n".join(lines) + "\n").encode("utf-8")
    (tmp_path / "bad").mkdir()
    for name, data in files.items():
        (tmp_path / "bad" / name).write_bytes(data)
    with pytest.raises(DistrictError) as validate:
        load_district(tmp_path / "bad")

    c = client(base, "plan")
    token = csrf_of(c)
    r = c.post("/upload", data={"csrf": token, "district": "demo"},
               files=[("files", (name, data)) for name, data in files.items()])
    assert r.status_code == 422
    table = r.text[r.text.index('<table id="problems">'):]
    for problem in validate.value.problems:  # the same problems as riskplan validate, file and row first
        assert f"<td>{problem.file}</td>" in table and f"<td>{problem.row}</td>" in table
    assert "enterprises.csv" in table and "<td>4</td>" in table
    assert files_digest(ws / "demo") == before
    assert not (ws / ".riskplan-web" / "backups").exists()
    assert not list((ws / ".riskplan-web" / "staging").iterdir())


def test_valid_upload_replaces_the_district_and_keeps_a_backup(server):
    base, ws = server
    c = client(base, "plan")
    files = [("files", (p.name, p.read_bytes())) for p in sorted((ws / "demo").iterdir())
             if p.suffix in (".csv", ".toml") and p.name != "truth.csv"]
    r = c.post("/upload", data={"csrf": csrf_of(c), "district": "second"}, files=files)
    assert r.status_code == 303 and r.headers["location"] == "/d/second"
    assert load_district(ws / "second").enterprises.equals(load_district(ws / "demo").enterprises)
    r = c.post("/upload", data={"csrf": csrf_of(c), "district": "second"}, files=files)
    assert r.status_code == 303
    backups = list((ws / ".riskplan-web" / "backups").iterdir())
    assert len(backups) == 1 and files_digest(backups[0]) == files_digest(ws / "second")


def test_upload_names_cannot_leave_the_workspace(server):
    base, ws = server
    c = client(base, "plan")
    data = (ws / "demo" / "enterprises.csv").read_bytes()
    for district, filename in (("demo", "../evil.csv"), ("demo", "..\\evil.csv"), ("../evil", "enterprises.csv"),
                               ("demo", "enterprises.py")):
        r = c.post("/upload", data={"csrf": csrf_of(c), "district": district},
                   files=[("files", (filename, data))])
        assert r.status_code == 400, (district, filename)
    assert not (ws / "evil.csv").exists() and not (ws.parent / "evil.csv").exists()
    assert not (ws.parent / "evil").exists()


# ---------------------------------------------------------------------------- planning

def test_plan_job_completes_and_its_roster_passes_the_checker(planned):
    c, job, plan_dir = planned
    assert check_roster(plan_dir.parents[2] / "demo", plan_dir) == []
    import json

    plan = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    status = c.get(job + "/status").text
    assert f"{plan['counts']['placed']} 次检查" in status  # Chinese by default, the plan's own count
    roster = read_csv_text(plan_dir / "roster.csv")
    calendar = c.get(f"/d/demo/q/{QUARTER}/calendar").text
    assert len(roster) == plan["counts"]["placed"] > 0
    for visit_id, date in zip(roster["visit_id"], roster["date"]):  # every visit on its day
        cell = re.search(rf'data-date="{date}">(.*?)</td>', calendar, re.S).group(1)
        assert f'title="{visit_id}"' in cell
    teams = c.get(f"/d/demo/q/{QUARTER}/teams").text
    assert all(v in teams for v in roster["enterprise_name"])


def test_printouts_are_the_print_commands_pages(planned):
    """The printouts page lists one page per squad, inspector and month, each the page `riskplan
    print` writes (the same function), with every visit of the squad on its squad's page."""
    from riskplan.load.district import load_district

    c, _job, plan_dir = planned
    listing = c.get(f"/d/demo/q/{QUARTER}/print")
    assert listing.status_code == 200 and "内部资料" in listing.text
    inspectors = load_district(plan_dir.parents[2] / "demo").inspectors
    roster = read_csv_text(plan_dir / "roster.csv")
    links = dict(re.findall(r'<a href="(/d/demo/q/[^"]+/print/squad/[^"]+)">([^<]+)</a>', listing.text))
    squads = {s for s in inspectors["squad"]}
    assert len(links) == len({inspectors.set_index("inspector_id")["squad"][i] for team in roster["inspectors"]
                              for i in team.split(";")}) and links
    shown = 0
    for href in links:
        sheet = c.get(href)
        assert sheet.status_code == 200 and "内部资料" in sheet.text and "A4" in sheet.text
        shown += sum(name in sheet.text for name in roster["enterprise_name"])
    assert shown >= len(roster) and squads
    assert c.get(f"/d/demo/q/{QUARTER}/print/squad/no-such-squad").status_code == 404
    assert c.get(f"/d/demo/q/{QUARTER}/print/nothing/x").status_code == 404


def test_a_queued_plan_can_be_cancelled_and_writes_nothing(planned, server):
    c, _job, _plan_dir = planned
    base, ws = server
    token = csrf_of(c, "/d/demo")
    r = c.post("/d/demo/plan", data={"csrf": token, "quarter": "2027Q2", "seed": "1", "time_limit": "20"})
    job = r.headers["location"]
    assert c.post(job + "/cancel", data={"csrf": token}).status_code == 303
    assert wait_for(c, job) == "cancelled"
    assert not (ws / "demo.quarters" / "2027Q2" / "plan" / "plan.json").exists()


# ------------------------------------------------------------------------------- roles

SECRET_PATHS = [f"/d/demo/q/{QUARTER}/calendar", f"/d/demo/q/{QUARTER}/teams",
                f"/d/demo/q/{QUARTER}/files/plan/roster.csv", f"/d/demo/q/{QUARTER}/files/plan/inspector_schedule.csv",
                f"/d/demo/q/{QUARTER}/files/plan/plan.json", f"/d/demo/q/{QUARTER}/results-template", f"/d/demo/q/{QUARTER}/report", "/jobs/1",
                f"/d/demo/q/{QUARTER}/print", f"/d/demo/q/{QUARTER}/print/month/2027-01",
                "/jobs/1/status", "/audit"]


@pytest.mark.parametrize("user", ["insp", "view"])
def test_inspector_and_viewer_cannot_see_the_roster(planned, server, user):
    base, _ws = server
    c = client(base, user)
    for path in SECRET_PATHS:
        assert c.get(path).status_code == 403, path
    page = c.get(f"/d/demo/q/{QUARTER}").text
    roster = read_csv_text(planned[2] / "roster.csv")
    assert not any(v in page for v in roster["visit_id"]) and "roster.csv" not in page
    tiers = c.get(f"/d/demo/tiers?quarter={QUARTER}")
    assert tiers.status_code == 200 and 'id="tiers"' in tiers.text and 'id="tier-map"' not in tiers.text
    plan_tiers = read_csv_text(planned[2] / "tiers.csv")
    for tier in ("yellow", "blue"):  # the filter shows that tier's enterprises, each once
        shown = re.findall(r'<td class="tier-(\w+)">', c.get(f"/d/demo/tiers?quarter={QUARTER}&tier={tier}").text)
        assert shown == [tier] * int((plan_tiers["tier"] == tier).sum())
    r = c.post("/d/demo/plan", data={"csrf": csrf_of(c), "quarter": "2027Q4", "seed": "1"})
    assert r.status_code == 403


def test_chief_reads_and_publishes_but_does_not_plan(planned, server):
    base, ws = server
    chief = client(base, "chief")
    for path in SECRET_PATHS:
        assert chief.get(path).status_code == 200, path
    assert 'id="tier-map"' in chief.get(f"/d/demo/tiers?quarter={QUARTER}").text  # with the visits circled
    token = csrf_of(chief)
    assert chief.post("/d/demo/plan", data={"csrf": token, "quarter": "2027Q4", "seed": "1"}).status_code == 403
    r = chief.post(f"/d/demo/q/{QUARTER}/publish", data={"csrf": token, "stage": "plan"})
    assert r.status_code == 303
    public = ws / "demo.quarters" / QUARTER / "public-plan"
    assert (public / "spot_check_plan.html").is_file()
    viewer = client(base, "view")
    page = viewer.get(f"/d/demo/q/{QUARTER}").text
    assert "spot_check_plan.html" in page
    assert viewer.get(f"/d/demo/q/{QUARTER}/files/public-plan/spot_check_plan.html").status_code == 200
    log = sqlite3.connect(ws / ".riskplan-web" / "app.sqlite3")
    actions = [row[0] for row in log.execute("SELECT action FROM audit WHERE user_name = 'chief'")]
    assert "publish-plan" in actions


def test_downloads_only_name_files_that_are_there(planned, server):
    base, _ws = server
    c = client(base, "plan")
    for path in (f"/d/demo/q/{QUARTER}/files/plan/..%2Fplan%2Fplan.json", f"/d/demo/q/{QUARTER}/files/plan/.riskplan-output",
                 f"/d/demo/q/{QUARTER}/files/public-plan/..%2F..%2F..%2Fdemo%2Fenterprises.csv",
                 f"/d/demo/q/{QUARTER}/files/secret/roster.csv", f"/d/..%2Fdemo/q/{QUARTER}",
                 "/d/demo/q/2027Q9", "/d/demo.quarters/q/2027Q1"):
        assert c.get(path).status_code == 404, path
    assert c.get(f"/d/demo/q/{QUARTER}/files/plan/roster.csv").status_code == 200


def test_audit_log_records_changes_and_cannot_be_edited(planned, server):
    base, ws = server
    page = client(base, "boss").get("/audit").text
    for action in ("sign-in", "plan-started", "plan", "add-user"):
        assert f"<td>{action}</td>" in page, action
    log = sqlite3.connect(ws / ".riskplan-web" / "app.sqlite3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        log.execute("UPDATE audit SET user_name = 'nobody'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        log.execute("DELETE FROM audit")


def test_passwords_are_stored_as_argon2_hashes(server):
    _base, ws = server
    log = sqlite3.connect(ws / ".riskplan-web" / "app.sqlite3")
    hashes = [row[0] for row in log.execute("SELECT password_hash FROM users")]
    assert len(hashes) == len(USERS) and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(PASSWORD in h for h in hashes)


# ------------------------------------------------------------------- in a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.mark.skipif((CHROMIUM is None or importlib.util.find_spec("playwright") is None) and not os.environ.get("CI"),
                    reason="chromium or playwright not installed")
def test_in_chromium_upload_plan_calendar_publish_without_console_errors(server):
    """Debian's Chromium driven by Playwright (no browser download): sign in, upload the district's
    files, plan a quarter and watch the job finish (htmx polling), see the calendar, publish and
    open the public notice. Screenshots go to test-artifacts/."""
    assert CHROMIUM is not None, "CI must install chromium (see .ci/run)"
    from playwright.sync_api import sync_playwright

    base, ws = server
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    uploads = [p for p in sorted((ws / "demo").iterdir()) if p.suffix in (".csv", ".toml") and p.name != "truth.csv"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.goto(base + "/")
            assert page.url.startswith(base + "/login")
            page.fill("input[name=name]", "plan")
            page.fill("input[name=password]", PASSWORD)
            page.click("#sign-in")
            page.wait_for_url(base + "/")
            page.fill("#upload-form input[name=district]", "浏览器")
            page.set_input_files("#upload-form input[type=file]", [str(p) for p in uploads])
            page.click("#upload-form button[type=submit]")
            page.wait_for_url("**/d/*")
            assert "浏览器" in page.inner_text("h1")
            page.fill("#plan-form input[name=quarter]", "2027Q3")
            page.fill("#plan-form input[name=seed]", "11")
            page.fill("#plan-form input[name=time_limit]", "20")
            page.click("#plan-button")
            page.wait_for_url("**/jobs/*")
            page.wait_for_selector("#to-quarter", timeout=120_000)  # the status swapped in by htmx polling
            page.screenshot(path=str(ARTIFACTS / "web-job.png"), full_page=True)
            page.click("#to-quarter")
            page.click("#calendar-link")
            page.wait_for_selector(".calendar")
            roster = read_csv_text(ws / "浏览器.quarters" / "2027Q3" / "plan" / "roster.csv")
            assert page.locator(".visit").count() == len(roster) > 0
            page.screenshot(path=str(ARTIFACTS / "web-calendar.png"), full_page=True)
            page.go_back()
            page.click("#publish-plan")
            page.wait_for_selector("a[href$='spot_check_plan.html']")
            page.click("a[href$='spot_check_plan.html']")
            page.wait_for_load_state()
            assert "抽查" in page.content()
            page.screenshot(path=str(ARTIFACTS / "web-public-notice.png"), full_page=True)
        finally:
            browser.close()
    assert check_roster(ws / "浏览器", ws / "浏览器.quarters" / "2027Q3" / "plan") == []
    assert problems == []


def test_results_workbook_downloaded_filled_in_and_recorded(planned, server):
    import io

    import openpyxl

    c, _job, plan_dir = planned
    base, ws = server
    r = c.get(f"/d/demo/q/{QUARTER}/results-template")
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = book.active
    visit = sheet.cell(2, 1).value
    sheet["G2"], sheet["H2"], sheet["I2"], sheet["K2"] = sheet["E2"].value, "发现问题责令整改", 2, "否"
    filled = io.BytesIO()
    book.save(filled)
    before = len(load_district(ws / "demo").inspections)
    token = csrf_of(c, f"/d/demo/q/{QUARTER}")
    r = c.post(f"/d/demo/q/{QUARTER}/record", data={"csrf": token},
               files={"results": ("results.xlsx", filled.getvalue())})
    assert r.status_code == 303, r.text
    assert "1 次检查录入历史记录" in c.get(r.headers["location"]).text
    history = load_district(ws / "demo").inspections
    assert len(history) == before + 1 and visit in set(history["visit_id"])
    viewer = client(base, "view")
    assert viewer.post(f"/d/demo/q/{QUARTER}/record", data={"csrf": csrf_of(viewer)},
                       files={"results": ("results.xlsx", filled.getvalue())}).status_code == 403


def test_whatif_job_shows_the_chart_and_the_answer_in_words(planned, server):
    import json

    c, _job, _plan_dir = planned
    base, ws = server
    token = csrf_of(c, f"/d/demo/q/{QUARTER}/whatif")
    r = c.post(f"/d/demo/q/{QUARTER}/whatif", data={"csrf": token, "inspectors": "5:6:1", "seed": "1",
                                                     "time_limit": "10"})
    assert r.status_code == 303, r.text
    assert wait_for(c, r.headers["location"]) == "done", c.get(r.headers["location"]).text
    summary = json.loads((ws / "demo.quarters" / QUARTER / "whatif" / "summary.json").read_text(encoding="utf-8"))
    page = c.get(f"/d/demo/q/{QUARTER}/whatif").text
    today = summary["current_staffing"]
    if summary["minimal_staffing"] is None:
        assert f"需要 {summary['largest_staffing_tried']} 名以上持证执法人员，现有 {today} 名" in page
    else:
        assert f"需要 {summary['minimal_staffing']} 名持证执法人员，现有 {today} 名" in page
    chart = re.search(r'<img class="chart" src="([^"]+)"', page).group(1)
    assert c.get(chart).headers["content-type"] == "image/png"
    assert client(base, "view").get(chart).status_code == 403


def test_bad_results_file_is_refused_and_records_nothing(planned, server):
    c, _job, _plan_dir = planned
    _base, ws = server
    history = (ws / "demo" / "inspections.csv").read_bytes()
    results_dir = ws / "demo.quarters" / QUARTER / "results"
    before = sorted(results_dir.iterdir()) if results_dir.exists() else []
    bad = "visit_id,date,hazards_found,major_hazards_found,penalized,outcome\nNO-SUCH-VISIT,2027-01-05,x,0,0,ok\n"
    r = c.post(f"/d/demo/q/{QUARTER}/record", data={"csrf": csrf_of(c, f"/d/demo/q/{QUARTER}")},
               files={"results": ("results.csv", bad.encode())})
    assert r.status_code == 422 and 'id="problems"' in r.text and "results" in r.text
    assert (ws / "demo" / "inspections.csv").read_bytes() == history
    assert (sorted(results_dir.iterdir()) if results_dir.exists() else []) == before


def test_sign_out_ends_the_session(server):
    base, _ws = server
    c = client(base, "view")
    token = csrf_of(c)
    cookie = c.cookies.get("riskplan_session")
    assert c.post("/logout", data={"csrf": token}).status_code == 303
    stale = httpx.Client(base_url=base, cookies={"riskplan_session": cookie})
    assert stale.get("/").status_code == 303  # the old cookie signs no one in


def test_users_are_listed_and_a_weak_password_or_unknown_role_is_refused(server):
    _base, ws = server
    runner = CliRunner()
    listed = runner.invoke(main, ["users", "list", "--workspace", str(ws)])
    assert listed.exit_code == 0
    assert {tuple(line.split("\t")) for line in listed.output.splitlines()} == set(USERS.items())
    bad_role = runner.invoke(main, ["users", "add", "x", "--role", "boss", "--workspace", str(ws)],
                             env={"RISKPLAN_PASSWORD": PASSWORD})
    assert bad_role.exit_code == 2
    weak = runner.invoke(main, ["users", "add", "weak", "--role", "viewer", "--workspace", str(ws)],
                         env={"RISKPLAN_PASSWORD": "1"})
    assert weak.exit_code == 2 and "weak" not in runner.invoke(main, ["users", "list", "--workspace", str(ws)]).output


def test_a_district_folder_is_added_from_the_command_line_through_the_uploads_validation(tmp_path):
    """`serve --add-district data/sample --create-admin NAME`: the README's way to a workspace with the
    sample district; a folder with bad input is refused with its problems and adds nothing."""
    sample = Path(__file__).resolve().parents[1] / "data" / "sample"
    ws = tmp_path / "bureau"
    runner = CliRunner()
    done = runner.invoke(main, ["serve", "--workspace", str(ws), "--add-district", str(sample), "--create-admin",
                                "admin"], env={"RISKPLAN_PASSWORD": PASSWORD})
    assert done.exit_code == 0, done.output
    assert "District sample added to the workspace (1500 enterprises)." in done.output
    assert (ws / "sample" / "enterprises.csv").read_bytes() == (sample / "enterprises.csv").read_bytes()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "enterprises.csv").write_text("enterprise_id,name\nA1,x\n", encoding="utf-8")
    refused = runner.invoke(main, ["serve", "--workspace", str(ws), "--add-district", str(bad), "--create-admin",
                                   "other"], env={"RISKPLAN_PASSWORD": PASSWORD})
    assert refused.exit_code == 2 and "enterprises.csv" in refused.output
    assert not (ws / "bad").exists()
    listed = runner.invoke(main, ["users", "list", "--workspace", str(ws)])
    assert "other" not in listed.output


def test_pages_turn_off_htmx_eval(planned):
    """The vendored htmx can evaluate attribute text as script; every page turns that off."""
    c, _job, _plan_dir = planned
    response = c.get(f"/d/demo/q/{QUARTER}")
    assert '"allowEval": false' in response.text and '"allowScriptTags": false' in response.text
    policy = response.headers["content-security-policy"]  # and the browser refuses eval itself
    assert "script-src 'self';" in policy and "unsafe-eval" not in policy
    assert c.get("/login").headers["x-content-type-options"] == "nosniff"
