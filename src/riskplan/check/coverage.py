"""Rules 9 and 10: mandatory coverage and the exact draw, against the checker's re-derivations.

Coverage is read this way: an obligation is met by any visit of its enterprise dated inside
the obligation's window, whatever the visit claims (the enterprise was inspected in time; what
a visit claims is checked on its own: the claim must exist and the date must fit it).
Obligations of one exclusive slot (a second visit in one month) need distinct visits, so
each slot is a bipartite matching of its obligations to the visits in their windows: one
visit never counts for two obligations that need separate visits. Obligations of different
slots may share a visit. An obligation nobody meets is fine only when plan.json's shortfall
lists it.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from riskplan.domain.headers import display_header, value_label
from riskplan.domain.roster import Obligation
from riskplan.i18n import _

from .context import DRAW_FILE, CheckContext, Violation, Visit, plan_value, read_plan_table
from .obligations import slot_of


def _v(rule: str, visit: Visit | None, message: str, enterprise_id: str = "") -> Violation:
    if visit is not None:
        return Violation(rule, visit.visit_id, visit.enterprise_id, message)
    return Violation(rule, "", enterprise_id, message)


def match_visits(obligations: list[Obligation], visits: list[Visit]) -> dict[int, int]:
    """A maximum matching obligation index -> visit index, each visit used at most once and
    only inside the obligation's window (augmenting paths; the sets are tiny)."""
    fits = [[j for j, v in enumerate(visits) if ob.window_start <= v.date <= ob.window_end] for ob in obligations]
    owner: dict[int, int] = {}  # visit index -> obligation index

    def augment(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(obligations)):
        augment(i, set())
    return {i: j for j, i in owner.items()}


def mandatory_coverage(ctx: CheckContext) -> list[Violation]:
    """Rule 9: every re-derived obligation is met (see the module docstring) or listed as
    unmet in plan.json's shortfall. Also: a visit claims only obligations that exist, a
    non-drawn visit serves at least one, and the shortfall lists only obligations that exist."""
    out = []
    exists = {(o.enterprise_id, o.kind) for o in ctx.obligations}
    slots: dict[tuple[str, str], list[Obligation]] = defaultdict(list)
    for o in ctx.obligations:
        slots[(o.enterprise_id, slot_of(o.kind))].append(o)
    for (eid, _slot), obs in sorted(slots.items()):
        needed = sorted((o for o in obs if (eid, o.kind) not in ctx.reported_unmet
                         and (eid, o.kind) not in ctx.waived), key=lambda o: o.kind)
        matched = match_visits(needed, ctx.by_enterprise.get(eid, []))
        for i, ob in enumerate(needed):
            if i not in matched:
                out.append(_v("mandatory_coverage", None, _(
                    "obligation {obligation} ({start} to {end}: {reason}) has no visit of its own in its window and "
                    "is not reported as shortfall").format(obligation=ob.kind, start=ob.window_start,
                                                           end=ob.window_end, reason=ob.reason), enterprise_id=eid))
    for v in ctx.visits:
        for kind in v.obligations:
            if (v.enterprise_id, kind) not in exists:
                out.append(_v("mandatory_coverage", v, _("claims obligation {obligation}, which the inputs do not "
                                                         "give").format(obligation=kind)))
        if v.basis != "drawn" and not v.obligations:
            out.append(_v("mandatory_coverage", v, _("basis {basis} but serves no obligation").format(
                basis=value_label("basis", v.basis))))
    for eid, kind in sorted(ctx.reported_unmet - exists):
        out.append(_v("mandatory_coverage", None, _("plan.json reports obligation {obligation} as unmet, which the "
                                                    "inputs do not give").format(obligation=kind), enterprise_id=eid))
    recorded = (ctx.plan or {}).get("counts", {}).get("obligations")
    if recorded is not None and recorded != len(ctx.obligations):
        out.append(Violation("mandatory_coverage", "", "", _("plan.json counts {recorded} obligations, the inputs "
                                                             "give {derived}").format(recorded=recorded,
                                                                                      derived=len(ctx.obligations))))
    return out


def _published_draw(ctx: CheckContext) -> list[Violation]:
    """draw.csv against the re-run, row for row: membership, eligible, drawn, the inclusion
    probability (written with six decimals) and, risk-weighted, the exact inclusion units."""
    path = ctx.out_dir / DRAW_FILE
    if not path.exists():
        return []
    published, _written = read_plan_table(path, "draw")
    cols = ["enterprise_id", "eligible", "drawn"]
    if not set(cols) <= set(published.columns):
        return [Violation("exact_draw", "", "", _("{file} lacks columns {columns}").format(
            file=DRAW_FILE, columns=", ".join(display_header("draw", c) for c in cols)))]
    for column in ("eligible", "drawn"):
        published[column] = [plan_value("yes_no", x) for x in published[column]]
    out = []
    theirs = {row["enterprise_id"]: row for row in published.to_dict("records")}
    mine = ctx.draw.rows
    for eid in sorted(set(mine) ^ set(theirs)):
        out.append(_v("exact_draw", None, _("{file} and the re-run draw disagree on whether it belongs to the "
                                            "draw").format(file=DRAW_FILE), enterprise_id=eid))
    yes_no = {True: "yes", False: "no"}
    for eid in sorted(set(mine) & set(theirs)):
        m, t = mine[eid], theirs[eid]
        if (t["eligible"], t["drawn"]) != (yes_no[m.eligible], yes_no[m.drawn]):
            out.append(_v("exact_draw", None, _("{file} says eligible={eligible} drawn={drawn}, the re-run draw "
                                                "says eligible={rerun_eligible} drawn={rerun_drawn}").format(
                file=DRAW_FILE, eligible=value_label("yes_no", t["eligible"]), drawn=value_label("yes_no", t["drawn"]),
                rerun_eligible=value_label("yes_no", yes_no[m.eligible]),
                rerun_drawn=value_label("yes_no", yes_no[m.drawn])), enterprise_id=eid))
            continue
        p = t.get("inclusion_probability")
        if p is not None and p != f"{m.inclusion_probability:.6f}":
            out.append(_v("exact_draw", None, _("{file} gives inclusion probability {published}, the re-run draw "
                                                "{rerun}").format(file=DRAW_FILE, published=p,
                                                                  rerun=f"{m.inclusion_probability:.6f}"),
                          enterprise_id=eid))
        units = t.get("inclusion_units")
        if units is not None and m.inclusion_units is not None and units != str(m.inclusion_units):
            out.append(_v("exact_draw", None, _("{file} gives inclusion units {published}, the re-run draw "
                                                "{rerun}").format(file=DRAW_FILE, published=units,
                                                                  rerun=m.inclusion_units), enterprise_id=eid))
    return out


def exact_draw(ctx: CheckContext) -> list[Violation]:
    """Rule 10: the drawn visits are exactly the re-run draw (same inputs, tiers and seed),
    each drawn enterprise placed once or reported as drawn-not-placed; draw.csv, if present,
    and plan.json's draw counts match the re-run."""
    if ctx.draw is None:
        return [Violation("exact_draw", "", "", _("cannot re-run the draw: {error}").format(error=ctx.draw_error))]
    drawn = set(ctx.draw.drawn_ids)
    out = []
    placed: Counter[str] = Counter()
    for v in ctx.visits:
        if v.basis != "drawn":
            continue
        placed[v.enterprise_id] += 1
        if v.enterprise_id not in drawn:
            out.append(_v("exact_draw", v, _("drawn visit to an enterprise the seeded draw did not select")))
        elif placed[v.enterprise_id] == 2:
            out.append(_v("exact_draw", v, _("second drawn visit to the same enterprise")))
    for eid in sorted(drawn - set(placed) - ctx.reported_not_placed):
        out.append(_v("exact_draw", None, _("drawn by the seeded draw but neither placed nor reported as drawn, "
                                            "not placed"), enterprise_id=eid))
    for eid in sorted(ctx.reported_not_placed - drawn):
        out.append(_v("exact_draw", None, _("reported as drawn, not placed, but the seeded draw did not select "
                                            "it"), enterprise_id=eid))
    counts = (ctx.plan or {}).get("counts", {})
    for key, what in (("drawn_by_tier", "drawn"), ("eligible_by_tier", "eligible")):
        if key in counts and counts[key] != ctx.draw.counts(what):
            out.append(Violation("exact_draw", "", "", _("plan.json {key} is {recorded}, the re-run draw gives "
                                                         "{derived}").format(key=key, recorded=counts[key],
                                                                             derived=ctx.draw.counts(what))))
    return out + _published_draw(ctx)
