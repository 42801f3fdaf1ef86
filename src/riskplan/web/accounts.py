"""The pages that are not about districts: sign in and out, first run, language, accounts, the
audit log."""

from __future__ import annotations

import secrets

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from riskplan.i18n import _, normalize_language

from . import security
from .http import (LANG_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, Context, checked_form, cookie_options, local_path,
                   page, require, store_of)
from .store import ROLES, Store


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
            response.set_cookie(SESSION_COOKIE, store.new_session(user.id), **cookie_options(request))
            response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
            store.audit(user.name, "sign-in")
            return response
        error = _("Wrong user name or password.")
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html.j2", status=401 if error else 200, error=error, login_csrf=token,
                    next=local_path(request.query_params.get("next")))
    response.set_cookie(LOGIN_CSRF_COOKIE, token, **cookie_options(request))
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
    response.set_cookie(LOGIN_CSRF_COOKIE, token, **cookie_options(request))
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
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, **cookie_options(request))
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
