"""The datapoint editor's prediction lines and the binary threshold slider.

Shows the row's own prediction (from the all-rows pass, no new call) and the
edited point's (one single-row call, only when the row is edited), their change,
and which threshold decided each label: the slider's, or a per-slice threshold set
on the Performance tab — in which case the slider is disabled and says so.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import ipywidgets as widgets
import numpy as np

from mlnb.exceptions import MlnbError, WhatIfError
from mlnb.whatif import editor, layout
from mlnb.whatif.editor import FIT_LABEL
from mlnb.whatif.features import value_warnings
from mlnb.whatif.model_adapter import BINARY

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from mlnb.whatif.host import ExplorerHost
    from mlnb.whatif.messages import MessageArea


class PredictionView:
    """The prediction table, the threshold slider and the note beside it."""

    def __init__(self, explorer: ExplorerHost, report: MessageArea) -> None:
        self.explorer = explorer
        self.report = report
        self.widget = widgets.HTML()
        self.slider = widgets.FloatSlider(
            min=0.0, max=1.0, step=0.001, value=0.5, description="threshold",
            readout_format=".3f", continuous_update=False, style=FIT_LABEL,
        )  # fmt: skip
        self.note = widgets.HTML()
        binary = explorer.adapter is not None and explorer.adapter.task == BINARY
        self.threshold_row = layout.row(
            [self.slider, self.note], display=None if binary else "none"
        )
        self.lines: list[tuple[str, str]] = [("prediction", "…")]
        self.original_scores: np.ndarray | None = None
        self.edited_scores: np.ndarray | None = None

    @property
    def text(self) -> str:
        """The prediction lines as plain text."""
        return editor.lines_text(self.lines)

    def update(self) -> None:
        """Predict the edited point (when edited) and redraw the lines and warnings."""
        ex = self.explorer
        values = ex.edited_values
        self.report.warnings = [w for f in ex.features for w in value_warnings(f, values[f.name])]
        self.original_scores = self.edited_scores = None
        adapter = ex.adapter
        if adapter is None:
            self.lines = [("prediction", "— (see the message above)")]
        else:
            point = ex.point_frame()
            try:
                self.original_scores = self._original_scores()
                self.edited_scores = (
                    adapter.predict(point)[0] if ex.is_edited else self.original_scores
                )
                self.report.errors.pop("prediction", None)
            except MlnbError as exc:
                self.report.errors["prediction"] = str(exc)
            row = ex.data.iloc[[ex.position]]
            before = float(ex.threshold_for(row)[0])
            after = float(ex.threshold_for(point)[0])
            self.lines = editor.prediction_lines(
                adapter, self.original_scores, self.edited_scores, (before, after),
                edited_any=ex.is_edited, threshold_source=self._threshold_source(row, point),
            )  # fmt: skip
        self.widget.value = editor.lines_html(self.lines)

    def show_threshold_state(self) -> None:
        """Disable the slider and say so while per-slice thresholds replace it."""
        ex = self.explorer
        per_slice = bool(ex.slice_thresholds) and ex.slice_feature is not None
        self.slider.disabled = per_slice
        self.note.value = (
            f"<i>not applied: per-slice thresholds by {html.escape(str(ex.slice_feature))} "
            "are (see Performance)</i>"
            if per_slice
            else ""
        )

    def _threshold_source(self, row: pd.DataFrame, point: pd.DataFrame) -> str | None:
        """Where the applied thresholds come from, when not from the slider."""
        ex = self.explorer
        binary = ex.adapter is not None and ex.adapter.task == BINARY
        if not (binary and ex.slice_thresholds and ex.slice_feature is not None):
            return None
        name = ex.slice_feature
        before = ex.slice_of(row[name])[0]
        after = ex.slice_of(point[name])[0]
        text = f"per-slice thresholds by {name}, not the slider: original in slice {before}"
        if after != before:
            return f"{text}, edited point in slice {after}"
        return f"{text} (the edited point too)"

    def _original_scores(self) -> np.ndarray:
        ex = self.explorer
        if ex.scores is not None:
            return ex.scores[ex.position]
        if ex.adapter is None:
            raise WhatIfError("the model could not be set up; see the first message.")
        return ex.adapter.predict(ex.point_frame(ex.row_values(ex.position)))[0]
