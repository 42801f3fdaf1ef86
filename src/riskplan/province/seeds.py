"""The district seed rule: one province seed gives every district its own seed, reproducibly.

    district seed = the first 8 hexadecimal digits of sha256("<province seed>:<district name>")
                    (UTF-8), read as a number (0 … 4,294,967,295)

The district name is its folder's name (or the `name` column of districts.csv). The rule needs
nothing but the two values, so any district can be re-planned alone with `riskplan plan
--seed <its seed>` (the province manifest records every seed); districts never share a seed by
construction of their names, and adding a district does not change the others' seeds."""

from __future__ import annotations

import hashlib

from riskplan.i18n import N_

#: The rule as people read it (the manifest records it next to the seeds).
SEED_RULE = N_('first 8 hex digits of sha256("<province seed>:<district name>"), as a number')


def district_seed(province_seed: int, name: str) -> int:
    """The seed of district `name` in a province run with `province_seed` (module docstring)."""
    digest = hashlib.sha256(f"{int(province_seed)}:{name}".encode("utf-8")).hexdigest()
    return int(digest[:8], 16)
