"""mlnb.record values, reading them back (with scrapbook's scraps), and run records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlnb.exceptions import (
    InvalidArgumentError,
    PipelineError,
    PipelineRunNotFoundError,
    RunNotFoundError,
)
from mlnb.pipeline import record as recording
from mlnb.pipeline.rerun import find_run
from mlnb.pipeline.section import PipelineSection, section_of
from mlnb.pipeline.sinks import NotebookSink, RunSinks
from mlnb.runs import external
from mlnb.runs.external import ended_record
from mlnb.runs.records import RunRecord


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
    section = PipelineSection(
        notebook="nb.ipynb", output=str(tmp_path / "out.ipynb"), params={"lr": 0.1}, seed=3
    )
    begun = RunRecord(
        run_id,
        "nb",
        "pipeline",
        "running",
        1.0,
        None,
        None,
        None,
        None,
        config={"lr": 0.1},
        provenance={"pipeline": section.to_dict()},
    )
    return begun if status == "running" else ended_record(begun, status, ended=2.0)


def test_runs_are_found_in_the_store_by_id_or_unique_prefix(tmp_path):
    for run_id in ("abc123", "abd999"):
        begun = external.begin(
            "nb", run_id=run_id, provenance=_record(tmp_path, run_id, "running").provenance
        )
        external.end(begun, "finished")
    hand_logged = external.record("by hand", "finished")
    assert find_run("abc1").id == "abc123"
    assert section_of(find_run("abd")).params == {"lr": 0.1}
    with pytest.raises(RunNotFoundError, match="'ab' matches 2 runs"):
        find_run("ab")
    with pytest.raises(PipelineRunNotFoundError) as info:  # the old name is the same error
        find_run("zzz")
    assert str(info.value).startswith("no run 'zzz' in the run store at ")
    with pytest.raises(PipelineError, match="was not run by mlnb's pipeline"):
        find_run(hand_logged.id)


def test_notebook_sink_writes_metadata_and_sinks_never_break_the_run(tmp_path, caplog):
    (tmp_path / "out.ipynb").write_text(
        json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    NotebookSink().write(_record(tmp_path))
    saved = json.loads((tmp_path / "out.ipynb").read_text())
    assert saved["metadata"]["mlnb"]["run"]["config"] == {"lr": 0.1}

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
