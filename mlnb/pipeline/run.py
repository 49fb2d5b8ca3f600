"""Run one notebook as a reproducible step: papermill plus a seed, checks and a run record.

:func:`run` checks everything a user can get wrong before a kernel starts (the
notebook, its JSON, the parameter names and types, the kernel), stores a copy of
the input notebook, then hands the work to ``papermill.execute_notebook`` with
mlnb's engine (:mod:`mlnb.pipeline.engine`). However the run ends, its
:class:`~mlnb.pipeline.runrecord.RunRecord` goes to every registered run sink.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlnb.exceptions import (
    KernelStartError,
    NotebookRunError,
    RunCrashedError,
    RunFailedError,
    RunKilledError,
)
from mlnb.pipeline.kernels import KernelKind, KernelSource
from mlnb.pipeline.loading import load_notebook, read_bytes, resolve_kernel, shorten
from mlnb.pipeline.parameters import check_parameters
from mlnb.pipeline.runrecord import RunRecord, new_run_id, run_sinks
from mlnb.seed import resolve_seed

SNAPSHOT_DIR = ".mlnb-notebooks"
_last_record: RunRecord | None = None
DEFAULT_START_TIMEOUT = 120


@dataclass
class RunTask:
    """A run described as data, so it can cross into a worker process or a Ray task.

    Attributes mirror :func:`run`'s arguments; ``tags`` label the record.
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
            tags=self.tags,
            rerun_of=self.rerun_of,
            kernels=kernels,
            prewarm_next=self.prewarm_next,
            raise_on_failure=False,
        )


def default_output(notebook: Path, run_id: str) -> Path:
    """``runs/<stem>-<run id>.ipynb`` beside the notebook."""
    return notebook.resolve().parent / "runs" / f"{notebook.stem}-{run_id}.ipynb"


def store_snapshot(raw: bytes, sha256: str, output: Path) -> Path:
    """Keep a copy of the input notebook (by content hash) beside the output; returns it."""
    folder = output.parent / SNAPSHOT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sha256[:16]}.ipynb"
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(raw)
        os.replace(tmp, path)
    return path


def run(
    notebook: str | os.PathLike[str],
    params: dict[str, Any] | None = None,
    output: str | os.PathLike[str] | None = None,
    seed: int | str | None = None,
    *,
    kernel: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    start_timeout: int = DEFAULT_START_TIMEOUT,
    start_retries: int = 2,
    progress_bar: bool = False,
    log_output: bool = False,
    raise_on_failure: bool = True,
    tags: list[str] | tuple[str, ...] = (),
    rerun_of: str | None = None,
    kernels: KernelSource | None = None,
    prewarm_next: bool = True,
) -> RunRecord:
    """Execute a notebook with papermill, its seed pinned, and record the run.

    Args:
        notebook: the input notebook.
        params: parameters for its ``parameters`` cell; names and types are checked.
        output: the output notebook (default ``runs/<stem>-<run id>.ipynb`` beside it).
        seed: pinned inside the kernel before the notebook's own cells; default
            ``MLNB_SEED``, else a drawn seed (it is recorded, so ``rerun`` repeats it).
        kernel: kernel name; also written into the output's kernelspec. Default: the
            notebook's own kernelspec.
        cwd: the kernel's working directory (default: the notebook's folder).
        timeout: whole-run limit in seconds; the kernel is stopped when it passes.
        start_timeout: seconds to wait for a kernel to answer before replacing it.
        start_retries: how many times a kernel that did not answer is replaced.
        progress_bar: show papermill's per-cell progress bar.
        log_output: echo the notebook's output through papermill's logger.
        raise_on_failure: raise :class:`~mlnb.exceptions.NotebookRunError` subclasses
            when the run did not finish (else just return the record).
        tags: labels stored in the record.
        rerun_of: the run id this run repeats.
        kernels: where the kernel comes from (a warm :class:`KernelSource` in sweeps).
        prewarm_next: with a warm source, boot a spare kernel for a following run.

    Returns:
        The final :class:`RunRecord` (also in the output's ``metadata.mlnb.run`` and in
        ``pipeline-runs.jsonl`` beside it).

    Raises:
        NotebookNotFoundError, InvalidNotebookError, NoParametersCellError,
        UnknownParameterError, ParameterTypeError, KernelNotFoundError, SeedError:
            before anything runs.
        RunFailedError, RunKilledError, RunCrashedError: the run did not finish
            (only with ``raise_on_failure``); ``KeyboardInterrupt`` is re-raised after
            the record is written.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from mlnb.pipeline import engine  # registers the "mlnb" engine with papermill

    notebook = Path(notebook)
    raw = read_bytes(notebook)
    nb = load_notebook(notebook)
    checked = check_parameters(nb, dict(params or {}), notebook)
    kernel_name, kernelspec = resolve_kernel(nb, kernel)
    seed_value, _ = resolve_seed(seed)
    run_id = new_run_id()
    out = Path(output) if output is not None else default_output(notebook, run_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(cwd) if cwd is not None else notebook.resolve().parent
    sha256 = hashlib.sha256(raw).hexdigest()
    record = RunRecord(
        id=run_id,
        notebook=str(notebook),
        output=str(out),
        params=checked,
        seed=seed_value,
        kernel=kernel_name,
        cwd=str(workdir.resolve()),
        snapshot=str(store_snapshot(raw, sha256, out)),
        notebook_sha256=sha256,
        papermill={"parameters": checked, "version": papermill.__version__, "engine": "mlnb"},
        rerun_of=rerun_of,
        tags=list(tags),
    )
    global _last_record
    _last_record = record
    run_sinks.emit(record)
    context = engine.RunContext(
        record=record,
        kind=KernelKind(kernel_name, record.cwd or ".", seed_value),
        kernels=kernels if kernels is not None else KernelSource(),
        kernelspec=kernelspec,
        timeout=timeout,
        start_retries=start_retries,
        prewarm_next=prewarm_next,
    )
    try:
        papermill.execute_notebook(
            str(notebook),
            str(out),
            parameters=checked or None,
            engine_name=engine.ENGINE_NAME,
            kernel_name=kernel_name,
            progress_bar=progress_bar,
            log_output=log_output,
            start_timeout=start_timeout,
            cwd=record.cwd,
            mlnb_context=context,
        )
    except KeyboardInterrupt:
        _settle(record, "killed", "KeyboardInterrupt: interrupted (Ctrl-C)")
        run_sinks.emit(record)
        raise
    except (PapermillExecutionError, KernelStartError, TimeoutError, RuntimeError) as exc:
        _settle(record, "failed", f"{type(exc).__name__}: {shorten(str(exc), 200)}")
    except Exception as exc:  # unexpected: record it, then let it surface
        _settle(record, "crashed", f"{type(exc).__name__}: {shorten(str(exc), 200)}")
        run_sinks.emit(record)
        raise
    run_sinks.emit(record)
    if raise_on_failure and record.status != "finished":
        raise run_error(record)
    return record


def last_record() -> RunRecord | None:
    """The record of the latest :func:`run` in this process (also after Ctrl-C)."""
    return _last_record


def _settle(record: RunRecord, status: str, error: str) -> None:
    if record.status == "running":
        record.finish(status, error)


def run_error(record: RunRecord) -> NotebookRunError:
    """The exception (one sentence) for a run that did not finish."""
    cell = f" in cell {record.cell_index + 1}" if record.cell_index is not None else ""
    label = f" (In [{record.execution_count}])" if record.execution_count else ""
    error = shorten(record.error or "", 200)
    where = f"{record.output} (run {record.id})"
    if record.status == "failed":
        return RunFailedError(
            f"{record.notebook} failed{cell}{label}: {error} — the output notebook {where} has the failing cell marked.",
            record,
        )
    if record.status == "killed":
        return RunKilledError(
            f"{record.notebook} was stopped{cell}: {error}; the kernel is stopped and the output so far is in {where}.",
            record,
        )
    return RunCrashedError(
        f"the kernel running {record.notebook} died{cell} ({error}); the notebook as far as it got is in {where}.",
        record,
    )
