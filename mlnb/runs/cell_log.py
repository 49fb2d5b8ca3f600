"""A run's cell log entries: open one when a cell starts, close it with the cell's outcome.

:class:`RunCellLog` is the part of :class:`~mlnb.runs.run.Run` that
:mod:`mlnb.runs.cells` feeds from IPython's cell events. Metrics logged while a
cell is open carry its sequence number; the rows wait in a queue that the run's
next flush writes to the store.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque

from mlnb.runs.records import CellRow


class RunCellLog:
    """Cell-log methods of a run: the open cell and the rows waiting for the next flush."""

    def __init__(self) -> None:
        self._cells: deque[CellRow] = deque()  # rows not yet written
        self._cell: int | None = None  # the open cell's sequence number
        self._cell_rows: dict[int, CellRow] = {}

    def open_cell(self, source: str, execution_count: int | None, started: float) -> int:
        """Start a cell-log entry; metrics logged from now on are tied to it."""
        seq = len(self._cell_rows) + 1
        digest = hashlib.sha256(source.encode("utf-8", "replace")).hexdigest()[:16]
        row = CellRow(seq, execution_count, source, digest, started, None, "running", None)
        self._cell_rows[seq] = row
        self._cells.append(row)
        self._cell = seq
        return seq

    def close_cell(self, ok: bool, error: str | None = None, execution_count: int | None = None) -> None:  # fmt: skip
        """Finish the open cell-log entry with the cell's outcome (and its exact ``In[n]``)."""
        if self._cell is None:
            return
        row = self._cell_rows[self._cell]
        row = row._replace(
            ended=time.time(),
            status="ok" if ok else "error",
            error=error,
            execution_count=execution_count if execution_count is not None else row.execution_count,
        )
        self._cell_rows[self._cell] = row
        self._cells.append(row)
        self._cell = None

    def _take_cells(self) -> list[CellRow]:
        """The rows waiting to be written, removed from the queue."""
        return [self._cells.popleft() for _ in range(len(self._cells))]

    def _return_cells(self, cells: list[CellRow]) -> None:
        """Put rows a failed write took back at the front of the queue."""
        self._cells.extendleft(reversed(cells))
