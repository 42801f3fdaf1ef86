"""Issue #12: a crash at any step of writing an output loses neither the old output nor the new.

A "kill" is a forked child that ends with `os._exit` just before the named step (no cleanup
runs, as with SIGKILL or a power cut); `riskplan.outputs._step` is the hook each step calls. After
it the output's name holds the complete old or the complete new output, or the next run that
writes or reads it puts the old one back and says so on stderr.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import QUARTER, first_fit_solve

import riskplan.outputs as rio
from riskplan.cli import main
from riskplan.pipeline import run_plan

KILLED = 77
FOLDER_STEPS = ("staging", "marker", "sync", "park", "swap", "drop", "remove", "sync-folder", "done")
FILE_STEPS = ("file-temp", "file-write", "file-sync", "file-replace", "file-sync-folder", "file-done")
FILES = ("a.csv", "b.csv", "plan.json")
MARKER = ".riskplan-output"  # riskplan.outputs.OUTPUT_MARKER, spelt out so the cases also run on older code


def killed_at(step: str, action) -> int:
    """Run `action` in a child process that dies just before `step`; its exit code."""
    pid = os.fork()
    if pid == 0:  # the child: no pytest cleanup, no finally blocks of ours after the kill
        try:
            def die(name: str) -> None:
                if name == step:
                    os._exit(KILLED)

            rio._step = die
            action()
            os._exit(0)
        except BaseException:  # noqa: BLE001 - the child must never return into pytest
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def write_version(folder: Path, version: str) -> None:
    for name in FILES:
        (folder / name).write_text(f"{version} {name}\n" * 1000)


def version_of(folder: Path) -> str:
    """'old' or 'new' when every file of the folder is that version; anything else fails."""
    versions = {(folder / n).read_text().split(" ", 1)[0] for n in FILES}
    assert len(versions) == 1, f"{folder} mixes {versions}"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == sorted(FILES)
    assert (folder / MARKER).is_file() or not hasattr(rio, "OUTPUT_MARKER")  # older code has no marker
    return versions.pop()


@pytest.fixture
def old_output(tmp_path):
    target = tmp_path / "out"
    with rio.atomic_output_dir(target) as staging:
        write_version(staging, "old")
    return target


def replace_with_new(target: Path) -> None:
    with rio.atomic_output_dir(target, force=True) as staging:
        write_version(staging, "new")


@pytest.mark.parametrize("step", FOLDER_STEPS)
def test_a_kill_at_any_step_of_a_folder_replace_leaves_old_or_new(old_output, step, capsys):
    assert killed_at(step, lambda: replace_with_new(old_output)) == KILLED
    before_restore = version_of(old_output) if old_output.exists() else None
    restored = rio.restore_interrupted(old_output)  # what the next run of any writer or reader does first
    after = version_of(old_output)
    assert after == ("new" if step in ("drop", "remove", "sync-folder", "done") else "old")
    assert before_restore in (None, after)
    assert restored == (before_restore is None)
    assert ("restored" in capsys.readouterr().err) == restored
    assert sorted(p.name for p in old_output.parent.iterdir()) == ["out"]  # nothing hidden left behind


@pytest.mark.parametrize("step", ("staging", "marker", "sync", "swap", "sync-folder", "done"))
def test_a_kill_while_writing_a_first_output_leaves_nothing_or_all_of_it(tmp_path, step):
    target = tmp_path / "out"
    assert killed_at(step, lambda: replace_with_new(target)) == KILLED
    rio.restore_interrupted(target)
    if step in ("sync-folder", "done"):
        assert version_of(target) == "new"
    else:
        assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["out"] if target.exists() else [])


@pytest.mark.parametrize("step", FOLDER_STEPS)
def test_a_failure_at_any_step_of_a_folder_replace_leaves_old_or_new(old_output, step, monkeypatch):
    def fail(name: str) -> None:
        if name == step:
            raise OSError(f"disk trouble at {name}")

    monkeypatch.setattr(rio, "_step", fail)
    with pytest.raises(OSError, match="disk trouble"):
        replace_with_new(old_output)
    monkeypatch.undo()
    assert version_of(old_output) == ("new" if step in ("drop", "remove", "sync-folder", "done") else "old")
    rio.restore_interrupted(old_output)
    assert sorted(p.name for p in old_output.parent.iterdir()) == ["out"]


def test_a_failed_second_rename_puts_the_old_folder_back(old_output, monkeypatch):
    """The bare `os.replace` of the move fails (e.g. the disk is full): the old folder is kept."""
    real, calls = os.replace, []

    def second_fails(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("no space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", second_fails)
    with pytest.raises(OSError, match="no space"):
        replace_with_new(old_output)
    monkeypatch.undo()
    assert version_of(old_output) == "old"


@pytest.mark.parametrize("step", FILE_STEPS)
def test_a_kill_at_any_step_of_a_file_write_leaves_old_or_new(tmp_path, step):
    path = tmp_path / "tiers.csv"
    path.write_bytes(b"old\n" * 1000)
    assert killed_at(step, lambda: rio.atomic_write_bytes(path, b"new\n" * 5000)) == KILLED
    assert path.read_bytes() in (b"old\n" * 1000, b"new\n" * 5000)
    assert path.read_bytes() == (b"new\n" * 5000 if step in ("file-sync-folder", "file-done") else b"old\n" * 1000)
    rio.refuse_existing(path, True, "file")  # the next writer of the file clears the dead writer's temp file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiers.csv"]


@pytest.mark.parametrize("step", FILE_STEPS)
def test_a_failure_at_any_step_of_a_file_write_leaves_old_or_new(tmp_path, step, monkeypatch):
    path = tmp_path / "report.html"
    path.write_bytes(b"old")

    def fail(name: str) -> None:
        if name == step:
            raise OSError(f"disk trouble at {name}")

    monkeypatch.setattr(rio, "_step", fail)
    with pytest.raises(OSError, match="disk trouble"):
        rio.atomic_write_bytes(path, b"new")
    assert path.read_bytes() == (b"new" if step in ("file-sync-folder", "file-done") else b"old")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_a_file_that_cannot_be_written_is_a_clear_error(tmp_path):
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(rio.OutputRefused, match="cannot write"):
        rio.atomic_write_bytes(tmp_path / "a_file" / "x.csv", b"")


# ------------------------------------------------ the commands: a plan replace killed mid-way


@pytest.fixture
def interrupted_plan(tiny_district, tmp_path):
    """A plan whose `plan --force` replace was killed between its two renames."""
    t = tiny_district()
    plan_dir = tmp_path / "plan"
    run_plan(t.path, QUARTER, 1, t.tiers_csv, out_dir=plan_dir, solve=first_fit_solve)
    old = (plan_dir / "plan.json").read_bytes()

    def replan():
        run_plan(t.path, QUARTER, 2, t.tiers_csv, out_dir=plan_dir, force=True, solve=first_fit_solve)

    assert killed_at("swap", replan) == KILLED
    assert not plan_dir.exists()  # the name is empty: the old plan waits in its hidden parking place
    return t, plan_dir, old


@pytest.mark.parametrize("command", ["check", "publish", "report", "plan", "plan --force"])
def test_the_next_command_on_an_interrupted_plan_restores_it_and_says_so(interrupted_plan, tmp_path, command):
    t, plan_dir, old = interrupted_plan
    args = {
        "check": ["check", str(t.path), str(plan_dir)],
        "publish": ["publish", str(t.path), str(plan_dir), "--stage", "plan", "--out", str(tmp_path / "public")],
        "report": ["report", str(t.path), str(plan_dir), "--out", str(tmp_path / "report.html")],
        "plan": ["plan", str(t.path), "--quarter", QUARTER, "--seed", "3", "--tiers", str(t.tiers_csv),
                 "--out", str(plan_dir)],
        "plan --force": ["plan", str(t.path), "--quarter", QUARTER, "--seed", "3", "--tiers", str(t.tiers_csv),
                         "--out", str(plan_dir), "--force", "--time-limit", "5"],
    }[command]
    result = CliRunner().invoke(main, args)
    assert f"restored {plan_dir.resolve()}" in result.output
    if command == "plan":
        assert result.exit_code == 2 and "already holds a plan" in result.output
    else:
        assert result.exit_code == 0, result.output
    if command != "plan --force":
        assert (plan_dir / "plan.json").read_bytes() == old
    assert not any(p.name.startswith(".plan.") for p in tmp_path.iterdir())


@pytest.mark.parametrize("command", ["validate", "whatif"])
def test_a_generated_district_whose_replace_was_killed_is_restored_by_its_next_reader(tmp_path, command):
    from riskplan.synth.district import generate_district

    district = tmp_path / "district"
    generate_district(district, seed=1, n_enterprises=40, n_inspectors=4, years=2)
    old = (district / "enterprises.csv").read_bytes()
    regenerate = lambda: generate_district(district, seed=2, n_enterprises=40, n_inspectors=4, years=2, force=True)  # noqa: E731
    assert killed_at("swap", regenerate) == KILLED
    assert not district.exists()
    args = {"validate": ["validate", str(district)],
            "whatif": ["whatif", str(district), "--quarter", "2027Q1", "--out", str(district)]}[command]
    result = CliRunner().invoke(main, args)
    assert f"restored {district.resolve()}" in result.output
    assert result.exit_code == (0 if command == "validate" else 2), result.output  # whatif: --out is its input
    assert (district / "enterprises.csv").read_bytes() == old
