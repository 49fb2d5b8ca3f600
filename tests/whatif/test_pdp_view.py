"""The partial-dependence tab through its traits (issue 18 item 6, issue 20 goal 5).

A 2-D surface and the exact every-row average run in the background: the progress
bar reaches 100 %, a computation made stale by a changed control is cancelled and
never shown, and the panel answers an edit while one runs.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from mlnb.whatif.adapters import make_adapter
from mlnb.whatif.explorer import WhatIf
from mlnb.whatif.pdp import partial_dependence, partial_dependence_2d


class GatedModel:
    """The fitted model's predict_proba; batches of ``big`` rows or more wait for ``gate``."""

    def __init__(self, model, big: int) -> None:
        self.model = model
        self.big = big
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()
        self.timed_out = False

    def __call__(self, batch):
        if len(batch) >= self.big and not self.gate.is_set():
            self.waiting.set()
            if not self.gate.wait(timeout=20):
                self.timed_out = True
        return self.model.predict_proba(batch)


@pytest.fixture
def gated(trained):
    frame, label, model = trained
    gated = GatedModel(model, big=500)
    explorer = WhatIf(model, frame, label, predict=gated, debounce_seconds=0)
    explorer.tabs.selected_index = 1
    yield explorer, gated
    gated.gate.set()
    explorer.close()


def test_the_2d_surface_shows_progress_up_to_100_percent(panel, trained):
    frame, _, model = trained
    view = panel.pdp_view
    panel.tabs.selected_index = 1
    view.grid_points.value = 6
    view.feature.value = "income"
    values = []
    view.progress.observe(lambda change: values.append(change["new"]), names="value")
    view.second.value = "score"
    panel.flush()
    assert view.progress.value == view.progress.max == 36
    assert values[-1] == 36 and values == sorted(values)
    assert len([v for v in values if v]) >= 6  # one report per grid row at least
    assert view.status.value == "<i>done: 2-D partial dependence.</i>"
    expected = partial_dependence_2d(
        make_adapter(model, frame), frame, ("income", "score"), grid_resolution=6
    )
    np.testing.assert_allclose(panel.pdp.average, expected.average)
    assert panel.pdp.average_rows == len(frame)


def _surface_waiting_at_the_gate(explorer, model):
    """Start a 5 × 5 surface (5 × 200 rows per grid row) and return once it waits at the gate."""
    view = explorer.pdp_view
    view.grid_points.value = 5
    view.feature.value = "income"
    model.gate.clear()
    view.second.value = "score"
    assert model.waiting.wait(timeout=10)
    return view


def test_a_changed_control_cancels_the_stale_surface(gated):
    explorer, model = gated
    view = _surface_waiting_at_the_gate(explorer, model)
    view.grid_points.value = 4  # the 5 × 5 surface is stale now
    assert view.task.running
    model.gate.set()
    explorer.flush()
    for thread in threading.enumerate():
        if thread.name == "mlnb-whatif-task":
            thread.join(timeout=10)
    assert view.task.cancelled == 1 and view.task.finished == 1
    assert explorer.pdp.average.shape == (4, 4)  # only the fresh surface was shown
    assert view.progress.value == view.progress.max == 16
    assert not model.timed_out


def test_the_panel_answers_an_edit_while_a_surface_is_computed(gated):
    explorer, model = gated
    _surface_waiting_at_the_gate(explorer, model)
    before = explorer.prediction_text
    explorer.edit(income=95.0)  # needs the state lock the computation must not hold
    assert not model.gate.is_set(), "the edit returned while the surface still waited"
    assert explorer.prediction_text != before
    assert explorer.edited_point["income"] == 95.0
    model.gate.set()
    explorer.flush()
    assert not model.timed_out


def test_every_row_gives_the_exact_average_once_and_keeps_it(numeric_frame, fitted_logistic):
    frame, label = numeric_frame(n=3000)
    model = fitted_logistic(frame, label)
    explorer = WhatIf(model, frame, label, sample_size=100, average_size=500, debounce_seconds=0)
    try:
        view = explorer.pdp_view
        explorer.tabs.selected_index = 1
        view.grid_points.value = 8
        view.feature.value = "income"
        sampled = explorer.pdp
        assert sampled.average_rows == 500 and sampled.individual.shape == (100, 8)
        assert sampled.data_mean == pytest.approx(model.predict_proba(frame)[:, 1].mean())
        view.every_row.value = True
        explorer.flush()
        assert view.status.value == "<i>done: the average over all 3,000 rows.</i>"
        exact = partial_dependence(make_adapter(model, frame), frame, "income", sampled.grid)
        np.testing.assert_allclose(explorer.pdp.average, exact.average, rtol=1e-12)
        assert explorer.pdp.average_rows == 3000
        assert explorer.pdp.individual.shape == (100, 8)  # ICE stays on the sample
        started = view.task.started
        explorer.edit(age=30.0)  # the point's curve changes; the exact average does not
        assert view.task.started == started
        assert explorer.pdp.average_rows == 3000
        np.testing.assert_allclose(explorer.pdp.average, exact.average, rtol=1e-12)
    finally:
        explorer.close()


def test_the_chart_is_rendered_off_the_update_thread_and_a_stale_one_never_lands(panel):
    view = panel.pdp_view
    panel.tabs.selected_index = 1
    view.feature.value = "income"
    assert panel.pdp is not None  # the curve is there at once
    panel.flush()
    assert view.output.outputs[0]["data"]["text/plain"].startswith("partial dependence of")
    assert view.drawing.finished >= 1
    view.feature.value = "(none)"  # no chart may replace this text
    panel.flush()
    assert view.output.outputs[0]["text"] == "choose a feature to see its partial dependence.\n"
