"""``mlnb run NB [OUTPUT] -p name value ...``: execute one notebook as a recorded run.

Every option of papermill's command line, with papermill's meaning and spellings, so a
``papermill`` line in a script or CI job works as an ``mlnb run`` line; mlnb's own options
(``--seed``/``--no-seed``, ``--timeout``, ``--strict``, ``--json``) come on top. Exit
status: 0 finished, 1 failed or timed out, 138 the kernel died (papermill's code), 130
Ctrl-C, 2 bad input (one line on stderr, before a kernel starts).
"""

from __future__ import annotations

import argparse
import sys

from mlnb import __version__
from mlnb.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_RUN_FAILED,
    print_json,
    warn,
    warnings_as_lines,
)
from mlnb.pipeline import calls, options

#: papermill's exit status when the kernel died
EXIT_KERNEL_DIED = 138


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb run`` (papermill's options and conventions)."""
    parser.add_argument("notebook", help="the notebook to run; - reads it from stdin")
    parser.add_argument(
        "output",
        nargs="?",
        help="output notebook (default runs/<stem>-<run id>.ipynb beside the input); - writes it to stdout",
    )
    options.add_options(parser, [*options.PARAMETERS, *options.RUN, *options.PAPERMILL])
    parser.add_argument(
        "--progress", dest="progress_bar", action="store_true", help=argparse.SUPPRESS
    )
    parser.add_argument("--json", action="store_true", help="print the run record as JSON")
    parser.add_argument("--version", action="version", version=f"mlnb {__version__}")


def _configure_logging(args: argparse.Namespace) -> None:
    import logging

    level = args.log_level or ("INFO" if args.log_output else "WARNING")
    if args.output == "-" and level == "INFO" and not args.log_output:
        level = "ERROR"  # papermill lowers it when the notebook goes to stdout
    logging.basicConfig(level=level, format="%(message)s")


def main(args: argparse.Namespace) -> int:
    """Run the notebook; exit 0 finished, 1 failed, 138 kernel died, 130 Ctrl-C."""
    from mlnb.exceptions import NotebookRunError, RunCrashedError
    from mlnb.pipeline.run import last_record, run
    from mlnb.pipeline.section import outcome_text, section_of

    _configure_logging(args)
    to_stdout = args.output == "-"
    with warnings_as_lines(every_time=True):
        params = calls.run_parameters(args)
        if args.help_notebook:
            from mlnb.pipeline.step import inspect, parameters_table

            print(parameters_table(inspect(args.notebook)))
            return 0
        try:
            record = run(args.notebook, params, args.output, **calls.run_call(args))
        except NotebookRunError as exc:
            if args.json:
                print_json(exc.record.to_dict())
            warn(str(exc))
            return EXIT_KERNEL_DIED if isinstance(exc, RunCrashedError) else EXIT_RUN_FAILED
        except KeyboardInterrupt:
            killed = last_record()
            where = (
                f"; run {killed.id} is recorded as killed, output so far in {section_of(killed).output}"
                if killed
                else ""
            )
            warn(f"interrupted{where}.")
            return EXIT_INTERRUPTED
    out = sys.stderr if to_stdout else sys.stdout
    if args.json:
        print_json(record.to_dict()) if not to_stdout else print(record.to_dict(), file=out)
    elif args.prepare_only:
        print(
            f"mlnb: prepared {section_of(record).output} (parameters injected, nothing run).",
            file=out,
        )
    else:
        print(outcome_text(record), file=out)
    return 0
