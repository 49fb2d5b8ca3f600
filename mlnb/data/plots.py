"""Pictures of column distributions: tiny inline SVG histograms and a detailed PNG plot.

Both draw from profiles, never from rows: numeric shares come from the quantile
sketches on common equal-width bins spanning both sides, counted shares from the
value counts (the most frequent values of either side, plus "other").

The sparklines are hand-written SVG (a few dozen ``<rect>``), because drawing 50
matplotlib figures for a table would take seconds; the detailed plot of one
column uses matplotlib's object API (no pyplot, so no global figure state).
"""

from __future__ import annotations

import base64
import io

import numpy as np

from mlnb.data import kinds
from mlnb.data.profile import ColumnProfile

REFERENCE_COLOUR = "#7f8c9d"
CURRENT_COLOUR = "#e67e22"
OTHER = "(other)"


def column_shares(
    ref: ColumnProfile | None, cur: ColumnProfile, *, bins: int = 20, top: int = 8
) -> tuple[list[str], np.ndarray | None, np.ndarray]:
    """Bin labels and each side's share per bin (``ref`` may be None: one side only).

    Numeric/datetime: ``bins`` equal-width bins over both sides' range. Counted:
    the ``top`` most frequent values over both sides, then ``(other)`` if any remain.
    A side of another kind, or without values, gets None (reference) or zeros.
    """
    sides = [p for p in (ref, cur) if p is not None and p.count]
    if not sides:
        return [], None if ref is None else np.zeros(0), np.zeros(0)
    if cur.kind in kinds.NUMBER_KINDS:
        sides = [p for p in sides if p.kind == cur.kind]
        # a counted numeric side always has a min and a max
        low = min(p.min for p in sides if p.min is not None)
        high = max(p.max for p in sides if p.max is not None)
        if not (np.isfinite(low) and np.isfinite(high)) or high <= low:
            edges = np.array([low - 0.5, low + 0.5]) if np.isfinite(low) else np.array([0.0, 1.0])
        else:
            edges = np.linspace(low, high, bins + 1)
        centres = edges[:-1] / 2 + edges[1:] / 2  # halves first: no overflow near 1e308
        if cur.kind == kinds.DATETIME:
            labels = [cur.format(c) for c in centres]
        else:
            labels = [f"{c:.3g}" for c in centres]

        def numeric(p: ColumnProfile | None) -> np.ndarray:
            if p is None or not p.count or p.kind != cur.kind:
                return np.zeros(len(edges) - 1)
            below = p.fraction_below(edges)
            below[-1] = 1.0  # the last bin includes the maximum
            return np.clip(np.diff(below), 0.0, None)

        return labels, (numeric(ref) if ref is not None else None), numeric(cur)
    pooled = None
    for p in sides:
        if p.counts is not None:
            share = p.counts / p.count
            pooled = share if pooled is None else pooled.add(share, fill_value=0.0)
    if pooled is None:
        return [], None if ref is None else np.zeros(0), np.zeros(0)
    labels = pooled.sort_values(ascending=False).index[:top].tolist()

    def counted(p: ColumnProfile | None) -> np.ndarray:
        if p is None or not p.count or p.counts is None:
            return np.zeros(len(labels) + 1)
        shares = (p.counts / p.count).reindex(labels, fill_value=0.0).to_numpy()
        return np.append(shares, max(0.0, 1.0 - shares.sum()))

    ref_shares = counted(ref) if ref is not None else None
    cur_shares = counted(cur)
    rest = cur_shares[-1] + (ref_shares[-1] if ref_shares is not None else 0.0)
    if rest < 1e-9:  # no "(other)" bar when the top values cover everything
        return labels, (ref_shares[:-1] if ref_shares is not None else None), cur_shares[:-1]
    return [*labels, OTHER], ref_shares, cur_shares


def sparkline_svg(
    ref: np.ndarray | None, cur: np.ndarray, *, width: int = 120, height: int = 28
) -> str:
    """A small SVG histogram: reference as grey bars, current as orange outlined bars."""
    n = len(cur)
    if n == 0:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"></svg>'
    peak = (
        max(float(np.max(cur)), float(np.max(ref)) if ref is not None and len(ref) else 0.0) or 1.0
    )
    step = width / n
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">']
    for series, style in (
        (ref, f'fill="{REFERENCE_COLOUR}" fill-opacity="0.55"'),
        (
            cur,
            f'fill="{CURRENT_COLOUR}" fill-opacity="0.25" stroke="{CURRENT_COLOUR}" stroke-width="1"',
        ),
    ):
        if series is None:
            continue
        for i, share in enumerate(series):
            h = (height - 1) * float(share) / peak
            parts.append(
                f'<rect x="{i * step + 0.5:.1f}" y="{height - h:.1f}" width="{max(step - 1, 0.5):.1f}" '
                f'height="{h:.1f}" {style}/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def svg_img(svg: str, alt: str) -> str:
    """An ``<img>`` tag carrying ``svg`` as a data URI (survives HTML sanitisers); ``alt`` must be escaped."""
    data = base64.b64encode(svg.encode()).decode()
    return f'<img src="data:image/svg+xml;base64,{data}" alt="{alt}"/>'


#: the shown size of a column's detail plot in CSS pixels (the PNG has DETAIL_SCALE× the pixels)
DETAIL_SIZE_PX = (576, 288)
#: pixels per CSS pixel in the PNG, so it stays sharp on high-density screens
DETAIL_SCALE = 2


def detail_png(ref: ColumnProfile | None, cur: ColumnProfile, *, title: str = "") -> bytes:
    """A PNG of one column: overlaid histograms (numeric) or side-by-side bars (counted).

    It is :data:`DETAIL_SIZE_PX` × :data:`DETAIL_SCALE` pixels: show it at
    :data:`DETAIL_SIZE_PX` (the overview's image layout does).
    """
    from matplotlib.figure import Figure

    counted = cur.kind not in kinds.NUMBER_KINDS
    labels, ref_shares, cur_shares = column_shares(ref, cur, bins=30, top=15)
    shown_width, shown_height = DETAIL_SIZE_PX
    figure = Figure(figsize=(shown_width / 90, shown_height / 90), dpi=90 * DETAIL_SCALE)
    axes = figure.add_subplot()
    if not labels:
        axes.text(0.5, 0.5, "no values", ha="center", va="center", transform=axes.transAxes)
    elif counted:
        positions = np.arange(len(labels))
        width = 0.4 if ref_shares is not None else 0.8
        if ref_shares is not None:
            axes.barh(
                positions - width / 2,
                ref_shares,
                height=width,
                color=REFERENCE_COLOUR,
                label="reference",
            )
        offset = width / 2 if ref_shares is not None else 0.0
        axes.barh(
            positions + offset, cur_shares, height=width, color=CURRENT_COLOUR, label="current"
        )
        axes.set_yticks(positions, [_plain(label) for label in labels])
        axes.invert_yaxis()
        axes.set_xlabel("share of non-missing values")
    else:
        positions = np.arange(len(labels))
        if ref_shares is not None:
            axes.bar(
                positions,
                ref_shares,
                width=1.0,
                color=REFERENCE_COLOUR,
                alpha=0.6,
                label="reference",
            )
        axes.bar(
            positions,
            cur_shares,
            width=1.0,
            fill=False,
            edgecolor=CURRENT_COLOUR,
            linewidth=1.5,
            label="current",
        )
        ticks = positions[:: max(1, len(labels) // 5)]
        axes.set_xticks(ticks, [_plain(labels[i]) for i in ticks], rotation=20, fontsize=7)
        axes.set_ylabel("share of non-missing values")
    if labels and ref_shares is not None:
        axes.legend(fontsize=8)
    axes.set_title(_plain(title or cur.name), fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _plain(text: str) -> str:
    """Text matplotlib shows literally: ``$`` would otherwise start math mode."""
    return str(text).replace("$", r"\$")
