"""Draw a live plot's figure with matplotlib and save it as an SVG sized in CSS pixels.

The figure is described by a plain dict (a *spec*, see :func:`figure_spec`) so that
it can be drawn in another process: ``python -m mlnb.runs.live_figure`` reads
length-prefixed pickled specs on stdin and answers each with the SVG (or the error)
on stdout; :mod:`mlnb.runs.live_renderer` runs it, so drawing never holds the
training process's interpreter. The SVG's ``width``/``height`` are the pixel size
the notebook shows it at, so it is crisp at any device pixel ratio and never stretched.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import re
import sys
from collections.abc import Sequence
from typing import IO, Any

from mlnb.runs.live_panels import Panel, smooth

#: shown width of the whole figure by number of panel columns, and the height of one row
WIDTH_PX = {1: 480, 2: 800, 3: 900}
ROW_HEIGHT_PX = 250
COLUMNS = 3
X_LABEL = "step"
_STYLE: Any = {  # matplotlib types rc keys as literals; these are checked by matplotlib itself
    "svg.fonttype": "none",  # text stays text: sharp, selectable, the notebook's own font
    "svg.hashsalt": "mlnb-live",
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.5,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


def figure_size(panel_count: int) -> tuple[int, int]:
    """(width, height) in CSS pixels for ``panel_count`` panels, three to a row."""
    columns = min(max(panel_count, 1), COLUMNS)
    rows = math.ceil(max(panel_count, 1) / COLUMNS)
    return WIDTH_PX[columns], ROW_HEIGHT_PX * rows


def figure_spec(
    panels: Sequence[Panel],
    series: dict[str, tuple[list[int], list[float]]],
    smoothing: float,
) -> dict[str, Any]:
    """The picklable description of one figure: panels, their curves, smoothing, size."""
    width, height = figure_size(len(panels))
    return {
        "width_px": width,
        "height_px": height,
        "smoothing": smoothing,
        "panels": [
            {
                "title": panel.title,
                "series": [
                    {"label": key, "steps": series[key][0], "values": series[key][1]}
                    for key in panel.keys
                    if key in series
                ],
            }
            for panel in panels
        ],
    }


def build_figure(spec: dict[str, Any]) -> Any:
    """The matplotlib ``Figure`` a spec describes (call inside :func:`style`)."""
    from matplotlib.figure import Figure

    width, height = spec["width_px"], spec["height_px"]
    panels = spec["panels"]
    columns = min(max(len(panels), 1), COLUMNS)
    rows = math.ceil(max(len(panels), 1) / COLUMNS)
    figure = Figure(figsize=(width / 96, height / 96), dpi=96)
    figure.subplots_adjust(  # fixed margins in pixels: a constrained layout draws three times
        left=56 / width,
        right=1 - 16 / width,
        bottom=40 / height,
        top=1 - 26 / height,
        wspace=0.32,
        hspace=48 / ROW_HEIGHT_PX * rows,
    )
    weight = float(spec.get("smoothing", 0.0))
    for index, panel in enumerate(panels):
        axes = figure.add_subplot(rows, columns, index + 1)
        for number, curve in enumerate(panel["series"]):
            colour = f"C{number}"
            if weight > 0:
                axes.plot(curve["steps"], curve["values"], color=colour, alpha=0.25, linewidth=1)
                shown = smooth(curve["values"], weight)
            else:
                shown = curve["values"]
            axes.plot(curve["steps"], shown, color=colour, linewidth=1.5, label=curve["label"])
        axes.set_title(panel["title"])
        axes.set_xlabel(X_LABEL)
        axes.set_ylabel(panel["title"])
        if len(panel["series"]) > 1:
            axes.legend(frameon=False)
    return figure


def style() -> Any:
    """matplotlib's ``rc_context`` with the live plot's look (fonts as text, light grid)."""
    import matplotlib

    return matplotlib.rc_context(_STYLE)


def render_svg(spec: dict[str, Any]) -> bytes:
    """The figure as SVG whose ``width``/``height`` are its shown size in CSS pixels."""
    buffer = io.BytesIO()
    with style():
        build_figure(spec).savefig(buffer, format="svg")
    return sized_svg(buffer.getvalue(), spec["width_px"], spec["height_px"])


def sized_svg(svg: bytes, width: int, height: int) -> bytes:
    """``svg`` with its root ``width``/``height`` set in pixels (matplotlib writes points).

    The ``viewBox`` stays, so the drawing scales to the new size without distortion.
    """
    head, sep, rest = svg.partition(b"<svg ")
    tag, close, body = rest.partition(b">")
    tag = re.sub(rb'\bwidth="[^"]*"', f'width="{width}px"'.encode(), tag, count=1)
    tag = re.sub(rb'\bheight="[^"]*"', f'height="{height}px"'.encode(), tag, count=1)
    return head + sep + tag + close + body


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """Answer length-prefixed pickled specs with ``(True, svg)`` or ``(False, error)`` until EOF."""
    while True:
        header = requests.read(4)
        if len(header) < 4:
            return
        spec = pickle.loads(requests.read(int.from_bytes(header, "big")))
        try:
            answer: tuple[bool, Any] = (True, render_svg(spec))
        except Exception as exc:  # reported to the plot, which warns once and carries on
            answer = (False, f"{type(exc).__name__}: {exc}")
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        replies.write(len(data).to_bytes(4, "big") + data)
        replies.flush()


if __name__ == "__main__":  # the helper process mlnb.runs.live_renderer starts
    if hasattr(os, "nice"):
        os.nice(19)  # the lowest priority: on a busy machine drawing waits, training does not
    _replies = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the replies
    serve(sys.stdin.buffer, _replies)
