"""The README's promises that code can keep honest."""

import re
from pathlib import Path

import riskplan.plan.draw
from riskplan.domain.policy import DEFAULT_POLICY_TOML
from riskplan.score.baseline import deduction_table_markdown

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_quotes_the_draw_algorithm_verbatim():
    doc = riskplan.plan.draw.__doc__
    algorithm = doc[doc.index("Algorithm (README"):].split("\n", 2)[2].rstrip()
    assert algorithm in README


def test_readme_shows_the_rule_baseline_from_the_code():
    assert deduction_table_markdown().strip() in README


def test_readme_policy_block_has_every_default_key():
    for key in re.findall(r"^(\w+) =", DEFAULT_POLICY_TOML, flags=re.M):
        assert re.search(rf"^{key} = ", README, flags=re.M), key


def test_readme_names_every_command():
    from riskplan.cli import main

    for name in main.commands:
        assert f"riskplan {name}" in README, name
