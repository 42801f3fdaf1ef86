"""Planning a quarter outside the request: a thread pool runs `pipeline.run_plan` (what `riskplan
plan` runs) and writes its progress to the job's row in the database, which the page polls.

A job survives a page reload (its state is in SQLite, not in the page); a second plan of the
same quarter is refused while one is active (`Store.add_job`). Cancel sets a flag the solver's
progress callback reads: the solve stops at its next progress line, before anything is written
(plan files are written atomically at the end, so a cancelled job leaves the old plan as it was).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from riskplan.i18n import _, language

from .store import Store, now
from .workspace import Workspace

#: Plans at once; CP-SAT is single-threaded here, and a bureau machine has few cores.
WORKERS = 1


class JobCancelled(Exception):
    """Raised from the progress callback to stop a cancelled solve (not a fallback: nothing written)."""


_PROGRESS_TIME = re.compile(r"^\[\s*[\d.]+s\]\s*")


class JobRunner:
    def __init__(self, ws: Workspace, store: Store, workers: int = WORKERS):
        self.ws, self.store = ws, store
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="riskplan-job")

    def submit_plan(self, district: str, quarter: str, seed: int, time_limit: float, replace: bool,
                    user_name: str, lang: str) -> int | None:
        params = {"seed": seed, "time_limit": time_limit, "replace": replace, "lang": lang}
        return self._submit("plan", district, quarter, params, user_name, self._run_plan)

    def submit_whatif(self, district: str, quarter: str, seed: int, inspectors: str, time_limit: float,
                      user_name: str, lang: str) -> int | None:
        params = {"seed": seed, "inspectors": inspectors, "time_limit": time_limit, "lang": lang}
        return self._submit("whatif", district, quarter, params, user_name, self._run_whatif)

    def _submit(self, kind: str, district: str, quarter: str, params: dict, user_name: str, run) -> int | None:
        """The job recorded, then queued; None when one of its kind is already running for the quarter."""
        job_id = self.store.add_job(kind, district, quarter, params, user_name)
        if job_id is not None:
            self.pool.submit(run, job_id)
        return job_id

    def shutdown(self) -> None:
        """On server stop: queued jobs are dropped and a running one stops at its next progress line
        (the interpreter waits for the pool's thread before it exits)."""
        self.store.cancel_active_jobs()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _run_plan(self, job_id: int) -> None:
        from riskplan.export.plan_files import fallback_notice
        from riskplan.pipeline import run_plan

        job = self.store.job(job_id)
        params = job["params"]
        with language(params["lang"]):
            if self.store.cancel_requested(job_id):
                self.store.update_job(job_id, state="cancelled", finished=now())
                return
            self.store.update_job(job_id, state="running", phase=_("reading the district and tiering"))
            steps = 0

            def progress(*args, **kwargs) -> None:
                nonlocal steps
                if self.store.cancel_requested(job_id):
                    raise JobCancelled()
                steps += 1
                text = _PROGRESS_TIME.sub("", " ".join(str(a) for a in args))
                self.store.update_job(job_id, phase=text[:300], steps=steps)

            try:
                district_dir = self.ws.district_dir(job["district"])
                out = self.ws.stage_dir(job["district"], job["quarter"], "plan")
                out.parent.mkdir(parents=True, exist_ok=True)
                result = run_plan(district_dir, job["quarter"], params["seed"], None, out_dir=out,
                                  force=params["replace"], time_limit=params["time_limit"], progress=progress)
            except JobCancelled:
                self.store.update_job(job_id, state="cancelled", phase=_("cancelled; nothing was written"),
                                      finished=now())
                self.store.audit(job["user_name"], "plan-cancelled", job["district"], job["quarter"], f"job {job_id}")
                return
            except Exception as exc:  # every failure is shown on the job's page, in the user's language
                self.store.update_job(job_id, state="failed", error=str(exc)[:4000], finished=now())
                self.store.audit(job["user_name"], "plan-failed", job["district"], job["quarter"], f"job {job_id}")
                return
            plan = result.plan
            placed = plan["counts"]["placed"]
            missing = plan["shortfall"]["missing_total"]
            notice = fallback_notice(plan)
            self.store.update_job(job_id, state="done", placed=placed, shortfall=missing,
                                  phase=notice or _("finished"), finished=now())
            self.store.audit(job["user_name"], "plan", job["district"], job["quarter"],
                             f"job {job_id}, seed {params['seed']}, placed {placed}, shortfall {missing}")


    def _run_whatif(self, job_id: int) -> None:
        """`analysis.whatif.run_whatif` over a range of certified inspectors (what `riskplan whatif
        --inspectors` runs), in this thread (workers=1: no processes forked from the server)."""
        from riskplan.analysis.whatif import parse_range, run_whatif, scenario_grid, write_whatif

        job = self.store.job(job_id)
        params = job["params"]
        with language(params["lang"]):
            if self.store.cancel_requested(job_id):
                self.store.update_job(job_id, state="cancelled", finished=now())
                return
            self.store.update_job(job_id, state="running", phase=_("reading the district and tiering"))

            def progress(done: int, total: int, label: str) -> None:
                if self.store.cancel_requested(job_id):
                    raise JobCancelled()
                self.store.update_job(job_id, phase=f"{done}/{total} {label}"[:300], steps=done)

            try:
                scenarios = scenario_grid(parse_range(params["inspectors"], int))
                result = run_whatif(self.ws.district_dir(job["district"]), job["quarter"], params["seed"], scenarios,
                                    time_limit=params["time_limit"], workers=1, progress=progress)
                out = self.ws.stage_dir(job["district"], job["quarter"], "whatif")
                out.parent.mkdir(parents=True, exist_ok=True)
                write_whatif(result, out, force=out.exists())
            except JobCancelled:
                self.store.update_job(job_id, state="cancelled", phase=_("cancelled; nothing was written"),
                                      finished=now())
                return
            except Exception as exc:  # shown on the job's page
                self.store.update_job(job_id, state="failed", error=str(exc)[:4000], finished=now())
                return
            self.store.update_job(job_id, state="done", phase=_("finished"), finished=now())
            self.store.audit(job["user_name"], "whatif", job["district"], job["quarter"],
                             f"job {job_id}, inspectors {params['inspectors']}")
