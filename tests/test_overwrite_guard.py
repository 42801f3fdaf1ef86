"""The one overwrite guard (`riskplan.outputs.refuse_existing`) behind every `--out`."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import QUARTER

from riskplan.cli import main
from riskplan.outputs import OUTPUT_MARKER, atomic_output_dir, refuse_existing
from riskplan.pipeline import run_plan

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def test_folders_missing_or_empty_pass_and_non_empty_need_force(tmp_path):
    refuse_existing(tmp_path / "new", False, "folder")
    (tmp_path / "empty").mkdir()
    refuse_existing(tmp_path / "empty", False, "folder")
    full = tmp_path / "full"
    full.mkdir()
    (full / "x.csv").write_text("x")
    with pytest.raises(FileExistsError, match="already exists and is not empty; use --force"):
        refuse_existing(full, False, "folder")
    with pytest.raises(FileExistsError, match="was not written by riskplan"):
        refuse_existing(full, True, "folder")
    (full / OUTPUT_MARKER).write_text("")
    refuse_existing(full, True, "folder")
    (full / "plan.json").write_text("{}")
    with pytest.raises(FileExistsError, match="already holds a plan; use --force"):
        refuse_existing(full, False, "folder", marker="plan.json", holds="a plan")


def test_files_need_force_and_the_wrong_kind_is_refused_even_with_force(tmp_path):
    refuse_existing(tmp_path / "new.csv", False, "file")
    f = tmp_path / "t.csv"
    f.write_text("")                       # even an empty file is someone's file
    with pytest.raises(FileExistsError, match="already exists; use --force"):
        refuse_existing(f, False, "file")
    refuse_existing(f, True, "file")
    with pytest.raises(FileExistsError, match="is not a folder"):
        refuse_existing(f, True, "folder")
    with pytest.raises(FileExistsError, match="is a folder, not a file"):
        refuse_existing(tmp_path, True, "file")
    with pytest.raises(ValueError):
        refuse_existing(f, True, "directory")


def test_atomic_output_dir_never_replaces_a_file(tmp_path):
    f = tmp_path / "out"
    f.write_text("keep me")
    with pytest.raises(FileExistsError):
        with atomic_output_dir(f, force=True):
            pass
    assert f.read_text() == "keep me"


def test_tier_refuses_an_existing_file_without_force(tmp_path):
    out = tmp_path / "tiers.csv"
    out.write_text("keep me", encoding="utf-8")
    refused = CliRunner().invoke(main, ["tier", str(SAMPLE), "--out", str(out)])
    assert refused.exit_code == 2
    assert "already exists; use --force" in refused.output
    assert out.read_text(encoding="utf-8") == "keep me"
    # --force replaces only a tiers file riskplan wrote, never someone's own file
    foreign = CliRunner().invoke(main, ["tier", str(SAMPLE), "--out", str(out), "--force"])
    assert foreign.exit_code == 2 and "was not written by riskplan" in foreign.output
    assert out.read_text(encoding="utf-8") == "keep me"
    out.unlink()
    assert CliRunner().invoke(main, ["tier", str(SAMPLE), "--out", str(out)]).exit_code == 0
    forced = CliRunner().invoke(main, ["tier", str(SAMPLE), "--out", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    assert out.read_text(encoding="utf-8-sig").startswith("enterprise_id,probability,tier")
    bureau_tiers = tmp_path / "own.csv"
    bureau_tiers.write_text("enterprise_id,tier\nX,red\n", encoding="utf-8")
    kept = CliRunner().invoke(main, ["tier", str(SAMPLE), "--out", str(bureau_tiers), "--force"])
    assert kept.exit_code == 2 and bureau_tiers.read_text(encoding="utf-8") == "enterprise_id,tier\nX,red\n"


def test_report_refuses_an_existing_file_without_force(tiny_district, tmp_path):
    district = tiny_district()
    plan_dir = tmp_path / "plan"
    run_plan(district.path, QUARTER, 3, district.tiers_csv, out_dir=plan_dir, time_limit=10)
    out = tmp_path / "report.html"
    out.write_text("keep me", encoding="utf-8")
    args = ["report", str(district.path), str(plan_dir), "--out", str(out)]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2
    assert "already exists; use --force" in refused.output
    assert out.read_text(encoding="utf-8") == "keep me"
    foreign = CliRunner().invoke(main, args + ["--force"])
    assert foreign.exit_code == 2 and "was not written by riskplan" in foreign.output
    assert out.read_text(encoding="utf-8") == "keep me"
    out.unlink()
    assert CliRunner().invoke(main, args).exit_code == 0
    forced = CliRunner().invoke(main, args + ["--force"])  # riskplan's own report: replaced
    assert forced.exit_code == 0, forced.output
    assert "Inspection roster report" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("command", [
    ["synth", "--seed", "1", "--enterprises", "50", "--inspectors", "4"],
    ["whatif", str(SAMPLE), "--quarter", "2027Q1", "--inspectors", "4:6:2"],
    ["value", str(SAMPLE)],
    ["train", str(SAMPLE)],
])
def test_folder_writers_refuse_before_working(tmp_path, command):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    if command[0] == "value":
        args = command + [str(out)]
    else:
        args = command + ["--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "already exists and is not empty; use --force" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
