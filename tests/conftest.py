"""Shared fixtures: a real ipykernel to run cells in, an in-process IPython shell, a fresh
run store (``home``), small notebooks (``notebook``) and the fake GPU (``fake_gpu``)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

os.environ.setdefault("MPLBACKEND", "Agg")

# jp_fetch, jp_serverapp, ... for the server-extension tests in tests/server/ (a dev
# dependency; a GPU machine running only `-m gpu` tests may lack it)
pytest_plugins = (
    ("pytest_jupyter.jupyter_server",) if importlib.util.find_spec("pytest_jupyter") else ()
)

KERNEL_TIMEOUT = 180
#: set by .ci/run: an optional dev dependency that is missing or does not start fails there
REQUIRE_EXTRAS = os.environ.get("MLNB_REQUIRE_EXTRAS") == "1"


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


def cell_text(cell: nbformat.NotebookNode) -> str:
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
) -> nbformat.NotebookNode:
    """Execute ``cells`` in a fresh real ipykernel and return the executed notebook."""
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


@pytest.fixture
def kernel() -> Callable[..., nbformat.NotebookNode]:
    """Run a list of cell sources in a fresh kernel: ``kernel(["%load_ext mlnb", ...])``."""
    return run_notebook


@pytest.fixture
def shell() -> Iterator[object]:
    """An in-process IPython shell with mlnb loaded; unloaded afterwards."""
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "mlnb")
    yield ip
    ip.run_line_magic("unload_ext", "mlnb")
    ip.extension_manager.loaded.discard("mlnb")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh, empty store folder set as MLNB_HOME; every run of the test is finished after."""
    from mlnb.runs import session

    store_home = tmp_path / "store"
    monkeypatch.setenv("MLNB_HOME", str(store_home))
    monkeypatch.chdir(tmp_path)
    yield store_home
    for run in session.live_runs():
        run.finish()
    for store in session._stores.values():
        store.close()
    session._stores.clear()


def write_notebook(
    path: Path,
    cells: list[str],
    parameters: str | None = "x = 1",
    kernelspec: dict[str, str] | None = None,
) -> Path:
    """A notebook with an optional cell tagged ``parameters`` followed by ``cells``."""
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


@pytest.fixture
def notebook(tmp_path: Path) -> Callable[..., Path]:
    """``notebook("name.ipynb", cells, parameters=...)`` writes one into ``tmp_path``."""

    def make(name: str, cells: list[str], parameters: str | None = "x = 1", **kw: object) -> Path:
        return write_notebook(tmp_path / name, cells, parameters, **kw)  # type: ignore[arg-type]

    return make


GIB = 1024**3
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


@pytest.fixture
def fake_gpu(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Every mlnb.gpu function reads a fresh 16 GiB fake GPU (1 GiB used elsewhere)."""
    from mlnb.gpu import backends
    from mlnb.gpu.backends import fake

    monkeypatch.setenv("MLNB_GPU_BACKEND", "fake")
    monkeypatch.setenv("MLNB_GPU_FAKE", json.dumps(FAKE_SPEC))
    monkeypatch.setattr(fake, "_instance", None)
    backends.reset()
    yield fake.fake_gpu()
    backends.reset()
