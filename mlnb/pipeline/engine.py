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

import logging
import threading
from typing import TYPE_CHECKING, Any

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines

from mlnb.exceptions import KernelStartError
from mlnb.pipeline import lifecycle
from mlnb.pipeline.context import ENGINE_NAME, RunContext, standalone_context
from mlnb.pipeline.interrupts import cancel_leftovers, keep_interrupt
from mlnb.pipeline.kernel_calls import expose_run, pin_seed
from mlnb.pipeline.kernels import stop_kernel
from mlnb.pipeline.recording import RecordingExecutionManager, prepare_notebook
from mlnb.pipeline.stop import read_stop_request, request_stop, watch_stop

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = [
    "ENGINE_NAME",
    "MlnbEngine",
    "RunContext",
    "read_stop_request",
    "request_stop",
    "standalone_context",
]

log = logging.getLogger(__name__)
# nbclient logs "Timeout waiting for execute reply" and "Kernel died" as errors; the run
# record and the one-sentence error already say so, so they stay out of stderr unless
# the application configures logging.
client_log = logging.getLogger("mlnb.pipeline.nbclient")
client_log.addHandler(logging.NullHandler())

AUTOSAVE_SECONDS = 1


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
                pin_seed(client, context)
            if not context.owned:
                expose_run(client, context)
            if context.stop_file is not None:
                threading.Thread(
                    target=watch_stop, args=(context, nb_man, km, done), daemon=True
                ).start()
            return client.execute()
        except (CellTimeoutError, KeyboardInterrupt):
            keep_interrupt(client, km, nb_man.current_cell())
            raise
        finally:
            done.set()
            cancel_leftovers()
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
            km = context.kernels.acquire(
                context.kind, prewarm_next=context.prewarm_next, imports=context.imports
            )
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
