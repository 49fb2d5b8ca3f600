"""memory()/reset_peak() and the host peak meter."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from mlnb.gpu import memory, reset_peak
from mlnb.gpu.backends.host import PeakMeter
from tests.helpers import GIB, MIB


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
