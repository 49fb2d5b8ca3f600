"""A live plot of a run's metric curves in the notebook: crisp, titled, and free for the training loop.

The plot never touches ``run.log``: it listens to the run's flushes (the
background writer hands it the points it just stored). A daemon thread of its
own redraws when new points arrived, at most every ``interval`` seconds, and the
figure is drawn by a helper process (:mod:`mlnb.runs.live_renderer`): this
process only copies the curves and shows the answer. The helper runs at the
lowest CPU priority, so on a busy machine drawing waits and training does not.
The pause after a redraw grows to :data:`RENDER_SHARE_INVERSE` times the CPU
time this process spent on it (so at most ~2% of the interpreter even when it
has to draw in-process) and to :data:`HELPER_SHARE_INVERSE` times the helper's
CPU time (so it draws at most a quarter of the time).

What is drawn: one panel per metric, with its train/val/test variants overlaid
(``loss`` and ``val_loss`` together); step counters such as ``epoch`` are shown
in the header, not plotted; ``sys/`` metrics are left out unless asked for. A
smoothing slider (TensorBoard's debiased moving average) redraws the curves.
Before the first points the plot says it is waiting instead of drawing empty axes.
"""

from __future__ import annotations

import html
import threading
import time
import warnings
from collections.abc import Sequence
from typing import Any

from mlnb import display
from mlnb.exceptions import InvalidArgumentError, MlnbWarning
from mlnb.runs.live_figure import figure_spec
from mlnb.runs.live_panels import group_panels, is_step_counter, plotted_keys
from mlnb.runs.live_renderer import Renderer

MIN_INTERVAL = 0.5
#: pause after a redraw at least this many times the CPU time this process spent on it (≤ 2%)
RENDER_SHARE_INVERSE = 49.0
#: and at least this many times the helper's CPU time: it draws at most a quarter of the time
HELPER_SHARE_INVERSE = 3.0
WAITING = "waiting for the first points…"


class LivePlot:
    """Curves of a run's metrics in an ipywidgets ``VBox``: a header, an SVG image, a smoothing slider.

    Args:
        run: the :class:`~mlnb.runs.run.Run` to follow.
        keys: metrics to plot (default: every metric but ``sys/`` ones and step
            counters, grouped into at most 6 panels).
        interval: least seconds between redraws (at least 0.5).
        max_points: points kept per curve; older ones are thinned by half when exceeded.
        smoothing: the slider's starting value, 0 (raw curves) to 0.99.

    Attributes:
        widget: the ``VBox`` to display.
        image: the ``Image`` (SVG) whose layout width is the figure's own width.
        redraws: how many times the image was redrawn.
        redraw_times: ``time.monotonic()`` of each redraw.
        cpu_seconds: CPU time this process spent on background redraws.
        helper_cpu_seconds: CPU time the helper process spent drawing them (at low priority).

    Closing (at the run's finish) returns at once: the final figure is drawn by the
    plot's own thread, so finishing a run never waits for a drawing.
    """

    def __init__(
        self,
        run: Any,
        keys: Sequence[str] | None = None,
        *,
        interval: float = MIN_INTERVAL,
        max_points: int = 500,
        smoothing: float = 0.0,
    ) -> None:
        import ipywidgets as widgets

        if interval < MIN_INTERVAL:
            raise InvalidArgumentError(
                f"live plot interval must be at least {MIN_INTERVAL} s, got {interval!r}."
            )
        if not 0 <= smoothing < 1:
            raise InvalidArgumentError(
                f"live plot smoothing must be from 0 up to (not including) 1, got {smoothing!r}."
            )
        self.run = run
        self.keys = list(keys) if keys else None
        self.interval = float(interval)
        self.max_points = max_points
        self.header = widgets.HTML(value=self._header_html({}))
        self.image = widgets.Image(
            format="svg+xml",
            layout=widgets.Layout(display="none", max_width="100%", height="auto"),
        )
        self.slider = widgets.FloatSlider(
            value=smoothing, min=0.0, max=0.99, step=0.01, description="smoothing",
            continuous_update=False, readout_format=".2f",
        )  # fmt: skip
        self.widget = widgets.VBox([self.header, self.image, self.slider])
        self.redraws = 0
        self.redraw_times: list[float] = []
        self.cpu_seconds = 0.0
        self.helper_cpu_seconds = 0.0
        self._series: dict[str, tuple[list[int], list[float]]] = {}
        self._latest: dict[str, float] = {}
        self._last_step: int | None = None
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._wake = threading.Event()  # ends a pause: the slider moved, or close()
        self._warned = False
        self._renderer = Renderer()
        self._redraw_after_close = threading.Lock()
        self.slider.observe(self._smoothing_changed, names="value")
        self._remove_listener = run.add_listener(self._on_points)
        self._thread = threading.Thread(target=self._loop, name=f"mlnb-live-{run.id}", daemon=True)
        self._thread.start()
        run.on_finish(self.close, after_flush=True)

    @property
    def smoothing(self) -> float:
        """The smoothing the slider is set to."""
        return float(self.slider.value)

    def _smoothing_changed(self, _change: Any) -> None:
        """Redraw with the new smoothing: by the plot's thread, or once more after the run ended."""
        if self._thread.is_alive():
            self._dirty.set()
            self._wake.set()
        else:
            name = f"mlnb-live-{self.run.id}-smoothing"
            threading.Thread(target=self._redraw_finished, name=name, daemon=True).start()

    def _redraw_finished(self) -> None:
        """Redraw a finished run's plot with a helper of its own (the plot's has stopped)."""
        with self._redraw_after_close:
            self._renderer = Renderer()
            try:
                self._redraw_safely()
            finally:
                self._renderer.close()

    def _wanted(self, key: str) -> bool:
        return key in self.keys if self.keys is not None else bool(plotted_keys([key]))

    def _on_points(self, chunks: dict[str, Any]) -> None:
        with self._lock:
            for key, chunk in chunks.items():
                if key.startswith("sys/") and (self.keys is None or key not in self.keys):
                    continue
                self._latest[key] = chunk.values[-1]
                self._last_step = max(self._last_step or 0, chunk.steps[-1])
                if not self._wanted(key):
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
                cpu_started = time.thread_time()
                self._redraw_safely()
                spent = time.thread_time() - cpu_started  # this thread's CPU: the loop pays it
                self.cpu_seconds += spent
                helper = self._renderer.helper_seconds
                self.helper_cpu_seconds += helper
                self._wake.wait(
                    max(self.interval, RENDER_SHARE_INVERSE * spent, HELPER_SHARE_INVERSE * helper)
                )
                self._wake.clear()
        self._redraw_safely()  # the final curves: close() came after the run's last flush
        self._renderer.close()

    def _redraw_safely(self) -> None:
        try:
            self.redraw()
        except Exception as exc:  # the plot's thread must not die, nor bother the run
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"mlnb: the live plot of run {self.run.name!r} could not be drawn "
                    f"({type(exc).__name__}: {exc}); the run logs on.",
                    MlnbWarning,
                    stacklevel=2,
                )

    def figure_spec(self) -> dict[str, Any] | None:
        """What the next redraw draws (panels, curves, size), or None before the first points."""
        with self._lock:
            series = {k: (list(s), list(v)) for k, (s, v) in self._series.items() if s}
        if not series:
            return None
        panels = group_panels(self.keys or list(series))
        panels = [panel for panel in panels if any(key in series for key in panel.keys)]
        return figure_spec(panels, series, self.smoothing)

    def redraw(self) -> None:
        """Draw the curves now (the background thread calls this for you)."""
        spec = self.figure_spec()
        with self._lock:
            latest = dict(self._latest)
        if spec is None:
            self.header.value = self._header_html(latest)
            return
        svg = self._renderer.render(spec)
        self.image.value = svg
        self.image.layout.width = f"{spec['width_px']}px"
        self.image.layout.display = None
        self.header.value = self._header_html(latest)
        self.redraws += 1
        self.redraw_times.append(time.monotonic())

    def _header_html(self, latest: dict[str, float]) -> str:
        title = f"<b>{html.escape(self.run.name)}</b> ({html.escape(self.run.status)})"
        if not latest:
            return f"{title} · <i>{WAITING}</i>"
        counters = [
            f"{k} {display.format_value(v)}" for k, v in latest.items() if is_step_counter(k)
        ]
        if not counters and self._last_step is not None:
            counters = [f"step {self._last_step}"]
        values = [
            f"{k} = {display.format_value(v)}" for k, v in latest.items() if not is_step_counter(k)
        ]
        return " · ".join([title, *map(html.escape, counters + values)])

    def close(self) -> None:
        """Stop following the run; the plot's thread draws the final curves, then stops the helper.

        Returns at once (``run.finish()`` calls it): the header says the run's final
        status now, the last figure follows when drawn (:meth:`wait` waits for it).
        """
        self._remove_listener()
        with self._lock:
            latest = dict(self._latest)
        self.header.value = self._header_html(latest)
        self._stop.set()
        self._wake.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the final figure is drawn after :meth:`close`; False if ``timeout`` passed."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
