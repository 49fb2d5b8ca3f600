"""``mlnb tune NB --space SPACE.yaml --metric NAME --direction max --trials T --jobs J``."""

from __future__ import annotations

import argparse

from mlnb.pipeline.cli.common import add_parallel_options, warn


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb tune``."""
    parser.add_argument(
        "notebook", help="the notebook to tune (it records --metric with mlnb.record)"
    )
    parser.add_argument(
        "--space",
        required=True,
        help="search space YAML: name: [choices] or {low, high, log, type}",
    )
    parser.add_argument("--metric", required=True, help="the recorded value to optimise")
    parser.add_argument("--direction", choices=("max", "min"), default="max", help="default max")
    parser.add_argument(
        "--trials", type=int, default=20, help="finished trials the study should hold (default 20)"
    )
    parser.add_argument("--study", help="study name (default: the notebook's stem)")
    parser.add_argument(
        "--storage",
        help="Optuna storage URL (default sqlite:///tune/<stem>.db beside the notebook)",
    )
    parser.add_argument(
        "--output-dir", "-o", help="folder for trial notebooks (default tune/<stem>/)"
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
    parser.add_argument("--seed", help="seed for every trial and the sampler (default drawn)")
    parser.add_argument("--kernel", "-k", help="kernel name")
    parser.add_argument("--timeout", type=float, help="stop a trial after this many seconds")
    parser.add_argument(
        "--start-timeout", type=int, default=120, help="seconds to wait for a kernel"
    )
    add_parallel_options(parser)


def main(args: argparse.Namespace) -> int:
    """Run the study and print its trials and the best one."""
    from mlnb.pipeline.loading import load_notebook
    from mlnb.pipeline.parameters import cli_parameters
    from mlnb.pipeline.tune import load_space, tune

    space = load_space(args.space)
    fixed = cli_parameters(load_notebook(args.notebook), pairs=args.fixed)
    try:
        result = tune(
            args.notebook,
            space,
            args.metric,
            direction=args.direction,
            trials=args.trials,
            jobs=args.jobs,
            seed=args.seed,
            study_name=args.study,
            storage=args.storage,
            output_dir=args.output_dir,
            fixed=fixed,
            kernel=args.kernel,
            timeout=args.timeout,
            start_timeout=args.start_timeout,
            backend=args.backend,
            address=args.address,
            progress=not args.no_progress,
        )
    except KeyboardInterrupt:
        warn(
            "tuning interrupted; the study keeps the finished trials — run the same command to resume."
        )
        return 130
    print(result.text())
    print(
        f"{result.ran} trials run in {result.seconds:.1f} s; study in {args.storage or 'tune/'}; notebooks in {result.output_dir}"
    )
    return 0
