"""The cell log: which notebook cells ran during a run, in order, with source and hash.

:class:`CellRecorder` has one method per IPython event (``pre_run_cell``,
``post_run_cell``) and needs nothing from IPython but the objects those events
pass (anything with ``raw_cell`` / ``success``, ``error_in_exec``). The ``%run_*``
magics register it through their tracked, fail-safe hooks when ``%load_ext mlnb``
runs. Every running run of the process gets the cell; metrics logged while it
runs carry its sequence number, so a metric can be traced to the code that
logged it. A run started inside a cell records that cell as its first entry; a
run finished inside a cell closes that cell's entry when it finishes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mlnb.runs.run import Run
from mlnb.runs.values import exception_summary


@dataclass
class PendingCell:
    """The cell that is executing right now."""

    source: str
    execution_count: int | None
    started: float


_current: PendingCell | None = None


class CellRecorder:
    """Feeds the cell log of every running run from IPython's cell events.

    Args:
        live_runs: returns the runs to feed (``mlnb.runs.session.live_runs``).
    """

    def __init__(self, live_runs: Callable[[], Iterable[Run]]) -> None:
        self.live_runs = live_runs

    def pre_run_cell(self, info: object = None) -> None:
        """Before a cell: remember it and open a cell-log entry in each running run."""
        global _current
        source = getattr(info, "raw_cell", None) or ""
        _current = PendingCell(source, _execution_count(), time.time())
        for run in self.live_runs():
            run.open_cell(source, _current.execution_count, _current.started)

    def post_run_cell(self, result: object = None) -> None:
        """After a cell: close the entry with the cell's outcome."""
        global _current
        _current = None
        ok = bool(getattr(result, "success", True))
        error = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
        summary = exception_summary(error) if error is not None else None
        count = getattr(result, "execution_count", None)
        for run in self.live_runs():
            run.close_cell(ok, summary, count)


def attach(run: Run) -> None:
    """Called when a run starts: a run started inside a cell logs that cell first."""
    pending = _current
    if pending is not None:
        run.open_cell(pending.source, pending.execution_count, pending.started)


def _execution_count() -> int | None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a core dependency
        return None
    shell = get_ipython()
    count = getattr(shell, "execution_count", None)
    # IPython counts the cell before pre_run_cell fires; post_run_cell gives the exact number
    return count - 1 if isinstance(count, int) and count > 1 else count
