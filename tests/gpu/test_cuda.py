"""On a real CUDA GPU: status through NVML, free() after a real OOM, find_batch_size vs the true maximum.

Skipped without CUDA. Self-contained (no conftest fixtures) so it also runs where
Jupyter is not installed: ``pytest tests/gpu/test_cuda.py -m gpu -s --noconftest``.
The figures the issue asks for are PRINTED (run with ``-s`` to see them).
"""

from __future__ import annotations

import gc
import os
import sys
import time

import pytest

torch = pytest.importorskip("torch")

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

GIB = 1024**3
MIB = 1024**2


@pytest.fixture(autouse=True)
def real_backends():
    from mlnb.gpu import backends

    saved = os.environ.pop("MLNB_GPU_BACKEND", None)
    backends.reset()
    torch.cuda.empty_cache()
    yield
    gc.collect()
    torch.cuda.empty_cache()
    if saved is not None:
        os.environ["MLNB_GPU_BACKEND"] = saved
    backends.reset()


def test_status_and_memory_read_the_real_device():
    from mlnb.gpu import memory, status

    held = torch.empty(GIB, dtype=torch.uint8, device="cuda")
    report = status()
    assert len(report) >= 1, report.unavailable
    device = report.devices[0]
    print(
        f"\n[cuda] status: {device.backend}:{device.index} {device.name}, {device.used} / {device.total} bytes used"
    )
    print(report.text())
    assert device.total and device.used and device.used >= GIB
    (stats,) = [s for s in memory().allocators if s.device == "cuda:0"]
    assert stats.allocated >= GIB and stats.reserved >= stats.allocated
    print(memory().text())
    del held


def _fill_until_oom(chunk=GIB):
    blocks = []
    while True:
        blocks.append(torch.empty(chunk, dtype=torch.uint8, device="cuda"))


def test_free_after_a_real_oom_reclaims_what_the_traceback_held():
    from mlnb.gpu import free, is_oom_error

    try:
        _fill_until_oom()
    except Exception as exc:  # the real torch.OutOfMemoryError
        assert is_oom_error(exc), repr(exc)
        sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, exc.__traceback__
        del exc
    gc.collect()
    held = torch.cuda.memory_allocated()
    assert held > 10 * GIB  # the traceback's frame keeps the blocks alive
    report = free(shell=None, namespace={})
    print(
        f"\n[cuda] free() after a real OOM: allocated {report.allocated_before['cuda:0']} -> "
        f"{report.allocated_after['cuda:0']} bytes; reserved {report.reserved_before['cuda:0']} -> "
        f"{report.reserved_after['cuda:0']}; reclaimed {report.reclaimed} bytes "
        f"({report.reclaimed / GIB:.2f} GiB); tensors reached by the traceback: {report.tensor_bytes} bytes"
    )
    print(report.text())
    assert report.freed["cuda:0"] >= held - GIB
    assert report.reclaimed >= held - GIB
    assert torch.cuda.memory_allocated() < GIB


def test_find_batch_size_against_the_true_maximum():
    from mlnb.gpu import find_batch_size, is_oom_error

    per_sample = 256 * MIB

    def step(batch_size):
        activations = torch.empty(batch_size * per_sample, dtype=torch.uint8, device="cuda")
        activations.fill_(1)
        return int(activations.numel())

    def fits(batch_size):
        try:
            step(batch_size)
            return True
        except Exception as exc:
            if not is_oom_error(exc):
                raise
            return False
        finally:
            gc.collect()
            torch.cuda.empty_cache()

    fit = find_batch_size(step, start=4096, min=1)
    gc.collect()
    torch.cuda.empty_cache()
    low, high = fit.batch_size, 4096  # bisection for the largest size that fits
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    true_max = low
    print(
        f"\n[cuda] find_batch_size: found {fit.batch_size} (tried {fit.tried}); true maximum {true_max} "
        f"({per_sample // MIB} MiB a sample); found/true = {fit.batch_size / true_max:.2f}"
    )
    assert fit.batch_size <= true_max < 2 * fit.batch_size


def test_oom_guard_on_a_real_cuda_oom():
    from mlnb.gpu import oom_guard

    kept = torch.empty(GIB, dtype=torch.uint8, device="cuda")
    with oom_guard(namespace={"kept": kept}, suppress=True, show=False) as guard:
        torch.empty(1024 * GIB, dtype=torch.uint8, device="cuda")
    report = guard.report
    print(f"\n[cuda] oom_guard report:\n{report.text()}")
    assert report.kind == "CUDA" and report.asked == "1024.00 GiB"
    assert report.holders.holders[0].name == "kept"
    assert report.free["cuda:0"] > 0


def test_tracker_and_holders_on_cuda():
    from mlnb.gpu import CellTracker, holders

    tracker = CellTracker()
    tracker.before_cell()
    kept = torch.empty(GIB, dtype=torch.uint8, device="cuda")
    transient = torch.empty(2 * GIB, dtype=torch.uint8, device="cuda")
    del transient
    cell = tracker.after_cell()
    print(f"\n[cuda] tracker: {cell.line()}")
    assert cell.gpu_delta == GIB and cell.gpu_peak == 3 * GIB
    lost = [torch.empty(512 * MIB, dtype=torch.uint8, device="cuda")]
    report = holders({"kept": kept, "view": kept[:10]})
    print(f"[cuda] holders:\n{report.text()}")
    assert report.reachable["cuda:0"] == GIB
    assert report.unreachable["cuda:0"] >= 512 * MIB
    del lost
    start = time.perf_counter()
    for _ in range(1000):
        tracker.before_cell()
        tracker.after_cell().line()
    per_cell = (time.perf_counter() - start) / 1000
    print(
        f"[cuda] tracker cost with CUDA in use: {per_cell * 1e3:.3f} ms per cell (before+after+line, 1000 cells)"
    )
