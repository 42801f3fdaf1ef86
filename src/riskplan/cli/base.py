"""The command group every command family registers on, and the bad-input guard they share."""

from __future__ import annotations

import contextlib
import functools
import sys
from pathlib import Path

import click

from riskplan import __version__

EXIT_BAD_INPUT = 2


def reports_bad_input(func):
    """Turn the library's input errors into a clear message and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from riskplan.domain.policy import PolicyError
        from riskplan.io import TableReadError
        from riskplan.load.district import DistrictError

        try:
            return func(*args, **kwargs)
        except (DistrictError, PolicyError, TableReadError, FileExistsError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)

    return wrapper


class ExistingFolder(click.Path):
    """An existing folder argument (a district, a plan, public files): a replace a crash cut
    short there is finished first (`riskplan.io.restore_interrupted`), so the folder is found again."""

    def __init__(self) -> None:
        super().__init__(exists=True, file_okay=False, path_type=Path)

    def convert(self, value, param, ctx):
        from riskplan.outputs import restore_interrupted

        with contextlib.suppress(OSError):  # a folder that cannot be restored is reported as missing
            restore_interrupted(value)
        return super().convert(value, param, ctx)


@click.group()
@click.version_option(__version__, prog_name="riskplan")
def main() -> None:
    """Risk tiers and double-random inspection rosters for work-safety regulators."""
