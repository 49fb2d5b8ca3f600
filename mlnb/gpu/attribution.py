"""Whose GPU memory is it? The driver's processes per device, mapped to kernels and notebooks.

:func:`attribute` takes what the driver reports (:class:`~mlnb.gpu.backends.records.DeviceStatus`
with its processes: pid and bytes per device, MIG instances as devices) and the kernels
known to a Jupyter server (:class:`KernelRef`: id, pid, notebook path, last activity),
and returns one :class:`Bar` per notebook (or per other process) on each device:

* a process belongs to a kernel when it is the kernel's pid or a descendant of it
  (DataLoader workers, ``torch.multiprocessing``), found by walking up parents;
* a kernel idle (no activity for ``idle_after`` seconds) while holding memory is flagged;
* anything else is "another process", with its user and command where visible.

When the driver's pids are not in this pid namespace (a container without the host's
pid namespace), the attribution says so and falls back to the kernels' own reports
(:mod:`mlnb.gpu.selfreport`). Everything here is plain data: the server, the CLI and
``%gpu`` each build the kernel list their own way. The records (:class:`KernelRef`,
:class:`Bar`, :class:`DeviceBars`) live in :mod:`mlnb.gpu.attribution_records` and are
importable from here too.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlnb import display
from mlnb.gpu.attribution_records import Bar, DeviceBars, KernelRef
from mlnb.gpu.backends.records import DeviceStatus
from mlnb.gpu.processes import ProcessLookup
from mlnb.gpu.selfreport import SelfReport, kernel_id_from_argv

#: a kernel idle this long (seconds) while holding GPU memory is flagged
IDLE_AFTER = 600.0
MAX_PARENT_HOPS = 16
HIDDEN_PIDS_NOTE = (
    "NVML reports processes whose pids are not visible here (a container without the host's "
    "pid namespace?), so memory is attributed from what each kernel with mlnb loaded reports "
    "about itself; kernels without mlnb loaded are not counted."
)


HEADERS = ("device", "who", "memory", "pids", "idle", "user")


@dataclass(frozen=True)
class Attribution(display.Report):
    """Every device's bars and the notes that qualify them.

    Attributes:
        devices: one :class:`DeviceBars` per device.
        notes: sentences (pids hidden by a container, servers that did not answer, ...).
        pids_visible: False when the driver's pids are not in this pid namespace.
    """

    devices: list[DeviceBars]
    notes: list[str] = field(default_factory=list)
    pids_visible: bool = True

    def rows(self) -> list[tuple[str, ...]]:
        """Table rows, one per bar (a device with none gets one ``—`` row)."""
        rows: list[tuple[str, ...]] = []
        for device in self.devices:
            label = f"{device.index}: {device.name}"
            if not device.bars:
                rows.append((label, "nobody", "—", "—", "—", "—"))
            for bar in device.bars:
                rows.append((label, *_bar_cells(bar)))
        return rows

    def text(self) -> str:
        """Plain-text table, notes after it."""
        if not self.devices:
            return "\n".join(self.notes or ["mlnb: no GPU found."])
        return "\n".join([display.text_table(HEADERS, self.rows()), *self.notes])

    def html(self) -> str:
        """Escaped HTML table, notes after it."""
        import html

        table = display.html_table(HEADERS, self.rows(), caption="whose GPU memory")
        return table + "".join(f"<p>{html.escape(n)}</p>" for n in self.notes)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what the server endpoint returns)."""
        return {
            "devices": [
                {
                    "index": d.index,
                    "name": d.name,
                    "total": d.total,
                    "used": d.used,
                    "uuid": d.uuid,
                    "parent": d.parent,
                    "bars": [vars(b).copy() | {"pids": list(b.pids)} for b in d.bars],
                }
                for d in self.devices
            ],
            "notes": list(self.notes),
            "pids_visible": self.pids_visible,
        }


def _bar_cells(bar: Bar) -> tuple[str, ...]:
    who = "this kernel" if bar.this else bar.label
    if bar.kind == "kernel" and bar.path and not bar.this:
        who = bar.path
    if bar.kind == "process" and bar.command:
        who = f"another process ({bar.command})"
    idle = display.human_duration(bar.idle_seconds) if bar.idle_seconds is not None else "—"
    if bar.idle_holding:
        idle += " (idle, holding memory)"
    return (
        who,
        display.human_bytes(bar.used) if bar.used is not None else "?",
        ", ".join(map(str, bar.pids)),
        idle,
        bar.user or "—",
    )


def owning_kernel(
    pid: int, kernels: dict[int, KernelRef], by_id: dict[str, KernelRef], lookup: ProcessLookup
) -> KernelRef | None:
    """The kernel ``pid`` is, or descends from: by kernel pid, else by the connection file
    named in an ancestor's command line (for kernels whose pid the caller does not know)."""
    current: int | None = pid
    for _ in range(MAX_PARENT_HOPS):
        if current is None or current <= 1:
            return None
        if current in kernels:
            return kernels[current]
        kernel_id = kernel_id_from_argv(lookup.argv(current))
        if kernel_id is not None:
            return by_id.get(kernel_id) or KernelRef(kernel_id, pid=current)
        current = lookup.parent(current)
    return None


def _idle(kernel: KernelRef, now: float) -> float | None:
    if kernel.execution_state == "busy":
        return 0.0
    if kernel.last_activity is None:
        return None
    return max(0.0, now - kernel.last_activity)


def _kernel_bar(
    kernel: KernelRef,
    used: int | None,
    pids: Sequence[int],
    now: float,
    idle_after: float,
    source: str,
    this_pid: int | None,
    user: str | None = None,
) -> Bar:
    idle = _idle(kernel, now)
    return Bar(
        kind="kernel",
        label=kernel.path or f"kernel {kernel.kernel_id[:8]}",
        used=used,
        pids=tuple(sorted(pids)),
        kernel_id=kernel.kernel_id,
        path=kernel.path,
        idle_seconds=idle,
        idle_holding=bool(idle is not None and idle >= idle_after and used),
        user=user,
        source=source,
        this=this_pid is not None and (kernel.pid == this_pid or this_pid in pids),
    )


def _add(total: int | None, more: int | None) -> int | None:
    return None if total is None or more is None else total + more


def _device_bars_from_driver(
    device: DeviceStatus,
    kernels: dict[int, KernelRef],
    by_id: dict[str, KernelRef],
    lookup: ProcessLookup,
    now: float,
    idle_after: float,
    this_pid: int | None,
) -> list[Bar]:
    grouped: dict[str, tuple[KernelRef, int | None, list[int]]] = {}
    others: list[Bar] = []
    for process in device.processes:
        kernel = owning_kernel(process.pid, kernels, by_id, lookup)
        if kernel is None:
            others.append(
                Bar(
                    kind="process",
                    label="another process",
                    used=process.used,
                    pids=(process.pid,),
                    user=lookup.user(process.pid),
                    command=lookup.name(process.pid)
                    or (process.name if process.name != "?" else None),
                )
            )
            continue
        _, used, pids = grouped.get(kernel.kernel_id, (kernel, 0, []))
        grouped[kernel.kernel_id] = (kernel, _add(used, process.used), [*pids, process.pid])
    bars = [
        _kernel_bar(kernel, used, pids, now, idle_after, "nvml", this_pid, lookup.user(pids[0]))
        for kernel, used, pids in grouped.values()
    ]
    return bars + others


def _device_bars_from_reports(
    device: DeviceStatus,
    position: int,
    reports: Iterable[SelfReport],
    by_pid: dict[int, KernelRef],
    now: float,
    idle_after: float,
    this_pid: int | None,
) -> list[Bar]:
    bars = []
    for report in reports:
        for use in report.devices:
            matches = use.uuid == device.uuid if use.uuid and device.uuid else use.index == position
            if not matches or not use.reserved:
                continue
            kernel = by_pid.get(report.pid) or KernelRef(
                report.kernel_id or f"pid {report.pid}",
                pid=report.pid,
                path=report.notebook,
                last_activity=report.time,
                execution_state="busy" if report.busy else "idle",
            )
            bars.append(
                _kernel_bar(
                    kernel, use.reserved, [report.pid], now, idle_after, "self-report", this_pid
                )
            )
    return bars


def _unattributed(device: DeviceStatus, bars: list[Bar]) -> list[Bar]:
    """What the driver's processes hold beyond the kernels' own reports, as one bar."""
    listed = sum(p.used or 0 for p in device.processes)
    rest = listed - sum(b.used or 0 for b in bars)
    if rest <= 0:
        return []
    return [
        Bar(
            kind="process",
            label="processes not visible here",
            used=rest,
            pids=tuple(p.pid for p in device.processes),
        )
    ]


def pids_hidden(devices: Sequence[DeviceStatus], lookup: ProcessLookup) -> bool:
    """True when the driver lists processes and none of their pids is a process here (another
    pid namespace); one pid that exited between the reads does not count."""
    listed = [p.pid for d in devices for p in d.processes]
    return bool(listed) and not any(lookup.exists(pid) for pid in listed)


def attribute(
    devices: Sequence[DeviceStatus],
    kernels: Sequence[KernelRef] = (),
    *,
    reports: Sequence[SelfReport] | None = None,
    now: float | None = None,
    idle_after: float = IDLE_AFTER,
    this_pid: int | None = None,
    notes: Sequence[str] = (),
    lookup: ProcessLookup | None = None,
) -> Attribution:
    """Map every device's processes to kernels, notebooks and other processes.

    Args:
        devices: the GPUs (and MIG instances) with their processes, as a backend reads them.
        kernels: the kernels of the Jupyter server(s), with pids where known.
        reports: the kernels' self-reports, used when the driver's pids are not visible
            here; read from the runtime directory when None and needed.
        now: the time idle durations are measured to (default: now).
        idle_after: seconds of inactivity after which a kernel holding memory is flagged.
        this_pid: the asking process (``%gpu`` in a kernel), marked ``this``.
        notes: sentences to pass on (e.g. a server that did not answer).
        lookup: the process lookup (psutil); tests may pass their own.

    Returns:
        An :class:`Attribution`: per device, bars sorted by memory, largest first.
    """
    lookup = lookup or ProcessLookup()
    now = time.time() if now is None else now
    by_pid = {k.pid: k for k in kernels if k.pid is not None}
    by_id = {k.kernel_id: k for k in kernels}
    if this_pid is not None and this_pid not in by_pid:  # the asker, and its workers
        own_id = kernel_id_from_argv(lookup.argv(this_pid)) or "this process"
        known = by_id.get(own_id)
        by_pid[this_pid] = KernelRef(
            own_id,
            pid=this_pid,
            path=known.path if known else None,
            last_activity=known.last_activity if known else None,
            execution_state=known.execution_state if known else None,
        )
    hidden = pids_hidden(devices, lookup)
    all_notes = list(notes)
    if hidden:
        all_notes.append(HIDDEN_PIDS_NOTE)
        if reports is None:
            from mlnb.gpu.selfreport import read_all

            reports = read_all()
    result = []
    for position, device in enumerate(devices):
        if hidden:
            bars = _device_bars_from_reports(
                device, position, reports or (), by_pid, now, idle_after, this_pid
            )
            bars.extend(_unattributed(device, bars))
        else:
            bars = _device_bars_from_driver(
                device, by_pid, by_id, lookup, now, idle_after, this_pid
            )
        bars.sort(key=lambda b: (not b.this, -(b.used or 0), b.label))
        result.append(
            DeviceBars(
                device.index,
                device.name,
                device.total,
                device.used,
                bars,
                device.uuid,
                device.parent,
            )
        )
    return Attribution(result, all_notes, pids_visible=not hidden)
