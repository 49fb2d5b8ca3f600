"""Papermill's execution manager, extended to keep the run record in the notebook as it runs.

:class:`RecordingExecutionManager` saves ``metadata.mlnb.run`` with every save, collects
the values ``mlnb.record`` shows after each cell, refuses to start a cell once a stop was
requested, and marks the cell a run failed, was killed or crashed in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from papermill.engines import NotebookExecutionManager

from mlnb.pipeline.context import RunContext
from mlnb.pipeline.parameters import cell_tags
from mlnb.pipeline.record import values_from_outputs
from mlnb.pipeline.section import METADATA_KEY

if TYPE_CHECKING:
    from nbformat import NotebookNode

INJECTED_TAGS = ("injected-parameters",)
ERROR_TAG = "mlnb-error"


def prepare_notebook(nb: NotebookNode, context: RunContext) -> None:
    """Set the kernelspec when ``--kernel`` asked for it (else the notebook's is kept)."""
    if context.kernelspec:
        nb.metadata["kernelspec"] = dict(context.kernelspec)


def input_cell_index(nb: NotebookNode, output_index: int) -> int:
    """The index in the input notebook of the output notebook's cell ``output_index``."""
    injected = sum(
        1
        for cell in nb.cells[:output_index]
        if any(tag in cell_tags(cell) for tag in INJECTED_TAGS)
    )
    return output_index - injected


class RecordingExecutionManager(NotebookExecutionManager):
    """Papermill's execution manager that keeps the run record in the notebook as it runs."""

    def __init__(self, nb: NotebookNode, context: RunContext, **kwargs: Any) -> None:
        super().__init__(nb, **kwargs)
        self.context = context
        self.current_index: int | None = None
        #: set by the stop watcher: no further cell starts
        self.stop_requested = False

    def save(self, **kwargs: Any) -> None:
        self.nb.metadata.setdefault(METADATA_KEY, {})["run"] = self.context.current().to_dict()
        super().save(**kwargs)

    def cell_start(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        if self.stop_requested:  # asked to stop between cells: papermill stops here
            from nbclient.exceptions import CellExecutionError

            raise CellExecutionError("", "StopRequested", "the run was asked to stop")
        self.current_index = cell_index
        super().cell_start(cell, cell_index, **kwargs)

    def cell_complete(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        self.context.section.values.update(values_from_outputs(cell.get("outputs", [])))
        super().cell_complete(cell, cell_index, **kwargs)

    def current_cell(self) -> Any:
        """The cell running (or last run), if any."""
        if self.current_index is None or self.current_index >= len(self.nb.cells):
            return None
        return self.nb.cells[self.current_index]

    def stop(self, status: str, error: str) -> None:
        """End the run as killed/crashed/pruned in the cell that was running, and mark that
        cell (with the first outcome settled: a pruned run whose kernel is then killed stays
        pruned)."""
        self.context.settle(status, error)
        if self.current_index is not None and self.context.outcome is not None:
            self._mark(self.current_index, self.context.outcome[0])

    def conclude_from_outputs(self) -> None:
        """Finished or failed, read from the outputs as papermill does (``sys.exit(0)`` is fine)."""
        for index, cell in enumerate(self.nb.cells):
            exited = False
            for output in cell.get("outputs", []):
                if output.get("output_type") != "error":
                    continue
                if output.get("ename") == "SystemExit" and output.get("evalue") in ("", "0"):
                    exited = True
                    continue
                self._mark(index, "failed")
                self.context.settle("failed", f"{output.ename}: {output.evalue}")
                return
            failed = cell.get("metadata", {}).get("papermill", {}).get("exception") is True
            if failed and not exited:
                self._mark(index, "failed")
                self.context.settle("failed", stderr_error(cell))
                return
        self.context.settle("finished")

    def _mark(self, index: int, status: str) -> None:
        cell = self.nb.cells[index]
        cell.metadata.setdefault(METADATA_KEY, {})["status"] = status
        tags = cell.metadata.setdefault("tags", [])
        if ERROR_TAG not in tags:
            tags.append(ERROR_TAG)
        self.context.section.cell_index = input_cell_index(self.nb, index)
        self.context.section.execution_count = cell.get("execution_count")


def stderr_error(cell: Any) -> str:
    """Why a cell with no error output failed: IPython prints a ``UsageError`` (a magic's
    one-sentence error) to stderr instead of sending an error message."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            for line in reversed(str(output.get("text", "")).strip().splitlines()):
                if line.startswith("UsageError: "):
                    return line
    return "CellExecutionError: the cell did not finish"
