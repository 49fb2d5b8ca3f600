"""Host RAM: the machine's memory (psutil) and this process's resident size and peak.

The per-cell peak uses Linux's resettable high-water mark: writing ``5`` to
``/proc/self/clear_refs`` resets ``VmHWM`` in ``/proc/self/status`` to the current
resident size, so the peak over a cell is read exactly, with no sampling thread.
Both files stay open and are re-read with ``pread`` (a few microseconds).
Elsewhere the peak falls back to ``ru_maxrss`` (the process-lifetime maximum),
which catches a cell's peak only when it beats every earlier one.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import sys
from dataclasses import dataclass

from mlnb.gpu.backends import BaseBackend
from mlnb.gpu.backends.records import DeviceStatus

_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


@dataclass(frozen=True)
class ProcessMemory:
    """This process's resident memory now and its peak since the last reset."""

    rss: int
    peak: int
    exact_peak: bool


_HWM = re.compile(rb"VmHWM:\s+(\d+) kB")
_RSS = re.compile(rb"VmRSS:\s+(\d+) kB")


class _ProcFiles:
    """``/proc/self/status`` and ``clear_refs`` kept open and re-read with ``pread``.

    Opening a /proc file costs tens of microseconds; re-reading an open one costs a
    few, which is what keeps per-cell tracking far below a millisecond. Reopened
    after a fork (the files belong to the process that opened them).
    """

    def __init__(self) -> None:
        self.pid = -1
        self.status_fd: int | None = None
        self.clear_fd: int | None = None

    def _open(self) -> None:
        self.close()
        self.pid = os.getpid()
        try:
            self.status_fd = os.open(_STATUS, os.O_RDONLY)
        except OSError:
            self.status_fd = None
        try:
            self.clear_fd = os.open(_CLEAR_REFS, os.O_WRONLY)
        except OSError:
            self.clear_fd = None

    def close(self) -> None:
        for fd in (self.status_fd, self.clear_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.status_fd = self.clear_fd = None

    def status(self) -> tuple[int, int] | None:
        """``(rss, hwm)`` in bytes, None where /proc is missing."""
        if self.pid != os.getpid():
            self._open()
        if self.status_fd is None:
            return None
        try:
            text = os.pread(self.status_fd, 8192, 0)
        except OSError:
            return None
        rss, hwm = _RSS.search(text), _HWM.search(text)
        if rss is None or hwm is None:
            return None
        return int(rss.group(1)) * 1024, int(hwm.group(1)) * 1024

    def reset_peak(self) -> bool:
        """Reset VmHWM to the current RSS; False where the kernel does not allow it."""
        if self.pid != os.getpid():
            self._open()
        if self.clear_fd is None:
            return False
        try:
            os.write(self.clear_fd, b"5")
        except OSError:
            return False
        return True


_proc = _ProcFiles()


def _maxrss() -> int:
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024  # bytes on macOS, KiB on Linux


class PeakMeter:
    """Resident memory and its peak between :meth:`reset` and :meth:`read`."""

    def __init__(self) -> None:
        self.resettable = _proc.status() is not None and _proc.reset_peak()

    def reset(self) -> ProcessMemory:
        """Start a new peak window; returns the memory at its start."""
        if self.resettable:
            self.resettable = _proc.reset_peak()
        return self.read()

    def read(self) -> ProcessMemory:
        """Resident memory now and the peak since :meth:`reset`."""
        status = _proc.status()
        if status is not None:
            rss, hwm = status
            return ProcessMemory(rss=rss, peak=max(rss, hwm), exact_peak=self.resettable)
        import psutil

        rss = psutil.Process().memory_info().rss
        return ProcessMemory(rss=rss, peak=max(rss, _maxrss()), exact_peak=False)


def process_rss() -> int:
    """This process's resident memory in bytes."""
    status = _proc.status()
    if status is not None:
        return status[0]
    import psutil

    return int(psutil.Process().memory_info().rss)


class HostBackend(BaseBackend):
    """Host RAM as one device record (``kind="host"``); always available."""

    name = "host"

    def devices(self) -> list[DeviceStatus]:
        """The machine's RAM; ``utilization`` is CPU percent since the last call."""
        import psutil

        memory = psutil.virtual_memory()
        return [
            DeviceStatus(
                index=0,
                name="host RAM",
                backend=self.name,
                kind="host",
                total=int(memory.total),
                used=int(memory.total - memory.available),
                free=int(memory.available),
                utilization=float(psutil.cpu_percent(interval=None)),
            )
        ]
