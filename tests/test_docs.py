"""docs/ states the rules in the project's own words; the names it uses must exist in the code."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

import riskplan.solve.rules as solver_rules
import riskplan.solve.teams as solver_teams
from riskplan.check.checker import ROSTER_RULES
from riskplan.domain.policy import Policy

DOCS = Path(__file__).resolve().parents[1] / "docs"
SOLVER_ONLY = {"random_assignment"}   # how teams are chosen, not a pass/fail check
CHECKER_ONLY = {"exact_draw"}         # the draw is plan/draw.py, re-checked by the checker


def rule_table() -> dict[int, list[str]]:
    """Rule number -> the function names in docs/rules.md's table."""
    rows = {}
    for line in (DOCS / "rules.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| (\d+) \|.*\| (.+) \|$", line)
        if m:
            rows[int(m.group(1))] = re.findall(r"`([a-z_]+)`", m.group(2))
    return rows


def test_rules_md_numbers_all_eleven_rules_with_names():
    rows = rule_table()
    assert sorted(rows) == list(range(1, 12))
    assert all(rows.values())


def test_every_rule_name_exists_in_the_solver_and_the_checker():
    checker_names = {getattr(r, "__name__", str(r)) for r in ROSTER_RULES}
    for number, names in rule_table().items():
        for name in names:
            if name not in CHECKER_ONLY:
                module = solver_teams if name in SOLVER_ONLY else solver_rules
                assert callable(getattr(module, name, None)), f"rule {number}: {name} not in {module.__name__}"
            if name not in SOLVER_ONLY:
                assert name in checker_names, f"rule {number}: {name} is not one of the checker's ROSTER_RULES"


def test_every_checker_rule_about_the_roster_is_documented():
    documented = {n for names in rule_table().values() for n in names}
    checker_names = {getattr(r, "__name__", str(r)) for r in ROSTER_RULES}
    # the two input checks come before the 11 rules
    assert checker_names - documented == {"inputs_match_plan", "roster_well_formed"}


def policy_keys(model: type[BaseModel] = Policy, prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += policy_keys(ann, f"{prefix}{name}.")
        else:
            out.append(prefix + name)
    return out


def test_every_policy_key_appears_in_policy_md():
    text = (DOCS / "policy.md").read_text(encoding="utf-8")
    keys = policy_keys()
    assert len(keys) > 30
    for key in keys:
        *sections, leaf = key.split(".")
        assert f"`{leaf}`" in text, f"policy key {key} is not in docs/policy.md"
        for section in sections:
            assert section in text, f"policy section {section} is not in docs/policy.md"


def test_docs_stand_alone():
    for name in ("README.md", "policy.md", "obligations.md", "rules.md", "draw.md", "tiers.md"):
        page = DOCS / name
        text = page.read_text(encoding="utf-8")
        assert "domain.md" not in text and "/work/" not in text, page.name
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    for name in ("policy.md", "obligations.md", "rules.md", "draw.md", "tiers.md"):
        assert (DOCS / name).exists() and f"({name})" in index


def test_excel_md_lists_the_alias_table():
    """docs/excel.md's header and value tables are the alias table's, row for row: a name added
    to riskplan/domain/headers.py without the page (or the other way round) fails here."""
    from riskplan.domain import headers

    text = (DOCS / "excel.md").read_text(encoding="utf-8")
    sections = re.split(r"^### ", text, flags=re.M)[1:]
    tables = {}
    for section in sections:
        title, _, body = section.partition("\n")
        rows = re.findall(r"^\| `([\w ]+)` \| (.+) \|$", body, flags=re.M)
        tables[title] = {key: tuple(v.strip() for v in value.split(", ")) for key, value in rows}
    for table in ("enterprises", "accidents", "inspections", "inspectors", "leave", "conflicts", "pinned", "tiers"):
        title = next(t for t in tables if t.startswith(f"`{table}` "))
        assert tables[title] == headers.HEADERS[table], table
        assert title.endswith(", ".join(headers.TABLE_NAMES[table])), table
    for values, heading in (("size_class", "`size_class`"), ("hazchem", "`hazchem`"), ("severity", "`severity`"),
                            ("flag", "yes/no"), ("standardization_grade", "`standardization_grade`"),
                            ("major_hazard_level", "`major_hazard_level`"), ("qualification", "`qualifications`"),
                            ("tier", "`tier`")):
        title = next(t for t in tables if t.startswith(heading))
        assert tables[title] == headers.VALUES[values], values
