"""LivePlot: a run's metric curves redrawn at most every half second."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

import mlnb
from mlnb.exceptions import InvalidArgumentError
from mlnb.runs import LivePlot


def test_live_plot_redraws_at_most_every_half_second(home: Path) -> None:
    run = mlnb.start("live", system_interval=None)
    plot = LivePlot(run)
    deadline = time.monotonic() + 3.0
    step = 0
    while time.monotonic() < deadline:
        run.log({"loss": 1.0 / (step + 1), "acc": step / 1000, "sys/cpu_percent": 1.0})
        step += 1
        time.sleep(0.001)
    run.finish()  # the final flush reaches the plot, then it draws once more and stops
    times = plot.redraw_times
    assert plot.redraws == len(times) >= 2
    gaps = [b - a for a, b in itertools.pairwise(times[:-1])]  # the last is the final draw
    assert all(gap >= 0.5 for gap in gaps), gaps
    assert bytes(plot.image.value).startswith(b"\x89PNG")
    assert "<b>live</b> (finished)" in plot.header.value and "loss = " in plot.header.value
    assert set(plot._series) == {"loss", "acc"}  # sys/ metrics are left out by default
    assert plot._series["loss"][0][-1] == step - 1
    with pytest.raises(
        InvalidArgumentError, match=r"live plot interval must be at least 0.5 s, got 0.1\."
    ):
        LivePlot(run, interval=0.1)
