"""A simulated GPU behind the same interface as the real readers, for tests and demos.

``MLNB_GPU_BACKEND=fake`` makes every ``mlnb.gpu`` function read this backend (plus
the real host RAM), so a kernel without a GPU runs the GPU code paths. Its devices
come from the JSON in ``MLNB_GPU_FAKE``::

    {"devices": [{"name": "Fake H100", "total": 85899345920, "used": 1073741824,
                  "utilization": 35, "temperature": 51, "power": 210,
                  "processes": [{"pid": 4242, "name": "python", "used": 1073741824}]}],
     "unavailable": "optional: make the backend refuse to start with this sentence"}

A process with ``"while_alive": true`` is listed only while that pid exists on this
machine, as the driver drops a process that exits. ``MLNB_GPU_FAKE=@/path/spec.json``
reads the spec from a file, re-read whenever the file changes (a test can then list
processes it starts after the server is up).

``used`` is memory other processes hold. The fake also has a caching allocator:
:meth:`FakeGpu.allocate` returns a :class:`FakeBlock` whose bytes count as
allocated until the block is garbage-collected (then they stay *reserved*, as in
torch, until :meth:`FakeGpu.release_cache`), and raises the same
``"CUDA out of memory. Tried to allocate ..."`` RuntimeError torch raises when the
device is full.
"""

from __future__ import annotations

import json
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from mlnb import config
from mlnb.exceptions import GpuBackendError
from mlnb.gpu.backends import ENV_FAKE, BackendUnavailable, BaseBackend, fake_spec_key
from mlnb.gpu.backends.records import AllocatorStats, DeviceStatus, ProcessUsage

GIB = 1024**3
DEFAULT_SPEC: dict[str, Any] = {"devices": [{"name": "Fake GPU", "total": 16 * GIB}]}


def _gib(n: int) -> str:
    return f"{n / GIB:.2f} GiB" if n >= 1024**2 else f"{n} bytes"


@dataclass
class FakeDevice:
    """One simulated device and its allocator counters."""

    index: int
    name: str
    total: int
    used_elsewhere: int = 0
    utilization: float | None = None
    temperature: float | None = None
    power: float | None = None
    processes: tuple[ProcessUsage, ...] = ()
    while_alive: frozenset[int] = frozenset()
    allocated: int = 0
    reserved: int = 0
    peak: int = 0
    history: list[int] = field(default_factory=list)

    @property
    def free(self) -> int:
        """Bytes nobody holds (other processes, this allocator's reservation)."""
        return max(0, self.total - self.used_elsewhere - self.reserved)


class FakeBlock:
    """Device memory held by one simulated tensor; freed when garbage-collected."""

    __slots__ = ("__weakref__", "device", "nbytes")

    def __init__(self, gpu: FakeGpu, device: int, nbytes: int) -> None:
        self.device = device
        self.nbytes = nbytes
        weakref.finalize(self, gpu._release, device, nbytes)

    def __repr__(self) -> str:
        return f"FakeBlock({_gib(self.nbytes)} on cuda:{self.device})"


class FakeGpu(BaseBackend):
    """Simulated devices with a caching allocator, configured from a spec dict."""

    name = "fake"

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        spec = DEFAULT_SPEC if spec is None else spec
        if spec.get("unavailable"):
            raise BackendUnavailable(str(spec["unavailable"]))
        self._lock = threading.Lock()
        self.devices_: list[FakeDevice] = []
        for index, entry in enumerate(spec.get("devices", [])):
            try:
                self.devices_.append(
                    FakeDevice(
                        index=index,
                        name=str(entry.get("name", f"Fake GPU {index}")),
                        total=int(entry["total"]),
                        used_elsewhere=int(entry.get("used", 0)),
                        utilization=entry.get("utilization"),
                        temperature=entry.get("temperature"),
                        power=entry.get("power"),
                        processes=tuple(
                            ProcessUsage(int(p["pid"]), str(p.get("name", "?")), p.get("used"))
                            for p in entry.get("processes", [])
                        ),
                        while_alive=frozenset(
                            int(p["pid"])
                            for p in entry.get("processes", [])
                            if p.get("while_alive")
                        ),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise GpuBackendError(
                    f"{ENV_FAKE}: device {index} needs a whole-number 'total' in bytes ({exc})."
                ) from None

    # --- the simulated allocator -------------------------------------------------
    def allocate(self, nbytes: int, device: int = 0) -> FakeBlock:
        """Hold ``nbytes`` on ``device``; raises torch's CUDA OOM RuntimeError when full."""
        with self._lock:
            dev = self.devices_[device]
            cached = dev.reserved - dev.allocated
            if nbytes > cached + dev.free:
                dev.reserved = dev.allocated  # torch frees its cache before giving up
                if nbytes > dev.free:
                    raise RuntimeError(
                        f"CUDA out of memory. Tried to allocate {_gib(nbytes)}. GPU {device} has a "
                        f"total capacity of {_gib(dev.total)} of which {_gib(dev.free)} is free. "
                        f"Of the allocated memory {_gib(dev.allocated)} is allocated by PyTorch, "
                        f"and {_gib(dev.reserved - dev.allocated)} is reserved by PyTorch but unallocated."
                    )
            dev.allocated += nbytes
            dev.reserved = max(dev.reserved, dev.allocated)
            dev.peak = max(dev.peak, dev.allocated)
        return FakeBlock(self, device, nbytes)

    def _release(self, device: int, nbytes: int) -> None:
        with self._lock:
            self.devices_[device].allocated -= nbytes

    def set_utilization(self, device: int, percent: float) -> None:
        """Change the utilisation a status read reports (for panels and demos)."""
        self.devices_[device].utilization = percent

    # --- the GpuBackend interface -----------------------------------------------
    def devices(self) -> list[DeviceStatus]:
        """The simulated devices as a driver would report them."""
        with self._lock:
            return [
                DeviceStatus(
                    index=d.index,
                    name=d.name,
                    backend=self.name,
                    total=d.total,
                    used=d.used_elsewhere + d.reserved,
                    free=d.free,
                    utilization=d.utilization,
                    temperature=d.temperature,
                    power=d.power,
                    processes=tuple(
                        p for p in d.processes if p.pid not in d.while_alive or _alive(p.pid)
                    ),
                )
                for d in self.devices_
            ]

    def allocators(self) -> list[AllocatorStats]:
        """The simulated allocator's counters per device."""
        with self._lock:
            return [
                AllocatorStats(
                    device=f"cuda:{d.index}",
                    backend=self.name,
                    allocated=d.allocated,
                    reserved=d.reserved,
                    peak=d.peak,
                    free=d.free,
                    total=d.total,
                )
                for d in self.devices_
            ]

    def reset_peak(self) -> None:
        """Peak := what is allocated now."""
        with self._lock:
            for d in self.devices_:
                d.peak = d.allocated

    def release_cache(self) -> None:
        """Give the cached bytes back (``empty_cache``)."""
        with self._lock:
            for d in self.devices_:
                d.reserved = d.allocated

    def summary(self) -> str | None:
        """A short text summary, standing in for ``memory_summary``."""
        return "\n".join(
            f"fake {s.device}: allocated {_gib(s.allocated)}, reserved {_gib(s.reserved or 0)}, peak {_gib(s.peak or 0)}"
            for s in self.allocators()
        )


_instance: tuple[str, FakeGpu] | None = None
_instance_lock = threading.Lock()


def _alive(pid: int) -> bool:
    import psutil

    return bool(psutil.pid_exists(pid))


def _spec_text() -> str:
    """``MLNB_GPU_FAKE``'s JSON: the value itself, or the file an ``@path`` value names."""
    raw = config.gpu_fake()
    if not raw.startswith("@"):
        return raw
    try:
        with open(raw[1:], encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise GpuBackendError(f"{ENV_FAKE}: cannot read {raw[1:]} ({exc.strerror}).") from None


def spec_from_env() -> dict[str, Any]:
    """The fake's spec from ``MLNB_GPU_FAKE``, or one 16 GiB device."""
    raw = _spec_text()
    if not raw:
        return DEFAULT_SPEC
    try:
        spec = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise GpuBackendError(
            f"{ENV_FAKE} is not valid JSON ({exc.msg} at position {exc.pos})."
        ) from None
    if not isinstance(spec, dict):
        raise GpuBackendError(f'{ENV_FAKE} must be a JSON object like {{"devices": [...]}}.')
    return spec


def fake_gpu() -> FakeGpu:
    """The process's fake GPU (one per ``MLNB_GPU_FAKE`` value), created on first use."""
    global _instance
    raw = fake_spec_key()
    with _instance_lock:
        if _instance is None or _instance[0] != raw:
            _instance = (raw, FakeGpu(spec_from_env()))
        return _instance[1]
