"""A generated district with the rule boundaries planted in it, for the mutation run.

`write_edge_district(folder, seed)` writes a size-S synthetic district (2,000 enterprises, 30
inspectors) to `folder/district/`, its true tiers to `folder/tiers.csv`, and plants, for quarter
2027Q1 (1 January 2027 is a Friday):

- calendar: a New Year holiday and a Spring Festival week as `holidays`, a Saturday make-up
  day, `capacity_reserve` 0.05, `cross_area` on;
- orange deadlines: due on a working day, on a Saturday (moved back to Friday), inside the
  holiday week (moved back before it), on 1 January (moved back out of the quarter: overdue),
  on the quarter's last day, 1, 28 and 29 days after it (planned ahead, planned ahead, next
  quarter: `plan_ahead_days`), and never visited;
- follow-ups: a serious accident exactly 31 days before the quarter (counts) and 32 days
  (does not), one with a visit on the accident day (still due) and one with a visit the day
  after (not due); a latest visit with a major hazard, and one whose latest date has two
  visits of which one found a major hazard;
- the draw: yellow enterprises last visited exactly 90 days before the quarter (not
  eligible) and 91 days (eligible);
- pinned windows: clipped at the quarter start and end, wholly outside, and on a red
  enterprise (served by its month-1 visit);
- heavy leave (30 % of inspectors, spans of 3-12 days starting mid-week, so many ISO weeks are
  leave-shortened), conflicts of interest of three inspectors with every red and orange
  enterprise plus 150 random pairs, and four uncertified auxiliaries with capacity and every
  qualification.

Every planted case names its enterprises in `folder/edge_cases.json`.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

QUARTER_START = date(2027, 1, 1)
HOLIDAYS = ["2027-01-01"] + [f"2027-02-{d:02d}" for d in range(8, 13)]  # Mon 8 - Fri 12 February
EXTRA_WORKDAYS = ["2027-02-20"]


def _policy() -> str:
    from riskplan.domain.policy import DEFAULT_POLICY_TOML

    text = DEFAULT_POLICY_TOML
    text = text.replace("cross_area = false", "cross_area = true")
    text = text.replace("capacity_reserve = 0.0", "capacity_reserve = 0.05")
    text = text.replace("holidays = []", "holidays = [" + ", ".join(f'"{d}"' for d in HOLIDAYS) + "]")
    text = text.replace("extra_workdays = []", "extra_workdays = [" + ", ".join(f'"{d}"' for d in EXTRA_WORKDAYS) + "]")
    for key in ("cross_area = true", "capacity_reserve = 0.05", "holidays = [", "extra_workdays = ["):
        assert key in text, key
    return text


def write_edge_district(folder: Path, seed: int = 5) -> dict[str, list[str]]:
    from riskplan.synth import make_district, true_tiers

    root = Path(folder)
    folder = root / "district"
    folder.mkdir(parents=True, exist_ok=True)
    district = make_district("S", seed)
    for name, data in district.files().items():
        (folder / name).write_bytes(data)
    (folder / "policy.toml").write_text(_policy(), encoding="utf-8")
    rng = np.random.default_rng(seed)

    ent = pd.read_csv(folder / "enterprises.csv", dtype=str, keep_default_na=False)
    ins = pd.read_csv(folder / "inspections.csv", dtype=str, keep_default_na=False)
    acc = pd.read_csv(folder / "accidents.csv", dtype=str, keep_default_na=False)
    insp = pd.read_csv(folder / "inspectors.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(folder / "truth.csv", dtype={"enterprise_id": str})
    tiers = pd.DataFrame({"enterprise_id": truth["enterprise_id"], "tier": true_tiers(truth["p_event_12m"].to_numpy())})
    tier_of = dict(zip(tiers["enterprise_id"], tiers["tier"]))
    # the planted month-1 obligations come on top of a month 1 the generator already fills to
    # about 95 %: half as much capacity again keeps the roster about the rules, not shortfall
    insp["weekly_capacity"] = [str(int(c) * 3 // 2 + 1) for c in insp["weekly_capacity"]]
    # auxiliaries without a certificate but with capacity and every qualification: only the
    # certificate rule keeps them off teams
    aux = pd.DataFrame([{"inspector_id": f"FZ{k:02d}", "name": f"协管员{k}", "squad": "执法大队", "certified": "0",
                         "qualifications": "hazchem;dust;metallurgy;general", "home_subdistrict": "",
                         "weekly_capacity": "6"} for k in range(1, 5)])
    insp = pd.concat([insp, aux], ignore_index=True)
    certified = insp.loc[insp["certified"] == "1", "inspector_id"].tolist()
    # enterprises without accidents or pinned visits, by tier, in a seeded order
    busy = set(acc["enterprise_id"])
    pool = {t: [e for e in ent["enterprise_id"] if tier_of[e] == t and e not in busy] for t in
            ("red", "orange", "yellow", "blue")}
    for t in pool:
        rng.shuffle(pool[t])
    cases: dict[str, list[str]] = {}

    def take(tier: str, case: str) -> str:
        eid = pool[tier].pop()
        cases.setdefault(case, []).append(eid)
        return eid

    def last_visit(eid: str, day: date, major: int = 0, extra_same_day: int | None = None) -> None:
        nonlocal ins
        ins = ins[ins["enterprise_id"] != eid]
        team = rng.choice(certified, 2, replace=False)
        rows = [{"enterprise_id": eid, "date": (day - timedelta(days=200)).isoformat(),
                 "inspectors": ";".join(rng.choice(certified, 2, replace=False)), "hazards_found": "1",
                 "major_hazards_found": "0", "penalized": "0"},
                {"enterprise_id": eid, "date": day.isoformat(), "inspectors": ";".join(team),
                 "hazards_found": str(major), "major_hazards_found": str(major), "penalized": "0"}]
        if extra_same_day is not None:
            rows.append({"enterprise_id": eid, "date": day.isoformat(),
                         "inspectors": ";".join(rng.choice(certified, 2, replace=False)), "hazards_found": "0",
                         "major_hazards_found": str(extra_same_day), "penalized": "0"})
        ins = pd.concat([ins, pd.DataFrame(rows)], ignore_index=True)

    def accident(eid: str, day: date, severity: str = "serious") -> None:
        nonlocal acc
        acc = pd.concat([acc, pd.DataFrame([{"enterprise_id": eid, "date": day.isoformat(), "severity": severity,
                                             "deaths": "0", "injuries": "3"}])], ignore_index=True)

    gap = 182
    due = {"orange_due_friday": date(2027, 1, 15), "orange_due_saturday": date(2027, 1, 16),
           "orange_due_in_holiday": date(2027, 2, 10), "orange_due_new_year": date(2027, 1, 1),
           "orange_due_last_day": date(2027, 3, 31), "orange_due_after_quarter": date(2027, 4, 1),
           "orange_due_28_days_after": date(2027, 4, 28), "orange_due_29_days_after": date(2027, 4, 29)}
    for case, day in due.items():
        for _ in range(2):
            last_visit(take("orange", case), day - timedelta(days=gap))
    for _ in range(2):
        ins = ins[ins["enterprise_id"] != take("orange", "orange_never_visited")]

    start = QUARTER_START
    for case, (days_before, visit_offset) in {
        "follow_up_accident_31_days": (31, None), "follow_up_accident_32_days": (32, None),
        "follow_up_accident_visit_same_day": (10, 0), "follow_up_accident_visit_next_day": (10, 1),
    }.items():
        for tier in ("yellow", "blue"):
            eid = take(tier, case)
            day = start - timedelta(days=days_before)
            last_visit(eid, day - timedelta(days=120) if visit_offset is None else day + timedelta(days=visit_offset))
            accident(eid, day)
    for tier in ("yellow", "blue"):
        last_visit(take(tier, "follow_up_major_hazard"), start - timedelta(days=40), major=1)
        last_visit(take(tier, "follow_up_major_hazard_same_day_pair"), start - timedelta(days=50), major=0,
                   extra_same_day=1)
        last_visit(take(tier, "major_hazard_not_latest"), start - timedelta(days=20), major=0)

    for _ in range(3):
        last_visit(take("yellow", "draw_visited_90_days_before"), start - timedelta(days=90))
        last_visit(take("yellow", "draw_visited_91_days_before"), start - timedelta(days=91))

    pinned = pd.read_csv(folder / "pinned.csv", dtype=str, keep_default_na=False)
    extra_pins = [("pinned_clipped_start", "blue", "2026-12-20", "2027-01-08"),
                  ("pinned_clipped_end", "blue", "2027-03-25", "2027-04-10"),
                  ("pinned_outside_quarter", "blue", "2027-04-05", "2027-04-20"),
                  ("pinned_on_red", "red", "2027-01-11", "2027-01-22")]
    for case, tier, lo, hi in extra_pins:
        pinned = pd.concat([pinned, pd.DataFrame([{"enterprise_id": take(tier, case), "reason": case,
                                                   "earliest": lo, "latest": hi}])], ignore_index=True)

    leave = pd.read_csv(folder / "leave.csv", dtype=str, keep_default_na=False)
    away = rng.choice(insp["inspector_id"].to_numpy(), int(0.3 * len(insp)), replace=False)
    rows = []
    for iid in sorted(away):
        first = start + timedelta(days=int(rng.integers(0, 85)))
        rows.append({"inspector_id": iid, "start": first.isoformat(),
                     "end": (first + timedelta(days=int(rng.integers(2, 12)))).isoformat()})
    leave = pd.concat([leave, pd.DataFrame(rows)], ignore_index=True)

    conflicts = pd.read_csv(folder / "conflicts.csv", dtype=str, keep_default_na=False)
    have = set(zip(conflicts["inspector_id"], conflicts["enterprise_id"]))
    rows = []
    # every red and orange enterprise (visited for sure) has conflicts with three inspectors
    for eid in sorted(e for e, t in tier_of.items() if t in ("red", "orange")):
        for iid in rng.choice(certified, 3, replace=False):
            if (str(iid), eid) not in have:
                have.add((str(iid), eid))
                rows.append({"inspector_id": str(iid), "enterprise_id": eid, "reason": "曾在该企业任职"})
    n_mandatory = len(rows)
    while len(rows) < n_mandatory + 150:
        pair = (str(rng.choice(certified)), str(rng.choice(ent["enterprise_id"].to_numpy())))
        if pair not in have:
            have.add(pair)
            rows.append({"inspector_id": pair[0], "enterprise_id": pair[1], "reason": "亲属关系"})
    conflicts = pd.concat([conflicts, pd.DataFrame(rows)], ignore_index=True)

    ins = ins.sort_values(["date", "enterprise_id"], kind="mergesort")
    for name, frame in (("inspectors", insp), ("inspections", ins), ("accidents", acc), ("pinned", pinned), ("leave", leave),
                        ("conflicts", conflicts)):
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    tiers.to_csv(root / "tiers.csv", index=False, lineterminator="\n")
    (root / "edge_cases.json").write_text(json.dumps(cases, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return cases


if __name__ == "__main__":
    print(json.dumps(write_edge_district(Path(sys.argv[1])), indent=1))
