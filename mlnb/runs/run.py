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

import hashlib
import os
import shutil
import threading
import time
import warnings
import weakref
from array import array
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
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
from mlnb.runs import liveness, points
from mlnb.runs import values as checks
from mlnb.runs.records import (
    FINISH_STATUSES,
    CellRow,
    MetricRow,
    RunRecord,
    artifact_for_file,
    new_run_id,
)
from mlnb.runs.store import Store

#: seconds between background flushes (the store is never more than ~this behind)
FLUSH_INTERVAL = 0.5
MAX_STEP = checks.MAX_STEP
MAX_KEY_LENGTH = 250  # MLflow's limit, so every run can be exported
_now = time.time

#: called after each flush with metric name → the points just written
Listener = Callable[[dict[str, points.Chunk]], None]

#: every Run created in this process; a forked child marks them as not its own
_runs_of_this_process: weakref.WeakSet[Run] = weakref.WeakSet()


def _after_fork() -> None:
    """In a forked child: every run the parent created belongs to the parent.

    ``log()`` is called in tight loops, so it reads this flag instead of asking the
    operating system for the process id each call; ``flush()`` and ``finish()`` still
    compare the process id (which also covers a fork that skipped Python's fork hooks).
    """
    for run in list(_runs_of_this_process):
        run._forked = True


if hasattr(os, "register_at_fork"):  # POSIX; elsewhere there is no fork
    os.register_at_fork(after_in_child=_after_fork)


class Run:
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
        self._cells: deque[CellRow] = deque()
        self._unsaved: dict[str, points.Chunk] = {}
        self._last_values: dict[str, float] = {}
        self._summary_dirty = True
        self._keys: set[str] = set()
        self._next_step = 0
        self._cell: int | None = None
        self._cell_rows: dict[int, CellRow] = {}
        self._listeners: list[Listener] = []
        self._closers: list[Callable[[], None]] = []
        self._after_closers: list[Callable[[], None]] = []
        self._flush_lock = threading.Lock()
        self._finish_lock = threading.Lock()
        self._stop = threading.Event()
        self._warned = False
        self._closed = False  # closers ran and the flush thread stopped (finish began)
        self.owner_pid = os.getpid()
        self._forked = False  # set in a forked child (see _after_fork): log() refuses there
        _runs_of_this_process.add(self)
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
        lengths = {len(column) for column in columns.values()}
        if steps is None:
            if len(lengths) > 1:
                raise MetricValueError(
                    "log_many(): the arrays have different lengths "
                    f"({', '.join(f'{k}: {len(v)}' for k, v in columns.items())}) — give each "
                    "metric the same number of points, or log them in separate calls."
                )
            count = lengths.pop() if lengths else 0
            step_array = array("q", range(self._next_step, self._next_step + count))
            if count and step_array[-1] > MAX_STEP:
                raise MetricValueError(f"steps would pass 2**63 - 1 ({MAX_STEP}).")
        else:
            step_array = points.step_array(steps)
            count = len(step_array)
            for key, column in columns.items():
                if len(column) != count:
                    raise MetricValueError(
                        f"metric {key!r} has {len(column)} values for {count} steps — "
                        "give one value per step."
                    )
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
        return self._foreign_process_error(action)

    def _foreign_process_error(self, action: str) -> RunsError:
        return RunsError(
            f"cannot {action} run {self.name!r} ({self.id}) from process {os.getpid()}: it "
            f"belongs to process {self.owner_pid}, which started it (this one is a fork) — "
            "start a run in this process with `mlnb.start(..., active=False)`."
        )

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
        if not isinstance(key, str) or not key.strip():
            raise MetricValueError(f"a metric name must be a non-empty string, got {key!r}.")
        if len(key) > MAX_KEY_LENGTH or any(ch in key for ch in "\n\r\t\x00"):
            raise MetricValueError(
                f"metric name {key[:40]!r}… must be one line of at most {MAX_KEY_LENGTH} characters."
            )
        self._keys.add(key)

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

    # --- cells (fed by mlnb.runs.cells) ----------------------------------------

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

    # --- artifacts -------------------------------------------------------------

    def run_dir(self) -> Path:
        """The folder for this run's artifacts (created on demand)."""
        path = self.store.artifacts_dir / self.id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def artifact_path(self, name: str) -> Path:
        """Where an artifact called ``name`` is stored: always inside :meth:`run_dir`.

        Raises:
            InvalidArgumentError: ``name`` is empty, absolute, or climbs out with ``..``.
        """
        text = os.fspath(name) if isinstance(name, (str, os.PathLike)) else None
        parts = Path(text).parts if text else ()
        if (
            not text
            or Path(text).is_absolute()
            or text.startswith(("/", "\\"))
            or ".." in parts
            or "\x00" in text
            or not parts
        ):
            raise InvalidArgumentError(
                f"artifact name {name!r} must be a relative path inside the run's folder "
                "(no leading '/', no '..'), e.g. 'plots/loss.png'."
            )
        folder = self.run_dir()
        target = folder / text
        if not target.resolve().is_relative_to(folder.resolve()):
            raise InvalidArgumentError(
                f"artifact name {name!r} leads outside the run's folder {folder} (through a "
                "symbolic link); choose another name."
            )
        return target

    def log_artifact(
        self,
        path: str | os.PathLike[str],
        name: str | None = None,
        *,
        kind: str = "file",
        meta: Mapping[str, Any] | None = None,
        move: bool = False,
    ) -> Path:
        """Copy a file into the run's artifact folder; returns where it was stored.

        Raises:
            InvalidArgumentError: ``path`` is not a file.
        """
        source = Path(path)
        if not source.is_file():
            raise InvalidArgumentError(f"log_artifact: {source} is not a file.")
        target = self.artifact_path(name or source.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.resolve() != target.resolve():
            (shutil.move if move else shutil.copy2)(source, target)
        self.store.add_artifact(
            self.id, artifact_for_file(target, name or source.name, kind, meta or {})
        )
        return target

    def log_text(
        self, name: str, text: str, *, kind: str = "file", meta: Mapping[str, Any] | None = None
    ) -> Path:
        """Store ``text`` as an artifact file named ``name`` (a relative path inside the run's folder).

        Raises:
            InvalidArgumentError: ``name`` is absolute or climbs out of the folder with ``..``.
        """
        target = self.artifact_path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        self.store.add_artifact(self.id, artifact_for_file(target, name, kind, meta or {}))
        return target

    def save_checkpoint(
        self,
        obj: Any,
        *,
        metric: str,
        value: float | None = None,
        mode: str = "min",
        keep: int = 3,
        step: int | None = None,
    ) -> Any:
        """Save ``obj`` with torch.save and keep the best ``keep`` checkpoints; see :mod:`mlnb.runs.checkpoints`."""
        from mlnb.runs import checkpoints

        return checkpoints.save_checkpoint(
            self, obj, metric=metric, value=value, mode=mode, keep=keep, step=step
        )

    def best_checkpoint(self) -> Any:
        """The best checkpoint saved so far, or None; see :mod:`mlnb.runs.checkpoints`."""
        from mlnb.runs import checkpoints

        return checkpoints.best_checkpoint(self)

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
            raise self._foreign_process_error("write")
        with self._flush_lock:
            buffer, last = self._buffer, self._last_values
            count = len(buffer)  # always whole entries: each was added by one extend()
            flat = [buffer.popleft() for _ in range(count - count % 4)]
            packed = points.pack_columns(flat[0::4], flat[1::4], flat[2::4], flat[3::4])
            for key, chunk in packed.items():  # chunks keep logging order
                last[key] = chunk.values[-1]
            chunks = points.merge(self._unsaved, packed)
            cells = [self._cells.popleft() for _ in range(len(self._cells))]
            fields: dict[str, Any] = {"heartbeat": time.time()}
            if chunks or self._summary_dirty:
                fields["summary"] = self.stored_summary()
            try:
                self.store.append(self.id, chunks, cells, **fields)
            except BaseException:
                self._unsaved = chunks  # kept until the store has them
                self._cells.extendleft(reversed(cells))
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
            raise self._foreign_process_error("finish")
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
