"""Anyone can re-run the published draw: `verify_draw` re-derives it from the public files.

The public folder carries the sampling frame, the quotas and the seed; re-running the
documented algorithm (`plan.draw`) on them must give the published list, and the input
fingerprints must match the district's files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from riskplan.export.publish import MANIFEST, inclusion_text_units
from riskplan.io import read_csv_text
from riskplan.load.district import load_district


@dataclass
class DrawVerification:
    """What `verify-draw` found; `ok` only when every check passed."""

    checks: list[tuple[str, bool, str]]

    @property
    def ok(self) -> bool:
        return all(passed for _, passed, _ in self.checks)


def verify_draw(public_dir: Path, district_dir: Path) -> DrawVerification:
    """Re-run the published draw from the published sampling frame and seed, and compare.

    The draw depends only on the eligible enterprises per tier and subdistrict, the shares and
    the seed, so a district made of just the sampling frame reproduces it exactly. The input
    fingerprints tie the published frame to the bureau's files in `district_dir`. A
    risk-weighted draw also depends on each eligible enterprise's inclusion probability, which
    the frame publishes exactly: they are checked against the published floor and cap and
    against each stratum's quota (they must sum to it), then the draw is re-run from them.
    """
    from riskplan.domain.policy import Policy
    from riskplan.domain.schema import INSPECTIONS
    from riskplan.io import sha256_file
    from riskplan.load.district import District
    from riskplan.plan.draw import draw_spot_checks

    public_dir, district_dir = Path(public_dir), Path(district_dir)
    manifest = json.loads((public_dir / MANIFEST).read_text(encoding="utf-8"))
    frame = read_csv_text(public_dir / "sampling_frame.csv")
    published = read_csv_text(public_dir / "drawn.csv")
    checks: list[tuple[str, bool, str]] = []

    for name, digest in sorted(manifest["input_sha256"].items()):
        path = district_dir / name
        if not path.exists():
            checks.append((f"input {name}", False, "missing from the district folder"))
            continue
        same = sha256_file(path) == digest
        checks.append((f"input {name}", same, "matches the published fingerprint" if same
                       else "differs from the published fingerprint: the inputs changed after publication"))

    district = load_district(district_dir)
    known = dict(zip(district.enterprises["enterprise_id"], district.enterprises["subdistrict"]))
    strays = [e for e, s in zip(frame["enterprise_id"], frame["subdistrict"]) if known.get(e) != s]
    checks.append(("sampling frame", not strays, "every enterprise is in the district, in its subdistrict" if not strays
                   else f"{len(strays)} enterprise(s) not in the district or in another subdistrict, "
                        f"e.g. {strays[0]}"))

    shares = manifest["sample_shares"]
    method = manifest.get("method", "uniform")
    units = None
    if method == "risk_weighted":
        units, check = _published_units(frame, manifest)
        checks.append(check)
    tiers = Policy().tiers.model_copy(update={
        t: getattr(Policy().tiers, t).model_copy(update={"sample_share": shares.get(t)})
        for t in ("red", "orange", "yellow", "blue")})
    policy = Policy().model_copy(update={"tiers": tiers,
                                         "draw": Policy().draw.model_copy(update={"avoid_recent_days": 0})})
    frame_district = District(
        path=public_dir,
        enterprises=pd.DataFrame({"enterprise_id": frame["enterprise_id"], "name": frame["enterprise_id"],
                                  "subdistrict": frame["subdistrict"]}),
        accidents=pd.DataFrame(), inspections=pd.DataFrame(columns=list(INSPECTIONS.column_names)),
        inspectors=pd.DataFrame(), leave=pd.DataFrame(), conflicts=pd.DataFrame(), pinned=pd.DataFrame(),
        policy=policy)
    tier_series = pd.Series(frame["tier"].to_numpy(), index=frame["enterprise_id"])
    try:
        rerun = draw_spot_checks(frame_district, tier_series, manifest["quarter"], [], int(manifest["seed"]),
                                 method=method, units=units)
    except ValueError as exc:  # e.g. inclusion probabilities that do not add up to a quota
        checks.append(("drawn list", False, f"cannot re-run the draw: {exc}"))
        return DrawVerification(checks)
    expected = sorted(rerun.drawn_ids)
    listed = sorted(published["credit_code"])
    missing = sorted(set(expected) - set(listed))
    extra = sorted(set(listed) - set(expected))
    same = not missing and not extra
    checks.append(("drawn list", same, f"all {len(expected)} drawn enterprises reproduced from the seed" if same else
                   f"not what the seed draws: {len(missing)} missing (e.g. {missing[:1]}), "
                   f"{len(extra)} not drawn by the seed (e.g. {extra[:1]})"))
    consistent = sorted(manifest.get("drawn", [])) == listed
    checks.append(("manifest", consistent, "drawn.csv and the manifest agree" if consistent
                   else "drawn.csv and the manifest's drawn list differ"))
    return DrawVerification(checks)


def _published_units(frame: pd.DataFrame, manifest: dict) -> tuple[dict[str, int], tuple[str, bool, str]]:
    """The published inclusion probabilities in billionths, and whether they honour the
    published floor and cap."""
    from riskplan.plan.draw import UNITS

    if "inclusion_probability" not in frame.columns:
        return {}, ("inclusion probabilities", False, "a risk-weighted draw's sampling_frame.csv must list each "
                                                      "enterprise's inclusion_probability")
    units: dict[str, int] = {}
    bad: list[str] = []
    for eid, text in zip(frame["enterprise_id"], frame["inclusion_probability"]):
        try:
            units[eid] = inclusion_text_units(text)
        except ValueError:
            bad.append(eid)
    if bad:
        return units, ("inclusion probabilities", False, f"{len(bad)} unreadable, e.g. {bad[0]}")
    floor = manifest.get("min_inclusion") or 0.0
    cap = manifest.get("max_inclusion") if manifest.get("max_inclusion") is not None else 1.0
    lo, hi = float(floor) * UNITS, float(cap) * UNITS
    outside = [e for e, u in units.items() if u < lo - 0.5 or u > hi + 0.5]
    if outside:
        return units, ("inclusion probabilities", False,
                       f"{len(outside)} outside the published floor {floor} and cap {cap}, e.g. {outside[0]}")
    return units, ("inclusion probabilities", True, f"every enterprise's probability is within [{floor}, {cap}]")
