"""Shared fixtures: a real ipykernel to run cells in, an in-process IPython shell."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable, Iterator

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
