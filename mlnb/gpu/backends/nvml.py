"""NVML (``nvidia-ml-py``'s ``pynvml``): per-device memory, utilisation, temperature, power, processes.

The readings come from :class:`mlnb.nvml.NvmlReader`, mlnb's one NVML reader (the
runs' provenance and system metrics use it too). NVML failures — the library
missing (no NVIDIA driver), the driver not loaded, a driver/library version
mismatch — become one sentence in :class:`~mlnb.gpu.backends.BackendUnavailable`,
never a traceback.
"""

from __future__ import annotations

from mlnb.gpu.backends import BackendUnavailable, BaseBackend
from mlnb.gpu.backends.records import DeviceStatus, ProcessUsage
from mlnb.nvml import NvmlReader, NvmlUnavailable


class NvmlBackend(BaseBackend):
    """Reads every NVIDIA device through NVML (initialised once per process)."""

    name = "nvml"

    def __init__(self) -> None:
        try:
            self.reader = NvmlReader()
        except NvmlUnavailable as exc:
            raise BackendUnavailable(str(exc)) from None
        self.count = self.reader.count

    def devices(self) -> list[DeviceStatus]:
        """One record per NVIDIA device; fields NVML cannot read are None."""
        return [self._device(index) for index in range(self.count)]

    def _device(self, index: int) -> DeviceStatus:
        nv = self.reader
        try:
            handle = nv.handle(index)
            total, used, free = nv.memory(handle)
        except NvmlUnavailable as exc:
            raise BackendUnavailable(str(exc)) from None
        return DeviceStatus(
            index=index,
            name=nv.name(handle) or f"GPU {index}",
            backend=self.name,
            total=total,
            used=used,
            free=free,
            utilization=nv.utilization(handle),
            temperature=nv.temperature(handle),
            power=nv.power(handle),
            processes=tuple(
                ProcessUsage(pid=pid, name=_process_name(pid), used=used_bytes)
                for pid, used_bytes in nv.processes(handle)
            ),
        )


def _process_name(pid: int) -> str:
    try:
        import psutil

        return psutil.Process(pid).name()
    except Exception:  # gone, or in another container: the pid is all we know
        return "?"
