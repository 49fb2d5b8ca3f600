"""``pytest --mlnb-check notebooks/``: each notebook a test that fails when it is not reproducible.

Registered as a ``pytest11`` entry point, so it is active wherever mlnb is installed; it
does nothing without ``--mlnb-check``. Each ``.ipynb`` collected becomes one item that
runs :func:`mlnb.checking.api.check` (a fresh run compared with the saved outputs); a
failure shows the report — the findings and every cell that differs, and how. Options:
``--mlnb-check-runs K``, ``--mlnb-check-seed N``, ``--mlnb-check-timeout S``.
Checkpoint copies (``.ipynb_checkpoints``) are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--mlnb-check`` and its settings."""
    group = parser.getgroup("mlnb-check", "notebook reproducibility (mlnb check)")
    group.addoption(
        "--mlnb-check",
        action="store_true",
        default=False,
        help="collect .ipynb files: each passes when a fresh run reproduces its saved outputs",
    )
    group.addoption("--mlnb-check-runs", type=int, default=1, metavar="K", help="fresh runs")
    group.addoption("--mlnb-check-seed", type=int, default=None, metavar="N", help="pin a seed")
    group.addoption(
        "--mlnb-check-timeout", type=float, default=None, metavar="S", help="seconds per run"
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A :class:`NotebookFile` for each notebook, with ``--mlnb-check``."""
    if not parent.config.getoption("mlnb_check"):
        return None
    if file_path.suffix != ".ipynb" or ".ipynb_checkpoints" in file_path.parts:
        return None
    return NotebookFile.from_parent(parent, path=file_path)


class NotebookFile(pytest.File):
    """A notebook file: one check item."""

    def collect(self) -> list[pytest.Item]:
        return [CheckItem.from_parent(self, name="mlnb-check")]


class NotReproducible(Exception):
    """Raised by a check item; carries the report."""

    def __init__(self, report: Any) -> None:
        super().__init__(report.headline())
        self.report = report


class CheckItem(pytest.Item):
    """``mlnb check`` of one notebook."""

    def runtest(self) -> None:
        from mlnb.checking.api import check

        config = self.config
        report = check(
            self.path,
            runs=config.getoption("mlnb_check_runs"),
            seed=config.getoption("mlnb_check_seed"),
            timeout=config.getoption("mlnb_check_timeout"),
        )
        if not report.reproducible:
            raise NotReproducible(report)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """The report's text for a notebook that is not reproducible; one sentence for bad input."""
        from mlnb.exceptions import MlnbError

        if isinstance(excinfo.value, NotReproducible):
            return excinfo.value.report.text()
        if isinstance(excinfo.value, MlnbError):
            return f"mlnb: {excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"mlnb check {self.path.name}"
