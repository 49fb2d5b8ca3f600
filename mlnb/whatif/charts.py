"""Matplotlib figures for the explorer, drawn without pyplot and shown in an ``Output``.

Figures are built with :class:`matplotlib.figure.Figure` (no global pyplot state,
safe from the debounce timer's thread) and put into an ``ipywidgets.Output`` as a
PNG display-data entry, which is what ``Output.append_display_data`` would do —
without needing a running IPython display hook.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def new_figure(
    width: float = 6.0, height: float = 3.6, ncols: int = 1
) -> tuple[Figure, list[Axes]]:
    """A pyplot-free figure with ``ncols`` side-by-side axes."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    axes = figure.subplots(1, ncols)
    return figure, list(np.atleast_1d(axes))


def show_figure(output: Any, figure: Figure, description: str) -> None:
    """Replace what ``output`` (an ``ipywidgets.Output``) shows with ``figure`` as a PNG."""
    output.outputs = figure_outputs(figure, description)


def figure_outputs(figure: Figure, description: str) -> tuple[dict[str, Any], ...]:
    """``figure`` rendered as a PNG display-data entry, ready for ``Output.outputs``."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        {
            "output_type": "display_data",
            "data": {"image/png": png, "text/plain": description},
            "metadata": {},
        },
    )


def show_text(output: Any, text: str) -> None:
    """Replace what ``output`` shows with a line of text."""
    output.outputs = ({"output_type": "stream", "name": "stdout", "text": text + "\n"},)


def plot_distribution(
    ax: Axes,
    values: pd.Series,
    *,
    marker: Any,
    categorical: bool,
    groups: pd.Series | None = None,
    group_names: Callable[[Any], str] = str,
) -> None:
    """Histogram (or bar counts) of ``values``, stacked by ``groups``, with ``marker`` drawn."""
    import pandas as pd

    keys: Sequence[Any] = [None] if groups is None else sorted(groups.dropna().unique(), key=str)
    if categorical:
        categories = sorted(values.dropna().astype(str).unique())
        bottom = np.zeros(len(categories))
        for i, key in enumerate(keys):
            part = values if key is None else values[groups == key]
            counts = part.astype(str).value_counts().reindex(categories, fill_value=0).to_numpy()
            label = None if key is None else group_names(key)
            ax.bar(categories, counts, bottom=bottom, color=_PALETTE[i % 7], label=label)
            bottom += counts
        if marker is not None and str(marker) in categories:
            ax.axvline(categories.index(str(marker)), color="#d62728", linewidth=2)
        ax.tick_params(axis="x", labelrotation=30)
    else:
        numbers = pd.to_numeric(values, errors="coerce")
        finite = numbers.dropna()
        edges: list[float] | int = (
            np.histogram_bin_edges(finite, bins=30).tolist() if len(finite) else 10
        )
        parts = [finite if key is None else numbers[groups == key].dropna() for key in keys]
        labels = None if groups is None else [group_names(k) for k in keys]
        ax.hist(parts, bins=edges, stacked=True, color=_PALETTE[: len(parts)], label=labels)
        if marker is not None and not pd.isna(marker):
            ax.axvline(float(marker), color="#d62728", linewidth=2, label="this point")
    ax.set_xlabel(str(values.name))
    ax.set_ylabel("rows")
    if groups is not None or (marker is not None and not categorical):
        ax.legend(loc="best", fontsize="small")


def plot_confusion(ax: Axes, matrix: np.ndarray, class_names: Sequence[str]) -> None:
    """A labelled confusion matrix (rows: true class, columns: predicted class)."""
    ax.imshow(matrix, cmap="Blues")
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=30)
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    limit = matrix.max() / 2 if matrix.size else 0
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > limit else "black")  # fmt: skip


def plot_roc(ax: Axes, fpr: np.ndarray, tpr: np.ndarray, point: tuple[float, float] | None) -> None:
    """The ROC curve with the current threshold's operating point."""
    ax.plot(fpr, tpr, color=_PALETTE[0], linewidth=2)
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1)
    if point is not None:
        ax.scatter([point[0]], [point[1]], color="#d62728", zorder=3, label="threshold")
        ax.legend(loc="lower right", fontsize="small")
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")


def plot_predicted_vs_true(ax: Axes, y_true: np.ndarray, predicted: np.ndarray) -> None:
    """Regression: predictions against true values, with the diagonal."""
    ax.scatter(y_true, predicted, s=6, alpha=0.5, color=_PALETTE[0])
    low = float(min(np.min(y_true), np.min(predicted)))
    high = float(max(np.max(y_true), np.max(predicted)))
    ax.plot([low, high], [low, high], color="#999999", linestyle="--", linewidth=1)
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
