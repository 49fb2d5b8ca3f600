"""Drawing a :class:`~mlnb.gpu.timeline.Timeline`: memory over time as an SVG line, the largest
allocations with their user-code frames, and a range slider that redraws both.

The curve is thinned to ``POINTS`` buckets (each keeps its maximum) before drawing, so
a view costs the same for a thousand events or ten million.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from mlnb import display
from mlnb.gpu.timeline import Allocation, Timeline

POINTS = 800
WIDTH, HEIGHT, PAD = 760, 200, 40
HEADERS = ("size", "allocated at", "freed at", "user code (innermost first)")


def _seconds(us: float | None, missing: str) -> str:
    return missing if us is None else f"{us / 1e6:.3f} s"


@dataclass(frozen=True)
class TimelineView(display.Report):
    """One range of a timeline: the thinned curve and the largest allocations alive in it."""

    timeline: Timeline
    start_us: float
    end_us: float
    top: int = 10

    def largest(self) -> list[Allocation]:
        """The largest allocations alive in the range."""
        return self.timeline.largest(self.top, self.start_us, self.end_us)

    def rows(self) -> list[tuple[str, ...]]:
        """Table rows of the largest allocations."""
        return [
            (
                display.human_bytes(a.size),
                _seconds(a.start_us, "before recording"),
                _seconds(a.end_us, "still allocated"),
                " ← ".join(a.frames) or "(no user frame)",
            )
            for a in self.largest()
        ]

    def summary(self) -> str:
        """One line: device, range, peak in range, events."""
        _, values = self.timeline.curve(self.start_us, self.end_us, POINTS)
        peak = int(values.max()) if len(values) else 0
        return (
            f"cuda:{self.timeline.device}: {_seconds(self.start_us, '')} – {_seconds(self.end_us, '')}, "
            f"peak {display.human_bytes(peak)} allocated ({len(self.timeline.times_us):,} events recorded)"
        )

    def text(self) -> str:
        """The summary and the table of the largest allocations."""
        return "\n".join([self.summary(), display.text_table(HEADERS, self.rows())])

    def svg(self) -> str:
        """Allocated bytes over the range as an SVG polyline with its scale."""
        times, values = self.timeline.curve(self.start_us, self.end_us, POINTS)
        span = max(self.end_us - self.start_us, 1e-9)
        top = max(int(values.max()) if len(values) else 0, 1)
        xs = PAD + (times - self.start_us) / span * (WIDTH - 2 * PAD)
        ys = HEIGHT - PAD / 2 - values / top * (HEIGHT - PAD)
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs.tolist(), ys.tolist(), strict=True))
        label = html.escape(display.human_bytes(top))
        return (
            f'<svg class="mlnb-gpu-timeline" width="{WIDTH}" height="{HEIGHT}" role="img">'
            f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{points}"/>'
            f'<text x="2" y="14" font-size="11">{label}</text>'
            f'<text x="2" y="{HEIGHT - 4}" font-size="11">0</text>'
            f'<text x="{PAD}" y="{HEIGHT - 4}" font-size="11">{_seconds(self.start_us, "")}</text>'
            f'<text x="{WIDTH - PAD - 60}" y="{HEIGHT - 4}" font-size="11">{_seconds(self.end_us, "")}</text>'
            "</svg>"
        )

    def html(self) -> str:
        """Summary, curve, and the escaped table of the largest allocations."""
        table = display.html_table(HEADERS, self.rows(), caption="largest allocations in range")
        return f"<p>{html.escape(self.summary())}</p>{self.svg()}{table}"


def view(
    timeline: Timeline, start_us: float = 0.0, end_us: float | None = None, top: int = 10
) -> TimelineView:
    """A view of ``timeline`` between two times (µs from its start), default all of it."""
    end = timeline.duration_us if end_us is None else end_us
    return TimelineView(timeline, start_us, end, top)


def widget(timeline: Timeline, top: int = 10) -> Any:
    """An ipywidgets box: a range slider (seconds) above the view it redraws."""
    import ipywidgets as widgets

    seconds = max(timeline.duration_us / 1e6, 1e-6)
    slider = widgets.FloatRangeSlider(
        value=(0.0, seconds),
        min=0.0,
        max=seconds,
        step=seconds / 1000,
        description="range (s)",
        readout_format=".3f",
        continuous_update=False,
        layout=widgets.Layout(width="760px"),
    )
    shown = widgets.HTML(view(timeline, top=top).html())

    def redraw(change: dict[str, Any]) -> None:
        low, high = change["new"]
        shown.value = view(timeline, low * 1e6, high * 1e6, top).html()

    slider.observe(redraw, names="value")
    return widgets.VBox([slider, shown])
