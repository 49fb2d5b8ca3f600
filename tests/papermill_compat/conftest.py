"""Fixtures for the papermill compatibility suite: runs go to a store in tmp, kernels import
this checkout, and every test runs in its notebook's folder (papermill's default cwd)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import REPO


@pytest.fixture(autouse=True)
def _compat_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(REPO) not in paths:
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), *paths]))
    home = tmp_path / ".mlnb-store"
    monkeypatch.setenv("MLNB_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home
