"""Coalesce bursts of widget events into one update.

A slider drag fires a change event per step. :class:`Debouncer` collects what
needs refreshing (``"predict"``, ``"pdp"``, ...) and runs the update once, after
``seconds`` without a new event, on a daemon :class:`threading.Timer`. With
``seconds=0`` (the tests) the update runs at once, on the caller's thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Debouncer:
    """Run ``callback(pending_keys)`` once per burst of :meth:`trigger` calls.

    Args:
        seconds: quiet time before the update runs; 0 runs it synchronously.
        callback: receives the set of keys triggered since the last run.
    """

    def __init__(self, seconds: float, callback: Callable[[set[str]], None]) -> None:
        self.seconds = float(seconds)
        self._callback = callback
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._running_in: int | None = None
        self.runs = 0

    def trigger(self, *keys: str) -> None:
        """Ask for ``keys`` to be refreshed; restarts the quiet period."""
        with self._lock:
            self._pending.update(keys)
            if self._running_in == threading.get_ident():
                return  # triggered by the update itself: the running loop picks it up
            if self.seconds <= 0:
                timer = None
            else:
                if self._timer is not None:
                    self._timer.cancel()
                self._timer = timer = threading.Timer(self.seconds, self._fire)
                self._timer.daemon = True
                self._timer.start()
        if timer is None:
            self._fire()

    def flush(self) -> None:
        """Run a pending update now instead of waiting for the timer."""
        if self._running_in == threading.get_ident():
            return  # called from inside the update: its loop runs what is pending
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self._fire()

    @property
    def pending(self) -> bool:
        """Whether an update is waiting for its quiet period to end."""
        with self._lock:
            return bool(self._pending)

    def close(self) -> None:
        """Cancel a waiting update and join its timer thread."""
        with self._lock:
            timer, self._timer = self._timer, None
            self._pending.clear()
        if timer is not None:
            timer.cancel()
            if timer is not threading.current_thread() and timer.is_alive():
                timer.join(timeout=5)

    def _fire(self) -> None:
        with self._run_lock:
            self._running_in = threading.get_ident()
            try:
                while True:
                    with self._lock:
                        keys, self._pending = self._pending, set()
                        if self._timer is threading.current_thread():
                            self._timer = None
                    if not keys:
                        return
                    self.runs += 1
                    self._callback(keys)
            finally:
                self._running_in = None
