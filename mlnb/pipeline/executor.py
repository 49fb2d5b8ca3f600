"""What every place that runs notebooks provides (:class:`Executor`), and the record of a
task that could not report itself (:func:`lost_record`).

Sweeps, tuning and pipelines drive an executor through four calls (``submit``,
``next_result``, ``cancel_pending``, ``close``); the executors themselves live one module
each (:mod:`mlnb.pipeline.backends` for local processes and the registry,
:mod:`mlnb.pipeline.backend_ray`, :mod:`mlnb.pipeline.backend_slurm`).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from typing import Any, Protocol

from mlnb.config import project as configured_project
from mlnb.exceptions import MlnbError
from mlnb.pipeline.lifecycle import provenance_of, run_name
from mlnb.pipeline.run import RunTask
from mlnb.pipeline.section import PipelineSection
from mlnb.runs import external
from mlnb.runs.records import RunRecord

log = logging.getLogger(__name__)


class Executor(Protocol):
    """What sweeps, tuning and pipelines need from a place that runs notebooks."""

    def submit(self, key: Hashable, task: RunTask) -> None:
        """Queue ``task``; its record comes back from :meth:`next_result` under ``key``."""

    def next_result(self) -> tuple[Hashable, RunRecord | None]:
        """Block until a task ends: ``(key, record)``, or ``(key, None)`` if it was cancelled."""

    def pending(self) -> int:
        """Tasks submitted whose result has not been returned yet."""

    def cancel_pending(self) -> None:
        """Do not start the tasks still queued (those already running finish)."""

    def close(self) -> None:
        """Stop the workers and any spare kernels."""


def lost_record(fields: dict[str, Any], status: str, error: str) -> RunRecord:
    """Record, in the run store, a task that could not report itself (it did not start,
    or its worker died), so the run store and the sweep's table show it."""
    tags = list(fields.get("tags") or [])
    notebook = str(fields.get("notebook"))
    section = PipelineSection(
        notebook=notebook,
        output=str(fields.get("output")),
        params=dict(fields.get("params") or {}),
        seed=fields.get("seed"),
        kernel=str(fields.get("kernel") or "python3"),
        cwd=fields.get("cwd"),
        rerun_of=fields.get("rerun_of"),
    )
    begun: dict[str, Any] = dict(
        project=configured_project("pipeline"),
        config=section.params,
        tags=["pipeline", *tags],
        provenance=provenance_of(section),
    )
    try:
        return external.record(run_name(notebook, tags), status, error=error, **begun)
    except MlnbError as exc:  # the store is unusable: the caller still gets the outcome
        log.warning("mlnb: a lost run could not be written to the run store: %s", exc)
        unstored = external.draft(run_name(notebook, tags), **begun)
        return external.ended_record(unstored, status, error=error)
