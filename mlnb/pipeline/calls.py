"""Parsed ``mlnb run/sweep/tune/pipeline`` (or ``%pipeline_*``) options → the library call.

Shared by the CLI and the magics, so both call the library with the same keywords; the
option definitions themselves are in :mod:`mlnb.pipeline.options`.
"""

from __future__ import annotations

import argparse
from typing import Any

from mlnb.pipeline.options import backend_settings


def run_call(args: argparse.Namespace) -> dict[str, Any]:
    """Keywords of :func:`mlnb.pipeline.run.run` from parsed ``RUN`` (and papermill) options."""
    call: dict[str, Any] = {
        "seed": args.seed,
        "kernel": args.kernel,
        "cwd": args.cwd,
        "timeout": args.timeout,
        "start_timeout": args.start_timeout,
    }
    if hasattr(args, "no_seed"):
        call["pin_seed"] = not args.no_seed
        call["execution_timeout"] = args.execution_timeout
    if hasattr(args, "strict"):
        call["strict"] = args.strict
    if hasattr(args, "engine"):
        call.update(
            language=args.language,
            engine=args.engine,
            prepare_only=args.prepare_only,
            report_mode=args.report_mode,
            request_save_on_cell_execute=args.request_save_on_cell_execute,
            autosave_cell_every=args.autosave_cell_every,
            progress_bar=bool(args.progress_bar),
            log_output=args.log_output,
            stdout_file=args.stdout_file,
            stderr_file=args.stderr_file,
        )
    return call


def run_parameters(args: argparse.Namespace) -> dict[str, Any]:
    """The parameters ``PARAMETERS`` give (papermill's order), typed against the notebook's
    ``parameters`` cell (papermill's typing for a notebook read from stdin)."""
    import warnings

    from mlnb.pipeline.loading import load_notebook
    from mlnb.pipeline.parameters import cli_parameters

    with warnings.catch_warnings():  # a notebook breaking the schema: run() warns once
        warnings.simplefilter("ignore")
        nb = None if args.notebook == "-" else load_notebook(args.notebook, lenient=True)
    params: dict[str, Any] = {}
    if args.inject_input_path or args.inject_paths:
        params["PAPERMILL_INPUT_PATH"] = args.notebook
    if args.inject_output_path or args.inject_paths:
        params["PAPERMILL_OUTPUT_PATH"] = args.output or ""
    params.update(
        cli_parameters(
            nb,
            args.parameters,
            args.parameters_raw,
            args.parameters_yaml,
            args.parameters_file,
            args.parameters_base64,
        )
    )
    return params


def sweep_call(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """Keywords of :func:`mlnb.pipeline.sweep.sweep` (notebook and space included)."""
    from mlnb.exceptions import MalformedParameterError
    from mlnb.pipeline.loading import load_notebook
    from mlnb.pipeline.parameters import cli_parameters
    from mlnb.pipeline.sweep_space import parse_space

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
        "backend_options": backend_settings(args),
        "progress": not args.no_progress,
        "warm": not args.no_warm,
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
        "backend_options": backend_settings(args),
        "progress": not args.no_progress,
        "prune": args.prune,
        "prune_startup": args.prune_startup,
        "prune_warmup": args.prune_warmup,
        "warm": not args.no_warm,
        "sampler": args.sampler,
    }


def pipeline_call(args: argparse.Namespace) -> dict[str, Any]:
    """Keywords of :func:`mlnb.pipeline.dag.run_pipeline` (the path excepted)."""
    return {
        "force": args.force,
        "jobs": args.jobs,
        "backend": args.backend,
        "address": args.address,
        "backend_options": backend_settings(args),
        "start_timeout": args.start_timeout,
    }
