"""Progress lines and the time budget of a solve.

Work is bounded by counts, never cut short by the clock (that would make the roster depend
on machine speed): past the deadline the solve is abandoned for the greedy roster."""

from __future__ import annotations

import time
from typing import Callable

from riskplan.i18n import _

Progress = Callable[[str], None]


class _Reporter:
    def __init__(self, progress: Progress | None, t0: float):
        self.progress, self.t0 = progress, t0

    def __call__(self, msg: str) -> None:
        if self.progress is not None:
            self.progress(f"[{time.perf_counter() - self.t0:6.2f}s] {msg}")


def _check_deadline(deadline: float, where: str) -> None:
    """`where` is a step's name marked with N_ (translated here). Work is bounded by counts, never cut short by the clock (that would make the roster
    depend on machine speed): past the deadline the solve is abandoned for the greedy roster."""
    if time.perf_counter() > deadline:
        raise TimeoutError(_("time limit reached in {where}").format(where=_(where)))
