"""Restart and run all: a notebook's code cells, top to bottom, in a new kernel (nbclient).

:func:`fresh_run` runs a copy of the notebook (the file is never touched) in the
notebook's folder. Before the first cell it runs, silently, the I/O audit hook
(:mod:`mlnb.checking.io_audit`) and, given a seed, mlnb's seed pinning; after the last
it collects the files seen. Every cell runs even after an error (as the saved
notebook may show errors too). How the run ended is in :class:`FreshRun`: finished,
``timeout`` (the cell that was running when the notebook's time was up) or ``died``
(the cell during which the kernel died).
"""

from __future__ import annotations

import copy
import os
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlnb import config
from mlnb.checking import io_audit
from mlnb.pipeline.parameters import source_text

if TYPE_CHECKING:
    from nbformat import NotebookNode

FINISHED = "finished"
TIMEOUT = "timeout"
DIED = "died"
DEFAULT_TIMEOUT = 600.0
START_TIMEOUT = 120


@dataclass
class FreshRun:
    """One fresh run: each code cell's outputs by cell index, the files, how it ended."""

    outputs: dict[int, list[Any]] = field(default_factory=dict)
    io_outputs: list[Any] = field(default_factory=list)
    status: str = FINISHED
    stopped_at: int | None = None  # the cell index a timeout or a dead kernel stopped at
    seed: int | None = None
    seconds: float = 0.0


def _setup_code(seed: int | None, audit: bool) -> str:
    """The audit hook and the seed pinning, run silently before the first cell."""
    from mlnb.pipeline.seeding import seed_code

    parts = [io_audit.install_code() if audit else "", seed_code(seed) if seed is not None else ""]
    return "\n".join(part for part in parts if part)


def _kernel_manager(kernel: str) -> Any:
    """A kernel manager on IPC sockets where there are (no ports to race for, no TCP warning)."""
    from jupyter_client.manager import AsyncKernelManager

    from mlnb.pipeline.kernels import TRANSPORT

    options: dict[str, Any] = {"kernel_name": kernel, "transport": TRANSPORT}
    if TRANSPORT == "ipc":
        options["ip"] = os.path.join(tempfile.gettempdir(), f"mlnb-check-{uuid.uuid4().hex[:12]}")
    return AsyncKernelManager(**options)


def fresh_run(
    nb: NotebookNode,
    *,
    cwd: str,
    kernel: str = "python3",
    seed: int | None = None,
    timeout: float | None = None,
    audit: bool = True,
) -> FreshRun:
    """Run every code cell of (a copy of) ``nb`` in a new kernel, in ``cwd``.

    Args:
        nb: the notebook (not changed).
        cwd: the folder the kernel works in (the notebook's own, usually).
        kernel: the kernel name.
        seed: pin this seed before the first cell (and set ``PYTHONHASHSEED``), or None.
        timeout: seconds for the whole notebook; the cell running when they are up is reported.
        audit: record the files the notebook opens.

    Raises:
        KernelStartError: the kernel did not start.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    started = time.perf_counter()
    result = FreshRun(seed=seed)
    work = copy.deepcopy(nb)
    count = len(work.cells)
    setup_cell, report_cell = _add_setup_and_report_cells(work, seed, audit)
    budget = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    client = _client(work, kernel, cwd, budget)
    manager = _start_kernel(client, kernel, seed)
    try:
        if setup_cell.source:
            client.execute_cell(setup_cell, count, store_history=False)
        _run_code_cells(client, work.cells[:count], result, deadline=started + budget)
        if audit:
            client.timeout = 60
            client.execute_cell(report_cell, count + 1, store_history=False)
            result.io_outputs = list(report_cell.outputs)
    except CellTimeoutError:
        result.status = TIMEOUT
    except DeadKernelError:
        result.status = DIED
    finally:
        _stop_kernel(manager)
    result.seconds = time.perf_counter() - started
    return result


def _add_setup_and_report_cells(
    work: NotebookNode, seed: int | None, audit: bool
) -> tuple[Any, Any]:
    """Append the setup cell (audit hook, seed) and the I/O report cell to ``work``.

    nbclient writes each executed cell back at its index: these two get indices of their
    own, after the notebook's cells.
    """
    import nbformat

    setup_cell = nbformat.v4.new_code_cell(_setup_code(seed, audit))
    report_cell = nbformat.v4.new_code_cell(io_audit.report_code())
    work.cells = [*work.cells, setup_cell, report_cell]
    return setup_cell, report_cell


def _client(work: NotebookNode, kernel: str, cwd: str, budget: float) -> Any:
    """An nbclient client for ``work`` that runs every cell, errors or not, in ``cwd``."""
    from nbclient import NotebookClient

    client = NotebookClient(
        work,
        timeout=int(max(1, budget)),
        startup_timeout=START_TIMEOUT,
        kernel_name=kernel,
        allow_errors=True,
        record_timing=False,
        resources={"metadata": {"path": cwd}},
    )
    client.km = _kernel_manager(kernel)
    return client


def _start_kernel(client: Any, kernel: str, seed: int | None) -> Any:
    """Start the client's kernel (``PYTHONHASHSEED`` and mlnb's seed set given a seed).

    Returns:
        The context manager that stops the kernel on exit.

    Raises:
        KernelStartError: the kernel did not start.
    """
    from mlnb.exceptions import KernelStartError

    env = dict(os.environ)
    if seed is not None:
        env["PYTHONHASHSEED"] = str(seed)
        env[config.SEED.env] = str(seed)
    try:
        manager = client.setup_kernel(env=env)
        manager.__enter__()
    except Exception as exc:
        raise KernelStartError(f"the {kernel!r} kernel did not start: {exc}") from None
    return manager


def _run_code_cells(client: Any, cells: list[Any], result: FreshRun, *, deadline: float) -> None:
    """Run the non-empty code cells in order, each with the time left before ``deadline``.

    ``result.stopped_at`` is the cell running, so a timeout or a dead kernel leaves it
    pointing there; it is None again once every cell ran.
    """
    from nbclient.exceptions import CellTimeoutError

    for index, cell in enumerate(cells):
        if cell.cell_type != "code" or not source_text(cell).strip():
            continue
        result.stopped_at = index
        left = deadline - time.perf_counter()
        if left <= 0:
            raise CellTimeoutError("out of time")
        client.timeout = max(1, int(left + 0.999))
        cell.outputs = []
        client.execute_cell(cell, index)
        result.outputs[index] = list(cell.outputs)
    result.stopped_at = None


def _stop_kernel(manager: Any) -> None:
    """Stop the kernel; one that died may fail to shut down cleanly, which is fine."""
    try:
        manager.__exit__(None, None, None)
    except Exception:  # a dead kernel may fail to shut down cleanly
        pass
