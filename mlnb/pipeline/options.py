"""The options of run, sweep, tune, pipeline and rerun, written once for the CLI and the magics.

Each option is data (flags, ``add_argument`` keywords and a *rule* for its value).
:func:`add_options` puts a list on an ``argparse`` parser (``mlnb run ...``);
:func:`magic_options` puts the same list on a magic as IPython ``magic_arguments``
(``%pipeline_run ...``), so both spell every flag, default and help text alike. The rules
are checked in one place, :func:`check_options`, which the library functions (``run``,
``sweep``, ``tune``, ``run_pipeline``) call with their keywords before any kernel starts —
so the CLI, the magics and Python callers are refused alike (``--timeout -5``, ``--jobs 0``,
``--random 0``). The ``*_call`` functions of :mod:`mlnb.pipeline.calls` turn parsed arguments into the
library call.

``mlnb run`` takes every option of papermill's CLI with papermill's meaning (and papermill's
spellings: ``--parameters_raw``, ``--start_timeout``, ...). ``-p NAME VALUE`` and ``-r NAME
VALUE`` take the two words after them as they are, so ``-p a -1e-3`` and ``-p msg --x``
work as with papermill (see :func:`take_pairs`).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from mlnb.exceptions import InvalidArgumentError

#: the longest time option accepted (seconds): larger ones overflow event-loop timers
MAX_SECONDS = 10_000_000


class Option(NamedTuple):
    """One option: its flags, ``add_argument`` keywords, flags only the CLI has, and the
    rule its value must satisfy (a key of :data:`RULES`)."""

    flags: tuple[str, ...]
    kwargs: dict[str, Any]
    cli_only_flags: tuple[str, ...] = ()
    rule: str | None = None

    @property
    def dest(self) -> str:
        """The parsed attribute (and library keyword) this option fills."""
        if "dest" in self.kwargs:
            return str(self.kwargs["dest"])
        flag = next((f for f in self.flags if f.startswith("--")), self.flags[0])
        return flag.lstrip("-").replace("-", "_")

    @property
    def flag(self) -> str:
        """The flag named in messages (the first long one)."""
        return next((f for f in self.flags if f.startswith("--")), self.flags[0])


def _positive(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 < value <= MAX_SECONDS
    )


def _whole(low: int) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and low <= value < 2**31

    return check


#: rule → (test, what the value must be)
RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "seconds": (_positive, f"a positive number of seconds (at most {MAX_SECONDS:,})"),
    "whole_seconds": (
        lambda v: _whole(1)(v) and v <= MAX_SECONDS,
        f"a whole number of seconds from 1 to {MAX_SECONDS:,}",
    ),
    "seconds_or_zero": (
        lambda v: _whole(0)(v) and v <= MAX_SECONDS,
        f"a whole number of seconds from 0 (off) to {MAX_SECONDS:,}",
    ),
    "cell_seconds": (
        lambda v: _whole(-(2**31))(v) and v <= MAX_SECONDS,
        f"a whole number of seconds up to {MAX_SECONDS:,} (0 or less: no limit)",
    ),
    "count": (_whole(1), "a whole number of at least 1"),
    "count_or_zero": (_whole(0), "a whole number of at least 0"),
}


def _pairs(flags: tuple[str, ...], help_text: str, cli_only: tuple[str, ...] = ()) -> Option:
    kwargs = {"nargs": 2, "action": "append", "default": [], "metavar": ("NAME", "VALUE")}
    return Option(flags, {**kwargs, "help": help_text}, cli_only)


def _many(
    flags: tuple[str, ...], metavar: str, help_text: str, cli_only: tuple[str, ...] = ()
) -> Option:
    return Option(
        flags, {"action": "append", "default": [], "metavar": metavar, "help": help_text}, cli_only
    )


def _switch(name: str, default: bool | None, help_text: str) -> Option:
    """``--name/--no-name`` (papermill's click flags), stored under ``name``."""
    return Option(
        (f"--{name}",),
        {"action": argparse.BooleanOptionalAction, "default": default, "help": help_text},
    )


PARAMETER_FLAGS = ("-p", "--parameters", "-r", "--parameters-raw", "--parameters_raw")
PARAMETERS = [
    _pairs(("-p", "--parameters"), "a parameter; VALUE typed as papermill types it (True/False/None, int, float, else text), or as the default's type where that is str, list, dict or bool"),
    _pairs(("-r", "--parameters-raw"), "a parameter kept as text", ("--parameters_raw",)),
    _many(("-y", "--parameters-yaml"), "YAML", "parameters as a YAML mapping (JSON types only; dates stay text)", ("--parameters_yaml",)),
    _many(("-f", "--parameters-file"), "FILE", "a YAML (or JSON) file of parameters", ("--parameters_file",)),
    _many(("-b", "--parameters-base64"), "B64", "base64-encoded YAML parameters", ("--parameters_base64",)),
    Option(("--inject-input-path",), {"action": "store_true", "help": "also inject the input notebook's path as PAPERMILL_INPUT_PATH"}),
    Option(("--inject-output-path",), {"action": "store_true", "help": "also inject the output notebook's path as PAPERMILL_OUTPUT_PATH"}),
    Option(("--inject-paths",), {"action": "store_true", "help": "both of the above"}),
    Option(("--strict",), {"action": "store_true", "help": "refuse (exit 2, before a kernel starts) what papermill injects with a warning: no `parameters` cell, one that does not parse, unknown names, values of another type than the default"}),
]  # fmt: skip
SEED = Option(("--seed",), {"help": "seed pinned in the kernel before the first cell, without using an execution count (default: MLNB_SEED, else drawn and recorded)"})  # fmt: skip
NO_SEED = Option(("--no-seed",), {"action": "store_true", "help": "leave the kernel's random generators alone (nothing pinned, no seed recorded)"})  # fmt: skip
KERNEL = Option(("--kernel", "-k"), {"help": "kernel name (papermill's -k); also written into the output's kernelspec, which is otherwise kept as it is"})  # fmt: skip
CWD = Option(("--cwd",), {"help": "the kernel's working directory. NOTE: default the NOTEBOOK'S FOLDER (as Jupyter runs it), not the current folder as in papermill — pass `--cwd .` for papermill's"})  # fmt: skip
TIMEOUT = Option(("--timeout",), {"type": float, "help": "stop the whole run after this many seconds (papermill has no such limit)"}, rule="seconds")  # fmt: skip
EXECUTION_TIMEOUT = Option(("--execution-timeout",), {"type": int, "help": "stop when one cell runs longer than this many seconds (papermill's; default, 0 or less: forever)"}, rule="cell_seconds")  # fmt: skip
START_TIMEOUT = Option(("--start-timeout",), {"type": int, "default": 120, "help": "seconds to wait for a kernel to start (default 120; papermill's is 60)"}, ("--start_timeout",), rule="whole_seconds")  # fmt: skip
RUN = [SEED, NO_SEED, KERNEL, CWD, TIMEOUT, EXECUTION_TIMEOUT, START_TIMEOUT]
#: papermill's options that only ``mlnb run`` / ``%pipeline_run`` have
PAPERMILL = [
    Option(("--language", "-l"), {"help": "the notebook's language, for parameter injection (default: its metadata)"}),
    Option(("--engine",), {"default": "mlnb", "help": "papermill engine (default mlnb: per-cell saves, seed, run record; another engine runs without them)"}),
    Option(("--prepare-only",), {"action": "store_true", "help": "write the output with the parameters injected, execute nothing (no run record)"}),
    Option(("--prepare-execute",), {"dest": "prepare_only", "action": "store_false", "help": "execute (the default)"}),
    _switch("report-mode", False, "hide the code cells' input in the output"),
    _switch("request-save-on-cell-execute", True, "save the output after each cell (default on)"),
    Option(("--autosave-cell-every",), {"type": int, "default": 1, "help": "while a long cell prints, save at most every this many seconds (0: off; default 1, papermill's 30)"}, rule="seconds_or_zero"),
    _switch("progress-bar", None, "papermill's per-cell progress bar on stderr (default off)"),
    _switch("log-output", False, "echo the notebook's output through papermill's logger"),
    Option(("--stdout-file",), {"type": argparse.FileType("w", encoding="utf-8"), "help": "write the notebook's stdout to this file"}),
    Option(("--stderr-file",), {"type": argparse.FileType("w", encoding="utf-8"), "help": "write the notebook's stderr to this file"}),
    Option(("--log-level",), {"choices": ("NOTSET", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), "help": "papermill's log level (default WARNING — mlnb prints its own outcome line; INFO with --log-output)"}),
    Option(("--help-notebook",), {"action": "store_true", "help": "list the notebook's parameters and exit"}),
]  # fmt: skip

JOBS = Option(("--jobs", "-j"), {"type": int, "default": 1, "help": "runs at once (worker processes; default 1)"}, rule="count")  # fmt: skip
BACKEND = Option(("--backend",), {"default": "local", "help": "local (processes, default), ray or slurm"})  # fmt: skip
ADDRESS = Option(("--address",), {"help": "Ray cluster address HOST:PORT for --backend ray (default: start a local Ray)"})  # fmt: skip
#: the backends' own settings; the library takes them as one ``backend_options`` mapping
BACKEND_SETTINGS = [
    Option(("--ray-resources",), {"metavar": "JSON", "help": "custom Ray resources every trial or step asks for, e.g. '{\"mlnb_worker\": 1}' runs them only on nodes started with --resources '{\"mlnb_worker\": 2}'"}),
    Option(("--slurm-partition",), {"metavar": "NAME", "help": "Slurm partition (sbatch --partition)"}),
    Option(("--slurm-gpus",), {"type": int, "metavar": "N", "help": "GPUs per Slurm job (sbatch --gpus-per-node)"}, rule="count_or_zero"),
    Option(("--slurm-time",), {"type": int, "metavar": "MINUTES", "help": "time limit of each Slurm job in minutes (sbatch --time)"}, rule="count"),
    Option(("--slurm-mem",), {"metavar": "SIZE", "help": "memory per Slurm job, e.g. 8G (sbatch --mem)"}),
    Option(("--slurm-cluster",), {"choices": ("slurm", "local"), "help": "slurm (default: sbatch) or local: run the jobs as local processes with submitit's local executor, to try --backend slurm without a cluster"}),
    Option(("--slurm-folder",), {"metavar": "DIR", "help": "where submitit keeps job scripts and logs (default .mlnb-slurm/ in the current folder; must be on a file system the nodes share)"}),
]  # fmt: skip
NO_PROGRESS = Option(("--no-progress",), {"action": "store_true", "help": "no progress bar"})
NO_WARM = Option(("--no-warm",), {"action": "store_true", "help": "start each trial's kernel cold (default with the local backend: fork it from a process that has already imported ipykernel and the notebook's libraries — still one fresh process per trial)"})  # fmt: skip
PARALLEL = [JOBS, BACKEND, ADDRESS, *BACKEND_SETTINGS, NO_PROGRESS]

FIXED = _pairs(("-r", "--fixed"), "a parameter every trial gets")
SWEEP = [
    Option(("-p", "--param"), {"action": "append", "default": [], "metavar": "NAME=V1,V2", "help": "values to sweep; low..high (or low..high:log) is a range for --random"}),
    FIXED,
    Option(("--random",), {"type": int, "metavar": "N", "help": "run N random combinations instead of the whole grid"}, rule="count"),
    Option(("--output-dir",), {"help": "folder for trial notebooks (default sweeps/<stem>-<time>)"}, ("-o",)),
    Option(("--metric",), {"help": "recorded value that picks the best trial (default: the first number)"}),
    Option(("--direction",), {"choices": ("max", "min"), "help": "default: min for loss/error names, else max"}),
    Option(("--fail-fast",), {"action": "store_true", "help": "start no more trials after one fails"}),
    *PARALLEL,
    NO_WARM,
    SEED, KERNEL, CWD, TIMEOUT, START_TIMEOUT,
]  # fmt: skip
TUNE = [
    Option(("--space",), {"required": True, "help": "search space YAML: name: [choices] or {low, high, log, type}"}),
    Option(("--metric",), {"required": True, "help": "the recorded value to optimise"}),
    Option(("--direction",), {"choices": ("max", "min"), "default": "max", "help": "default max"}),
    Option(("--trials",), {"type": int, "default": 20, "help": "finished trials the study should hold (default 20)"}, rule="count"),
    Option(("--study",), {"help": "study name (default: the notebook's stem)"}),
    Option(("--storage",), {"help": "Optuna storage URL (default sqlite:///tune/<stem>.db beside the notebook)"}),
    Option(("--output-dir",), {"help": "folder for trial notebooks (default tune/<stem>/)"}, ("-o",)),
    FIXED,
    Option(("--seed",), {"help": "seed for every trial and the sampler (default drawn)"}),
    Option(("--sampler",), {"choices": ("tpe", "random"), "default": "tpe", "help": "how the next trial's parameters are chosen: tpe (Optuna's TPE, learns from finished trials; default) or random (random search: the same seed tries the same points, whatever earlier trials gave)"}),
    KERNEL,
    Option(("--timeout",), {"type": float, "help": "stop a trial after this many seconds"}, rule="seconds"),
    START_TIMEOUT,
    Option(("--prune",), {"choices": ("median", "asha"), "help": "stop trials early: the notebook logs --metric at each step with mlnb.log({metric: value}, step=epoch); median stops a trial below the median of earlier trials at that step, asha is asynchronous successive halving (Optuna's SuccessiveHalvingPruner here, Ray Tune's ASHA scheduler with --backend ray; status pruned)"}),
    Option(("--prune-startup",), {"type": int, "default": 5, "metavar": "N", "help": "trials that run to the end before --prune starts pruning (default 5)"}, rule="count_or_zero"),
    Option(("--prune-warmup",), {"type": int, "default": 0, "metavar": "STEPS", "help": "steps every trial runs before --prune may stop it (default 0)"}, rule="count_or_zero"),
    *PARALLEL,
    NO_WARM,
]  # fmt: skip
PIPELINE = [
    Option(("--force",), {"action": "store_true", "help": "run every step, even unchanged ones"}),
    Option(("--jobs", "-j"), {"type": int, "help": "steps at once (default: the file's jobs, else 1)"}, rule="count"),
    BACKEND,
    ADDRESS,
    *BACKEND_SETTINGS,
    START_TIMEOUT,
]  # fmt: skip
RERUN = [
    Option(("--in",), {"dest": "home", "default": None, "help": "the run store to look in (default $MLNB_HOME or ./.mlnb; a folder holding .mlnb/ works too)"}),
    Option(("--output",), {"help": "the replay's output notebook"}, ("-o",)),
    Option(("--allow-changed",), {"action": "store_true", "help": "replay even when the stored notebook is missing or its SHA-256 differs from the recorded one (a loud warning says what ran)"}),
    START_TIMEOUT,
]  # fmt: skip

#: library keyword → the option whose rule checks it (one table for every command)
CHECKED: dict[str, Option] = {
    o.dest: o for o in [*RUN, *PAPERMILL, *SWEEP, *TUNE, *PIPELINE] if o.rule is not None
}


def backend_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The backend settings given on a parsed command line (unset ones left out)."""
    return {
        o.dest: getattr(args, o.dest)
        for o in BACKEND_SETTINGS
        if getattr(args, o.dest, None) is not None
    }


def check_option(name: str, value: Any, where: str = "") -> None:
    """Refuse ``value`` for the option filling keyword ``name`` if it breaks the option's rule.

    Args:
        name: the library keyword (``timeout``, ``jobs``, ...); ``None`` values pass (unset).
        where: a prefix naming where the value came from (``"p.yaml, step 'a': "``).

    Raises:
        InvalidArgumentError: one sentence naming the flag, the rule and the value.
    """
    option = CHECKED.get(name)
    if option is None or value is None:
        return
    test, text = RULES[option.rule or ""]
    if not test(value):
        label = name if where else option.flag
        raise InvalidArgumentError(f"{where}{label} must be {text}, got {value!r}.")


def check_options(**values: Any) -> None:
    """:func:`check_option` for each keyword (the library functions call this first)."""
    for name, value in values.items():
        check_option(name, value)


def add_options(parser: argparse.ArgumentParser, options: Sequence[Option]) -> None:
    """Put ``options`` on a command-line parser (with their CLI-only flags)."""
    for option in options:
        parser.add_argument(*option.flags, *option.cli_only_flags, **option.kwargs)
    if any(
        set(option.flags) & {"-p", "-r"} and option.kwargs.get("nargs") == 2 for option in options
    ):
        take_pairs(
            parser,
            [
                f
                for o in options
                if o.kwargs.get("nargs") == 2
                for f in (*o.flags, *o.cli_only_flags)
            ],
        )


def magic_options(options: Sequence[Option]) -> Callable[[Any], Any]:
    """A decorator putting ``options`` on a magic, as ``@argument(...)`` lines would."""
    from IPython.core.magic_arguments import argument

    def decorate(func: Any) -> Any:
        for option in reversed(options):  # decorators apply bottom-up
            func = argument(*option.flags, **option.kwargs)(func)
        return func

    return decorate


def split_pairs(
    argv: Sequence[str], flags: Sequence[str]
) -> tuple[list[str], dict[str, list[list[str]]]]:
    """Take ``FLAG NAME VALUE`` out of ``argv`` whatever VALUE looks like.

    argparse reads ``-p a -1e-3`` or ``-p msg --x`` as a missing value followed by an
    option; papermill (click) takes the two words as they are. Returns the remaining words
    and, per flag, the ``[NAME, VALUE]`` pairs in order. Words after ``--`` are left alone.
    """
    rest: list[str] = []
    found: dict[str, list[list[str]]] = {}
    words = list(argv)
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            rest += words[index:]
            break
        if word in flags and index + 2 < len(words):
            found.setdefault(word, []).append([words[index + 1], words[index + 2]])
            index += 3
            continue
        rest.append(word)
        index += 1
    return rest, found


def take_pairs(parser: argparse.ArgumentParser, flags: Sequence[str]) -> None:
    """Make ``parser`` read ``FLAG NAME VALUE`` with :func:`split_pairs` before argparse runs.

    The pairs land in the same attribute (``dest``) argparse would have filled.
    """
    dests = {}
    for action in parser._actions:  # argparse keeps no public map of flag → action
        for flag in action.option_strings:
            if flag in flags:
                dests[flag] = action.dest
    parse_known = parser.parse_known_args

    def parse_known_args(args: Sequence[str] | None = None, namespace: Any = None) -> Any:
        import sys

        words = list(sys.argv[1:] if args is None else args)
        rest, found = split_pairs(words, list(dests))
        parsed, extras = parse_known(rest, namespace)
        for flag, pairs in found.items():
            current = getattr(parsed, dests[flag], None) or []
            setattr(parsed, dests[flag], [*current, *pairs])
        return parsed, extras

    parser.parse_known_args = parse_known_args  # type: ignore[method-assign,assignment]
