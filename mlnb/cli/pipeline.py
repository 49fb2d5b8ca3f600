"""``mlnb pipeline PIPELINE.yaml [--force]`` and ``mlnb pipeline status PIPELINE.yaml``."""

from __future__ import annotations

import argparse

from mlnb.cli.common import EXIT_INTERRUPTED, EXIT_RUN_FAILED, warn
from mlnb.pipeline import calls, options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb pipeline``."""
    parser.add_argument(
        "words",
        nargs="+",
        metavar="[status] PIPELINE.yaml",
        help="the pipeline file; `status PIPELINE.yaml` only reports",
    )
    options.add_options(parser, options.PIPELINE)


def main(args: argparse.Namespace) -> int:
    """Run the pipeline (or report its status) and print one line per step."""
    from mlnb.exceptions import MalformedParameterError
    from mlnb.pipeline.dag import pipeline_status, run_pipeline

    words = list(args.words)
    if words[0] == "status":
        if len(words) != 2:
            raise MalformedParameterError("usage: mlnb pipeline status PIPELINE.yaml")
        result = pipeline_status(words[1])
        print(result.text())
        print(result.footer())
        return 0
    if len(words) != 1:
        raise MalformedParameterError(
            "usage: mlnb pipeline PIPELINE.yaml (or mlnb pipeline status PIPELINE.yaml)"
        )
    try:
        result = run_pipeline(words[0], **calls.pipeline_call(args))
    except KeyboardInterrupt:
        warn("pipeline interrupted; finished steps are cached, the others will run next time.")
        return EXIT_INTERRUPTED
    print(result.text())
    print(result.footer())
    return 0 if result.ok else EXIT_RUN_FAILED
