"""What the sub-commands share: exit codes and printing (pipeline options: :mod:`mlnb.pipeline.options`)."""

from __future__ import annotations

import contextlib
import json
import sys
import warnings
from collections.abc import Iterator
from typing import Any, TextIO

from mlnb.exceptions import MlnbWarning

EXIT_RUN_FAILED = 1  # a run or check that did not pass (bad input exits 2, Ctrl-C 130)
EXIT_BAD_INPUT = 2  # an MlnbError: one line on stderr, no traceback
EXIT_INTERRUPTED = 130


def print_json(data: Any) -> None:
    """Pretty JSON on stdout."""
    print(json.dumps(data, indent=2, default=str))


def warn(message: str) -> None:
    """One line on stderr, prefixed like every mlnb message."""
    print(f"mlnb: {message}", file=sys.stderr)


@contextlib.contextmanager
def warnings_as_lines(*, every_time: bool = False) -> Iterator[None]:
    """Show mlnb's warnings as one ``mlnb: ...`` line on stderr; others as Python prints them.

    Args:
        every_time: show a warning each time it is raised, not only the first time
            (``mlnb run`` reports a long run's warnings as they come).
    """
    default = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if issubclass(category, MlnbWarning):
            warn(str(message).removeprefix("mlnb: "))
        else:
            default(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():  # restores showwarning and the filters after
        if every_time:
            warnings.simplefilter("always")
        warnings.showwarning = show
        yield
