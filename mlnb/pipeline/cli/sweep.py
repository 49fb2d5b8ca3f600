"""``mlnb sweep NB -p lr=0.1,0.01 -p bs=32,64 [--random N] --jobs J``."""

from __future__ import annotations

import argparse

from mlnb.pipeline.cli.common import (
    EXIT_RUN_FAILED,
    add_parallel_options,
    add_run_options,
    print_json,
    warn,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb sweep``."""
    parser.add_argument("notebook", help="the notebook to sweep (it needs a `parameters` cell)")
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="values to sweep; low..high (or low..high:log) is a range for --random",
    )
    parser.add_argument(
        "-r",
        "--fixed",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter every trial gets",
    )
    parser.add_argument(
        "--random",
        type=int,
        metavar="N",
        help="run N random combinations instead of the whole grid",
    )
    parser.add_argument(
        "--output-dir", "-o", help="folder for trial notebooks (default sweeps/<stem>-<time>)"
    )
    parser.add_argument(
        "--metric", help="recorded value that picks the best trial (default: the first number)"
    )
    parser.add_argument(
        "--direction", choices=("max", "min"), help="default: min for loss/error names, else max"
    )
    parser.add_argument(
        "--fail-fast", action="store_true", help="start no more trials after one fails"
    )
    parser.add_argument("--json", action="store_true", help="print every trial's record as JSON")
    add_parallel_options(parser)
    add_run_options(parser)


def main(args: argparse.Namespace) -> int:
    """Run the sweep and print params → recorded values and the best trial."""
    from mlnb.exceptions import MalformedParameterError
    from mlnb.pipeline.loading import load_notebook
    from mlnb.pipeline.parameters import cli_parameters
    from mlnb.pipeline.sweep import parse_space, sweep

    if not args.param:
        raise MalformedParameterError("mlnb sweep needs at least one -p name=value1,value2.")
    nb = load_notebook(args.notebook)
    space = parse_space(args.param, nb)
    fixed = cli_parameters(nb, pairs=args.fixed)
    try:
        result = sweep(
            args.notebook,
            space,
            random=args.random,
            jobs=args.jobs,
            seed=args.seed,
            output_dir=args.output_dir,
            fixed=fixed,
            kernel=args.kernel,
            cwd=args.cwd,
            timeout=args.timeout,
            start_timeout=args.start_timeout,
            fail_fast=args.fail_fast,
            backend=args.backend,
            address=args.address,
            metric=args.metric,
            direction=args.direction,
            progress=not args.no_progress,
        )
    except KeyboardInterrupt:
        warn(
            "sweep interrupted; the trials that ran are recorded in pipeline-runs.jsonl of the output folder."
        )
        return 130
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
