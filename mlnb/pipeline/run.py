"""Run one notebook as a reproducible step: papermill plus a seed, checks and a run record.

:func:`run` reads the notebook (a file, or stdin for ``-``), checks everything that cannot
work before a kernel starts (the notebook's JSON, parameter values that are not JSON data,
the kernel, the options, the output path), warns about what papermill injects anyway (or,
``strict``, refuses it), keeps a copy of the input notebook in the run store's folder,
then hands the work to ``papermill.execute_notebook`` with mlnb's engine
(:mod:`mlnb.pipeline.engine`). However the run ends, its
:class:`~mlnb.runs.records.RunRecord` is written to the run store (its pipeline section:
:mod:`mlnb.pipeline.section`) and goes to every registered run sink.

:func:`execute_notebook` is the same with papermill's signature, defaults and return
value, for code written against ``papermill.execute_notebook``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from mlnb.pipeline.execution import execute
from mlnb.pipeline.kernels import KernelSource
from mlnb.pipeline.lifecycle import last_record, provenance_of, run_name, summary_of
from mlnb.pipeline.outputs import STDIO, check_output, default_output, formatted_output
from mlnb.pipeline.papermill_api import execute_notebook
from mlnb.pipeline.run_errors import run_error
from mlnb.runs.records import RunRecord

__all__ = [
    "STDIO",
    "RunTask",
    "check_output",
    "default_output",
    "execute_notebook",
    "formatted_output",
    "last_record",
    "provenance_of",
    "run",
    "run_error",
    "run_name",
    "summary_of",
]

DEFAULT_START_TIMEOUT = 120
ENGINE = "mlnb"
AUTOSAVE_SECONDS = 1


@dataclass
class RunTask:
    """A run described as data, so it can cross into a worker process or a Ray task.

    Attributes mirror :func:`run`'s arguments; ``tags`` label the record; ``run_id`` is the
    record's id chosen by the caller (a tuner reads the run's logged points by it while it
    runs); ``stop_file`` stops the run when it appears (see
    :func:`mlnb.pipeline.engine.request_stop`).
    """

    notebook: str
    params: dict[str, Any] = field(default_factory=dict)
    output: str | None = None
    seed: int | None = None
    kernel: str | None = None
    cwd: str | None = None
    timeout: float | None = None
    start_timeout: int = DEFAULT_START_TIMEOUT
    start_retries: int = 2
    tags: list[str] = field(default_factory=list)
    rerun_of: str | None = None
    prewarm_next: bool = True
    pin_seed: bool = True
    run_id: str | None = None
    stop_file: str | None = None
    #: a worker may fork this run's kernel from a pre-loaded zygote (still a fresh process)
    warm: bool = False

    def execute(self, kernels: KernelSource | None = None) -> RunRecord:
        """Run it without raising on failure; returns the record."""
        return run(
            self.notebook,
            self.params,
            self.output,
            self.seed,
            kernel=self.kernel,
            cwd=self.cwd,
            timeout=self.timeout,
            start_timeout=self.start_timeout,
            start_retries=self.start_retries,
            pin_seed=self.pin_seed,
            tags=self.tags,
            rerun_of=self.rerun_of,
            kernels=kernels,
            prewarm_next=self.prewarm_next,
            raise_on_failure=False,
            run_id=self.run_id,
            stop_file=self.stop_file,
        )


def run(
    notebook: str | os.PathLike[str],
    params: dict[str, Any] | None = None,
    output: str | os.PathLike[str] | None = None,
    seed: int | str | None = None,
    *,
    kernel: str | None = None,
    language: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    execution_timeout: int | None = None,
    start_timeout: int = DEFAULT_START_TIMEOUT,
    start_retries: int = 2,
    pin_seed: bool = True,
    strict: bool = False,
    engine: str = ENGINE,
    prepare_only: bool = False,
    report_mode: bool = False,
    request_save_on_cell_execute: bool = True,
    autosave_cell_every: int = AUTOSAVE_SECONDS,
    progress_bar: bool = False,
    log_output: bool = False,
    stdout_file: Any = None,
    stderr_file: Any = None,
    raise_on_failure: bool = True,
    tags: list[str] | tuple[str, ...] = (),
    rerun_of: str | None = None,
    kernels: KernelSource | None = None,
    prewarm_next: bool = True,
    run_id: str | None = None,
    stop_file: str | os.PathLike[str] | None = None,
) -> RunRecord:
    """Execute a notebook with papermill, its seed pinned, and record the run.

    Args:
        notebook: the input notebook; ``"-"`` reads it from stdin.
        params: parameters to inject (papermill's rules: without a ``parameters`` cell they
            go at the top). Values must be JSON data; mlnb's other checks warn (see ``strict``).
        output: the output notebook (default ``runs/<stem>-<run id>.ipynb`` beside the
            input); ``"-"`` writes the finished notebook to stdout, once.
        seed: pinned in the kernel before the first cell, silently (no execution count
            is used); default ``MLNB_SEED``, else a drawn seed (recorded, so ``rerun``
            repeats it).
        kernel: kernel name (papermill's ``kernel_name``); also written into the output's
            kernelspec. Default: the notebook's own kernelspec, which is then left as it is.
        language: the notebook's language for parameter injection (papermill's).
        cwd: the kernel's working directory (default: the notebook's folder — papermill's
            is the current folder).
        timeout: whole-run limit in seconds; the kernel is stopped when it passes.
        execution_timeout: per-cell limit in seconds (papermill's; 0 or less: none, as
            with papermill).
        start_timeout: seconds to wait for a kernel to answer before replacing it.
        start_retries: how many times a kernel that did not answer is replaced.
        pin_seed: False leaves the kernel's random generators alone (``--no-seed``).
        strict: refuse, before a kernel starts, what papermill injects with a warning — no
            ``parameters`` cell, one that does not parse, unknown names, mistyped values.
        engine: papermill engine name; another than ``"mlnb"`` runs without per-cell saves,
            seed pinning and recorded values (the run record is still written).
        prepare_only, report_mode, request_save_on_cell_execute, autosave_cell_every,
            progress_bar, log_output, stdout_file, stderr_file: papermill's meanings
            (``autosave_cell_every`` defaults to 1 s here, papermill's to 30 s).
        raise_on_failure: raise :class:`~mlnb.exceptions.NotebookRunError` subclasses
            when the run did not finish (else just return the record).
        tags: labels stored in the record.
        rerun_of: the run id this run repeats.
        kernels: where the kernel comes from (a warm :class:`KernelSource` in sweeps).
        prewarm_next: with a warm source, boot a spare kernel for a following run.
        run_id: the record's id (default: a new one); ``mlnb.log`` in the notebook writes to it.
        stop_file: when this file appears the run stops, with the status it names
            (:func:`mlnb.pipeline.engine.request_stop`; ``mlnb tune --prune`` uses it).

    Returns:
        The final :class:`~mlnb.runs.records.RunRecord` (also in the run store and in the
        output's ``metadata.mlnb.run``); :func:`~mlnb.pipeline.section.section_of` reads
        its pipeline section (output, recorded values, failing cell). With
        ``prepare_only`` nothing runs and the record is not stored.

    Raises:
        NotebookNotFoundError, InvalidNotebookError, ParameterValueError,
        KernelNotFoundError, SeedError, InvalidArgumentError: before anything runs (and,
        with ``strict``, NoParametersCellError, ParametersCellError,
        UnknownParameterError, ParameterTypeError).
        RunFailedError, RunKilledError, RunCrashedError: the run did not finish
            (only with ``raise_on_failure``); ``KeyboardInterrupt`` is re-raised after
            the record is written.
    """
    record, _ = execute(**locals())
    if raise_on_failure and record.status != "finished":
        raise run_error(record)
    return record
