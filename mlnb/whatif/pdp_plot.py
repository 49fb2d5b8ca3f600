"""Draw partial dependence: ICE curves, the PDP, the current point, a 2-D heatmap.

The drawing half of :mod:`~mlnb.whatif.pdp` (which only computes), so computing a
partial dependence never imports matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from mlnb.whatif.pdp import PartialDependence, PartialDependence2D


def plot_partial_dependence(
    result: PartialDependence, ax: Axes, *, max_curves: int = 200, centered: bool = False
) -> None:
    """Draw ICE curves (thin), the PDP (thick) and the current point's curve (highlighted)."""
    shown = result.centered() if centered else result
    label = f"{shown.output} (centred)" if centered else shown.output
    if shown.categorical:
        positions = np.arange(len(shown.grid))
        ax.bar(positions, shown.average, color="#8fb3d9", label="average")
        if shown.point is not None:
            ax.scatter(positions, shown.point, color="#d62728", zorder=3, label="this point")
        ax.set_xticks(positions, [str(v) for v in shown.grid], rotation=30)
    else:
        _draw_ice(ax, shown, max_curves)
        average = f"average of {shown.average_rows:,} rows (PDP)" if shown.average_rows else "PDP"
        ax.plot(shown.grid, shown.average, color="#1f77b4", linewidth=2.5, label=average)
        if shown.point is not None:
            ax.plot(shown.grid, shown.point, color="#d62728", linewidth=2, label="this point")
    if shown.data_mean is not None:
        ax.axhline(
            shown.data_mean, color="#555555", linestyle="--", linewidth=1,
            label="mean prediction, every row as it is",
        )  # fmt: skip
    ax.set_xlabel(shown.feature)
    ax.set_ylabel(label)
    ax.legend(loc="best", fontsize="small")


def plot_partial_dependence_2d(result: PartialDependence2D, ax: Axes) -> None:
    """Draw a two-feature partial dependence as a heatmap with a colour bar."""
    mesh = ax.pcolormesh(result.grid_x, result.grid_y, result.average.T, shading="auto")
    ax.figure.colorbar(mesh, ax=ax, label=result.output)
    ax.set_xlabel(result.features[0])
    ax.set_ylabel(result.features[1])


def _draw_ice(ax: Axes, result: PartialDependence, max_curves: int) -> None:
    """The first ``max_curves`` ICE curves as one collection (one artist, not one per curve)."""
    from matplotlib.collections import LineCollection

    curves = result.individual[:max_curves]
    if not len(curves):
        return
    x = np.asarray(result.grid, dtype=float)
    segments = np.stack([np.broadcast_to(x, curves.shape), curves], axis=-1)
    ax.add_collection(LineCollection(list(segments), colors="#999999", alpha=0.25, linewidths=0.7))
    ax.autoscale_view()
