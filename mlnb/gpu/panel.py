"""``panel()``: a live ipywidgets panel — a memory bar and a utilisation sparkline per device.

A daemon thread re-reads :func:`mlnb.gpu.status` every ``interval`` seconds and
updates the widgets' traits. The Stop button, :meth:`GpuPanel.close`, closing the
widget, or ``%unload_ext mlnb`` set the stop event and join the thread, so no
thread outlives the panel. Stopped, the panel stays on screen with its last reading and
says when that was. Without a GPU it shows host RAM (no utilisation: RAM has none), and
says so.
"""

from __future__ import annotations

import html
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from mlnb import display
from mlnb.exceptions import InvalidArgumentError
from mlnb.gpu.backends.records import DeviceStatus
from mlnb.gpu.status import StatusReport, status

SPARK = "▁▂▃▄▅▆▇█"
THREAD_NAME = "mlnb-gpu-panel"
_box_class: type | None = None


def sparkline(values: list[float | None], top: float = 100.0) -> str:
    """``[0, 50, 100]`` → ``'▁▄█'``; unknown values are blanks."""
    marks = []
    for value in values:
        if value is None:
            marks.append(" ")
        else:
            level = round(max(0.0, min(1.0, value / top)) * (len(SPARK) - 1))
            marks.append(SPARK[level])
    return "".join(marks)


def _panel_box() -> type:
    """A VBox whose ``close()`` also stops the panel's thread (built on first use)."""
    global _box_class
    if _box_class is None:
        import ipywidgets

        class PanelBox(ipywidgets.VBox):
            def close(self) -> None:
                owner = getattr(self, "_mlnb_owner", None)
                if owner is not None:
                    self._mlnb_owner = None
                    owner.stop()
                super().close()

        _box_class = PanelBox
    return _box_class


class _DeviceRow:
    def __init__(self, widgets: Any, history: int) -> None:
        self.label = widgets.HTML()
        self.bar = widgets.FloatProgress(min=0.0, max=1.0, layout=widgets.Layout(width="240px"))
        self.spark = widgets.HTML()
        self.box = widgets.HBox([self.label, self.bar, self.spark])
        self.utilization: deque[float | None] = deque(maxlen=history)

    def update(self, device: DeviceStatus) -> None:
        self.utilization.append(device.utilization)
        fraction = device.used_fraction
        self.bar.value = fraction if fraction is not None else 0.0
        self.bar.bar_style = (
            "danger" if (fraction or 0) > 0.9 else "warning" if (fraction or 0) > 0.7 else ""
        )
        title = (
            "host RAM"
            if device.kind == "host"
            else f"{device.backend}:{device.index} {device.name}"
        )
        self.label.value = (
            f"<code>{html.escape(title)}</code> {html.escape(display.human_bytes(device.used))} / "
            f"{html.escape(display.human_bytes(device.total))}"
        )
        if device.kind == "host":  # RAM has no utilisation; the CPU load is another subject
            self.spark.value = ""
            return
        util = f"{device.utilization:.0f}%" if device.utilization is not None else "—"
        self.spark.value = f"<code>util {html.escape(util)} {html.escape(sparkline(list(self.utilization)))}</code>"


#: the panel's interval bounds in seconds (``inf`` would overflow the thread's wait)
MIN_INTERVAL = 0.05
MAX_INTERVAL = 3600.0


class GpuPanel:
    """A live panel; ``panel.widget`` is the ipywidgets box shown in the notebook.

    Args:
        interval: seconds between reads (0.05 to 3600).
        history: how many utilisation readings the sparkline keeps.
        read: the function that reads devices (``mlnb.gpu.status`` by default).
    """

    def __init__(
        self, interval: float = 1.0, history: int = 60, read: Callable[[], StatusReport] = status
    ) -> None:
        if (
            not isinstance(interval, (int, float))
            or isinstance(interval, bool)
            or not MIN_INTERVAL <= interval <= MAX_INTERVAL  # NaN and infinities fail too
        ):
            raise InvalidArgumentError(
                f"panel interval must be a number of seconds from {MIN_INTERVAL} to "
                f"{MAX_INTERVAL:g}, got {interval!r}."
            )
        import ipywidgets

        self._widgets = ipywidgets
        self.interval = float(interval)
        self.history = history
        self.read = read
        self.updates = 0
        self.last_read: float | None = None
        self.rows: dict[tuple[str, int, str], _DeviceRow] = {}
        self.stop_event = threading.Event()
        self.title = ipywidgets.HTML()
        self.message = ipywidgets.HTML()
        self.stop_button = ipywidgets.Button(
            description="Stop", icon="stop", tooltip="stop updating"
        )
        self.stop_button.on_click(lambda _button: self.stop())
        self.rows_box = ipywidgets.VBox()
        self.widget = _panel_box()(
            children=[self.title, self.rows_box, self.message, self.stop_button]
        )
        self.widget._mlnb_owner = self
        self.refresh()
        self.thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self.thread.start()

    def refresh(self) -> None:
        """Read the devices once and update every widget."""
        report = self.read()
        shown = report.devices or ([report.host] if report.host is not None else [])
        self.last_read = time.time()
        self.title.value = self._title()
        sentence = report.no_gpu_sentence()
        self.message.value = f"<i>{html.escape(sentence)}</i>" if sentence else ""
        for device in shown:
            key = (device.backend, device.index, device.kind)
            row = self.rows.get(key)
            if row is None:
                row = self.rows[key] = _DeviceRow(self._widgets, self.history)
                self.rows_box.children = (*self.rows_box.children, row.box)
            row.update(device)
        self.updates += 1

    def _run(self) -> None:
        while not self.stop_event.wait(self.interval):
            try:
                self.refresh()
            except Exception as exc:  # a reader failing must not kill the kernel's thread silently
                self.message.value = (
                    f"<i>stopped: {html.escape(type(exc).__name__)}: {html.escape(str(exc))}</i>"
                )
                self.stop_event.set()
        self._show_stopped()

    @property
    def running(self) -> bool:
        """Whether the update thread is alive."""
        return self.thread.is_alive()

    def stop(self) -> None:
        """Stop updating and join the thread (the widget stays on screen)."""
        self.stop_event.set()
        if self.thread is not threading.current_thread():
            self.thread.join(timeout=max(5.0, 2 * self.interval))
        self._show_stopped()

    def _title(self) -> str:
        if not self.stop_event.is_set():
            return f"<b>GPU memory</b> — updated every {self.interval:g} s"
        when = time.strftime("%H:%M:%S", time.localtime(self.last_read)) if self.last_read else "—"
        return f"<b>GPU memory</b> — stopped; last read at {when}"

    def _show_stopped(self) -> None:
        self.title.value = self._title()
        self.stop_button.disabled = True
        self.stop_button.description = "Stopped"

    def close(self) -> None:
        """Stop the thread and close the widget."""
        self.widget.close()  # PanelBox.close stops the thread first

    def _ipython_display_(self) -> None:
        from IPython.display import display as ipy_display

        ipy_display(self.widget)


def panel(interval: float = 1.0, history: int = 60) -> GpuPanel:
    """Start a live GPU memory panel (display it, or use ``%gpu_panel``)."""
    return GpuPanel(interval=interval, history=history)
