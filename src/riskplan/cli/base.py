"""The command group every command family registers on, and the bad-input guard they share."""

from __future__ import annotations

import functools
import sys

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


@click.group()
@click.version_option(__version__, prog_name="riskplan")
def main() -> None:
    """Risk tiers and double-random inspection rosters for work-safety regulators."""
