"""Plain records the GPU backends return: one device, one process on it, one allocator."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProcessUsage:
    """One process holding memory on a device, as the driver sees it."""

    pid: int
    name: str
    used: int | None


@dataclass(frozen=True)
class DeviceStatus:
    """What one device (or host RAM) looks like right now.

    Attributes:
        index: the device's index for its backend (NVML index, CUDA ordinal, 0 for host).
        name: the product name, e.g. ``"NVIDIA H100 80GB HBM3"`` or ``"host RAM"``.
        backend: which backend read it (``"nvml"``, ``"gputil"``, ``"torch"``, ``"host"``...).
        kind: ``"gpu"`` for an accelerator, ``"host"`` for the machine's RAM.
        total: memory size in bytes.
        used: bytes in use (every process, as the driver counts them).
        free: bytes free.
        utilization: compute utilisation in percent (CPU percent for host), None if unknown.
        temperature: degrees Celsius, None if unknown.
        power: watts drawn, None if unknown.
        processes: the processes holding memory on it, where the backend can tell.
        uuid: the driver's device UUID (``GPU-…`` / ``MIG-…``), None if unknown.
        parent: for a MIG instance, the index of the physical GPU it is carved from.
    """

    index: int
    name: str
    backend: str
    kind: str = "gpu"
    total: int | None = None
    used: int | None = None
    free: int | None = None
    utilization: float | None = None
    temperature: float | None = None
    power: float | None = None
    processes: tuple[ProcessUsage, ...] = field(default_factory=tuple)
    uuid: str | None = None
    parent: int | None = None

    @property
    def used_fraction(self) -> float | None:
        """``used / total`` in ``[0, 1]``, None when either is unknown."""
        if not self.total or self.used is None:
            return None
        return min(1.0, max(0.0, self.used / self.total))


@dataclass(frozen=True)
class AllocatorStats:
    """One framework allocator's view of one device (what *this* process holds).

    Attributes:
        device: ``"cuda:0"``, ``"mps"``, ...
        backend: the backend that read it.
        allocated: bytes held by live tensors.
        reserved: bytes the caching allocator keeps (allocated + cached), None if unknown.
        peak: the most bytes allocated since the last peak reset, None if unknown.
        free: bytes free on the device (driver view), None if unknown.
        total: device size in bytes, None if unknown.
    """

    device: str
    backend: str
    allocated: int
    reserved: int | None = None
    peak: int | None = None
    free: int | None = None
    total: int | None = None

    @property
    def cached(self) -> int | None:
        """Bytes reserved but not allocated: what ``empty_cache()`` can give back."""
        if self.reserved is None:
            return None
        return max(0, self.reserved - self.allocated)
