"""The options of run, sweep, tune, pipeline and rerun, written once for the CLI and the magics.

Each option is data (flags + ``add_argument`` keywords). :func:`add_options` puts a list
on an ``argparse`` parser (``mlnb run ...``); :func:`magic_options` puts the same list on
a magic as IPython ``magic_arguments`` (``%pipeline_run ...``), so both spell every flag,
default and help text alike. The ``*_call`` functions turn parsed arguments into the
library call, also shared by both.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple


class Option(NamedTuple):
    """One option: its flags, ``add_argument`` keywords, and flags only the CLI has."""

    flags: tuple[str, ...]
    kwargs: dict[str, Any]
    cli_only_flags: tuple[str, ...] = ()


def _pairs(flags: tuple[str, ...], help_text: str) -> Option:
    kwargs = {"nargs": 2, "action": "append", "default": [], "metavar": ("NAME", "VALUE")}
    return Option(flags, {**kwargs, "help": help_text})


PARAMETERS = [
    _pairs(("-p", "--parameters"), "a parameter; VALUE is read as the default's type (papermill's -p)"),
    _pairs(("-r", "--parameters-raw"), "a parameter kept as a string"),
    Option(("-y", "--parameters-yaml"), {"action": "append", "default": [], "metavar": "YAML", "help": "parameters as a YAML mapping"}),
    Option(("-f", "--parameters-file"), {"action": "append", "default": [], "metavar": "FILE", "help": "a YAML file of parameters"}),
]  # fmt: skip
SEED = Option(("--seed",), {"help": "seed pinned in the kernel (default: MLNB_SEED, else drawn and recorded)"})  # fmt: skip
KERNEL = Option(("--kernel", "-k"), {"help": "kernel name; also written into the output's kernelspec"})  # fmt: skip
CWD = Option(("--cwd",), {"help": "the kernel's working directory (default: the notebook's folder)"})  # fmt: skip
TIMEOUT = Option(("--timeout",), {"type": float, "help": "stop a run after this many seconds (whole run)"})  # fmt: skip
START_TIMEOUT = Option(("--start-timeout",), {"type": int, "default": 120, "help": "seconds to wait for a kernel to start (default 120)"})  # fmt: skip
RUN = [SEED, KERNEL, CWD, TIMEOUT, START_TIMEOUT]

JOBS = Option(("--jobs", "-j"), {"type": int, "default": 1, "help": "runs at once (worker processes; default 1)"})  # fmt: skip
BACKEND = Option(("--backend",), {"default": "local", "help": "local (processes, default) or ray"})  # fmt: skip
ADDRESS = Option(("--address",), {"help": "Ray cluster address for --backend ray (default: start a local Ray)"})  # fmt: skip
NO_PROGRESS = Option(("--no-progress",), {"action": "store_true", "help": "no progress bar"})
PARALLEL = [JOBS, BACKEND, ADDRESS, NO_PROGRESS]

FIXED = _pairs(("-r", "--fixed"), "a parameter every trial gets")
SWEEP = [
    Option(("-p", "--param"), {"action": "append", "default": [], "metavar": "NAME=V1,V2", "help": "values to sweep; low..high (or low..high:log) is a range for --random"}),
    FIXED,
    Option(("--random",), {"type": int, "metavar": "N", "help": "run N random combinations instead of the whole grid"}),
    Option(("--output-dir",), {"help": "folder for trial notebooks (default sweeps/<stem>-<time>)"}, ("-o",)),
    Option(("--metric",), {"help": "recorded value that picks the best trial (default: the first number)"}),
    Option(("--direction",), {"choices": ("max", "min"), "help": "default: min for loss/error names, else max"}),
    Option(("--fail-fast",), {"action": "store_true", "help": "start no more trials after one fails"}),
    *PARALLEL,
    *RUN,
]  # fmt: skip
TUNE = [
    Option(("--space",), {"required": True, "help": "search space YAML: name: [choices] or {low, high, log, type}"}),
    Option(("--metric",), {"required": True, "help": "the recorded value to optimise"}),
    Option(("--direction",), {"choices": ("max", "min"), "default": "max", "help": "default max"}),
    Option(("--trials",), {"type": int, "default": 20, "help": "finished trials the study should hold (default 20)"}),
    Option(("--study",), {"help": "study name (default: the notebook's stem)"}),
    Option(("--storage",), {"help": "Optuna storage URL (default sqlite:///tune/<stem>.db beside the notebook)"}),
    Option(("--output-dir",), {"help": "folder for trial notebooks (default tune/<stem>/)"}, ("-o",)),
    FIXED,
    Option(("--seed",), {"help": "seed for every trial and the sampler (default drawn)"}),
    KERNEL,
    Option(("--timeout",), {"type": float, "help": "stop a trial after this many seconds"}),
    START_TIMEOUT,
    *PARALLEL,
]  # fmt: skip
PIPELINE = [
    Option(("--force",), {"action": "store_true", "help": "run every step, even unchanged ones"}),
    Option(("--jobs", "-j"), {"type": int, "help": "steps at once (default: the file's jobs, else 1)"}),
    BACKEND,
    ADDRESS,
    START_TIMEOUT,
]  # fmt: skip
RERUN = [
    Option(("--in",), {"dest": "home", "default": None, "help": "the run store to look in (default $MLNB_HOME or ./.mlnb; a folder holding .mlnb/ works too)"}),
    Option(("--output",), {"help": "the replay's output notebook"}, ("-o",)),
    START_TIMEOUT,
]  # fmt: skip


def add_options(parser: argparse.ArgumentParser, options: Sequence[Option]) -> None:
    """Put ``options`` on a command-line parser (with their CLI-only flags)."""
    for option in options:
        parser.add_argument(*option.flags, *option.cli_only_flags, **option.kwargs)


def magic_options(options: Sequence[Option]) -> Callable[[Any], Any]:
    """A decorator putting ``options`` on a magic, as ``@argument(...)`` lines would."""
    from IPython.core.magic_arguments import argument

    def decorate(func: Any) -> Any:
        for option in reversed(options):  # decorators apply bottom-up
            func = argument(*option.flags, **option.kwargs)(func)
        return func

    return decorate


def run_call(args: argparse.Namespace) -> dict[str, Any]:
    """Keywords of :func:`mlnb.pipeline.run.run` from parsed ``RUN`` options."""
    return {
        "seed": args.seed,
        "kernel": args.kernel,
        "cwd": args.cwd,
        "timeout": args.timeout,
        "start_timeout": args.start_timeout,
    }


def run_parameters(args: argparse.Namespace) -> dict[str, Any]:
    """The parameters ``PARAMETERS`` give, typed against the notebook's ``parameters`` cell."""
    from mlnb.pipeline.loading import load_notebook
    from mlnb.pipeline.parameters import cli_parameters

    return cli_parameters(
        load_notebook(args.notebook),
        args.parameters,
        args.parameters_raw,
        args.parameters_yaml,
        args.parameters_file,
    )


def sweep_call(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """Keywords of :func:`mlnb.pipeline.sweep.sweep` (notebook and space included)."""
    from mlnb.exceptions import MalformedParameterError
    from mlnb.pipeline.loading import load_notebook
    from mlnb.pipeline.parameters import cli_parameters
    from mlnb.pipeline.sweep import parse_space

    if not args.param:
        raise MalformedParameterError(f"{command} needs at least one -p name=value1,value2.")
    nb = load_notebook(args.notebook)
    return {
        "notebook": args.notebook,
        "space": parse_space(args.param, nb),
        "fixed": cli_parameters(nb, pairs=args.fixed),
        "random": args.random,
        "output_dir": args.output_dir,
        "metric": args.metric,
        "direction": args.direction,
        "fail_fast": args.fail_fast,
        "jobs": args.jobs,
        "backend": args.backend,
        "address": args.address,
        "progress": not args.no_progress,
        **run_call(args),
    }


def tune_call(args: argparse.Namespace) -> dict[str, Any]:
    """Keywords of :func:`mlnb.pipeline.tune.tune` (notebook, space and metric included)."""
    from mlnb.pipeline.loading import load_notebook
    from mlnb.pipeline.parameters import cli_parameters
    from mlnb.pipeline.tune import load_space

    space = load_space(args.space)
    return {
        "notebook": args.notebook,
        "space": space,
        "metric": args.metric,
        "direction": args.direction,
        "trials": args.trials,
        "study_name": args.study,
        "storage": args.storage,
        "output_dir": args.output_dir,
        "fixed": cli_parameters(load_notebook(args.notebook), pairs=args.fixed),
        "seed": args.seed,
        "kernel": args.kernel,
        "timeout": args.timeout,
        "start_timeout": args.start_timeout,
        "jobs": args.jobs,
        "backend": args.backend,
        "address": args.address,
        "progress": not args.no_progress,
    }


def pipeline_call(args: argparse.Namespace) -> dict[str, Any]:
    """Keywords of :func:`mlnb.pipeline.dag.run_pipeline` (the path excepted)."""
    return {
        "force": args.force,
        "jobs": args.jobs,
        "backend": args.backend,
        "address": args.address,
        "start_timeout": args.start_timeout,
    }
