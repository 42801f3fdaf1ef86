"""Which roster rule an obligation kind belongs to, written once.

Obligation kinds are names such as `red_month_2`, `orange_due`, `follow_up_hazard` or
`pinned_7` (see `plan.obligations`); the shortfall report and the solver's request classes
group them by rule: red_monthly, orange_due, follow_up, pinned, or drawn."""

from __future__ import annotations

from riskplan.domain.roster import VisitRequest

#: Shortfall rule of an obligation kind (first match wins, most binding first).
RULE_OF_KIND = (
    ("red_month", "red_monthly"),
    ("orange_due", "orange_due"),
    ("follow_up", "follow_up"),
    ("pinned", "pinned"),
)


def rule_of(request: VisitRequest) -> str:
    """The shortfall rule a request serves: red_monthly, orange_due, follow_up, pinned or drawn."""
    if not request.mandatory:
        return "drawn"
    for prefix, rule in RULE_OF_KIND:
        if any(k.startswith(prefix) for k in request.obligations):
            return rule
    return request.basis
