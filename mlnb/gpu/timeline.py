"""CUDA memory over time from torch's allocator history, processed in numpy.

:func:`start` turns on ``torch.cuda.memory._record_memory_history``; :func:`stop` takes
``torch.cuda.memory._snapshot()`` and turns it off; :func:`timeline_from_snapshot` turns
a snapshot (the dict torch produces, or one loaded from ``_dump_snapshot``'s pickle with
:func:`load`) into a :class:`Timeline`: allocated bytes after every allocator event, and
every allocation's size and lifetime, as numpy arrays. Stack frames are read only for the
few allocations a view shows, so a snapshot with a million events is processed in about
a second instead of stalling a browser (PyTorch's memory_viz draws every event).

Snapshot shape (``torch.cuda.memory._snapshot`` docstring): ``{"segments": [{"device",
"address", "total_size", "blocks": [{"address", "size", "state", "frames"}]}],
"device_traces": [[{"action", "addr", "size", "stream", "time_us", "frames": [{"filename",
"line", "name"}]}]]}`` — one trace list per device, actions ``alloc``, ``free_requested``,
``free_completed``, ``segment_alloc``, ``segment_free``, ``oom``, ``snapshot``...
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlnb.exceptions import CudaUnavailableError, SnapshotError
from mlnb.nvml import quiet_torch_import

#: events kept by the recorder unless told otherwise (~ a few hundred MB of host memory)
MAX_ENTRIES = 1_000_000
_ALLOC, _FREE = 1, 2
_LIBRARY_PARTS = ("site-packages", "dist-packages", "/lib/python3", "<frozen", "/torch/")


@dataclass(frozen=True)
class Allocation:
    """One allocation in a window: size, lifetime (µs from the start) and the user code behind it."""

    size: int
    start_us: float | None
    end_us: float | None
    frames: tuple[str, ...]


def _cuda_torch() -> Any:
    try:
        torch = quiet_torch_import()
    except ImportError:
        raise CudaUnavailableError(
            "the CUDA memory timeline needs torch with CUDA (pip install torch); torch is not installed."
        ) from None
    if not torch.cuda.is_available():
        raise CudaUnavailableError(
            "the CUDA memory timeline needs a CUDA device, and torch sees none on this machine."
        )
    return torch


def start(max_entries: int = MAX_ENTRIES) -> int:
    """Record every CUDA allocation and free (with Python stacks) from now on; returns ``max_entries``.

    Raises:
        CudaUnavailableError: torch is missing or sees no CUDA device.
    """
    torch = _cuda_torch()
    torch.cuda.memory._record_memory_history(
        "all", context="all", stacks="python", max_entries=max_entries
    )
    return max_entries


def stop(device: int | None = None) -> Timeline:
    """Take the snapshot, stop recording and return the timeline of ``device`` (default: busiest)."""
    torch = _cuda_torch()
    try:
        snapshot = torch.cuda.memory._snapshot()
    finally:
        torch.cuda.memory._record_memory_history(None)
    return timeline_from_snapshot(snapshot, device)


def load(path: str | Path, device: int | None = None) -> Timeline:
    """The timeline of a snapshot pickled by ``torch.cuda.memory._dump_snapshot``."""
    try:
        with open(path, "rb") as handle:
            snapshot = pickle.load(handle)
    except OSError as exc:
        raise SnapshotError(f"cannot read the snapshot {path} ({exc.strerror}).") from None
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        raise SnapshotError(f"{path} is not a pickled memory snapshot ({exc}).") from None
    return timeline_from_snapshot(snapshot, device)


def user_frames(frames: list[dict[str, Any]], limit: int = 3) -> tuple[str, ...]:
    """The innermost ``limit`` frames of user code (not torch, not installed libraries, not C++)."""
    kept = []
    for frame in frames:
        filename = str(frame.get("filename", ""))
        if not filename.endswith(".py") and not filename.startswith("<ipython"):
            continue
        if any(part in filename for part in _LIBRARY_PARTS):
            continue
        kept.append(f"{filename.rsplit('/', 1)[-1]}:{frame.get('line')} in {frame.get('name')}")
        if len(kept) == limit:
            break
    return tuple(kept)


def _check(snapshot: Any) -> list[list[dict[str, Any]]]:
    traces = snapshot.get("device_traces") if isinstance(snapshot, dict) else None
    if not isinstance(traces, list):
        raise SnapshotError(
            "not a CUDA memory snapshot: expected a dict with 'device_traces' "
            "(torch.cuda.memory._snapshot() with history recording on)."
        )
    return traces


def timeline_from_snapshot(snapshot: dict[str, Any], device: int | None = None) -> Timeline:
    """Allocated bytes over time and every allocation's lifetime for one device.

    Args:
        snapshot: the dict ``torch.cuda.memory._snapshot()`` returns.
        device: which device's trace; default the one with the most events.

    Raises:
        SnapshotError: the dict is not a snapshot, or the device has no trace.
    """
    traces = _check(snapshot)
    if device is None:
        device = max(range(len(traces)), key=lambda d: len(traces[d]), default=0)
    if not 0 <= device < len(traces) or not traces[device]:
        raise SnapshotError(
            f"the snapshot has no recorded events for device {device} "
            "(was history recording on while that device allocated?)."
        )
    trace = traces[device]
    blocks = [
        b
        for segment in snapshot.get("segments", [])
        if segment.get("device", device) == device
        for b in segment.get("blocks", [])
    ]
    return Timeline(device, trace, blocks)


class Timeline:
    """One device's allocator history as arrays.

    Attributes:
        device: the CUDA device index.
        times_us: time of each event, µs from the first event (event order where torch
            recorded no times).
        allocated: bytes allocated after each event.
        sizes, starts, ends: per allocation: bytes, start and end time (µs; ``inf`` when
            still allocated at the snapshot, ``-inf`` start when allocated before recording).
    """

    def __init__(self, device: int, trace: list[dict[str, Any]], blocks: list[dict[str, Any]]):
        self.device = device
        self._trace = trace
        n = len(trace)
        codes = {"alloc": _ALLOC, "free_completed": _FREE}
        actions = np.fromiter((codes.get(e["action"], 0) for e in trace), np.int8, n)
        if not (actions == _FREE).any():  # a history without free_completed: use the requests
            codes = {"alloc": _ALLOC, "free_requested": _FREE}
            actions = np.fromiter((codes.get(e["action"], 0) for e in trace), np.int8, n)
        sizes = np.fromiter((e.get("size", 0) for e in trace), np.int64, n)
        addrs = np.fromiter((e.get("addr", 0) for e in trace), np.int64, n)
        raw_times = np.fromiter((e.get("time_us", -1) for e in trace), np.float64, n)
        times = raw_times if (raw_times >= 0).all() else np.arange(n, dtype=np.float64)
        self.times_us = times - times[0]
        delta = np.where(actions == _ALLOC, sizes, np.where(actions == _FREE, -sizes, 0))
        running = np.cumsum(delta)
        at_end = sum(int(b.get("size", 0)) for b in blocks if b.get("state") == "active_allocated")
        baseline = (
            max(at_end - int(running[-1]), int(-running.min()), 0)
            if blocks
            else max(0, int(-running.min()))
        )
        self.allocated = running + baseline
        self._pair(actions, addrs, sizes, blocks)

    def _pair(
        self,
        actions: np.ndarray,
        addrs: np.ndarray,
        sizes: np.ndarray,
        blocks: list[dict[str, Any]],
    ) -> None:
        """Match each alloc with the next free of the same address (vectorised)."""
        events = np.flatnonzero(actions != 0)
        ordered = events[np.lexsort((events, addrs[events]))]
        following = np.append(ordered[1:], -1)
        same_addr = np.append(addrs[ordered[1:]] == addrs[ordered[:-1]], False)
        freed_next = same_addr & (actions[following] == _FREE)
        is_alloc = actions[ordered] == _ALLOC
        alloc_events = ordered[is_alloc]
        free_events = np.where(freed_next[is_alloc], following[is_alloc], -1)
        times = self.times_us
        starts = times[alloc_events]
        ends = np.where(free_events >= 0, times[np.maximum(free_events, 0)], np.inf)
        # blocks alive at the snapshot that no recorded alloc explains were there before
        open_addrs = set(addrs[alloc_events[free_events < 0]].tolist())
        earlier = [
            b
            for b in blocks
            if b.get("state") == "active_allocated" and b.get("address") not in open_addrs
        ]
        self._earlier = earlier
        self.sizes = np.concatenate(
            [sizes[alloc_events], [int(b["size"]) for b in earlier]]
        ).astype(np.int64)
        self.starts = np.concatenate([starts, np.full(len(earlier), -np.inf)])
        self.ends = np.concatenate([ends, np.full(len(earlier), np.inf)])
        self._source = np.concatenate([alloc_events, -1 - np.arange(len(earlier))]).astype(np.int64)

    @property
    def duration_us(self) -> float:
        """Time from the first event to the last."""
        return float(self.times_us[-1])

    @property
    def peak(self) -> int:
        """The most bytes allocated at any event."""
        return int(self.allocated.max())

    def curve(
        self, start_us: float = 0.0, end_us: float | None = None, points: int = 1000
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(times, bytes)`` in the range, at most ``points`` long: each bucket keeps its
        maximum, so no peak is lost by the thinning."""
        end_us = self.duration_us if end_us is None else end_us
        lo, hi = np.searchsorted(self.times_us, [start_us, end_us], side="left")
        hi = max(hi, lo + 1)
        times, values = self.times_us[lo:hi], self.allocated[lo:hi]
        if len(times) <= points:
            return times, values
        edges = np.linspace(0, len(times), points + 1).astype(np.int64)[:-1]
        return times[edges], np.maximum.reduceat(values, edges)

    def largest(
        self, n: int = 10, start_us: float = 0.0, end_us: float | None = None
    ) -> list[Allocation]:
        """The ``n`` largest allocations alive at some point in the range, with their user frames."""
        end_us = self.duration_us if end_us is None else end_us
        alive = np.flatnonzero((self.starts <= end_us) & (self.ends >= start_us))
        if len(alive) > n:
            alive = alive[np.argpartition(-self.sizes[alive], n - 1)[:n]]
        alive = alive[np.argsort(-self.sizes[alive], kind="stable")]
        found = []
        for i in alive:
            source = int(self._source[i])
            frames = (
                self._trace[source].get("frames", [])
                if source >= 0
                else self._earlier[-1 - source].get("frames", [])
            )
            start, end = float(self.starts[i]), float(self.ends[i])
            found.append(
                Allocation(
                    int(self.sizes[i]),
                    None if start == -np.inf else start,
                    None if end == np.inf else end,
                    user_frames(frames),
                )
            )
        return found
