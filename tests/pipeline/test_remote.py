"""What travels with a task to a cluster node (:func:`mlnb.pipeline.remote.pack`)."""

from __future__ import annotations

import pytest

from mlnb.exceptions import InvalidArgumentError
from mlnb.pipeline import remote
from mlnb.pipeline.run import RunTask


def test_the_working_folder_travels_without_stores_and_outputs(notebook, tmp_path):
    path = notebook("train.ipynb", ["y = 1"])
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("1,2", encoding="utf-8")
    for skipped in (".mlnb", "runs", "sweeps", "tune", "__pycache__", "out"):
        (tmp_path / skipped).mkdir(exist_ok=True)
        (tmp_path / skipped / "big.bin").write_bytes(b"0" * 10)
    parcel = remote.pack(RunTask(str(path), output=str(tmp_path / "out" / "o.ipynb")))
    assert sorted(parcel.files) == ["data/x.csv", "train.ipynb"]
    assert parcel.notebook == "train.ipynb" and parcel.cwd == "."
    assert parcel.task["notebook"] == str(path)


def test_a_notebook_outside_its_working_folder_travels_beside_it(notebook, tmp_path):
    path = notebook("nb/train.ipynb", ["y = 1"])
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "in.txt").write_text("a", encoding="utf-8")
    parcel = remote.pack(RunTask(str(path), cwd=str(tmp_path / "work")))
    assert sorted(parcel.files) == [".mlnb-notebook/train.ipynb", "in.txt"]
    assert parcel.notebook == ".mlnb-notebook/train.ipynb"


def test_a_working_folder_too_large_to_travel_is_one_sentence(notebook, tmp_path, monkeypatch):
    path = notebook("train.ipynb", ["y = 1"])
    (tmp_path / "weights.bin").write_bytes(b"0" * 2048)
    monkeypatch.setattr(remote, "MAX_PARCEL_BYTES", 1024)
    with pytest.raises(InvalidArgumentError) as info:
        remote.pack(RunTask(str(path)))
    assert str(info.value).startswith(f"{tmp_path} holds more than 1.0 KiB, too much to send")
    assert "pass its location as a parameter" in str(info.value)
