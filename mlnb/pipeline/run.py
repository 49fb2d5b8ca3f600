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

import contextlib
import io
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb.exceptions import (
    InvalidArgumentError,
    KernelStartError,
    MlnbWarning,
    NotebookRunError,
    RunCrashedError,
    RunFailedError,
    RunKilledError,
)
from mlnb.pipeline import lifecycle
from mlnb.pipeline.kernels import KernelKind, KernelSource
from mlnb.pipeline.lifecycle import last_record, provenance_of, run_name, summary_of
from mlnb.pipeline.loading import parse_notebook, read_bytes, resolve_kernel, shorten
from mlnb.pipeline.options import check_options
from mlnb.pipeline.parameters import check_parameters
from mlnb.pipeline.section import PipelineSection, section_of
from mlnb.runs.records import RunRecord, new_run_id
from mlnb.seed import resolve_seed

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = [
    "RunTask",
    "execute_notebook",
    "last_record",
    "provenance_of",
    "run",
    "run_error",
    "run_name",
    "summary_of",
]

log = logging.getLogger(__name__)

DEFAULT_START_TIMEOUT = 120
ENGINE = "mlnb"
AUTOSAVE_SECONDS = 1
STDIO = "-"
#: papermill log lines mlnb replaces with its own warnings (which name the fix)
_PAPERMILL_DUPLICATES = (
    "Passed unknown parameter",
    "Input notebook does not contain a cell with tag 'parameters'",
)


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


def formatted_output(template: str, params: dict[str, Any]) -> str:
    """``out-{lr}.ipynb`` with the parameters (and papermill's ``pm`` ones) filled in, as
    papermill does to output paths, so the run records the path it really wrote."""
    from papermill.exceptions import PapermillMissingParameterException
    from papermill.parameterize import add_builtin_parameters, parameterize_path

    try:
        return str(parameterize_path(template, add_builtin_parameters(params)))
    except PapermillMissingParameterException as exc:
        raise InvalidArgumentError(
            f"the output path {template} has a placeholder that is not a parameter of this run ({str(exc).lower()})."
        ) from None


def _brace_escaped(path: str) -> str:
    """``path`` as papermill must be handed it: it formats output paths again."""
    return path.replace("{", "{{").replace("}", "}}")


def default_output(notebook: Path, run_id: str) -> Path:
    """``runs/<stem>-<run id>.ipynb`` beside the notebook (in the current folder for stdin)."""
    if str(notebook) == STDIO:
        return Path.cwd() / "runs" / f"stdin-{run_id}.ipynb"
    return notebook.resolve().parent / "runs" / f"{notebook.stem}-{run_id}.ipynb"


def check_output(output: Path, notebook: Path) -> None:
    """Refuse an output that would overwrite the input or cannot be written, before anything runs.

    Raises:
        InvalidArgumentError: the output is the input notebook, or its folder cannot be
            created or written (``/proc``, a file in the way, no permission).
    """
    if str(notebook) != STDIO and output.exists() and output.resolve() == notebook.resolve():
        raise InvalidArgumentError(
            f"the output {output} is the input notebook, which the run would overwrite — name another output."
        )
    if output.is_dir():
        raise InvalidArgumentError(f"the output {output} is a folder — name a notebook file.")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=output.parent, prefix=".mlnb-", suffix=".tmp"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InvalidArgumentError(
            f"cannot write the output notebook {output} ({reason}) — pick a writable folder."
        ) from None


def _read_input(notebook: Path) -> bytes:
    if str(notebook) != STDIO:
        return read_bytes(notebook)
    stream = getattr(sys.stdin, "buffer", None)
    data = stream.read() if stream is not None else sys.stdin.read()
    return data.encode("utf-8") if isinstance(data, str) else data


@contextlib.contextmanager
def _stdin_holding(raw: bytes | None) -> Iterator[None]:
    """papermill reads ``-`` from ``sys.stdin``: hand it the bytes already read."""
    if raw is None:
        yield
        return
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")
    try:
        yield
    finally:
        sys.stdin = saved


class _DropDuplicates(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_PAPERMILL_DUPLICATES)


@contextlib.contextmanager
def _quiet_papermill_duplicates() -> Iterator[None]:
    logger = logging.getLogger("papermill")
    dropping = _DropDuplicates()
    logger.addFilter(dropping)
    try:
        yield
    finally:
        logger.removeFilter(dropping)


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
        execution_timeout: per-cell limit in seconds (papermill's).
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
    record, _ = _execute(**locals())
    if raise_on_failure and record.status != "finished":
        raise run_error(record)
    return record


def _execute(
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
) -> tuple[RunRecord, BaseException | None]:
    """:func:`run`'s body; also returns the exception papermill raised (for :func:`execute_notebook`)."""
    import papermill

    from mlnb.pipeline import engine as mlnb_engine  # registers the "mlnb" engine with papermill

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
    engine = engine or ENGINE
    notebook = Path(notebook)
    raw = _read_input(notebook)
    nb = parse_notebook(raw, notebook)
    checked = check_parameters(nb, dict(params or {}), notebook, strict=strict)
    kernel_name, kernelspec = resolve_kernel(nb, kernel)
    if not nb.metadata.get("kernelspec", {}).get("name") and kernel is None:
        warnings.warn(
            f"{notebook} names no kernel in its metadata; running it in python3 (papermill refuses it without -k).",
            MlnbWarning,
            stacklevel=3,
        )
    language = language or kernelspec.get("language") or None
    seed_value = resolve_seed(seed)[0] if pin_seed else None
    run_id = run_id or new_run_id()
    to_stdout = output is not None and str(output) == STDIO
    if output is not None and not to_stdout and "{" in str(output):
        output = formatted_output(str(output), checked)
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
    call: dict[str, Any] = dict(
        parameters=checked or None,
        engine_name=engine,
        request_save_on_cell_execute=request_save_on_cell_execute and not to_stdout,
        prepare_only=prepare_only,
        kernel_name=kernel_name,
        language=language,
        progress_bar=progress_bar,
        log_output=log_output,
        stdout_file=stdout_file,
        stderr_file=stderr_file,
        start_timeout=start_timeout,
        report_mode=report_mode,
        cwd=str(workdir.resolve()),
        autosave_cell_every=autosave_cell_every,
    )
    if execution_timeout is not None:
        call["execution_timeout"] = execution_timeout
    stdin = raw if str(notebook) == STDIO else None
    source = STDIO if stdin is not None else str(notebook)
    target = STDIO if to_stdout else str(out)
    if (
        prepare_only
    ):  # papermill writes the parameterized notebook; nothing runs, nothing is recorded
        with _stdin_holding(stdin), _quiet_papermill_duplicates():
            papermill.execute_notebook(source, _brace_escaped(target), **call)
        from mlnb.runs.external import draft, ended_record

        section = PipelineSection(
            notebook=str(notebook), output=target, params=checked, kernel=kernel_name
        )
        unstored = draft(
            run_name(notebook, tags),
            tags=["pipeline", "prepared"],
            provenance=provenance_of(section),
        )
        return ended_record(unstored, "finished"), None
    sha256, snapshot = lifecycle.store_snapshot(raw)
    section = PipelineSection(
        notebook=str(notebook),
        output=target,
        params=checked,
        seed=seed_value,
        kernel=kernel_name,
        cwd=str(workdir.resolve()),
        snapshot=str(snapshot) if snapshot else None,
        notebook_sha256=sha256,
        papermill={"parameters": checked, "version": papermill.__version__, "engine": engine},
        rerun_of=rerun_of,
    )
    begun = lifecycle.begin(section, tags, run_id)
    context = mlnb_engine.RunContext(
        record=begun,
        section=section,
        kind=KernelKind(kernel_name, section.cwd or ".", seed_value),
        kernels=kernels if kernels is not None else KernelSource(),
        kernelspec=kernelspec if kernel is not None else {},
        language=language or "python",
        timeout=timeout,
        execution_timeout=execution_timeout,
        start_retries=start_retries,
        prewarm_next=prewarm_next,
        stop_file=os.fspath(stop_file) if stop_file is not None else None,
    )
    if engine == ENGINE:
        call["mlnb_context"] = context
    failure: BaseException | None = None
    try:
        with _stdin_holding(stdin), _quiet_papermill_duplicates():
            papermill.execute_notebook(source, _brace_escaped(target), **call)
    except KeyboardInterrupt:
        context.settle("killed", "KeyboardInterrupt: interrupted (Ctrl-C)")
        lifecycle.conclude(context)
        raise
    except (KernelStartError, TimeoutError, RuntimeError) as exc:  # also DeadKernelError
        failure = exc
        context.settle("failed", f"{type(exc).__name__}: {shorten(str(exc), 200)}")
    except Exception as exc:
        from papermill.exceptions import PapermillExecutionError

        if not isinstance(exc, PapermillExecutionError):  # unexpected: record it, then surface
            context.settle("crashed", f"{type(exc).__name__}: {shorten(str(exc), 200)}")
            lifecycle.conclude(context)
            raise
        failure = exc
        context.settle("failed", f"{exc.ename}: {shorten(str(exc.evalue), 200)}")
    if engine != ENGINE:  # another engine: values and outcome read from what it wrote
        context.settle("finished")
        if not to_stdout and out.is_file():
            from mlnb.pipeline.record import read

            section.values.update(read(out))
    return lifecycle.conclude(context), failure


@contextlib.contextmanager
def _notebook_path(notebook: Any) -> Iterator[str | os.PathLike[str]]:
    """``notebook`` as a path: itself, or a NotebookNode written to a temporary file."""
    if isinstance(notebook, (str, os.PathLike)):
        yield notebook
        return
    if not isinstance(notebook, dict):
        raise InvalidArgumentError(
            f"execute_notebook takes a notebook path, '-' or a NotebookNode, got {type(notebook).__name__}."
        )
    import nbformat

    with tempfile.TemporaryDirectory(prefix="mlnb-notebook-") as folder:
        path = Path(folder) / "notebook.ipynb"
        nbformat.write(nbformat.from_dict(notebook), str(path))
        yield path


def execute_notebook(
    input_path: str | os.PathLike[str] | NotebookNode,
    output_path: str | os.PathLike[str],
    parameters: dict[str, Any] | None = None,
    engine_name: str | None = None,
    request_save_on_cell_execute: bool = True,
    prepare_only: bool = False,
    kernel_name: str | None = None,
    language: str | None = None,
    progress_bar: bool = True,
    log_output: bool = False,
    stdout_file: Any = None,
    stderr_file: Any = None,
    start_timeout: int = 60,
    report_mode: bool = False,
    cwd: str | os.PathLike[str] | None = None,
    **engine_kwargs: Any,
) -> NotebookNode:
    """``papermill.execute_notebook`` with mlnb's engine: the same keywords, defaults and
    return value (the executed notebook), and papermill's exceptions
    (``PapermillExecutionError`` for a failing cell), so code written for papermill works
    unchanged — and every run is seeded and recorded.

    ``cwd=None`` is the current folder, as with papermill. ``engine_kwargs`` take
    ``execution_timeout`` and ``autosave_cell_every`` (papermill's engine keywords), and
    mlnb's ``seed``, ``pin_seed``, ``strict``, ``timeout``, ``start_retries`` and ``tags``.
    ``input_path`` is a path, ``"-"`` (stdin) or a NotebookNode, as with papermill (a
    NotebookNode is run from a temporary copy; the run store keeps it by content hash).
    """
    import nbformat

    options: dict[str, Any] = {"autosave_cell_every": 30, **engine_kwargs}
    mlnb_options = {
        "seed": options.pop("seed", None),
        "timeout": options.pop("timeout", None),
        "execution_timeout": options.pop("execution_timeout", None),
        "start_retries": options.pop("start_retries", 2),
        "pin_seed": options.pop("pin_seed", True),
        "strict": options.pop("strict", False),
        "autosave_cell_every": options.pop("autosave_cell_every"),
        "tags": tuple(options.pop("tags", ())),
    }
    if options:  # before any kernel starts
        raise InvalidArgumentError(f"execute_notebook got unknown keyword {sorted(options)[0]!r}.")
    seed = mlnb_options.pop("seed")
    with _notebook_path(input_path) as path:
        record, failure = _execute(
            path,
            parameters,
            output_path,
            seed,
            kernel=kernel_name,
            language=language,
            cwd=os.getcwd() if cwd is None else cwd,
            start_timeout=start_timeout,
            engine=engine_name,
            prepare_only=prepare_only,
            report_mode=report_mode,
            request_save_on_cell_execute=request_save_on_cell_execute,
            progress_bar=progress_bar,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            raise_on_failure=False,
            rerun_of=None,
            kernels=None,
            prewarm_next=False,
            **mlnb_options,
        )
    if failure is not None:
        raise failure
    if record.status != "finished":
        raise run_error(record)
    output = section_of(record).output
    if output == STDIO:
        return None  # type: ignore[return-value]  # written to stdout, as papermill does
    return nbformat.read(output, as_version=4)


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
    if record.status in ("killed", "pruned"):
        return RunKilledError(
            f"{section.notebook} was stopped{cell}: {error}; the kernel is stopped and the output so far is in {where}.",
            record,
        )
    return RunCrashedError(
        f"the kernel running {section.notebook} died{cell} ({error}); the notebook as far as it got is in {where}.",
        record,
    )
