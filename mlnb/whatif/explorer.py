"""``WhatIf``: a WIT-style what-if panel built from stock ipywidgets.

A ``VBox``: the message area, the row chooser, the threshold slider and tabs — datapoint
editor (with the nearest counterfactual), partial dependence, distributions and, given a
target, performance & fairness. Every widget change goes through one
:class:`~mlnb.whatif.debounce.Debouncer`, so a slider drag costs one prediction. The
shown row, its edits and every update hold one lock, so no update mixes two rows; slow
partial dependence runs in the background without it (:mod:`~mlnb.whatif.pdp_view`).

The state computed once is :mod:`~mlnb.whatif.panel_state`'s; the parts are
:mod:`~mlnb.whatif.row_picker`, :mod:`~mlnb.whatif.prediction_view`,
:mod:`~mlnb.whatif.row_edits`, :mod:`~mlnb.whatif.messages` and the tabs, which see the
panel only through :class:`~mlnb.whatif.host.ExplorerHost` and never import this module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from mlnb.exceptions import WhatIfError
from mlnb.whatif import editor
from mlnb.whatif.counterfactual import Counterfactual
from mlnb.whatif.debounce import Debouncer
from mlnb.whatif.panel_state import StateOptions, load_state
from mlnb.whatif.pdp import PartialDependence, PartialDependence2D
from mlnb.whatif.pdp_view import PartialDependenceView
from mlnb.whatif.performance import per_row
from mlnb.whatif.performance_view import PerformanceView
from mlnb.whatif.prediction_view import PredictionView
from mlnb.whatif.row_edits import RowEdits
from mlnb.whatif.row_picker import RowPicker
from mlnb.whatif.views import CounterfactualView, DistributionView


class WhatIf(widgets.VBox):
    """Explore how a model's prediction changes when one data point's features change.

    Args:
        model: a fitted scikit-learn estimator or Pipeline, a torch ``nn.Module``, or
            a callable taking a 2-D batch.
        data: a DataFrame or 2-D array of rows to explore.
        target: a column of ``data`` or one true label/value per row (enables performance).
        predict: a predict function to use instead of the model's own.
        features: the columns to explore (default: every column but the target).
        categorical: numeric columns to treat as categories.
        class_names: display names of the classes, in the model's class order.
        task: ``"regression"``, ``"binary"`` or ``"multiclass"``; detected when None.
        train_data: the data the model was trained on, for out-of-range warnings.
        fixed: features a counterfactual must keep (e.g. ``["age", "sex"]``).
        sample_size: rows whose ICE curves and distributions are drawn on large data.
        average_size: rows the partial-dependence average is taken over on large data
            (the ICE rows and more; "average over every row" computes the exact one).
        debounce_seconds: quiet time before an update runs (0: update at once).
        random_state: seed of the sample.
    """

    def __init__(
        self,
        model: Any,
        data: Any,
        target: Any = None,
        *,
        predict: Callable[[Any], Any] | None = None,
        features: Sequence[str] | None = None,
        categorical: Iterable[str] | None = None,
        class_names: Sequence[Any] | Mapping[Any, str] | None = None,
        task: str | None = None,
        train_data: pd.DataFrame | None = None,
        fixed: Iterable[str] = (),
        sample_size: int = 1000,
        average_size: int = 10_000,
        debounce_seconds: float = 0.25,
        random_state: int = 0,
    ) -> None:
        super().__init__()
        options = StateOptions(
            predict=predict, features=features, categorical=list(categorical or ()),
            fixed=list(fixed), class_names=class_names, task=task, train_data=train_data,
            sample_size=sample_size, average_size=average_size, random_state=random_state,
        )  # fmt: skip
        self.model = model
        state = load_state(model, data, target, options)
        self.report = state.report
        self.message = self.report.widget
        self.data = state.data
        self.target = state.target
        self.adapter = state.adapter
        self.features = state.features
        self.feature_by_name = {f.name: f for f in self.features}
        self.scores = state.scores
        self.y_true = state.y_true
        self.sample_positions = state.sample_positions
        self.average_positions = state.average_positions
        self.position = 0
        self._edits = RowEdits()
        self._edited: dict[str, Any] = self.row_values(0)
        self._loading = False
        self._state_lock = threading.RLock()
        self.counterfactual: Counterfactual | None = None
        self.slice_thresholds: dict[Any, float] | None = None
        self.slice_feature: str | None = None
        self._debouncer = Debouncer(debounce_seconds, self._run_updates)
        self._build(options.fixed)
        self.refresh("performance")
        self.load_row(0)

    def _build(self, fixed: Iterable[str]) -> None:
        self.picker = RowPicker(self.data, self.target)
        self.row_input = self.picker.row_input
        self.row_label = self.picker.row_label
        self.search_column = self.picker.search_column
        self.search_value = self.picker.search_value
        self.reset_button = self.picker.reset_button
        self.prediction_view = PredictionView(self, self.report)
        self.prediction = self.prediction_view.widget
        self.threshold_slider = self.prediction_view.slider
        self.threshold_note = self.prediction_view.note
        label = editor.label_width(self.features)
        self.inputs = {f.name: editor.feature_widget(f, label) for f in self.features}
        self.counterfactual_view = CounterfactualView(self, fixed)
        self.pdp_view = PartialDependenceView(self)
        self.distribution_view = DistributionView(self)
        self.performance_view = PerformanceView(self)
        edit_box = widgets.VBox(
            [self.prediction, *[editor.feature_row(f, self.inputs[f.name]) for f in self.features],
             self.counterfactual_view.widget]
        )  # fmt: skip
        views = (self.pdp_view, self.distribution_view, self.performance_view)
        self.tabs = widgets.Tab(children=[edit_box, *(v.widget for v in views)])
        self.tabs.titles = (
            "Datapoint editor",
            "Partial dependence",
            "Distributions",
            "Performance",
        )
        self.children = [
            self.message, self.picker.widget, self.prediction_view.threshold_row, self.tabs
        ]  # fmt: skip
        self.row_input.observe(lambda change: self.load_row(change["new"]), names="value")
        self.search_value.observe(lambda change: self._search(change["new"]), names="value")
        self.reset_button.on_click(lambda _: self.reset())
        self.threshold_slider.observe(
            lambda _: self.refresh("predict", "performance", "views"), names="value"
        )
        self.tabs.observe(lambda _: self.refresh("views"), names="selected_index")
        for name, widget in self.inputs.items():
            widget.observe(lambda _, name=name: self._on_edit(name), names="value")

    # ------------------------------------------------------------ public API
    @property
    def notes(self) -> list[str]:
        """Sentences about choices the panel made (a sample, a transform), shown last."""
        return self.report.notes

    @property
    def threshold(self) -> float:
        """The binary decision threshold on P(positive class): the slider's, as it shows it.

        The slider shows three decimals and the threshold applied is rounded to them,
        so the number on screen is the number used. Per-slice thresholds, when a
        strategy sets them, replace it (:attr:`slice_thresholds`; the slider is then
        disabled and says so).
        """
        return round(float(self.threshold_slider.value), 3)

    @threshold.setter
    def threshold(self, value: float) -> None:
        self.threshold_slider.value = round(float(value), 3)

    @property
    def edited_values(self) -> dict[str, Any]:
        """The current point with the user's edits, as ``{feature: value}`` (a copy)."""
        with self._state_lock:
            return dict(self._edited)

    @property
    def is_edited(self) -> bool:
        """Whether the current row has an edit."""
        with self._state_lock:
            return self._edits.any(self.position)

    @property
    def edited_point(self) -> pd.Series:
        """The current point with the user's edits applied."""
        with self._state_lock:
            values = dict(self._edited)
            label = self.data.index[self.position]
        return pd.Series(values, name=label)[list(self.data.columns)]

    @property
    def edited_rows(self) -> pd.DataFrame:
        """Every row the user edited, with the edits applied (indexed like the data)."""
        with self._state_lock:
            return self._edits.edited_rows(self.data)

    @property
    def edited_scores(self) -> np.ndarray | None:
        """The edited point's scores (its own row's when not edited), or None."""
        return self.prediction_view.edited_scores

    @property
    def original_scores(self) -> np.ndarray | None:
        """The shown row's own scores, or None."""
        return self.prediction_view.original_scores

    @property
    def pdp(self) -> PartialDependence | PartialDependence2D | None:
        """The last partial dependence computed (1-D or 2-D), or None."""
        return self.pdp_view.result

    @property
    def metrics(self) -> dict[str, Any] | None:
        """The overall performance metrics at the current threshold(s), or None."""
        return self.performance_view.metrics

    @property
    def messages(self) -> list[str]:
        """Every sentence the panel shows: errors, then warnings, then notes."""
        return self.report.messages

    @property
    def message_text(self) -> str:
        """The message area as plain text."""
        return "\n".join(self.messages)

    @property
    def header_text(self) -> str:
        """The header as plain text: "row 10 of 228 (0 to 227), index label 298"."""
        return self.picker.header_text(self.position)

    @property
    def prediction_text(self) -> str:
        """The prediction area as plain text."""
        return self.prediction_view.text

    def load_row(self, position: int) -> None:
        """Show row ``position`` (0-based), with any edits made to it before."""
        n = len(self.data)
        if not 0 <= position < n:
            raise WhatIfError(f"row must be from 0 to {n - 1}, got {position}.")
        with self._state_lock:
            self.position = int(position)
            self._edited = {**self.row_values(self.position), **self._edits.of(self.position)}
            self._loading = True
            try:
                self.picker.show(self.position)
                for feature in self.features:
                    editor.set_widget_value(
                        self.inputs[feature.name], feature, self._edited[feature.name]
                    )
            finally:
                self._loading = False
            self.refresh("predict", "views")

    def edit(self, **values: Any) -> None:
        """Set features of the current point, e.g. ``explorer.edit(age=40)``; sliders widen."""
        unknown = [name for name in values if name not in self.inputs]
        if unknown:
            raise WhatIfError(
                f"{unknown[0]!r} is not a feature; features: {', '.join(self.inputs)}."
            )
        with self._state_lock:
            self._loading = True
            try:
                for name, value in values.items():
                    editor.set_widget_value(self.inputs[name], self.feature_by_name[name], value)
            finally:
                self._loading = False
            for name, value in values.items():
                self._record_edit(name, value)
            self.refresh("predict", "views")

    def reset(self) -> None:
        """Undo every edit of the current row."""
        with self._state_lock:
            self._edits.drop(self.position)
            self.load_row(self.position)

    def find(self, column: str, value: Any) -> list[int]:
        """Positions of the rows where ``column`` equals ``value``; shows the first."""
        matches = self.picker.matches(column, value)
        if matches.size == 0:
            self.report.errors["find"] = f"no row where {column} = {value}."
            self.report.render()
            return []
        self.report.errors.pop("find", None)
        self.load_row(int(matches[0]))
        return [int(m) for m in matches]

    def find_counterfactual(self) -> Counterfactual | None:
        """Compute (and show) the nearest counterfactual of the current point now."""
        self.counterfactual_view.toggle.value = True
        self._debouncer.flush()
        return self.counterfactual

    def refresh(self, *areas: str) -> None:
        """Ask for an update of ``areas`` ("predict", "performance", "counterfactual", "pdp",
        "distribution", "views": the shown tab); runs after the debounce quiet time."""
        self._debouncer.trigger(*areas)

    def flush(self) -> None:
        """Run a debounced update now and wait for a background computation it started."""
        self._debouncer.flush()
        self.pdp_view.wait()

    def close(self) -> None:
        """Stop the debounce timer and any background computation; close every widget."""
        debouncer = getattr(self, "_debouncer", None)  # None: refused before it was built
        if debouncer is not None:
            debouncer.close()
        pdp_view = getattr(self, "pdp_view", None)
        if pdp_view is not None:
            pdp_view.close()
        super().close()

    def to_wit(self) -> Any:
        """A ``witwidget`` ``WitConfigBuilder`` for this model and data (needs tensorflow).

        Raises:
            WitUnavailableError: ``witwidget`` is not installed; this panel is the alternative.
        """
        from mlnb.whatif.wit import wit_config

        return wit_config(self)

    def point_frame(self, values: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """A one-row DataFrame of ``values`` (default: the edited point) with the data's dtypes."""
        values = self._edited if values is None else values
        return editor.point_frame(self.data, self.position, values)

    def threshold_for(self, frame: pd.DataFrame) -> np.ndarray:
        """Per-row binary thresholds: the slider's, or each row's slice threshold."""
        if self.slice_thresholds and self.slice_feature is not None:
            labels = self.slice_of(frame[self.slice_feature])
            return per_row(self.slice_thresholds, labels, self.threshold)
        return np.full(len(frame), self.threshold)

    def slice_of(self, values: pd.Series) -> np.ndarray:
        """The Performance tab's slice name of each value of the slice feature."""
        return self.performance_view.slice_of(values)

    def row_values(self, position: int) -> dict[str, Any]:
        """Row ``position`` as ``{column: value}`` (the data's columns are str, see dataset)."""
        return {str(name): value for name, value in self.data.iloc[position].to_dict().items()}

    # --------------------------------------------------------------- updates
    def _search(self, value: str) -> None:
        if value.strip():
            self.find(self.search_column.value, value.strip())

    def _on_edit(self, name: str) -> None:
        with self._state_lock:
            if self._loading:
                return
            feature = self.feature_by_name[name]
            widget = self.inputs[name]
            original = self.data.iloc[self.position][name]
            value = editor.widget_value(widget, feature, original)
            self._record_edit(name, value)
            if getattr(widget, "readout", True) is False:
                self._loading = True  # a NaN slider the user moved shows its number again
                try:
                    editor.set_widget_value(widget, feature, value)
                finally:
                    self._loading = False
            self.refresh("predict", "views")

    def _record_edit(self, name: str, value: Any) -> None:
        with self._state_lock:
            original = self.data.iloc[self.position][name]
            self._edited[name] = self._edits.record(self.position, name, value, original)

    def _run_updates(self, keys: set[str]) -> None:
        with self._state_lock:
            self._run_updates_locked(keys)

    def _run_updates_locked(self, keys: set[str]) -> None:
        guard = self.report.guard
        try:
            if "performance" in keys:  # first: it sets the thresholds the prediction uses
                guard("performance", self.performance_view.refresh)
                self.prediction_view.show_threshold_state()
            if keys & {"predict", "performance"}:
                self.prediction_view.update()
            if keys & {"predict", "counterfactual"} and self.counterfactual_view.toggle.value:
                guard("counterfactual", self.counterfactual_view.refresh)
            selected = self.tabs.selected_index
            if "pdp" in keys or ("views" in keys and selected == 1):
                guard("partial dependence", self.pdp_view.refresh)
            if "distribution" in keys or ("views" in keys and selected == 2):
                guard("distributions", self.distribution_view.refresh)
        finally:
            self.report.render()
