"""Shared rendering: escaped HTML tables, human-readable sizes and times, text fallbacks.

Everything mlnb shows goes through here, so every user-supplied string is passed
through :func:`html.escape` before it meets HTML, and every view has a plain-text
twin for terminals and logs.
"""

from __future__ import annotations

import html
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

_SIZE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_bytes(n: float | None) -> str:
    """``1536`` → ``'1.5 KiB'``; negative values keep their sign; None → ``'—'``."""
    if n is None:
        return "—"
    sign = "-" if n < 0 else ""
    value = float(abs(n))
    for unit in _SIZE_UNITS:
        if value < 1024 or unit == _SIZE_UNITS[-1]:
            return f"{sign}{value:.0f} {unit}" if unit == "B" else f"{sign}{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_duration(seconds: float | None) -> str:
    """``0.0123`` → ``'12.3 ms'``, ``75`` → ``'1m 15s'``; None → ``'—'``."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def format_value(value: Any) -> str:
    """A short, stable text form of a cell value (floats to 6 significant digits)."""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.6g}"
    return str(value)


def text_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table with aligned columns."""
    cells = [[format_value(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = ["  ".join(h.ljust(widths[i]) for i, h in enumerate(headers)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in cells]
    return "\n".join(lines)


#: the one table look, inline so no notebook stylesheet re-centres, stretches or right-aligns it
TABLE_STYLE = "border-collapse:collapse;width:auto;margin:0 0 0.6em 0;table-layout:auto"
#: every cell: left-aligned, compact, a light rule under each row (the theme's colour in JupyterLab)
CELL_STYLE = (
    "padding:2px 12px 2px 0;text-align:left;vertical-align:top;"
    "border-bottom:1px solid var(--jp-border-color2,#ddd)"
)
HEADER_STYLE = CELL_STYLE + ";font-weight:600"
CAPTION_STYLE = "caption-side:top;text-align:left;font-weight:600;padding:0 0 4px 0"
#: the widest an ipywidget may be in its box (a Layout's ``max_width``): the box less the
#: widget's own margins, ``--jp-widgets-margin`` a side, so it never spills out sideways
FIT_WIDTH = "calc(100% - 2 * var(--jp-widgets-margin, 2px))"


def html_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, caption: str | None = None
) -> str:
    """A compact, left-aligned HTML table; every header, cell and the caption are escaped."""
    head = "".join(f'<th style="{HEADER_STYLE}">{html.escape(str(h))}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td style="{CELL_STYLE}">{html.escape(format_value(c))}</td>' for c in row)
        + "</tr>"
        for row in rows
    )
    cap = f'<caption style="{CAPTION_STYLE}">{html.escape(caption)}</caption>' if caption else ""
    return (
        f'<table class="mlnb-table" style="{TABLE_STYLE}">{cap}'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


class Report(ABC):
    """Base of every report mlnb shows: one plain-text form and one escaped HTML form.

    A subclass implements :meth:`text`, and :meth:`html` when it has a richer HTML
    form than its text in a ``<pre>``; the rest follows from those two:
    ``str(report)``, IPython's plain-text repr (``_repr_pretty_``) and Jupyter's HTML
    repr (``_repr_html_``). ``repr(report)`` is the text too, unless the subclass is a
    dataclass that keeps its generated ``__repr__`` (``@dataclass(repr=False)`` to
    drop it).

    Every user-supplied string must be escaped in :meth:`html` (the default does it).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # IPython's pretty printer takes a class's own __repr__ (the one @dataclass
        # generates) before an inherited _repr_pretty_: give each report its own.
        if "_repr_pretty_" not in cls.__dict__:
            cls._repr_pretty_ = Report._repr_pretty_  # type: ignore[method-assign]

    @abstractmethod
    def text(self) -> str:
        """The report as plain text, for terminals, logs and ``print``."""

    def html(self) -> str:
        """The report as HTML: by default its text, escaped, in a ``<pre>``."""
        return f'<pre class="mlnb-report">{html.escape(self.text())}</pre>'

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text())


class Rendered(Report):
    """A ready-made text and HTML pair as a :class:`Report`; IPython picks the richest it can show."""

    def __init__(self, text: str, html_text: str | None = None) -> None:
        self._text = text
        self._html = html_text

    def text(self) -> str:
        """The text given."""
        return self._text

    def html(self) -> str:
        """The HTML given, or the text in a ``<pre>`` when none was."""
        return self._html if self._html is not None else super().html()


def show(text: str, html_text: str | None = None) -> None:
    """Display text (and HTML where the frontend renders it); print outside IPython."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a core dependency
        print(text)
        return
    if get_ipython() is None:
        print(text)
        return
    bundle = {"text/plain": text}
    if html_text is not None:
        bundle["text/html"] = html_text
    display(bundle, raw=True)


def as_image(figure: Any) -> Any:
    """``figure`` (a matplotlib ``Figure``) made to display as a PNG wherever IPython shows it.

    Figures built with ``matplotlib.figure.Figure`` (no pyplot, no global state) have no
    rich display of their own: without ``%matplotlib inline`` a notebook shows
    ``<Figure size 740x400 with 1 Axes>``. Every mlnb function that returns a figure
    passes it through here, so a returned figure is a picture in any notebook.
    """

    def png() -> bytes:
        from io import BytesIO

        buffer = BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()

    figure._repr_png_ = png
    return figure
