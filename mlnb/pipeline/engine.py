"""mlnb's papermill engine: papermill's nbclient engine plus run records and kernel control.

Registered in papermill's engine registry as ``"mlnb"``; :func:`mlnb.pipeline.run`
calls ``papermill.execute_notebook(..., engine_name="mlnb")``, so parameter
injection, cell execution and papermill's own metadata stay papermill's. On top:

* the output notebook's kernelspec is set to the kernel that runs it (``--kernel``);
* a cell tagged ``mlnb-injected-seed`` pins the run's seed after the parameters;
* the notebook is saved when each cell starts and ends (and at most every second
  while a long cell prints), with the run record in ``metadata.mlnb.run``, so a
  killed or crashed run keeps everything up to the cell it was in;
* values shown by ``mlnb.record`` are collected into the record after each cell;
* the run's kernel comes from a :class:`~mlnb.pipeline.kernels.KernelSource` (a
  spare that is already booting, or a fresh one), a kernel that does not answer is
  replaced and retried, and the kernel is always stopped at the end — after a
  timeout, Ctrl-C or a crash too;
* the outcome (finished, failed, killed, crashed; the exception and the cell) is
  written into the record before papermill raises its execution error.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

from mlnb.exceptions import KernelStartError
from mlnb.pipeline.kernels import KernelKind, KernelSource, stop_kernel
from mlnb.pipeline.parameters import cell_tags
from mlnb.pipeline.record import values_from_outputs
from mlnb.pipeline.section import METADATA_KEY, SECTION_KEY, PipelineSection
from mlnb.pipeline.seeding import SEED_CELL_TAG, seed_cell_source
from mlnb.runs.external import draft, ended_record
from mlnb.runs.records import RunRecord

if TYPE_CHECKING:
    from nbformat import NotebookNode

log = logging.getLogger(__name__)
# nbclient logs "Timeout waiting for execute reply" and "Kernel died" as errors; the run
# record and the one-sentence error already say so, so they stay out of stderr unless
# the application configures logging.
client_log = logging.getLogger("mlnb.pipeline.nbclient")
client_log.addHandler(logging.NullHandler())

ENGINE_NAME = "mlnb"
INJECTED_TAGS = ("injected-parameters", SEED_CELL_TAG)
ERROR_TAG = "mlnb-error"
AUTOSAVE_SECONDS = 1


@dataclass
class RunContext:
    """Everything the engine needs beyond what papermill passes.

    Attributes:
        record: the run's record as begun (status ``running``).
        section: its pipeline section, which the engine fills in (values, failing cell).
        kind: which kernel to start (name, working directory, seed).
        kernels: where kernels come from (fresh, or a warm spare).
        kernelspec: the output notebook's ``metadata.kernelspec``.
        timeout: whole-run limit in seconds (None: no limit).
        start_retries: how often a kernel that does not answer is replaced.
        prewarm_next: whether to boot a spare kernel for a following run.
    """

    record: RunRecord
    section: PipelineSection
    kind: KernelKind
    kernels: KernelSource = field(default_factory=KernelSource)
    kernelspec: dict[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    start_retries: int = 2
    prewarm_next: bool = True
    started: float = field(default_factory=time.monotonic)
    #: how the run ended, ``(status, error)``, once known (the first outcome settled wins)
    outcome: tuple[str, str | None] | None = None

    def settle(self, status: str, error: str | None = None) -> None:
        """Record how the run ended, unless an earlier, more exact outcome was recorded."""
        if self.outcome is None:
            self.outcome = (status, error)

    def current(self) -> RunRecord:
        """The record as it stands now, with the section filled in so far."""
        provenance = {SECTION_KEY: self.section.to_dict()}
        if self.outcome is None:
            return dataclasses.replace(
                self.record, provenance={**self.record.provenance, **provenance}
            )
        status, error = self.outcome
        return ended_record(self.record, status, error=error, provenance=provenance)

    def remaining(self) -> int | None:
        """Seconds left before the whole-run timeout (at least 1), or None."""
        if self.timeout is None:
            return None
        return max(1, int(self.timeout - (time.monotonic() - self.started) + 0.999))


def prepare_notebook(nb: NotebookNode, context: RunContext) -> None:
    """Set the kernelspec and insert the seed cell after papermill's parameters."""
    if context.kernelspec:
        nb.metadata["kernelspec"] = dict(context.kernelspec)
    nb.cells = [c for c in nb.cells if SEED_CELL_TAG not in cell_tags(c)]
    if context.kind.seed is None:
        return
    cell = nbformat.v4.new_code_cell(seed_cell_source(context.kind.seed))
    cell.metadata["tags"] = [SEED_CELL_TAG]
    position = 0
    for index, existing in enumerate(nb.cells):
        tags = cell_tags(existing)
        if "injected-parameters" in tags:
            position = index + 1
            break
        if "parameters" in tags:
            position = index + 1
    nb.cells.insert(position, cell)


def input_cell_index(nb: NotebookNode, output_index: int) -> int:
    """The index in the input notebook of the output notebook's cell ``output_index``."""
    injected = sum(
        1
        for cell in nb.cells[:output_index]
        if any(tag in cell_tags(cell) for tag in INJECTED_TAGS)
    )
    return output_index - injected


class RecordingExecutionManager(NotebookExecutionManager):
    """Papermill's execution manager that keeps the run record in the notebook as it runs."""

    def __init__(self, nb: NotebookNode, context: RunContext, **kwargs: Any) -> None:
        super().__init__(nb, **kwargs)
        self.context = context
        self.current_index: int | None = None

    def save(self, **kwargs: Any) -> None:
        self.nb.metadata.setdefault(METADATA_KEY, {})["run"] = self.context.current().to_dict()
        super().save(**kwargs)

    def cell_start(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        self.current_index = cell_index
        super().cell_start(cell, cell_index, **kwargs)

    def cell_complete(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        self.context.section.values.update(values_from_outputs(cell.get("outputs", [])))
        super().cell_complete(cell, cell_index, **kwargs)

    def stop(self, status: str, error: str) -> None:
        """End the run as killed/crashed in the cell that was running, and mark that cell."""
        if self.current_index is not None:
            self._mark(self.current_index, status)
        self.context.settle(status, error)

    def conclude_from_outputs(self) -> None:
        """Finished or failed, read from the outputs as papermill does (``sys.exit(0)`` is fine)."""
        for index, cell in enumerate(self.nb.cells):
            for output in cell.get("outputs", []):
                if output.get("output_type") != "error":
                    continue
                if output.get("ename") == "SystemExit" and output.get("evalue") in ("", "0"):
                    self.context.settle("finished")
                    return
                self._mark(index, "failed")
                self.context.settle("failed", f"{output.ename}: {output.evalue}")
                return
            if cell.get("metadata", {}).get("papermill", {}).get("exception") is True:
                self._mark(index, "failed")
                self.context.settle("failed", _stderr_error(cell))
                return
        self.context.settle("finished")

    def _mark(self, index: int, status: str) -> None:
        cell = self.nb.cells[index]
        cell.metadata.setdefault(METADATA_KEY, {})["status"] = status
        tags = cell.metadata.setdefault("tags", [])
        if ERROR_TAG not in tags:
            tags.append(ERROR_TAG)
        self.context.section.cell_index = input_cell_index(self.nb, index)
        self.context.section.execution_count = cell.get("execution_count")


class MlnbEngine(NBClientEngine):
    """Papermill's nbclient engine with run records, seed pinning and kernel control."""

    @classmethod
    def execute_notebook(
        cls,
        nb: NotebookNode,
        kernel_name: str,
        output_path: str | None = None,
        progress_bar: bool = True,
        log_output: bool = False,
        autosave_cell_every: int = AUTOSAVE_SECONDS,
        mlnb_context: RunContext | None = None,
        **kwargs: Any,
    ) -> Any:
        if mlnb_context is None:  # used by name without mlnb.pipeline.run: a plain context
            record = draft("papermill", tags=["pipeline"])
            section = PipelineSection(notebook="", output=output_path or "", kernel=kernel_name)
            mlnb_context = RunContext(record, section, KernelKind(kernel_name, ".", None))
        prepare_notebook(nb, mlnb_context)
        manager = RecordingExecutionManager(
            nb,
            mlnb_context,
            output_path=output_path,
            progress_bar=progress_bar,
            log_output=log_output,
            autosave_cell_every=autosave_cell_every,
        )
        manager.notebook_start()
        try:
            cls.execute_managed_notebook(
                manager, kernel_name, log_output=log_output, mlnb_context=mlnb_context, **kwargs
            )
        except CellTimeoutError:
            manager.stop(
                "killed", f"TimeoutError: stopped after the {mlnb_context.timeout:g} s timeout"
            )
            raise
        except DeadKernelError:
            manager.stop("crashed", "DeadKernelError: the kernel died (out of memory?)")
            raise
        except KeyboardInterrupt:
            manager.stop("killed", "KeyboardInterrupt: interrupted (Ctrl-C)")
            raise
        except KernelStartError as exc:
            mlnb_context.settle("crashed", f"KernelStartError: {exc}")
            raise
        finally:
            manager.cleanup_pbar()
            if mlnb_context.outcome is None:
                manager.conclude_from_outputs()
            manager.notebook_complete()
        return manager.nb

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        mlnb_context: RunContext | None = None,
        **kwargs: Any,
    ) -> Any:
        assert mlnb_context is not None
        context = mlnb_context
        kwargs.pop("input_path", None)
        kwargs.pop("timeout", None)
        kwargs.pop("startup_timeout", None)
        client_options = dict(
            kwargs,
            timeout=execution_timeout,
            timeout_func=(lambda cell: context.remaining()) if context.timeout else None,
            shell_timeout_interval=1,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=client_log,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        client, km = cls._ready_client(nb_man, context, client_options)
        try:
            return client.execute()
        finally:
            if client.kc is not None:
                try:
                    client.kc.stop_channels()
                except Exception:  # channels of a dead kernel may already be closed
                    pass
            stop_kernel(km)

    @classmethod
    def _ready_client(
        cls, nb_man: Any, context: RunContext, options: dict[str, Any]
    ) -> tuple[Any, Any]:
        """A client connected to a kernel that answered, retrying kernels that do not."""
        attempts = context.start_retries + 1
        last_error: BaseException | None = None
        for attempt in range(1, attempts + 1):
            km = context.kernels.acquire(context.kind, prewarm_next=context.prewarm_next)
            client = PapermillNotebookClient(nb_man, km=km, **options)
            try:
                client.start_new_kernel_client()
                return client, km
            except Exception as exc:  # "Kernel didn't respond in 60 seconds", a port race, ...
                last_error = exc
                stop_kernel(km)
                log.warning("mlnb: kernel start %d of %d failed: %s", attempt, attempts, exc)
        raise KernelStartError(
            f"the {context.kind.name} kernel did not start after {attempts} tries (last: {last_error})."
        )


papermill_engines.register(ENGINE_NAME, MlnbEngine)


def _stderr_error(cell: Any) -> str:
    """Why a cell with no error output failed: IPython prints a ``UsageError`` (a magic's
    one-sentence error) to stderr instead of sending an error message."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            for line in reversed(str(output.get("text", "")).strip().splitlines()):
                if line.startswith("UsageError: "):
                    return line
    return "CellExecutionError: the cell did not finish"
