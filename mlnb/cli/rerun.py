"""``mlnb rerun RUN_ID``: replay a recorded run and say which recorded values differ."""

from __future__ import annotations

import argparse

from mlnb.cli.common import EXIT_RUN_FAILED
from mlnb.pipeline import options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb rerun``."""
    parser.add_argument("run_id", help="the run's id (a unique prefix works)")
    options.add_options(parser, options.RERUN)


def main(args: argparse.Namespace) -> int:
    """Exit 0 when every recorded value is reproduced, 1 otherwise (2: the stored notebook
    is missing or changed, and --allow-changed was not given)."""
    import warnings

    from mlnb.cli.common import warn
    from mlnb.pipeline.rerun import rerun

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = rerun(
            args.run_id,
            args.home,
            args.output,
            start_timeout=args.start_timeout,
            allow_changed=args.allow_changed,
        )
    for warning in caught:
        warn(f"WARNING: {warning.message}")
    print(report.text())
    return 0 if report.reproduced else EXIT_RUN_FAILED
