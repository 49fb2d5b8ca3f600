"""Host RAM: the machine's memory (psutil) and this process's resident size and peak.

The per-cell peak uses Linux's resettable high-water mark: writing ``5`` to
``/proc/self/clear_refs`` resets ``VmHWM`` in ``/proc/self/status`` to the current
resident size, so the peak over a cell is read exactly, with no sampling thread.
Elsewhere the peak falls back to ``ru_maxrss`` (the process-lifetime maximum),
which catches a cell's peak only when it beats every earlier one.
"""

from __future__ import annotations

import os
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


def _read_status() -> tuple[int, int] | None:
    try:
        with open(_STATUS, "rb") as handle:
            text = handle.read()
    except OSError:
        return None
    rss = hwm = None
    for line in text.splitlines():
        if line.startswith(b"VmRSS:"):
            rss = int(line.split()[1]) * 1024
        elif line.startswith(b"VmHWM:"):
            hwm = int(line.split()[1]) * 1024
    if rss is None or hwm is None:
        return None
    return rss, hwm


def _maxrss() -> int:
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024  # bytes on macOS, KiB on Linux


class PeakMeter:
    """Resident memory and its peak between :meth:`reset` and :meth:`read`."""

    def __init__(self) -> None:
        self.resettable = _read_status() is not None and os.access(_CLEAR_REFS, os.W_OK)

    def reset(self) -> ProcessMemory:
        """Start a new peak window; returns the memory at its start."""
        if self.resettable:
            try:
                with open(_CLEAR_REFS, "w") as handle:
                    handle.write("5")
            except OSError:
                self.resettable = False
        return self.read()

    def read(self) -> ProcessMemory:
        """Resident memory now and the peak since :meth:`reset`."""
        status = _read_status()
        if status is not None:
            rss, hwm = status
            return ProcessMemory(rss=rss, peak=max(rss, hwm), exact_peak=self.resettable)
        import psutil

        rss = psutil.Process().memory_info().rss
        return ProcessMemory(rss=rss, peak=max(rss, _maxrss()), exact_peak=False)


def process_rss() -> int:
    """This process's resident memory in bytes."""
    status = _read_status()
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
