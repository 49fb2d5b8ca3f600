"""NVIDIA GPUs through NVML (``nvidia-ml-py``'s ``pynvml``): the one place mlnb reads NVML.

Both the GPU room (:mod:`mlnb.gpu.backends.nvml`: ``%gpu``, the panel) and the
runs room (:mod:`mlnb.runs.provenance`, :mod:`mlnb.runs.sysmetrics`) read GPUs
through :class:`NvmlReader`, so NVML is imported, initialised (once per process)
and its failures explained in one place.

``pynvml`` is imported only when a reader is created, never by importing this
module. Every failure to start — the library missing (no NVIDIA driver), the
driver not loaded, a driver/library version mismatch, no device — raises
:class:`NvmlUnavailable` whose message is one sentence for the user.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_init_lock = threading.Lock()
_initialised = False

# NVML error code -> what it means for the user
_REASONS = {
    "NVML_ERROR_LIBRARY_NOT_FOUND": "the NVIDIA driver library (libnvidia-ml.so) is not installed, so there is no NVIDIA driver on this machine",
    "NVML_ERROR_DRIVER_NOT_LOADED": "the NVIDIA kernel driver is not loaded",
    "NVML_ERROR_LIB_RM_VERSION_MISMATCH": "the NVIDIA driver and its user-space library have different versions (a driver update without a reboot?)",
    "NVML_ERROR_NO_PERMISSION": "this user may not query the NVIDIA driver",
    "NVML_ERROR_NOT_FOUND": "no NVIDIA GPU was found",
}


class NvmlUnavailable(Exception):
    """NVML cannot be read here; ``str(exc)`` is one sentence saying why."""


def import_pynvml() -> Any:
    """Import ``pynvml`` quietly (the ``pynvml`` shim warns about its own deprecation).

    Raises:
        NvmlUnavailable: ``nvidia-ml-py`` could not be imported.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            import pynvml
    except Exception as exc:  # any import failure just means no NVML
        raise NvmlUnavailable(
            f"NVML is off: nvidia-ml-py could not be imported ({type(exc).__name__}: {exc})."
        ) from None
    return pynvml


def quiet_torch_import() -> Any:
    """``import torch`` for the user (seed pinning, the CUDA timeline, checkpoints) without
    the ``pynvml`` shim's deprecation warning: torch's CUDA module imports ``pynvml``, and
    where the deprecated ``pynvml`` package is installed (ipyexperiments brings it) its
    FutureWarning would land in the user's cell under the mlnb call. Raises ``ImportError``
    as ``import torch`` does."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="The pynvml package is deprecated", category=FutureWarning
        )
        import torch
    return torch


def explain(pynvml: Any, exc: Exception) -> str:
    """One sentence for an NVML error."""
    value = getattr(exc, "value", None)
    for constant, reason in _REASONS.items():
        if value is not None and value == getattr(pynvml, constant, object()):
            return f"NVML is off: {reason}."
    return f"NVML is off: {exc}."


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


class NvmlReader:
    """Every NVIDIA device through NVML (initialised once per process, never shut down).

    Attributes:
        pynvml: the imported ``pynvml`` module.
        count: how many devices NVML reports (at least 1).

    Raises:
        NvmlUnavailable: no ``pynvml``, no driver, or no device; the message says which.
    """

    def __init__(self) -> None:
        global _initialised
        self.pynvml = import_pynvml()
        with _init_lock:
            if not _initialised:
                try:
                    self.pynvml.nvmlInit()
                except self.pynvml.NVMLError as exc:
                    raise NvmlUnavailable(explain(self.pynvml, exc)) from None
                except OSError as exc:
                    raise NvmlUnavailable(f"NVML is off: {exc}.") from None
                _initialised = True
        self.count = self._required(self.pynvml.nvmlDeviceGetCount)
        if self.count == 0:
            raise NvmlUnavailable("NVML is off: the NVIDIA driver reports no GPU.")

    def handle(self, index: int) -> Any:
        """The NVML handle of device ``index``."""
        return self._required(self.pynvml.nvmlDeviceGetHandleByIndex, index)

    def driver_version(self) -> str:
        """The NVIDIA driver version, e.g. ``"550.54.15"``."""
        return _text(self._required(self.pynvml.nvmlSystemGetDriverVersion))

    def memory(self, handle: Any) -> tuple[int, int, int]:
        """``(total, used, free)`` bytes of the device."""
        info = self._required(self.pynvml.nvmlDeviceGetMemoryInfo, handle)
        return int(info.total), int(info.used), int(info.free)

    def name(self, handle: Any) -> str | None:
        """The device's name, None when the driver does not say."""
        name = self.optional(self.pynvml.nvmlDeviceGetName, handle)
        return _text(name) if name is not None else None

    def utilization(self, handle: Any) -> float | None:
        """GPU utilisation in percent over the last sample period, None if not supported."""
        rates = self.optional(self.pynvml.nvmlDeviceGetUtilizationRates, handle)
        return float(rates.gpu) if rates is not None else None

    def temperature(self, handle: Any) -> float | None:
        """GPU core temperature in °C, None if not supported."""
        nv = self.pynvml
        value = self.optional(nv.nvmlDeviceGetTemperature, handle, nv.NVML_TEMPERATURE_GPU)
        return float(value) if value is not None else None

    def power(self, handle: Any) -> float | None:
        """Power draw in watts, None on boards that do not report it."""
        milliwatts = self.optional(self.pynvml.nvmlDeviceGetPowerUsage, handle)
        return milliwatts / 1000 if milliwatts is not None else None

    def processes(self, handle: Any) -> list[tuple[int, int | None]]:
        """``(pid, used bytes or None)`` of every compute and graphics process on the device."""
        found = self.optional(self.pynvml.nvmlDeviceGetComputeRunningProcesses, handle) or []
        found += self.optional(self.pynvml.nvmlDeviceGetGraphicsRunningProcesses, handle) or []
        return [
            (int(p.pid), int(p.usedGpuMemory) if p.usedGpuMemory is not None else None)
            for p in found
        ]

    def uuid(self, handle: Any) -> str | None:
        """The device's UUID (``GPU-…``, or ``MIG-…`` for a MIG instance), None if unreadable."""
        read = getattr(self.pynvml, "nvmlDeviceGetUUID", None)
        value = self.optional(read, handle) if read is not None else None
        return _text(value) if value is not None else None

    def mig_handles(self, handle: Any) -> list[Any]:
        """The MIG instances carved from a GPU (empty when MIG is off or unsupported).

        NVML numbers MIG slots up to ``nvmlDeviceGetMaxMigDeviceCount``; empty slots
        answer NOT_FOUND and are skipped.
        """
        nv = self.pynvml
        if not hasattr(nv, "nvmlDeviceGetMigMode"):
            return []
        mode = self.optional(nv.nvmlDeviceGetMigMode, handle)
        if not mode or mode[0] != getattr(nv, "NVML_DEVICE_MIG_ENABLE", 1):
            return []
        slots = self.optional(nv.nvmlDeviceGetMaxMigDeviceCount, handle) or 0
        found = (
            self.optional(nv.nvmlDeviceGetMigDeviceHandleByIndex, handle, i) for i in range(slots)
        )
        return [h for h in found if h is not None]

    def optional(self, read: Callable[..., T], *args: Any) -> T | None:
        """A reading that some devices/drivers do not support: None instead of an error."""
        try:
            return read(*args)
        except self.pynvml.NVMLError:
            return None

    def _required(self, read: Callable[..., T], *args: Any) -> T:
        """A reading that must work: an NVML error becomes :class:`NvmlUnavailable`."""
        try:
            return read(*args)
        except self.pynvml.NVMLError as exc:
            raise NvmlUnavailable(explain(self.pynvml, exc)) from None
