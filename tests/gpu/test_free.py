"""free() in-process: the last traceback and cached outputs let go of their tensors."""

from __future__ import annotations

import gc
import sys
import weakref

import pytest

from mlnb.gpu import free
from tests.helpers import GIB

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def restore_sys_last():
    """free() deletes sys.last_*; put back whatever the test runner had."""
    names = ("last_type", "last_value", "last_traceback", "last_exc")
    saved = {n: getattr(sys, n) for n in names if hasattr(sys, n)}
    yield
    for name in names:
        if name in saved:
            setattr(sys, name, saved[name])
        elif hasattr(sys, name):
            delattr(sys, name)


def _raise_holding(refs):
    big = torch.ones(25_000_000, dtype=torch.uint8)
    refs.append(weakref.ref(big))
    raise RuntimeError("CUDA out of memory. Tried to allocate 1 GiB")


def test_free_drops_sys_last_traceback():
    refs = []
    try:
        _raise_holding(refs)
    except RuntimeError as exc:
        sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, exc.__traceback__
        del exc
    gc.collect()
    assert refs[0]() is not None  # the traceback keeps it alive
    report = free(shell=None, namespace={})
    assert refs[0]() is None
    assert not hasattr(sys, "last_traceback")
    assert report.dropped[0].startswith("the last traceback (")
    assert report.tensor_bytes == 25_000_000
    assert report.text().startswith("mlnb: dropped the last traceback (")


def test_free_on_the_fake_gpu_reports_bytes_given_back(fake_gpu):
    def fail():
        held = fake_gpu.allocate(3 * GIB)  # noqa: F841 - kept alive by the traceback
        raise ValueError("boom")

    try:
        fail()
    except ValueError as exc:
        sys.last_value = exc
        del exc
    assert fake_gpu.allocators()[0].allocated == 3 * GIB
    report = free(shell=None, namespace={})
    assert report.freed == {"cuda:0": 3 * GIB}
    assert report.released == {"cuda:0": 3 * GIB}
    assert report.reclaimed == 3 * GIB
    assert (
        "cuda:0: allocated 3.0 GiB → 0 B, reserved 3.0 GiB → 0 B (3.0 GiB given back to the driver)."
        in report.text()
    )


def test_free_removes_output_cache_entries_that_hold_tensors(shell):
    shell.run_cell("import torch, weakref", store_history=True)
    shell.run_cell("torch.ones(1000)", store_history=True)
    shell.run_cell("'just text'", store_history=True)
    shell.run_cell("ref = weakref.ref(__)", store_history=True)
    out = shell.user_ns["Out"]
    assert any(isinstance(v, torch.Tensor) for v in out.values())
    report = free(shell=shell)
    assert shell.user_ns["ref"]() is None
    assert not any(isinstance(v, torch.Tensor) for v in out.values())
    assert "just text" in out.values()
    assert any(item.startswith("Out[") for item in report.dropped)
    assert "__" in report.dropped and shell.user_ns["__"] == ""


def test_free_never_reports_a_negative_amount():
    """RSS or the allocator's reserve can grow during free(): say so, never "-16.0 KiB reclaimed"."""
    from mlnb.gpu.free import FreeReport

    grew = FreeReport(
        dropped=[],
        tensor_bytes=0,
        collected=3,
        allocated_before={"cuda:0": 0},
        allocated_after={"cuda:0": 0},
        reserved_before={"cuda:0": 2 * 1024**2},
        reserved_after={"cuda:0": 4 * 1024**2},
        host_rss_before=100 * 1024**2,
        host_rss_after=100 * 1024**2 + 16 * 1024,
    )
    text = grew.text()
    assert "-" not in text.replace("→", "")  # no negative figure anywhere
    assert "host RSS 100.0 MiB → 100.0 MiB (nothing reclaimed; the process grew 16.0 KiB)." in text
    assert "(nothing given back to the driver; the allocator reserved 2.0 MiB more)." in text
    assert grew.reclaimed == 0 and grew.host_freed == -16 * 1024  # the signed figure stays
    same = FreeReport([], 0, 0, {}, {}, {}, {}, 10, 10)
    assert same.text().endswith("host RSS 10 B → 10 B (nothing reclaimed).") and same.reclaimed == 0
    shrank = FreeReport([], 0, 0, {}, {}, {}, {}, 3 * 1024**2, 1024**2)
    assert "(2.0 MiB reclaimed)." in shrank.text() and shrank.reclaimed == 2 * 1024**2
