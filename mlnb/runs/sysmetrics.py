"""System metrics sampled during a run and logged as ``sys/...`` metrics.

The set follows MLflow's system-metrics monitor: CPU, memory, disk, network and,
per NVIDIA GPU, utilisation, memory and power. A daemon thread samples every
``interval`` seconds; each sample's step is its sample number. A reader that
fails is reported once as an :class:`~mlnb.exceptions.MlnbWarning` and skipped
from then on, so a sampler never raises into the user's cell.

Metric names: ``sys/cpu_percent``, ``sys/memory_used_mb``, ``sys/memory_percent``,
``sys/process_rss_mb``, ``sys/disk_used_percent``, ``sys/disk_available_mb``,
``sys/disk_read_mb``, ``sys/disk_write_mb``, ``sys/net_recv_mb``, ``sys/net_sent_mb``
(disk and network counted from the run's start), and ``sys/gpu<i>/utilization_percent``,
``sys/gpu<i>/memory_used_mb``, ``sys/gpu<i>/memory_percent``, ``sys/gpu<i>/power_w``.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mlnb.exceptions import InvalidArgumentError, MlnbWarning
from mlnb.nvml import NvmlReader

if TYPE_CHECKING:
    from mlnb.runs.run import Run

Reader = Callable[[], dict[str, float]]
MB = 1024 * 1024
MIN_INTERVAL = 0.05


def host_reader(disk_path: str = ".") -> Reader:
    """CPU, memory, disk and network of this machine (network/disk I/O since the first call)."""
    import os

    import psutil

    process = psutil.Process(os.getpid())
    psutil.cpu_percent(interval=None)  # the first call only primes the counter
    io0 = psutil.disk_io_counters()
    net0 = psutil.net_io_counters()

    def read() -> dict[str, float]:
        memory = psutil.virtual_memory()
        disk = psutil.disk_usage(disk_path)
        values = {
            "sys/cpu_percent": psutil.cpu_percent(interval=None),
            "sys/memory_used_mb": (memory.total - memory.available) / MB,
            "sys/memory_percent": memory.percent,
            "sys/process_rss_mb": process.memory_info().rss / MB,
            "sys/disk_used_percent": disk.percent,
            "sys/disk_available_mb": disk.free / MB,
        }
        io = psutil.disk_io_counters()
        if io is not None and io0 is not None:
            values["sys/disk_read_mb"] = (io.read_bytes - io0.read_bytes) / MB
            values["sys/disk_write_mb"] = (io.write_bytes - io0.write_bytes) / MB
        net = psutil.net_io_counters()
        if net is not None and net0 is not None:
            values["sys/net_recv_mb"] = (net.bytes_recv - net0.bytes_recv) / MB
            values["sys/net_sent_mb"] = (net.bytes_sent - net0.bytes_sent) / MB
        return values

    return read


def gpu_reader() -> Reader | None:
    """Utilisation, memory and power of each NVIDIA GPU (through :mod:`mlnb.nvml`), or None without.

    A reading a board does not support (power on some boards) is left out of the sample.
    """
    try:
        nv = NvmlReader()
        handles = [nv.handle(index) for index in range(nv.count)]
    except Exception:  # no driver, no library, or no device
        return None

    def read() -> dict[str, float]:
        values: dict[str, float] = {}
        for index, handle in enumerate(handles):
            prefix = f"sys/gpu{index}"
            total, used, _ = nv.memory(handle)
            utilization = nv.utilization(handle)
            if utilization is not None:
                values[f"{prefix}/utilization_percent"] = utilization
            values[f"{prefix}/memory_used_mb"] = used / MB
            values[f"{prefix}/memory_percent"] = 100.0 * used / max(total, 1)
            power = nv.power(handle)
            if power is not None:
                values[f"{prefix}/power_w"] = power
        return values

    return read


def default_readers(disk_path: str = ".") -> list[Reader]:
    """The host reader, plus the NVML reader when NVIDIA GPUs are present."""
    readers = [host_reader(disk_path)]
    gpu = gpu_reader()
    if gpu is not None:
        readers.append(gpu)
    return readers


#: the longest interval between samples (a day); longer ones are a mistake, and ``inf`` would
#: overflow the sampler's wait
MAX_INTERVAL = 86_400.0


def check_interval(interval: object) -> float:
    """``interval`` as seconds between samples, or one sentence why it cannot be.

    Raises:
        InvalidArgumentError: not a number from :data:`MIN_INTERVAL` to :data:`MAX_INTERVAL`
            (NaN, infinities and negative numbers included).
    """
    if (
        isinstance(interval, bool)
        or not isinstance(interval, (int, float))
        or not MIN_INTERVAL <= interval <= MAX_INTERVAL
    ):
        raise InvalidArgumentError(
            f"system-metrics interval must be a number of seconds from {MIN_INTERVAL} to "
            f"{MAX_INTERVAL:g} (0 or None turns sampling off), got {interval!r}."
        )
    return float(interval)


class SystemSampler:
    """A daemon thread that logs ``sys/...`` metrics to a run every ``interval`` seconds.

    Args:
        run: the :class:`~mlnb.runs.run.Run` to log to.
        interval: seconds between samples (at least 0.05).
        readers: callables returning ``{name: value}``; default :func:`default_readers`.
    """

    def __init__(self, run: Run, interval: float, readers: Sequence[Reader] | None = None):
        self.interval = check_interval(interval)
        self.run = run
        self.samples = 0
        self._readers = list(readers) if readers is not None else None
        self._failed: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"mlnb-sys-{run.id}", daemon=True)

    def start(self) -> SystemSampler:
        """Start sampling; the run stops the sampler when it finishes."""
        self._thread.start()
        self.run.on_finish(self.stop)
        return self

    def stop(self) -> None:
        """Stop the thread (waits for a sample in progress)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        if self._readers is None:
            self._readers = self._guarded(lambda: default_readers(), -1) or []
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                break

    def sample(self) -> dict[str, float]:
        """Read every working reader once and log the values at the next sample step."""
        values: dict[str, float] = {}
        for index, reader in enumerate(self._readers or []):
            if index not in self._failed:
                values.update(self._guarded(reader, index) or {})
        if values:
            self._guarded(lambda: self.run.log_system(values, self.samples), -2)
            self.samples += 1
        return values

    def _guarded(self, action: Callable[[], Any], index: int) -> Any:
        try:
            return action()
        except Exception as exc:  # a sampler must never break the user's cell
            if index not in self._failed:
                self._failed.add(index)
                warnings.warn(
                    f"mlnb: a system-metrics reader failed and was turned off ({type(exc).__name__}: {exc}); the run goes on.",
                    MlnbWarning,
                    stacklevel=2,
                )
            return None


def start_sampler(
    run: Run, interval: float, readers: Sequence[Reader] | None = None
) -> SystemSampler:
    """Start a :class:`SystemSampler` for ``run`` and return it."""
    return SystemSampler(run, interval, readers).start()
