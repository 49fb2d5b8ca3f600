"""Fixtures for the pipeline tests (``notebook`` and ``write_notebook``: tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import write_notebook  # noqa: F401 - the pipeline tests import it from here

# Kernel starts are slow on a shared machine: give them room.
START_TIMEOUT = 180
ROOT = Path(__file__).resolve().parents[2]


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
