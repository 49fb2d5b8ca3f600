"""The explorer's performance & fairness tab (shown when a target is given).

Overall metrics, the confusion matrix and ROC curve at the current threshold; a
cost ratio and WIT's threshold strategies for binary tasks; metrics per slice of a
chosen feature (its categories, or quantile bins of a numeric one). The threshold
chosen here is the one the editor and the counterfactual use. Thresholds are shown
with three decimals and rounded to them before they are applied, so the number on
screen is the number used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from mlnb import display
from mlnb.exceptions import WhatIfError
from mlnb.whatif import charts, layout
from mlnb.whatif.editor import FIT_LABEL
from mlnb.whatif.features import NUMERIC
from mlnb.whatif.model_adapter import BINARY, REGRESSION, ModelAdapter
from mlnb.whatif.performance import (
    as_text,
    classification_metrics,
    cost,
    curve_area,
    optimal_threshold,
    per_row,
    regression_metrics,
    roc_curve,
    slice_metrics,
    slice_thresholds,
)

if TYPE_CHECKING:  # pragma: no cover
    from mlnb.whatif.host import ExplorerHost

_NONE = "(none)"
STRATEGY_OPTIONS = (
    ("manual (the threshold slider)", "manual"),
    ("single threshold, lowest cost", "single"),
    ("per-slice thresholds, lowest cost", "group"),
    ("demographic parity (per slice)", "demographic_parity"),
    ("equal opportunity (per slice)", "equal_opportunity"),
    ("equal accuracy (per slice)", "equal_accuracy"),
)


class PerformanceView:
    """Metrics, confusion matrix, ROC, cost ratio, threshold strategies, slices."""

    def __init__(self, explorer: ExplorerHost) -> None:
        self.explorer = explorer
        self.metrics: dict[str, Any] | None = None
        self.slices: list[dict[str, Any]] = []
        self._slicer: Callable[[pd.Series], np.ndarray] | None = None
        self._roc_key: tuple[int, int] | None = None
        self._roc_value: tuple[np.ndarray, np.ndarray, float] = (np.zeros(0), np.zeros(0), 0.0)
        binary = explorer.adapter is not None and explorer.adapter.task == BINARY
        hidden = widgets.Layout(display=None if binary else "none")
        self.cost_ratio = widgets.BoundedFloatText(
            value=1.0, min=0.0, max=1e6, description="cost FP/FN", layout=hidden, style=FIT_LABEL
        )
        self.strategy = widgets.Dropdown(
            options=STRATEGY_OPTIONS, value="manual", description="threshold", layout=hidden,
            style=FIT_LABEL,
        )  # fmt: skip
        names = [f.name for f in explorer.features]
        self.slice_by = widgets.Dropdown(
            options=[_NONE, *names], description="slice by", style=FIT_LABEL
        )
        self.bins = widgets.BoundedIntText(
            value=4, min=2, max=20, description="numeric bins", style=FIT_LABEL
        )
        self.summary = widgets.HTML()
        self.slice_table = widgets.HTML()
        self.output = widgets.Output()
        if explorer.target is None:
            self.widget: widgets.Widget = widgets.HTML(
                "<i>give a target (a column name or one label per row) to see performance.</i>"
            )
        else:
            controls = layout.row([self.strategy, self.cost_ratio])
            slicing = layout.row([self.slice_by, self.bins])
            self.widget = widgets.VBox(
                [controls, slicing, self.summary, self.output, self.slice_table]
            )
        for control in (self.cost_ratio, self.strategy, self.slice_by, self.bins):
            control.observe(lambda _: explorer.refresh("performance", "predict"), names="value")

    def slice_of(self, values: pd.Series) -> np.ndarray:
        """The slice name of each value (category, or numeric bin) of the slice feature."""
        if self._slicer is None:
            return np.full(len(values), "all")
        return self._slicer(values)

    def refresh(self) -> None:
        """Recompute thresholds (per the strategy), metrics, slices and charts."""
        ex = self.explorer
        ex.slice_thresholds = None
        ex.slice_feature = None
        self._slicer = self._make_slicer()
        if ex.target is None:
            return
        if ex.y_true is None or ex.scores is None or ex.adapter is None:
            self.metrics = None
            self.summary.value = "<i>performance is off; see the messages above.</i>"
            return
        y, scores = ex.y_true, ex.scores
        slices = self.slice_of(ex.data[self.slice_by.value]) if self._slicer else None
        if ex.adapter.task == REGRESSION:
            self._regression(y, scores, slices)
        else:
            self._classification(ex.adapter, y, scores, slices)

    def _make_slicer(self) -> Callable[[pd.Series], np.ndarray] | None:
        name = self.slice_by.value
        if name == _NONE:
            return None
        column = self.explorer.data[name]
        feature = self.explorer.feature_by_name[name]
        if feature.kind != NUMERIC or column.nunique() <= self.bins.value:
            return lambda values: as_text(values).to_numpy()
        _, edges = pd.qcut(column.astype(float), q=self.bins.value, retbins=True, duplicates="drop")
        edges[0], edges[-1] = -np.inf, np.inf
        names = [
            f"≤ {edges[i + 1]:.4g}" if i < len(edges) - 2 else f"> {edges[i]:.4g}"
            for i in range(len(edges) - 1)
        ]
        names = [f"{i + 1}: {n}" for i, n in enumerate(names)]

        labels = np.array([*names, "missing"])

        def slicer(values: pd.Series) -> np.ndarray:
            binned = pd.cut(values.astype(float), bins=edges, labels=False, include_lowest=True)
            codes = np.asarray(binned, dtype=float)  # vectorised: no Python loop over the rows
            return labels[np.where(np.isnan(codes), len(names), codes).astype(int)]

        return slicer

    def _regression(self, y: np.ndarray, predicted: np.ndarray, slices: np.ndarray | None) -> None:
        self.metrics = regression_metrics(y, predicted)
        rows = [(k, self.metrics[k]) for k in ("n", "mae", "rmse", "r2")]
        self.summary.value = display.html_table(["metric", "value"], rows, caption="performance")
        self._show_slices(y, predicted, slices, ("slice", "n", "mae", "rmse"))
        figure, (ax,) = charts.new_figure(4.5, 3.6)
        charts.plot_predicted_vs_true(ax, y, predicted)
        charts.show_figure(self.output, figure, "predicted against true values")

    def _classification(
        self, adapter: ModelAdapter, y: np.ndarray, scores: np.ndarray, slices: np.ndarray | None
    ) -> None:
        ex = self.explorer
        binary = adapter.task == BINARY
        thresholds: float | dict[Any, float] = ex.threshold
        if binary:
            thresholds = self._apply_strategy(y, scores[:, 1], slices)
        row_thresholds: float | np.ndarray
        if isinstance(thresholds, dict):
            assert slices is not None, "_apply_strategy sets per-slice thresholds only with slices"
            row_thresholds = per_row(thresholds, slices, ex.threshold)
        else:
            row_thresholds = thresholds
        fpr, tpr, auc = self._roc(y, scores)
        self.metrics = classification_metrics(y, scores, threshold=row_thresholds, auc=auc)
        rows = [(k, self.metrics[k]) for k in ("n", "accuracy", "f1", "roc_auc")]
        if binary:
            ratio = float(self.cost_ratio.value)
            self.metrics["cost"] = cost(y, scores[:, 1], row_thresholds, ratio)
            rows.append((f"cost ({ratio:g}×FP + FN)", self.metrics["cost"]))
            rows.append(("threshold", _thresholds_text(thresholds)))
        self.summary.value = display.html_table(["metric", "value"], rows, caption="performance")
        columns = (
            ("slice", "n", "accuracy", "f1", "threshold", "positive_rate", "tpr")
            if binary
            else ("slice", "n", "accuracy", "f1")
        )
        self._show_slices(y, scores, slices, columns, thresholds)
        figure, axes = charts.new_figure(8.5, 3.6, ncols=2 if binary else 1)
        charts.plot_confusion(axes[0], self.metrics["confusion"], adapter.classes)
        if binary:
            matrix = self.metrics["confusion"]
            point = (_rate(matrix[0, 1], matrix[0].sum()), _rate(matrix[1, 1], matrix[1].sum()))
            charts.plot_roc(axes[1], fpr, tpr, point)
        charts.show_figure(self.output, figure, "confusion matrix and ROC curve")

    def _roc(self, y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """ROC points to draw (at most 2,000) and the AUC, computed once per panel.

        Neither depends on the threshold, and sorting every row's score is the slowest
        step of a threshold change at a million rows.
        """
        key = (id(y), id(scores))
        if self._roc_key != key:
            if scores.shape[1] == 2:
                fpr, tpr, _ = roc_curve(y, scores[:, 1])
                auc = curve_area(fpr, tpr) if y.min() != y.max() else float("nan")
                keep = np.unique(np.linspace(0, len(fpr) - 1, min(len(fpr), 2000)).astype(int))
                self._roc_value = (fpr[keep], tpr[keep], auc)
            else:
                auc = classification_metrics(y, scores)["roc_auc"]
                self._roc_value = (np.zeros(0), np.zeros(0), auc)
            self._roc_key = key
        return self._roc_value

    def _apply_strategy(
        self, y: np.ndarray, score: np.ndarray, slices: np.ndarray | None
    ) -> float | dict[Any, float]:
        ex = self.explorer
        strategy = self.strategy.value
        ratio = float(self.cost_ratio.value)
        if strategy == "manual":
            return ex.threshold
        if strategy == "single":
            best = optimal_threshold(y, score, ratio)
            ex.threshold = min(max(best, 0.0), 1.0)
            return ex.threshold
        if slices is None:
            raise WhatIfError(
                f"choose a feature to slice by: the {strategy.replace('_', ' ')} strategy sets one threshold per slice."
            )
        found = slice_thresholds(y, score, slices, strategy, ratio)
        thresholds = {name: round(float(value), 3) for name, value in found.items()}
        ex.slice_thresholds = thresholds
        ex.slice_feature = self.slice_by.value
        return thresholds

    def _show_slices(
        self,
        y: np.ndarray,
        scores: np.ndarray,
        slices: np.ndarray | None,
        columns: tuple[str, ...],
        thresholds: float | dict[Any, float] = 0.5,
    ) -> None:
        if slices is None:
            self.slices = []
            self.slice_table.value = ""
            return
        self.slices = slice_metrics(y, scores, slices, thresholds=thresholds)
        rows = [[row.get(c, "—") for c in columns] for row in self.slices]
        caption = f"by {self.slice_by.value}"
        self.slice_table.value = display.html_table(list(columns), rows, caption=caption)


def _rate(count: float, total: float) -> float:
    return float(count / total) if total else float("nan")


def _thresholds_text(thresholds: float | dict[Any, float]) -> str:
    if isinstance(thresholds, dict):
        return "; ".join(f"{k}: {v:.3f}" for k, v in thresholds.items())
    return f"{float(thresholds):.3f}"
