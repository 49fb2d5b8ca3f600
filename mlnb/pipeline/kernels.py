"""Start, warm and stop the kernels runs execute in.

Every run gets a fresh kernel. Starting one costs most of a short notebook's wall
time (the kernel process imports IPython and ipykernel), so a :class:`KernelSource`
can keep one *spare* kernel booting while the current run executes: the next run
of the same kind (kernel name, working directory, seed) takes the spare, already
started, and a new spare is launched. Spares are never reused after a run — each
run still gets a kernel nothing else ran in.

The seed goes into the kernel's environment at start (``PYTHONHASHSEED`` and
``MLNB_SEED``): the hash seed can only be set before the interpreter starts, and
``mlnb.pin()`` called without a seed inside the notebook picks ``MLNB_SEED`` up.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlnb import config

log = logging.getLogger(__name__)

# nbclient passes this too: parallel kernels must not share IPython's sqlite history
KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]
TRANSPORT = "ipc" if os.name == "posix" else "tcp"


@dataclass(frozen=True)
class KernelKind:
    """What makes two kernels interchangeable: name, working directory and seed."""

    name: str
    cwd: str
    seed: int | None

    def environment(self) -> dict[str, str]:
        """The environment the kernel starts with."""
        env = dict(os.environ)
        if self.seed is not None:
            env["PYTHONHASHSEED"] = str(self.seed)
            env[config.SEED.env] = str(self.seed)
        return env


def new_manager(kind: KernelKind) -> Any:
    """A kernel manager for ``kind``, its kernel not launched yet."""
    from jupyter_client.manager import AsyncKernelManager

    # IPC (Unix sockets) where available: no TCP ports to race for when kernels start
    # in parallel, and no "running over TCP without encryption" warning on stderr.
    # Each kernel gets its own socket path prefix: the default is "kernel-ipc" in the
    # working directory, which parallel kernels would share.
    options: dict[str, Any] = {"kernel_name": kind.name, "transport": TRANSPORT}
    if TRANSPORT == "ipc":
        options["ip"] = os.path.join(tempfile.gettempdir(), f"mlnb-{uuid.uuid4().hex[:12]}-ipc")
    return AsyncKernelManager(**options)


def launch(km: Any, kind: KernelKind) -> Any:
    """Launch ``km``'s kernel process (it boots in the background); returns ``km``."""
    from jupyter_core.utils import run_sync

    run_sync(km.start_kernel)(
        cwd=kind.cwd, env=kind.environment(), extra_arguments=list(KERNEL_ARGUMENTS)
    )
    return km


def start_kernel(kind: KernelKind) -> Any:
    """Launch a kernel process (it boots in the background) and return its manager."""
    return launch(new_manager(kind), kind)


def stop_kernel(km: Any) -> None:
    """Stop a kernel now and remove its connection file; safe on a dead or stopped one."""
    from jupyter_core.utils import run_sync

    try:
        if run_sync(km.is_alive)():
            run_sync(km.shutdown_kernel)(now=True)
        else:
            run_sync(km.cleanup_resources)()
    except Exception as exc:  # the event loop may be gone after Ctrl-C: kill the process
        log.debug("mlnb: clean kernel shutdown failed (%s); killing the process", exc)
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            process.kill()


def kernel_pid(km: Any) -> int | None:
    """The kernel process's id, when the manager knows it."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    return getattr(process, "pid", None)


class KernelSource:
    """Hands out fresh kernels; with ``warm=True`` keeps one spare booting for the next run."""

    def __init__(self, warm: bool = False) -> None:
        self.warm = warm
        self._spare: tuple[KernelKind, Any] | None = None
        self.started = 0
        self.spares_used = 0

    def acquire(
        self, kind: KernelKind, prewarm_next: bool = True, imports: Sequence[str] = ()
    ) -> Any:
        """A started kernel of ``kind`` nothing has run in; launches the next spare if warm.

        ``imports`` are the modules the notebook imports (a source that pre-loads
        them, :class:`mlnb.pipeline.kernel_pool.WarmKernelSource`, uses them).
        """
        km = self._take_spare(kind)
        if km is None:
            km = self.start(kind, imports)
            self.started += 1
        else:
            self.spares_used += 1
        if self.warm and prewarm_next and self._spare is None:
            self._spare = (kind, self.start(kind, imports))
            self.started += 1
        return km

    def start(self, kind: KernelKind, imports: Sequence[str] = ()) -> Any:
        """Launch a new kernel of ``kind`` (a plain process start here)."""
        return start_kernel(kind)

    def _take_spare(self, kind: KernelKind) -> Any | None:
        if self._spare is None:
            return None
        spare_kind, km = self._spare
        self._spare = None
        from jupyter_core.utils import run_sync

        if spare_kind == kind and run_sync(km.is_alive)():
            return km
        stop_kernel(km)
        return None

    def close(self) -> None:
        """Stop the spare kernel, if any."""
        if self._spare is not None:
            stop_kernel(self._spare[1])
            self._spare = None
