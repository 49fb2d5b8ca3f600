"""Fixtures for the pipeline tests: small notebooks written with nbformat."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

# Kernel starts are slow on a shared machine: give them room.
START_TIMEOUT = 180
ROOT = Path(__file__).resolve().parents[2]


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


@pytest.fixture(autouse=True)
def _mlnb_importable_in_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels and worker processes inherit PYTHONPATH: make sure it has this checkout."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(ROOT) not in paths:
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), *paths]))


@pytest.fixture(autouse=True)
def _run_store_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every run also goes to the run store: keep it in this test's folder."""
    home = tmp_path / ".mlnb-store"
    monkeypatch.setenv("MLNB_HOME", str(home))
    return home
