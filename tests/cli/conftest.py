"""Fixtures for the ``mlnb`` command tests: an isolated environment (autouse) and ``cli_err``
(``home``, ``notebook``, ``fake_gpu``: tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import REPO


@pytest.fixture(autouse=True)
def _cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels, workers and ``python -m mlnb.cli`` children import this checkout; runs go to tmp."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(REPO) not in paths:
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), *paths]))
    monkeypatch.setenv("MLNB_HOME", str(tmp_path / ".mlnb-store"))


@pytest.fixture
def cli_err(capsys: pytest.CaptureFixture[str]) -> Callable[[list[str]], tuple[int, str]]:
    """``cli_err(argv)``: run ``mlnb argv`` in-process; its exit status and stripped stderr."""
    from mlnb.cli import main

    def run(argv: list[str]) -> tuple[int, str]:
        code = main(argv)
        return code, capsys.readouterr().err.strip()

    return run
