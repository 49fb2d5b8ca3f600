"""``memory()``: the allocator's view — allocated, reserved, peak, free on device — and ``reset_peak()``.

GPU figures come from the allocator backends (``torch.cuda``, MPS, the fake); this
process's host memory (resident now, peak since the last reset) is always shown,
so on a CPU-only machine the view is still useful and says plainly why there is no
GPU allocator.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from mlnb import display
from mlnb.gpu import backends
from mlnb.gpu.backends.host import PeakMeter, ProcessMemory
from mlnb.gpu.backends.records import AllocatorStats

HEADERS = ("device", "allocated", "reserved", "cached", "peak", "free on device", "total")

_meter: PeakMeter | None = None


def peak_meter() -> PeakMeter:
    """The process-wide host peak meter (shared by ``reset_peak`` and cell tracking)."""
    global _meter
    if _meter is None:
        _meter = PeakMeter()
    return _meter


@dataclass(frozen=True)
class MemoryReport(display.Report):
    """Allocator figures per device and this process's host memory.

    Attributes:
        allocators: one :class:`AllocatorStats` per device in use.
        host: resident memory now and its peak since the last reset.
        note: why no GPU allocator is shown, when none is.
    """

    allocators: list[AllocatorStats]
    host: ProcessMemory
    note: str | None = None

    def rows(self) -> list[tuple[str, ...]]:
        """Table rows, host process last."""
        h = display.human_bytes
        rows: list[tuple[str, ...]] = [
            (s.device, h(s.allocated), h(s.reserved), h(s.cached), h(s.peak), h(s.free), h(s.total))
            for s in self.allocators
        ]
        peak_label = h(self.host.peak) + ("" if self.host.exact_peak else " (lifetime)")
        rows.append(("host (this process)", h(self.host.rss), "—", "—", peak_label, "—", "—"))
        return rows

    def text(self) -> str:
        """Plain-text table, with the note first when there is one."""
        table = display.text_table(HEADERS, self.rows())
        return f"mlnb: {self.note}\n{table}" if self.note else table

    def html(self) -> str:
        """HTML table; the note is its caption."""
        return display.html_table(HEADERS, self.rows(), caption=self.note or "allocator memory")


def no_allocator_reason() -> str:
    """Why there is no GPU allocator to read, in one sentence."""
    torch = sys.modules.get("torch")
    if torch is None:
        return "no GPU allocator in use: torch is not imported in this process; host memory only."
    try:
        available = torch.cuda.is_available()
    except Exception:
        available = False
    if not available:
        return "no GPU allocator in use: torch sees no CUDA device (CPU tensors are not counted by an allocator); host memory only."
    return "no GPU allocator in use yet: CUDA is not initialised in this process (no tensor on the GPU yet)."


def memory() -> MemoryReport:
    """Read every allocator now.

    Returns:
        A :class:`MemoryReport` with one :class:`AllocatorStats` per device in use and
        this process's host memory.
    """
    stats = backends.active().allocators()
    return MemoryReport(
        allocators=stats,
        host=peak_meter().read(),
        note=None if stats else no_allocator_reason(),
    )


def reset_peak() -> MemoryReport:
    """Start counting the peaks afresh (every allocator, and host memory on Linux).

    Returns:
        The memory report right after the reset.
    """
    for backend in backends.active().backends:
        backend.reset_peak()
    peak_meter().reset()
    return memory()


def allocated_by_device() -> dict[str, int]:
    """``{"cuda:0": bytes allocated, ...}`` for every allocator in use."""
    return {s.device: s.allocated for s in backends.active().allocators()}


def summary() -> str | None:
    """The allocators' long reports (``torch.cuda.memory_summary``), None when none exists."""
    texts = [t for b in backends.active().backends if (t := b.summary())]
    return "\n".join(texts) or None
