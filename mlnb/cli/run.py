"""``mlnb run NB [OUTPUT] -p name value ...``: execute one notebook as a recorded run."""

from __future__ import annotations

import argparse

from mlnb.cli.common import EXIT_INTERRUPTED, EXIT_RUN_FAILED, print_json, warn
from mlnb.pipeline import options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb run`` (papermill's conventions for the parameters)."""
    parser.add_argument("notebook", help="the notebook to run")
    parser.add_argument(
        "output", nargs="?", help="output notebook (default runs/<stem>-<run id>.ipynb)"
    )
    options.add_options(parser, [*options.PARAMETERS, *options.RUN])
    parser.add_argument(
        "--progress", action="store_true", help="show papermill's per-cell progress bar"
    )
    parser.add_argument("--log-output", action="store_true", help="echo the notebook's output")
    parser.add_argument("--json", action="store_true", help="print the run record as JSON")


def main(args: argparse.Namespace) -> int:
    """Run the notebook; exit 0 when it finished, 1 when it failed, 130 on Ctrl-C."""
    from mlnb.exceptions import NotebookRunError
    from mlnb.pipeline.run import last_record, run
    from mlnb.pipeline.section import outcome_text, section_of

    params = options.run_parameters(args)
    try:
        record = run(
            args.notebook,
            params,
            args.output,
            **options.run_call(args),
            progress_bar=args.progress,
            log_output=args.log_output,
        )
    except NotebookRunError as exc:
        if args.json:
            print_json(exc.record.to_dict())
        warn(str(exc))
        return EXIT_RUN_FAILED
    except KeyboardInterrupt:
        killed = last_record()
        where = (
            f"; run {killed.id} is recorded as killed, output so far in {section_of(killed).output}"
            if killed
            else ""
        )
        warn(f"interrupted{where}.")
        return EXIT_INTERRUPTED
    if args.json:
        print_json(record.to_dict())
        return 0
    print(outcome_text(record))
    return 0
