"""Fixtures for the ``mlnb`` command tests (``home``, ``notebook``, ``fake_gpu``: tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels, workers and ``python -m mlnb.cli`` children import this checkout; runs go to tmp."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(REPO) not in paths:
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), *paths]))
    monkeypatch.setenv("MLNB_HOME", str(tmp_path / ".mlnb-store"))
