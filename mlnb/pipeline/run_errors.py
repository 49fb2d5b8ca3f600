"""The one-sentence exception for a run that did not finish (failed, killed, crashed)."""

from __future__ import annotations

from mlnb.exceptions import NotebookRunError, RunCrashedError, RunFailedError, RunKilledError
from mlnb.pipeline.loading import shorten
from mlnb.pipeline.section import section_of
from mlnb.runs.records import RunRecord


def run_error(record: RunRecord) -> NotebookRunError:
    """The exception (one sentence) for a run that did not finish."""
    section = section_of(record)
    cell = f" in cell {section.cell_index + 1}" if section.cell_index is not None else ""
    label = f" (In [{section.execution_count}])" if section.execution_count else ""
    error = shorten(record.error or "", 200)
    where = f"{section.output} (run {record.id})"
    if record.status == "failed":
        return RunFailedError(
            f"{section.notebook} failed{cell}{label}: {error} — the output notebook {where} has the failing cell marked.",
            record,
        )
    if record.status in ("killed", "pruned"):
        return RunKilledError(
            f"{section.notebook} was stopped{cell}: {error}; the kernel is stopped and the output so far is in {where}.",
            record,
        )
    return RunCrashedError(
        f"the kernel running {section.notebook} died{cell} ({error}); the notebook as far as it got is in {where}.",
        record,
    )
