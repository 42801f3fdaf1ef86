"""The `riskplan` command line: parses options and calls library functions.

Every command maps bad input to exit status 2 with the problems on stderr, and
writes nothing in that case. The group lives in `cli.base`; each command family is a module
that registers its commands on it, imported here.
"""

from __future__ import annotations

from . import capacity, data, disclosure, history, province, reporting, roster, scoring, value  # noqa: F401
from . import printing  # noqa: F401
from . import replan  # noqa: F401  (re-planning mid-quarter)
from . import serve  # noqa: F401  (the web workspace)
from . import changes  # noqa: F401  (re-planning: the changes workbook)
from . import substitute  # noqa: F401  (issue 13: substitutes for a visit's member or team)
from .base import EXIT_BAD_INPUT, main, reports_bad_input

__all__ = ["EXIT_BAD_INPUT", "main", "reports_bad_input"]

if __name__ == "__main__":  # pragma: no cover
    main()
