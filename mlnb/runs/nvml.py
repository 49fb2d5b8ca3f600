"""NVIDIA GPUs through NVML (nvidia-ml-py), for provenance and system metrics.

Everything mlnb.runs reads from GPUs goes through the two functions here, so
they can be swapped for :mod:`mlnb.gpu` backends later. Without NVML (no driver,
no GPU, as on CPU-only machines) both say so quietly: ``[]`` and ``None``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

MB = 1024 * 1024


def import_pynvml() -> Any:
    """``import pynvml``, silencing the deprecation warning of the old ``pynvml`` wrapper."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import pynvml
    return pynvml


def gpu_info() -> list[dict[str, Any]]:
    """GPU names, memory and driver version through NVML; ``[]`` without NVIDIA GPUs.

    Kept to this one function so it can be swapped for :mod:`mlnb.gpu` later.
    """
    try:
        pynvml = import_pynvml()

        pynvml.nvmlInit()
    except Exception:  # no NVML library or no driver: no NVIDIA GPU to report
        return []
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            gpus.append(
                {
                    "index": index,
                    "name": _text(pynvml.nvmlDeviceGetName(handle)),
                    "memory_total_bytes": int(memory.total),
                    "driver": driver,
                }
            )
        return gpus
    finally:
        pynvml.nvmlShutdown()


def gpu_reader() -> Callable[[], dict[str, float]] | None:
    """Utilisation, memory and power of each NVIDIA GPU, or None without NVML/GPUs.

    Kept to this one function so it can be swapped for :mod:`mlnb.gpu` later.
    """
    try:
        pynvml = import_pynvml()

        pynvml.nvmlInit()
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    except Exception:  # no driver, no library, or no device
        return None
    if not handles:
        return None

    def read() -> dict[str, float]:
        values: dict[str, float] = {}
        for index, handle in enumerate(handles):
            prefix = f"sys/gpu{index}"
            util = pynvml.nvmlDeviceGetUtilizationRates(handle)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            values[f"{prefix}/utilization_percent"] = float(util.gpu)
            values[f"{prefix}/memory_used_mb"] = memory.used / MB
            values[f"{prefix}/memory_percent"] = 100.0 * memory.used / max(memory.total, 1)
            try:
                values[f"{prefix}/power_w"] = pynvml.nvmlDeviceGetPowerUsage(handle) / 1000.0
            except pynvml.NVMLError:  # some boards do not report power
                pass
        return values

    return read


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
