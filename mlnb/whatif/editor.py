"""The datapoint editor's pieces: one stock widget per feature, and the prediction text.

Numeric features get a ``FloatSlider`` over the observed range, categoricals a
``Dropdown``, booleans a ``Checkbox``. A column that cannot be varied (constant,
all NaN) keeps its widget but disabled, with the reason beside it.

A slider holds the row's exact value and shows it with :data:`DISPLAY_FORMAT`, the
format every number of the panel is shown in. It has no step (``step=None``): the
browser's slider would otherwise snap a value to ``min + k·step`` and show (and,
with ``continuous_update``, send back) a number that is not the row's. It sends its
value when released (``continuous_update=False``), so the browser never sends a
value the user did not set — not even a late one after the row changed.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from mlnb import display
from mlnb.whatif.features import BOOLEAN, CATEGORICAL, Feature
from mlnb.whatif.layout import row
from mlnb.whatif.model_adapter import BINARY, REGRESSION, ModelAdapter

#: How the panel shows a number: 4 significant digits. It is the sliders' ``readout_format``,
#: which the browser applies with d3-format; :func:`shown` formats the same way in Python.
DISPLAY_FORMAT = ".4g"
_DIGITS = 4
#: A description style that gives the label the width its text needs (ipywidgets'
#: default fixed width cuts longer labels: "numeric bins" showed as "numeric b…").
FIT_LABEL = {"description_width": "initial"}
_MINUS = "\u2212"  # d3-format writes negative numbers with the minus sign, not a hyphen


def shown(value: Any) -> str:
    """``value`` as the panel shows it: numbers exactly as a slider's readout does.

    d3-format's ``".4g"`` is JavaScript's ``toPrecision(4)``: four significant
    digits, trailing zeros kept (``100`` → ``"100.0"``), an exponent only below
    1e-6 or from 1e4 (``12345.6`` → ``"1.235e+4"``), ties rounded away from zero,
    and ``"−"`` (U+2212) for negative numbers. The counterfactual table uses it too,
    so one value reads the same everywhere, and typing it back finds the row
    (:func:`mlnb.whatif.dataset.rows_where`).
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        return str(value)
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return f"{_MINUS if number < 0 else ''}Infinity"
    exact = Decimal(abs(number))
    exponent = exact.adjusted() if exact else 0
    digits = exact.scaleb(-exponent).quantize(Decimal(1).scaleb(1 - _DIGITS), ROUND_HALF_UP)
    if digits >= 10:  # 9.9996 rounds up to 10.00: one more digit before the point
        exponent += 1
        digits = exact.scaleb(-exponent).quantize(Decimal(1).scaleb(1 - _DIGITS), ROUND_HALF_UP)
    if exponent < -6 or exponent >= _DIGITS:
        text = f"{digits}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"
    else:
        text = format(exact.quantize(Decimal(1).scaleb(exponent + 1 - _DIGITS), ROUND_HALF_UP), "f")
    negative = number < 0 and any(c in "123456789" for c in text.split("e")[0])
    return f"{_MINUS}{text}" if negative else text


def label_width(features: list[Feature]) -> str:
    """One label width for every feature widget, so the sliders line up and no name is cut.

    About 8 px per character of the longest name (the names are not wrapped), at least 160 px.
    """
    longest = max((len(f.name) + 7 for f in features), default=0)  # "+ (NaN)" fits too
    return f"{max(160, 8 * longest)}px"


def feature_widget(feature: Feature, label: str = "160px") -> widgets.Widget:
    """A widget for ``feature``; its value is set later by :func:`set_widget_value`.

    Args:
        feature: the column it edits.
        label: the label width (see :func:`label_width`); the control keeps 300 px.
    """
    style = {"description_width": label}
    # the slider's track gives way in a narrow column (``max_width``); the label never does
    layout = widgets.Layout(width=f"calc({label} + 300px)", max_width=display.FIT_WIDTH)
    if feature.kind == BOOLEAN:
        widget = widgets.Checkbox(description=feature.name, indent=False, style=style)
    elif feature.kind == CATEGORICAL:
        options = [str(c) for c in feature.categories] or ["—"]
        widget = widgets.Dropdown(
            options=options, description=feature.name, style=style, layout=layout
        )
    else:
        low = feature.low if feature.low is not None else 0.0
        high = feature.high if feature.high is not None else 1.0
        if high <= low:  # constant column: a small window around its value
            low, high = low - max(abs(low) * 0.1, 1.0), high + max(abs(high) * 0.1, 1.0)
        widget = widgets.FloatSlider(
            min=low,
            max=high,
            step=None,
            value=low,
            description=feature.name,
            readout_format=DISPLAY_FORMAT,
            continuous_update=False,
            style=style,
            layout=layout,
        )
    if not feature.editable:
        widget.disabled = True
        widget.tooltip = feature.disabled_reason
    return widget


def feature_row(feature: Feature, widget: widgets.Widget) -> widgets.Widget:
    """The widget, with the reason it is disabled beside it when it is."""
    if feature.editable:
        return widget
    reason = widgets.HTML(f"<i>disabled: {html.escape(feature.disabled_reason or '')}</i>")
    return row([widget, reason])


def set_widget_value(widget: widgets.Widget, feature: Feature, value: Any) -> None:
    """Show ``value`` in ``widget``, widening a slider's range when the value lies outside."""
    if feature.kind == BOOLEAN:
        widget.value = bool(value) if not _missing(value) else False
    elif feature.kind == CATEGORICAL:
        text = "—" if _missing(value) else str(value)
        if text not in widget.options:
            widget.options = [*widget.options, text]
        widget.value = text
    else:
        if _missing(value):  # a slider cannot hold NaN: hide its number and say so
            widget.readout = False
            widget.description = f"{feature.name} (NaN)"
            return
        widget.readout = True
        widget.description = feature.name
        number = float(value)
        if number > widget.max:
            widget.max = number
        if number < widget.min:
            widget.min = number
        widget.value = number


def widget_value(widget: widgets.Widget, feature: Feature, original: Any) -> Any:
    """The value a widget stands for, in the column's own type (categories by their label)."""
    if feature.kind == CATEGORICAL:
        for category in feature.categories:
            if str(category) == widget.value:
                return category
        return original if str(original) == widget.value else widget.value
    if feature.kind == BOOLEAN:
        return bool(widget.value)
    number = float(widget.value)
    if not _missing(original) and shown(number) == shown(original):
        return original  # the value shown, typed or snapped back: the row's own value
    return number


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(isinstance(value, (float, np.floating)) and math.isnan(value))
    except TypeError:
        return False


def prediction_lines(
    adapter: ModelAdapter,
    original: np.ndarray | None,
    edited: np.ndarray | None,
    threshold: float | tuple[float, float],
    *,
    edited_any: bool = True,
    threshold_source: str | None = None,
) -> list[tuple[str, str]]:
    """``(label, text)`` lines: the original and edited predictions and their change.

    Args:
        threshold: the binary threshold applied, or ``(original's, edited point's)``
            when they differ (per-slice thresholds: an edit can move the point to
            another slice).
        edited_any: whether the point has an edit; when not, the change is "none".
        threshold_source: where a threshold that is not the slider's comes from
            (e.g. "per-slice threshold of mean_radius slice 2: ≤ 13.27"), shown with it.
    """
    before, after = threshold if isinstance(threshold, tuple) else (threshold, threshold)
    lines = [
        ("original", _describe(adapter, original, before)),
        ("edited", _describe(adapter, edited, after)),
    ]
    if adapter.task == BINARY and threshold_source:
        lines.append(("threshold", threshold_source))
    label = f"change in P({adapter.classes[1]})" if adapter.task == BINARY else "change"
    if original is None or edited is None:
        lines.append((label, "—"))
    elif not edited_any:
        lines.append((label, "none (no feature edited)"))
    elif adapter.task == REGRESSION:
        lines.append((label, f"{float(edited) - float(original):+.4g}"))
    elif adapter.task == BINARY:
        lines.append((label, f"{edited[1] - original[1]:+.3f}"))
    else:
        deltas = ", ".join(
            f"P({name}) {edited[i] - original[i]:+.3f}" for i, name in enumerate(adapter.classes)
        )
        lines.append((label, deltas))
    return lines


def _describe(adapter: ModelAdapter, scores: np.ndarray | None, threshold: float) -> str:
    if scores is None:
        return "—"
    if adapter.task == REGRESSION:
        return f"{float(scores):.6g}"
    if adapter.task == BINARY:
        label = adapter.classes[int(scores[1] >= threshold)]
        return f"{label} (P({adapter.classes[1]}) = {scores[1]:.3f}, threshold {threshold:.3f})"
    best = int(np.argmax(scores))
    return f"{adapter.classes[best]} (P = {scores[best]:.3f})"


def lines_html(lines: list[tuple[str, str]]) -> str:
    """The prediction lines as a small two-column HTML table."""
    rows = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(label)}</th>"
        f"<td>{html.escape(text)}</td></tr>"
        for label, text in lines
    )
    return f"<table class='mlnb-whatif-prediction'>{rows}</table>"


def lines_text(lines: list[tuple[str, str]]) -> str:
    """The prediction lines as plain text (what tests and logs read)."""
    width = max(len(label) for label, _ in lines)
    return "\n".join(f"{label.ljust(width)}  {text}" for label, text in lines)


def same_value(a: Any, b: Any) -> bool:
    """Equality for edited values: NaN equals NaN, floats compare with a tolerance."""
    if a is None or b is None:
        return a is b
    try:
        if pd.isna(a) and pd.isna(b):
            return True
    except (TypeError, ValueError):  # arrays or objects pd.isna cannot reduce: compare below
        pass
    try:
        return bool(a == b) or (
            isinstance(a, float) and isinstance(b, (int, float)) and bool(np.isclose(a, b))
        )
    except (TypeError, ValueError):
        return False


def point_frame(data: pd.DataFrame, position: int, values: Mapping[str, Any]) -> pd.DataFrame:
    """Row ``position`` of ``data`` as a one-row DataFrame with ``values`` written in.

    Starts from a one-row slice (so every dtype is right) and overwrites only the
    columns whose value differs; a category outside a categorical dtype is kept as is.
    """
    frame = data.iloc[[position]].reset_index(drop=True)
    original = data.iloc[position]
    for name in data.columns:
        value = values[name]
        if same_value(value, original[name]):
            continue
        dtype = data.dtypes[name]
        unseen = isinstance(dtype, pd.CategoricalDtype) and value not in dtype.categories
        try:
            frame[name] = [value] if unseen else pd.Series([value], dtype=dtype)
        except (TypeError, ValueError):
            frame[name] = [value]
    return frame
