"""LivePlot: a run's curves, crisp and titled, redrawn at most every half second by a helper process."""

from __future__ import annotations

import itertools
import math
import re
import time
from pathlib import Path

import pytest

import mlnb
from mlnb.exceptions import InvalidArgumentError, LivePlotError
from mlnb.runs import LivePlot
from mlnb.runs.live_figure import build_figure, figure_spec, render_svg, style, tick_labels
from mlnb.runs.live_panels import group_panels, is_step_counter, plotted_keys, smooth, split_of
from mlnb.runs.live_renderer import Renderer


def _svg_size(svg: bytes) -> tuple[str, str, list[float]]:
    tag = re.search(rb"<svg [^>]*>", svg)
    assert tag is not None
    attrs = dict(re.findall(rb'(\w+)="([^"]*)"', tag.group(0)))
    return attrs[b"width"].decode(), attrs[b"height"].decode(), [float(v) for v in attrs[b"viewBox"].split()]  # fmt: skip


def _wait_for(predicate, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_live_plot_redraws_at_most_every_half_second(home: Path) -> None:
    run = mlnb.start("live", system_interval=None)
    plot = LivePlot(run)
    deadline, give_up = time.monotonic() + 3.0, time.monotonic() + 60  # a busy machine delays
    step = 0  # the helper, which runs at the lowest priority
    while (time.monotonic() < deadline or plot.redraws < 2) and time.monotonic() < give_up:
        run.log({"loss": 1.0 / (step + 1), "acc": step / 1000, "sys/cpu_percent": 1.0})
        step += 1
        time.sleep(0.001)
    run.finish()  # the final flush reaches the plot; its thread draws once more and stops
    assert "<b>live</b> (finished)" in plot.header.value  # at once
    assert plot.wait(60)
    times = plot.redraw_times
    assert plot.redraws == len(times) >= 3
    gaps = [b - a for a, b in itertools.pairwise(times[:-1])]  # the last is the final draw
    assert all(gap >= 0.5 for gap in gaps), gaps
    svg = bytes(plot.image.value)
    assert svg.startswith(b"<?xml") and b"<svg" in svg
    assert "<b>live</b> (finished)" in plot.header.value and "loss = " in plot.header.value
    assert set(plot._series) == {"loss", "acc"}  # sys/ metrics are left out by default
    assert plot._series["loss"][0][-1] == step - 1
    assert plot._renderer.in_process is False  # drawn by the helper process, not this one
    with pytest.raises(
        InvalidArgumentError, match=r"live plot interval must be at least 0.5 s, got 0.1\."
    ):
        LivePlot(run, interval=0.1)
    with pytest.raises(InvalidArgumentError, match=r"smoothing must be from 0 up to"):
        LivePlot(run, smoothing=1.0)


def test_waits_for_data_then_shows_an_image_sized_as_it_is_drawn(home: Path) -> None:
    run = mlnb.start("sized", system_interval=None)
    plot = LivePlot(run)
    plot.redraw()  # nothing logged yet: no empty axes, a waiting line
    assert plot.image.layout.display == "none" and plot.redraws == 0
    assert "waiting for the first points" in plot.header.value
    for step in range(50):
        run.log({"epoch": step // 10, "train_loss": 1 / (step + 1), "val_loss": 2 / (step + 1)})
        run.log({"acc": step / 50}, step=step)
    run.flush()
    _wait_for(lambda: plot.redraws >= 1)
    svg = bytes(plot.image.value)
    width, height, view_box = _svg_size(svg)
    assert plot.image.layout.display is None  # shown
    assert plot.image.layout.width == width == "800px" and height == "250px"  # two panels
    assert plot.image.layout.height == "auto" and plot.image.layout.max_width == "100%"
    assert math.isclose(view_box[2] / view_box[3], 800 / 250)  # never stretched
    assert "epoch 4" in plot.header.value  # the counter is in the header, not a panel
    spec = plot.figure_spec()
    assert spec is not None
    assert [p["title"] for p in spec["panels"]] == ["loss", "acc"]
    assert [s["label"] for s in spec["panels"][0]["series"]] == ["train_loss", "val_loss"]
    assert b">loss</text>" in svg and b">step</text>" in svg  # fonts kept as text, titled
    run.finish()


def test_the_smoothing_slider_redraws_smoothed_curves(home: Path) -> None:
    run = mlnb.start("smooth", system_interval=None)
    plot = LivePlot(run)
    run.log_many({"loss": [1.0, 0.0, 1.0, 0.0]})
    run.flush()
    _wait_for(lambda: plot.redraws >= 1)
    before = plot.redraws
    plot.slider.value = 0.6  # what a person dragging the slider does
    _wait_for(lambda: plot.redraws > before)
    spec = plot.figure_spec()
    assert spec is not None and spec["smoothing"] == 0.6
    with style():
        figure = build_figure(spec)
    lines = figure.axes[0].get_lines()
    assert len(lines) == 2  # the raw curve, faint, under the smoothed one
    assert lines[0].get_alpha() == 0.25
    assert list(lines[1].get_ydata()) == pytest.approx(smooth([1.0, 0.0, 1.0, 0.0], 0.6))
    run.finish()
    assert plot.wait(60)
    after_finish = plot.redraws
    plot.slider.value = 0.0  # the run is over: the slider still redraws
    _wait_for(lambda: plot.redraws > after_finish, 60)


def test_panels_overlay_train_and_val_and_leave_counters_out() -> None:
    keys = ["epoch", "loss", "val/loss", "acc", "val_acc", "lr", "sys/gpu", "trainer/global_step"]
    shown = plotted_keys(keys)
    assert shown == ["loss", "val/loss", "acc", "val_acc", "lr"]
    panels = group_panels(shown)
    assert [(p.title, p.keys) for p in panels] == [
        ("loss", ["loss", "val/loss"]),
        ("acc", ["acc", "val_acc"]),
        ("lr", ["lr"]),
    ]
    assert group_panels(["val_loss", "train_loss"])[0].keys == ["train_loss", "val_loss"]
    assert split_of("loss_val") == ("loss", "val") and split_of("val") == ("val", None)
    assert split_of("Validation/Accuracy") == ("Accuracy", "validation")
    assert is_step_counter("Iteration") and not is_step_counter("steps_per_second")
    assert len(group_panels([f"m{i}" for i in range(9)])) == 6


def test_smoothing_is_tensorboards_debiased_average() -> None:
    assert smooth([3.0, 3.0, 3.0], 0.9) == pytest.approx([3.0, 3.0, 3.0])  # no start-up bias
    assert smooth([1.0, 2.0], 0.0) == [1.0, 2.0]
    expected_second = (0.5 * 0.5 * 1.0 + 0.5 * 3.0) / (1 - 0.25)
    assert smooth([1.0, 3.0], 0.5) == pytest.approx([1.0, expected_second])
    assert smooth([1.0, math.nan, 1.0], 0.5) == pytest.approx([1.0, 1.0, 1.0])  # NaN skipped


def test_a_figure_is_titled_and_the_svg_is_its_shown_size() -> None:
    panels = group_panels(["loss", "val_loss", "acc", "lr", "grad_norm"])
    series = {k: ([0, 1, 2], [1.0, 0.5, 0.25]) for k in ["loss", "val_loss", "acc", "lr", "grad_norm"]}  # fmt: skip
    spec = figure_spec(panels, series, 0.0)
    assert (spec["width_px"], spec["height_px"]) == (900, 500)  # 4 panels: two rows of three
    with style():
        figure = build_figure(spec)
    titles = [axes.get_title() for axes in figure.axes]
    assert titles == ["loss", "acc", "lr", "grad_norm"]
    assert all(axes.get_xlabel() == "step" for axes in figure.axes)
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == ["loss", "val_loss"]
    assert figure.axes[1].get_legend() is None  # one curve: no legend
    width, height, view_box = _svg_size(render_svg(spec))
    assert (width, height) == ("900px", "500px")
    assert math.isclose(view_box[2] / view_box[3], 900 / 500)


def test_the_renderer_draws_in_process_when_its_helper_is_gone() -> None:
    spec = figure_spec(group_panels(["loss"]), {"loss": ([0, 1], [1.0, 0.5])}, 0.0)
    renderer = Renderer()
    try:
        assert b"<svg" in renderer.render(spec) and not renderer.in_process
        with pytest.raises(LivePlotError, match="the live plot could not be drawn: "):
            renderer.render({**spec, "panels": [{"title": "x", "series": [{"label": "x"}]}]})
        assert renderer._process is not None
        renderer._process.kill()
        renderer._process.wait()
        assert b"<svg" in renderer.render(spec) and renderer.in_process
    finally:
        renderer.close()
    assert renderer._process is None


def test_tick_labels_are_short_and_as_precise_as_their_spacing() -> None:
    assert tick_labels([0, 0.25, 0.5, 0.75, 1]) == ["0", "0.25", "0.50", "0.75", "1.00"]
    assert tick_labels([0, 100_000, 200_000]) == ["0", "100k", "200k"]
    assert tick_labels([0.1230, 0.1232, 0.1234]) == ["0.1230", "0.1232", "0.1234"]
    assert tick_labels([0, 1e-5, 2e-5]) == ["0", "1.0e-5", "2.0e-5"]
    assert tick_labels([-2e7, 0, 2e7]) == ["-20M", "0", "20M"]
    assert tick_labels([0, 1000, 2000]) == ["0", "1000", "2000"]  # a unit from 10,000 on


@pytest.mark.parametrize("scale", [1.0, 1e-5, 12345.678, 1e7, -0.5])
@pytest.mark.parametrize("count", [1, 3, 6])
def test_no_text_is_clipped_or_overlapping(scale: float, count: int) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    keys = ["loss", "acc", "lr", "grad_norm", "wd", "momentum"][:count]
    steps = list(range(0, 5_000_000, 10_000))
    series = {k: (steps, [scale * (math.sin(i / 10) + 1.5) for i in range(500)]) for k in keys}
    with style():
        figure = build_figure(figure_spec(group_panels(keys), series, 0.0))
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        renderer = canvas.get_renderer()
        width, height = figure.get_size_inches()
        x0, y0, x1, y1 = figure.get_tightbbox(renderer).extents
        assert x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height  # nothing cut off
        boxes = [axes.get_tightbbox(renderer) for axes in figure.axes]
        assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
        for axes in figure.axes:  # tick labels of one axis do not run into each other
            labels = [t.get_window_extent(renderer) for t in axes.get_xticklabels() if t.get_text()]
            assert not any(a.overlaps(b) for a, b in itertools.pairwise(labels))
