"""The overview panel (Facets Overview's job): every column at a glance, one in detail.

A :class:`DataOverview` is a stock ipywidgets ``VBox``:

* a header with the verdicts (drift, anomalies) and notes;
* a table of columns — kind, counts, missing, unique, the distribution (a small
  histogram, reference grey and current orange overlaid, above a short summary),
  the drift distance against its threshold, and the anomalies — with drifting
  columns in red and columns with anomalies in amber;
* a ``Dropdown`` choosing a column, whose detailed plot (an ``Image``, PNG from
  matplotlib) and statistics (an ``HTML``) show below it.

It fits a narrow notebook column (a 250 px sidebar in a 1000 px window) without
scrolling sideways: histogram and summary share one column, long column names
break anywhere, the plot shrinks to the column's width and the statistics wrap
below it.

Every user string (column names, values, notes) is ``html.escape``-d.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from mlnb import display
from mlnb.data import plots
from mlnb.data.drift import DriftReport, compare
from mlnb.data.profile import ColumnProfile, DataProfile, profile
from mlnb.data.schema import Schema
from mlnb.data.validate import Anomaly, ValidationReport, validate

DRIFT_BACKGROUND = "#fde2e1"
ANOMALY_BACKGROUND = "#fff3cd"
#: a column name's cell: a long name without spaces breaks rather than widen the table
NAME_CELL_STYLE = display.CELL_STYLE + ";overflow-wrap:anywhere"


class DataOverview(widgets.VBox):
    """The panel; build it with :func:`overview`.

    Attributes:
        current: the profile of the data shown.
        reference: the profile it is compared with, or None.
        drift: the drift report, or None without a reference.
        validation: the validation report, or None without a schema.
        header, table, selector, detail_html, detail_image: the child widgets.
    """

    def __init__(
        self,
        current: DataProfile,
        *,
        reference: DataProfile | None = None,
        drift: DriftReport | None = None,
        validation: ValidationReport | None = None,
        title: str = "",
    ) -> None:
        self.current = current
        self.reference = reference
        self.drift = drift
        self.validation = validation
        self.title = title
        self._anomalies = validation.by_column() if validation is not None else {}
        self.header = widgets.HTML(self._header_html())
        self.table = widgets.HTML(self._table_html())
        names = list(current.columns) + [n for n in self._anomalies if n not in current.columns]
        self.selector = widgets.Dropdown(options=names, value=names[0], description="column")
        self.detail_html = widgets.HTML()
        width = plots.DETAIL_SIZE_PX[0]
        self.detail_image = widgets.Image(  # its own size or the column's: never stretched
            format="png",
            layout=widgets.Layout(
                width=f"{width}px",
                max_width=display.FIT_WIDTH,
                height="auto",  # the PNG's own aspect ratio at any width
                flex="0 0 auto",
                align_self="flex-start",
                object_fit="contain",
            ),
        )
        self.selector.observe(self._on_select, names="value")
        super().__init__(
            [
                self.header,
                self.table,
                self.selector,
                widgets.HBox(  # the statistics go below the plot when both do not fit
                    [self.detail_image, self.detail_html],
                    layout=widgets.Layout(flex_flow="row wrap"),
                ),
            ]
        )
        self.show_column(names[0])

    def summary(self) -> str:
        """The verdict lines shown in the header, as plain text."""
        lines = [
            f"{self.title + ': ' if self.title else ''}{self.current.rows:,} rows × "
            f"{len(self.current.columns)} columns"
        ]
        if self.drift is not None:
            lines.append(self.drift.summary())
        if self.validation is not None:
            lines.append(self.validation.summary())
        return "\n".join(lines)

    def text(self) -> str:
        """The panel as plain text: verdicts, notes, and one line per column."""
        headers = ["column", "kind", "count", "missing", "unique", "distribution"]
        if self.drift is not None:
            headers.append("drift")
        if self.validation is not None:
            headers.append("anomalies")
        rows = []
        for name, cur in self.current.columns.items():
            row: list[Any] = [
                name,
                cur.kind,
                cur.count,
                f"{cur.missing_rate:.1%}",
                cur.unique,
                cur.summary(),
            ]
            if self.drift is not None:
                row.append(_drift_cell(self.drift, name))
            if self.validation is not None:
                row.append(", ".join(a.kind for a in self._anomalies.get(name, [])) or "—")
            rows.append(row)
        lines = [self.summary(), *(f"note: {n}" for n in self._notes())]
        lines.append(display.text_table(headers, rows))
        if self.validation is not None and not self.validation.ok:
            lines.append(
                display.text_table(
                    ["column", "anomaly", "description", "examples"], self.validation._rows()
                )
            )
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.text()  # the whole panel for text-only frontends and logs
        return bundle

    def _notes(self) -> list[str]:
        notes = self.current.notes + (self.drift.notes if self.drift is not None else [])
        return list(dict.fromkeys(notes))

    def __repr__(self) -> str:
        return (
            "DataOverview("
            + "; ".join(line.rstrip(".") for line in self.summary().split("\n"))
            + ")"
        )

    def show_column(self, name: str) -> None:
        """Show ``name``'s detailed plot and statistics (what choosing it in the dropdown does)."""
        if self.selector.value != name:
            self.selector.value = name  # the observer calls back here
            return
        cur = self.current.columns.get(name)
        ref = self.reference.columns.get(name) if self.reference is not None else None
        parts = [f"<h4>{html.escape(name)}</h4>"]
        if cur is None:
            parts.append("<p>not in the data</p>")
            self.detail_image.value = b""
        else:
            parts.append(self._stats_html(ref, cur))
            self.detail_image.value = plots.detail_png(ref, cur)
        if self.drift is not None and name in self.drift.columns:
            d = self.drift.columns[name]
            value = "—" if math.isnan(d.value) else f"{d.value:.4f}"
            verdict = "DRIFT" if d.drift else "no drift"
            parts.append(
                f"<p><b>{html.escape(verdict)}</b>: {html.escape(d.statistic)} {value} "
                f"(threshold {'—' if math.isnan(d.threshold) else f'{d.threshold:g}'}; "
                f"{html.escape(d.test or 'no test')} p-value "
                f"{'—' if math.isnan(d.p_value) else f'{d.p_value:.3g}'}; "
                f"n {d.n_reference:,} vs {d.n_current:,}). "
                f"{html.escape(d.detail)}</p>"
            )
            if d.note:
                parts.append(f"<p>note: {html.escape(d.note)}</p>")
        for anomaly in self._anomalies.get(name, []):
            parts.append(_anomaly_html(anomaly))
        self.detail_html.value = "".join(parts)

    def _on_select(self, change: dict[str, Any]) -> None:
        self.show_column(change["new"])

    def _header_html(self) -> str:
        lines = [f"<b>{html.escape(line)}</b>" for line in self.summary().split("\n")]
        lines += [f"note: {html.escape(n)}" for n in self._notes()]
        return "<br/>".join(lines)

    def _table_html(self) -> str:
        headers = ["column", "kind", "count", "missing", "unique", "distribution"]
        if self.drift is not None:
            headers.append("drift")
        if self.validation is not None:
            headers.append("anomalies")
        head = "".join(f'<th style="{display.HEADER_STYLE}">{html.escape(h)}</th>' for h in headers)
        rows = []
        for name, cur in self.current.columns.items():
            ref = self.reference.columns.get(name) if self.reference is not None else None
            _, ref_shares, cur_shares = plots.column_shares(ref, cur)
            svg = plots.sparkline_svg(ref_shares, cur_shares)
            histogram = plots.svg_img(svg, f"histogram of {html.escape(name, quote=True)}")
            cells = [
                html.escape(cur.kind),
                f"{cur.count:,}",
                f"{cur.missing_rate:.1%}",
                f"{cur.unique:,}",
                f"<div>{histogram}</div>{html.escape(cur.summary())}",
            ]
            background = ""
            if self.drift is not None:
                cells.append(html.escape(_drift_cell(self.drift, name)))
                d = self.drift.columns.get(name)
                background = DRIFT_BACKGROUND if d is not None and d.drift else ""
            if self.validation is not None:
                found = self._anomalies.get(name, [])
                cells.append(html.escape(", ".join(a.kind for a in found)) or "—")
                if found and not background:
                    background = ANOMALY_BACKGROUND
            style = f' style="background:{background}"' if background else ""
            rows.append(
                f'<tr{style}><td style="{NAME_CELL_STYLE}">{html.escape(name)}</td>'
                + "".join(f'<td style="{display.CELL_STYLE}">{c}</td>' for c in cells)
                + "</tr>"
            )
        return (
            f'<table class="mlnb-table mlnb-data-overview" style="{display.TABLE_STYLE}">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )

    def _stats_html(self, ref: ColumnProfile | None, cur: ColumnProfile) -> str:
        sides = [("reference", ref), ("current", cur)] if ref is not None else [("value", cur)]
        stats = [
            ("kind", lambda p: p.kind),
            ("dtype", lambda p: p.dtype),
            ("count", lambda p: f"{p.count:,}"),
            ("missing", lambda p: f"{p.missing:,} ({p.missing_rate:.1%})"),
            ("unique", lambda p: f"{p.unique:,}"),
        ]
        if cur.kind in ("numeric", "datetime"):
            stats += [
                ("min", lambda p: p.format(p.min)),
                ("median", lambda p: p.format(p.quantiles.get(0.5))),
                ("mean", lambda p: p.format(p.mean)),
                ("max", lambda p: p.format(p.max)),
            ]
        else:
            stats.append(("top", lambda p: ", ".join(f"{v} ({c:,})" for v, c in p.top(3))))
        head = "".join(
            f'<th style="{display.HEADER_STYLE}">{html.escape(label)}</th>'
            for label, _ in [("", None), *sides]
        )
        body = "".join(
            f'<tr><td style="{display.CELL_STYLE}">{html.escape(label)}</td>'
            + "".join(
                f'<td style="{display.CELL_STYLE}">{html.escape(str(get(p)))}</td>'
                for _, p in sides
            )
            + "</tr>"
            for label, get in stats
        )
        return f'<table class="mlnb-table" style="{display.TABLE_STYLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _drift_cell(drift: DriftReport, name: str) -> str:
    d = drift.columns.get(name)
    if d is None:
        return "not in reference"
    return d.short()


def _anomaly_html(anomaly: Anomaly) -> str:
    examples = f" e.g. {html.escape(', '.join(anomaly.examples))}" if anomaly.examples else ""
    return (
        f'<p style="background:{ANOMALY_BACKGROUND}"><b>{html.escape(anomaly.kind)}</b>: '
        f"{html.escape(anomaly.description)}{examples}</p>"
    )


def overview(
    current: Any,
    reference: Any = None,
    *,
    schema: Schema | str | Path | None = None,
    title: str = "",
    **compare_options: Any,
) -> DataOverview:
    """Build the overview panel of ``current``, compared with ``reference`` and checked against ``schema``.

    Args:
        current: the data to show: a DataFrame, array, or a :class:`DataProfile`.
            Give a DataFrame when you also give a ``schema`` (validation needs rows).
        reference: data (or a profile) to compare with; adds overlaid histograms
            and the drift column.
        schema: a :class:`Schema` or the path of its JSON file; adds the anomalies column.
        title: a name for the data shown in the header.
        **compare_options: passed to :func:`mlnb.data.compare` (``thresholds``,
            ``categorical_threshold``, ``numeric_threshold``, ``bins``).

    Returns:
        The :class:`DataOverview` widget; display it, or read its reports.
    """
    validation = None
    if schema is not None:
        if isinstance(current, DataProfile):
            from mlnb.exceptions import InvalidArgumentError

            raise InvalidArgumentError(
                "checking a schema needs the rows: pass a DataFrame, not a profile."
            )
        validation = validate(
            current, schema, what="the current data" if reference is not None else "the data"
        )
    drift = None
    if reference is not None:
        drift = compare(reference, current, **compare_options)
        cur_profile, ref_profile = drift.current, drift.reference
    else:
        cur_profile = current if isinstance(current, DataProfile) else profile(current)
        ref_profile = None
    return DataOverview(
        cur_profile, reference=ref_profile, drift=drift, validation=validation, title=title
    )
