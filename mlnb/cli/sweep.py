"""``mlnb sweep NB -p lr=0.1,0.01 -p bs=32,64 [--random N] --jobs J``."""

from __future__ import annotations

import argparse

from mlnb.cli.common import EXIT_INTERRUPTED, EXIT_RUN_FAILED, print_json, warn
from mlnb.pipeline import calls, options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb sweep``."""
    parser.add_argument("notebook", help="the notebook to sweep (it needs a `parameters` cell)")
    options.add_options(parser, options.SWEEP)
    parser.add_argument("--json", action="store_true", help="print every trial's record as JSON")


def main(args: argparse.Namespace) -> int:
    """Run the sweep and print params → recorded values and the best trial."""
    from mlnb.pipeline.sweep import sweep

    try:
        result = sweep(**calls.sweep_call(args, "mlnb sweep"))
    except KeyboardInterrupt:
        warn("sweep interrupted; the trials that ran are in the run store (`mlnb runs ls`).")
        return EXIT_INTERRUPTED
    if args.json:
        print_json(
            [
                {
                    "trial": t.index,
                    "params": t.params,
                    "record": t.record.to_dict() if t.record else None,
                }
                for t in result.trials
            ]
        )
    else:
        print(result.text())
        print(
            f"{len(result.trials)} trials in {result.seconds:.1f} s; notebooks in {result.output_dir}"
        )
    finished = all(t.status == "finished" for t in result.trials)
    return 0 if finished else EXIT_RUN_FAILED
