"""The ``mlnb`` command: a thin argparse front over the library.

Sub-commands are listed in :data:`SUBCOMMANDS` (the one registry), one module of
this package each, imported only to build the parser — and a command line imports only the
module of the sub-command it names. Each sub-command module exposes
``add_arguments(parser)`` and ``main(args) -> int``; it parses arguments, calls the
library and prints, importing heavy libraries inside ``main`` only, so ``mlnb --version``
and ``mlnb --help`` stay fast. An :class:`~mlnb.exceptions.MlnbError` is printed as one
line on stderr with exit status 2, never as a traceback. The console script is
:func:`command`: as mlnb's own process it also skips an import nbformat never uses
(:mod:`mlnb.pipeline.lean`); :func:`main` is the same without that, for callers in Python.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from mlnb import __version__
from mlnb.cli.common import EXIT_BAD_INPUT, EXIT_INTERRUPTED, warn, warnings_as_lines
from mlnb.exceptions import MlnbError

__all__ = ["SUBCOMMANDS", "build_parser", "command", "main"]

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


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The top-level parser with every sub-command registered.

    With ``argv``, only the sub-command it names gets its arguments (the others are listed
    by name and help text, which is all ``--help`` and a misspelt name need), so a command
    line imports one sub-command module, not all of them.
    """
    wanted = _named_command(argv) if argv is not None else None
    parser = argparse.ArgumentParser(
        prog="mlnb",
        description="Notebook toolkit for training models: seeds, GPU memory, runs, pipelines.",
    )
    parser.add_argument("--version", action="version", version=f"mlnb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if argv is not None and name != wanted:
            continue
        module = importlib.import_module(module_name)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.main)
    return parser


def _named_command(argv: Sequence[str]) -> str | None:
    """The sub-command ``argv`` names: its first word that is not an option (the top level
    has no option that takes a value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mlnb`` command line; returns the process exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
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
    except BrokenPipeError:  # `mlnb ... | head`: the reader left early, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
        return 0


def command() -> int:
    """The ``mlnb`` console script: :func:`main` in a process of mlnb's own, which first
    marks jsonschema's unused optional ``rfc3987_syntax`` absent (about 0.8 s of import that
    nbformat never needs; see :mod:`mlnb.pipeline.lean`)."""
    from mlnb.pipeline.lean import skip_unused_optional_imports

    skip_unused_optional_imports()
    return main()
