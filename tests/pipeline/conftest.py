"""Fixtures for the pipeline tests (``notebook``: tests/conftest.py; ``START_TIMEOUT``: tests/helpers.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import REPO


@pytest.fixture(autouse=True)
def _mlnb_importable_in_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels and worker processes inherit PYTHONPATH: make sure it has this checkout."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(REPO) not in paths:
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), *paths]))


@pytest.fixture(autouse=True)
def _run_store_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every run also goes to the run store: keep it in this test's folder."""
    home = tmp_path / ".mlnb-store"
    monkeypatch.setenv("MLNB_HOME", str(home))
    return home
