"""Running a notebook on a machine that cannot see this one's files, and bringing it back.

A cluster node (a Ray worker, a Slurm job) must not read the driver's paths: they may not
exist there, and the run store is a SQLite file that must never be shared over a network
file system. So a run travels as a :class:`Parcel` — the task's working folder (the
``cwd``, else the notebook's folder) packed as bytes, minus mlnb's own output folders —
and runs on the node in a scratch folder of its own, with a scratch run store
(:func:`run_parcel`). What comes back is plain data: the run exported from the scratch store,
the output notebook's bytes, the files the run created or changed, and which node ran it.
:func:`land` writes all of it on the driver: the output notebook where the task asked, the
files into the working folder, the run into the driver's store with the driver's paths and
a ``node`` provenance section.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mlnb.config import HOME, PROJECT
from mlnb.display import human_bytes
from mlnb.exceptions import InvalidArgumentError
from mlnb.pipeline.lifecycle import store_snapshot
from mlnb.pipeline.run import RunTask
from mlnb.pipeline.section import SECTION_KEY
from mlnb.runs.records import RunRecord, artifact_for_file
from mlnb.runs.session import open_store
from mlnb.runs.transfer import export_run, import_run

#: folders that never travel: run stores, outputs of runs, sweeps and tuning, caches
SKIPPED_FOLDERS = frozenset(
    {".mlnb", ".git", "__pycache__", ".ipynb_checkpoints", "runs", "sweeps", "tune", ".venv"}
)
#: the most a working folder may weigh to travel with each task
MAX_PARCEL_BYTES = 256 * 1024 * 1024
#: where the notebook goes when it lies outside the working folder
OUTSIDE = ".mlnb-notebook"


@dataclass
class Parcel:
    """One run as it travels: the working folder's files and the task with relative paths.

    Attributes:
        files: path relative to the working folder → the file's bytes.
        notebook: the notebook's path among ``files``.
        cwd: the kernel's working folder, relative (``"."``: the working folder itself).
        task: the :class:`RunTask` fields (its driver paths are replaced on the node).
        stop_file: a file on the node that stops the run when it appears (Ray Tune's pruning).
        settings: the driver's mlnb settings the run should see (``MLNB_PROJECT``).
    """

    files: dict[str, bytes]
    notebook: str
    cwd: str
    task: dict[str, Any]
    stop_file: str | None = None
    settings: dict[str, str] = dataclasses.field(default_factory=dict)


def working_folder(task: RunTask) -> Path:
    """The folder that travels with ``task``: its ``cwd``, else the notebook's folder."""
    return Path(task.cwd) if task.cwd else Path(task.notebook).resolve().parent


def pack(task: RunTask) -> Parcel:
    """The parcel of ``task`` (read on the driver).

    Raises:
        InvalidArgumentError: the working folder weighs more than :data:`MAX_PARCEL_BYTES`.
    """
    root = working_folder(task).resolve()
    notebook = Path(task.notebook).resolve()
    skipped = {Path(task.output).resolve().parent} if task.output else set()
    files: dict[str, bytes] = {}
    total = 0
    for path in _walk(root, skipped):
        total += path.stat().st_size
        if total > MAX_PARCEL_BYTES:
            raise InvalidArgumentError(
                f"{root} holds more than {human_bytes(MAX_PARCEL_BYTES)}, too much to send with every task — put large data where every node can read it and pass its location as a parameter."
            )
        files[path.relative_to(root).as_posix()] = path.read_bytes()
    if notebook.is_relative_to(root):
        relative = notebook.relative_to(root).as_posix()
    else:
        relative = f"{OUTSIDE}/{notebook.name}"
    files[relative] = notebook.read_bytes()
    settings = {PROJECT.env: os.environ[PROJECT.env]} if os.environ.get(PROJECT.env) else {}
    return Parcel(files, relative, ".", asdict(task), settings=settings)


def _walk(root: Path, skipped: set[Path]) -> Iterator[Path]:
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in sorted(dirs) if d not in SKIPPED_FOLDERS and here / d not in skipped]
        for name in sorted(names):
            path = here / name
            if path.is_file() and not path.is_symlink():
                yield path


@contextlib.contextmanager
def _interruptible_kernels() -> Iterator[None]:
    """Let the kernels this thread starts receive SIGINT while the run lasts.

    Ray's workers block SIGINT, and a blocked signal stays blocked in the processes they
    start — a kernel that never sees SIGINT cannot be interrupted, so a pruned trial would
    run to its end. The mask is per thread; the previous one is put back afterwards.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` (the kernel inherits them) while the run lasts."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_parcel(
    parcel: Parcel, node: dict[str, Any] | None = None, scratch: Path | None = None
) -> dict[str, Any]:
    """Run ``parcel`` in a scratch folder of this machine; returns what :func:`land` needs.

    Args:
        parcel: the run as :func:`pack` made it.
        node: what identifies this node beyond its host name and address (a Ray node id,
            a Slurm job id), recorded in the run's provenance.
        scratch: the folder to run in (its ``store/`` is the scratch run store, which a
            caller may read while the run goes on); default a new temporary folder,
            removed at the end.
    """
    owned = scratch is None
    scratch = Path(tempfile.mkdtemp(prefix="mlnb-node-")) if scratch is None else scratch
    try:
        root = scratch / "work"
        for relative, data in parcel.files.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        output = scratch / "out" / Path(parcel.task.get("output") or "out.ipynb").name
        fields = {
            **parcel.task,
            "notebook": str(root / parcel.notebook),
            "output": str(output),
            "cwd": str(root / parcel.cwd),
            "stop_file": parcel.stop_file,
        }
        settings = {**parcel.settings, HOME.env: str(scratch_store(scratch))}
        with _environment(settings), _interruptible_kernels():
            record = RunTask(**fields).execute()
            exported = export_run(record.id)
        return {
            "run": exported,
            "notebook": output.read_bytes() if output.is_file() else None,
            "files": _changed(root, parcel.files, skip=parcel.notebook),
            "node": {"hostname": socket.gethostname(), "ip": _address(), **(node or {})},
        }
    finally:
        if owned:
            shutil.rmtree(scratch, ignore_errors=True)


def scratch_store(scratch: Path) -> Path:
    """The run store of a run in ``scratch``."""
    return scratch / "store"


def _changed(root: Path, sent: dict[str, bytes], skip: str) -> dict[str, bytes]:
    """Files under ``root`` the run created or changed (by content)."""
    digests = {name: hashlib.sha256(data).digest() for name, data in sent.items()}
    changed = {}
    for path in _walk(root, set()):
        relative = path.relative_to(root).as_posix()
        data = path.read_bytes()
        if relative != skip and digests.get(relative) != hashlib.sha256(data).digest():
            changed[relative] = data
    return changed


def _address() -> str:
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "unknown"


def land(payload: dict[str, Any], task: RunTask) -> RunRecord:
    """Write what :func:`run_parcel` sent back on the driver; returns the run as stored here."""
    root = working_folder(task).resolve()
    for relative, data in payload["files"].items():
        target = (root / relative).resolve()
        if target.is_relative_to(root):  # never outside the working folder
            _write(target, data)
    output = Path(task.output) if task.output else None
    if output is not None and payload["notebook"] is not None:
        _write(output, payload["notebook"])
    record = _driver_record(payload, task)
    import_run(payload["run"], record)
    if output is not None and output.is_file():
        open_store().add_artifact(
            record.id, artifact_for_file(output.resolve(), output.name, "notebook", {})
        )
    from mlnb.pipeline.sinks import run_sinks

    run_sinks.emit(record)  # the output notebook's metadata gets the driver's paths too
    return record


def _driver_record(payload: dict[str, Any], task: RunTask) -> RunRecord:
    """The node's record with the driver's paths, its snapshot, and the node it ran on."""
    record = RunRecord.from_dict(payload["run"]["record"])
    notebook = Path(task.notebook).resolve()
    _, snapshot = store_snapshot(notebook.read_bytes())
    cwd = str(Path(task.cwd).resolve()) if task.cwd else str(notebook.parent)
    paths = {"notebook": task.notebook, "output": task.output, "cwd": cwd}
    provenance = dict(record.provenance)
    section = {**provenance.get(SECTION_KEY, {}), **paths}
    section["snapshot"] = str(snapshot) if snapshot else None
    provenance[SECTION_KEY] = section
    provenance["notebook"] = {**provenance.get("notebook", {}), "path": str(notebook)}
    provenance["papermill"] = {
        **provenance.get("papermill", {}),
        "output": task.output,
        "cwd": cwd,
    }
    provenance["node"] = payload["node"]
    return dataclasses.replace(record, provenance=provenance)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
