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
import itertools
import math
import os
import pickle
import re
import sys
import time
from collections.abc import Sequence
from typing import IO, Any

from mlnb.runs.live_panels import Panel, smooth

#: shown width of the whole figure by number of panel columns, and the height of one row
WIDTH_PX = {1: 480, 2: 800, 3: 900}
ROW_HEIGHT_PX = 250
COLUMNS = 3
#: margins and gaps in CSS pixels: room for tick labels of at most ~6 characters
#: (:func:`tick_labels` keeps them that short), the axis labels and the titles
LEFT, RIGHT, BOTTOM, TOP, GAP_X, GAP_Y = 66, 14, 40, 26, 74, 66
_UNITS = (("G", 1e9), ("M", 1e6), ("k", 1e3))
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
    axes_width = (width - LEFT - RIGHT - (columns - 1) * GAP_X) / columns
    axes_height = (height - TOP - BOTTOM - (rows - 1) * GAP_Y) / rows
    figure.subplots_adjust(  # fixed margins in pixels: a constrained layout draws three times
        left=LEFT / width,
        right=1 - RIGHT / width,
        bottom=BOTTOM / height,
        top=1 - TOP / height,
        wspace=GAP_X / axes_width,
        hspace=GAP_Y / axes_height,
    )
    formatter = _compact_formatter()
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
        axes.xaxis.set_major_formatter(formatter)
        axes.yaxis.set_major_formatter(formatter)
        axes.set_title(panel["title"])
        axes.set_xlabel(X_LABEL)
        axes.set_ylabel(panel["title"])
        if len(panel["series"]) > 1:
            axes.legend(frameon=False)
    return figure


def tick_labels(values: Sequence[float]) -> list[str]:
    """Short tick labels: ``12.5k``, ``0.25``, ``3.0e-5`` — as many decimals as the spacing needs.

    Matplotlib's default would print ``12345.678`` or move the scale into an offset
    text; short labels fit the fixed margins and read at a glance.
    """
    finite = sorted(v for v in values if math.isfinite(v))
    top = max((abs(v) for v in finite), default=0.0)
    if 0 < top < 1e-3:
        return [f"{v:.1e}".replace("e-0", "e-") if v else "0" for v in values]
    unit, scale = next(((u, s) for u, s in _UNITS if top >= 10 * s), ("", 1.0))  # 2000, 20k
    gaps = [b - a for a, b in itertools.pairwise(finite) if b > a]
    step = min(gaps) / scale if gaps else 1.0
    decimals = next((d for d in range(7) if abs(step * 10**d - round(step * 10**d)) < 1e-6), 6)
    return [f"{v / scale:.{decimals}f}{unit}" if v else "0" for v in values]


def _compact_formatter() -> Any:
    """A matplotlib ``Formatter`` that labels ticks with :func:`tick_labels`."""
    from matplotlib.ticker import Formatter

    class CompactFormatter(Formatter):
        def format_ticks(self, values: Any) -> list[str]:
            return tick_labels([float(v) for v in values])

        def __call__(self, x: float, pos: int | None = None) -> str:
            return tick_labels([float(x)])[0]

    return CompactFormatter()


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
    """Answer length-prefixed pickled specs until EOF.

    Each answer is ``(True, svg, cpu_seconds)`` or ``(False, error, cpu_seconds)``.
    """
    while True:
        header = requests.read(4)
        if len(header) < 4:
            return
        spec = pickle.loads(requests.read(int.from_bytes(header, "big")))
        started = time.process_time()
        try:
            answer: tuple[bool, Any, float] = (True, render_svg(spec), 0.0)
        except Exception as exc:  # reported to the plot, which warns once and carries on
            answer = (False, f"{type(exc).__name__}: {exc}", 0.0)
        answer = (*answer[:2], time.process_time() - started)  # the plot paces itself by it
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        replies.write(len(data).to_bytes(4, "big") + data)
        replies.flush()


if __name__ == "__main__":  # the helper process mlnb.runs.live_renderer starts
    if hasattr(os, "nice"):
        os.nice(19)  # the lowest priority: on a busy machine drawing waits, training does not
    _replies = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the replies
    serve(sys.stdin.buffer, _replies)
