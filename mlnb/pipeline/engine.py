"""mlnb's papermill engine: papermill's nbclient engine plus run records and kernel control.

Registered in papermill's engine registry as ``"mlnb"`` — when this module is imported, and
through the ``papermill.engine`` entry point, so ``papermill --engine mlnb in.ipynb
out.ipynb`` uses it too. :func:`mlnb.pipeline.run.run` calls
``papermill.execute_notebook(..., engine_name="mlnb")``, so parameter injection, cell
execution, error marking and papermill's own metadata stay papermill's. On top:

* the run's seed is pinned in the kernel before the first cell by a *silent* execution
  (no cell is added and no execution count is used, so ``In [N]`` numbers are papermill's);
  the kernel also starts with ``PYTHONHASHSEED`` set;
* the output notebook's kernelspec is set to ``--kernel`` only when one was given;
* the notebook is saved when each cell starts and ends (and at most every
  ``autosave_cell_every`` seconds while a long cell prints), with the run record in
  ``metadata.mlnb.run``, so a killed or crashed run keeps everything up to the cell it was in;
* values shown by ``mlnb.record`` are collected into the record after each cell;
* the run's kernel comes from a :class:`~mlnb.pipeline.kernels.KernelSource` (a spare that is
  already booting, or a fresh one), a kernel that does not answer is replaced and retried;
* after a timeout or Ctrl-C the kernel is interrupted first, so the stopped cell keeps its
  ``KeyboardInterrupt`` output (as with papermill), then stopped — always, also after a
  crash — and nbclient's leftover tasks are cancelled, so nothing prints after mlnb's message;
* the outcome (finished, failed, killed, crashed, pruned; the exception and the cell) is written
  into the record before papermill raises its execution error;
* the kernel is told which run it executes (``MLNB_RUN_ID``/``MLNB_RUN_HOME``, set by a
  silent execution), so ``mlnb.log`` in the notebook writes to that run
  (:mod:`mlnb.runs.trial`);
* a run may be stopped on request (``RunContext.stop_file``, see :func:`request_stop`): when
  that file appears the cell running is marked, the outcome is the status the file names
  (``pruned`` for tuning), and the kernel is interrupted — killed if it does not stop within
  :data:`STOP_GRACE_SECONDS`; the output notebook keeps everything up to that cell.

Driven by papermill directly (no :class:`RunContext` passed), the engine begins and ends
the run record itself: seed from ``MLNB_SEED`` (else drawn), the input notebook's copy kept
in the run store.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

from mlnb.exceptions import KernelStartError
from mlnb.pipeline import lifecycle
from mlnb.pipeline.kernels import KernelKind, KernelSource, kernel_pid, stop_kernel
from mlnb.pipeline.parameters import cell_tags
from mlnb.pipeline.record import values_from_outputs
from mlnb.pipeline.section import METADATA_KEY, SECTION_KEY, PipelineSection
from mlnb.pipeline.seeding import seed_code
from mlnb.runs.external import ended_record
from mlnb.runs.records import RunRecord, new_run_id

if TYPE_CHECKING:
    from nbformat import NotebookNode

log = logging.getLogger(__name__)
# nbclient logs "Timeout waiting for execute reply" and "Kernel died" as errors; the run
# record and the one-sentence error already say so, so they stay out of stderr unless
# the application configures logging.
client_log = logging.getLogger("mlnb.pipeline.nbclient")
client_log.addHandler(logging.NullHandler())

ENGINE_NAME = "mlnb"
INJECTED_TAGS = ("injected-parameters",)
ERROR_TAG = "mlnb-error"
AUTOSAVE_SECONDS = 1
#: how long a stopped cell may take to report its KeyboardInterrupt before the kernel goes
INTERRUPT_GRACE_SECONDS = 3.0
#: how often the stop file is looked for, and how long an interrupted kernel has to stop
STOP_POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 10.0


def request_stop(path: str | os.PathLike[str], status: str, reason: str) -> None:
    """Ask the run watching ``path`` (its ``RunContext.stop_file``) to stop: it ends with
    ``status`` (``pruned``, ``killed``) and ``reason`` as its error. The file is written
    whole (a temporary file renamed), so the watcher never reads half of it."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"status": status, "reason": reason}), encoding="utf-8")
    os.replace(tmp, target)


def read_stop_request(path: str | os.PathLike[str]) -> tuple[str, str] | None:
    """``(status, reason)`` once :func:`request_stop` wrote ``path``, else None."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    from mlnb.runs.external import END_STATUSES

    status = data.get("status") if isinstance(data, dict) else None
    reason = str(data.get("reason") or "stopped on request") if isinstance(data, dict) else ""
    return (status if status in END_STATUSES else "killed"), reason


@dataclass
class RunContext:
    """Everything the engine needs beyond what papermill passes.

    Attributes:
        record: the run's record as begun (status ``running``).
        section: its pipeline section, which the engine fills in (values, failing cell).
        kind: which kernel to start (name, working directory, seed; seed None: not pinned).
        kernels: where kernels come from (fresh, or a warm spare).
        kernelspec: the output notebook's ``metadata.kernelspec`` (empty: kept as it is).
        language: the kernel's language (the seed is pinned in Python kernels only).
        timeout: whole-run limit in seconds (None: no limit).
        execution_timeout: per-cell limit in seconds (papermill's; None: no limit).
        start_retries: how often a kernel that does not answer is replaced.
        prewarm_next: whether to boot a spare kernel for a following run.
        owned: the engine began the record itself (papermill drove it), so it ends it too.
    """

    record: RunRecord
    section: PipelineSection
    kind: KernelKind
    kernels: KernelSource = field(default_factory=KernelSource)
    kernelspec: dict[str, Any] = field(default_factory=dict)
    language: str = "python"
    timeout: float | None = None
    execution_timeout: int | None = None
    start_retries: int = 2
    prewarm_next: bool = True
    owned: bool = False
    #: a file whose appearance stops the run (see :func:`request_stop`); None: never asked
    stop_file: str | None = None
    started: float = field(default_factory=time.monotonic)
    #: which limit the running cell is under: "run" or "cell"
    binding: str = "cell"
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

    def cell_timeout(self, cell: Any = None) -> int | None:
        """The limit for the next cell: the per-cell one or what is left of the run's."""
        left = self.remaining()
        if left is not None and (self.execution_timeout is None or left <= self.execution_timeout):
            self.binding = "run"
            return left
        self.binding = "cell"
        return self.execution_timeout

    def timeout_error(self) -> str:
        """Why a timed-out run stopped, naming the limit that fired."""
        if self.binding == "run" and self.timeout is not None:
            return f"TimeoutError: stopped after the {self.timeout:g} s timeout"
        return f"CellTimeoutError: a cell ran longer than the {self.execution_timeout} s execution timeout"


def standalone_context(
    nb: NotebookNode, kernel_name: str, input_path: Any, output_path: str | None
) -> RunContext:
    """The context of a run papermill drives itself (``papermill --engine mlnb``): the seed
    from ``MLNB_SEED`` (else drawn), the working directory papermill changed into, and a
    record begun in the run store."""
    import papermill

    from mlnb.seed import resolve_seed

    seed, _ = resolve_seed(None)
    notebook = str(input_path) if isinstance(input_path, (str, os.PathLike)) else ""
    sha256 = snapshot = None
    if notebook and notebook != "-" and Path(notebook).is_file():
        sha256, stored = lifecycle.store_snapshot(Path(notebook).read_bytes())
        snapshot = str(stored) if stored else None
    params = dict(nb.metadata.get("papermill", {}).get("parameters") or {})
    language = _language(nb)
    section = PipelineSection(
        notebook=notebook,
        output=output_path or "",
        params=params,
        seed=seed,
        kernel=kernel_name,
        cwd=os.getcwd(),
        snapshot=snapshot,
        notebook_sha256=sha256,
        papermill={"parameters": params, "version": papermill.__version__, "engine": ENGINE_NAME},
    )
    record = lifecycle.begin(section, [], new_run_id(), required=False)
    return RunContext(
        record, section, KernelKind(kernel_name, os.getcwd(), seed), language=language, owned=True
    )


def _language(nb: NotebookNode) -> str:
    metadata = nb.get("metadata", {})
    return str(
        metadata.get("language_info", {}).get("name")
        or metadata.get("kernelspec", {}).get("language")
        or "python"
    )


def prepare_notebook(nb: NotebookNode, context: RunContext) -> None:
    """Set the kernelspec when ``--kernel`` asked for it (else the notebook's is kept)."""
    if context.kernelspec:
        nb.metadata["kernelspec"] = dict(context.kernelspec)


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
        #: set by the stop watcher: no further cell starts
        self.stop_requested = False

    def save(self, **kwargs: Any) -> None:
        self.nb.metadata.setdefault(METADATA_KEY, {})["run"] = self.context.current().to_dict()
        super().save(**kwargs)

    def cell_start(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        if self.stop_requested:  # asked to stop between cells: papermill stops here
            from nbclient.exceptions import CellExecutionError

            raise CellExecutionError("", "StopRequested", "the run was asked to stop")
        self.current_index = cell_index
        super().cell_start(cell, cell_index, **kwargs)

    def cell_complete(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        self.context.section.values.update(values_from_outputs(cell.get("outputs", [])))
        super().cell_complete(cell, cell_index, **kwargs)

    def current_cell(self) -> Any:
        """The cell running (or last run), if any."""
        if self.current_index is None or self.current_index >= len(self.nb.cells):
            return None
        return self.nb.cells[self.current_index]

    def stop(self, status: str, error: str) -> None:
        """End the run as killed/crashed/pruned in the cell that was running, and mark that
        cell (with the first outcome settled: a pruned run whose kernel is then killed stays
        pruned)."""
        self.context.settle(status, error)
        if self.current_index is not None and self.context.outcome is not None:
            self._mark(self.current_index, self.context.outcome[0])

    def conclude_from_outputs(self) -> None:
        """Finished or failed, read from the outputs as papermill does (``sys.exit(0)`` is fine)."""
        for index, cell in enumerate(self.nb.cells):
            exited = False
            for output in cell.get("outputs", []):
                if output.get("output_type") != "error":
                    continue
                if output.get("ename") == "SystemExit" and output.get("evalue") in ("", "0"):
                    exited = True
                    continue
                self._mark(index, "failed")
                self.context.settle("failed", f"{output.ename}: {output.evalue}")
                return
            failed = cell.get("metadata", {}).get("papermill", {}).get("exception") is True
            if failed and not exited:
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
        context = mlnb_context
        if context is None:  # papermill drives the engine itself: record the run here
            context = standalone_context(nb, kernel_name, kwargs.get("input_path"), output_path)
            context.execution_timeout = kwargs.get("execution_timeout")
        prepare_notebook(nb, context)
        manager = RecordingExecutionManager(
            nb,
            context,
            output_path=output_path,
            progress_bar=progress_bar,
            log_output=log_output,
            autosave_cell_every=autosave_cell_every,
        )
        manager.notebook_start()
        try:
            cls.execute_managed_notebook(
                manager, kernel_name, log_output=log_output, mlnb_context=context, **kwargs
            )
        except CellTimeoutError:
            manager.stop("killed", context.timeout_error())
            raise
        except DeadKernelError:
            manager.stop("crashed", "DeadKernelError: the kernel died (out of memory?)")
            raise
        except KeyboardInterrupt:
            manager.stop("killed", "KeyboardInterrupt: interrupted (Ctrl-C)")
            raise
        except KernelStartError as exc:
            context.settle("crashed", f"KernelStartError: {exc}")
            raise
        finally:
            manager.cleanup_pbar()
            if context.outcome is None:
                manager.conclude_from_outputs()
            manager.notebook_complete()
            if context.owned:
                context.section.output = output_path or context.section.output
                lifecycle.conclude(context)
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
        if execution_timeout is not None:
            context.execution_timeout = execution_timeout
        kwargs.pop("input_path", None)
        kwargs.pop("timeout", None)
        kwargs.pop("startup_timeout", None)
        client_options = dict(
            kwargs,
            timeout_func=context.cell_timeout,
            shell_timeout_interval=1,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=client_log,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        client, km = cls._ready_client(nb_man, context, client_options)
        done = threading.Event()
        try:
            if context.kind.seed is not None:
                _pin_seed(client, context)
            if not context.owned:
                _expose_run(client, context)
            if context.stop_file is not None:
                threading.Thread(
                    target=_watch_stop, args=(context, nb_man, km, done), daemon=True
                ).start()
            return client.execute()
        except (CellTimeoutError, KeyboardInterrupt):
            _keep_interrupt(client, km, nb_man.current_cell())
            raise
        finally:
            done.set()
            _cancel_leftovers()
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


def _pin_seed(client: Any, context: RunContext) -> None:
    """Run the seed code silently: no cell, no output, no execution count used."""
    if not context.language.lower().startswith("python"):
        log.warning(
            "mlnb: the seed is pinned in Python kernels only; this %s kernel is left alone.",
            context.language,
        )
        context.section.seed = None
        return
    from jupyter_core.utils import ensure_async, run_sync

    seed = context.kind.seed
    assert seed is not None

    async def pin() -> Any:
        msg_id = await ensure_async(
            client.kc.execute(seed_code(seed), silent=True, store_history=False)
        )
        return await client.async_wait_for_reply(msg_id)

    reply = run_sync(pin)()
    content = (reply or {}).get("content", {})
    if content.get("status") != "ok":
        log.warning(
            "mlnb: pinning seed %s failed in the kernel: %s: %s",
            seed,
            content.get("ename"),
            content.get("evalue"),
        )


def _silent(client: Any, code: str) -> dict[str, Any]:
    """Run ``code`` in the kernel silently (no cell, no output, no execution count used)."""
    from jupyter_core.utils import ensure_async, run_sync

    async def execute() -> Any:
        msg_id = await ensure_async(client.kc.execute(code, silent=True, store_history=False))
        return await client.async_wait_for_reply(msg_id)

    reply = run_sync(execute)()
    return dict((reply or {}).get("content", {}))


def _expose_run(client: Any, context: RunContext) -> None:
    """Tell a Python kernel which run it executes, so ``mlnb.log`` writes there."""
    if not context.language.lower().startswith("python"):
        return
    from mlnb.runs.database import default_home
    from mlnb.runs.trial import exposure_code

    content = _silent(client, exposure_code(context.record.id, str(default_home())))
    if content.get("status") != "ok":
        log.warning("mlnb: cannot name the run in the kernel: %s", content.get("evalue"))


def _watch_stop(context: RunContext, manager: Any, km: Any, done: threading.Event) -> None:
    """Stop the run when its stop file appears: settle the outcome, mark the cell running,
    interrupt the kernel (the cell fails with KeyboardInterrupt and papermill stops there),
    and kill the kernel if it has not stopped after :data:`STOP_GRACE_SECONDS`."""
    assert context.stop_file is not None
    while not done.wait(STOP_POLL_SECONDS):
        request = read_stop_request(context.stop_file)
        if request is None:
            continue
        status, reason = request
        manager.stop_requested = True
        manager.stop(status, reason)
        pid = kernel_pid(km)
        if pid is None:
            return
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGINT)
        if not done.wait(STOP_GRACE_SECONDS):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        return


def _keep_interrupt(client: Any, km: Any, cell: Any) -> None:
    """Interrupt the kernel and let the stopped cell receive its ``KeyboardInterrupt`` output
    (papermill's cell holds it too), for at most :data:`INTERRUPT_GRACE_SECONDS`."""
    from jupyter_core.utils import ensure_async, run_sync

    async def interrupt_and_wait() -> None:
        pending = _nbclient_tasks()  # the stopped cell's tasks, which may end while we wait
        try:
            await ensure_async(km.interrupt_kernel())
        except Exception:  # a dead kernel cannot be interrupted: nothing will arrive
            pending = []
        deadline = time.monotonic() + INTERRUPT_GRACE_SECONDS
        while pending and time.monotonic() < deadline:
            outputs = cell.get("outputs", []) if cell is not None else []
            if any(o.get("output_type") == "error" for o in outputs):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.05)  # the rest of the message (idle) after the error
        await _cancel(pending)  # collects the results of those that ended, too

    try:
        run_sync(interrupt_and_wait)()
    except BaseException as exc:  # a second Ctrl-C: stop waiting, the kernel goes anyway
        log.debug("mlnb: waiting for the interrupted cell stopped: %r", exc)


def _nbclient_tasks() -> list[asyncio.Task[Any]]:
    """nbclient's pending tasks on the running loop (a cell, its output and reply polls)."""
    current = asyncio.current_task()
    return [
        task
        for task in asyncio.all_tasks()
        if task is not current
        and getattr(task.get_coro(), "__qualname__", "").startswith("NotebookClient.")
    ]


async def _cancel(tasks: list[asyncio.Task[Any]]) -> None:
    """Cancel the tasks still running and collect every result, so none is logged as lost."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _cancel_leftovers() -> None:
    """Cancel nbclient's tasks a timeout or Ctrl-C left pending, and collect their results,
    so asyncio never prints "Task exception was never retrieved" after mlnb's message."""
    from jupyter_core.utils import run_sync

    async def cancel() -> None:
        await _cancel(_nbclient_tasks())

    try:
        run_sync(cancel)()
    except BaseException as exc:  # never let cleanup replace the run's own outcome
        log.debug("mlnb: cancelling nbclient's tasks failed: %r", exc)


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
