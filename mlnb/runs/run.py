"""A run: config, metrics, summary, artifacts and provenance, written through a buffer.

``run.log({...})`` only converts the values to floats and appends them to an
in-memory queue (about a microsecond a point); a daemon thread writes the queue
to the store every :data:`FLUSH_INTERVAL` seconds, refreshes the run's heartbeat,
and drains it once more at :meth:`Run.finish` and at interpreter exit. If the
store cannot be written (a full disk), the points stay in memory and the next
flush retries; :meth:`Run.finish` then says so in one sentence and can be called
again once the disk has room. A run belongs to the process that started it: a
forked child that logs to it or finishes it is refused with a sentence, never
silently dropped.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from mlnb.config import project as configured_project
from mlnb.exceptions import (
    InvalidArgumentError,
    MetricValueError,
    MlnbWarning,
    RunsError,
    StoreError,
)
from mlnb.runs import forks, liveness, points
from mlnb.runs import values as checks
from mlnb.runs.cell_log import RunCellLog
from mlnb.runs.records import FINISH_STATUSES, MetricRow, RunRecord, new_run_id
from mlnb.runs.run_artifacts import RunArtifacts
from mlnb.runs.store import Store

#: seconds between background flushes (the store is never more than ~this behind)
FLUSH_INTERVAL = 0.5
MAX_STEP = checks.MAX_STEP
_now = time.time

#: called after each flush with metric name → the points just written
Listener = Callable[[dict[str, points.Chunk]], None]


class Run(RunArtifacts, RunCellLog):
    """One tracked run. Create it with :func:`mlnb.runs.start`; use it as a context manager.

    Attributes:
        id: the run's id.
        name: its name.
        project: its project.
        config: the parameters it was started with (JSON-ready copy).
        tags: its tags.
        summary: values to show for the run; every metric's last value is added for you.
        store: the :class:`~mlnb.runs.store.Store` it writes to.
    """

    def __init__(
        self,
        store: Store,
        name: str | None = None,
        *,
        project: str | None = None,
        config: Mapping[str, Any] | None = None,
        tags: list[str] | tuple[str, ...] = (),
    ) -> None:
        RunCellLog.__init__(self)
        self.store = store
        self.id = new_run_id()
        self.name = checks.check_name("name", name) if name else f"run-{self.id[:6]}"
        self.project = checks.check_name("project", project or configured_project())
        self.config = checks.sanitize_config(config or {})
        self.tags = tuple(checks.check_name("tag", tag) for tag in tags)
        self.started = time.time()
        self.status = "running"
        self.summary = checks.Summary(self._summary_changed)
        # four items an entry (step, values, time, cell), each added by one atomic extend():
        # no tuple per point survives in the buffer for the garbage collector to traverse
        self._buffer: deque[Any] = deque()
        self._extend = self._buffer.extend
        self._unsaved: dict[str, points.Chunk] = {}
        self._last_values: dict[str, float] = {}
        self._summary_dirty = True
        self._keys: set[str] = set()
        self._next_step = 0
        self._listeners: list[Listener] = []
        self._closers: list[Callable[[], None]] = []
        self._after_closers: list[Callable[[], None]] = []
        self._flush_lock = threading.Lock()
        self._finish_lock = threading.Lock()
        self._stop = threading.Event()
        self._warned = False
        self._closed = False  # closers ran and the flush thread stopped (finish began)
        self.owner_pid = os.getpid()
        self._forked = False  # set in a forked child (see mlnb.runs.forks): log() refuses there
        forks.track(self)
        self.provenance: dict[str, Any] = {}
        record = RunRecord(
            id=self.id,
            name=self.name,
            project=self.project,
            status="running",
            started=self.started,
            ended=None,
            heartbeat=self.started,
            pid=os.getpid(),
            host=liveness.host(),
            config=self.config,
            tags=self.tags,
        )
        store.create_run(record, liveness.process_start_time())
        self._thread = threading.Thread(
            target=self._flush_loop, name=f"mlnb-run-{self.id}", daemon=True
        )
        self._thread.start()
        self._provenance_thread = threading.Thread(
            target=self._capture_provenance, name=f"mlnb-provenance-{self.id}", daemon=True
        )
        self._provenance_thread.start()

    # --- logging ---------------------------------------------------------------

    def log(self, data: Mapping[str, Any], step: int | None = None) -> None:
        """Log metric values at one step: ``run.log({"loss": 0.3, "acc": 0.9}, step=10)``.

        Values may be Python or NumPy numbers or one-element tensors; NaN and
        infinities are kept as they are. With no ``step``, the step after the last
        one logged is used (0 at first). This only appends to an in-memory queue;
        the background thread writes it within :data:`FLUSH_INTERVAL` seconds.

        Raises:
            MetricValueError: a name is not a non-empty one-line string, a value is
                not a single number, or the step is not a whole number in ``[0, 2**63 - 1]``.
            RunsError: the run is already finished.
        """
        if self.status != "running" or self._forked:
            raise self._refusal("log to")
        if step is None:
            step = self._next_step
        elif type(step) is not int or step < 0 or step > MAX_STEP:
            step = checks.check_step(step)
        if type(data) is dict:
            values = data.copy()  # the caller may change their dict after this returns
            keys = self._keys
            for key, value in values.items():
                if type(value) is not float or key not in keys:
                    values = self._checked_values(data)
                    break
        else:
            values = self._checked_values(data)
        self._next_step = step + 1
        self._extend((step, values, _now(), self._cell))

    def log_many(self, data: Mapping[str, Any], steps: Any = None) -> int:
        """Log whole arrays at once: ``run.log_many({"loss": losses, "acc": accs}, steps=steps)``.

        For an epoch's worth of values kept in arrays (NumPy arrays, lists, CPU tensors):
        point ``i`` of every array is logged at ``steps[i]``. The arrays are checked and
        copied here (the caller may reuse them); NaN and infinities are kept as they are.
        With no ``steps``, the steps after the last one logged are used. Every point of
        one call gets the same time and cell. Returns the number of points logged.

        Raises:
            MetricValueError: a name is not a non-empty one-line string; an array is not
                one-dimensional, not numbers, or not as long as ``steps`` (or the other
                arrays); a step is not a whole number in ``[0, 2**63 - 1]``.
            RunsError: the run is already finished.
        """
        if self.status != "running" or self._forked:
            raise self._refusal("log to")
        if not isinstance(data, Mapping):
            raise MetricValueError(
                f"log_many() takes a dict of metric name → array, got {type(data).__name__} — "
                "write run.log_many({'loss': losses}, steps=steps)."
            )
        for key in data:
            if key not in self._keys:
                self._check_key(key)
        columns = {key: points.value_array(key, value) for key, value in data.items()}
        step_array = points.aligned_steps(columns, steps, self._next_step)
        count = len(step_array)
        if not count or not columns:
            return 0
        self._next_step = step_array[-1] + 1
        self._extend((step_array, columns, _now(), self._cell))
        return count * len(columns)

    def _refusal(self, action: str) -> RunsError:
        """Why this run takes no more points: it is finished, or this process is a fork."""
        if self.status != "running":
            return RunsError(
                f"run {self.name!r} is {self.status}; start a new one to log more (`mlnb.start(...)`)."
            )
        return forks.foreign_process_error(self, action)

    def _checked_values(self, data: Any) -> dict[str, float]:
        if not isinstance(data, Mapping):
            raise MetricValueError(
                f"log() takes a dict of metric name → number, got {type(data).__name__} — write run.log({{'loss': value}})."
            )
        values = {}
        for key, value in data.items():
            if key not in self._keys:
                self._check_key(key)
            values[key] = value if type(value) is float else checks.to_float(key, value)
        return values

    @property
    def latest(self) -> dict[str, float]:
        """The latest value of each metric: what the summary will say once the run flushes.

        Reads the flushed values, then the points still queued, in the order they were
        logged (``log`` itself stays a plain append; this is paid by the reader, e.g. a
        progress bar's postfix a few times a second).
        """
        latest = dict(self._last_values)  # first: a flush between the two reads can leave
        latest.update(points.last_values(points.entries(list(self._buffer))))  # it a step behind,
        # never reordered
        return latest

    def log_system(self, values: dict[str, float], step: int) -> None:
        """Log already-checked float values at ``step`` without moving the run's own step."""
        if self.status != "running":
            raise RunsError(f"run {self.name!r} is {self.status}.")
        self._extend((step, values, time.time(), None))

    def _check_key(self, key: object) -> None:
        self._keys.add(checks.check_metric_key(key))

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(rows)`` after each flush with the points just written; returns a remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def on_finish(self, closer: Callable[[], None], *, after_flush: bool = False) -> None:
        """Call ``closer()`` when the run finishes: before its last flush (samplers) or after (plots)."""
        (self._after_closers if after_flush else self._closers).append(closer)

    def live(self, keys: list[str] | None = None, *, interval: float = 0.5) -> Any:
        """A :class:`~mlnb.runs.live.LivePlot` of this run's curves (display it in a notebook)."""
        from mlnb.runs.live import LivePlot

        return LivePlot(self, keys, interval=interval)

    # --- flushing --------------------------------------------------------------

    def _summary_changed(self) -> None:
        self._summary_dirty = True

    def stored_summary(self) -> dict[str, Any]:
        """What the store shows as the summary: last value of each metric, then ``summary``."""
        return {**self._last_values, **self.summary}

    def flush(self) -> int:
        """Write everything logged so far to the store now; returns the points written.

        Raises:
            StoreError: the store could not be written; the points stay queued and
                the next flush (or :meth:`finish`) tries again.
        """
        if self.owner_pid != os.getpid():
            raise forks.foreign_process_error(self, "write")
        with self._flush_lock:
            buffer, last = self._buffer, self._last_values
            count = len(buffer)  # always whole entries: each was added by one extend()
            flat = [buffer.popleft() for _ in range(count - count % 4)]
            packed = points.pack_columns(flat[0::4], flat[1::4], flat[2::4], flat[3::4])
            for key, chunk in packed.items():  # chunks keep logging order
                last[key] = chunk.values[-1]
            chunks = points.merge(self._unsaved, packed)
            cells = self._take_cells()
            fields: dict[str, Any] = {"heartbeat": time.time()}
            if chunks or self._summary_dirty:
                fields["summary"] = self.stored_summary()
            try:
                self.store.append(self.id, chunks, cells, **fields)
            except BaseException:
                self._unsaved = chunks  # kept until the store has them
                self._return_cells(cells)
                raise
            self._unsaved = {}
            self._summary_dirty = False
        if chunks:
            for listener in list(self._listeners):
                listener(chunks)
        return sum(len(chunk) for chunk in chunks.values())

    def _capture_provenance(self) -> None:
        from mlnb.runs import provenance

        self._safely(lambda: provenance.capture(self))

    def _flush_loop(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL):
            self._safely(self.flush)

    def _safely(self, action: Callable[[], Any]) -> None:
        try:
            action()
        except Exception as exc:  # a background thread must not die; data stays buffered
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"mlnb: run {self.name!r}: background work failed ({type(exc).__name__}: "
                    f"{exc}); unsaved points stay in memory and mlnb keeps retrying.",
                    MlnbWarning,
                    stacklevel=2,
                )

    # --- finishing -------------------------------------------------------------

    def finish(self, status: str = "finished", error: str | None = None) -> RunRecord:
        """Stop the run: flush every point, record end time, status and error; idempotent.

        If the store cannot be written (a full disk), the run stays ``running``, every
        point stays in memory, and the error says so; call ``finish()`` again once the
        store can be written.

        Args:
            status: ``"finished"``, ``"failed"`` or ``"killed"``.
            error: what went wrong, for a failed run.

        Returns:
            The stored record of the run.

        Raises:
            StoreError: the store could not be written; nothing was lost, retry.
            RunsError: the run belongs to another process (this one is a fork of it).
        """
        if status not in FINISH_STATUSES:
            raise InvalidArgumentError(
                f"status must be one of {', '.join(FINISH_STATUSES)}, got {status!r}."
            )
        if self.owner_pid != os.getpid():
            raise forks.foreign_process_error(self, "finish")
        with self._finish_lock:
            if self.status != "running":
                return self.store.get_run(self.id)
            if not self._closed:
                for closer in reversed(self._closers):
                    self._safely(closer)
                self._stop.set()
                for thread in (self._thread, self._provenance_thread):
                    if thread is not threading.current_thread():
                        thread.join(timeout=30)
                self._closed = True
                self.close_cell(status == "finished", error)
            try:
                self.flush()
                ended = time.time()
                self.store.append(self.id, status=status, ended=ended, heartbeat=ended, error=error)
            except StoreError as exc:
                kept = sum(len(chunk) for chunk in self._unsaved.values()) + len(self._buffer) // 4
                raise StoreError(
                    exc.path,
                    f"run {self.name!r} ({self.id}) is not finished: {str(exc).rstrip('.')}; "
                    f"its {kept} unsaved point(s) are kept in memory — fix that, then call "
                    "run.finish() (or %run_stop) again to save them.",
                ) from None
            self.status = status
            for closer in reversed(self._after_closers):
                self._safely(closer)
        return self.store.get_run(self.id)

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.finish()
        elif isinstance(exc, KeyboardInterrupt):
            self.finish("killed", "KeyboardInterrupt")
        else:
            self.finish("failed", checks.exception_summary(exc))

    def record(self) -> RunRecord:
        """The run as the store has it now (flushes first)."""
        if self.status == "running":
            self.flush()
        return self.store.get_run(self.id)

    def metrics(self, keys: list[str] | None = None) -> list[MetricRow]:
        """Every point logged so far (flushes first)."""
        if self.status == "running":
            self.flush()
        return self.store.metrics(self.id, keys)

    def __repr__(self) -> str:
        return f"<mlnb Run {self.name!r} id={self.id} project={self.project!r} {self.status}>"
