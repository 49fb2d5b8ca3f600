"""GPU readers behind one small interface, and the registry that picks them.

A backend is any object with the :class:`GpuBackend` methods. Each module here
defines one and registers a factory under its name; the factory raises
:class:`BackendUnavailable` with one sentence when the backend cannot work on this
machine (no driver, library missing, no device), and the caller falls back.

Backends (in the order ``auto`` tries them):

* ``nvml`` — NVIDIA's management library through ``nvidia-ml-py``: memory,
  utilisation, temperature, power, processes per device.
* ``gputil`` — GPUtil (parses ``nvidia-smi``); only tried when NVML fails. It imports
  ``distutils``, gone in Python 3.12: any import failure just disables it.
* ``torch`` — ``torch.cuda``'s caching allocator (allocated, reserved, peak,
  ``memory_summary``); used only when torch is already imported, and it never
  creates a CUDA context just to look.
* ``mps`` — Apple's Metal allocator through ``torch.mps``.
* ``host`` — host RAM and this process's resident memory (psutil), always on.
* ``fake`` — a simulated GPU for tests, configured from JSON (``MLNB_GPU_FAKE``).

Environment variables:
    MLNB_GPU_BACKEND: ``auto`` (default), or a comma list of names, e.g. ``fake`` or
        ``nvml,torch``. ``host`` is always added.
    MLNB_GPU_FAKE: JSON spec of the fake backend's devices, e.g.
        ``{"devices": [{"name": "Fake H100", "total": 85899345920}]}``.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from mlnb import config
from mlnb.exceptions import GpuBackendError
from mlnb.gpu.backends.records import AllocatorStats, DeviceStatus, ProcessUsage

ENV_BACKEND = config.GPU_BACKEND.env
ENV_FAKE = config.GPU_FAKE.env

__all__ = [
    "ENV_BACKEND",
    "ENV_FAKE",
    "AllocatorStats",
    "BackendUnavailable",
    "BaseBackend",
    "DeviceStatus",
    "GpuBackend",
    "ProcessUsage",
    "Selection",
    "active",
    "fake_spec_key",
    "reset",
    "select",
]


class BackendUnavailable(Exception):
    """A backend cannot run here; ``str(exc)`` is one sentence saying why."""


@runtime_checkable
class GpuBackend(Protocol):
    """What every GPU reader offers. Methods a backend cannot serve return ``[]`` / None."""

    name: str

    def devices(self) -> list[DeviceStatus]:
        """One record per device this backend can see."""
        ...

    def allocators(self) -> list[AllocatorStats]:
        """This process's allocator view per device (empty for driver-level readers)."""
        ...

    def counters(self) -> list[tuple[int, int]]:
        """``(allocated, peak)`` bytes per device: the cheapest read, used after every cell."""
        ...

    def reset_peak(self) -> None:
        """Start counting the allocator peak afresh."""
        ...

    def release_cache(self) -> None:
        """Give cached-but-unused allocator memory back to the driver."""
        ...

    def summary(self) -> str | None:
        """A long text report (torch's ``memory_summary``), None when there is none."""
        ...


class BaseBackend:
    """Defaults for the :class:`GpuBackend` methods a reader has nothing to say about."""

    name = "base"

    def devices(self) -> list[DeviceStatus]:
        """No devices."""
        return []

    def allocators(self) -> list[AllocatorStats]:
        """No allocator."""
        return []

    def counters(self) -> list[tuple[int, int]]:
        """``(allocated, peak)`` per device, derived from :meth:`allocators`."""
        return [
            (s.allocated, s.peak if s.peak is not None else s.allocated) for s in self.allocators()
        ]

    def reset_peak(self) -> None:
        """Nothing to reset."""

    def release_cache(self) -> None:
        """Nothing cached."""

    def summary(self) -> str | None:
        """No long report."""
        return None


# name -> "module:factory"; a factory returns a backend or raises BackendUnavailable
REGISTRY: dict[str, str] = {
    "nvml": "mlnb.gpu.backends.nvml:NvmlBackend",
    "gputil": "mlnb.gpu.backends.gputil:GputilBackend",
    "torch": "mlnb.gpu.backends.torch_cuda:TorchCudaBackend",
    "mps": "mlnb.gpu.backends.mps:MpsBackend",
    "host": "mlnb.gpu.backends.host:HostBackend",
    "fake": "mlnb.gpu.backends.fake:fake_gpu",
}
AUTO_ORDER = ("nvml", "gputil", "torch", "mps", "host")
# driver-level readers that report the same devices: the first that works wins
_SAME_DEVICES = ("nvml", "gputil")


def register(name: str, factory: str | Callable[[], GpuBackend]) -> None:
    """Add a backend: ``factory`` is ``"module:callable"`` or the callable itself."""
    REGISTRY[name] = factory  # type: ignore[assignment]
    reset()


@dataclass
class Selection:
    """The backends in use and, for each one that could not start, why.

    Attributes:
        backends: the working backends, in priority order (host last).
        unavailable: backend name -> one sentence saying why it is off.
    """

    backends: list[GpuBackend] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)

    def gpu_devices(self) -> list[DeviceStatus]:
        """GPU devices from the first backend that reports any (NVML before torch)."""
        for backend in self.backends:
            found = [d for d in _safe_devices(backend) if d.kind == "gpu"]
            if found:
                return found
        return []

    def host_device(self) -> DeviceStatus | None:
        """The host RAM record."""
        for backend in self.backends:
            for device in _safe_devices(backend):
                if device.kind == "host":
                    return device
        return None

    def allocators(self) -> list[AllocatorStats]:
        """Every allocator view from every backend."""
        stats: list[AllocatorStats] = []
        for backend in self.backends:
            stats.extend(backend.allocators())
        return stats

    def get(self, name: str) -> GpuBackend | None:
        """The working backend called ``name``, if any."""
        return next((b for b in self.backends if b.name == name), None)


def _safe_devices(backend: GpuBackend) -> list[DeviceStatus]:
    try:
        return backend.devices()
    except BackendUnavailable:
        return []


def _build(name: str) -> GpuBackend:
    factory = REGISTRY[name]
    if isinstance(factory, str):
        module_name, _, attribute = factory.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute)
    return factory()


def requested_names(value: str | None = None) -> list[str]:
    """The backend names ``MLNB_GPU_BACKEND`` (or ``value``) asks for, host always last."""
    raw = (value if value is not None else config.gpu_backend()).strip().lower()
    if raw in ("", "auto"):
        return list(AUTO_ORDER)
    names = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise GpuBackendError(
            f"unknown GPU backend {unknown[0]!r} in {ENV_BACKEND}; choose from auto, "
            f"{', '.join(sorted(REGISTRY))} (comma-separated)."
        )
    if "host" not in names:
        names.append("host")
    return names


def select(value: str | None = None) -> Selection:
    """Start the requested backends; those that cannot run are listed with the reason."""
    selection = Selection()
    devices_found = False
    for name in requested_names(value):
        if name in _SAME_DEVICES and devices_found:
            continue
        try:
            backend = _build(name)
        except BackendUnavailable as exc:
            selection.unavailable[name] = str(exc)
            continue
        selection.backends.append(backend)
        devices_found = devices_found or name in _SAME_DEVICES
    return selection


_lock = threading.Lock()
_active: tuple[str, Selection] | None = None


def active() -> Selection:
    """The process-wide selection, rebuilt when ``MLNB_GPU_BACKEND`` changes."""
    global _active
    key = config.gpu_backend() + "|" + fake_spec_key()
    with _lock:
        if _active is None or _active[0] != key:
            _active = (key, select())
        return _active[1]


def fake_spec_key() -> str:
    """What identifies the fake's spec now: ``MLNB_GPU_FAKE``, plus the file's change time
    when it is an ``@path`` (so editing the file is seen on the next read)."""
    raw = config.gpu_fake()
    if raw.startswith("@"):
        try:
            return f"{raw}|{os.stat(raw[1:]).st_mtime_ns}"
        except OSError:
            return raw
    return raw


def reset() -> None:
    """Forget the cached selection (tests, or after installing a driver)."""
    global _active
    with _lock:
        _active = None
