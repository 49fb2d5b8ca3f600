"""``torch.cuda``'s caching allocator: allocated, reserved, peak, free, ``memory_summary``.

Looks only when torch is already imported (a notebook with CUDA tensors has
imported it) and never creates a CUDA context just to look: before CUDA is
initialised, this process holds no device memory and nothing is read.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

from mlnb.gpu.backends import BackendUnavailable, BaseBackend
from mlnb.gpu.backends.records import AllocatorStats, DeviceStatus


def loaded_torch() -> Any | None:
    """The torch module if this process already imported it, else None."""
    return sys.modules.get("torch")


def cuda_in_use() -> Any | None:
    """torch when CUDA is initialised in this process, else None."""
    torch = loaded_torch()
    if torch is None:
        return None
    try:
        return torch if torch.cuda.is_initialized() else None
    except Exception:  # a CPU build or a broken CUDA install
        return None


def allocator_counters(torch: Any, index: int) -> tuple[int, int, int]:
    """``(allocated, reserved, peak)`` bytes for one device, from one stats read.

    ``torch.cuda.memory_allocated`` and friends each build and flatten the whole
    statistics dict (~0.1 ms apiece on an H100); the raw nested dict costs ~0.01 ms,
    which keeps per-cell tracking cheap. Falls back to the public API.
    """
    raw = getattr(torch._C, "_cuda_memoryStats", None)
    if raw is not None:
        try:
            stats = raw(index)
            allocated = stats["allocated_bytes"]["all"]
            return (
                int(allocated["current"]),
                int(stats["reserved_bytes"]["all"]["current"]),
                int(allocated["peak"]),
            )
        except (KeyError, TypeError, RuntimeError):  # private API changed: use the public calls
            pass
    return (
        int(torch.cuda.memory_allocated(index)),
        int(torch.cuda.memory_reserved(index)),
        int(torch.cuda.max_memory_allocated(index)),
    )


class TorchCudaBackend(BaseBackend):
    """PyTorch's CUDA allocator, one record per device torch can see."""

    name = "torch"

    def __init__(self) -> None:
        if "torch" not in sys.modules and importlib.util.find_spec("torch") is None:
            raise BackendUnavailable("torch.cuda is off: torch is not installed.")

    def allocators(self) -> list[AllocatorStats]:
        """Allocator figures per device, empty until CUDA is initialised."""
        torch = cuda_in_use()
        if torch is None:
            return []
        stats = []
        for index in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(index)
            allocated, reserved, peak = allocator_counters(torch, index)
            stats.append(
                AllocatorStats(
                    device=f"cuda:{index}",
                    backend=self.name,
                    allocated=allocated,
                    reserved=reserved,
                    peak=peak,
                    free=int(free),
                    total=int(total),
                )
            )
        return stats

    def counters(self) -> list[tuple[int, int]]:
        """``(allocated, peak)`` per device, the cheap read per-cell tracking uses."""
        torch = cuda_in_use()
        if torch is None:
            return []
        found = []
        for index in range(torch.cuda.device_count()):
            allocated, _reserved, peak = allocator_counters(torch, index)
            found.append((allocated, peak))
        return found

    def devices(self) -> list[DeviceStatus]:
        """Devices from torch itself (used when no NVML/GPUtil reader works)."""
        torch = cuda_in_use()
        if torch is None:
            return []
        found = []
        for index in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(index)
            found.append(
                DeviceStatus(
                    index=index,
                    name=torch.cuda.get_device_name(index),
                    backend=self.name,
                    total=int(total),
                    used=int(total - free),
                    free=int(free),
                )
            )
        return found

    def reset_peak(self) -> None:
        """``torch.cuda.reset_peak_memory_stats`` on every device."""
        torch = cuda_in_use()
        if torch is not None:
            for index in range(torch.cuda.device_count()):
                torch.cuda.reset_peak_memory_stats(index)

    def release_cache(self) -> None:
        """``torch.cuda.empty_cache()`` and ``ipc_collect()``."""
        torch = cuda_in_use()
        if torch is not None:
            torch.cuda.empty_cache()
            torch.cuda.ipc_collect()

    def summary(self) -> str | None:
        """``torch.cuda.memory_summary()`` for every device."""
        torch = cuda_in_use()
        if torch is None:
            return None
        return "\n".join(
            torch.cuda.memory_summary(index, abbreviated=True)
            for index in range(torch.cuda.device_count())
        )
