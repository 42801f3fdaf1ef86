"""Fingerprints of what the sampling frame is derived from, for the public draw manifest.

Whole-file hashes cannot tell a harmless later edit (the quarter's results appended by
`record`) from one that changes who was eligible, so each input is hashed as the frame's
derivation reads it: the typed table, rows in a canonical order, only the schema's columns (what
the derivation reads; `record` adds others), and for inspections only the rows dated before
the quarter start (eligibility and obligations look no later)."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

import pandas as pd

from riskplan.domain.schema import ACCIDENTS, ENTERPRISES, INSPECTIONS, PINNED, TableSpec
from riskplan.i18n import N_
from riskplan.load.district import District

#: manifest key -> what it fingerprints (named in verify-draw's findings, translated there)
FRAME_INPUTS = {
    "enterprises": N_("the enterprises table"),
    "accidents": N_("the accidents table"),
    "inspections_before_quarter": N_("the inspections dated before the quarter start"),
    "pinned": N_("the pinned visits table"),
    "policy": N_("the policy as used"),
    "tiers": N_("the tiers as used"),
}


def table_sha256(frame: pd.DataFrame, spec: TableSpec) -> str:
    """sha256 of a table's schema columns, independent of row order and of how the file spelled it."""
    columns = [c for c in spec.column_names if frame is not None and c in frame.columns]
    if not columns:
        return hashlib.sha256(b"").hexdigest()
    text = frame[columns].astype(str)
    text = text.sort_values(list(text.columns), kind="mergesort")
    return hashlib.sha256(text.to_csv(index=False, lineterminator="\n").encode("utf-8")).hexdigest()


def policy_sha256(policy: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(policy, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def inspections_before(district: District, start: date) -> pd.DataFrame:
    ins = district.inspections
    if not len(ins):
        return ins
    return ins[pd.to_datetime(ins["date"]) < pd.Timestamp(start)]


def frame_inputs(district: District, start: date, policy: dict[str, Any], tiers_sha256: str | None) -> dict[str, str | None]:
    """The manifest's "frame_inputs": one fingerprint per key of FRAME_INPUTS."""
    return {
        "enterprises": table_sha256(district.enterprises, ENTERPRISES),
        "accidents": table_sha256(district.accidents, ACCIDENTS),
        "inspections_before_quarter": table_sha256(inspections_before(district, start), INSPECTIONS),
        "pinned": table_sha256(district.pinned, PINNED),
        "policy": policy_sha256(policy),
        "tiers": tiers_sha256,
    }
