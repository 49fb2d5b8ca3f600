"""``python -m mlnb.cli``: the same as the ``mlnb`` console script."""

import sys

from mlnb.cli import command

if __name__ == "__main__":  # not on a plain import (tests/test_reports.py imports every module)
    sys.exit(command())
