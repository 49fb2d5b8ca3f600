"""Warm kernels: a kernel source whose kernels are forked from a pre-loaded zygote.

:class:`WarmKernelSource` is a :class:`~mlnb.pipeline.kernels.KernelSource` (it keeps a
spare booting, too) that starts each kernel by asking a :class:`~mlnb.pipeline.forking.Zygote`
to fork one. The zygote, one per kind of kernel (name, working directory, seed), has
imported ipykernel and the notebook's libraries once, so a trial's kernel answers
sooner and its ``import`` lines cost nothing — yet every trial still runs in its own
fresh process that nothing ran in before.

Where forking is unsafe or impossible, kernels start the usual way and a warning says
why, once: not Linux; a kernel command other than this interpreter's ipykernel; a
zygote that would not start; one where importing the notebook's libraries started
Python threads or initialised CUDA. Modules unfit to load ahead (they printed or
warned, or need the running kernel) are left to the kernel: the zygote is restarted
without them.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlnb.exceptions import KernelStartError
from mlnb.pipeline.forking import ForkedProcess, ForkProvisioner, Zygote, fork_supported
from mlnb.pipeline.kernels import KernelKind, KernelSource, launch, new_manager
from mlnb.pipeline.preload import notebook_imports
from mlnb.pipeline.ready_client import ReadyClient

log = logging.getLogger(__name__)

#: seconds a zygote has to import ipykernel and the notebook's libraries
ZYGOTE_START_SECONDS = 120.0


def expected_kind(
    notebook: str, kernel: str | None, cwd: str | None, seed: int | None
) -> tuple[KernelKind, list[str]] | None:
    """The kind of kernel a run of ``notebook`` will ask for, and the modules it imports,
    read cheaply (plain JSON) so a zygote can start loading before the run is planned;
    None when the notebook cannot be read (the run itself will say why)."""
    try:
        nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
        name = kernel or nb.get("metadata", {}).get("kernelspec", {}).get("name") or "python3"
    except (OSError, ValueError, AttributeError):
        return None
    folder = Path(cwd) if cwd else Path(notebook).resolve().parent
    return KernelKind(str(name), str(folder.resolve()), seed), notebook_imports(nb)


class WarmKernelSource(KernelSource):
    """Kernels forked from a zygote per kind, with a spare booting for the next run."""

    def __init__(self, start_timeout: float = ZYGOTE_START_SECONDS) -> None:
        super().__init__(warm=True)
        self.start_timeout = start_timeout
        self._zygotes: dict[KernelKind, Zygote | None] = {}
        #: zygotes started by :meth:`prepare`, still loading, with the modules they load
        self._early: dict[KernelKind, tuple[Zygote, list[str]]] = {}
        #: why kernels of a kind start the usual way (kind → reason), for messages and tests
        self.cold_reasons: dict[KernelKind, str] = {}
        self.forked = 0

    def start(self, kind: KernelKind, imports: Sequence[str] = ()) -> Any:
        """A kernel forked from ``kind``'s zygote (started on first use), or a plain one."""
        zygote = self.zygote(kind, imports)
        km = new_manager(kind)
        if zygote is not None:
            km.kernel_id = str(uuid.uuid4())
            provisioner = ForkProvisioner(
                kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km
            )
            provisioner.zygote = zygote
            km.provisioner = provisioner
            km.client_factory = ReadyClient
        launch(km, kind)
        self.forked += isinstance(getattr(km.provisioner, "process", None), ForkedProcess)
        return km

    def zygote(self, kind: KernelKind, imports: Sequence[str] = ()) -> Zygote | None:
        """``kind``'s zygote (started now if needed), or None where kernels start cold."""
        if kind in self._zygotes:
            current = self._zygotes[kind]
            if current is None or current.alive():
                return current
            self._cold(kind, "the kernel zygote exited")
            return None
        why = fork_supported()
        zygote = None if why else self._ready(kind, self._early.pop(kind, None), list(imports))
        self._zygotes[kind] = zygote
        return zygote

    def prepare(self, kind: KernelKind, imports: Sequence[str] = ()) -> None:
        """Start ``kind``'s zygote loading now, in the background, so that it is ready
        (or nearly) when the first run asks for a kernel (nothing happens where forking
        is not supported or the zygote is already there)."""
        if kind in self._zygotes or kind in self._early or fork_supported():
            return
        try:
            self._early[kind] = (
                Zygote(kind.cwd, kind.environment(), list(imports), self.start_timeout),
                list(imports),
            )
        except (OSError, ValueError) as exc:
            log.debug("mlnb: the kernel zygote did not start early: %s", exc)

    def _ready(
        self, kind: KernelKind, early: tuple[Zygote, list[str]] | None, modules: list[str]
    ) -> Zygote | None:
        """A loaded zygote that is safe to fork (the early one when there is one); once
        more without the modules unfit to load ahead."""
        for attempt in (1, 2):
            try:
                if attempt == 1 and early is not None:
                    zygote, modules = early
                else:
                    zygote = Zygote(kind.cwd, kind.environment(), modules, self.start_timeout)
                zygote.wait_ready()
            except (KernelStartError, OSError, ValueError) as exc:
                self._cold(kind, f"the kernel zygote did not start ({exc})")
                return None
            if zygote.unsafe:
                zygote.close()
                self._cold(kind, zygote.unsafe)
                return None
            if not zygote.unfit:
                return zygote
            zygote.close()
            log.info("mlnb: left to each kernel to import: %s", ", ".join(zygote.unfit))
            modules = [m for m in modules if m not in zygote.unfit]
        self._cold(kind, "the notebook's imports could not be loaded ahead")
        return None

    def _cold(self, kind: KernelKind, reason: str) -> None:
        self._zygotes[kind] = None
        self.cold_reasons[kind] = reason
        log.warning("mlnb: warm kernels are off (%s); kernels start the usual way.", reason)

    def close(self) -> None:
        """Stop the spare kernel and every zygote."""
        super().close()
        for zygote in [*self._zygotes.values(), *(z for z, _ in self._early.values())]:
            if zygote is not None:
                zygote.close()
        self._zygotes.clear()
        self._early.clear()
