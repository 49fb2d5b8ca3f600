"""mlnb.record values, reading them back (with scrapbook's scraps), and run records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlnb.exceptions import InvalidArgumentError, PipelineRunNotFoundError
from mlnb.pipeline import record as recording
from mlnb.pipeline.runrecord import (
    INDEX_NAME,
    JsonlIndexSink,
    NotebookSink,
    RunRecord,
    RunSinks,
    find_run,
    read_index,
)


def test_record_converts_numpy_and_refuses_objects():
    assert recording.record("acc", np.float32(0.5)) == 0.5
    assert recording.record("curve", np.arange(3)) == [0, 1, 2]
    assert recording.record("nan", float("nan")) == "nan"
    assert recording.recorded()["curve"] == [0, 1, 2]
    with pytest.raises(InvalidArgumentError) as info:
        recording.record("model", object())
    assert (
        str(info.value)
        == "mlnb.record can store numbers, strings, booleans, lists and dicts; model is a object."
    )
    with pytest.raises(InvalidArgumentError, match="needs a non-empty name"):
        recording.record("", 1)


def test_read_collects_mlnb_records_and_scrapbook_scraps(tmp_path):
    outputs = [
        {
            "output_type": "display_data",
            "data": {recording.RECORD_MIMETYPE: {"name": "acc", "value": 0.9}},
            "metadata": {},
        },
        {
            "output_type": "display_data",
            "data": {
                "application/scrapbook.scrap.json+json": {
                    "name": "loss",
                    "data": 0.1,
                    "encoder": "json",
                    "version": 1,
                }
            },
            "metadata": {},
        },
        {
            "output_type": "display_data",
            "data": {
                "application/scrapbook.scrap.text+json": {
                    "name": "note",
                    "data": "hi",
                    "encoder": "text",
                    "version": 1,
                }
            },
            "metadata": {},
        },
        {"output_type": "stream", "name": "stdout", "text": "noise"},
    ]
    nb = {"cells": [{"cell_type": "code", "outputs": outputs, "source": "", "metadata": {}}]}
    path = tmp_path / "out.ipynb"
    path.write_text(json.dumps(nb))
    assert recording.read(path) == {"acc": 0.9, "loss": 0.1, "note": "hi"}


def _record(tmp_path, run_id="abc123", status="finished"):
    rec = RunRecord(
        id=run_id,
        notebook="nb.ipynb",
        output=str(tmp_path / "out.ipynb"),
        params={"lr": 0.1},
        seed=3,
    )
    rec.status = status
    return rec


def test_jsonl_index_keeps_the_latest_line_per_run(tmp_path):
    sink = JsonlIndexSink()
    sink.write(_record(tmp_path, status="running"))
    sink.write(_record(tmp_path, status="finished"))
    sink.write(_record(tmp_path, run_id="abd999"))
    runs = read_index(tmp_path / INDEX_NAME)
    assert runs["abc123"].status == "finished" and set(runs) == {"abc123", "abd999"}
    assert find_run("abc1", tmp_path).id == "abc123"
    with pytest.raises(
        PipelineRunNotFoundError, match="run id 'ab' is ambiguous: it starts 2 runs"
    ):
        find_run("ab", tmp_path)
    with pytest.raises(PipelineRunNotFoundError) as info:
        find_run("zzz", tmp_path)
    assert (
        str(info.value)
        == f"no run 'zzz' in any {INDEX_NAME} under {tmp_path.resolve()} (2 runs found) nor in the run store — pass the folder with --in."
    )


def test_notebook_sink_writes_metadata_and_sinks_never_break_the_run(tmp_path, caplog):
    (tmp_path / "out.ipynb").write_text(
        json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    NotebookSink().write(_record(tmp_path))
    saved = json.loads((tmp_path / "out.ipynb").read_text())
    assert saved["metadata"]["mlnb"]["run"]["params"] == {"lr": 0.1}

    class Broken:
        def write(self, record):
            raise OSError("disk full")

    got = []

    class Collect:
        def write(self, record):
            got.append(record.id)

    sinks = RunSinks()
    sinks.register("broken", Broken)
    sinks.register("collect", Collect)
    sinks.emit(_record(tmp_path))
    assert (
        got == ["abc123"]
        and "run sink 'broken' could not write run abc123: disk full" in caplog.text
    )
    assert sinks.unregister("broken") and sinks.names() == ["collect"]
