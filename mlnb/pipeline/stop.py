"""Stopping a run on request: a stop file written by one process, watched by the engine.

``mlnb tune --prune`` (and anything else) asks a running notebook to stop by writing a
small JSON file (:func:`request_stop`); the engine's watcher thread (:func:`watch_stop`)
sees it, settles the run's outcome, marks the cell running and interrupts the kernel —
killing it if it does not stop within :data:`STOP_GRACE_SECONDS`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlnb.pipeline.kernels import kernel_pid

if TYPE_CHECKING:
    from mlnb.pipeline.context import RunContext

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


def watch_stop(context: RunContext, manager: Any, km: Any, done: threading.Event) -> None:
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
