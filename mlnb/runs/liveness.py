"""Is the process that writes a ``running`` run still alive? If not, the run ``crashed``.

A writer stores its pid, the pid's start time and the host, and refreshes a
heartbeat at every flush (at least once a second). A reader on the same host
checks the pid (and that it is the same process, not a reused pid); a reader on
another host only has the heartbeat, and calls the run crashed once it is older
than :data:`STALE_AFTER` seconds.
"""

from __future__ import annotations

import os
import socket
import time

import psutil

#: seconds without a heartbeat after which a run written on another host counts as crashed
STALE_AFTER = 120.0
_HOST = socket.gethostname()


def host() -> str:
    """This machine's host name, as stored with each run."""
    return _HOST


def process_start_time(pid: int | None = None) -> float | None:
    """When process ``pid`` (default: this one) started, as Unix time; None if unknown."""
    try:
        return psutil.Process(pid or os.getpid()).create_time()
    except (psutil.Error, OSError):
        return None


def dead_reason(
    pid: int | None, pid_started: float | None, run_host: str | None, heartbeat: float | None
) -> str | None:
    """Why a ``running`` run's writer is gone, or None while it may still be alive."""
    beat = (
        f"; last heartbeat {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(heartbeat))}"
        if heartbeat
        else ""
    )
    if run_host == _HOST and pid is not None:
        if _alive(pid, pid_started):
            return None
        return f"the process that logged it (pid {pid} on {run_host}) ended without finishing the run{beat}."
    if heartbeat is not None and time.time() - heartbeat > STALE_AFTER:
        return f"no heartbeat from {run_host or 'its host'} for over {STALE_AFTER:.0f} s{beat}."
    return None


def _alive(pid: int, pid_started: float | None) -> bool:
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        started = process.create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except (psutil.Error, OSError):  # no permission to look: assume it is alive
        return True
    return pid_started is None or abs(started - pid_started) < 1.0
