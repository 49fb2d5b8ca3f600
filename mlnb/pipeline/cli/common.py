"""What the pipeline sub-commands share: papermill-style parameter flags and result printing."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EXIT_RUN_FAILED = 1  # a run that did not finish (bad input exits 2, Ctrl-C 130)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """``--seed``, ``--kernel``, ``--cwd``, ``--timeout``, ``--start-timeout``."""
    parser.add_argument(
        "--seed", help="seed pinned in the kernel (default: MLNB_SEED, else drawn and recorded)"
    )
    parser.add_argument(
        "--kernel", "-k", help="kernel name; also written into the output's kernelspec"
    )
    parser.add_argument(
        "--cwd", help="the kernel's working directory (default: the notebook's folder)"
    )
    parser.add_argument(
        "--timeout", type=float, help="stop a run after this many seconds (whole run)"
    )
    parser.add_argument(
        "--start-timeout",
        type=int,
        default=120,
        help="seconds to wait for a kernel to start (default 120)",
    )


def add_parallel_options(parser: argparse.ArgumentParser) -> None:
    """``--jobs``, ``--backend``, ``--address``, ``--no-progress``."""
    parser.add_argument(
        "--jobs", "-j", type=int, default=1, help="trials at once (worker processes; default 1)"
    )
    parser.add_argument("--backend", default="local", help="local (processes, default) or ray")
    parser.add_argument(
        "--address", help="Ray cluster address for --backend ray (default: start a local Ray)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_parameter_flags(parser: argparse.ArgumentParser) -> None:
    """Papermill's ``-p name value``, ``-r name value``, ``-y YAML`` and ``-f FILE``."""
    parser.add_argument(
        "-p",
        "--parameters",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter; VALUE is read as the default's type (papermill's -p)",
    )
    parser.add_argument(
        "-r",
        "--parameters-raw",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter kept as a string",
    )
    parser.add_argument(
        "-y",
        "--parameters-yaml",
        action="append",
        default=[],
        metavar="YAML",
        help="parameters as a YAML mapping",
    )
    parser.add_argument(
        "-f",
        "--parameters-file",
        action="append",
        default=[],
        metavar="FILE",
        help="a YAML file of parameters",
    )


def parameters_from_args(notebook: str, args: argparse.Namespace) -> dict[str, Any]:
    """The parameters the flags give, typed against the notebook's ``parameters`` cell."""
    from mlnb.pipeline.loading import load_notebook
    from mlnb.pipeline.parameters import cli_parameters

    nb = load_notebook(notebook)
    return cli_parameters(
        nb, args.parameters, args.parameters_raw, args.parameters_yaml, args.parameters_file
    )


def print_json(data: Any) -> None:
    """Pretty JSON on stdout."""
    print(json.dumps(data, indent=2, default=str))


def warn(message: str) -> None:
    """One line on stderr, prefixed like every mlnb message."""
    print(f"mlnb: {message}", file=sys.stderr)
