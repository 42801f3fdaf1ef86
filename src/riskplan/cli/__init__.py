"""The `riskplan` command line: parses options and calls library functions.

Every command maps bad input to exit status 2 with the problems on stderr, and
writes nothing in that case.
"""

from __future__ import annotations

import functools
import sys

import click

from .. import __version__

EXIT_BAD_INPUT = 2


def reports_bad_input(func):
    """Turn the library's input errors into a clear message and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from ..district import DistrictError
        from ..io import TableReadError
        from ..policy import PolicyError

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


# Each command family lives in its own module and registers itself on `main`.
from . import capacity  # noqa: E402,F401
from . import data  # noqa: E402,F401
from . import disclosure  # noqa: E402,F401
from . import history  # noqa: E402,F401
from . import reporting  # noqa: E402,F401
from . import roster  # noqa: E402,F401
from . import scoring  # noqa: E402,F401
from . import value  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    main()
