import tomllib

import pytest

from riskplan.domain.policy import (
    DEFAULT_POLICY_TOML,
    Policy,
    PolicyError,
    load_policy,
    parse_policy,
)
from riskplan.domain.schema import Tier


def test_default_file_equals_built_in_defaults():
    assert parse_policy(tomllib.loads(DEFAULT_POLICY_TOML)) == Policy()


def test_missing_file_means_defaults(tmp_path):
    assert load_policy(tmp_path / "policy.toml") == Policy()


def test_defaults_match_domain():
    p = Policy()
    assert p.roster.team_size == 2 and p.roster.min_days_between_visits == 14
    assert p.tier(Tier.RED).visits_per_month == 1 and p.tier("red").max_visits_per_quarter == 4
    assert p.tier(Tier.ORANGE).max_days_between_visits == 182
    assert p.tier(Tier.YELLOW).sample_share == 0.10 and p.tier(Tier.BLUE).sample_share == 0.03
    assert p.qualifications.dust_explosion == "dust"


@pytest.mark.parametrize("text,fragment", [
    ("[roster]\nteam_sise = 2\n", "unknown key 'team_sise' (did you mean 'team_size'?)"),
    ("[rostr]\nteam_size = 2\n", "unknown section 'rostr' (did you mean 'roster'?)"),
    ("[tiers.purple]\nsample_share = 0.1\n", "unknown section 'purple'"),
    ("[roster]\nteam_size = 0\n", "roster.team_size"),
    ("[roster]\ncapacity_reserve = 1.5\n", "roster.capacity_reserve"),
    ("[draw]\navoid_recent_days = -1\n", "draw.avoid_recent_days"),
    ("[draw]\nmethod = \"lottery\"\n", "draw.method"),
    ("[draw]\nweight_power = 5\n", "draw.weight_power"),
    ("[draw]\nweight_power = 1.5\n", "draw.weight_power"),
    ("[tiering]\nred = 0.1\norange = 0.2\n", "must decrease"),
    ("[roster]\nholidays = [\"2027-02-30\"]\n", "roster.holidays"),
    ("[roster\n", "not valid TOML"),
])
def test_bad_policy_is_explained(tmp_path, text, fragment):
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert any(fragment in p for p in info.value.problems), info.value.problems
    assert str(info.value).startswith("policy.toml: ")


def test_partial_file_keeps_other_defaults(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text("[roster]\nholidays = [\"2027-01-01\"]\n[tiers.blue]\nsample_share = 0.05\n")
    p = load_policy(path)
    assert str(p.roster.holidays[0]) == "2027-01-01"
    assert p.tier(Tier.BLUE).sample_share == 0.05
    assert p.tier(Tier.BLUE).max_visits_per_quarter == 2
    assert p.tier(Tier.YELLOW).sample_share == 0.10
    assert p.to_dict()["roster"]["holidays"] == ["2027-01-01"]


@pytest.mark.parametrize(("text", "key", "expected"), [
    ('[roster]\nrotate_inspectors = "yes"\n', "roster.rotate_inspectors", "must be true or false"),
    ("[roster]\ncross_area = 1\n", "roster.cross_area", "must be true or false"),
    ('[roster]\nteam_size = "2"\n', "roster.team_size", "must be a whole number"),
    ("[roster]\nteam_size = 2.0\n", "roster.team_size", "must be a whole number"),
    ('[roster]\ncapacity_reserve = "0.1"\n', "roster.capacity_reserve", "must be a number"),
    ("[draw]\nmethod = 1\n", "draw.method", "must be one of"),
    ('[tiers.red]\nvisits_per_month = "1"\n', "tiers.red.visits_per_month", "must be a whole number"),
    ("[tiers.red]\nvisits_per_month = true\n", "tiers.red.visits_per_month", "must be a whole number"),
    ('[tiering]\nred = "0.3"\n', "tiering.red", "must be a number"),
    ('[follow_up]\nafter_accident = "false"\n', "follow_up.after_accident", "must be true or false"),
    ("[qualifications]\nhazchem = 3\n", "qualifications.hazchem", "must be text in quotes"),
    ("[roster]\nholidays = [20270101]\n", "roster.holidays (item 1)", "must be a date"),
    ('[roster]\nholidays = [2027-01-01, "2027/1/2"]\n', "roster.holidays (item 2)", "must be a date"),
    ('[roster]\nholidays = "2027-01-01"\n', "roster.holidays", "must be a list in brackets"),
    ("[roster]\nextra_workdays = [2027-02-06T09:00:00]\n", "roster.extra_workdays (item 1)", "must be a date"),
    ("roster = 3\n", "roster", "must be a section"),
])
def test_values_must_have_tomls_own_types(tmp_path, text, key, expected):
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert len(info.value.problems) == 1, info.value.problems
    problem = info.value.problems[0]
    assert problem.startswith(f"key '{key}': ") and expected in problem and "(got " in problem


def test_toml_dates_and_documented_iso_strings_are_both_dates(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text('[roster]\nholidays = [2027-01-01, "2027-02-11"]\nextra_workdays = [2027-02-06]\n'
                    "capacity_reserve = 0\n")
    p = load_policy(path)
    assert [str(d) for d in p.roster.holidays] == ["2027-01-01", "2027-02-11"]
    assert str(p.roster.extra_workdays[0]) == "2027-02-06" and p.roster.capacity_reserve == 0.0


def test_a_type_problem_reads_in_chinese_by_default(tmp_path, monkeypatch):
    from riskplan import i18n

    monkeypatch.delenv("RISKPLAN_LANG")
    i18n.set_language(None)
    path = tmp_path / "policy.toml"
    path.write_text('[roster]\nrotate_inspectors = "yes"\n')
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.problems == ["键“roster.rotate_inspectors”：应为 true 或 false（TOML 布尔值，不加引号）（实际为 'yes'）"]
