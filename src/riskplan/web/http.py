"""What every page shares: who is signed in (a session cookie, HttpOnly and SameSite=Strict,
looked up in the database), the page language (the user's choice, else a cookie, else Chinese;
set per request through `riskplan.i18n.language`), CSRF tokens on every form, and rendering.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from riskplan.i18n import _, get_language, language, ngettext, normalize_language

from . import security
from .store import Store
from .workspace import MAX_UPLOAD_BYTES, MAX_UPLOAD_FILES

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


#: Sent with every response. Scripts only from the app itself and never `eval` (the browser enforces
#: what htmx's own config also says); the report's and notices' inline styles and data-URL charts allowed.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                           "form-action 'self'")
SECURITY_HEADERS = [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]


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
        async def send_with_policy(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        with language(lang):
            await self.app(scope, receive, send_with_policy)


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


def cookie_options(request: Request) -> dict[str, Any]:
    return {"httponly": True, "samesite": "strict", "secure": request.url.scheme == "https", "path": "/"}
