"""Constants and plain functions the tests share; import them one way: ``from tests.helpers import ...``.

Per-test tools are conftest fixtures built on these functions (tests/conftest.py: ``kernel``,
``notebook``, ``cell_text``, ``strip_ansi``, ``child_env``; tests/server/conftest.py:
``log_run``), so a test asks for them by name instead of importing them. Importing this module
is cheap (no Jupyter import at module level): ``tests/gpu/test_cuda.py --noconftest`` style runs
stay possible.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

#: the checkout the tests run against (kernels and child processes import mlnb from here)
REPO = Path(__file__).resolve().parents[1]
#: the interpreter running the tests, for child processes
PYTHON = sys.executable
#: seconds a real-kernel notebook may run (``kernel`` fixture)
KERNEL_TIMEOUT = 180
#: kernel starts are slow on a shared machine: give pipeline runs room
START_TIMEOUT = 180
#: set by .ci/run: an optional dev dependency that is missing or does not start fails there
REQUIRE_EXTRAS = os.environ.get("MLNB_REQUIRE_EXTRAS") == "1"

MIB = 1024**2
GIB = 1024**3
#: the fake GPU of the ``fake_gpu`` fixture: 16 GiB, 1 GiB used by another process
FAKE_SPEC = {
    "devices": [
        {
            "name": "Fake H100",
            "total": 16 * GIB,
            "used": GIB,
            "utilization": 40,
            "temperature": 55,
            "power": 210,
            "processes": [{"pid": 4242, "name": "trainer", "used": GIB}],
        }
    ]
}


def extra(module: str) -> object:
    """Import a dev extra (optuna, ray): skip without it locally, fail without it in CI."""
    if REQUIRE_EXTRAS:
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f"{module} (a dev extra) is not installed")


def skip_unless_required(reason: str) -> None:
    """Skip with ``reason`` locally; in CI the same condition is a failure."""
    if REQUIRE_EXTRAS:
        pytest.fail(reason)
    pytest.skip(reason)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def draws() -> tuple[float, float, float]:
    """One number each from random, NumPy's global generator and torch (imports torch)."""
    import random

    import numpy as np
    import torch

    return (random.random(), float(np.random.rand()), float(torch.rand(1)))


def strip_ansi(text: str) -> str:
    """Text without terminal colour codes (IPython colours tracebacks)."""
    return _ANSI.sub("", text)


def cell_text(cell: Any) -> str:
    """Everything a cell showed as text: streams, text/plain results, errors."""
    parts: list[str] = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
    return "\n".join(parts)


def run_notebook(
    cells: list[str],
    *,
    allow_errors: bool = False,
    timeout: int = KERNEL_TIMEOUT,
    cwd: str | None = None,
) -> Any:
    """Execute ``cells`` in a fresh real ipykernel and return the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": cwd or os.getcwd()}},
    )
    client.execute()
    return nb


PYTHON3 = {"name": "python3", "display_name": "Python 3", "language": "python"}


def make_notebook(
    cells: list[str], parameters: str | None = None, kernelspec: dict[str, str] | None = PYTHON3
) -> Any:
    """A notebook: an optional cell tagged ``parameters``, then ``cells`` (no kernelspec if None)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    if kernelspec is not None:
        nb.metadata["kernelspec"] = dict(kernelspec)
    return nb


def write_notebook(
    path: Path,
    cells: list[str],
    parameters: str | None = "x = 1",
    kernelspec: dict[str, str] | None = None,
) -> Path:
    """A notebook with an optional cell tagged ``parameters`` followed by ``cells``."""
    import nbformat

    nb = make_notebook(cells, parameters, kernelspec or PYTHON3)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def child_env(**variables: str) -> dict[str, str]:
    """Environment for child processes and kernels: this checkout's mlnb first on the path,
    plus ``variables``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    env.update(variables)
    return env


def log_run(home, name, *, project="demo", points=5, finish=True, tags=()):
    """Write one real run into ``home`` with mlnb.runs (no mocks)."""
    from mlnb.runs import session

    run = session.start(
        name,
        project=project,
        config={"lr": 0.1},
        tags=tags,
        home=home,
        system_interval=None,
        active=False,
    )
    for step in range(points):
        run.log({"loss": 1.0 / (step + 1), "acc": step / points}, step=step)
    run.log({"weird": float("nan")}, step=0)
    if finish:
        run.finish()
    return run


# --- damaged stores (tests/faults/) ------------------------------------------------


def file_states(folder: Path) -> dict[str, bytes | None]:
    """Every file under ``folder`` (a store) by relative name → its bytes (None for a folder).

    Left out: ``-shm`` files (SQLite's shared index, rebuilt by any reader) and an EMPTY
    ``-wal`` (a read-only SQLite connection to a WAL store makes one and cannot remove it; it
    holds nothing). A ``-wal`` with content is compared like any file."""
    if not folder.is_dir():
        return {".": folder.read_bytes()} if folder.exists() else {}
    return {
        str(path.relative_to(folder)): None if path.is_dir() else path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if not path.name.endswith("-shm")
        and not (path.name.endswith("-wal") and path.stat().st_size == 0)
    }


def mount_works() -> bool:
    """Whether this process may mount file systems (root with CAP_SYS_ADMIN, not in CI)."""
    import shutil
    import subprocess
    import tempfile

    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", folder], capture_output=True
        )
        if done.returncode != 0:
            return False
        subprocess.run(["umount", folder], check=True)
    return True


class ReadOnly:
    """Make a folder read-only for this process and undo it: a read-only bind mount as root
    (root ignores permissions), ``chmod a-w`` otherwise. ``how`` says which was used."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.how = ""

    def __enter__(self) -> ReadOnly:
        import subprocess

        if os.geteuid() != 0:
            for path in [*self.folder.rglob("*"), self.folder]:
                path.chmod(0o555 if path.is_dir() else 0o444)
            self.how = "chmod"
            return self
        if not mount_works():
            pytest.skip("root ignores permissions and cannot mount here: no read-only folder")
        folder = str(self.folder)
        subprocess.run(["mount", "--bind", folder, folder], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", folder], check=True)
        self.how = "read-only bind mount"
        return self

    def __exit__(self, *exc: object) -> None:
        import subprocess

        if self.how == "chmod":
            for path in [self.folder, *self.folder.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
        elif self.how:
            done = subprocess.run(["umount", str(self.folder)], capture_output=True)
            if done.returncode != 0:  # a connection still open: detach it anyway
                subprocess.run(["umount", "-l", str(self.folder)], check=True)


LOCK_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA locking_mode = EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


class LockedStore:
    """Another process holding ``runs.db`` exclusively (``locking_mode = EXCLUSIVE``, ``BEGIN
    EXCLUSIVE``: even WAL readers must wait) until the context ends."""

    def __init__(self, db: Path, seconds: float = 120.0) -> None:
        self.db = db
        self.seconds = seconds
        self.process: Any = None

    def __enter__(self) -> LockedStore:
        import subprocess

        self.process = subprocess.Popen(
            [PYTHON, "-c", LOCK_HOLDER, str(self.db), str(self.seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "locked"
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.kill()
        self.process.wait()


def store_with_runs(home: Path, runs: int, *, notebook: str = "/tmp/train.ipynb") -> None:
    """Write ``runs`` realistic finished runs (config, summary, provenance; every 97th failed)
    into the store at ``home`` with one ``executemany`` — for tests and benches of large stores."""
    from mlnb.runs import Store
    from mlnb.runs.records import dumps

    provenance = dumps({"notebook": {"path": notebook}, "seed": {"seed": 1}})
    rows = [
        (
            f"{i:012x}",
            f"run-{i}",
            f"project-{i % 10}",
            "failed" if i % 97 == 0 else "finished",
            1_700_000_000.0 + i,
            1_700_000_060.0 + i,
            1_700_000_060.0 + i,
            None,
            None,
            "host",
            dumps({"lr": 0.001 * (i % 7), "layers": [32, 64]}),
            dumps(["sweep"]),
            dumps({"loss": 1.0 / (i + 1), "acc": (i % 100) / 100}),
            provenance,
            None,
        )
        for i in range(runs)
    ]
    with Store(home) as store:
        store._write(
            lambda c: c.executemany(f"INSERT INTO runs VALUES ({','.join('?' * 15)})", rows)
        )


@contextmanager
def sleeper(seconds: int = 120) -> Iterator[subprocess.Popen]:
    """A real process that only sleeps (a stand-in for a DataLoader worker or a stranger's job)."""
    process = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])
    try:
        yield process
    finally:
        process.kill()
        process.wait()
