"""Run sinks: the notebook's metadata, and sinks that fail never break the run."""

from __future__ import annotations

import json

from mlnb.pipeline.sinks import NotebookSink, RunSinks


def test_notebook_sink_writes_metadata_and_sinks_never_break_the_run(
    tmp_path, caplog, pipeline_record
):
    (tmp_path / "out.ipynb").write_text(
        json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    NotebookSink().write(pipeline_record())
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
    sinks.emit(pipeline_record())
    assert (
        got == ["abc123"]
        and "run sink 'broken' could not write run abc123: disk full" in caplog.text
    )
    assert sinks.unregister("broken") and sinks.names() == ["collect"]
