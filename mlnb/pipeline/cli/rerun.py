"""``mlnb rerun RUN_ID``: replay a recorded run and say which recorded values differ."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb rerun``."""
    parser.add_argument("run_id", help="the run's id (a unique prefix works)")
    parser.add_argument(
        "--in",
        dest="root",
        default=".",
        help="folder searched for pipeline-runs.jsonl (default .); the run store ($MLNB_HOME) is asked when none knows the run",
    )
    parser.add_argument("--output", "-o", help="the replay's output notebook")
    parser.add_argument(
        "--start-timeout", type=int, default=120, help="seconds to wait for the kernel"
    )


def main(args: argparse.Namespace) -> int:
    """Exit 0 when every recorded value is reproduced, 1 otherwise."""
    from mlnb.pipeline.rerun import rerun

    report = rerun(args.run_id, args.root, args.output, start_timeout=args.start_timeout)
    print(report.text())
    return 0 if report.reproduced else 1
