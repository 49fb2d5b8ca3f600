"""NVML (``nvidia-ml-py``'s ``pynvml``): per-device memory, utilisation, temperature, power, processes.

NVML failures — the library missing (no NVIDIA driver), the driver not loaded, a
driver/library version mismatch — become one sentence in
:class:`~mlnb.gpu.backends.BackendUnavailable`, never a traceback.
"""

from __future__ import annotations

import logging
import threading
import warnings
from typing import Any

from mlnb.gpu.backends import BackendUnavailable, BaseBackend
from mlnb.gpu.backends.records import DeviceStatus, ProcessUsage

log = logging.getLogger(__name__)

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


def import_pynvml() -> Any:
    """Import ``pynvml`` quietly (the ``pynvml`` shim warns about its own deprecation)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            import pynvml
    except Exception as exc:  # any import failure just disables the backend
        raise BackendUnavailable(
            f"NVML is off: nvidia-ml-py could not be imported ({type(exc).__name__}: {exc})."
        ) from None
    return pynvml


def explain(pynvml: Any, exc: Exception) -> str:
    """One sentence for an NVML error."""
    value = getattr(exc, "value", None)
    for constant, reason in _REASONS.items():
        if value is not None and value == getattr(pynvml, constant, object()):
            return f"NVML is off: {reason}."
    return f"NVML is off: {exc}."


class NvmlBackend(BaseBackend):
    """Reads every NVIDIA device through NVML (initialised once per process)."""

    name = "nvml"

    def __init__(self) -> None:
        global _initialised
        self.pynvml = import_pynvml()
        with _init_lock:
            if not _initialised:
                try:
                    self.pynvml.nvmlInit()
                except self.pynvml.NVMLError as exc:
                    raise BackendUnavailable(explain(self.pynvml, exc)) from None
                except OSError as exc:
                    raise BackendUnavailable(f"NVML is off: {exc}.") from None
                _initialised = True
        try:
            self.count = self.pynvml.nvmlDeviceGetCount()
        except self.pynvml.NVMLError as exc:
            raise BackendUnavailable(explain(self.pynvml, exc)) from None
        if self.count == 0:
            raise BackendUnavailable("NVML is off: the NVIDIA driver reports no GPU.")

    def devices(self) -> list[DeviceStatus]:
        """One record per NVIDIA device; fields NVML cannot read are None."""
        return [self._device(index) for index in range(self.count)]

    def _device(self, index: int) -> DeviceStatus:
        nv = self.pynvml
        try:
            handle = nv.nvmlDeviceGetHandleByIndex(index)
            memory = nv.nvmlDeviceGetMemoryInfo(handle)
        except nv.NVMLError as exc:
            raise BackendUnavailable(explain(nv, exc)) from None
        name = self._optional(nv.nvmlDeviceGetName, handle)
        if isinstance(name, bytes):
            name = name.decode()
        rates = self._optional(nv.nvmlDeviceGetUtilizationRates, handle)
        temperature = self._optional(nv.nvmlDeviceGetTemperature, handle, nv.NVML_TEMPERATURE_GPU)
        milliwatts = self._optional(nv.nvmlDeviceGetPowerUsage, handle)
        return DeviceStatus(
            index=index,
            name=str(name or f"GPU {index}"),
            backend=self.name,
            total=int(memory.total),
            used=int(memory.used),
            free=int(memory.free),
            utilization=float(rates.gpu) if rates is not None else None,
            temperature=float(temperature) if temperature is not None else None,
            power=milliwatts / 1000 if milliwatts is not None else None,
            processes=tuple(self._processes(handle)),
        )

    def _processes(self, handle: Any) -> list[ProcessUsage]:
        found = self._optional(self.pynvml.nvmlDeviceGetComputeRunningProcesses, handle) or []
        found += self._optional(self.pynvml.nvmlDeviceGetGraphicsRunningProcesses, handle) or []
        return [
            ProcessUsage(
                pid=int(p.pid),
                name=_process_name(int(p.pid)),
                used=int(p.usedGpuMemory) if p.usedGpuMemory is not None else None,
            )
            for p in found
        ]

    def _optional(self, read: Any, *args: Any) -> Any:
        """A reading that some devices/drivers do not support: None instead of an error."""
        try:
            return read(*args)
        except self.pynvml.NVMLError:
            return None


def _process_name(pid: int) -> str:
    try:
        import psutil

        return psutil.Process(pid).name()
    except Exception:  # gone, or in another container: the pid is all we know
        return "?"
