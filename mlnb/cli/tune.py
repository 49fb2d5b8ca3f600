"""``mlnb tune NB --space SPACE.yaml --metric NAME --direction max --trials T --jobs J [--prune median]``."""

from __future__ import annotations

import argparse

from mlnb.cli.common import EXIT_INTERRUPTED, warn
from mlnb.pipeline import calls, options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb tune``."""
    parser.add_argument(
        "notebook", help="the notebook to tune (it records --metric with mlnb.record)"
    )
    options.add_options(parser, options.TUNE)


def main(args: argparse.Namespace) -> int:
    """Run the study and print its trials and the best one."""
    from mlnb.pipeline.tune import tune

    try:
        result = tune(**calls.tune_call(args))
    except KeyboardInterrupt:
        warn(
            "tuning interrupted; the study keeps the finished trials — run the same command to resume."
        )
        return EXIT_INTERRUPTED
    print(result.text())
    print(
        f"{result.ran} trials run{f' ({result.pruned} pruned)' if result.pruned else ''} in {result.seconds:.1f} s; study in {args.storage or 'tune/'}; notebooks in {result.output_dir}"
    )
    return 0
