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


def test_csv_starts_with_a_bom_once_and_reads_back_without_it(tmp_path):
    from riskplan.io import CSV_BOM, frame_to_csv_bytes, read_csv_text

    frame = pd.DataFrame({"name": ["宁波", "x"], "n": [1, 2]})
    data = frame_to_csv_bytes(frame)
    assert data.startswith(CSV_BOM) and data.count(CSV_BOM) == 1
    assert data[len(CSV_BOM):] == "name,n\n宁波,1\nx,2\n".encode("utf-8")
    write_table(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_bytes() == data
    assert list(read_csv_text(tmp_path / "t.csv").columns) == ["name", "n"]
    assert list(read_table_text(tmp_path / "t.csv").columns) == ["name", "n"]


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_write_table_given_a_table_writes_the_readers_language(tmp_path, ext):
    from riskplan import i18n
    from riskplan.io import read_own_table

    frame = pd.DataFrame({"visit_id": ["V1"], "tier": ["orange"], "basis": ["follow_up"]})
    with i18n.language("zh"):
        write_table(frame, tmp_path / f"roster.{ext}", table="roster")
    raw = read_table_text(tmp_path / f"roster.{ext}")
    assert list(raw.columns) == ["检查编号", "风险等级", "检查类别"] and raw.iloc[0].tolist() == ["V1", "橙", "复查"]
    assert read_own_table(tmp_path / f"roster.{ext}", "roster").equals(frame)
    write_table(frame, tmp_path / f"plain.{ext}")  # without a table: exactly as given
    assert read_table_text(tmp_path / f"plain.{ext}").equals(frame)


def test_a_workbook_is_read_from_the_sheet_asked_for_and_date_cells_read_as_iso(tmp_path):
    import datetime as dt

    import openpyxl

    from riskplan.io import TableReadError, workbook_sheets

    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["not data"])
    sheet = book.create_sheet("企业")
    sheet.append(["day", "stamp", "late", "n"])
    sheet.append([dt.date(2027, 1, 5), dt.datetime(2027, 1, 6), dt.datetime(2027, 1, 7, 8, 15), 46392])
    book.save(tmp_path / "b.xlsx")
    assert workbook_sheets(tmp_path / "b.xlsx") == ["说明", "企业"]
    back = read_table_text(tmp_path / "b.xlsx", "企业")
    assert back.iloc[0].tolist() == ["2027-01-05", "2027-01-06", "2027-01-07 08:15:00", "46392"]
    assert list(read_table_text(tmp_path / "b.xlsx").columns) == ["not data"]  # default: the first sheet
    with pytest.raises(TableReadError, match="no sheet named 'enterprises'") as info:
        read_table_text(tmp_path / "b.xlsx", "enterprises")
    assert "说明, 企业" in str(info.value)
