"""The live panel, driven through its widgets' traits; no thread may outlive it."""

from __future__ import annotations

import threading
import time

import pytest

from mlnb.exceptions import InvalidArgumentError
from mlnb.gpu import GpuPanel
from mlnb.gpu.panel import THREAD_NAME, sparkline
from tests.helpers import GIB


def _panel_threads():
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def _wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_panel_updates_bars_and_sparklines_then_stop_button_ends_thread(fake_gpu):
    panel = GpuPanel(interval=0.05)
    try:
        (row,) = panel.rows.values()
        assert row.bar.value == pytest.approx(1 / 16)  # 1 GiB used elsewhere of 16
        assert "Fake H100" in row.label.value
        block = fake_gpu.allocate(7 * GIB)
        fake_gpu.set_utilization(0, 100)
        assert _wait_for(lambda: row.bar.value == pytest.approx(0.5))
        assert _wait_for(lambda: row.spark.value.endswith("█</code>"))
        assert "util 100%" in row.spark.value
        assert panel.updates >= 2 and panel.running
        assert panel.title.value == "<b>GPU memory</b> — updated every 0.05 s"
        panel.stop_button.click()
        assert not panel.running
        assert panel.stop_button.disabled and panel.stop_button.description == "Stopped"
        assert panel.title.value.startswith("<b>GPU memory</b> — stopped; last read at ")
        assert "every" not in panel.title.value and row.bar.value == pytest.approx(0.5)
        assert _panel_threads() == []
        del block
    finally:
        panel.close()


def test_closing_the_widget_stops_the_thread(fake_gpu):
    panel = GpuPanel(interval=0.05)
    assert panel.running
    panel.widget.close()
    assert not panel.running
    assert _panel_threads() == []


def test_panel_without_gpu_shows_host_ram_and_says_so(no_gpu):
    panel = GpuPanel(interval=0.05)
    try:
        (row,) = panel.rows.values()
        assert "host RAM" in row.label.value
        assert row.spark.value == ""  # RAM has no utilisation to show
        assert panel.message.value.startswith("<i>mlnb: no GPU found (NVML is off:")
    finally:
        panel.close()
    assert _panel_threads() == []


def test_bad_interval_is_one_sentence():
    with pytest.raises(InvalidArgumentError) as info:
        GpuPanel(interval=0.001)
    assert (
        str(info.value)
        == "panel interval must be a number of seconds from 0.05 to 3600, got 0.001."
    )


def test_sparkline():
    assert sparkline([0, 50, 100, None]) == "▁▅█ "
