import os

import pandas as pd
import pytest

from riskplan.io import read_table_text, write_table
from riskplan.outputs import OUTPUT_MARKER, atomic_output_dir, atomic_write_text


def test_atomic_write_leaves_no_temp_files(tmp_path):
    atomic_write_text(tmp_path / "a.txt", "你好")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "你好"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_output_dir_appears_only_when_complete(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with atomic_output_dir(target) as staging:
            (staging / "roster.csv").write_text("partial")
            raise RuntimeError("crash mid-way")
    assert not target.exists()
    assert os.listdir(tmp_path) == []
    with atomic_output_dir(target) as staging:
        (staging / "roster.csv").write_text("complete")
    assert (target / "roster.csv").read_text() == "complete"


def test_output_dir_refuses_to_overwrite_without_force(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.csv").write_text("keep me")
    with pytest.raises(FileExistsError):
        with atomic_output_dir(target):
            pass
    assert (target / "old.csv").read_text() == "keep me"
    with pytest.raises(FileExistsError, match="was not written by riskplan"), atomic_output_dir(target, force=True):
        pass
    assert sorted(os.listdir(target)) == ["old.csv"]
    (target / OUTPUT_MARKER).write_text("")
    with atomic_output_dir(target, force=True) as staging:
        (staging / "new.csv").write_text("new")
    assert sorted(os.listdir(target)) == [OUTPUT_MARKER, "new.csv"]
    assert sorted(os.listdir(tmp_path)) == ["out"]  # the old folder is gone, no staging left


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_table_round_trip_keeps_chinese_text(tmp_path, ext):
    frame = pd.DataFrame({"name": ["宁波市海曙区某化工厂", "Shop"], "n": [1, 2]})
    write_table(frame, tmp_path / f"t.{ext}")
    back = read_table_text(tmp_path / f"t.{ext}")
    assert back["name"].tolist() == frame["name"].tolist()
    assert back["n"].tolist() == ["1", "2"]


def test_outputs_get_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        with atomic_output_dir(tmp_path / "out") as staging:
            (staging / "f.csv").write_text("y")
    finally:
        os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
