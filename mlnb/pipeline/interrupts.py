"""After a timeout or Ctrl-C: keep the stopped cell's ``KeyboardInterrupt`` and tidy asyncio.

The kernel is interrupted first, so the stopped cell receives its ``KeyboardInterrupt``
output (as with papermill); then nbclient's leftover tasks are cancelled and their
results collected, so nothing prints after mlnb's own message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

log = logging.getLogger(__name__)

#: how long a stopped cell may take to report its KeyboardInterrupt before the kernel goes
INTERRUPT_GRACE_SECONDS = 3.0


def keep_interrupt(client: Any, km: Any, cell: Any) -> None:
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


def cancel_leftovers() -> None:
    """Cancel nbclient's tasks a timeout or Ctrl-C left pending, and collect their results,
    so asyncio never prints "Task exception was never retrieved" after mlnb's message."""
    from jupyter_core.utils import run_sync

    async def cancel() -> None:
        await _cancel(_nbclient_tasks())

    try:
        run_sync(cancel)()
    except BaseException as exc:  # never let cleanup replace the run's own outcome
        log.debug("mlnb: cancelling nbclient's tasks failed: %r", exc)
