"""GPU memory inspection and out-of-memory helpers, usable without IPython.

* :func:`status` — one record per device (NVML, GPUtil, torch, MPS, or a fake), host RAM without a GPU.
* :func:`memory` / :func:`reset_peak` — the allocator view: allocated, reserved, peak, free.
* :func:`holders` — which variables hold tensor memory, and the bytes no variable reaches.
* :class:`CellTracker` — per-cell GPU/host deltas and peaks, and wall time.
* :func:`free` — drop the last traceback and cached outputs that keep tensors alive, empty caches.
* :class:`oom_guard` / :func:`find_batch_size` / :func:`is_oom_error` — OOM report and halving retry.
* :func:`panel` — a live ipywidgets panel.

Every module here is light: torch and ipywidgets are imported only by the
functions that need them. The functions are bound here eagerly so that
``mlnb.gpu.status`` is the function, not the submodule of the same name.
"""

from __future__ import annotations

from mlnb.gpu.free import FreeReport, free
from mlnb.gpu.holders import Holder, HoldersReport, holders
from mlnb.gpu.memory import MemoryReport, memory, reset_peak
from mlnb.gpu.oom import BatchSizeFit, OomReport, find_batch_size, is_oom_error, oom_guard
from mlnb.gpu.panel import GpuPanel, panel
from mlnb.gpu.status import StatusReport, status
from mlnb.gpu.tracking import CellMemory, CellTracker

__all__ = [
    "BatchSizeFit",
    "CellMemory",
    "CellTracker",
    "FreeReport",
    "GpuPanel",
    "Holder",
    "HoldersReport",
    "MemoryReport",
    "OomReport",
    "StatusReport",
    "find_batch_size",
    "free",
    "holders",
    "is_oom_error",
    "memory",
    "oom_guard",
    "panel",
    "reset_peak",
    "status",
]
