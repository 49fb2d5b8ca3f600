"""The ``mlnb`` command: a thin argparse front over the library.

Sub-commands are listed in :data:`SUBCOMMANDS` (the one registry), one module of
this package each, imported only to build the parser. Each sub-command module exposes
``add_arguments(parser)`` and ``main(args) -> int``; it parses arguments, calls the
library and prints, importing heavy libraries inside ``main`` only, so ``mlnb --version``
and ``mlnb --help`` stay fast. An :class:`~mlnb.exceptions.MlnbError` is printed as one
line on stderr with exit status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from mlnb import __version__
from mlnb.cli.common import EXIT_BAD_INPUT, EXIT_INTERRUPTED, warn, warnings_as_lines
from mlnb.exceptions import MlnbError

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

# name -> ("module", "one-line help")
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "info": ("mlnb.cli.info", "show mlnb's version, its optional extras and what they found"),
    "data": ("mlnb.cli.data", "profile, validate (schema) and compare (drift) data files"),
    "runs": ("mlnb.cli.runs", "list, show, compare, remove and export logged runs"),
    "gpu": ("mlnb.cli.gpu", "show GPU devices (or host RAM without one) and allocator memory"),
    "run": (
        "mlnb.cli.run",
        "run a notebook with papermill: parameters, pinned seed, run record",
    ),
    "sweep": (
        "mlnb.cli.sweep",
        "run a notebook over a grid or random sample of parameters",
    ),
    "tune": (
        "mlnb.cli.tune",
        "tune a notebook's parameters with Optuna (TPE or random search), resumable",
    ),
    "pipeline": (
        "mlnb.cli.pipeline",
        "run a PIPELINE.yaml of notebook steps, skipping unchanged ones",
    ),
    "step": (
        "mlnb.cli.step",
        "make a finished notebook a pipeline step (init) or list its parameters (inspect)",
    ),
    "check": (
        "mlnb.cli.check",
        "is this notebook reproducible? hidden state, fresh-run differences, seeds, files",
    ),
    "rerun": (
        "mlnb.cli.rerun",
        "re-execute a recorded run and report which recorded values differ",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="mlnb",
        description="Notebook toolkit for training models: seeds, GPU memory, runs, pipelines.",
    )
    parser.add_argument("--version", action="version", version=f"mlnb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(module_name)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mlnb`` command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 0
    try:
        with warnings_as_lines():
            return int(args.handler(args) or 0)
    except MlnbError as exc:
        warn(str(exc))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        warn("interrupted.")
        return EXIT_INTERRUPTED
