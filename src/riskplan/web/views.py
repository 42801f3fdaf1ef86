"""The district and quarter pages. Each calls the library function its command calls:
upload → `load_district` (validate), tiers → the plan's tiers.csv or `model_tiers`, plan →
`pipeline.run_plan` (in `jobs`), publish → `export.publish.publish`, results workbook →
`export.results_template.template_bytes`, record → `export.record.record_results`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from riskplan.domain.calendar import Quarter
from riskplan.domain.headers import value_label
from riskplan.i18n import _, get_language, language
from riskplan.load.district import DistrictError, load_district

from .http import checked_form, page, require, store_of
from .calendar_view import month_grids, by_inspector, by_squad
from .workspace import MAX_UPLOAD_BYTES, Workspace, WorkspaceError, replace_district, safe_upload_name

TIERS_SHOWN = 500


def routes() -> list[Route]:
    d, q = "/d/{district}", "/d/{district}/q/{quarter}"
    return [
        Route("/upload", upload, methods=["POST"]),
        Route(d, district_page, methods=["GET"]),
        Route(d + "/tiers", tiers_page, methods=["GET"]),
        Route(d + "/plan", start_plan, methods=["POST"]),
        Route("/jobs/{job:int}", job_page, methods=["GET"]),
        Route("/jobs/{job:int}/status", job_status, methods=["GET"]),
        Route("/jobs/{job:int}/cancel", cancel_job, methods=["POST"]),
        Route(q, quarter_page, methods=["GET"]),
        Route(q + "/calendar", calendar_page, methods=["GET"]),
        Route(q + "/teams", teams_page, methods=["GET"]),
        Route(q + "/whatif", whatif_page, methods=["GET", "POST"]),
        Route(q + "/report", report_page, methods=["GET"]),
        Route(q + "/print", printouts_page, methods=["GET"]),
        Route(q + "/print/{by}/{stem}", printout, methods=["GET"]),
        Route(q + "/publish", publish, methods=["POST"]),
        Route(q + "/results-template", results_template, methods=["GET"]),
        Route(q + "/record", record, methods=["POST"]),
        Route(q + "/files/{stage}/{file}", download, methods=["GET"]),
    ]


def ws_of(request: Request) -> Workspace:
    return request.app.state.ws


def _district(request: Request) -> tuple[str, Path]:
    name = request.path_params["district"]
    try:
        return name, ws_of(request).district_dir(name)
    except WorkspaceError:
        raise HTTPException(404, _("There is no district {name} in this workspace.").format(name=name)) from None


def _quarter(request: Request) -> tuple[str, Path, str]:
    name, folder = _district(request)
    quarter = request.path_params["quarter"]
    try:
        ws_of(request).quarter_dir(name, quarter)
    except (ValueError, WorkspaceError):
        raise HTTPException(404, _("{quarter} is not a quarter.").format(quarter=quarter)) from None
    return name, folder, quarter


def _plan_dir(request: Request, name: str, quarter: str) -> Path:
    plan_dir = ws_of(request).stage_dir(name, quarter, "plan")
    if not (plan_dir / "plan.json").is_file():
        raise HTTPException(404, _("{quarter} has no plan yet.").format(quarter=quarter))
    return plan_dir


def problem_rows(problems) -> list[dict[str, str]]:
    """The validation problems as the table rows the upload page shows."""
    rows = []
    for p in problems:
        fix = (_("Fix this first: the table cannot be read until it is corrected.") if p.cause
               else _("Correct the cell in the spreadsheet and upload the files again."))
        column = p.column or ""
        if p.header and p.header != p.column:
            column = f"{p.header} ({p.column})"
        rows.append({"file": p.file, "sheet": p.sheet or "", "row": "" if p.row is None else str(p.row),
                     "column": column, "what": p.message, "fix": fix})
    return rows


# ---------------------------------------------------------------------------- districts

async def districts(request: Request) -> Response:
    require(request)
    ws = ws_of(request)
    rows = [{"name": n, "quarters": ws.quarters(n)} for n in ws.districts()]
    return page(request, "districts.html.j2", districts=rows)


async def district_page(request: Request) -> Response:
    ctx = require(request)
    name, folder = _district(request)
    lang = get_language()

    def summary():
        with language(lang):
            try:
                d = load_district(folder)
            except DistrictError as exc:
                return None, problem_rows(exc.problems)
            files = [{"file": p.name, "sheet": d.sheets.get(t, ""), "table": t} for t, p in d.sources.items()]
            counts = {"enterprises": len(d.enterprises), "inspectors": len(d.inspectors),
                      "inspections": len(d.inspections)}
            return {"files": files, "counts": counts}, []

    info, problems = await run_in_threadpool(summary)
    jobs = store_of(request).jobs(name) if ctx.may("see_secret") else []
    return page(request, "district.html.j2", name=name, info=info, problems=problems,
                quarters=ws_of(request).quarters(name), jobs=jobs, next_quarter=_next_quarter())


def _next_quarter() -> str:
    today = dt.date.today()
    q = (today.month - 1) // 3 + 1
    return f"{today.year + (q == 4)}Q{q % 4 + 1}"


async def upload(request: Request) -> Response:
    ctx = require(request, "edit")
    form = await checked_form(request, ctx)
    ws = ws_of(request)
    name = str(form.get("district", "")).strip()
    try:
        ws.district_dir(name, must_exist=False)
    except WorkspaceError:
        return page(request, "upload.html.j2", status=400, name=name, rows=[], follow_ons=[],
                    error=_("A district name is letters, digits, '-' or '_' (at most 64)."))
    files: dict[str, bytes] = {}
    for item in form.getlist("files"):
        if not isinstance(item, UploadFile) or not item.filename:
            continue
        safe = safe_upload_name(item.filename)
        if safe is None:
            return page(request, "upload.html.j2", status=400, name=name, rows=[], follow_ons=[],
                        error=_("{file}: only .csv, .xlsx and policy.toml files can be uploaded.").format(
                            file=item.filename))
        data = await item.read()
        if len(data) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, _("The upload is larger than {size} MB.").format(size=MAX_UPLOAD_BYTES // 2**20))
        files[safe] = data
    if not files:
        return page(request, "upload.html.j2", status=400, name=name, rows=[], follow_ons=[],
                    error=_("Choose the district's workbook or files to upload."))
    lang = get_language()

    def validate():
        with language(lang):
            return replace_district(ws, name, files)

    outcome = await run_in_threadpool(validate)
    if outcome.district is None:
        return page(request, "upload.html.j2", status=422, name=name, rows=problem_rows(outcome.problems),
                    follow_ons=outcome.follow_ons, error=None)
    store_of(request).audit(ctx.user.name, "upload", name, detail=", ".join(sorted(files)) +
                            (f"; backup {outcome.backup.name}" if outcome.backup else ""))
    return RedirectResponse(f"/d/{name}", status_code=303)


async def tiers_page(request: Request) -> Response:
    secret = require(request).may("see_secret")
    name, folder = _district(request)
    ws = ws_of(request)
    quarter = request.query_params.get("quarter") or (ws.quarters(name) or [_next_quarter()])[0]
    try:
        Quarter.parse(quarter)
        plan_tiers = ws.stage_dir(name, quarter, "plan") / "tiers.csv"
    except (ValueError, WorkspaceError):
        raise HTTPException(404, _("{quarter} is not a quarter.").format(quarter=quarter)) from None
    lang = get_language()

    def compute():
        from riskplan.io import read_csv_text
        from riskplan.score.tiering import model_tiers

        with language(lang):
            d = load_district(folder)
            if plan_tiers.is_file():
                tiers, source = read_csv_text(plan_tiers), "plan"
            else:
                tiers, source = model_tiers(d, Quarter.parse(quarter))[0], "model"
            ent = d.enterprises[["enterprise_id", "name", "subdistrict", "lat", "lon"]]
            frame = ent.merge(tiers.astype({"tier": str}), on="enterprise_id", how="inner")
            tier_map = None
            if secret:  # the circles show who is visited this quarter: only for the roles that may know
                from riskplan.export.report import map_figure, report_style

                roster = plan_tiers.with_name("roster.csv")
                visited = set(read_csv_text(roster)["enterprise_id"]) if roster.is_file() else set()
                with report_style():
                    tier_map = map_figure(frame, visited)
            return frame, source, tier_map

    try:
        frame, source, tier_map = await run_in_threadpool(compute)
    except DistrictError as exc:
        return page(request, "upload.html.j2", status=422, name=name, rows=problem_rows(exc.problems),
                    follow_ons=[], error=None)
    tier, sub, text = (request.query_params.get(k, "") for k in ("tier", "subdistrict", "q"))
    subdistricts = sorted(frame["subdistrict"].astype(str).unique())
    shown = frame
    if tier:
        shown = shown[shown["tier"] == tier]
    if sub:
        shown = shown[shown["subdistrict"].astype(str) == sub]
    if text:
        shown = shown[shown["name"].astype(str).str.contains(text, regex=False)
                      | shown["enterprise_id"].astype(str).str.contains(text, regex=False)]
    counts = frame["tier"].value_counts().to_dict()
    rows = [{"id": r.enterprise_id, "name": r.name, "subdistrict": r.subdistrict,
             "tier": value_label("tier", r.tier), "code": r.tier,
             "reasons": [x for x in (getattr(r, f"reason_{i}", "") for i in (1, 2, 3)) if isinstance(x, str) and x]}
            for r in shown.head(TIERS_SHOWN).itertuples()]
    tiers = [(t, value_label("tier", t), counts.get(t, 0)) for t in ("red", "orange", "yellow", "blue")]
    return page(request, "tiers.html.j2", name=name, quarter=quarter, rows=rows, total=len(shown), tiers=tiers,
                subdistricts=subdistricts, tier=tier, subdistrict=sub, q=text, source=source, limit=TIERS_SHOWN,
                tier_map=tier_map)


# ---------------------------------------------------------------------------------- jobs

async def start_plan(request: Request) -> Response:
    ctx = require(request, "edit")
    form = await checked_form(request, ctx)
    name, _folder = _district(request)
    quarter = str(form.get("quarter", "")).strip().upper()
    try:
        quarter = str(Quarter.parse(quarter))
        seed = int(form.get("seed", ""))
        time_limit = float(form.get("time_limit") or 60)
        if seed < 0 or not 1 <= time_limit <= 3600:
            raise ValueError(seed)
    except ValueError:
        raise HTTPException(400, _("Give a quarter such as 2027Q1, a seed (a whole number, 0 or more) and a time "
                                   "limit of 1 to 3600 seconds.")) from None
    replace = form.get("replace") == "1"
    job_id = request.app.state.runner.submit_plan(name, quarter, seed, time_limit, replace, ctx.user.name,
                                                  get_language())
    if job_id is None:
        raise HTTPException(409, _("{quarter} is already being planned; wait for that job or cancel it.").format(
            quarter=quarter))
    store_of(request).audit(ctx.user.name, "plan-started", name, quarter, f"job {job_id}, seed {seed}")
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


def _job(request: Request) -> dict:
    require(request, "see_secret")
    job = store_of(request).job(request.path_params["job"])
    if job is None:
        raise HTTPException(404, _("There is no such job."))
    return job


def _job_values(job: dict) -> dict:
    states = {"queued": _("queued"), "running": _("running"), "done": _("finished"), "failed": _("failed"),
              "cancelled": _("cancelled")}
    return {"job": job, "state": states.get(job["state"], job["state"]), "active": job["state"] in ("queued", "running")}


async def job_page(request: Request) -> Response:
    return page(request, "job.html.j2", **_job_values(_job(request)))


async def job_status(request: Request) -> Response:
    """The progress fragment htmx polls; it stops polling once the job has ended."""
    return page(request, "job_status.html.j2", **_job_values(_job(request)))


async def cancel_job(request: Request) -> Response:
    ctx = require(request, "edit")
    await checked_form(request, ctx)
    job = _job(request)
    if store_of(request).request_cancel(job["id"]):
        store_of(request).audit(ctx.user.name, "plan-cancel", job["district"], job["quarter"], f"job {job['id']}")
    if request.headers.get("hx-request"):
        return page(request, "job_status.html.j2", **_job_values(store_of(request).job(job["id"])))
    return RedirectResponse(f"/jobs/{job['id']}", status_code=303)


# ------------------------------------------------------------------------------- quarters

async def quarter_page(request: Request) -> Response:
    ctx = require(request)
    name, _folder, quarter = _quarter(request)
    ws = ws_of(request)
    plan = None
    plan_json = ws.stage_dir(name, quarter, "plan") / "plan.json"
    if ctx.may("see_secret") and plan_json.is_file():
        from riskplan.export.plan_files import fallback_notice

        plan = json.loads(plan_json.read_text(encoding="utf-8"))
        plan["notice"] = fallback_notice(plan)
    files = {stage: ws.stage_files(name, quarter, stage) for stage in ("plan", "public-plan", "public-results")}
    if not ctx.may("see_secret"):
        files.pop("plan")
    jobs = [j for j in store_of(request).jobs(name) if j["quarter"] == quarter] if ctx.may("see_secret") else []
    return page(request, "quarter.html.j2", name=name, quarter=quarter, plan=plan, files=files, jobs=jobs,
                results=ws.stage_files(name, quarter, "results"), message=request.query_params.get("message"))


def _roster(request: Request, name: str, folder: Path, quarter: str):
    from riskplan.io import read_csv_text

    plan_dir = _plan_dir(request, name, quarter)
    roster = read_csv_text(plan_dir / "roster.csv")
    inspectors = load_district(folder).inspectors
    return roster, inspectors


async def calendar_page(request: Request) -> Response:
    require(request, "see_secret")
    name, folder, quarter = _quarter(request)
    roster, inspectors = await run_in_threadpool(_roster, request, name, folder, quarter)
    return page(request, "calendar.html.j2", name=name, quarter=quarter,
                months=month_grids(roster, Quarter.parse(quarter), inspectors), visits=len(roster))


async def teams_page(request: Request) -> Response:
    require(request, "see_secret")
    name, folder, quarter = _quarter(request)
    roster, inspectors = await run_in_threadpool(_roster, request, name, folder, quarter)
    return page(request, "teams.html.j2", name=name, quarter=quarter, squads=by_squad(roster, inspectors),
                people=by_inspector(roster, inspectors))


async def publish(request: Request) -> Response:
    from riskplan.export.publish import publish as write_public

    ctx = require(request, "publish")
    form = await checked_form(request, ctx)
    name, folder, quarter = _quarter(request)
    stage = "results" if form.get("stage") == "results" else "plan"
    ws = ws_of(request)
    plan_dir = _plan_dir(request, name, quarter)
    results = None
    if stage == "results":
        uploaded = ws.stage_files(name, quarter, "results")
        if not uploaded:
            raise HTTPException(400, _("Record the results before publishing them."))
        results = ws.stage_file(name, quarter, "results", uploaded[-1])
    out = ws.stage_dir(name, quarter, f"public-{stage}")
    lang = get_language()

    def run():
        with language(lang):
            return write_public(folder, plan_dir, stage, out, results_path=results, force=out.exists())

    try:
        written = await run_in_threadpool(run)
    except DistrictError as exc:
        return page(request, "upload.html.j2", status=422, name=name, rows=problem_rows(exc.problems),
                    follow_ons=[], error=None)
    store_of(request).audit(ctx.user.name, f"publish-{stage}", name, quarter, ", ".join(p.name for p in written))
    return RedirectResponse(f"/d/{name}/q/{quarter}", status_code=303)


async def results_template(request: Request) -> Response:
    from riskplan.export.results_template import template_bytes

    require(request, "see_secret")  # the workbook lists each visit's date and team
    name, folder, quarter = _quarter(request)
    plan_dir = _plan_dir(request, name, quarter)
    data = await run_in_threadpool(lambda: template_bytes(plan_dir, load_district(folder).inspectors))
    filename = f"results-{name}-{quarter}.xlsx"
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})


async def record(request: Request) -> Response:
    from riskplan.export.record import record_results

    ctx = require(request, "edit")
    form = await checked_form(request, ctx)
    name, folder, quarter = _quarter(request)
    ws = ws_of(request)
    plan_dir = _plan_dir(request, name, quarter)
    item = form.get("results")
    if not isinstance(item, UploadFile) or Path(item.filename or "").suffix.lower() not in (".xlsx", ".csv"):
        raise HTTPException(400, _("Upload the filled-in results workbook (.xlsx) or results.csv."))
    data = await item.read()
    target_dir = ws.stage_dir(name, quarter, "results")
    target_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = target_dir / f"results-{stamp}{Path(item.filename).suffix.lower()}"
    target.write_bytes(data)
    lang = get_language()

    def run():
        with language(lang):
            return record_results(folder, plan_dir, target, correct=form.get("correct") == "1")

    try:
        done = await run_in_threadpool(run)
    except DistrictError as exc:
        target.unlink()
        return page(request, "upload.html.j2", status=422, name=name, rows=problem_rows(exc.problems),
                    follow_ons=[], error=None)
    except ValueError as exc:
        target.unlink()
        raise HTTPException(422, str(exc)) from None
    store_of(request).audit(ctx.user.name, "record", name, quarter,
                            f"{target.name}: added {done.added}, corrected {done.corrected}")
    message = _("{count} visit(s) added to the history; {already} already recorded.").format(
        count=done.added, already=done.already_recorded)
    return RedirectResponse(f"/d/{name}/q/{quarter}?message={quote(message)}", status_code=303)


async def download(request: Request) -> Response:
    ctx = require(request)
    name, _folder, quarter = _quarter(request)
    stage = request.path_params["stage"]
    if stage not in ("public-plan", "public-results") and not ctx.may("see_secret"):
        raise HTTPException(403, _("Your role may not open this page."))
    try:
        path = ws_of(request).stage_file(name, quarter, stage, request.path_params["file"])
    except WorkspaceError:
        raise HTTPException(404, _("There is no such file.")) from None
    if path.suffix == ".html":
        return HTMLResponse(path.read_text(encoding="utf-8"))
    return FileResponse(path, filename=path.name)


async def whatif_page(request: Request) -> Response:
    """What-if over the number of certified inspectors: the form, then the chart and the answer."""
    ctx = require(request, "see_secret")
    name, folder, quarter = _quarter(request)
    if request.method == "POST":
        if not ctx.may("edit"):
            raise HTTPException(403, _("Your role may not open this page."))
        form = await checked_form(request, ctx)
        inspectors = str(form.get("inspectors", "")).strip()
        try:
            from riskplan.analysis.whatif import parse_range

            parse_range(inspectors, int)
            seed = int(form.get("seed") or 1)
            time_limit = float(form.get("time_limit") or 20)
            if seed < 0 or not 1 <= time_limit <= 600:
                raise ValueError(seed)
        except ValueError:
            raise HTTPException(400, _("Give the inspectors as START:STOP:STEP (e.g. 4:12:2), a seed and a time "
                                       "limit per scenario of 1 to 600 seconds.")) from None
        job_id = request.app.state.runner.submit_whatif(name, quarter, seed, inspectors, time_limit, ctx.user.name,
                                                        get_language())
        if job_id is None:
            raise HTTPException(409, _("A what-if of {quarter} is already running.").format(quarter=quarter))
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)
    ws = ws_of(request)
    folder_out = ws.stage_dir(name, quarter, "whatif")
    answer = []
    charts = []
    if (folder_out / "summary.json").is_file():
        from riskplan.domain.headers import value_label as label

        summary = json.loads((folder_out / "summary.json").read_text(encoding="utf-8"))
        if "current_staffing" in summary:  # the what-if's own answer, said in the page's language
            from riskplan.analysis.whatif import staffing_answer

            answer.append(staffing_answer(summary["minimal_staffing"], summary["current_staffing"],
                                          summary.get("exact", True), summary.get("largest_staffing_short"),
                                          summary.get("largest_staffing_tried")))
        e = summary.get("extra_qualified")
        if e:
            answer.append(_("One more {qualification}-qualified inspector (at {inspectors}): +{mandatory} mandatory "
                            "visits, +{visits} visits in all").format(
                qualification=label("qualification", e["qualification"]), inspectors=e["at_inspectors"],
                mandatory=e["mandatory_gained"], visits=e["visits_gained"]))
        charts = [f for f in ws.stage_files(name, quarter, "whatif") if f.endswith(".png")]
    return page(request, "whatif.html.j2", name=name, quarter=quarter, answer=answer, charts=charts,
                files=ws.stage_files(name, quarter, "whatif"))


def _printout_sheets(request: Request, by: str):
    """The printouts of the quarter's plan (`riskplan print`), built from the plan folder as asked for."""
    from riskplan.export.printouts import BY, sheets
    from riskplan.load.district import load_district

    if by not in BY:
        raise HTTPException(404, _("There is no such printout."))
    name, folder, quarter = _quarter(request)
    district = load_district(folder)
    return district, sheets(district, _plan_dir(request, name, quarter), by, quarter)


async def printouts_page(request: Request) -> Response:
    """The internal printouts (内部资料): one page per squad, per inspector and per month."""
    require(request, "see_secret")
    name, _folder, quarter = _quarter(request)
    lang = get_language()

    def build():
        with language(lang):
            return {by: [(sheet.stem, sheet.title) for sheet in _printout_sheets(request, by)[1]]
                    for by in ("squad", "inspector", "month")}

    return page(request, "printouts.html.j2", name=name, quarter=quarter, kinds=await run_in_threadpool(build))


async def printout(request: Request) -> Response:
    """One printout, an A4 page to print from the browser."""
    from riskplan.export.printouts import render

    require(request, "see_secret")
    by, stem = request.path_params["by"], request.path_params["stem"]
    lang = get_language()

    def build():
        with language(lang):
            district, found = _printout_sheets(request, by)
            for sheet in found:
                if sheet.stem == stem:
                    return render(sheet, by, district.policy.publish.issuing_bureau)
            return None

    html = await run_in_threadpool(build)
    if html is None:
        raise HTTPException(404, _("There is no such printout."))
    return HTMLResponse(html)


async def report_page(request: Request) -> Response:
    """The bureau chief's report of the plan (`riskplan report`), to read and print."""
    from riskplan.export.report import build_report

    require(request, "see_secret")
    name, folder, quarter = _quarter(request)
    plan_dir = _plan_dir(request, name, quarter)
    whatif = ws_of(request).stage_dir(name, quarter, "whatif") / "whatif.csv"
    lang = get_language()

    def build():
        with language(lang):
            return build_report(folder, plan_dir, whatif if whatif.is_file() else None)

    return HTMLResponse(await run_in_threadpool(build))
