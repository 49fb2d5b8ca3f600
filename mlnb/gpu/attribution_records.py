"""The plain records of GPU memory attribution: a kernel a server runs (:class:`KernelRef`),
one holder's memory on a device (:class:`Bar`) and a device with its holders (:class:`DeviceBars`).

Plain data with no behaviour, kept apart from the mapping in :mod:`mlnb.gpu.attribution`
(which imports them, so they stay importable from there).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KernelRef:
    """A kernel a Jupyter server runs.

    Attributes:
        kernel_id: the server's kernel id.
        pid: the kernel process's pid, None when unknown (then its command line is matched).
        path: the notebook (session path), None for a kernel without a session.
        name: the kernel spec name.
        last_activity: seconds since the epoch of its last message, None if unknown.
        execution_state: ``"idle"``, ``"busy"``, ``"starting"``...
        server: the server's URL, when kernels of several servers are listed.
    """

    kernel_id: str
    pid: int | None = None
    path: str | None = None
    name: str | None = None
    last_activity: float | None = None
    execution_state: str | None = None
    server: str | None = None


@dataclass(frozen=True)
class Bar:
    """One notebook's (or one other process's) memory on one device.

    Attributes:
        kind: ``"kernel"`` or ``"process"`` (another process).
        label: the notebook path, ``kernel <id>``, or ``another process``.
        used: bytes held (the sum over the kernel's processes), None when the driver hides it.
        pids: the processes counted.
        kernel_id: the kernel's id, None for another process.
        path: the notebook path, None when unknown.
        idle_seconds: seconds since the kernel's last activity (0 while busy), None if unknown.
        idle_holding: True when the kernel is idle past the threshold while holding memory.
        user: the process owner, where visible.
        command: the process name, where visible.
        source: ``"nvml"`` or ``"self-report"``.
        this: True for the process asking (``%gpu`` in a kernel).
    """

    kind: str
    label: str
    used: int | None
    pids: tuple[int, ...]
    kernel_id: str | None = None
    path: str | None = None
    idle_seconds: float | None = None
    idle_holding: bool = False
    user: str | None = None
    command: str | None = None
    source: str = "nvml"
    this: bool = False


@dataclass(frozen=True)
class DeviceBars:
    """One device (or MIG instance) and who holds its memory, largest first."""

    index: int
    name: str
    total: int | None
    used: int | None
    bars: list[Bar]
    uuid: str | None = None
    parent: int | None = None
