"""Run one slow computation at a time off the kernel's thread, with progress and cancel.

A 2-D partial dependence or an average over every row takes seconds. The panel
hands it to a :class:`BackgroundTask`: the computation runs on a daemon thread and
reports ``(done, total)`` through the progress function it is given; starting a new
computation (the user changed a control) cancels the one still running — its next
progress report raises :class:`Cancelled`, so it stops at the next chunk and its
result is never shown. Results are applied by the callbacks on the worker thread;
ipywidgets sends trait changes from any thread, so the panel stays responsive
while the kernel is idle.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from mlnb.exceptions import MlnbError

#: ``progress(done, total)``: how far a computation got; raises :class:`Cancelled` once stale.
Progress = Callable[[int, int], None]


class Cancelled(Exception):
    """Raised inside a computation whose result is no longer wanted."""


class BackgroundTask:
    """At most one live computation; a newer :meth:`start` cancels the older one.

    Args:
        on_progress: called with ``(done, total)`` of the live computation.
        on_done: called with the live computation's result.
        on_error: called with the :class:`~mlnb.exceptions.MlnbError` it raised
            (anything else is a bug and propagates on the worker thread).
    """

    def __init__(
        self,
        on_progress: Progress,
        on_done: Callable[[Any], None],
        on_error: Callable[[MlnbError], None],
    ) -> None:
        self._on_progress = on_progress
        self._on_done = on_done
        self._on_error = on_error
        self._lock = threading.RLock()  # on_done may start the next computation
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self.started = 0
        self.cancelled = 0
        self.finished = 0

    @property
    def running(self) -> bool:
        """Whether a computation is still running."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self, compute: Callable[[Progress], Any]) -> None:
        """Run ``compute(progress)`` on a new daemon thread, cancelling the live one."""
        stop = threading.Event()
        with self._lock:
            if self._stop is not None:
                self._stop.set()
            self._stop = stop
            self.started += 1
            thread = threading.Thread(
                target=self._run, args=(compute, stop), name="mlnb-whatif-task", daemon=True
            )
            self._thread = thread
        thread.start()

    def cancel(self) -> None:
        """Ask the live computation to stop at its next progress report."""
        with self._lock:
            if self._stop is not None:
                self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the live computation (and its callbacks); False if it is still running."""
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def close(self) -> None:
        """Cancel the live computation and join its thread."""
        self.cancel()
        self.wait(timeout=10)

    def _run(self, compute: Callable[[Progress], Any], stop: threading.Event) -> None:
        def progress(done: int, total: int) -> None:
            if stop.is_set():
                raise Cancelled
            self._on_progress(done, total)

        try:
            result = compute(progress)
        except Cancelled:
            self._count_cancelled()
            return
        except MlnbError as exc:
            if not stop.is_set():
                self._on_error(exc)
            return
        with self._lock:  # a newer start() now waits until this result is applied
            if stop.is_set():
                self.cancelled += 1
                return
            self.finished += 1
            self._on_done(result)

    def _count_cancelled(self) -> None:
        with self._lock:
            self.cancelled += 1
