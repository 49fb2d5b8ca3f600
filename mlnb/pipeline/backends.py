"""Where trials and steps execute: local worker processes (default), Ray or Slurm.

An executor (:class:`~mlnb.pipeline.executor.Executor`) takes :class:`~mlnb.pipeline.run.RunTask` objects and hands back their
run records as they finish. Sweeps, tuning and DAGs all drive one through the same
four calls (``submit``, ``next_result``, ``cancel_pending``, ``close``), and new
ones register in :data:`executors` — as papermill registers its engines. The Ray and
Slurm executors live in their own modules and are imported only when asked for.

Local executor: ``jobs`` worker *processes* (``python -m mlnb.pipeline.worker``),
never threads — papermill changes the working directory with a process-wide
``chdir`` (papermill #473). Each worker keeps
one spare kernel booting while its current trial runs (every trial still gets a
fresh kernel), and a kernel that does not answer in time is replaced and retried
(papermill #239, "Kernel didn't respond in 60 seconds"). A worker that dies takes
only its own trial down: that trial is recorded ``crashed`` and a new worker
replaces it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import asdict
from typing import Any

from mlnb.exceptions import InvalidArgumentError
from mlnb.pipeline.executor import Executor, lost_record
from mlnb.pipeline.run import RunTask
from mlnb.runs.records import RunRecord

log = logging.getLogger(__name__)


class _Worker:
    """One ``python -m mlnb.pipeline.worker`` process and the task it is running."""

    def __init__(self, events: queue.Queue[tuple[_Worker, dict[str, Any] | None]]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlnb.pipeline.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.task_id: int | None = None
        self._reader = threading.Thread(target=self._read, args=(events,), daemon=True)
        self._reader.start()

    def _read(self, events: queue.Queue[tuple[_Worker, dict[str, Any] | None]]) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with contextlib.suppress(ValueError):
                events.put((self, json.loads(line)))
        events.put((self, None))  # end of output: the worker exited

    def send(self, task_id: int, fields: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.task_id = task_id
        self.process.stdin.write(json.dumps({"key": task_id, "task": fields}) + "\n")
        self.process.stdin.flush()

    def finish(self, timeout: float) -> None:
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:  # always a pipe: Popen(stdin=PIPE)
                self.process.stdin.close()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout=5)


class LocalProcessExecutor:
    """Runs tasks in ``jobs`` worker processes, each keeping a spare kernel warm."""

    def __init__(self, jobs: int = 1, **_: Any) -> None:
        if jobs < 1:
            raise InvalidArgumentError(f"--jobs must be at least 1, got {jobs}.")
        self.jobs = jobs
        self._events: queue.Queue[tuple[_Worker, dict[str, Any] | None]] = queue.Queue()
        self._workers: list[_Worker] = []
        self._queued: deque[int] = deque()
        self._cancelled: deque[int] = deque()
        self._fields: dict[int, dict[str, Any]] = {}
        self._keys: dict[int, Hashable] = {}
        self._next_id = 0

    def submit(self, key: Hashable, task: RunTask) -> None:
        """Queue a task; it starts as soon as a worker is free."""
        task_id = self._next_id
        self._next_id += 1
        self._keys[task_id] = key
        self._fields[task_id] = asdict(task)
        self._queued.append(task_id)
        self._dispatch()

    def _dispatch(self) -> None:
        """Give queued tasks to idle workers, starting workers up to ``jobs``."""
        for worker in self._workers:
            if worker.task_id is None and self._queued:
                self._send(worker)
        while self._queued and len(self._workers) < self.jobs:
            worker = _Worker(self._events)
            self._workers.append(worker)
            self._send(worker)

    def _send(self, worker: _Worker) -> None:
        task_id = self._queued.popleft()
        worker.send(task_id, self._fields[task_id])

    def pending(self) -> int:
        """Tasks not returned yet."""
        return len(self._keys)

    def next_result(self) -> tuple[Hashable, RunRecord | None]:
        """The next finished (or cancelled) task; a dead worker's task comes back crashed."""
        if self._cancelled:
            task_id = self._cancelled.popleft()
            self._fields.pop(task_id)
            return self._keys.pop(task_id), None
        while True:
            self._dispatch()  # here, not on return: a caller may cancel_pending() first
            worker, message = self._events.get()
            running = worker.task_id
            worker.task_id = None
            if message is None:  # the worker is gone
                self._workers.remove(worker)
                if running is None:
                    continue
                code = worker.process.wait()
                status = "killed" if code in (-2, 130) else "crashed"
                record = lost_record(
                    self._fields.pop(running),
                    status,
                    f"WorkerDied: the worker process exited with status {code}",
                )
            else:
                assert running is not None, "a worker only answers the task it was sent"
                self._fields.pop(running)
                record = RunRecord.from_dict(message["record"])
            return self._keys.pop(running), record

    def cancel_pending(self) -> None:
        """Queued tasks come back as cancelled; running ones finish."""
        self._cancelled.extend(self._queued)
        self._queued.clear()

    def close(self) -> None:
        """End the workers (each stops its spare kernel); terminate any that hang."""
        for worker in self._workers:
            worker.finish(timeout=30)
        self._workers.clear()


class Executors:
    """The registry of executors: name → factory ``(jobs=..., address=..., **options)``."""

    def __init__(self) -> None:
        self._factories: dict[str, Callable[..., Executor]] = {}

    def register(self, name: str, factory: Callable[..., Executor]) -> None:
        """Add (or replace) an executor."""
        self._factories[name] = factory

    def names(self) -> list[str]:
        """Registered executor names."""
        return list(self._factories)

    def create(
        self,
        name: str,
        jobs: int = 1,
        address: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Executor:
        """A new executor by name; ``options`` are its own settings (``ray_resources``,
        ``slurm_partition``...), passed as keywords.

        Raises:
            InvalidArgumentError: an unknown name (the known ones are listed).
        """
        if name not in self._factories:
            raise InvalidArgumentError(
                f"unknown backend {name!r}; available: {', '.join(self._factories)}."
            )
        return self._factories[name](jobs=jobs, address=address, **dict(options or {}))


def _ray(**settings: Any) -> Executor:
    from mlnb.pipeline.backend_ray import RayExecutor

    return RayExecutor(**settings)


def _slurm(**settings: Any) -> Executor:
    from mlnb.pipeline.backend_slurm import SlurmExecutor

    return SlurmExecutor(**settings)


executors = Executors()
executors.register("local", LocalProcessExecutor)
executors.register("ray", _ray)
executors.register("slurm", _slurm)
