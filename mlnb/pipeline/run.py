"""Run one notebook as a reproducible step: papermill plus a seed, checks and a run record.

:func:`run` checks everything a user can get wrong before a kernel starts (the
notebook, its JSON, the parameter names and types, the kernel), stores a copy of
the input notebook, then hands the work to ``papermill.execute_notebook`` with
mlnb's engine (:mod:`mlnb.pipeline.engine`). However the run ends, its
:class:`~mlnb.runs.records.RunRecord` is written to the run store (its pipeline
section: :mod:`mlnb.pipeline.section`) and goes to every registered run sink.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlnb.config import project as configured_project
from mlnb.exceptions import (
    KernelStartError,
    MlnbError,
    NotebookRunError,
    RunCrashedError,
    RunFailedError,
    RunKilledError,
)
from mlnb.pipeline.kernels import KernelKind, KernelSource
from mlnb.pipeline.loading import load_notebook, read_bytes, resolve_kernel, shorten
from mlnb.pipeline.parameters import check_parameters
from mlnb.pipeline.section import SECTION_KEY, PipelineSection, section_of
from mlnb.pipeline.sinks import run_sinks
from mlnb.runs import external
from mlnb.runs.records import RunRecord, new_run_id
from mlnb.seed import resolve_seed

log = logging.getLogger(__name__)

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
        The final :class:`~mlnb.runs.records.RunRecord` (also in the run store and in the
        output's ``metadata.mlnb.run``); :func:`~mlnb.pipeline.section.section_of` reads
        its pipeline section (output, recorded values, failing cell).

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
    section = PipelineSection(
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
    )
    begun = external.begin(
        run_name(notebook, tags),
        project=configured_project("pipeline"),
        config=checked,
        tags=["pipeline", *tags],
        provenance=provenance_of(section),
        run_id=run_id,
    )
    global _last_record
    _last_record = begun
    run_sinks.emit(begun)
    context = engine.RunContext(
        record=begun,
        section=section,
        kind=KernelKind(kernel_name, section.cwd or ".", seed_value),
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
            cwd=section.cwd,
            mlnb_context=context,
        )
    except KeyboardInterrupt:
        context.settle("killed", "KeyboardInterrupt: interrupted (Ctrl-C)")
        _conclude(context)
        raise
    except (PapermillExecutionError, KernelStartError, TimeoutError, RuntimeError) as exc:
        context.settle("failed", f"{type(exc).__name__}: {shorten(str(exc), 200)}")
    except Exception as exc:  # unexpected: record it, then let it surface
        context.settle("crashed", f"{type(exc).__name__}: {shorten(str(exc), 200)}")
        _conclude(context)
        raise
    record = _conclude(context)
    if raise_on_failure and record.status != "finished":
        raise run_error(record)
    return record


def run_name(notebook: str | os.PathLike[str], tags: list[str] | tuple[str, ...] = ()) -> str:
    """``train`` for a plain run, ``train trial-3`` for a sweep trial, ``step evaluate`` for a DAG step."""
    stem = Path(notebook).stem
    for tag in tags:
        if tag.startswith("trial-"):
            return f"{stem} {tag}"
        if tag.startswith("step:"):
            return f"step {tag[5:]}"
    return stem


def provenance_of(section: PipelineSection) -> dict[str, Any]:
    """The provenance a pipeline run starts with: its seed, notebook and papermill sections
    in the shape hand-logged runs have them, and the pipeline's own section."""
    return {
        "seed": {"seed": section.seed, "source": "mlnb.pipeline"},
        "notebook": {
            "path": str(Path(section.notebook).resolve()),
            "sha256": section.notebook_sha256,
        },
        "papermill": {
            "parameters": section.params,
            "output": section.output,
            "kernel": section.kernel,
            "cwd": section.cwd,
            "version": section.papermill.get("version"),
        },
        SECTION_KEY: section.to_dict(),
    }


def summary_of(values: dict[str, Any]) -> dict[str, Any]:
    """Recorded values fit for a run summary: numbers and short text as they are, others described."""
    summary: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, bool) or value is None:
            summary[name] = value
        elif isinstance(value, (int, float)):
            summary[name] = value if math.isfinite(value) else str(value)
        elif isinstance(value, str) and len(value) <= 200:
            summary[name] = value
        else:
            summary[name] = f"<{type(value).__name__}>"
    return summary


def _conclude(context: Any) -> RunRecord:
    """Write how the run ended to the run store and every sink; returns the final record."""
    status, error = context.outcome or ("crashed", "the run ended without an outcome")
    section = context.section
    provenance = {SECTION_KEY: section.to_dict()}
    summary = summary_of(section.values)
    try:
        record = external.end(
            context.record,
            status,
            error=error,
            summary=summary,
            provenance=provenance,
            artifacts=[(section.output, "notebook")],
        )
    except MlnbError as exc:  # the notebook ran and its output is kept: say so, don't lose it
        log.warning(
            "mlnb: run %s could not be written to the run store: %s", context.record.id, exc
        )
        record = external.ended_record(
            context.record, status, error=error, summary=summary, provenance=provenance
        )
    global _last_record
    _last_record = record
    run_sinks.emit(record)
    return record


def last_record() -> RunRecord | None:
    """The record of the latest :func:`run` in this process (also after Ctrl-C)."""
    return _last_record


def run_error(record: RunRecord) -> NotebookRunError:
    """The exception (one sentence) for a run that did not finish."""
    section = section_of(record)
    cell = f" in cell {section.cell_index + 1}" if section.cell_index is not None else ""
    label = f" (In [{section.execution_count}])" if section.execution_count else ""
    error = shorten(record.error or "", 200)
    where = f"{section.output} (run {record.id})"
    if record.status == "failed":
        return RunFailedError(
            f"{section.notebook} failed{cell}{label}: {error} — the output notebook {where} has the failing cell marked.",
            record,
        )
    if record.status == "killed":
        return RunKilledError(
            f"{section.notebook} was stopped{cell}: {error}; the kernel is stopped and the output so far is in {where}.",
            record,
        )
    return RunCrashedError(
        f"the kernel running {section.notebook} died{cell} ({error}); the notebook as far as it got is in {where}.",
        record,
    )
