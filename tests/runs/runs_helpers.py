"""Helpers shared by the run-logging tests (imported as a plain module)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def child_env(**extra: str) -> dict[str, str]:
    """Environment for child processes and kernels: this worktree's mlnb first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    env.update(extra)
    return env


def _top_conftest() -> object:
    spec = importlib.util.spec_from_file_location(
        "mlnb_tests_top_conftest", REPO / "tests" / "conftest.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


cell_text = _top_conftest().cell_text  # type: ignore[attr-defined]
