"""``WhatIf``: a WIT-style what-if panel built from stock ipywidgets.

The panel is a ``VBox``: a message area, a row chooser, and tabs for the datapoint
editor (with the nearest counterfactual), partial dependence, feature
distributions and — when a target is given — performance & fairness. Every
widget change goes through one :class:`~mlnb.whatif.debounce.Debouncer`, so a
slider drag costs one prediction, not one per step. A model that raises or
returns the wrong shape produces a sentence in the message area; the panel keeps
working. What the user found can be taken back to Python: :attr:`edited_rows`,
:attr:`counterfactual`, :attr:`threshold`, :attr:`slice_thresholds`, :attr:`pdp`.

The shown row, its edits and every update hold one lock: a debounced update runs
on a timer thread, and a row switch (or an edit) waits for it to finish instead of
changing the row under it, so no update ever sees half of one row and half of
another. Edits are kept per row *position* (index labels may repeat).

The tabs live in :mod:`~mlnb.whatif.views` and :mod:`~mlnb.whatif.performance_view`;
they see the panel only through :class:`~mlnb.whatif.host.ExplorerHost` (state,
:meth:`WhatIf.refresh`, :meth:`WhatIf.load_row`), so they never import this module.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from mlnb.exceptions import MlnbError, WhatIfError
from mlnb.whatif import editor
from mlnb.whatif.adapters import BINARY, ModelAdapter, make_adapter
from mlnb.whatif.counterfactual import Counterfactual
from mlnb.whatif.dataset import encode_target, prepare_data, rows_where
from mlnb.whatif.debounce import Debouncer
from mlnb.whatif.features import Feature, describe_features, encoder_categories, value_warnings
from mlnb.whatif.pdp import PartialDependence, PartialDependence2D
from mlnb.whatif.performance_view import PerformanceView
from mlnb.whatif.views import CounterfactualView, DistributionView, PartialDependenceView

log = logging.getLogger(__name__)


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
        sample_size: rows used for ICE curves and distributions on large data.
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
        debounce_seconds: float = 0.25,
        random_state: int = 0,
    ) -> None:
        super().__init__()
        if isinstance(sample_size, bool) or not isinstance(sample_size, (int, np.integer)):
            raise WhatIfError(f"sample_size must be a whole number ≥ 1, got {sample_size!r}.")
        if sample_size < 1:
            raise WhatIfError(f"sample_size must be a whole number ≥ 1, got {sample_size!r}.")
        categorical = list(categorical or ())
        fixed = list(fixed)
        self.model = model
        self._errors: dict[str, str] = {}
        self._warnings: list[str] = []
        self.notes: list[str] = []
        self._prepare(model, data, target, features)
        self.adapter: ModelAdapter | None = None
        if "setup" not in self._errors:
            try:
                self.adapter = make_adapter(model, self.data, predict=predict,
                                            class_names=class_names, task=task)  # fmt: skip
                self.notes += self.adapter.notes
            except MlnbError as exc:
                self._errors["setup"] = str(exc)
        _check_columns("categorical", categorical, self.data)
        _check_columns("fixed", fixed, self.data)
        known = encoder_categories(model) if predict is None else {}
        train = (
            train_data[[c for c in self.data.columns if c in train_data.columns]]
            if train_data is not None
            else None
        )
        self.features: list[Feature] = describe_features(
            self.data, categorical=categorical, train=train, model_categories=known
        )
        self.feature_by_name = {f.name: f for f in self.features}
        self.notes += [
            f"{f.disabled_reason}; its widget is disabled." for f in self.features if not f.editable
        ]
        self.scores: np.ndarray | None = self._predict_all()
        self.y_true = self._encode_target()
        rng = np.random.default_rng(random_state)
        n = len(self.data)
        self.sample_positions = (
            np.sort(rng.choice(n, sample_size, replace=False)) if n > sample_size else np.arange(n)
        )
        if n > sample_size:
            self.notes.append(
                f"the data has {n:,} rows: partial dependence, ICE curves and distributions use a "
                f"random sample of {sample_size:,} rows; predictions, counterfactuals and "
                "performance use every row."
            )
        self.position = 0
        self._edits: dict[int, dict[str, Any]] = {}
        self._edited: dict[str, Any] = self._row(0)
        self._loading = False
        self._state_lock = threading.RLock()
        self.counterfactual: Counterfactual | None = None
        self.slice_thresholds: dict[Any, float] | None = None
        self.slice_feature: str | None = None
        self.edited_scores: np.ndarray | None = None
        self.original_scores: np.ndarray | None = None
        self._prediction_lines: list[tuple[str, str]] = [("prediction", "…")]
        self._debouncer = Debouncer(debounce_seconds, self._run_updates)
        self._build(fixed)
        self.refresh("performance")
        self.load_row(0)

    # ----------------------------------------------------------------- setup
    def _prepare(self, model: Any, data: Any, target: Any, features: Sequence[str] | None) -> None:
        try:
            prepared = prepare_data(model, data, target, features=features)
        except WhatIfError as exc:
            prepared = prepare_data(None, data, target, features=features)
            self._errors["setup"] = str(exc)
        self.data: pd.DataFrame = prepared.features
        self.target: pd.Series | None = prepared.target
        self.notes += prepared.notes

    def _predict_all(self) -> np.ndarray | None:
        if self.adapter is None:
            return None
        try:
            return self.adapter.predict(self.data)
        except MlnbError as exc:
            self._errors["all rows"] = (
                f"predicting every row failed, so counterfactuals and performance are off: {exc}"
            )
            return None

    def _encode_target(self) -> np.ndarray | None:
        if self.target is None or self.adapter is None:
            return None
        try:
            return encode_target(self.target, self.adapter)
        except WhatIfError as exc:
            self._errors["target"] = str(exc)
            return None

    def _build(self, fixed: Iterable[str]) -> None:
        self.message = widgets.HTML()
        self.prediction = widgets.HTML()
        self.row_input = widgets.BoundedIntText(min=0, max=len(self.data) - 1, description="row")
        self.row_label = widgets.HTML()
        columns = list(self.data.columns) + (
            [str(self.target.name or "target")] if self.target is not None else []
        )
        self.search_column = widgets.Dropdown(options=columns, description="find where")
        self.search_value = widgets.Text(
            placeholder="value", continuous_update=False, description="equals"
        )
        self.reset_button = widgets.Button(description="reset", tooltip="undo this row's edits")
        self.threshold_slider = widgets.FloatSlider(
            min=0.0, max=1.0, step=0.001, value=0.5, description="threshold",
            readout_format=".3f", continuous_update=False,
        )  # fmt: skip
        self.threshold_note = widgets.HTML()
        self.inputs = {f.name: editor.feature_widget(f) for f in self.features}
        self.counterfactual_view = CounterfactualView(self, fixed)
        self.pdp_view = PartialDependenceView(self)
        self.distribution_view = DistributionView(self)
        self.performance_view = PerformanceView(self)
        edit_box = widgets.VBox(
            [self.prediction, *[editor.feature_row(f, self.inputs[f.name]) for f in self.features],
             self.counterfactual_view.widget]
        )  # fmt: skip
        self.tabs = widgets.Tab(
            children=[
                edit_box,
                self.pdp_view.widget,
                self.distribution_view.widget,
                self.performance_view.widget,
            ]
        )
        self.tabs.titles = (
            "Datapoint editor",
            "Partial dependence",
            "Distributions",
            "Performance",
        )
        header = widgets.HBox([self.row_input, self.row_label, self.reset_button])
        search = widgets.HBox([self.search_column, self.search_value])
        threshold_row = widgets.HBox(
            [self.threshold_slider, self.threshold_note],
            layout=widgets.Layout(display=None if self._binary else "none"),
        )
        self.children = [self.message, header, search, threshold_row, self.tabs]
        self.row_input.observe(lambda change: self.load_row(change["new"]), names="value")
        self.search_value.observe(lambda change: self._search(change["new"]), names="value")
        self.reset_button.on_click(lambda _: self.reset())
        self.threshold_slider.observe(
            lambda _: self.refresh("predict", "performance", "views"), names="value"
        )
        self.tabs.observe(lambda _: self.refresh("views"), names="selected_index")
        for name, widget in self.inputs.items():
            widget.observe(lambda _, name=name: self._on_edit(name), names="value")

    @property
    def _binary(self) -> bool:
        return self.adapter is not None and self.adapter.task == BINARY

    # ------------------------------------------------------------ public API
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
            edits = {pos: dict(e) for pos, e in sorted(self._edits.items()) if e}
        rows = self.data.iloc[list(edits)].copy()
        for i, changed in enumerate(edits.values()):
            for name, value in changed.items():
                rows.iloc[i, rows.columns.get_loc(name)] = value
        return rows

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
        return [*self._errors.values(), *self._warnings, *self.notes]

    @property
    def message_text(self) -> str:
        """The message area as plain text."""
        return "\n".join(self.messages)

    @property
    def header_text(self) -> str:
        """The header as plain text: "row 10 of 228 (0 to 227), index label 298"."""
        n = len(self.data)
        label = self.data.index[self.position]
        return f"row {self.position:,} of {n:,} (0 to {n - 1:,}), index label {label}"

    @property
    def prediction_text(self) -> str:
        """The prediction area as plain text."""
        return editor.lines_text(self._prediction_lines)

    def load_row(self, position: int) -> None:
        """Show row ``position`` (0-based), with any edits made to it before."""
        n = len(self.data)
        if not 0 <= position < n:
            raise WhatIfError(f"row must be from 0 to {n - 1}, got {position}.")
        with self._state_lock:
            self.position = int(position)
            self._edited = {
                **self._row(self.position),
                **self._edits.get(self.position, {}),
            }
            self._loading = True
            try:
                self.row_input.value = self.position
                for feature in self.features:
                    editor.set_widget_value(
                        self.inputs[feature.name], feature, self._edited[feature.name]
                    )
            finally:
                self._loading = False
            self.row_label.value = html.escape(self.header_text)
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
            self._edits.pop(self.position, None)
            self.load_row(self.position)

    def find(self, column: str, value: Any) -> list[int]:
        """Positions of the rows where ``column`` equals ``value``; shows the first."""
        target = self.target
        if target is not None and column == str(target.name or "target"):
            source = target
        elif column in self.data.columns:
            source = self.data[column]
        else:
            raise WhatIfError(f"{column!r} is not a column of the data.")
        matches = rows_where(source, value)
        if matches.size == 0:
            self._errors["find"] = f"no row where {column} = {value}."
            self._render_messages()
            return []
        self._errors.pop("find", None)
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
        """Run a debounced update now (what the timer would do after the quiet period)."""
        self._debouncer.flush()

    def close(self) -> None:
        """Stop the debounce timer and close every widget."""
        debouncer = getattr(self, "_debouncer", None)  # None: refused before it was built
        if debouncer is not None:
            debouncer.close()
        super().close()

    def to_wit(self) -> Any:
        """A ``witwidget`` ``WitConfigBuilder`` for this model and data (needs tensorflow).

        Raises:
            WitUnavailableError: ``witwidget`` is not installed; this panel is the alternative.
        """
        from mlnb.whatif.wit import wit_config

        return wit_config(self)

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
            edits = self._edits.setdefault(self.position, {})
            if editor.same_value(value, original):
                edits.pop(name, None)
                value = original
            else:
                edits[name] = value
            if not edits:
                self._edits.pop(self.position, None)
            self._edited[name] = value

    def _run_updates(self, keys: set[str]) -> None:
        with self._state_lock:
            self._run_updates_locked(keys)

    def _run_updates_locked(self, keys: set[str]) -> None:
        try:
            if "performance" in keys:  # first: it sets the thresholds the prediction uses
                self._guard("performance", self.performance_view.refresh)
                self._show_threshold_state()
            if keys & {"predict", "performance"}:
                self._update_prediction()
            if keys & {"predict", "counterfactual"} and self.counterfactual_view.toggle.value:
                self._guard("counterfactual", self.counterfactual_view.refresh)
            selected = self.tabs.selected_index
            if "pdp" in keys or ("views" in keys and selected == 1):
                self._guard("partial dependence", self.pdp_view.refresh)
            if "distribution" in keys or ("views" in keys and selected == 2):
                self._guard("distributions", self.distribution_view.refresh)
        finally:
            self._render_messages()

    def _guard(self, area: str, update: Callable[[], None]) -> None:
        try:
            update()
        except MlnbError as exc:
            self._errors[area] = f"{area}: {exc}"
        else:
            self._errors.pop(area, None)

    def point_frame(self, values: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """A one-row DataFrame of ``values`` (default: the edited point) with the data's dtypes."""
        values = self._edited if values is None else values
        return editor.point_frame(self.data, self.position, values)

    def threshold_for(self, frame: pd.DataFrame) -> np.ndarray:
        """Per-row binary thresholds: the slider's, or each row's slice threshold."""
        if self.slice_thresholds and self.slice_feature is not None:
            labels = self.performance_view.slice_of(frame[self.slice_feature])
            return np.array([self.slice_thresholds.get(s, self.threshold) for s in labels])
        return np.full(len(frame), self.threshold)

    def _update_prediction(self) -> None:
        self._warnings = [w for f in self.features for w in value_warnings(f, self._edited[f.name])]
        self.original_scores = self.edited_scores = None
        if self.adapter is None:
            self._prediction_lines = [("prediction", "— (see the message above)")]
        else:
            point = self.point_frame()
            try:
                self.original_scores = self._original_scores()
                self.edited_scores = (
                    self.adapter.predict(point)[0]
                    if self._edits.get(self.position)
                    else self.original_scores  # not edited: the row's own prediction
                )
                self._errors.pop("prediction", None)
            except MlnbError as exc:
                self._errors["prediction"] = str(exc)
            row = self.data.iloc[[self.position]]
            before = float(self.threshold_for(row)[0])
            after = float(self.threshold_for(point)[0])
            self._prediction_lines = editor.prediction_lines(
                self.adapter, self.original_scores, self.edited_scores, (before, after),
                edited_any=bool(self._edits.get(self.position)),
                threshold_source=self._threshold_source(row, point),
            )  # fmt: skip
        self.prediction.value = editor.lines_html(self._prediction_lines)

    def _threshold_source(self, row: pd.DataFrame, point: pd.DataFrame) -> str | None:
        """Where the applied thresholds come from, when not from the slider."""
        if not (self._binary and self.slice_thresholds and self.slice_feature is not None):
            return None
        name = self.slice_feature
        before = self.performance_view.slice_of(row[name])[0]
        after = self.performance_view.slice_of(point[name])[0]
        text = f"per-slice thresholds by {name}, not the slider: original in slice {before}"
        if after != before:
            return f"{text}, edited point in slice {after}"
        return f"{text} (the edited point too)"

    def _show_threshold_state(self) -> None:
        """Disable the slider and say so while per-slice thresholds replace it."""
        per_slice = bool(self.slice_thresholds) and self.slice_feature is not None
        self.threshold_slider.disabled = per_slice
        self.threshold_note.value = (
            f"<i>not applied: per-slice thresholds by {html.escape(str(self.slice_feature))} "
            "are (see Performance)</i>"
            if per_slice
            else ""
        )

    def _original_scores(self) -> np.ndarray:
        if self.scores is not None:
            return self.scores[self.position]
        if self.adapter is None:
            raise WhatIfError("the model could not be set up; see the first message.")
        return self.adapter.predict(self.point_frame(self._row(self.position)))[0]

    def _row(self, position: int) -> dict[str, Any]:
        """Row ``position`` as ``{column: value}`` (the data's columns are str, see dataset)."""
        return {str(name): value for name, value in self.data.iloc[position].to_dict().items()}

    def _render_messages(self) -> None:
        parts = [
            f"<div style='color:#b00020'>⚠ {html.escape(m)}</div>" for m in self._errors.values()
        ]
        parts += [f"<div style='color:#a05a00'>△ {html.escape(m)}</div>" for m in self._warnings]
        parts += [f"<div style='color:#555'>ℹ {html.escape(m)}</div>" for m in self.notes]
        self.message.value = "".join(parts)


def _check_columns(option: str, names: list[str], data: pd.DataFrame) -> None:
    """Every name in ``names`` is a column of ``data``, or one sentence naming the others."""
    columns = [str(c) for c in data.columns]
    unknown = [n for n in names if str(n) not in columns]
    if unknown:
        shown = ", ".join(columns[:12]) + (
            f" and {len(columns) - 12} more" if len(columns) > 12 else ""
        )
        raise WhatIfError(
            f"{option} names {', '.join(map(repr, unknown))}, not a column of the data; "
            f"its columns are: {shown}."
        )
