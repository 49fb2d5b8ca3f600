"""The pruning watcher of ``mlnb tune --prune median``: it reads running trials' logged
values from the run store and stops the trials Optuna's pruner prunes.

The notebook logs intermediate values of the metric with ``mlnb.log({metric: value},
step=epoch)`` — with no run of its own started, that writes to the trial's run in the
store (:mod:`mlnb.runs.trial`). A thread of the tuning process (the one that owns the
study) reads each running trial's points with ``Store.metrics`` every
:data:`PRUNE_POLL_SECONDS`, reports new steps with ``trial.report`` and asks
``trial.should_prune()``; a trial to prune is stopped through its stop file
(:func:`mlnb.pipeline.engine.request_stop`, the one message parent → worker): the worker's
engine marks the cell running, interrupts the kernel and ends the run ``pruned`` (output
notebook kept). A notebook that never logs the metric is warned about once
(:func:`warn_never_logged`) and its trials run to the end (nothing is lost).
"""

from __future__ import annotations

import math
import shutil
import tempfile
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb.exceptions import MlnbError, MlnbWarning
from mlnb.runs.records import RunRecord

if TYPE_CHECKING:
    from mlnb.runs.store import Store

#: how often the running trials' logged values are read from the run store
PRUNE_POLL_SECONDS = 0.2


def warn_never_logged(pruner: str, metric: str, trial: Any) -> None:
    """The one warning for a finished trial that logged no intermediate value of ``metric``:
    nothing can be pruned, and every trial runs to the end."""
    warnings.warn(
        f"--prune {pruner}: trial {trial} logged no {metric!r} while it ran, "
        f"so no trial can be pruned — log it at each step with mlnb.log({{{metric!r}: value}}, step=epoch) "
        "in the notebook; trials run to the end.",
        MlnbWarning,
        stacklevel=3,
    )


class _Watched:
    """A running trial the monitor reads: its run id, stop file, and the last step reported."""

    def __init__(self, trial: Any, run_id: str, stop_file: str) -> None:
        self.trial = trial
        self.run_id = run_id
        self.stop_file = stop_file
        self.last_step = -1
        self.points = 0
        self.stopping = False


class PruneMonitor:
    """Reads running trials' logged values from the run store, reports them to Optuna and
    stops the trials its pruner prunes. Optuna's storage is thread-safe (its own ``n_jobs``
    reports from threads); one lock keeps a trial from being reported while it is told."""

    def __init__(self, metric: str, pruner: str) -> None:
        self.metric = metric
        self.pruner = pruner
        self.folder = Path(tempfile.mkdtemp(prefix="mlnb-tune-stop-"))
        self.lock = threading.Lock()
        self.watched: dict[int, _Watched] = {}
        self.warned = False
        self._store: Store | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mlnb-tune-prune", daemon=True)
        self._thread.start()

    def watch(self, trial: Any, run_id: str) -> str:
        """Start reading ``trial``'s run; returns the stop file its worker watches."""
        stop_file = str(self.folder / f"{run_id}.stop")
        with self.lock:
            self.watched[trial.number] = _Watched(trial, run_id, stop_file)
        return stop_file

    def settle(self, trial: Any, record: RunRecord | None) -> None:
        """Before a trial is told: report the steps not read yet, stop watching it, and
        warn (once) when a trial that finished never logged the metric."""
        with self.lock:
            watched = self.watched.pop(trial.number, None)
        if watched is None:
            return
        store = self._open()
        rows = store.metrics(watched.run_id, [self.metric]) if store is not None else []
        self._report(watched, rows)
        finished = record is not None and record.status == "finished"
        if watched.points == 0 and finished and not self.warned:
            self.warned = True
            warn_never_logged(self.pruner, self.metric, trial.number)

    def _open(self) -> Store | None:
        from mlnb.runs.store import Store

        if self._store is None:
            try:
                store = Store(readonly=True)
            except MlnbError:  # damaged or unreadable: this pass reads nothing
                return None
            if store._conn is None:  # not created yet (no trial has begun): look again later
                return None
            self._store = store
        return self._store

    def _report(self, watched: _Watched, rows: list[Any]) -> bool:
        """Report the new finite points in step order; True if any was reported."""
        new = False
        for row in sorted(rows, key=lambda r: r.step):
            if row.step <= watched.last_step or not math.isfinite(row.value):
                continue
            watched.trial.report(row.value, row.step)
            watched.last_step = row.step
            watched.points += 1
            new = True
        return new

    def _loop(self) -> None:
        while not self._done.wait(PRUNE_POLL_SECONDS):
            try:
                self.poll()
            except Exception as exc:  # never let the monitor kill the search: trials run on
                warnings.warn(
                    f"--prune {self.pruner}: reading the trials' values failed ({type(exc).__name__}: {exc}); trials run to the end.",
                    MlnbWarning,
                    stacklevel=1,
                )
                return

    def poll(self) -> None:
        """One pass: report new steps of every running trial, stop the ones to prune."""
        from mlnb.pipeline.engine import request_stop

        with self.lock:
            running = list(self.watched.values())
        store = self._open() if running else None
        for watched in running:
            if store is None:
                return
            rows = store.metrics(watched.run_id, [self.metric])
            with self.lock:
                if self.watched.get(watched.trial.number) is not watched or watched.stopping:
                    continue
                if not self._report(watched, rows) or not watched.trial.should_prune():
                    continue
                watched.stopping = True
                value = rows[-1].value if rows else float("nan")
                request_stop(
                    watched.stop_file,
                    "pruned",
                    f"Pruned: the {self.pruner} pruner stopped it at step {watched.last_step} ({self.metric}={value:.6g})",
                )

    def close(self) -> None:
        """Stop reading and remove the stop files."""
        self._done.set()
        self._thread.join(timeout=10)
        if self._store is not None:
            self._store.close()
        shutil.rmtree(self.folder, ignore_errors=True)
