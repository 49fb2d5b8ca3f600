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
import sys
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


def write_notebook(
    path: Path,
    cells: list[str],
    parameters: str | None = "x = 1",
    kernelspec: dict[str, str] | None = None,
) -> Path:
    """A notebook with an optional cell tagged ``parameters`` followed by ``cells``."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = kernelspec or {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
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
