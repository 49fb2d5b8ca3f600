"""``mlnb check NB… [--runs K] [--seed N] [--vary-seed] [--timeout S] [--static-only] [--json]``."""

from __future__ import annotations

import argparse

from mlnb.cli.common import EXIT_RUN_FAILED, print_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb check``."""
    parser.add_argument("notebooks", nargs="+", metavar="NB", help="the notebooks to check")
    parser.add_argument(
        "--runs", type=int, default=1, metavar="K", help="fresh runs with the same seed (default 1)"
    )
    parser.add_argument("--seed", type=int, metavar="N", help="pin this seed in every fresh run")
    parser.add_argument(
        "--vary-seed",
        action="store_true",
        help="one more run with another seed: how sensitive are the values to it",
    )
    parser.add_argument(
        "--timeout", type=float, metavar="S", help="seconds each fresh run may take (default 600)"
    )
    parser.add_argument(
        "--static-only", action="store_true", help="no kernel: only what the saved notebook shows"
    )
    parser.add_argument("--kernel", "-k", help="the kernel to run (default: the saved one)")
    parser.add_argument("--json", action="store_true", help="print JSON (a list, one per notebook)")


def main(args: argparse.Namespace) -> int:
    """Exit 0 when every notebook is reproducible, 1 when one is not (2: bad input)."""
    from mlnb.checking.api import check

    reports = [
        check(
            notebook,
            runs=args.runs,
            seed=args.seed,
            vary_seed=args.vary_seed,
            timeout=args.timeout,
            static_only=args.static_only,
            kernel=args.kernel,
        )
        for notebook in args.notebooks
    ]
    if args.json:
        print_json([report.to_json() for report in reports])
    else:
        print("\n\n".join(report.text() for report in reports))
    return 0 if all(r.reproducible for r in reports) else EXIT_RUN_FAILED
