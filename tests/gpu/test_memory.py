"""memory()/reset_peak(), the host peak meter, and per-cell tracking."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from mlnb.gpu import CellTracker, memory, reset_peak
from mlnb.gpu.backends.host import PeakMeter
from tests.helpers import GIB

MIB = 1024**2


def test_allocator_view_of_the_fake(fake_gpu):
    block = fake_gpu.allocate(2 * GIB)
    other = fake_gpu.allocate(GIB)
    del other
    (stats,) = memory().allocators
    assert (stats.allocated, stats.reserved, stats.cached, stats.peak) == (
        2 * GIB,
        3 * GIB,
        GIB,
        3 * GIB,
    )
    assert stats.free == 16 * GIB - GIB - 3 * GIB
    report = reset_peak()
    assert report.allocators[0].peak == 2 * GIB
    assert report.text().splitlines()[2].split()[:3] == ["cuda:0", "2.0", "GiB"]
    del block


def test_no_allocator_says_why(monkeypatch):
    from mlnb.gpu import backends

    monkeypatch.setenv("MLNB_GPU_BACKEND", "host")
    backends.reset()
    report = memory()
    assert report.allocators == []
    if "torch" in sys.modules:
        assert report.note.startswith("no GPU allocator in use")
    assert report.text().startswith("mlnb: no GPU allocator in use")
    assert report.rows()[-1][0] == "host (this process)"
    backends.reset()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="resettable VmHWM is Linux-only")
def test_host_peak_meter_catches_a_transient_peak():
    meter = PeakMeter()
    start = meter.reset()
    transient = np.ones(200 * MIB // 8)  # 200 MiB, touched
    del transient
    after = meter.read()
    assert after.exact_peak
    assert after.peak - start.rss >= 190 * MIB
    assert after.rss - start.rss < 50 * MIB


def test_cell_tracker_reports_delta_and_peak(fake_gpu):
    tracker = CellTracker()
    tracker.before_cell()
    kept = fake_gpu.allocate(GIB)
    transient = fake_gpu.allocate(2 * GIB)
    del transient
    scratch = np.ones(100 * MIB // 8)
    del scratch
    cell = tracker.after_cell()
    assert (cell.gpu_delta, cell.gpu_peak, cell.gpu_total) == (GIB, 3 * GIB, GIB)
    if sys.platform.startswith("linux"):
        assert cell.host_peak >= 90 * MIB
    line = cell.line()
    assert line.startswith("mlnb: GPU +1.0 GiB (peak +3.0 GiB, 1.0 GiB allocated) | RAM ")
    assert tracker.after_cell() is None  # no second measurement without before_cell
    del kept


def test_cell_tracker_without_gpu_shows_ram_only(monkeypatch):
    from mlnb.gpu import backends

    monkeypatch.setenv("MLNB_GPU_BACKEND", "host")
    backends.reset()
    tracker = CellTracker()
    tracker.before_cell()
    cell = tracker.after_cell()
    assert cell.gpu_delta is None
    assert cell.line().startswith("mlnb: RAM +")
    backends.reset()
