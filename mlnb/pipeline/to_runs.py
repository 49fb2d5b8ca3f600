"""The run-store sink: every pipeline run also becomes a run in :mod:`mlnb.runs`' SQLite store.

So ``mlnb runs list``, ``mlnb runs compare``, the JupyterLab runs panel and
``mlnb.runs.table()`` show notebook runs, sweep trials and pipeline steps beside the
runs logged by hand, under the same id that ``mlnb rerun`` takes. The store is
``$MLNB_HOME`` (default ``./.mlnb`` of the process that starts the run); worker
processes inherit it, Ray tasks get it through their runtime environment.

What goes where: the params become the run's config, the values the notebook
recorded (``mlnb.record``) its summary, the seed, notebook, output, kernel, snapshot
and papermill version its provenance (``provenance["pipeline"]`` holds the whole
pipeline record, which is what ``rerun`` reads back, plus ``output_path``, the
executed notebook the JupyterLab Runs panel opens), and the output notebook is
attached as an artifact of kind ``notebook``.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

from mlnb.pipeline.runrecord import RunRecord

PROJECT_ENV = "MLNB_PROJECT"
DEFAULT_PROJECT = "pipeline"


class RunsStoreSink:
    """Writes a pipeline :class:`RunRecord` into the run store (created if missing)."""

    def write(self, record: RunRecord) -> None:
        """Insert the run when it starts; update status, summary and artifact when it ends."""
        from mlnb.runs import liveness
        from mlnb.runs.records import artifact_for_file
        from mlnb.runs.session import open_store

        store = open_store()
        if record.status == "running":
            store.create_run(_store_record(record), liveness.process_start_time())
            return
        ended = record.started_at + (record.duration or 0.0)
        store.append(
            record.id,
            status=record.status,
            ended=ended,
            heartbeat=ended,
            summary=summary_of(record.values),
            error=record.error,
            provenance=provenance_of(record),
        )
        output = Path(record.output)
        if output.exists():
            store.add_artifact(
                record.id,
                artifact_for_file(output.resolve(), output.name, "notebook", {"role": "output"}),
            )


def _store_record(record: RunRecord) -> Any:
    from mlnb.runs import liveness
    from mlnb.runs.records import RunRecord as StoredRun

    return StoredRun(
        id=record.id,
        name=run_name(record),
        project=os.environ.get(PROJECT_ENV) or DEFAULT_PROJECT,
        status="running",
        started=record.started_at,
        ended=None,
        heartbeat=time.time(),
        pid=os.getpid(),
        host=liveness.host(),
        config=dict(record.params),
        tags=tuple(dict.fromkeys(["pipeline", *record.tags])),
        summary={},
        provenance=provenance_of(record),
    )


def run_name(record: RunRecord) -> str:
    """``train`` for a plain run, ``train trial-3`` for a sweep trial, ``step evaluate`` for a DAG step."""
    stem = Path(record.notebook).stem
    for tag in record.tags:
        if tag.startswith("trial-"):
            return f"{stem} {tag}"
        if tag.startswith("step:"):
            return f"step {tag[5:]}"
    return stem


def provenance_of(record: RunRecord) -> dict[str, Any]:
    """The provenance block of a pipeline run (the seed under ``seed`` as mlnb.runs has it)."""
    return {
        "seed": {"seed": record.seed, "source": "mlnb.pipeline"},
        "notebook": {
            "path": str(Path(record.notebook).resolve()),
            "sha256": record.notebook_sha256,
        },
        "papermill": {
            "parameters": record.params,
            "output": record.output,
            "kernel": record.kernel,
            "cwd": record.cwd,
            "version": record.papermill.get("version"),
        },
        # the whole record (what rerun reads back) and, for the lab's Runs panel, the
        # executed notebook it opens
        "pipeline": {**record.to_dict(), "output_path": str(Path(record.output).resolve())},
    }


def summary_of(values: dict[str, Any]) -> dict[str, Any]:
    """Recorded values fit for a run summary: numbers and short text as they are, others described."""
    summary: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, bool) or value is None:
            summary[name] = value
        elif isinstance(value, (int, float)):
            summary[name] = value if math.isfinite(value) else str(value)
        elif isinstance(value, str) and len(value) <= 200:
            summary[name] = value
        else:
            summary[name] = f"<{type(value).__name__}>"
    return summary


def find_stored_run(run_id: str) -> RunRecord | None:
    """The pipeline record the run store keeps for ``run_id`` (or a unique prefix); None if none."""
    from mlnb.exceptions import RunNotFoundError
    from mlnb.runs.store import Store, default_home

    if not (default_home() / "runs.db").exists():
        return None
    with Store(readonly=True) as store:
        try:
            stored = store.get_run(run_id)
        except RunNotFoundError:
            return None
    data = stored.provenance.get("pipeline")
    if not isinstance(data, dict):
        return None
    record = RunRecord.from_dict(data)
    record.status = stored.status  # a run the store saw crash says so
    return record
