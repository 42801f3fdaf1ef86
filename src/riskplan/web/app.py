"""The web workspace: a Starlette app with server-rendered Jinja2 pages over one workspace folder.

This module holds what every page shares: who is signed in (a session cookie, HttpOnly and
SameSite=Strict, looked up in the database), the page language (the user's choice, else a
cookie, else Chinese; set per request through `riskplan.i18n.language`), CSRF tokens on every
form, rendering, and the pages that are not about districts (sign in, first run, language,
accounts, audit log). The district and quarter pages are in `views`; they call the same library
functions as the command line.
"""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from riskplan.i18n import _, get_language, language, ngettext, normalize_language

from . import security
from .jobs import JobRunner
from .store import ROLES, Store
from .workspace import MAX_UPLOAD_BYTES, MAX_UPLOAD_FILES, Workspace

SESSION_COOKIE = "riskplan_session"
LANG_COOKIE = "riskplan_lang"
LOGIN_CSRF_COOKIE = "riskplan_login_csrf"
HERE = Path(__file__).resolve().parent


class SignInNeeded(Exception):
    """The request needs a signed-in user: answered with a redirect to the sign-in page."""


class Context:
    """What a handler knows about the request's user (None when signed out)."""

    def __init__(self, request: Request):
        self.request = request
        self.session = request.scope.get("riskplan.session")
        self.user = self.session.user if self.session else None

    def may(self, permission: str) -> bool:
        return self.user is not None and security.may(self.user.role, permission)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(gettext=_, ngettext=ngettext, newstyle=False)
    return env


class SessionAndLanguage:
    """ASGI middleware: finds the session from its cookie and runs the request in its language."""

    def __init__(self, app, store: Store):
        self.app, self.store = app, store

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        session = self.store.session(request.cookies.get(SESSION_COOKIE))
        scope["riskplan.session"] = session
        lang = (session.user.lang if session and session.user.lang else None) or request.cookies.get(LANG_COOKIE)
        try:
            lang = normalize_language(lang) if lang else "zh"
        except ValueError:
            lang = "zh"
        with language(lang):
            await self.app(scope, receive, send)


def create_app(workspace: Path | str) -> Starlette:
    """The app over `workspace` (created if missing), its database in WORKSPACE/.riskplan-web/."""
    from . import views

    ws = Workspace(Path(workspace).resolve())
    ws.root.mkdir(parents=True, exist_ok=True)
    store = Store(ws.database)
    store.abandon_active_jobs()
    runner = JobRunner(ws, store)
    env = environment()

    routes = [
        Route("/", views.districts, methods=["GET"]),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/setup", setup, methods=["GET", "POST"]),
        Route("/lang/{code}", switch_language, methods=["GET"]),
        Route("/users", users, methods=["GET", "POST"]),
        Route("/audit", audit, methods=["GET"]),
        *views.routes(),
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


# ------------------------------------------------------------------ shared by the pages

def store_of(request: Request) -> Store:
    return request.app.state.store


def page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    ctx = Context(request)
    html = request.app.state.env.get_template(template).render(
        user=ctx.user, csrf=ctx.session.csrf if ctx.session else "", may=ctx.may, lang=get_language(),
        html_lang="zh-CN" if get_language() == "zh" else "en", path=request.url.path,
        role_label=lambda r: _(security.ROLE_LABELS.get(r, r)), **values)
    return HTMLResponse(html, status_code=status)


def require(request: Request, permission: str | None = None) -> Context:
    """The signed-in user's context; redirect to sign-in when signed out, 403 without `permission`."""
    ctx = Context(request)
    if ctx.user is None:
        raise SignInNeeded()
    if permission is not None and not ctx.may(permission):
        raise HTTPException(403, _("Your role may not open this page."))
    return ctx


async def checked_form(request: Request, ctx: Context | None = None):
    """The posted form, after its CSRF token matched the session's; 403 otherwise. Bodies over the
    upload limit are refused before they are read."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, _("The upload is larger than {size} MB.").format(size=MAX_UPLOAD_BYTES // 2**20))
    form = await request.form(max_files=MAX_UPLOAD_FILES, max_fields=50, max_part_size=MAX_UPLOAD_BYTES)
    expected = ctx.session.csrf if ctx is not None and ctx.session else request.cookies.get(LOGIN_CSRF_COOKIE)
    given = form.get("csrf") or request.headers.get("x-csrf-token")
    if not security.same_token(expected, given):
        raise HTTPException(403, _("The form has expired or did not come from this site; reload the page and try "
                                   "again."))
    return form


def local_path(target: str | None) -> str:
    """Only a path on this site is a place to go back to (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _cookie_options(request: Request) -> dict[str, Any]:
    return {"httponly": True, "samesite": "strict", "secure": request.url.scheme == "https", "path": "/"}


# ------------------------------------------------------------------------------ pages

async def login(request: Request) -> Response:
    store = store_of(request)
    if store.user_count() == 0:
        return RedirectResponse("/setup", status_code=303)
    error = None
    if request.method == "POST":
        form = await checked_form(request)
        name, password = str(form.get("name", "")), str(form.get("password", ""))
        found = store.user_by_name(name)
        ok = security.verify_password(found[1] if found else security.DUMMY_HASH, password) and found is not None
        if ok:
            user, password_hash = found
            if security.needs_rehash(password_hash):
                store.set_password_hash(user.id, security.hash_password(password))
            response = RedirectResponse(local_path(str(form.get("next", "/"))), status_code=303)
            response.set_cookie(SESSION_COOKIE, store.new_session(user.id), **_cookie_options(request))
            response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
            store.audit(user.name, "sign-in")
            return response
        error = _("Wrong user name or password.")
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html.j2", status=401 if error else 200, error=error, login_csrf=token,
                    next=local_path(request.query_params.get("next")))
    response.set_cookie(LOGIN_CSRF_COOKIE, token, **_cookie_options(request))
    return response


async def logout(request: Request) -> Response:
    ctx = require(request)
    await checked_form(request, ctx)
    store_of(request).end_session(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def setup(request: Request) -> Response:
    """First run: the first administrator, only while there is no account at all."""
    store = store_of(request)
    if store.user_count() > 0:
        return RedirectResponse("/login", status_code=303)
    error = None
    if request.method == "POST":
        form = await checked_form(request)
        name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
        error = account_problem(store, name, password)
        if error is None:
            store.add_user(name, "admin", security.hash_password(password))
            store.audit(name, "first-admin", detail=name)
            return RedirectResponse("/login", status_code=303)
    token = secrets.token_urlsafe(32)
    response = page(request, "setup.html.j2", error=error, login_csrf=token)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, **_cookie_options(request))
    return response


def account_problem(store: Store, name: str, password: str) -> str | None:
    """Why an account cannot be made with this name and password (None: it can)."""
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        return _("A user name is 1 to 64 characters without spaces.")
    if store.user_by_name(name) is not None:
        return _("There is already a user {name}.").format(name=name)
    if len(password) < security.MIN_PASSWORD:
        return _("A password has at least {count} characters.").format(count=security.MIN_PASSWORD)
    return None


async def switch_language(request: Request) -> Response:
    try:
        code = normalize_language(request.path_params["code"])
    except ValueError:
        raise HTTPException(404, _("No such language.")) from None
    ctx = Context(request)
    if ctx.user is not None:
        store_of(request).set_lang(ctx.user.id, code)
    response = RedirectResponse(local_path(request.query_params.get("next")), status_code=303)
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, **_cookie_options(request))
    return response


async def users(request: Request) -> Response:
    ctx = require(request, "users")
    store = store_of(request)
    error = message = None
    if request.method == "POST":
        form = await checked_form(request, ctx)
        name, password, role = str(form.get("name", "")).strip(), str(form.get("password", "")), form.get("role")
        error = account_problem(store, name, password) or (None if role in ROLES else _("Choose a role."))
        if error is None:
            store.add_user(name, role, security.hash_password(password))
            store.audit(ctx.user.name, "add-user", detail=f"{name} ({role})")
            message = _("User {name} added.").format(name=name)
    return page(request, "users.html.j2", users=store.users(), roles=ROLES, error=error, message=message)


async def audit(request: Request) -> Response:
    require(request, "audit")
    return page(request, "audit.html.j2", entries=store_of(request).audit_log())
