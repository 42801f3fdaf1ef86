"""The bureau's policy (`policy.toml`): per-tier visit rules, roster rules, draw and tiering.

The defaults are riskplan's choices where the sources are silent (docs/policy.md), not law.
A typo in a key must never silently fall back to a default, so unknown keys are errors
with the nearest valid key suggested, and every value is range-checked. Values must have TOML's
own types (strict): `rotate_inspectors = "yes"` or `team_size = "2"` is refused naming the key,
the value and the type expected, never coerced. Dates are TOML dates (`2027-01-01`) or, as
documented before, `"2027-01-01"` strings in exactly that form.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, ValidationError, model_validator

from riskplan.domain.schema import ENTERPRISES, Tier
from riskplan.i18n import N_, _


def _iso_date(value: Any) -> Any:
    """A TOML date, or a `YYYY-MM-DD` string (the documented form); anything else is left for the
    strict date check to refuse (no numbers taken for timestamps, no other spellings)."""
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PolicyDate = Annotated[date, BeforeValidator(_iso_date), Strict()]


class _Section(BaseModel):
    """Values must have TOML's own types: `"yes"` is not a boolean, `"2"` not a number (strict)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RosterRules(_Section):
    team_size: int = Field(2, ge=1)
    max_visits_per_inspector_day: int = Field(2, ge=1)
    min_days_between_visits: int = Field(14, ge=0)
    rotate_inspectors: bool = True
    cross_area: bool = False
    capacity_reserve: float = Field(0.0, ge=0.0, le=1.0)
    holidays: tuple[PolicyDate, ...] = Field((), strict=False)
    extra_workdays: tuple[PolicyDate, ...] = Field((), strict=False)


class DrawRules(_Section):
    avoid_recent_days: int = Field(90, ge=0)
    method: Literal["uniform", "risk_weighted"] = "uniform"
    min_inclusion: float = Field(0.01, ge=0.0, le=1.0)
    max_inclusion: float = Field(1.0, ge=0.0, le=1.0)
    #: risk_weighted: an enterprise's chance is proportional to its probability to this power
    #: (1: proportional; 2-4: steeper, more checks on the riskiest, the floor still holds).
    #: An integer, so the design stays exact integer arithmetic.
    weight_power: int = Field(1, ge=1, le=4, strict=True)

    @model_validator(mode="after")
    def _floor_below_cap(self) -> "DrawRules":
        if self.min_inclusion > self.max_inclusion:
            raise ValueError(_("min_inclusion ({low}) must not exceed max_inclusion ({high})").format(
                low=self.min_inclusion, high=self.max_inclusion))
        return self


class TierRules(_Section):
    """Visit rules of one tier; a rule a tier does not use stays unset."""

    visits_per_month: int = Field(0, ge=0)
    max_days_between_visits: int | None = Field(None, ge=0)
    sample_share: float | None = Field(None, ge=0.0, le=1.0)
    max_visits_per_quarter: int = Field(2, ge=0)
    #: With `max_days_between_visits`: a deadline falling in the first N days after the quarter's
    #: end is planned in the quarter's last N days (docs/obligations.md), so the first days of the
    #: next quarter are not its only chance; 0 turns it off. At most the longest quarter.
    plan_ahead_days: int = Field(28, ge=0, le=92)


class TierSections(_Section):
    red: TierRules = TierRules(visits_per_month=1, max_visits_per_quarter=4)
    orange: TierRules = TierRules(max_days_between_visits=182, max_visits_per_quarter=2)
    yellow: TierRules = TierRules(sample_share=0.10, max_visits_per_quarter=2)
    blue: TierRules = TierRules(sample_share=0.03, max_visits_per_quarter=2)


class FollowUpRules(_Section):
    after_major_hazard: bool = True
    after_accident: bool = True


class QualificationRules(_Section):
    """Hazard -> the qualification at least one team member must hold."""

    hazchem: str = "hazchem"
    major_hazard: str = "hazchem"
    dust_explosion: str = "dust"
    molten_metal: str = "metallurgy"


class TieringRules(_Section):
    method: Literal["thresholds", "shares"] = "thresholds"
    red: float = Field(0.30, ge=0.0, le=1.0)
    orange: float = Field(0.12, ge=0.0, le=1.0)
    yellow: float = Field(0.04, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _cut_offs_in_order(self) -> "TieringRules":
        if self.method == "thresholds" and not (self.red >= self.orange >= self.yellow):
            raise ValueError(_("threshold cut-offs must decrease red >= orange >= yellow, got {red}, {orange}, "
                               "{yellow}").format(red=self.red, orange=self.orange, yellow=self.yellow))
        if self.method == "shares" and self.red + self.orange + self.yellow > 1.0:
            raise ValueError(_("target shares red + orange + yellow must not exceed 1"))
        return self


class PublishRules(_Section):
    """What the public notice (一公开) states about its issuer; empty text is left off the notice.
    `disclose_tiers`: whether the notice and the drawn list show each enterprise's risk tier."""

    issuing_bureau: str = ""
    task_name: str = ""
    contact: str = ""
    publication_date: PolicyDate | None = None
    disclose_tiers: bool = False


class ModelRules(_Section):
    """`[model]`: a bureau's own enterprise columns used as features when it trains a model.

    `extra_features` names columns of the enterprises table (as its header reads) beyond the
    built-in ones: numbers (complaints, 12345 hotline counts) unless also listed in
    `categorical` (a credit rating A/B/C/D). Whether each column exists is checked against the
    enterprises table when the features are built (riskplan.score.features)."""

    extra_features: tuple[str, ...] = Field((), strict=False)
    categorical: tuple[str, ...] = Field((), strict=False)

    @model_validator(mode="after")
    def _names(self) -> "ModelRules":
        seen: set[str] = set()
        built_in = {c.name for c in ENTERPRISES.columns}
        for name in self.extra_features:
            if not name.strip():
                raise ValueError(_("extra_features: an empty column name"))
            if name in seen:
                raise ValueError(_("extra_features: column '{name}' is listed twice").format(name=name))
            if name in built_in:
                raise ValueError(_("extra_features: '{name}' is a built-in column of the enterprises table, "
                                   "already read by the model; list only the bureau's own columns").format(name=name))
            seen.add(name)
        for name in self.categorical:
            if name not in seen:
                close = difflib.get_close_matches(name, list(seen), n=1, cutoff=0.5)
                hint = (_("did you mean '{key}'?").format(key=close[0]) if close
                        else _("extra_features lists: {names}").format(names=", ".join(self.extra_features) or "-"))
                raise ValueError(_("categorical: '{name}' is not one of extra_features ({hint})").format(
                    name=name, hint=hint))
        return self

    def kinds(self) -> dict[str, str]:
        """column -> "numeric" or "categorical", in the order listed."""
        return {c: ("categorical" if c in self.categorical else "numeric") for c in self.extra_features}


class Policy(_Section):
    roster: RosterRules = RosterRules()
    draw: DrawRules = DrawRules()
    tiers: TierSections = TierSections()
    follow_up: FollowUpRules = FollowUpRules()
    qualifications: QualificationRules = QualificationRules()
    tiering: TieringRules = TieringRules()
    publish: PublishRules = PublishRules()
    model: ModelRules = ModelRules()

    def tier(self, tier: Tier | str) -> TierRules:
        return getattr(self.tiers, Tier(tier).value)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (dates as ISO strings), for plan.json and audits. Without the
        [publish] section: it says who issues the notice, not how the plan is made, so filling it
        in after planning changes neither the plan's policy nor the draw's fingerprints. Without
        [model] too: it shapes a model trained from this district, and a plan records the model it
        used by its file's sha256."""
        return self.model_dump(mode="json", exclude={"publish", "model"})


class PolicyError(ValueError):
    """A policy file that cannot be used; `problems` lists every reason."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = Path(path)
        self.problems = problems
        super().__init__("\n".join(f"{self.path.name}: {p}" for p in problems))


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that holds the key at `loc` (for suggestions)."""
    model: type[BaseModel] = Policy
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return None
        model = field.annotation
    return model


#: pydantic error type -> what the value must be, as people read it.
_EXPECTED = {
    "bool_type": N_("must be true or false (a TOML boolean, written without quotes)"),
    "int_type": N_("must be a whole number (written without quotes)"),
    "int_from_float": N_("must be a whole number (written without quotes)"),
    "float_type": N_("must be a number (written without quotes)"),
    "string_type": N_("must be text in quotes"),
    "date_type": N_("must be a date: 2027-01-01 (a TOML date) or \"2027-01-01\""),
    "tuple_type": N_("must be a list in brackets, like [2027-01-01, 2027-02-01]"),
    "list_type": N_("must be a list in brackets, like [2027-01-01, 2027-02-01]"),
    "model_type": N_("must be a section (a TOML table)"),
    "dict_type": N_("must be a section (a TOML table)"),
}


def _key_of(loc: tuple[Any, ...]) -> str:
    """`roster.holidays (item 2)`: the key as written in the file, items counted from 1."""
    names = [str(p) for p in loc if not isinstance(p, int)]
    items = [p for p in loc if isinstance(p, int)]
    key = ".".join(names)
    return _("{key} (item {number})").format(key=key, number=items[-1] + 1) if items else key


def _describe(err: dict[str, Any]) -> str:
    loc = tuple(err["loc"])
    key = _key_of(loc)
    section = ".".join(str(p) for p in loc[:-1])
    where = f"[{section}] " if section else ""
    kind = err["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc)
        valid = list(model.model_fields) if model else []
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.5)
        hint = (_("did you mean '{key}'?").format(key=close[0]) if close
                else _("valid keys: {keys}").format(keys=", ".join(valid)))
        text = (_("unknown section '{name}' ({hint})") if isinstance(err.get("input"), dict)
                else _("unknown key '{name}' ({hint})")).format(name=loc[-1], hint=hint)
        return f"{where}{text}"
    if kind == "value_error" or not loc:
        msg = err["msg"].removeprefix("Value error, ")
        return f"{where or '[' + key + '] ' if key else ''}{msg}".strip()
    got = err.get("input")
    ctx = err.get("ctx") or {}
    if kind in _EXPECTED:
        what = _(_EXPECTED[kind])
    elif kind == "literal_error":
        what = _("must be one of {choices}").format(choices=ctx.get("expected", ""))
    elif kind in ("greater_than_equal", "greater_than"):
        what = _("must be at least {limit}").format(limit=ctx.get("ge", ctx.get("gt")))
    elif kind in ("less_than_equal", "less_than"):
        what = _("must be at most {limit}").format(limit=ctx.get("le", ctx.get("lt")))
    elif kind.startswith("date_"):
        what = _("is not a day of the calendar")
    else:
        what = err["msg"]
    return _("key '{key}': {what} (got {value})").format(key=key, what=what, value=repr(got))


def parse_policy(data: dict[str, Any], path: Path | str = "policy.toml") -> Policy:
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(path, [_describe(e) for e in exc.errors()]) from None


def load_policy(path: Path | str | None) -> Policy:
    """The policy in `path`, or the defaults when `path` is None or does not exist."""
    if path is None or not Path(path).exists():
        return Policy()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise PolicyError(path, [_("is not UTF-8 text")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(path, [_("is not valid TOML: {error}").format(error=exc)]) from None
    return parse_policy(data, path)


DEFAULT_POLICY_TOML = """\
# riskplan policy. Every value below is riskplan's default, not law: set your bureau's own.
[roster]
team_size = 2                      # certified inspectors per visit
max_visits_per_inspector_day = 2
min_days_between_visits = 14       # two visits to one enterprise
rotate_inspectors = true           # no one from an enterprise's previous visit team on its next
cross_area = false                 # true: a subdistrict-based inspector never visits their home subdistrict
capacity_reserve = 0.0             # share of each inspector's weekly capacity held back for campaigns
holidays = []                      # ISO dates that are not working days
extra_workdays = []                # ISO weekend dates that are working days (make-up days)

[draw]
avoid_recent_days = 90             # not drawn if visited in the last N days
method = "uniform"                 # or "risk_weighted"
min_inclusion = 0.01               # risk_weighted only: every eligible enterprise's floor
max_inclusion = 1.0                # risk_weighted only: cap
weight_power = 1                   # risk_weighted only: chance ∝ probability^power (1–4; 1 = proportional)

[tiers.red]
visits_per_month = 1               # at least one visit in each calendar month of the quarter
max_visits_per_quarter = 4
[tiers.orange]
max_days_between_visits = 182      # never more than half a year without a visit
max_visits_per_quarter = 2
plan_ahead_days = 28               # a deadline in the first 28 days after the quarter: visit in its last 28 days (0: off)
[tiers.yellow]
sample_share = 0.10                # share of eligible yellow enterprises drawn each quarter
max_visits_per_quarter = 2
[tiers.blue]
sample_share = 0.03
max_visits_per_quarter = 2

[follow_up]
after_major_hazard = true          # latest visit found a major hazard, not visited since: visit in month 1
after_accident = true              # serious-or-worse accident in the 31 days before the quarter: visit in month 1

[qualifications]                   # hazard -> a qualification at least one team member holds
hazchem = "hazchem"
major_hazard = "hazchem"
dust_explosion = "dust"
molten_metal = "metallurgy"

[tiering]
method = "thresholds"              # "thresholds": probability cut-offs; "shares": target shares
red = 0.30
orange = 0.12
yellow = 0.04
"""
