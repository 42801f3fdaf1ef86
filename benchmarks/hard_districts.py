"""Hard benchmark districts: what the generator's defaults do not show (issue 14).

`hard_district(size)` takes the generated district `district_path(size, seed)` and makes it
hard the way real districts are, into the git-ignored cache (`benchmarks/.districts/<size>-<seed>-hard`):

- model-tiered with shares: `[tiering] method = "shares"`, red 4 %, orange 8 %, yellow 25 %
  (the plan tiers with the shipped model, not the generator's true tiers);
- month-1 pile-ups: the latest past visit of 4 % of the enterprises found a major hazard
  (a follow-up in month 1 each), on top of the overdue orange and red month-1 visits;
- scarce hazchem: only 12 % of the certified inspectors keep the hazchem qualification;
- cross-area on (`cross_area = true`; the generator gives about a third of the inspectors a home);
- heavy leave: 35 % of the inspectors away two working weeks starting in January or February,
  10 % one more week in March.

Every change is seeded (numpy) and the folder carries a stamp of this file and the generator,
so a benchmark never measures stale data.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from districts import CACHE, STAMP, _stamp, district_path

HARD_SHARES = {"red": 0.04, "orange": 0.08, "yellow": 0.25}
PILE_UP_SHARE = 0.04
HAZCHEM_SHARE = 0.12
LEAVE_SHARE, MARCH_LEAVE_SHARE = 0.35, 0.10


def _hard_stamp(key: str) -> str:
    return _stamp(key).strip() + " " + hashlib.sha256(Path(__file__).read_bytes()).hexdigest() + "\n"


def _policy(text: str) -> str:
    text = re.sub(r"(?m)^cross_area\s*=.*$", "cross_area = true", text)
    text = re.sub(r"(?ms)^\[tiering\].*?(?=^\[|\Z)", "", text)
    return text.rstrip() + "\n\n[tiering]\nmethod = \"shares\"\n" + "".join(
        f"{tier} = {share}\n" for tier, share in HARD_SHARES.items())


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.write_bytes(frame.to_csv(index=False).encode("utf-8-sig"))


def make_hard(src: Path, dst: Path, seed: int) -> None:
    rng = np.random.default_rng([seed, 14])
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    (dst / "policy.toml").write_text(_policy((src / "policy.toml").read_text(encoding="utf-8")), encoding="utf-8")

    insp = _csv(dst / "inspectors.csv")
    holders = [k for k, q in enumerate(insp["qualifications"]) if "hazchem" in q.split(";")]
    keep = set(rng.choice(holders, size=max(2, int(HAZCHEM_SHARE * (insp["certified"] == "1").sum())),
                          replace=False).tolist()) if holders else set()
    insp["qualifications"] = [q if k in keep else ";".join(x for x in q.split(";") if x != "hazchem")
                              for k, q in enumerate(insp["qualifications"])]
    _write(insp, dst / "inspectors.csv")

    leave = _csv(dst / "leave.csv")
    rows = []
    ids = insp["inspector_id"].tolist()
    for i in rng.choice(len(ids), size=int(LEAVE_SHARE * len(ids)), replace=False):
        start = date(2027, 1, 4) + timedelta(weeks=int(rng.integers(0, 7)))
        rows.append({"inspector_id": ids[i], "start": start.isoformat(), "end": (start + timedelta(days=11)).isoformat()})
    for i in rng.choice(len(ids), size=int(MARCH_LEAVE_SHARE * len(ids)), replace=False):
        start = date(2027, 3, 1) + timedelta(weeks=int(rng.integers(0, 4)))
        rows.append({"inspector_id": ids[i], "start": start.isoformat(), "end": (start + timedelta(days=4)).isoformat()})
    _write(pd.concat([leave, pd.DataFrame(rows)], ignore_index=True), dst / "leave.csv")

    visits = _csv(dst / "inspections.csv")
    latest = visits.assign(_d=pd.to_datetime(visits["date"])).sort_values("_d").groupby("enterprise_id").tail(1)
    pick = rng.choice(latest.index.to_numpy(), size=int(PILE_UP_SHARE * latest["enterprise_id"].nunique()),
                      replace=False)
    visits.loc[pick, "major_hazards_found"] = "1"
    visits.loc[pick, "hazards_found"] = [str(max(1, int(h or 0))) for h in visits.loc[pick, "hazards_found"]]
    _write(visits, dst / "inspections.csv")


def hard_district(size: str, seed: int = 1) -> Path:
    """The hard variant of district_path(size, seed), made once (see the module docstring)."""
    key = f"{size.upper()}-{seed}-hard"
    path = CACHE / key
    stamp = _hard_stamp(key)
    if (path / STAMP).exists() and (path / STAMP).read_text(encoding="utf-8") == stamp:
        return path
    make_hard(district_path(size, seed), path, seed)
    (path / STAMP).write_text(stamp, encoding="utf-8")
    return path


if __name__ == "__main__":  # python benchmarks/hard_districts.py M L XL
    import sys

    for name in sys.argv[1:] or ["L", "XL"]:
        print(hard_district(name))
