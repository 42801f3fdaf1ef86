"""A seed nobody can choose after the fact: the public commitment made before the draw.

A published seed proves nothing if the bureau could have tried seeds until it liked the
draw. So before the plan is made the bureau publishes a commitment, in one of two kinds:

- `hash`: riskplan picks a random seed and a random salt and publishes only
  SHA-256("{quarter}:{seed}:{salt}") with the date; the seed and the salt (the reveal) stay
  in the bureau's hands until the plan is published. Changing the seed afterwards would need
  another seed with the same SHA-256, which nobody can find.
- `beacon`: the bureau names a public random value that does not exist yet (a future lottery
  draw, a beacon's value of a future date); once it is out, the seed is
  int(SHA-256("{quarter}:{source}:{value}")[:15], 16). Nobody, the bureau included, knows the
  seed when the commitment is published.

The public notice and the manifest carry the commitment and its reveal; `verify-draw` recomputes
the hash (or the seed) and says whether they match the published seed.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import secrets
from pathlib import Path
from typing import Any

from riskplan.domain.calendar import Quarter
from riskplan.i18n import _
from riskplan.load.district import DistrictError, Problem

COMMITMENT_FILE = "seed_commitment.json"
REVEAL_FILE = "seed_reveal.json"
KINDS = ("hash", "beacon")
SEED_BITS = 60


def commitment_digest(quarter: str, seed: int, salt: str) -> str:
    """SHA-256 of "{quarter}:{seed}:{salt}" as UTF-8, hex."""
    return hashlib.sha256(f"{quarter}:{int(seed)}:{salt}".encode("utf-8")).hexdigest()


def beacon_seed(quarter: str, source: str, value: str) -> int:
    """The seed a named public random value gives: the first 15 hex digits of
    SHA-256("{quarter}:{source}:{value}") (the value with surrounding spaces removed)."""
    digest = hashlib.sha256(f"{quarter}:{source}:{value.strip()}".encode("utf-8")).hexdigest()
    return int(digest[:15], 16)


def hash_commitment(quarter: str, day: datetime.date, seed: int | None = None,
                    salt: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the public commitment, the private reveal) of a fresh random seed; `seed`/`salt` only
    for tests and for re-making a lost file from a kept seed and salt."""
    Quarter.parse(quarter)
    seed = secrets.randbits(SEED_BITS) if seed is None else int(seed)
    salt = secrets.token_hex(16) if salt is None else salt
    public = {"kind": "hash", "quarter": quarter, "date": day.isoformat(),
              "sha256": commitment_digest(quarter, seed, salt)}
    return public, {"kind": "hash", "quarter": quarter, "seed": seed, "salt": salt}


def beacon_commitment(quarter: str, day: datetime.date, source: str) -> dict[str, Any]:
    """The public commitment to a future public random value named by `source`."""
    Quarter.parse(quarter)
    if not source.strip():
        raise ValueError(_("name the future public random value (for example a lottery draw and its date)"))
    return {"kind": "beacon", "quarter": quarter, "date": day.isoformat(), "source": source.strip()}


def beacon_reveal(commitment: dict[str, Any], value: str) -> dict[str, Any]:
    """The reveal of a beacon commitment once its value is public: the value and the seed it gives."""
    if not value.strip():
        raise ValueError(_("the public random value is empty"))
    return {"kind": "beacon", "quarter": commitment["quarter"], "value": value.strip(),
            "seed": beacon_seed(commitment["quarter"], commitment["source"], value)}


def opened_seed(commitment: dict[str, Any], reveal: dict[str, Any]) -> tuple[int | None, str]:
    """The seed the reveal opens the commitment to, or None and what does not match."""
    quarter = commitment.get("quarter")
    if reveal.get("quarter") != quarter:
        return None, _("the reveal is for quarter {other}, the commitment for {quarter}").format(
            other=reveal.get("quarter"), quarter=quarter)
    if commitment.get("kind") == "hash":
        try:
            digest = commitment_digest(quarter, int(reveal["seed"]), str(reveal["salt"]))
        except (KeyError, TypeError, ValueError):
            return None, _("the reveal lacks a whole-number seed and a salt")
        if digest != commitment.get("sha256"):
            return None, _("SHA-256 of quarter, seed {seed} and salt is {digest}, the commitment published "
                           "{published}").format(seed=reveal.get("seed"), digest=digest,
                                                 published=commitment.get("sha256"))
        return int(reveal["seed"]), ""
    if commitment.get("kind") == "beacon":
        if not isinstance(reveal.get("value"), str):
            return None, _("the reveal lacks the public random value")
        return beacon_seed(quarter, str(commitment.get("source", "")), reveal["value"]), ""
    return None, _("unknown commitment kind {kind}").format(kind=repr(commitment.get("kind")))


def read_json(path: Path) -> dict[str, Any]:
    """A commitment or reveal file, or DistrictError naming it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DistrictError([Problem(path.name, _("missing from {folder}").format(folder=path.parent))]) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DistrictError([Problem(path.name, _("not JSON text"))]) from None
    if not isinstance(data, dict) or data.get("kind") not in KINDS or not isinstance(data.get("quarter"), str):
        raise DistrictError([Problem(path.name, _("not a seed commitment or reveal written by commit-seed"))])
    return data


def commitment_for_plan(folder: Path, plan_seed: int, quarter: str) -> dict[str, Any]:
    """The commitment and reveal in `folder`, checked against the plan: what the plan and the
    manifest carry. DistrictError when the reveal does not open the commitment to the plan's seed."""
    folder = Path(folder)
    return checked_commitment(read_json(folder / COMMITMENT_FILE), read_json(folder / REVEAL_FILE), plan_seed,
                              quarter)


def checked_commitment(commitment: dict[str, Any], reveal: dict[str, Any], plan_seed: int,
                       quarter: str) -> dict[str, Any]:
    """{"commitment", "reveal"} when the reveal opens the commitment to `plan_seed` for `quarter`
    (also for a pair a plan carries: it is checked again, not trusted)."""
    seed, why = opened_seed(commitment, reveal)
    if seed is None:
        raise DistrictError([Problem(REVEAL_FILE, _("does not open the seed commitment: {why}").format(why=why))])
    if commitment["quarter"] != quarter:
        raise DistrictError([Problem(COMMITMENT_FILE, _("is for quarter {other}, the plan for {quarter}").format(
            other=commitment["quarter"], quarter=quarter))])
    if seed != int(plan_seed):
        raise DistrictError([Problem(REVEAL_FILE, _("opens the commitment to seed {seed}, but the plan was drawn "
                                                    "with seed {plan}: make the plan with --seed {seed}").format(
            seed=seed, plan=plan_seed))])
    return {"commitment": commitment, "reveal": reveal}
