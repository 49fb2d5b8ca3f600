"""``status()``: one record per device — memory, utilisation, temperature, power, processes.

With no GPU it says so in one sentence (why: no driver, driver mismatch, ...) and
shows host RAM instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from mlnb import display
from mlnb.gpu import backends
from mlnb.gpu.backends.records import DeviceStatus

HEADERS = (
    "device",
    "name",
    "memory used",
    "total",
    "used %",
    "util %",
    "temp °C",
    "power W",
    "processes",
)


@dataclass(frozen=True)
class StatusReport(display.Report):
    """The devices found, host RAM, and why any reader is off.

    Iterating over it yields the GPU devices (one record each).

    Attributes:
        devices: one :class:`DeviceStatus` per GPU.
        host: host RAM as a :class:`DeviceStatus` (``kind="host"``).
        unavailable: backend name -> the sentence saying why it is off.
    """

    devices: list[DeviceStatus]
    host: DeviceStatus | None
    unavailable: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[DeviceStatus]:
        return iter(self.devices)

    def __len__(self) -> int:
        return len(self.devices)

    def no_gpu_sentence(self) -> str | None:
        """One line when there is no GPU, saying why; None when there is one."""
        if self.devices:
            return None
        reason = next(
            (self.unavailable[n] for n in ("fake", "nvml", "gputil") if n in self.unavailable),
            None,
        )
        why = f" ({reason.rstrip('.')})" if reason else ""
        return f"mlnb: no GPU found{why}; showing host RAM instead."

    def rows(self) -> list[tuple[str, ...]]:
        """Table rows: the GPUs, or host RAM when there are none."""
        shown = self.devices or ([self.host] if self.host is not None else [])
        return [_row(d) for d in shown]

    def text(self) -> str:
        """Plain-text table (with the no-GPU sentence first when it applies)."""
        table = display.text_table(HEADERS, self.rows())
        sentence = self.no_gpu_sentence()
        return f"{sentence}\n{table}" if sentence else table

    def html(self) -> str:
        """HTML table (escaped), with the no-GPU sentence as its caption when it applies."""
        return display.html_table(
            HEADERS, self.rows(), caption=self.no_gpu_sentence() or "GPU status"
        )


def _row(device: DeviceStatus) -> tuple[str, ...]:
    label = "host" if device.kind == "host" else f"{device.backend}:{device.index}"
    fraction = device.used_fraction
    processes = ", ".join(
        f"{p.name}[{p.pid}] {display.human_bytes(p.used)}" for p in device.processes
    )
    return (
        label,
        device.name,
        display.human_bytes(device.used),
        display.human_bytes(device.total),
        f"{fraction * 100:.0f}" if fraction is not None else "—",
        f"{device.utilization:.0f}" if device.utilization is not None else "—",
        f"{device.temperature:.0f}" if device.temperature is not None else "—",
        f"{device.power:.0f}" if device.power is not None else "—",
        processes or "—",
    )


def status() -> StatusReport:
    """Read every device now.

    Returns:
        A :class:`StatusReport`: iterate it for one record per GPU; ``.host`` is host
        RAM; ``.unavailable`` says why each reader that could not start is off.
    """
    selection = backends.active()
    return StatusReport(
        devices=selection.gpu_devices(),
        host=selection.host_device(),
        unavailable=dict(selection.unavailable),
    )
