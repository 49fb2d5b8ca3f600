"""The record of one notebook run, and the sinks it is written to.

Every :func:`mlnb.pipeline.run` creates a :class:`RunRecord` (params, seed, paths,
duration, status, the values the notebook recorded) and hands it to every
registered :class:`RunSink`. Two sinks are always on:

* ``notebook`` writes it into the output notebook's metadata (``metadata.mlnb.run``),
  so the executed notebook carries its own provenance;
* ``jsonl`` appends it to ``pipeline-runs.jsonl`` next to the output notebook, the
  index ``mlnb rerun RUN_ID`` reads;
* ``runs`` writes it into the run store of :mod:`mlnb.runs` (``$MLNB_HOME``), so
  ``mlnb runs list``, run comparison and the JupyterLab runs panel show it
  (:mod:`mlnb.pipeline.to_runs`).

Further sinks (a run-logging database, a tracking server) register themselves in
:data:`run_sinks`, as papermill's engines do in its engine registry.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from mlnb.exceptions import PipelineRunNotFoundError

log = logging.getLogger(__name__)

INDEX_NAME = "pipeline-runs.jsonl"
STATUSES = ("running", "finished", "failed", "killed", "crashed")
METADATA_KEY = "mlnb"


def new_run_id() -> str:
    """A short random run id (12 hex digits), unique enough for one user's runs."""
    return uuid.uuid4().hex[:12]


@dataclass
class RunRecord:
    """What one notebook run was and how it ended.

    Attributes:
        id: the run id (``mlnb rerun ID``).
        notebook: the input notebook's path, as given.
        output: the output notebook's path.
        params: the parameters injected by papermill (after type checks).
        seed: the seed pinned inside the kernel.
        kernel: the kernel the notebook ran in.
        cwd: the working directory of the kernel.
        status: one of ``running``, ``finished``, ``failed``, ``killed``, ``crashed``.
        started_at: Unix time the run started.
        duration: seconds from start to end (None while running).
        error: ``"ExceptionName: message"`` when it did not finish.
        cell_index: 0-based index, in the input notebook, of the cell that failed.
        execution_count: that cell's ``In [N]`` number in the output notebook.
        values: name → value for everything ``mlnb.record`` (or scrapbook) recorded.
        snapshot: path of the stored copy of the input notebook (what ``rerun`` runs).
        notebook_sha256: hash of the input notebook's bytes.
        papermill: papermill's own metadata of the run (parameters, version, ...).
        rerun_of: the run id this one re-executes, if any.
        tags: free-form labels (``sweep``, ``trial-3``, ``step:train``).
    """

    id: str
    notebook: str
    output: str
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    kernel: str = "python3"
    cwd: str | None = None
    status: str = "running"
    started_at: float = field(default_factory=time.time)
    duration: float | None = None
    error: str | None = None
    cell_index: int | None = None
    execution_count: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    snapshot: str | None = None
    notebook_sha256: str | None = None
    papermill: dict[str, Any] = field(default_factory=dict)
    rerun_of: str | None = None
    tags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """The record stored by :meth:`to_dict`; unknown keys (newer versions) are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def finish(self, status: str, error: str | None = None) -> None:
        """Set the final status and duration."""
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}; expected one of {STATUSES}")
        self.status = status
        self.error = error
        self.duration = round(time.time() - self.started_at, 3)

    def text(self) -> str:
        """What ``mlnb run`` prints: the outcome line, then a table of the recorded values."""
        from mlnb import display

        if self.status == "finished":
            head = f"mlnb: run {self.id} finished in {display.human_duration(self.duration)} -> {self.output} (seed {self.seed})"
        else:
            head = f"mlnb: {self.summary()}"
        if not self.values:
            return head
        return head + "\n" + display.text_table(["recorded", "value"], list(self.values.items()))

    def summary(self) -> str:
        """One line: id, status, notebook, duration, recorded values."""
        duration = f" in {self.duration:.2f} s" if self.duration is not None else ""
        values = ", ".join(f"{k}={_short(v)}" for k, v in self.values.items())
        where = f" (cell {self.cell_index + 1})" if self.cell_index is not None else ""
        text = f"run {self.id} {self.status}{where}{duration}: {self.notebook} -> {self.output}"
        if self.error:
            text += f" — {self.error}"
        return text + (f"; recorded {values}" if values else "")


def _short(value: Any) -> str:
    text = f"{value:.6g}" if isinstance(value, float) else json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


@runtime_checkable
class RunSink(Protocol):
    """Somewhere run records go. ``write`` is called when a run starts and when it ends."""

    def write(self, record: RunRecord) -> None:
        """Store ``record`` (the same id may arrive again with a later status)."""


class RunSinks:
    """The registry of run sinks: name → factory taking no arguments."""

    def __init__(self) -> None:
        self._factories: dict[str, Callable[[], RunSink]] = {}

    def register(self, name: str, factory: Callable[[], RunSink]) -> None:
        """Add (or replace) a sink; every later run writes to it."""
        self._factories[name] = factory

    def unregister(self, name: str) -> bool:
        """Remove a sink; returns whether it was registered."""
        return self._factories.pop(name, None) is not None

    def names(self) -> list[str]:
        """Registered sink names, in registration order."""
        return list(self._factories)

    def emit(self, record: RunRecord) -> None:
        """Write ``record`` to every sink; a failing sink is logged, never fatal to the run."""
        for name, factory in self._factories.items():
            try:
                factory().write(record)
            except Exception as exc:  # a broken sink must not lose the run itself
                log.warning("mlnb: run sink %r could not write run %s: %s", name, record.id, exc)


class NotebookSink:
    """Writes the record into the output notebook's ``metadata.mlnb.run``."""

    def write(self, record: RunRecord) -> None:
        """Rewrite the output notebook's metadata with ``record`` (if the notebook exists)."""
        path = Path(record.output)
        if record.status == "running" or not path.exists():  # the engine writes it live
            return
        with open(path, encoding="utf-8") as handle:
            nb = json.load(handle)
        nb.setdefault("metadata", {}).setdefault(METADATA_KEY, {})["run"] = record.to_dict()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(nb, handle, indent=1, ensure_ascii=False)
            handle.write("\n")
        os.replace(tmp, path)


class JsonlIndexSink:
    """Appends the record as one JSON line to ``pipeline-runs.jsonl`` beside the output."""

    def write(self, record: RunRecord) -> None:
        """Append one line; concurrent writers (parallel trials) never interleave lines."""
        path = Path(record.output).resolve().parent / INDEX_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record.to_dict(), default=str, ensure_ascii=False) + "\n").encode()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            _lock(fd)
            os.write(fd, line)
        finally:
            os.close(fd)


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: O_APPEND alone keeps single writes whole
        return
    fcntl.flock(fd, fcntl.LOCK_EX)  # released when the descriptor is closed


run_sinks = RunSinks()
run_sinks.register("notebook", NotebookSink)
run_sinks.register("jsonl", JsonlIndexSink)


def _runs_store_sink() -> RunSink:
    from mlnb.pipeline.to_runs import RunsStoreSink  # imports sqlite/psutil only when a run runs

    return RunsStoreSink()


run_sinks.register("runs", _runs_store_sink)


def read_index(path: str | os.PathLike[str]) -> dict[str, RunRecord]:
    """Every run in one ``pipeline-runs.jsonl``: id → its latest record."""
    runs: dict[str, RunRecord] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                record = RunRecord.from_dict(json.loads(line))
            except (ValueError, TypeError):  # a torn or foreign line: skip, keep the rest
                continue
            runs[record.id] = record
    return runs


def index_files(root: str | os.PathLike[str], max_depth: int = 4) -> Iterator[Path]:
    """``pipeline-runs.jsonl`` files under ``root`` (hidden folders and venvs skipped)."""
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        depth = len(Path(dirpath).relative_to(root).parts)
        dirnames[:] = [
            d
            for d in dirnames
            if depth < max_depth and not d.startswith(".") and d not in {"node_modules", "venv"}
        ]
        if INDEX_NAME in filenames:
            yield Path(dirpath) / INDEX_NAME


def find_run(run_id: str, root: str | os.PathLike[str] = ".") -> RunRecord:
    """The latest record of ``run_id`` in any index under ``root``, else in the run store.

    A unique prefix of the id works; the run store (``$MLNB_HOME``) is asked when no
    ``pipeline-runs.jsonl`` under ``root`` knows the run.

    Raises:
        PipelineRunNotFoundError: no index knows the id, or a prefix matches several runs.
    """
    matches: dict[str, RunRecord] = {}
    seen = 0
    for index in index_files(root):
        runs = read_index(index)
        seen += len(runs)
        matches.update({k: v for k, v in runs.items() if k.startswith(run_id)})
    if run_id in matches:
        return matches[run_id]
    if len(matches) == 1:
        return next(iter(matches.values()))
    if not matches:
        from mlnb.pipeline.to_runs import find_stored_run

        stored = find_stored_run(run_id)
        if stored is not None:
            return stored
    if len(matches) > 1:
        raise PipelineRunNotFoundError(
            f"run id {run_id!r} is ambiguous: it starts {len(matches)} runs ({', '.join(sorted(matches)[:5])}); give more digits."
        )
    raise PipelineRunNotFoundError(
        f"no run {run_id!r} in any {INDEX_NAME} under {Path(root).resolve()} ({seen} runs found) nor in the run store — pass the folder with --in."
    )
