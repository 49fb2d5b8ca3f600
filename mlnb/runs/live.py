"""A live plot of a run's metric curves in the notebook, redrawn at most every 0.5 s.

The plot never touches ``run.log``: it listens to the run's flushes (the
background writer hands it the points it just stored) and a daemon thread of
its own redraws a PNG into an ``ipywidgets.Image`` when new points arrived, no
more often than ``interval``. Drawing holds Python's GIL, so the pause after a
redraw also grows to :data:`RENDER_SHARE_INVERSE` times the time the last one
took: the plot takes at most ~10% of the interpreter from the training loop,
however slow the machine.
"""

from __future__ import annotations

import html
import io
import math
import threading
import time
from collections.abc import Sequence
from typing import Any

from mlnb import display
from mlnb.exceptions import InvalidArgumentError

MIN_INTERVAL = 0.5
#: pause after a redraw at least this many times as long as the redraw took
RENDER_SHARE_INVERSE = 9.0


class LivePlot:
    """Curves of a run's metrics in an ipywidgets ``VBox`` (a header and a PNG image).

    Args:
        run: the :class:`~mlnb.runs.run.Run` to follow.
        keys: metrics to plot (default: every non-``sys/`` metric, in logging order, up to 6).
        interval: least seconds between redraws (at least 0.5).
        max_points: points kept per curve; older ones are thinned by half when exceeded.

    Attributes:
        widget: the ``VBox`` to display.
        redraws: how many times the image was redrawn.
        redraw_times: ``time.monotonic()`` of each redraw.
    """

    def __init__(
        self,
        run: Any,
        keys: Sequence[str] | None = None,
        *,
        interval: float = MIN_INTERVAL,
        max_points: int = 500,
    ) -> None:
        import ipywidgets as widgets
        import matplotlib.figure  # noqa: F401 - imported here so the first redraw is quick

        if interval < MIN_INTERVAL:
            raise InvalidArgumentError(
                f"live plot interval must be at least {MIN_INTERVAL} s, got {interval!r}."
            )
        self.run = run
        self.keys = list(keys) if keys else None
        self.interval = float(interval)
        self.max_points = max_points
        self.header = widgets.HTML(value=self._header_html({}))
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="900px"))
        self.widget = widgets.VBox([self.header, self.image])
        self.redraws = 0
        self.redraw_times: list[float] = []
        self._series: dict[str, tuple[list[int], list[float]]] = {}
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._remove_listener = run.add_listener(self._on_points)
        self._thread = threading.Thread(target=self._loop, name=f"mlnb-live-{run.id}", daemon=True)
        self._thread.start()
        run.on_finish(self.close, after_flush=True)

    def _on_points(self, chunks: dict[str, Any]) -> None:
        with self._lock:
            for key, chunk in chunks.items():
                if self.keys is not None and key not in self.keys:
                    continue
                if self.keys is None and key.startswith("sys/"):
                    continue
                steps, values = self._series.setdefault(key, ([], []))
                steps.extend(chunk.steps)
                values.extend(chunk.values)
                if len(steps) > self.max_points:
                    del steps[1:-1:2], values[1:-1:2]
        self._dirty.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._dirty.wait(0.1) and not self._stop.is_set():
                self._dirty.clear()
                started = time.perf_counter()
                self.redraw()
                spent = time.perf_counter() - started
                self._stop.wait(max(self.interval, RENDER_SHARE_INVERSE * spent))

    def redraw(self) -> None:
        """Render the curves now (the background thread calls this for you)."""
        from matplotlib.figure import Figure

        with self._lock:
            series = {k: (list(s), list(v)) for k, (s, v) in self._series.items()}
        names = (self.keys or list(series))[:6]
        columns = min(max(len(names), 1), 3)
        rows = math.ceil(max(len(names), 1) / 3)
        figure = Figure(figsize=(3.2 * columns, 2.4 * rows), dpi=72)
        for index, key in enumerate(names):
            ax = figure.add_subplot(rows, columns, index + 1)
            steps, values = series.get(key, ([], []))
            ax.plot(steps, values, linewidth=1.2)
            ax.set_title(key, fontsize="small")
            ax.tick_params(labelsize="x-small")
        figure.subplots_adjust(left=0.08, right=0.97, top=0.9, bottom=0.1, wspace=0.3, hspace=0.45)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        self.image.value = buffer.getvalue()
        self.header.value = self._header_html({k: v[-1] for k, (_, v) in series.items() if v})
        self.redraws += 1
        self.redraw_times.append(time.monotonic())

    def _header_html(self, latest: dict[str, float]) -> str:
        parts = " · ".join(
            f"{html.escape(k)} = {html.escape(display.format_value(v))}" for k, v in latest.items()
        )
        return f"<b>{html.escape(self.run.name)}</b> ({html.escape(self.run.status)}) {parts}"

    def close(self) -> None:
        """Draw the final curves and stop following the run."""
        self._remove_listener()
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        if self._series:
            self.redraw()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
