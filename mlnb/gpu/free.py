"""``free()``: release the memory a failed cell and the output cache keep alive.

After an out-of-memory error in a notebook the failed cell's traceback holds every
frame's locals — the tensors included — so ``torch.cuda.empty_cache()`` alone frees
nothing. ``free()`` drops the last exception everywhere IPython keeps it
(``sys.last_type/value/traceback``, ``sys.last_exc``, the last execution result, the
traceback formatter) and clears its frames, removes output-cache entries (``Out[n]``,
``_n``, ``_``, ``__``, ``___``, also in ``user_ns_hidden`` where IPython keeps a
second reference) that hold tensors, runs ``gc.collect()``, empties the
allocator caches (``torch.cuda.empty_cache()`` and ``ipc_collect()``), and reports
what was reclaimed and who still holds memory.
"""

from __future__ import annotations

import gc
import sys
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mlnb import display
from mlnb.gpu import backends
from mlnb.gpu.backends.host import process_rss
from mlnb.gpu.holders import HoldersReport, holders
from mlnb.gpu.storage_walk import StorageWalker

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

_SYS_NAMES = ("last_type", "last_value", "last_traceback", "last_exc")
_OUTPUT_NAMES = ("_", "__", "___")


@dataclass(frozen=True)
class FreeReport(display.Report):
    """What :func:`free` dropped and what it got back.

    Attributes:
        dropped: what was released, e.g. ``["last traceback (3 frames)", "Out[4]"]``.
        tensor_bytes: bytes of tensor storage the dropped references reached (each once).
        collected: objects ``gc.collect()`` found unreachable.
        allocated_before: device -> allocated bytes before; ``allocated_after`` after.
        reserved_before: device -> reserved bytes before; ``reserved_after`` after.
        host_rss_before: this process's resident bytes before; ``host_rss_after`` after.
        still_held: who holds memory afterwards.
    """

    dropped: list[str]
    tensor_bytes: int
    collected: int
    allocated_before: dict[str, int]
    allocated_after: dict[str, int]
    reserved_before: dict[str, int]
    reserved_after: dict[str, int]
    host_rss_before: int
    host_rss_after: int
    still_held: HoldersReport | None = field(default=None, repr=False)

    @property
    def freed(self) -> dict[str, int]:
        """Device -> allocated bytes freed (tensors that died)."""
        return {
            d: self.allocated_before[d] - self.allocated_after.get(d, 0)
            for d in self.allocated_before
        }

    @property
    def released(self) -> dict[str, int]:
        """Device -> reserved bytes given back to the driver (what other processes can use)."""
        return {
            d: self.reserved_before[d] - self.reserved_after.get(d, 0) for d in self.reserved_before
        }

    @property
    def host_freed(self) -> int:
        """Resident host bytes the process gave back to the OS."""
        return self.host_rss_before - self.host_rss_after

    @property
    def reclaimed(self) -> int:
        """The headline figure: GPU bytes given back to the driver, or host bytes without a GPU;
        0 when memory grew meanwhile (:attr:`released` and :attr:`host_freed` keep the sign)."""
        if self.reserved_before:
            return max(0, sum(self.released.values()))
        return max(0, self.host_freed)

    def lines(self) -> list[str]:
        """The report as sentences."""
        h = display.human_bytes
        dropped = (
            ", ".join(self.dropped)
            if self.dropped
            else "nothing (no traceback or cached output held tensors)"
        )
        out = [f"mlnb: dropped {dropped}; gc collected {self.collected} objects."]
        if self.tensor_bytes:
            out.append(f"those references reached {h(self.tensor_bytes)} of tensors.")
        for device in self.allocated_before:
            out.append(
                f"{device}: allocated {h(self.allocated_before[device])} → {h(self.allocated_after.get(device, 0))}, "
                f"reserved {h(self.reserved_before.get(device))} → {h(self.reserved_after.get(device))} "
                f"({_change(self.released.get(device, 0), 'given back to the driver', 'the allocator reserved {} more')})."
            )
        if not self.allocated_before:
            out.append("no GPU allocator in use; host memory only.")
        out.append(
            f"host RSS {h(self.host_rss_before)} → {h(self.host_rss_after)} "
            f"({_change(self.host_freed, 'reclaimed', 'the process grew {}')})."
        )
        if self.still_held is not None and self.still_held.holders:
            top = ", ".join(f"{x.name} {h(x.nbytes)}" for x in self.still_held.top(5))
            out.append(f"still held: {top}.")
        if self.still_held is not None:
            out.extend(self.still_held.notes())
        return out

    def text(self) -> str:
        """Plain text, one sentence a line."""
        return "\n".join(self.lines())


def _change(freed: int, verb: str, grew: str) -> str:
    """``"1.0 GiB reclaimed"``, ``"nothing reclaimed"`` or ``"nothing reclaimed; the process
    grew 16.0 KiB"`` — never a negative amount."""
    if freed > 0:
        return f"{display.human_bytes(freed)} {verb}"
    if freed < 0:
        return f"nothing {verb}; {grew.format(display.human_bytes(-freed))}"
    return f"nothing {verb}"


def _frames(tb: TracebackType | None) -> list[Any]:
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def _exception_chain(exc: BaseException | None) -> list[BaseException]:
    chain: list[BaseException] = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


def drop_traceback(
    exc: BaseException | None,
    storages: dict[tuple[str, int], tuple[str, int]] | None = None,
    walker: StorageWalker | None = None,
) -> int:
    """Clear the frames of ``exc``'s traceback (and its chained exceptions).

    Frames still executing (the caller's own) cannot be cleared and are skipped.
    When ``storages`` is given, the tensors the frames' locals reach are recorded in it
    first (module-level frames are skipped: their locals are the user's namespace).

    Returns:
        How many frames were cleared.
    """
    cleared = 0
    for item in _exception_chain(exc):
        for frame in _frames(item.__traceback__):
            if storages is not None and walker is not None and frame.f_code.co_name != "<module>":
                try:
                    local_values = list(frame.f_locals.values())
                except Exception:  # a frame whose locals cannot be read
                    local_values = []
                found, *_ = walker.walk(local_values)
                storages.update(found)
            try:
                frame.clear()
            except RuntimeError:  # still executing: our caller's frame
                continue
            cleared += 1
        item.__traceback__ = None
    return cleared


def _allocator_snapshot() -> tuple[dict[str, int], dict[str, int]]:
    stats = backends.active().allocators()
    allocated = {s.device: s.allocated for s in stats}
    reserved = {s.device: s.reserved if s.reserved is not None else s.allocated for s in stats}
    return allocated, reserved


def release_caches() -> int:
    """``gc.collect()`` then every allocator's ``empty_cache``; returns objects collected."""
    collected = gc.collect()
    for backend in backends.active().backends:
        backend.release_cache()
    return collected


def _drop_last_exception(
    shell: InteractiveShell | None, storages: dict, walker: StorageWalker
) -> list[str]:
    dropped: list[str] = []
    exceptions: list[BaseException] = []
    for name in _SYS_NAMES:
        value = getattr(sys, name, None)
        if isinstance(value, BaseException) and value not in exceptions:
            exceptions.append(value)
    traceback_alone = getattr(sys, "last_traceback", None)
    result = getattr(shell, "last_execution_result", None) if shell is not None else None
    error = getattr(result, "error_in_exec", None)
    if isinstance(error, BaseException) and error not in exceptions:
        exceptions.append(error)
    frames = 0
    for exc in exceptions:
        frames += drop_traceback(exc, storages, walker)
    if traceback_alone is not None and not exceptions:
        holder = Exception()
        holder.__traceback__ = traceback_alone
        frames += drop_traceback(holder, storages, walker)
    had_last = any(hasattr(sys, name) for name in _SYS_NAMES)
    for name in _SYS_NAMES:
        if hasattr(sys, name):
            delattr(sys, name)
    if result is not None and error is not None:  # the failed cell's result still holds it
        result.error_in_exec = None
    formatter = getattr(shell, "InteractiveTB", None) if shell is not None else None
    if formatter is not None and getattr(formatter, "tb", None) is not None:
        formatter.tb = None
    if had_last or exceptions:
        dropped.append(f"the last traceback ({frames} frame{'' if frames == 1 else 's'})")
    return dropped


def _drop_output_cache(
    shell: InteractiveShell | None, storages: dict, walker: StorageWalker
) -> list[str]:
    if shell is None:
        return []
    dropped: list[str] = []
    user_ns = shell.user_ns
    # IPython also pushes _, __, ___ and _N into user_ns_hidden, which keeps them alive
    hidden = getattr(shell, "user_ns_hidden", None)
    namespaces = [user_ns] + ([hidden] if isinstance(hidden, dict) else [])
    out = user_ns.get("Out")
    if isinstance(out, dict):
        for key in list(out):
            found, tensors, _, _ = walker.walk(out[key])
            if not tensors:
                continue
            storages.update(found)
            value = out.pop(key)
            for namespace in namespaces:
                if namespace.get(f"_{key}") is value:
                    del namespace[f"_{key}"]
            dropped.append(f"Out[{key}]")
    hook = getattr(shell, "displayhook", None)
    for name in _OUTPUT_NAMES:
        for namespace in namespaces:
            value = namespace.get(name)
            if value is None or isinstance(value, str):
                continue
            found, tensors, _, _ = walker.walk(value)
            if not tensors:
                continue
            storages.update(found)
            namespace[name] = ""
            if hook is not None and getattr(hook, name, None) is value:
                setattr(hook, name, "")
            if name not in dropped:
                dropped.append(name)
    return dropped


def free(
    shell: InteractiveShell | None = None, namespace: dict[str, Any] | None = None
) -> FreeReport:
    """Release what a failed cell and the output cache hold, then empty the caches.

    Args:
        shell: the IPython shell; defaults to the running one (None outside IPython,
            where only ``sys.last_*`` and the caches are handled).
        namespace: the variables to list as still holding memory; defaults to the
            shell's user namespace.

    Returns:
        A :class:`FreeReport` with the bytes reclaimed and the top remaining holders.
    """
    if shell is None:
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:  # pragma: no cover - IPython is a core dependency
            shell = None
    allocated_before, reserved_before = _allocator_snapshot()
    rss_before = process_rss()
    walker = StorageWalker(max_depth=3)
    storages: dict[tuple[str, int], tuple[str, int]] = {}
    dropped = _drop_last_exception(shell, storages, walker)
    dropped += _drop_output_cache(shell, storages, walker)
    collected = release_caches()
    allocated_after, reserved_after = _allocator_snapshot()
    if namespace is None and shell is not None:
        namespace = shell.user_ns
    still = holders(namespace, allocated=allocated_after) if namespace is not None else None
    return FreeReport(
        dropped=dropped,
        tensor_bytes=sum(n for _, n in storages.values()),
        collected=collected,
        allocated_before=allocated_before,
        allocated_after=allocated_after,
        reserved_before=reserved_before,
        reserved_after=reserved_after,
        host_rss_before=rss_before,
        host_rss_after=process_rss(),
        still_held=still,
    )
