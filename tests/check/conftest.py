"""Fixtures for the ``mlnb check`` tests: pytester (for the pytest plugin) and a kernel
environment that imports this checkout."""

from __future__ import annotations

import os

import pytest

from tests.helpers import REPO


@pytest.fixture(autouse=True)
def _kernel_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fresh kernels (and seed pinning inside them) import this checkout's mlnb."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(REPO) not in paths:
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), *paths]))
