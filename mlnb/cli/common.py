"""What the sub-commands share: exit codes and printing (pipeline options: :mod:`mlnb.pipeline.options`)."""

from __future__ import annotations

import json
import sys
from typing import Any

EXIT_RUN_FAILED = 1  # a run or check that did not pass (bad input exits 2, Ctrl-C 130)
EXIT_BAD_INPUT = 2  # an MlnbError: one line on stderr, no traceback
EXIT_INTERRUPTED = 130


def print_json(data: Any) -> None:
    """Pretty JSON on stdout."""
    print(json.dumps(data, indent=2, default=str))


def warn(message: str) -> None:
    """One line on stderr, prefixed like every mlnb message."""
    print(f"mlnb: {message}", file=sys.stderr)
