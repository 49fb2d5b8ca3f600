"""Per-cell memory tracking: GPU and host deltas and peaks, and wall time, one line per cell.

:class:`CellTracker` has a ``before_cell()`` / ``after_cell()`` pair that the
``%gpu_track`` magic registers as IPython's ``pre_run_cell`` / ``post_run_cell``
hooks; it works just as well around any block of code.

It is cheap on purpose (the peer, ipyexperiments' CellLogger, runs ``gc.collect()``
and spins a sampling thread in every cell): peaks come from counters that already
exist — the allocator's peak (reset before each cell) and, on Linux, the kernel's
resettable high-water mark of this process's resident memory — so no thread
samples and nothing is collected.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from mlnb import display
from mlnb.gpu import backends
from mlnb.gpu.memory import peak_meter


@dataclass(frozen=True)
class CellMemory:
    """What one cell did to memory.

    Attributes:
        seconds: wall time between ``before_cell`` and ``after_cell``.
        gpu_delta: allocated bytes after minus before, summed over devices (None without a GPU).
        gpu_peak: the most bytes allocated during the cell above what was allocated at its start.
        gpu_total: bytes allocated after the cell.
        host_delta: resident host bytes after minus before.
        host_peak: peak resident bytes during the cell above the start.
        host_total: resident host bytes after the cell.
        exact_host_peak: whether ``host_peak`` is the cell's own (Linux) or a lifetime bound.
    """

    seconds: float
    gpu_delta: int | None
    gpu_peak: int | None
    gpu_total: int | None
    host_delta: int
    host_peak: int
    host_total: int
    exact_host_peak: bool = True

    def line(self) -> str:
        """``mlnb: GPU +1.0 GiB (peak +1.5 GiB, 3.0 GiB total) | RAM ... | 1.23 s``."""
        h = display.human_bytes
        parts = []
        if self.gpu_delta is not None:
            parts.append(
                f"GPU {_signed(self.gpu_delta)} (peak +{h(self.gpu_peak or 0)}, {h(self.gpu_total)} allocated)"
            )
        approx = "" if self.exact_host_peak else "≥"
        parts.append(
            f"RAM {_signed(self.host_delta)} (peak +{approx}{h(self.host_peak)}, {h(self.host_total)} RSS)"
        )
        parts.append(display.human_duration(self.seconds))
        return "mlnb: " + " | ".join(parts)


def _signed(n: int) -> str:
    return ("+" if n >= 0 else "") + display.human_bytes(n)


class CellTracker:
    """Measures memory and time between :meth:`before_cell` and :meth:`after_cell`."""

    def __init__(self) -> None:
        self.meter = peak_meter()
        self.last: CellMemory | None = None
        self._start: float | None = None
        self._host_start = 0
        self._gpu_start: int | None = None

    def _allocators(self) -> list[backends.GpuBackend]:
        return [b for b in backends.active().backends if b.name != "host"]

    def before_cell(self, *_: object) -> None:
        """Reset the peaks and remember where memory stands (a ``pre_run_cell`` hook)."""
        gpu = None
        for backend in self._allocators():
            counts = backend.counters()
            if counts:
                backend.reset_peak()
                gpu = (gpu or 0) + sum(allocated for allocated, _ in counts)
        self._gpu_start = gpu
        self._host_start = self.meter.reset().rss
        self._start = time.perf_counter()

    def after_cell(self, *_: object) -> CellMemory | None:
        """Measure the cell (a ``post_run_cell`` hook); None if ``before_cell`` never ran."""
        if self._start is None:
            return None
        seconds = time.perf_counter() - self._start
        self._start = None
        host = self.meter.read()
        gpu_total = gpu_peak = None
        for backend in self._allocators():
            for stats in backend.allocators():
                gpu_total = (gpu_total or 0) + stats.allocated
                gpu_peak = (gpu_peak or 0) + (
                    stats.peak if stats.peak is not None else stats.allocated
                )
        gpu_start = self._gpu_start if self._gpu_start is not None else 0
        self.last = CellMemory(
            seconds=seconds,
            gpu_delta=None if gpu_total is None else gpu_total - gpu_start,
            gpu_peak=None if gpu_peak is None else max(0, gpu_peak - gpu_start),
            gpu_total=gpu_total,
            host_delta=host.rss - self._host_start,
            host_peak=max(0, host.peak - self._host_start),
            host_total=host.rss,
            exact_host_peak=host.exact_peak,
        )
        return self.last
