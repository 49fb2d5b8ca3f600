"""A pipeline run's record from begin to end, shared by :func:`mlnb.pipeline.run.run` and the
engine when papermill itself drives it (``papermill --engine mlnb``).

The stored copy of the input notebook lives in the run store's folder, named by its
SHA-256 (``$MLNB_HOME/notebooks/<sha256>.ipynb``): nothing is written beside the output,
and ``mlnb rerun`` checks the copy's hash against the recorded one before it runs it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from pathlib import Path
from typing import Any

from mlnb.exceptions import MlnbError
from mlnb.pipeline.section import SECTION_KEY, PipelineSection
from mlnb.pipeline.sinks import run_sinks
from mlnb.runs import external
from mlnb.runs.records import RunRecord

log = logging.getLogger(__name__)

SNAPSHOT_FOLDER = "notebooks"
_last_record: RunRecord | None = None


def snapshot_path(sha256: str, home: str | os.PathLike[str] | None = None) -> Path:
    """Where the copy of a notebook with this SHA-256 is kept in the run store's folder."""
    from mlnb.runs.database import default_home

    return Path(home or default_home()) / SNAPSHOT_FOLDER / f"{sha256}.ipynb"


def store_snapshot(
    raw: bytes, home: str | os.PathLike[str] | None = None
) -> tuple[str, Path | None]:
    """Keep a copy of the input notebook (by content hash) in the run store's folder.

    Returns:
        ``(sha256, path)``; the path is None (and a warning logged) when the store's folder
        cannot be written — the run goes on, it just cannot be replayed from a copy.
    """
    sha256 = hashlib.sha256(raw).hexdigest()
    path = snapshot_path(sha256, home)
    try:
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(raw)
            os.replace(tmp, path)
    except OSError as exc:
        log.warning("mlnb: cannot keep a copy of the notebook in %s (%s)", path.parent, exc)
        return sha256, None
    return sha256, path


def run_name(notebook: str | os.PathLike[str], tags: list[str] | tuple[str, ...] = ()) -> str:
    """``train`` for a plain run, ``train trial-3`` for a sweep trial, ``step evaluate`` for a DAG step."""
    stem = Path(notebook).stem if str(notebook) != "-" else "stdin"
    for tag in tags:
        if tag.startswith("trial-"):
            return f"{stem} {tag}"
        if tag.startswith("step:"):
            return f"step {tag[5:]}"
    return stem


def provenance_of(section: PipelineSection) -> dict[str, Any]:
    """The provenance a pipeline run starts with: its seed, notebook and papermill sections
    in the shape hand-logged runs have them, and the pipeline's own section."""
    notebook = section.notebook
    return {
        "seed": {"seed": section.seed, "source": "mlnb.pipeline"},
        "notebook": {
            "path": notebook if notebook in ("-", "") else str(Path(notebook).resolve()),
            "sha256": section.notebook_sha256,
        },
        "papermill": {
            "parameters": section.params,
            "output": section.output,
            "kernel": section.kernel,
            "cwd": section.cwd,
            "version": section.papermill.get("version"),
        },
        SECTION_KEY: section.to_dict(),
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


def begin(
    section: PipelineSection,
    tags: list[str] | tuple[str, ...],
    run_id: str,
    *,
    required: bool = True,
) -> RunRecord:
    """Write the run as ``running`` (to the store and every sink).

    Raises:
        StoreError: the store cannot be written — only with ``required``; otherwise (papermill
            driving the engine) a warning is logged and the run goes on unrecorded.
    """
    from mlnb.config import project as configured_project

    fields: dict[str, Any] = dict(
        project=configured_project("pipeline"),
        config=section.params,
        tags=["pipeline", *tags],
        provenance=provenance_of(section),
        run_id=run_id,
    )
    name = run_name(section.notebook, tags)
    try:
        begun = external.begin(name, **fields)
    except MlnbError as exc:
        if required:
            raise
        log.warning("mlnb: run %s could not be written to the run store: %s", run_id, exc)
        begun = external.draft(name, **fields)
    remember(begun)
    run_sinks.emit(begun)
    return begun


def conclude(context: Any) -> RunRecord:
    """Write how the run ended to the run store and every sink; returns the final record."""
    status, error = context.outcome or ("crashed", "the run ended without an outcome")
    section = context.section
    provenance = {SECTION_KEY: section.to_dict()}
    summary = summary_of(section.values)
    artifacts = [(section.output, "notebook")] if Path(section.output).is_file() else []
    try:
        record = external.end(
            context.record,
            status,
            error=error,
            summary=summary,
            provenance=provenance,
            artifacts=artifacts,
        )
    except MlnbError as exc:  # the notebook ran and its output is kept: say so, don't lose it
        log.warning(
            "mlnb: run %s could not be written to the run store: %s", context.record.id, exc
        )
        record = external.ended_record(
            context.record, status, error=error, summary=summary, provenance=provenance
        )
    remember(record)
    run_sinks.emit(record)
    return record


def remember(record: RunRecord) -> None:
    """Keep ``record`` as the latest run of this process (what Ctrl-C handlers report)."""
    global _last_record
    _last_record = record


def last_record() -> RunRecord | None:
    """The record of the latest run in this process (also after Ctrl-C)."""
    return _last_record
