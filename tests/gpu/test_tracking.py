"""CellTracker: per-cell GPU and host deltas and peaks."""

from __future__ import annotations

import sys

import numpy as np

from mlnb.gpu import CellTracker
from tests.helpers import GIB, MIB


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
