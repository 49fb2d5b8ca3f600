"""The explorer's partial-dependence tab: PDP + ICE of one feature, or a 2-D heatmap.

ICE curves are drawn for the panel's row sample (``sample_positions``, 1,000 rows
by default); the average (the PDP) is taken over a larger bounded sample
(``average_positions``, 10,000 rows by default), and the mean prediction over every
row — known from the all-rows pass, so free — is drawn as a reference line. The
sampled curves are kept per feature, grid and class: an edit only predicts the edited
point's curve (grid-size rows), so the tab follows edits at once. A 2-D surface and the exact
average over every row ("every row" ticked) take seconds at a million rows: they
run in a :class:`~mlnb.whatif.background.BackgroundTask` with a progress bar and a
status line, the panel stays usable meanwhile, and changing any control cancels
the computation that is no longer wanted. The chart itself is rendered off the update
thread as well (``result`` is set at once; :meth:`PartialDependenceView.wait` waits
for the picture).
"""

from __future__ import annotations

import html
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import numpy as np

from mlnb.exceptions import MlnbError, WhatIfError
from mlnb.whatif import charts, layout
from mlnb.whatif.background import BackgroundTask, Progress
from mlnb.whatif.editor import FIT_LABEL
from mlnb.whatif.features import BOOLEAN, CATEGORICAL
from mlnb.whatif.model_adapter import MULTICLASS, REGRESSION
from mlnb.whatif.pdp import (
    PartialDependence,
    PartialDependence2D,
    average_over_rows,
    partial_dependence,
    partial_dependence_2d,
)
from mlnb.whatif.pdp_plot import plot_partial_dependence, plot_partial_dependence_2d

if TYPE_CHECKING:  # pragma: no cover
    from mlnb.whatif.host import ExplorerHost

_NONE = "(none)"


class PartialDependenceView:
    """PDP + ICE for one feature (bars for categories), or a 2-D heatmap for two."""

    def __init__(self, explorer: ExplorerHost) -> None:
        self.explorer = explorer
        names = [f.name for f in explorer.features if f.editable]
        self.feature = widgets.Dropdown(options=[_NONE, *names], description="feature",
                                        style=FIT_LABEL)  # fmt: skip
        self.second = widgets.Dropdown(options=[_NONE, *names], description="and (2-D)",
                                       style=FIT_LABEL)  # fmt: skip
        self.centered = widgets.Checkbox(description="centred ICE", indent=False)
        self.every_row = widgets.Checkbox(
            description=f"average over every row ({len(explorer.data):,}, exact)", indent=False
        )
        self.grid_points = widgets.BoundedIntText(
            value=20, min=2, max=200, description="grid points", style=FIT_LABEL
        )
        adapter = explorer.adapter
        classes = adapter.classes if adapter is not None else []
        multiclass = adapter is not None and adapter.task == MULTICLASS
        self.class_choice = widgets.Dropdown(
            options=[(c, i) for i, c in enumerate(classes)], description="class", style=FIT_LABEL,
            layout=widgets.Layout(display=None if multiclass else "none"),
        )  # fmt: skip
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="computing",
                                            style=FIT_LABEL, layout=widgets.Layout(display="none"))  # fmt: skip
        self.status = widgets.HTML()
        self.output = widgets.Output()
        self.result: PartialDependence | PartialDependence2D | None = None
        self.task = BackgroundTask(self._show_progress, self._apply, self._fail)
        # the chart is rendered off the update thread too: a PNG of 200 ICE curves takes
        # a few hundred ms on a busy machine, and an edit should not wait for it
        self.drawing = BackgroundTask(lambda done, total: None, self._show_chart, self._fail)
        self._what = ""
        self._exact: dict[tuple[Any, ...], np.ndarray] = {}  # exact averages: no edit changes them
        self._sampled: tuple[tuple[Any, ...], PartialDependence] | None = None
        self.widget = widgets.VBox(
            [
                layout.row([self.feature, self.second, self.centered]),
                layout.row([self.grid_points, self.class_choice, self.every_row]),
                layout.row([self.progress, self.status]),
                self.output,
            ]
        )
        controls = (self.feature, self.second, self.centered, self.every_row, self.grid_points)
        for control in (*controls, self.class_choice):
            control.observe(lambda _: explorer.refresh("pdp"), names="value")

    def refresh(self) -> None:
        """Recompute for the chosen feature(s); a slow computation goes to the background."""
        ex = self.explorer
        self.task.cancel()  # whatever runs was asked for with other inputs
        self._hide_progress()
        if self.feature.value == _NONE:
            self.result = None
            self.drawing.cancel()  # a chart still being rendered must not replace the text
            charts.show_text(self.output, "choose a feature to see its partial dependence.")
            return
        if ex.adapter is None:
            raise WhatIfError("the model could not be set up; see the first message.")
        if self.second.value not in (_NONE, self.feature.value):
            self._start(self._surface_job(), "2-D partial dependence")
            return
        curve = self._curve()
        exact = self.every_row.value and curve.average_rows < len(ex.data)
        known = self._exact.get(self._exact_key(curve)) if exact else None
        if known is not None:
            curve = replace(curve, average=known, average_rows=len(ex.data))
        self._draw(curve)  # before a background start: its result must land after this
        if exact and known is None:
            self._start(self._exact_job(curve), f"the average over all {len(ex.data):,} rows")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background computation and the chart; False if one still runs."""
        computed = self.task.wait(timeout)
        return self.drawing.wait(timeout) and computed

    def close(self) -> None:
        """Cancel a background computation and join its thread."""
        self.task.close()
        self.drawing.close()

    # ------------------------------------------------------------- computing
    def _class_index(self) -> int | None:
        adapter = self.explorer.adapter
        return self.class_choice.value if adapter and adapter.task == MULTICLASS else None

    def _curve(self) -> PartialDependence:
        """The sampled curves (kept: no edit changes them) with the edited point's curve."""
        ex = self.explorer
        assert ex.adapter is not None
        feature = ex.feature_by_name[self.feature.value]
        categorical = feature.kind in (CATEGORICAL, BOOLEAN)
        grid = list(feature.categories) if categorical else None
        key = (feature.name, self.grid_points.value, self._class_index())
        if self._sampled is None or self._sampled[0] != key:
            rows = ex.data.iloc[ex.average_positions]
            curves = partial_dependence(
                ex.adapter, rows, feature.name, grid, class_index=self._class_index(),
                grid_resolution=self.grid_points.value, categorical=categorical,
                ice_rows=len(ex.sample_positions),
            )  # fmt: skip
            self._sampled = (key, replace(curves, data_mean=self._data_mean()))
        sampled = self._sampled[1]
        point = partial_dependence(
            ex.adapter, ex.point_frame(), feature.name, sampled.grid,
            class_index=self._class_index(), categorical=categorical,
        )  # fmt: skip
        return replace(sampled, point=point.individual[0])

    def _data_mean(self) -> float | None:
        ex = self.explorer
        if ex.scores is None or ex.adapter is None:
            return None
        if ex.adapter.task == REGRESSION:
            return float(np.mean(ex.scores))
        index = self._class_index()
        column = (1 if ex.adapter.task != MULTICLASS else 0) if index is None else index
        return float(np.mean(ex.scores[:, column]))

    def _surface_job(self) -> Any:
        ex = self.explorer
        adapter, rows = ex.adapter, ex.data.iloc[ex.sample_positions]
        features = (self.feature.value, self.second.value)
        class_index, resolution = self._class_index(), self.grid_points.value
        assert adapter is not None

        def compute(progress: Progress) -> PartialDependence2D:
            return partial_dependence_2d(adapter, rows, features, class_index=class_index,
                                         grid_resolution=resolution, progress=progress)  # fmt: skip

        return compute

    def _exact_job(self, curve: PartialDependence) -> Any:
        ex = self.explorer
        adapter, data, class_index = ex.adapter, ex.data, self._class_index()
        assert adapter is not None

        key = self._exact_key(curve)

        def compute(progress: Progress) -> PartialDependence:
            average = average_over_rows(adapter, data, curve.feature, curve.grid,
                                        class_index=class_index, progress=progress)  # fmt: skip
            self._exact[key] = average
            return replace(curve, average=average, average_rows=len(data))

        return compute

    def _exact_key(self, curve: PartialDependence) -> tuple[Any, ...]:
        return (curve.feature, tuple(curve.grid.tolist()), self._class_index())

    # ------------------------------------------------------------- showing
    def _start(self, compute: Any, what: str) -> None:
        self._what = what
        self.progress.value, self.progress.max = 0, 1
        self.progress.layout.display = None
        self.status.value = f"<i>computing {html.escape(what)}…</i>"
        self.task.start(compute)

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.max = max(total, 1)
        self.progress.value = done
        percent = 100 * done // max(total, 1)
        self.status.value = f"<i>computing {html.escape(self._what)}: {percent}%</i>"

    def _hide_progress(self) -> None:
        self.progress.layout.display = "none"
        self.status.value = ""

    def _apply(self, result: PartialDependence | PartialDependence2D) -> None:
        self.progress.value = self.progress.max
        self._draw(result)
        self.status.value = f"<i>done: {html.escape(self._what)}.</i>"

    def _fail(self, error: MlnbError) -> None:
        self.progress.layout.display = "none"
        self.status.value = f"<span style='color:#b00020'>⚠ {html.escape(str(error))}</span>"

    def _draw(self, result: PartialDependence | PartialDependence2D) -> None:
        """Keep ``result`` now; render its chart in the background (a newer one wins)."""
        self.result = result
        centered = self.centered.value

        def render(progress: Progress) -> tuple[dict[str, Any], ...]:
            figure, (ax,) = charts.new_figure()
            if isinstance(result, PartialDependence2D):
                plot_partial_dependence_2d(result, ax)
            else:
                plot_partial_dependence(result, ax, centered=centered)
            return charts.figure_outputs(figure, f"partial dependence of {result.output}")

        self.drawing.start(render)

    def _show_chart(self, outputs: tuple[dict[str, Any], ...]) -> None:
        self.output.outputs = outputs
