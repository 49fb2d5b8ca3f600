"""GPUtil: a fallback reader that parses ``nvidia-smi``.

GPUtil imports ``distutils``, which Python 3.12 removed, so any failure to import
it only disables this backend, with one sentence saying why.
"""

from __future__ import annotations

from typing import Any

from mlnb.gpu.backends import BackendUnavailable, BaseBackend
from mlnb.gpu.backends.records import DeviceStatus

_MIB = 1024 * 1024


class GputilBackend(BaseBackend):
    """Device memory, load and temperature from ``GPUtil.getGPUs()``."""

    name = "gputil"

    def __init__(self) -> None:
        try:
            import GPUtil
        except Exception as exc:  # ImportError, or distutils gone (Python 3.12+)
            raise BackendUnavailable(
                f"GPUtil is off: it could not be imported ({type(exc).__name__}: {exc})."
            ) from None
        self.gputil: Any = GPUtil
        if not self._read():
            raise BackendUnavailable("GPUtil is off: nvidia-smi found no GPU.")

    def _read(self) -> list[Any]:
        try:
            return list(self.gputil.getGPUs())
        except Exception as exc:  # nvidia-smi missing or failing
            raise BackendUnavailable(
                f"GPUtil is off: nvidia-smi could not be run ({type(exc).__name__}: {exc})."
            ) from None

    def devices(self) -> list[DeviceStatus]:
        """One record per GPU nvidia-smi lists (memory is in MiB there)."""
        return [
            DeviceStatus(
                index=int(gpu.id),
                name=str(gpu.name),
                backend=self.name,
                total=int(gpu.memoryTotal * _MIB),
                used=int(gpu.memoryUsed * _MIB),
                free=int(gpu.memoryFree * _MIB),
                utilization=float(gpu.load) * 100,
                temperature=float(gpu.temperature),
            )
            for gpu in self._read()
        ]
