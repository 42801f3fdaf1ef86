"""The web workspace: a Starlette app with server-rendered Jinja2 pages over one workspace folder.

`http` holds what every page shares (sessions, language, CSRF, rendering), `accounts` the pages
about people (sign in, first run, accounts, audit log), `views` the district and quarter pages,
which call the same library functions as the command line.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import accounts, views
from .http import HERE, SessionAndLanguage, SignInNeeded, environment, page
from .jobs import JobRunner
from .store import Store
from .workspace import Workspace


def create_app(workspace: Path | str) -> Starlette:
    """The app over `workspace` (created if missing), its database in WORKSPACE/.riskplan-web/."""
    ws = Workspace(Path(workspace).resolve())
    ws.root.mkdir(parents=True, exist_ok=True)
    store = Store(ws.database)
    store.abandon_active_jobs()
    runner = JobRunner(ws, store)
    env = environment()

    routes = [
        Route("/", views.districts, methods=["GET"]),
        Route("/login", accounts.login, methods=["GET", "POST"]),
        Route("/logout", accounts.logout, methods=["POST"]),
        Route("/setup", accounts.setup, methods=["GET", "POST"]),
        Route("/lang/{code}", accounts.switch_language, methods=["GET"]),
        Route("/users", accounts.users, methods=["GET", "POST"]),
        Route("/audit", accounts.audit, methods=["GET"]),
        *views.routes(),
        Route("/favicon.ico", favicon, methods=["GET"]),  # pages without an icon link (the public notice)
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def sign_in_needed(request: Request, exc: Exception) -> Response:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return page(request, "error.html.j2", status=exc.status_code, message=exc.detail)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        runner.shutdown()

    app = Starlette(routes=routes, exception_handlers={SignInNeeded: sign_in_needed, HTTPException: http_error},
                    lifespan=lifespan)
    app.state.ws, app.state.store, app.state.runner, app.state.env = ws, store, runner, env
    app.add_middleware(SessionAndLanguage, store=store)
    return app


async def favicon(request: Request) -> Response:
    return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")
