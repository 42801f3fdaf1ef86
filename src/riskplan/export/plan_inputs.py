"""OUT/inputs/: the snapshot a plan keeps of the small district tables it used (inspectors,
leave, conflicts, pinned visits, the enterprises' ids, names and subdistricts), so a re-plan can
say *what* changed since (riskplan.load.changes.detect_changes), not only that a file did.

English columns and codes and ISO dates whatever the reader's language (machine-readable, like
plan.json), sorted, UTF-8 with a BOM: the same district gives the same bytes.
"""

from __future__ import annotations

from riskplan.io import frame_to_csv_bytes
from riskplan.load.changes import SNAPSHOT_DIR, SNAPSHOT_FILES, snapshot_frames
from riskplan.load.district import District


def snapshot_files(district: District) -> dict[str, bytes]:
    """Relative path (inputs/NAME.csv, `SNAPSHOT_FILES`) -> bytes, for the plan folder."""
    return {f"{SNAPSHOT_DIR}/{SNAPSHOT_FILES[table]}": frame_to_csv_bytes(frame)
            for table, frame in snapshot_frames(district).items()}
