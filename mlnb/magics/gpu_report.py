"""The hooks and the thread through which a kernel with mlnb loaded reports its own GPU memory.

Registered by ``%load_ext mlnb`` and removed by ``%unload_ext``. They cost nothing
until the process uses a GPU allocator (torch with CUDA initialised, or mlnb's fake
backend): only then is :mod:`mlnb.gpu.selfreport` imported and the report written —
after each cell, marked busy before it, and every :data:`INTERVAL` seconds while a
cell runs (a training cell may run for hours, and a report from before it would say
the kernel holds nothing). Servers read the reports where NVML cannot see the kernels' pids.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import TYPE_CHECKING, Any

from mlnb.hooks import ShellHooks

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from mlnb.gpu.selfreport import SelfReporter

log = logging.getLogger(__name__)

#: seconds between reports while a cell runs
INTERVAL = 5.0


def _gpu_in_use() -> bool:
    torch = sys.modules.get("torch")
    if torch is not None and getattr(torch, "cuda", None) is not None:
        try:
            if torch.cuda.is_initialized():
                return True
        except Exception:  # a torch build without CUDA support
            pass
    return "mlnb.gpu.backends.fake" in sys.modules


class GpuSelfReport:
    """Writes the kernel's self-report around each cell, and while one runs, once a GPU is in use."""

    def __init__(self, shell: InteractiveShell, interval: float | None = None) -> None:
        self.hooks = ShellHooks(shell, "mlnb GPU self-report")
        self.reporter: SelfReporter | None = None
        self.busy = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.hooks.register("self-report-pre", "pre_run_cell", self.before_cell)
        self.hooks.register("self-report-post", "post_run_cell", self.after_cell)
        self._interval = INTERVAL if interval is None else interval
        #: started with the first report: a kernel that never uses a GPU never runs it
        self._thread: threading.Thread | None = None

    def before_cell(self, _info: Any = None) -> None:
        """A cell starts: report busy (with the figures so far) when a GPU is in use."""
        self.busy = True
        self.write()

    def after_cell(self, _result: Any = None) -> None:
        """A cell ended: report the figures now."""
        self.busy = False
        self.write()

    def write(self) -> None:
        """Write the report when the process uses a GPU allocator (one writer at a time)."""
        with self._lock:
            if self.reporter is None:
                if not _gpu_in_use():
                    return
                from mlnb.gpu.selfreport import SelfReporter

                self.reporter = SelfReporter()
                self._start_thread()
            self.reporter.write(busy=self.busy)

    def _start_thread(self) -> None:
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(
                target=self._loop,
                args=(self._interval,),
                name="mlnb-gpu-selfreport",
                daemon=True,
            )
            self._thread.start()

    def _loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            if not self.busy:
                continue  # between cells the last report is still right
            try:
                self.write()
            except Exception:  # a report that cannot be written must never disturb the kernel
                log.debug("mlnb: GPU self-report failed", exc_info=True)

    def close(self) -> None:
        """Stop the thread, unregister the hooks and delete the report file."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.hooks.clear()
        with self._lock:
            if self.reporter is not None:
                self.reporter.remove()
                self.reporter = None
