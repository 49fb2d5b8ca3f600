"""What a kernel with mlnb loaded says about its own GPU memory, for when NVML can't see pids.

Inside a container without the host's pid namespace NVML reports host pids (or none
at all), so no server can tell which kernel holds which memory. Each kernel with mlnb
loaded therefore writes a small JSON file about itself::

    <jupyter runtime dir>/mlnb-gpu/<pid>.json
    {"pid": 4242, "kernel_id": "…", "notebook": "train.ipynb", "time": 1.7e9,
     "busy": false, "devices": [{"index": 0, "uuid": "GPU-…", "allocated": …, "reserved": …}]}

Why a file, and why there: a kernel busy in a training cell cannot answer a message
(its shell channel waits for the cell), but its last report stays readable; the
Jupyter runtime directory is where the server and its kernels already share connection
files, whereas ``$MLNB_HOME`` defaults to each notebook's own folder. The file is
written after each cell (and marked busy before it) only once the process uses a GPU
allocator (torch with CUDA initialised, or the fake backend), replaced atomically, and
removed on ``%unload_ext`` and at exit; readers drop files whose pid has exited (a
kernel that was killed).
"""

from __future__ import annotations

import atexit
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FOLDER = "mlnb-gpu"
_CONNECTION_FILE = re.compile(r"kernel-([0-9A-Za-z-]+)\.json$")


@dataclass(frozen=True)
class DeviceUse:
    """One device's allocator figures in a self-report."""

    index: int
    uuid: str | None
    allocated: int
    reserved: int


@dataclass(frozen=True)
class SelfReport:
    """One kernel's report about itself.

    Attributes:
        pid: the kernel's process id (in the server's pid namespace: kernels are its children).
        kernel_id: the Jupyter kernel id from the connection file name, None outside Jupyter.
        notebook: the session's notebook path (``JPY_SESSION_NAME``), None if unknown.
        time: when the report was written (seconds since the epoch).
        busy: True when written as a cell started (the figures are from before it).
        devices: allocator figures per device.
    """

    pid: int
    kernel_id: str | None
    notebook: str | None
    time: float
    busy: bool
    devices: tuple[DeviceUse, ...]


def folder() -> Path:
    """Where self-reports live: ``<jupyter runtime dir>/mlnb-gpu``."""
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir()) / FOLDER


def kernel_id_from_argv(argv: list[str]) -> str | None:
    """The kernel id in a kernel's command line (``-f …/kernel-<id>.json``), None if absent."""
    for arg in argv:
        found = _CONNECTION_FILE.search(arg)
        if found:
            return found.group(1)
    return None


def _allocator_devices() -> list[DeviceUse] | None:
    """This process's allocator figures, None when no GPU allocator is in use (nothing to say)."""
    torch = sys.modules.get("torch")
    fake = sys.modules.get("mlnb.gpu.backends.fake")
    cuda_in_use = torch is not None and torch.cuda.is_initialized()
    if not cuda_in_use and fake is None:
        return None
    from mlnb.gpu import backends

    stats = backends.active().allocators()
    uuids = _cuda_uuids(torch) if cuda_in_use else {}
    found = []
    for stat in stats:
        if not stat.device.startswith("cuda:"):
            continue
        index = int(stat.device.split(":")[1])
        found.append(DeviceUse(index, uuids.get(index), stat.allocated, stat.reserved or 0))
    return found or None


def _cuda_uuids(torch: Any) -> dict[int, str]:
    uuids = {}
    for index in range(torch.cuda.device_count()):
        uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
        if uuid is not None:
            text = str(uuid)
            uuids[index] = text if text.startswith(("GPU-", "MIG-")) else f"GPU-{text}"
    return uuids


class SelfReporter:
    """Writes this kernel's self-report (``mlnb.magics.gpu_report`` says when)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self.pid = os.getpid()
        self.kernel_id = kernel_id_from_argv(sys.argv)
        self.notebook = os.environ.get("JPY_SESSION_NAME") or None
        self.written = False

    @property
    def path(self) -> Path:
        """This kernel's report file."""
        return (self.directory or folder()) / f"{self.pid}.json"

    def write(self, busy: bool) -> bool:
        """Write the report now; False when this process uses no GPU allocator."""
        devices = _allocator_devices()
        if devices is None:
            return False
        payload = {
            "pid": self.pid,
            "kernel_id": self.kernel_id,
            "notebook": self.notebook,
            "time": time.time(),
            "busy": busy,
            "devices": [vars(d) for d in devices],
        }
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(payload), encoding="utf-8")
        os.replace(partial, path)
        if not self.written:  # a kernel shut down normally leaves no report behind
            atexit.register(self.remove)
        self.written = True
        return True

    def remove(self) -> None:
        """Delete this kernel's report (on ``%unload_ext`` and at exit)."""
        if self.written:
            atexit.unregister(self.remove)
        self.path.unlink(missing_ok=True)
        self.written = False


def _parse(payload: dict[str, Any]) -> SelfReport:
    return SelfReport(
        pid=int(payload["pid"]),
        kernel_id=payload.get("kernel_id"),
        notebook=payload.get("notebook"),
        time=float(payload["time"]),
        busy=bool(payload.get("busy")),
        devices=tuple(
            DeviceUse(int(d["index"]), d.get("uuid"), int(d["allocated"]), int(d["reserved"]))
            for d in payload.get("devices", [])
        ),
    )


def read_all(directory: Path | None = None) -> list[SelfReport]:
    """Every live kernel's self-report; reports of exited pids are deleted, unreadable ones skipped."""
    import psutil

    base = directory or folder()
    if not base.is_dir():
        return []
    reports = []
    for path in sorted(base.glob("*.json")):
        try:
            report = _parse(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # being replaced, or not ours: the next read sees it whole
        if not psutil.pid_exists(report.pid):
            path.unlink(missing_ok=True)
            continue
        reports.append(report)
    return reports
