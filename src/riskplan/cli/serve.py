"""`riskplan serve`: the web workspace over a folder of districts (docs/web.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from riskplan.i18n import _

from .base import main, reports_bad_input

ROLE_NAMES = ("admin", "planner", "chief", "inspector", "viewer")


@main.command()
@click.option("--workspace", "workspace", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="folder of district folders (created if missing); the app's database lives in it")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (the default serves this machine only)")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8000, show_default=True,
              help="port to listen on")
@click.option("--create-admin", "create_admin", metavar="NAME", default=None,
              help="add the administrator NAME (the password is asked for, or read from "
                   "RISKPLAN_PASSWORD) and exit")
@click.option("--add-user", "add_user", metavar="NAME", default=None,
              help="add the user NAME with --role (the password as for --create-admin) and exit")
@click.option("--role", type=click.Choice(ROLE_NAMES), default="viewer", show_default=True,
              help="role of --add-user: planner plans and records, chief reads everything and publishes, "
                   "inspector and viewer see tiers and public files")
@click.option("--add-district", "add_districts", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="copy this district folder into the workspace first (validated like an upload; a district of "
                   "that name already there is backed up); repeatable")
@reports_bad_input
def serve(workspace: Path, host: str, port: int, create_admin: str | None, add_user: str | None, role: str,
          add_districts: tuple[Path, ...]) -> None:
    """Serve the web workspace over WORKSPACE in a browser (Chinese by default)."""
    from riskplan.web.workspace import Workspace

    ws = Workspace(workspace.resolve())
    for folder in add_districts:
        _add_district(ws, folder)
    if create_admin or add_user:
        name, user_role = (create_admin, "admin") if create_admin else (add_user, role)
        _add_account(workspace, name, user_role)
        return
    import uvicorn

    from riskplan.web import create_app

    click.echo(_("Serving {workspace} at http://{host}:{port}/ (Ctrl+C stops)").format(
        workspace=ws.root, host=host, port=port), err=True)
    uvicorn.run(create_app(ws.root), host=host, port=port, log_level="warning")


def _add_account(workspace: Path, name: str, role: str) -> None:
    """One account in the workspace's database (the password asked for, or RISKPLAN_PASSWORD)."""
    import os

    from riskplan.web.accounts import account_problem
    from riskplan.web.security import hash_password
    from riskplan.web.store import Store
    from riskplan.web.workspace import Workspace

    workspace.mkdir(parents=True, exist_ok=True)
    store = Store(Workspace(workspace.resolve()).database)
    password = os.environ.get("RISKPLAN_PASSWORD") or click.prompt(
        _("Password for {name}").format(name=name), hide_input=True, confirmation_prompt=True)
    problem = account_problem(store, name, password)
    if problem:
        click.echo(_("error: {message}").format(message=problem), err=True)
        sys.exit(2)
    store.add_user(name, role, hash_password(password))
    store.audit("(command line)", "add-user", detail=f"{name} ({role})")
    click.echo(_("User {name} added.").format(name=name))


@main.group()
def users() -> None:
    """Accounts of the web workspace: add one, or list them."""


WORKSPACE_OPTION = click.option("--workspace", "workspace", type=click.Path(file_okay=False, path_type=Path),
                                required=True, help="the workspace folder riskplan serve runs on")


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLE_NAMES), required=True,
              help="admin manages accounts, planner plans and records, chief reads everything and publishes, "
                   "inspector and viewer see tiers and public files")
@WORKSPACE_OPTION
@reports_bad_input
def users_add(name: str, role: str, workspace: Path) -> None:
    """Add the account NAME with its role (the password is asked for, or read from RISKPLAN_PASSWORD)."""
    _add_account(workspace, name, role)


@users.command("list")
@WORKSPACE_OPTION
@reports_bad_input
def users_list(workspace: Path) -> None:
    """The workspace's accounts and their roles."""
    from riskplan.web.store import Store
    from riskplan.web.workspace import Workspace

    ws = Workspace(workspace.resolve())
    if not ws.database.exists():
        click.echo(_("{workspace} has no accounts yet.").format(workspace=ws.root))
        return
    for user in Store(ws.database).users():
        click.echo(f"{user.name}\t{user.role}")


def _add_district(ws, folder: Path) -> None:
    """A district folder's tables and policy into the workspace, through the upload's validation."""
    from riskplan.load.district import DistrictError
    from riskplan.web.workspace import replace_district

    if not folder.is_dir():
        raise click.BadParameter(_("{folder} is not a folder").format(folder=folder), param_hint="--add-district")
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())
             if p.is_file() and p.suffix.lower() in (".csv", ".xlsx", ".toml") and not p.name.startswith((".", "~$"))}
    ws.root.mkdir(parents=True, exist_ok=True)
    outcome = replace_district(ws, folder.resolve().name, files)
    if outcome.problems:
        raise DistrictError(outcome.problems)
    click.echo(_("District {name} added to the workspace ({count} enterprises).").format(
        name=folder.resolve().name, count=len(outcome.district.enterprises)), err=True)
