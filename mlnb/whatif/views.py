"""The explorer's counterfactual and distribution views (partial dependence: :mod:`~mlnb.whatif.pdp_view`).

Each view owns its widgets (``.widget``) and a ``refresh()`` the explorer's
debouncer calls; each reads the explorer's state (data, sample, edited point,
threshold) and keeps its result for Python (``.result``).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import numpy as np

from mlnb.exceptions import WhatIfError
from mlnb.whatif import charts, editor, layout
from mlnb.whatif.counterfactual import (
    METRICS,
    Counterfactual,
    nearest_counterfactual,
    regression_threshold,
)
from mlnb.whatif.editor import FIT_LABEL
from mlnb.whatif.model_adapter import REGRESSION

if TYPE_CHECKING:  # pragma: no cover
    from mlnb.whatif.host import ExplorerHost

_NONE = "(none)"


class CounterfactualView:
    """WIT's "nearest counterfactual" toggle, with metric, fixed features and threshold."""

    def __init__(self, explorer: ExplorerHost, fixed: Iterable[str]) -> None:
        self.explorer = explorer
        names = [f.name for f in explorer.features]
        fixed = [f for f in fixed if f in names]
        regression = explorer.adapter is not None and explorer.adapter.task == REGRESSION
        default = (
            regression_threshold(explorer.scores)
            if regression and explorer.scores is not None
            else 0.0
        )
        self.toggle = widgets.Checkbox(description="nearest counterfactual", indent=False)
        self.metric = widgets.Dropdown(
            options=METRICS, value="l1", description="distance", style=FIT_LABEL
        )
        self.fixed = widgets.SelectMultiple(
            options=names, value=fixed, description="keep fixed", rows=4, style=FIT_LABEL
        )
        self.threshold = widgets.FloatText(
            value=default, description="differs by >", style=FIT_LABEL,
            layout=widgets.Layout(display=None if regression else "none"),
        )  # fmt: skip
        self.load_button = layout.fit_button("show that row", disabled=True)
        self.table = widgets.HTML()
        controls = layout.row([self.toggle, self.metric, self.threshold, self.load_button])
        self.widget = widgets.VBox([controls, self.fixed, self.table])
        for control in (self.toggle, self.metric, self.fixed, self.threshold):
            control.observe(lambda _: explorer.refresh("counterfactual"), names="value")
        self.load_button.on_click(lambda _: self._load())

    def refresh(self) -> None:
        """Find the nearest row whose prediction differs from the edited point's."""
        ex = self.explorer
        ex.counterfactual = None
        self.load_button.disabled = True
        if not self.toggle.value:
            self.table.value = ""
            return
        if ex.adapter is None or ex.scores is None or ex.edited_scores is None:
            raise WhatIfError("needs a prediction for every row and for the edited point.")
        regression = ex.adapter.task == REGRESSION
        if regression:
            labels, query = ex.scores, float(ex.edited_scores)
        else:
            labels = _labels(ex, ex.scores, ex.threshold_for(ex.data))
            query = int(
                _labels(ex, ex.edited_scores[None, :], ex.threshold_for(ex.point_frame()))[0]
            )
        result = nearest_counterfactual(
            ex.data, labels, ex.edited_point, query, ex.features, metric=self.metric.value,
            fixed=self.fixed.value, threshold=float(self.threshold.value) if regression else None,
            regression=regression, exclude_position=ex.position,
        )  # fmt: skip
        ex.counterfactual = result
        if result is None:
            fixed = (
                f" among rows with the same {', '.join(self.fixed.value)}"
                if self.fixed.value
                else ""
            )
            self.table.value = f"<i>no row has a different prediction{html.escape(fixed)}.</i>"
            return
        self.load_button.disabled = False
        self.table.value = _counterfactual_html(ex.adapter.classes, result, regression)

    def _load(self) -> None:
        result = self.explorer.counterfactual
        if result is not None:
            self.explorer.load_row(result.position)


def _labels(explorer: ExplorerHost, scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    if scores.shape[1] == 2:
        return (scores[:, 1] >= thresholds).astype(int)
    return scores.argmax(axis=1)


def _counterfactual_html(classes: list[str], result: Counterfactual, regression: bool) -> str:
    def name(value: Any) -> str:
        return editor.shown(float(value)) if regression else classes[int(value)]

    head = (
        f"nearest counterfactual: row {result.position} (index {result.index}), predicted "
        f"{name(result.prediction)} instead of {name(result.query_prediction)}; "
        f"distance {result.distance:.3g}; {len(result.differences)} feature(s) differ"
    )
    rows = "".join(
        f"<tr><td>{html.escape(str(feature))}</td><td>{html.escape(_short(a))}</td>"
        f"<td><b>{html.escape(_short(b))}</b></td></tr>"
        for feature, a, b in result.differences
    )
    return (
        f"<p>{html.escape(head)}</p><table class='mlnb-table'><thead><tr><th>feature</th>"
        f"<th>this point</th><th>counterfactual</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _short(value: Any) -> str:
    return editor.shown(value)


class DistributionView:
    """A feature's distribution (coloured by label when there is one), the point marked."""

    def __init__(self, explorer: ExplorerHost) -> None:
        self.explorer = explorer
        self.feature = widgets.Dropdown(
            options=[f.name for f in explorer.features], description="feature", style=FIT_LABEL
        )
        self.output = widgets.Output()
        self.widget = widgets.VBox([self.feature, self.output])
        self.feature.observe(lambda _: explorer.refresh("distribution"), names="value")

    def refresh(self) -> None:
        """Redraw the chosen feature's histogram with the edited value marked."""
        ex = self.explorer
        name = self.feature.value
        feature = ex.feature_by_name[name]
        values = ex.data[name].iloc[ex.sample_positions]
        groups = None
        names: Callable[[Any], str] = str
        if (
            ex.target is not None
            and ex.adapter is not None
            and ex.adapter.task != REGRESSION
            and ex.y_true is not None
        ):
            import pandas as pd

            groups = pd.Series(ex.y_true[ex.sample_positions], index=values.index)
            classes = ex.adapter.classes
            names = lambda i: classes[int(i)]  # noqa: E731
        figure, (ax,) = charts.new_figure()
        charts.plot_distribution(
            ax, values, marker=ex.edited_point[name],
            categorical=feature.kind != "numeric", groups=groups, group_names=names,
        )  # fmt: skip
        charts.show_figure(self.output, figure, f"distribution of {name}")
