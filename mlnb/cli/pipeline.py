"""``mlnb pipeline PIPELINE.yaml [--force]``, ``mlnb pipeline status PIPELINE.yaml`` and
``mlnb pipeline compile PIPELINE.yaml --to kfp -o pipeline.kfp.yaml``."""

from __future__ import annotations

import argparse

from mlnb.cli.common import EXIT_INTERRUPTED, EXIT_RUN_FAILED, warn
from mlnb.pipeline import calls, options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``mlnb pipeline``."""
    parser.add_argument(
        "words",
        nargs="+",
        metavar="[status|compile] PIPELINE.yaml",
        help="the pipeline file; `status PIPELINE.yaml` only reports; `compile SOURCE --to kfp` writes a Kubeflow package",
    )
    options.add_options(parser, options.PIPELINE)
    add_compile_arguments(parser)


def add_compile_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``mlnb pipeline compile SOURCE --to kfp|kfp-component -o OUT``."""
    group = parser.add_argument_group("compile (mlnb pipeline compile SOURCE --to TARGET -o OUT)")
    group.add_argument(
        "--to", metavar="TARGET", help="kfp (a pipeline file) or kfp-component (one notebook)"
    )
    group.add_argument("--output", "-o", metavar="OUT.yaml", help="the file to write")
    group.add_argument(
        "--image",
        help="container image every step runs in (holds mlnb[kfp], ipykernel and the notebooks' packages)",
    )
    group.add_argument(
        "--notebook-uri",
        metavar="URI",
        help="fetch notebooks from URI/<relative path> at run time instead of embedding them",
    )
    group.add_argument(
        "--package",
        action="append",
        dest="packages",
        metavar="SPEC",
        help="pip requirement each pod installs (repeat; replaces the default list)",
    )
    group.add_argument("--name", help="the pipeline's name (kfp)")
    group.add_argument(
        "--input-file",
        action="append",
        default=[],
        metavar="PATH",
        help="a file the notebook reads, as an input artifact (kfp-component; repeat)",
    )
    group.add_argument(
        "--output-file",
        action="append",
        default=[],
        metavar="PATH",
        help="a file the notebook writes, as an output artifact (kfp-component; repeat)",
    )


#: flag → argparse destination of every compile-only option
COMPILE_FLAGS = (
    ("--to", "to"),
    ("--output", "output"),
    ("--image", "image"),
    ("--notebook-uri", "notebook_uri"),
    ("--package", "packages"),
    ("--name", "name"),
    ("--input-file", "input_file"),
    ("--output-file", "output_file"),
)


def compile_main(words: list[str], args: argparse.Namespace) -> int:
    """``mlnb pipeline compile SOURCE --to TARGET -o OUT``: write the package, print its path."""
    from mlnb.exceptions import MalformedParameterError
    from mlnb.pipeline.kfp_compile import compile_to

    if len(words) != 2 or not args.to or not args.output:
        raise MalformedParameterError(
            "usage: mlnb pipeline compile PIPELINE.yaml --to kfp -o pipeline.kfp.yaml (or NOTEBOOK.ipynb --to kfp-component -o component.yaml)"
        )
    keywords = {"image": args.image, "notebook_uri": args.notebook_uri, "packages": args.packages}
    if args.to == "kfp":
        if args.input_file or args.output_file:
            raise MalformedParameterError(
                "--input-file and --output-file are for --to kfp-component; a pipeline file declares its steps' inputs and outputs itself."
            )
        keywords["name"] = args.name
    elif args.to == "kfp-component":
        if args.name:
            raise MalformedParameterError(
                "--name is for --to kfp; a component is named after its notebook."
            )
        keywords.update(inputs=args.input_file, outputs=args.output_file)
    written = compile_to(args.to, words[1], args.output, **keywords)
    print(f"mlnb: wrote {written} ({args.to})")
    return 0


def main(args: argparse.Namespace) -> int:
    """Run the pipeline (or report its status) and print one line per step."""
    from mlnb.exceptions import MalformedParameterError
    from mlnb.pipeline.dag import pipeline_status, run_pipeline

    words = list(args.words)
    if words[0] == "compile":
        return compile_main(words, args)
    given = [flag for flag, dest in COMPILE_FLAGS if getattr(args, dest)]
    if given:
        raise MalformedParameterError(
            f"{given[0]} belongs to `mlnb pipeline compile SOURCE --to TARGET -o OUT`; nothing was run."
        )
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
