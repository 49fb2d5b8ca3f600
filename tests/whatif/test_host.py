"""The explorer's tabs see it only through ``ExplorerHost``: public state, ``refresh``, ``load_row``."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from mlnb.whatif.features import describe_features
from mlnb.whatif.host import AREAS, ExplorerHost

WHATIF = Path(__file__).resolve().parents[2] / "mlnb" / "whatif"


class FakeHost:
    """The smallest ExplorerHost: data and features, no model; records what it is asked."""

    def __init__(self, frame):
        self.data = frame
        self.target = None
        self.adapter = None
        self.features = describe_features(frame)
        self.feature_by_name = {f.name: f for f in self.features}
        self.scores = self.y_true = self.edited_scores = None
        self.sample_positions = self.average_positions = np.arange(len(frame))
        self.position = 0
        self.counterfactual = self.slice_thresholds = self.slice_feature = None
        self.threshold = 0.5
        self.messages: list[str] = []
        self.refreshes: list[tuple[str, ...]] = []
        self.loaded: list[int] = []

    @property
    def edited_point(self):
        return self.data.iloc[self.position]

    @property
    def edited_values(self):
        return self.row_values(self.position)

    @property
    def is_edited(self):
        return False

    def row_values(self, position):
        return self.data.iloc[position].to_dict()

    def slice_of(self, values):
        return np.full(len(values), "all")

    def refresh(self, *areas):
        self.refreshes.append(areas)

    def load_row(self, position):
        self.loaded.append(position)

    def point_frame(self, values=None):
        return self.data.iloc[[self.position]]

    def threshold_for(self, frame):
        return np.full(len(frame), self.threshold)


def test_the_explorer_is_a_host(panel):
    assert isinstance(panel, ExplorerHost)


def test_refresh_runs_the_named_areas_after_the_quiet_time(trained):
    from mlnb.whatif.explorer import WhatIf

    frame, label, model = trained
    explorer = WhatIf(model, frame, label, debounce_seconds=60)
    try:
        explorer.flush()
        explorer.pdp_view.feature.value = "income"  # asks for refresh("pdp")
        explorer.refresh("distribution")
        assert explorer.pdp is None
        assert not explorer.distribution_view.output.outputs
        explorer.flush()
        assert explorer.pdp is not None
        assert explorer.distribution_view.output.outputs
    finally:
        explorer.close()


def test_views_build_and_ask_for_updates_on_a_host_that_is_not_the_explorer(numeric_frame):
    from mlnb.whatif.pdp_view import PartialDependenceView
    from mlnb.whatif.performance_view import PerformanceView
    from mlnb.whatif.views import CounterfactualView, DistributionView

    frame, _ = numeric_frame(n=30)
    host = FakeHost(frame)
    assert isinstance(host, ExplorerHost)
    counterfactual = CounterfactualView(host, fixed=["age", "not a feature"])
    pdp = PartialDependenceView(host)
    distribution = DistributionView(host)
    performance = PerformanceView(host)
    assert counterfactual.fixed.value == ("age",)
    counterfactual.metric.value = "l2"
    pdp.feature.value = "income"
    distribution.feature.value = "score"
    performance.slice_by.value = "age"
    assert host.refreshes == [
        ("counterfactual",),
        ("pdp",),
        ("distribution",),
        ("performance", "predict"),
    ]
    assert {area for areas in host.refreshes for area in areas} <= set(AREAS)
    host.counterfactual = type("Found", (), {"position": 7})()
    counterfactual.load_button.click()
    assert host.loaded == [7]
    distribution.refresh()  # draws from the host's state alone
    assert distribution.output.outputs


def test_the_prediction_view_says_why_it_has_no_prediction_on_a_host_without_a_model(
    numeric_frame,
):
    from mlnb.whatif.messages import MessageArea
    from mlnb.whatif.prediction_view import PredictionView

    frame, _ = numeric_frame(n=30)
    report = MessageArea()
    view = PredictionView(FakeHost(frame), report)
    view.update()
    assert view.text == "prediction  — (see the message above)"
    assert view.threshold_row.layout.display == "none"  # not a binary task
    assert view.edited_scores is None


@pytest.mark.parametrize(
    "module",
    [
        "views",
        "pdp_view",
        "performance_view",
        "prediction_view",
        "row_picker",
        "messages",
        "wit",
        "host",
    ],
)
def test_tabs_never_import_the_explorer(module):
    tree = ast.parse((WHATIF / f"{module}.py").read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert not {m for m in imported if m.endswith("explorer")}
