"""Out-of-memory handling: recognise an OOM, release what it holds, report, retry smaller.

* :func:`is_oom_error` — ``torch.cuda.OutOfMemoryError``, RuntimeErrors whose message
  says CUDA / HIP / cuDNN / cuBLAS / MPS ran out of memory, the CPU allocator's
  "can't allocate memory", and Python's ``MemoryError``.
* :class:`oom_guard` — a context manager: on an OOM it drops the traceback (whose
  frames keep the tensors alive), empties the caches and prints a short report —
  what was asked, what is free, the top holders by variable name, and concrete
  suggestions. Any other error passes through untouched.
* :func:`find_batch_size` — call ``fn(batch_size)``, halving the batch size on each
  OOM until it fits or reaches ``min``; returns the size that fitted.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, TypeVar

from mlnb import display
from mlnb.exceptions import InvalidArgumentError, OutOfMemoryError
from mlnb.gpu import backends
from mlnb.gpu.free import drop_traceback, release_caches
from mlnb.gpu.holders import HoldersReport, holders, user_namespace

T = TypeVar("T")

# Messages torch (and its libraries) use for allocation failures. cuDNN's
# NOT_SUPPORTED is what cuDNN reports when a too-large batch leaves it no workspace;
# Lightning and accelerate treat it as an OOM too.
_OOM_MESSAGE = re.compile(
    r"(?:CUDA|HIP|MPS backend|cuDNN|cuBLAS)\b[^\n]*\bout of memory"
    r"|CUBLAS_STATUS_ALLOC_FAILED|CUDNN_STATUS_ALLOC_FAILED"
    r"|cuDNN error: CUDNN_STATUS_NOT_SUPPORTED\."
    r"|DefaultCPUAllocator: can't allocate memory",
    re.IGNORECASE,
)
_ASKED = re.compile(r"tried to allocate ([\d.]+ ?(?:[KMGTP]i?B|bytes|B))", re.IGNORECASE)


def _asked(text: str) -> str:
    """``"1125899906842624 bytes"`` → ``"1024.0 TiB"``; torch's own units are kept."""
    number, _, unit = text.partition(" ")
    if unit.lower() in ("bytes", "b") and number.isdigit():
        return display.human_bytes(int(number))
    return text


def is_oom_error(exc: BaseException) -> bool:
    """Whether ``exc`` is an out-of-memory error (GPU or host)."""
    if isinstance(exc, MemoryError):
        return True
    torch = sys.modules.get("torch")
    oom_type = getattr(torch, "OutOfMemoryError", None) if torch is not None else None
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, RuntimeError) and bool(_OOM_MESSAGE.search(str(exc)))


def oom_kind(message: str) -> str:
    """Which memory ran out: ``"CUDA"``, ``"MPS"``, ``"cuDNN"``, ``"cuBLAS"``, ``"HIP"`` or ``"host"``."""
    lowered = message.lower()
    for kind in ("cuDNN", "cuBLAS", "MPS", "HIP", "CUDA"):
        if kind.lower() in lowered:
            return kind
    return "host"


@dataclass(frozen=True)
class OomReport(display.Report):
    """What ran out, what is free now, who holds memory, and what to try.

    Attributes:
        kind: ``"CUDA"``, ``"MPS"``, ``"host"``...
        message: the first line of the original error.
        asked: the allocation that failed, as the error states it (e.g. ``"2.00 GiB"``).
        frames_cleared: traceback frames released so their tensors could die.
        free: device -> bytes free on it after the release.
        allocated: device -> bytes still allocated after the release.
        holders: who holds memory after the release.
        suggestions: concrete things to try, most specific first.
        tried: batch sizes tried, when retrying.
    """

    kind: str
    message: str
    asked: str | None
    frames_cleared: int
    free: dict[str, int]
    allocated: dict[str, int]
    holders: HoldersReport | None
    suggestions: list[str] = field(default_factory=list)
    tried: tuple[int, ...] = ()

    def text(self) -> str:
        """The short report."""
        h = display.human_bytes
        asked = f"; it tried to allocate {self.asked}" if self.asked else ""
        lines = [f"mlnb: out of memory ({self.kind}){asked}."]
        if self.free:
            lines.append(
                "now: "
                + "; ".join(
                    f"{d} {h(self.free[d])} free, {h(self.allocated.get(d, 0))} allocated"
                    for d in self.free
                )
                + f" (released the traceback: {_frames(self.frames_cleared)})."
            )
        else:
            lines.append(
                f"released the traceback ({_frames(self.frames_cleared)}); no GPU allocator in use."
            )
        if self.tried:
            lines.append("batch sizes tried: " + ", ".join(map(str, self.tried)) + ".")
        if self.holders is not None and self.holders.holders:
            top = ", ".join(f"{x.name} {h(x.nbytes)}" for x in self.holders.top(5))
            lines.append(f"top holders: {top}.")
            lines.extend(n for n in self.holders.notes() if not n.startswith("cpu:"))
        lines.extend(f"try: {s}" for s in self.suggestions)
        return "\n".join(lines)


def _frames(n: int) -> str:
    return f"{n} frame" if n == 1 else f"{n} frames"


def suggestions(report: HoldersReport | None, batch_name: str | None = None) -> list[str]:
    """Concrete advice, from what the namespace shows."""
    advice: list[str] = []
    if report is not None:
        for holder in report.holders:
            if holder.type_name != "Tensor" and holder.graph_tensors >= 2:
                advice.append(
                    f"`{holder.name}` holds {holder.graph_tensors} tensors that carry autograd graphs — "
                    "accumulate `loss.item()` (a float) instead, so each step's graph is freed."
                )
        for holder in report.holders:
            if holder.type_name == "Tensor" and holder.graph_tensors:
                advice.append(
                    f"`{holder.name}` carries an autograd graph — compute it under `torch.no_grad()` "
                    "(or `torch.inference_mode()`) if it is for evaluation, or `.detach()` it."
                )
    if batch_name:
        advice.append(
            f"a smaller `{batch_name}` (`--retry-batch {batch_name}` halves it until the cell fits)."
        )
    else:
        advice.append(
            "a smaller batch: `%%oom_guard --retry-batch bs` (or `mlnb.gpu.find_batch_size`) halves it until it fits."
        )
    advice.append(
        "evaluation under `torch.no_grad()`; mixed precision (`torch.autocast`) for activations."
    )
    return advice


def handle_oom(
    exc: BaseException,
    namespace: dict[str, Any] | None = None,
    *,
    batch_name: str | None = None,
    tried: tuple[int, ...] = (),
) -> OomReport:
    """Release what an OOM holds (traceback frames, caches) and describe the situation.

    Args:
        exc: the out-of-memory error; its traceback is cleared.
        namespace: variables to rank as holders (default: the IPython namespace).
        batch_name: the batch-size variable being retried, for the advice.
        tried: batch sizes tried so far.

    Returns:
        An :class:`OomReport`.
    """
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    asked_match = _ASKED.search(str(exc))
    frames = drop_traceback(exc)
    release_caches()
    stats = backends.active().allocators()
    allocated = {s.device: s.allocated for s in stats}
    if namespace is None:
        namespace = user_namespace() or {}
    try:
        held = holders(namespace, allocated=allocated)
    except Exception:  # a namespace we cannot walk must not hide the OOM report
        held = None
    return OomReport(
        kind=oom_kind(message) if not isinstance(exc, MemoryError) else "host",
        message=message,
        asked=_asked(asked_match.group(1)) if asked_match else None,
        frames_cleared=frames,
        free={s.device: s.free for s in stats if s.free is not None},
        allocated=allocated,
        holders=held,
        suggestions=suggestions(held, batch_name),
        tried=tried,
    )


class oom_guard:
    """Context manager: turn an OOM into a report and freed memory; pass other errors through.

    On an out-of-memory error inside the block it clears the traceback frames that
    keep the tensors alive, empties the caches, shows an :class:`OomReport`, and
    then raises :class:`~mlnb.exceptions.OutOfMemoryError` (one sentence, no
    traceback holding tensors) — or, with ``suppress=True``, carries on after the
    block. ``guard.report`` keeps the report. Any other error is re-raised untouched.

    Example::

        with oom_guard() as guard:
            loss = model(batch).sum()
    """

    def __init__(
        self, namespace: dict[str, Any] | None = None, *, suppress: bool = False, show: bool = True
    ) -> None:
        self.namespace = namespace
        self.suppress = suppress
        self.show = show
        self.report: OomReport | None = None

    def __enter__(self) -> oom_guard:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is None or not is_oom_error(exc):
            return False
        del tb
        self.report = handle_oom(exc, self.namespace)
        if self.show:
            display.show(self.report.text())
        if self.suppress:
            return True
        raise OutOfMemoryError(
            f"out of memory ({self.report.kind}) — the traceback was released; see the report above.",
            self.report,
        ) from None


@dataclass(frozen=True)
class BatchSizeFit(Generic[T]):
    """The batch size that fitted, what the call returned, and every size tried."""

    batch_size: int
    result: T
    tried: tuple[int, ...]


def _check_sizes(start: Any, minimum: Any) -> None:
    for label, value in (("start", start), ("min", minimum)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArgumentError(
                f"find_batch_size: {label} must be a whole number ≥ 1, got {value!r}."
            )
    if start < minimum:
        raise InvalidArgumentError(f"find_batch_size: start ({start}) is below min ({minimum}).")


def halving(start: int, minimum: int) -> Iterator[int]:
    """``start, start // 2, ...`` down to ``minimum``, which is always tried last."""
    size = start
    while True:
        yield size
        if size <= minimum:
            return
        size = max(minimum, size // 2)


def retry_halving(
    attempt: Callable[[int], T],
    start: int,
    minimum: int = 1,
    *,
    on_oom: Callable[[int, OomReport], None] | None = None,
    namespace: dict[str, Any] | None = None,
    batch_name: str | None = None,
) -> BatchSizeFit[T]:
    """Call ``attempt(size)`` with halving sizes until one does not run out of memory.

    Non-OOM errors propagate untouched and are not retried.

    Raises:
        OutOfMemoryError: even ``minimum`` ran out of memory (``.report`` says why).
    """
    tried: list[int] = []
    for size in halving(start, minimum):
        tried.append(size)
        try:
            return BatchSizeFit(size, attempt(size), tuple(tried))
        except BaseException as exc:
            if not is_oom_error(exc):
                raise
            report = handle_oom(exc, namespace, batch_name=batch_name, tried=tuple(tried))
            del exc
        if on_oom is not None:
            on_oom(size, report)
    raise OutOfMemoryError(
        f"out of memory even at batch size {tried[-1]} (tried {', '.join(map(str, tried))}).",
        report,
    )


def find_batch_size(
    fn: Callable[..., T] | None = None,
    start: int = 128,
    min: int = 1,
    *,
    verbose: bool = False,
) -> Any:
    """Find the largest halving of ``start`` at which ``fn(batch_size)`` fits in memory.

    Called with ``fn``, runs it now; without, returns a decorator whose wrapper takes
    the remaining arguments (``fn(batch_size, *args, **kwargs)``). Peers: accelerate's
    ``find_executable_batch_size``, Lightning's batch-size finder.

    Args:
        fn: called as ``fn(batch_size, ...)``.
        start: the first batch size tried.
        min: the smallest batch size tried before giving up.
        verbose: print a line for each size that ran out of memory.

    Returns:
        A :class:`BatchSizeFit` (``.batch_size``, ``.result``, ``.tried``), or the decorator.

    Raises:
        OutOfMemoryError: even ``min`` ran out of memory.
    """
    minimum = min
    _check_sizes(start, minimum)

    def report(size: int, oom: OomReport) -> None:
        if verbose:
            print(f"mlnb: out of memory at batch size {size}; halving.")

    def decorate(function: Callable[..., T]) -> Callable[..., BatchSizeFit[T]]:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> BatchSizeFit[T]:
            return retry_halving(
                lambda size: function(size, *args, **kwargs), start, minimum, on_oom=report
            )

        return run

    if fn is None:
        return decorate
    return decorate(fn)()
