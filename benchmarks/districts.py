"""Generated benchmark districts, made once and reused: `district_path(size, seed, **overrides)`.

Benchmarks need S–XL districts on disk without regenerating them on every run, and
without committing them: they live in the git-ignored `benchmarks/.districts/<key>/`,
where key is ``<size>-<seed>`` plus any overrides (``XL-1-n_inspectors=150``). Each folder
carries a stamp of the generator's source; a folder made by another version of
`riskplan.synth` is regenerated, so a benchmark never measures stale data.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import riskplan.synth as synth

CACHE = Path(__file__).resolve().parent / ".districts"
STAMP = ".synth-stamp"
OVERRIDES = ("n_enterprises", "n_inspectors", "years", "end", "team_leniency")


def cache_key(size: str, seed: int = 1, **overrides) -> str:
    unknown = set(overrides) - set(OVERRIDES)
    if unknown:
        raise TypeError(f"unknown override(s) {sorted(unknown)}; use {', '.join(OVERRIDES)}")
    parts = [size.upper(), str(seed)]
    parts += [f"{k}={overrides[k]}" for k in sorted(overrides) if overrides[k] is not None]
    return "-".join(parts)


def _stamp(key: str) -> str:
    package = Path(synth.__file__).parent
    source = b"".join(p.read_bytes() for p in sorted(package.glob("*.py")))
    return f"{key} {hashlib.sha256(source).hexdigest()}\n"


def district_path(size: str, seed: int = 1, **overrides) -> Path:
    """The folder of a generated district, generating it the first time (or when stale).

    overrides: n_enterprises, n_inspectors, years, end (a date or ISO text), as in
    `riskplan.synth.generate_district`.
    """
    key = cache_key(size, seed, **overrides)
    path = CACHE / key
    stamp = _stamp(key)
    if (path / STAMP).exists() and (path / STAMP).read_text(encoding="utf-8") == stamp:
        return path
    kwargs = dict(overrides)
    if isinstance(kwargs.get("end"), str):
        kwargs["end"] = date.fromisoformat(kwargs["end"])
    CACHE.mkdir(parents=True, exist_ok=True)
    if path.exists():  # a stale cache entry (maybe from before outputs carried riskplan's marker)
        shutil.rmtree(path)
    synth.generate_district(path, size=size.upper(), seed=seed, **kwargs)
    (path / STAMP).write_text(stamp, encoding="utf-8")
    return path


if __name__ == "__main__":  # python benchmarks/districts.py S M L XL
    import sys

    for name in sys.argv[1:] or ["S", "M", "L", "XL"]:
        print(district_path(name))
