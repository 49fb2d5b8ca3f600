"""The hooks through which a kernel with mlnb loaded reports its own GPU memory.

Registered by ``%load_ext mlnb`` and removed by ``%unload_ext``. They cost nothing
until the process uses a GPU allocator (torch with CUDA initialised, or mlnb's fake
backend): only then is :mod:`mlnb.gpu.selfreport` imported and the report written,
after each cell and marked busy before it. Servers read the reports where NVML
cannot see the kernels' pids.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from mlnb.hooks import ShellHooks

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from mlnb.gpu.selfreport import SelfReporter


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
    """Writes the kernel's self-report around each cell once a GPU allocator is in use."""

    def __init__(self, shell: InteractiveShell) -> None:
        self.hooks = ShellHooks(shell, "mlnb GPU self-report")
        self.reporter: SelfReporter | None = None
        self.hooks.register("self-report-pre", "pre_run_cell", self.before_cell)
        self.hooks.register("self-report-post", "post_run_cell", self.after_cell)

    def before_cell(self, _info: Any = None) -> None:
        """Mark the report busy when there is one."""
        if self.reporter is not None:
            self.reporter.before_cell()

    def after_cell(self, _result: Any = None) -> None:
        """Write the report when the process uses a GPU allocator."""
        if self.reporter is None:
            if not _gpu_in_use():
                return
            from mlnb.gpu.selfreport import SelfReporter

            self.reporter = SelfReporter()
        self.reporter.after_cell()

    def close(self) -> None:
        """Unregister the hooks and delete the report file."""
        self.hooks.clear()
        if self.reporter is not None:
            self.reporter.remove()
            self.reporter = None
