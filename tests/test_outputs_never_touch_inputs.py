"""Issue #12: an output never replaces or lands in what the command reads, `--force` or not.

Every case runs the real command line; each checks the exit status 2, a one-line message (no
traceback) and that the bureau's files are byte for byte what they were.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import QUARTER, first_fit_solve

from riskplan.cli import main
from riskplan.outputs import refuse_existing
from riskplan.pipeline import run_plan

MARKER = ".riskplan-output"  # riskplan.outputs.OUTPUT_MARKER, spelt out so the cases also run on older code


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its sha256: what must not change."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def bureau(tiny_district, tmp_path):
    """A district, its tiers file and a plan made from them, as a bureau keeps them."""
    t = tiny_district()
    plan_dir = tmp_path / "plan"
    run_plan(t.path, QUARTER, 1, t.tiers_csv, out_dir=plan_dir, solve=first_fit_solve)
    return t, plan_dir


def refused(args: list[str], *protected: Path, says: str) -> None:
    before = {p: fingerprint(p) if p.is_dir() else p.read_bytes() for p in protected}
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert says in result.output, result.output
    for p, was in before.items():
        assert (fingerprint(p) if p.is_dir() else p.read_bytes()) == was, f"{p} changed"


def plan_args(t, out: Path, *extra: str) -> list[str]:
    return ["plan", str(t.path), "--quarter", QUARTER, "--seed", "2", "--tiers", str(t.tiers_csv),
            "--out", str(out), *extra]


def test_plan_out_district_force_is_refused(bureau):
    t, _ = bureau
    refused(plan_args(t, t.path, "--force"), t.path, says="which this command reads")
    refused(plan_args(t, t.path), t.path, says="which this command reads")


def test_plan_out_inside_the_district_is_refused(bureau):
    t, _ = bureau
    refused(plan_args(t, t.path / "plan"), t.path, says="lies inside")
    assert not (t.path / "plan").exists()


def test_plan_out_containing_its_tiers_file_force_is_refused(bureau):
    t, plan_dir = bureau
    args = ["plan", str(t.path), "--quarter", QUARTER, "--seed", "2", "--tiers", str(plan_dir / "tiers.csv"),
            "--out", str(plan_dir), "--force"]
    refused(args, plan_dir, t.path, says="contains")


def test_publish_out_district_force_is_refused(bureau):
    t, plan_dir = bureau
    args = ["publish", str(t.path), str(plan_dir), "--stage", "plan", "--out", str(t.path), "--force"]
    refused(args, t.path, plan_dir, says="which this command reads")


def test_publish_out_plan_force_is_refused(bureau):
    t, plan_dir = bureau
    args = ["publish", str(t.path), str(plan_dir), "--stage", "plan", "--out", str(plan_dir), "--force"]
    refused(args, t.path, plan_dir, says="which this command reads")


def test_publish_out_containing_the_plan_force_is_refused(bureau, tmp_path):
    t, plan_dir = bureau
    (tmp_path / MARKER).write_text("")  # even a folder riskplan wrote is not replaced when it holds an input
    args = ["publish", str(t.path), str(plan_dir), "--stage", "plan", "--out", str(tmp_path), "--force"]
    refused(args, t.path, plan_dir, says="contains")


def test_tier_out_the_districts_own_table_is_refused(bureau):
    t, _ = bureau
    table = t.path / "enterprises.csv"
    refused(["tier", str(t.path), "--out", str(table), "--force"], t.path, says="lies inside")
    refused(["tier", str(t.path), "--out", str(t.path / "tiers.csv")], t.path, says="lies inside")
    assert not (t.path / "tiers.csv").exists()


def test_tier_out_another_districts_table_is_refused(bureau, tiny_district):
    t, _ = bureau
    other = tiny_district(name="other")
    refused(["tier", str(t.path), "--out", str(other.path / "enterprises.csv"), "--force"], other.path,
            says="lies inside the district folder")


def test_report_out_inside_the_plan_is_refused(bureau):
    t, plan_dir = bureau
    refused(["report", str(t.path), str(plan_dir), "--out", str(plan_dir / "report.html")], plan_dir,
            says="lies inside")


@pytest.mark.parametrize("command", ["whatif", "value", "train"])
def test_folder_writers_refuse_the_district_as_out(bureau, command):
    t, _ = bureau
    args = {"whatif": ["whatif", str(t.path), "--quarter", QUARTER, "--out", str(t.path), "--force"],
            "value": ["value", str(t.path), str(t.path), "--force"],
            "train": ["train", str(t.path), "--out", str(t.path), "--force"]}[command]
    refused(args, t.path, says="which this command reads")


def test_force_replaces_only_a_folder_riskplan_wrote(bureau, tmp_path):
    t, plan_dir = bureau
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "minutes.docx").write_bytes(b"the bureau's minutes")
    refused(plan_args(t, theirs, "--force"), theirs, says="was not written by riskplan")
    refused(["synth", "--seed", "1", "--enterprises", "50", "--inspectors", "4", "--out", str(theirs), "--force"],
            theirs, says="was not written by riskplan")
    result = CliRunner().invoke(main, plan_args(t, plan_dir, "--force"))  # riskplan's own plan: replaced
    assert result.exit_code == 0, result.output
    assert json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))["seed"] == 2
    assert (plan_dir / MARKER).is_file()


def test_force_replaces_a_plan_folder_written_before_the_marker(bureau):
    t, plan_dir = bureau
    (plan_dir / MARKER).unlink(missing_ok=True)
    result = CliRunner().invoke(main, plan_args(t, plan_dir, "--force"))
    assert result.exit_code == 0, result.output
    assert json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))["seed"] == 2


def test_force_replaces_a_file_only_with_the_writers_extension(bureau, tmp_path):
    t, plan_dir = bureau
    notes = tmp_path / "notes.docx"
    notes.write_bytes(b"keep me")
    refused(["report", str(t.path), str(plan_dir), "--out", str(notes), "--force"], notes, says="not a .html")
    page = tmp_path / "page.html"
    page.write_text("someone's page", encoding="utf-8")  # the right kind, but not riskplan's
    refused(["report", str(t.path), str(plan_dir), "--out", str(page), "--force"], page,
            says="was not written by riskplan")
    old = tmp_path / "report.html"
    assert CliRunner().invoke(main, ["report", str(t.path), str(plan_dir), "--out", str(old)]).exit_code == 0
    result = CliRunner().invoke(main, ["report", str(t.path), str(plan_dir), "--out", str(old), "--force"])
    assert result.exit_code == 0, result.output
    assert "Inspection roster report" in old.read_text(encoding="utf-8")


def test_a_link_into_the_district_is_resolved_and_refused(bureau, tmp_path):
    t, _ = bureau
    link = tmp_path / "link"
    link.symlink_to(t.path)
    refused(plan_args(t, link / "plan"), t.path, says="lies inside")
    refused(plan_args(t, link, "--force"), t.path, says="which this command reads")
    assert link.is_symlink()


@pytest.mark.parametrize("command", ["plan", "tier", "tier --force", "publish", "synth"])
def test_a_dangling_link_as_out_is_a_clear_error(bureau, tmp_path, command):
    t, plan_dir = bureau
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere" / "out")
    args = {"plan": plan_args(t, link),
            "tier": ["tier", str(t.path), "--out", str(link)],
            "tier --force": ["tier", str(t.path), "--out", str(link), "--force"],
            "publish": ["publish", str(t.path), str(plan_dir), "--stage", "plan", "--out", str(link)],
            "synth": ["synth", "--seed", "1", "--enterprises", "50", "--inspectors", "4", "--out", str(link)]}[command]
    refused(args, t.path, says="is a symbolic link to")
    assert link.is_symlink() and not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("command", ["plan", "tier", "synth"])
def test_an_unwritable_out_is_a_clear_error(bureau, tmp_path, command):
    t, _ = bureau
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    out = a_file / "out"
    args = {"plan": plan_args(t, out),
            "tier": ["tier", str(t.path), "--out", str(out)],
            "synth": ["synth", "--seed", "1", "--enterprises", "50", "--inspectors", "4", "--out", str(out)]}[command]
    refused(args, t.path, says="cannot write")


def test_a_folder_that_cannot_be_created_is_a_clear_error(bureau):
    t, _ = bureau
    out = Path("/proc/riskplan-cannot-write-here/out")
    if os.access("/proc", os.W_OK) and out.parent.exists():
        pytest.skip("/proc is not the read-only file system it usually is")
    refused(["tier", str(t.path), "--out", str(out)], t.path, says="cannot write")


def test_the_guard_refuses_an_output_given_as_an_input_itself(tmp_path):
    inp = tmp_path / "in.csv"
    inp.write_text("x")
    with pytest.raises(FileExistsError, match="which this command reads"):
        refuse_existing(inp, True, "file", inputs=[inp])
    with pytest.raises(FileExistsError, match="contains"):
        refuse_existing(tmp_path, True, "folder", inputs=[None, inp])
