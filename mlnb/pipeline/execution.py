"""The body of :func:`mlnb.pipeline.run.run`: check, plan, hand to papermill, record.

:func:`execute` checks everything that cannot work before a kernel starts (options,
the notebook, its parameters, the kernel, the output), plans the papermill call
(:class:`RunPlan`), begins the run record, runs papermill with mlnb's engine and
settles the outcome however it ended. It also returns the exception papermill
raised, which :func:`mlnb.pipeline.papermill_api.execute_notebook` re-raises.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb.exceptions import InvalidArgumentError, KernelStartError, MlnbWarning
from mlnb.pipeline import lifecycle
from mlnb.pipeline.context import ENGINE_NAME, RunContext
from mlnb.pipeline.kernels import KernelKind, KernelSource
from mlnb.pipeline.lifecycle import provenance_of, run_name
from mlnb.pipeline.loading import (
    check_engine,
    check_translator,
    parse_notebook,
    resolve_kernel,
    shorten,
)
from mlnb.pipeline.options import check_options
from mlnb.pipeline.outputs import STDIO, brace_escaped, check_output, default_output
from mlnb.pipeline.outputs import formatted_output as format_output
from mlnb.pipeline.papermill_io import quiet_papermill_duplicates, read_input, stdin_holding
from mlnb.pipeline.parameters import check_parameters
from mlnb.pipeline.preload import notebook_imports
from mlnb.pipeline.section import PipelineSection
from mlnb.runs.records import RunRecord, new_run_id
from mlnb.seed import resolve_seed

if TYPE_CHECKING:
    from nbformat import NotebookNode


@dataclass
class RunPlan:
    """A checked run, ready for papermill: what it reads, where it writes, with what."""

    notebook: Path
    raw: bytes
    nb: NotebookNode
    params: dict[str, Any]
    kernel_name: str
    kernelspec: dict[str, Any]
    language: str | None
    seed: int | None
    run_id: str
    out: Path
    to_stdout: bool
    workdir: Path

    @property
    def stdin(self) -> bytes | None:
        """The bytes papermill must read from stdin (None: it reads a file)."""
        return self.raw if str(self.notebook) == STDIO else None

    @property
    def source(self) -> str:
        """The input path handed to papermill."""
        return STDIO if self.stdin is not None else str(self.notebook)

    @property
    def target(self) -> str:
        """The output path handed to papermill (``-``: stdout)."""
        return STDIO if self.to_stdout else str(self.out)


def check_arguments(
    *,
    timeout: float | None,
    execution_timeout: int | None,
    start_timeout: int,
    autosave_cell_every: int,
    start_retries: int,
    seed: int | str | None,
    pin_seed: bool,
) -> None:
    """Refuse options that break their rules, before anything is read."""
    check_options(
        timeout=timeout,
        execution_timeout=execution_timeout,
        start_timeout=start_timeout,
        autosave_cell_every=autosave_cell_every,
    )
    if isinstance(start_retries, bool) or not isinstance(start_retries, int) or start_retries < 0:
        raise InvalidArgumentError(
            f"start_retries must be a whole number ≥ 0, got {start_retries!r}."
        )
    if seed is not None and not pin_seed:
        raise InvalidArgumentError("--seed and --no-seed contradict each other — drop one.")


def plan_run(
    notebook: Path,
    params: dict[str, Any] | None,
    *,
    output: str | os.PathLike[str] | None,
    kernel: str | None,
    cwd: str | os.PathLike[str] | None,
    seed: int | str | None,
    pin_seed: bool,
    language: str | None,
    strict: bool,
    run_id: str | None,
) -> RunPlan:
    """Read and check the notebook, its parameters, kernel, output and folder."""
    raw = read_input(notebook)
    nb = parse_notebook(raw, notebook, lenient=True)
    checked = check_parameters(nb, params or {}, notebook, strict=strict)
    kernel_name, kernelspec = resolve_kernel(nb, kernel)
    if not nb.metadata.get("kernelspec", {}).get("name") and kernel is None:
        warnings.warn(
            f"{notebook} names no kernel in its metadata; running it in python3 (papermill refuses it without -k).",
            MlnbWarning,
            stacklevel=4,
        )
    if checked:
        check_translator(kernel_name, language or kernelspec.get("language"))
    if output is not None and not isinstance(output, (str, os.PathLike)):
        raise InvalidArgumentError(f"the output must be a path, got {type(output).__name__}.")
    run_id = run_id or new_run_id()
    to_stdout = output is not None and str(output) == STDIO
    if output is not None and not to_stdout and "{" in str(output):
        output = format_output(str(output), checked)
    out = Path(output) if output is not None else default_output(notebook, run_id)
    if not to_stdout:
        check_output(out, notebook)
    if cwd is not None and not Path(cwd).is_dir():
        raise InvalidArgumentError(f"--cwd {cwd} is not a folder.")
    workdir = (
        Path(cwd)
        if cwd is not None
        else (Path.cwd() if str(notebook) == STDIO else notebook.resolve().parent)
    )
    return RunPlan(
        notebook=notebook,
        raw=raw,
        nb=nb,
        params=checked,
        kernel_name=kernel_name,
        kernelspec=kernelspec,
        language=language or kernelspec.get("language") or None,
        seed=resolve_seed(seed)[0] if pin_seed else None,
        run_id=run_id,
        out=out,
        to_stdout=to_stdout,
        workdir=workdir,
    )


def papermill_call(
    plan: RunPlan, engine: str, *, execution_timeout: int | None, **options: Any
) -> dict[str, Any]:
    """The keywords of ``papermill.execute_notebook`` for ``plan`` (``options``: papermill's)."""
    call: dict[str, Any] = dict(
        options,
        parameters=plan.params or None,
        engine_name=engine,
        kernel_name=plan.kernel_name,
        language=plan.language,
        cwd=str(plan.workdir.resolve()),
    )
    call["request_save_on_cell_execute"] = (
        options["request_save_on_cell_execute"] and not plan.to_stdout
    )
    if execution_timeout is not None:
        call["execution_timeout"] = execution_timeout
    return call


def prepare_only_record(plan: RunPlan, call: dict[str, Any], tags: Any) -> RunRecord:
    """papermill writes the parameterized notebook; nothing runs, nothing is recorded."""
    import papermill

    from mlnb.runs.external import draft, ended_record

    with stdin_holding(plan.stdin), quiet_papermill_duplicates():
        papermill.execute_notebook(plan.source, brace_escaped(plan.target), **call)
    section = PipelineSection(
        notebook=str(plan.notebook), output=plan.target, params=plan.params, kernel=plan.kernel_name
    )
    unstored = draft(
        run_name(plan.notebook, tags),
        tags=["pipeline", "prepared"],
        provenance=provenance_of(section),
    )
    return ended_record(unstored, "finished")


def pipeline_section(plan: RunPlan, engine: str, rerun_of: str | None) -> PipelineSection:
    """Keep the input's copy in the run store; the run's pipeline section as it begins."""
    import papermill

    sha256, snapshot = lifecycle.store_snapshot(plan.raw)
    return PipelineSection(
        notebook=str(plan.notebook),
        output=plan.target,
        params=plan.params,
        seed=plan.seed,
        kernel=plan.kernel_name,
        cwd=str(plan.workdir.resolve()),
        snapshot=str(snapshot) if snapshot else None,
        notebook_sha256=sha256,
        papermill={"parameters": plan.params, "version": papermill.__version__, "engine": engine},
        rerun_of=rerun_of,
    )


def run_papermill(
    plan: RunPlan, call: dict[str, Any], context: RunContext, engine: str
) -> BaseException | None:
    """Run papermill, settling the outcome in ``context``; returns what papermill raised."""
    import papermill

    try:
        with stdin_holding(plan.stdin), quiet_papermill_duplicates():
            papermill.execute_notebook(plan.source, brace_escaped(plan.target), **call)
    except KeyboardInterrupt:
        context.settle("killed", "KeyboardInterrupt: interrupted (Ctrl-C)")
        lifecycle.conclude(context)
        raise
    except (KernelStartError, TimeoutError, RuntimeError) as exc:  # also DeadKernelError
        context.settle("failed", f"{type(exc).__name__}: {shorten(str(exc), 200)}")
        return exc
    except Exception as exc:
        from papermill.exceptions import PapermillExecutionError

        if not isinstance(exc, PapermillExecutionError):  # unexpected: record it, then surface
            context.settle("crashed", f"{type(exc).__name__}: {shorten(str(exc), 200)}")
            lifecycle.conclude(context)
            raise
        context.settle("failed", f"{exc.ename}: {shorten(str(exc.evalue), 200)}")
        return exc
    if engine != ENGINE_NAME:  # another engine: values and outcome read from what it wrote
        context.settle("finished")
        if not plan.to_stdout and plan.out.is_file():
            from mlnb.pipeline.record import read

            context.section.values.update(read(plan.out))
    return None


def kernel_source(plan: RunPlan, kernels: KernelSource | None) -> dict[str, Any]:
    """Where the run's kernel comes from, and the imports a warm source may load ahead."""
    if kernels is None:
        return {"kernels": KernelSource(), "imports": ()}
    return {"kernels": kernels, "imports": tuple(notebook_imports(plan.nb))}


def record_and_run(
    plan: RunPlan,
    call: dict[str, Any],
    engine: str,
    *,
    rerun_of: str | None,
    tags: Any,
    kernel: str | None,
    kernels: KernelSource | None,
    timeout: float | None,
    execution_timeout: int | None,
    start_retries: int,
    prewarm_next: bool,
    stop_file: str | os.PathLike[str] | None,
) -> tuple[RunRecord, BaseException | None]:
    """Begin the run's record, run papermill, and conclude the record however it ended."""
    section = pipeline_section(plan, engine, rerun_of)
    context = RunContext(
        record=lifecycle.begin(section, tags, plan.run_id),
        section=section,
        kind=KernelKind(plan.kernel_name, section.cwd or ".", plan.seed),
        kernelspec=plan.kernelspec if kernel is not None else {},
        language=plan.language or "python",
        timeout=timeout,
        execution_timeout=execution_timeout,
        start_retries=start_retries,
        prewarm_next=prewarm_next,
        stop_file=os.fspath(stop_file) if stop_file is not None else None,
        **kernel_source(plan, kernels),
    )
    if engine == ENGINE_NAME:
        call["mlnb_context"] = context
    failure = run_papermill(plan, call, context, engine)
    return lifecycle.conclude(context), failure


def execute(
    notebook: str | os.PathLike[str],
    params: dict[str, Any] | None,
    output: str | os.PathLike[str] | None,
    seed: int | str | None,
    *,
    kernel: str | None,
    language: str | None,
    cwd: str | os.PathLike[str] | None,
    timeout: float | None,
    execution_timeout: int | None,
    start_timeout: int,
    start_retries: int,
    pin_seed: bool,
    strict: bool,
    engine: str | None,
    prepare_only: bool,
    report_mode: bool,
    request_save_on_cell_execute: bool,
    autosave_cell_every: int,
    progress_bar: bool,
    log_output: bool,
    stdout_file: Any,
    stderr_file: Any,
    raise_on_failure: bool,
    tags: list[str] | tuple[str, ...],
    rerun_of: str | None,
    kernels: KernelSource | None,
    prewarm_next: bool,
    run_id: str | None = None,
    stop_file: str | os.PathLike[str] | None = None,
    client_options: dict[str, Any] | None = None,
) -> tuple[RunRecord, BaseException | None]:
    """:func:`mlnb.pipeline.run.run`'s body; also returns the exception papermill raised.

    ``client_options`` are nbclient settings handed through papermill to the client."""
    from mlnb.pipeline import engine as mlnb_engine  # noqa: F401  # registers the "mlnb" engine

    check_arguments(
        timeout=timeout,
        execution_timeout=execution_timeout,
        start_timeout=start_timeout,
        autosave_cell_every=autosave_cell_every,
        start_retries=start_retries,
        seed=seed,
        pin_seed=pin_seed,
    )
    if execution_timeout is not None and execution_timeout <= 0:
        execution_timeout = None  # no limit, as nbclient (and so papermill) reads it
    engine = engine or ENGINE_NAME
    check_engine(engine)
    plan = plan_run(
        Path(notebook),
        params,
        output=output,
        kernel=kernel,
        cwd=cwd,
        seed=seed,
        language=language,
        pin_seed=pin_seed,
        strict=strict,
        run_id=run_id,
    )
    call = papermill_call(
        plan,
        engine,
        prepare_only=prepare_only,
        request_save_on_cell_execute=request_save_on_cell_execute,
        progress_bar=progress_bar,
        log_output=log_output,
        stdout_file=stdout_file,
        stderr_file=stderr_file,
        start_timeout=start_timeout,
        report_mode=report_mode,
        autosave_cell_every=autosave_cell_every,
        execution_timeout=execution_timeout,
        **(client_options or {}),
    )
    if prepare_only:
        return prepare_only_record(plan, call, tags), None
    return record_and_run(
        plan,
        call,
        engine,
        rerun_of=rerun_of,
        tags=tags,
        kernel=kernel,
        kernels=kernels,
        timeout=timeout,
        execution_timeout=execution_timeout,
        start_retries=start_retries,
        prewarm_next=prewarm_next,
        stop_file=stop_file,
    )
