"""NVML (``nvidia-ml-py``'s ``pynvml``): per-device memory, utilisation, temperature, power, processes.

The readings come from :class:`mlnb.nvml.NvmlReader`, mlnb's one NVML reader (the
runs' provenance and system metrics use it too). NVML failures — the library
missing (no NVIDIA driver), the driver not loaded, a driver/library version
mismatch — become one sentence in :class:`~mlnb.gpu.backends.BackendUnavailable`,
never a traceback.
"""

from __future__ import annotations

from typing import Any

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
        """One record per NVIDIA device; a GPU in MIG mode is listed as its MIG instances.

        Fields NVML cannot read are None. A MIG instance's ``parent`` is the index of the
        GPU it is carved from; its ``index`` is its position in this list.
        """
        found: list[DeviceStatus] = []
        for index in range(self.count):
            try:
                handle = self.reader.handle(index)
            except NvmlUnavailable as exc:
                raise BackendUnavailable(str(exc)) from None
            instances = self.reader.mig_handles(handle)
            if not instances:
                found.append(self._device(len(found), handle))
                continue
            parent_name = self.reader.name(handle) or f"GPU {index}"
            for slot, mig in enumerate(instances):
                found.append(
                    self._device(len(found), mig, name=f"{parent_name} MIG {slot}", parent=index)
                )
        return found

    def _device(
        self, index: int, handle: Any, name: str | None = None, parent: int | None = None
    ) -> DeviceStatus:
        nv = self.reader
        try:
            total, used, free = nv.memory(handle)
        except NvmlUnavailable as exc:
            raise BackendUnavailable(str(exc)) from None
        return DeviceStatus(
            index=index,
            name=name or nv.name(handle) or f"GPU {index}",
            backend=self.name,
            total=total,
            used=used,
            free=free,
            utilization=nv.utilization(handle),
            temperature=nv.temperature(handle) if parent is None else None,
            power=nv.power(handle) if parent is None else None,
            processes=tuple(
                ProcessUsage(pid=pid, name=_process_name(pid), used=used_bytes)
                for pid, used_bytes in nv.processes(handle)
            ),
            uuid=nv.uuid(handle),
            parent=parent,
        )


def _process_name(pid: int) -> str:
    try:
        import psutil

        return psutil.Process(pid).name()
    except Exception:  # gone, or in another container: the pid is all we know
        return "?"
