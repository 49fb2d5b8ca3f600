"""Per-column statistics of a DataFrame: what TFDV's ``generate_statistics`` gives, for pandas.

Numeric and datetime columns are sorted once; count, unique, min, max, quantiles,
an equal-width histogram and a quantile *sketch* (1,001 evenly ranked values, or
every value when there are fewer) all come from that one sorted array. The sketch
is what :func:`mlnb.data.compare` bins when it measures drift, so a profile can be
compared without the data it came from (as TFDV compares statistics, not rows).

Boolean, categorical and mixed columns are counted by value; the counts kept are
capped at ``max_domain`` distinct values (the most frequent), and the profile says
so when a column has more.

Columns are profiled in a small thread pool: sorting and counting release the GIL,
so two cores profile about twice as fast as one.

Each column's statistics are a :class:`~mlnb.data.column_profile.ColumnProfile` (importable
from here too, with :data:`SKETCH_SIZE`).
"""

from __future__ import annotations

import html
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlnb import display
from mlnb.data import kinds
from mlnb.data.column_profile import SKETCH_SIZE, ColumnProfile
from mlnb.data.frames import as_frame
from mlnb.exceptions import InvalidArgumentError

#: distinct values of a counted column kept in a profile (the most frequent)
MAX_DOMAIN = 1000
#: quantiles reported for numeric columns
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
HISTOGRAM_BINS = 20


@dataclass(repr=False)
class DataProfile(display.Report):
    """The statistics of every column of one frame (see :func:`profile`)."""

    rows: int
    columns: dict[str, ColumnProfile]

    @property
    def notes(self) -> list[str]:
        """Every column's notes, in column order."""
        return [note for column in self.columns.values() for note in column.notes]

    def __getitem__(self, name: str) -> ColumnProfile:
        return self.columns[name]

    def to_frame(self) -> pd.DataFrame:
        """One row per column: kind, counts, missing rate, unique, and a short summary."""
        records = [
            {
                "column": c.name,
                "kind": c.kind,
                "dtype": c.dtype,
                "count": c.count,
                "missing": c.missing,
                "missing_rate": c.missing_rate,
                "unique": c.unique,
                "mean": c.mean,
                "std": c.std,
                "min": c.min,
                "median": c.quantiles.get(0.5),
                "max": c.max,
                "top": c.top(1)[0][0] if c.counts is not None and c.count else None,
            }
            for c in self.columns.values()
        ]
        return pd.DataFrame.from_records(records).set_index("column")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready statistics of every column."""
        return {"rows": self.rows, "columns": [c.to_dict() for c in self.columns.values()]}

    def to_metrics(self, prefix: str = "profile/") -> dict[str, float]:
        """Flat ``name → float`` figures for a run log: rows, and per column missing rate,
        unique count, and mean/std/min/max for numeric columns."""
        metrics = {f"{prefix}rows": float(self.rows)}
        for c in self.columns.values():
            base = f"{prefix}{c.name}/"
            metrics[base + "missing_rate"] = float(c.missing_rate)
            metrics[base + "unique"] = float(c.unique)
            if c.kind == kinds.NUMERIC and c.count:
                for stat in ("mean", "std", "min", "max"):
                    metrics[base + stat] = float(getattr(c, stat))
        return metrics

    def _rows(self) -> list[tuple[Any, ...]]:
        return [
            (c.name, c.kind, c.count, f"{c.missing_rate:.1%}", c.unique, c.summary())
            for c in self.columns.values()
        ]

    _HEADERS = ("column", "kind", "count", "missing", "unique", "distribution")

    def text(self) -> str:
        """The profile as a plain-text table, followed by its notes."""
        lines = [f"{self.rows:,} rows × {len(self.columns)} columns"]
        lines.append(display.text_table(self._HEADERS, self._rows()))
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def html(self) -> str:
        """The profile as an escaped HTML table, followed by its notes."""
        caption = f"{self.rows:,} rows × {len(self.columns)} columns"
        notes = "".join(f"<p>note: {html.escape(n)}</p>" for n in self.notes)
        return display.html_table(self._HEADERS, self._rows(), caption=caption) + notes


def profile(
    data: Any,
    *,
    max_domain: int = MAX_DOMAIN,
    bins: int = HISTOGRAM_BINS,
    workers: int | None = None,
    what: str = "the data",
    keep_values: bool = False,
) -> DataProfile:
    """Compute per-column statistics of ``data``.

    Args:
        data: a DataFrame, Series, or 1-D/2-D numpy array (columns ``col_0``, ...).
        max_domain: distinct values kept per boolean/categorical/mixed column; a
            column with more keeps its ``max_domain`` most frequent and says so.
        bins: equal-width bins of each numeric column's histogram.
        workers: threads profiling columns in parallel (default: CPU count, at most 8).
        what: how error messages name the data.
        keep_values: also keep each numeric/datetime column's sorted values on its
            profile (``values``), so tests can run on all of them, not on the sketch.

    Returns:
        A :class:`DataProfile`; its ``notes`` list everything unusual found
        (all-missing columns, mixed types, capped domains).

    Raises:
        DataTypeError: ``data`` is not a frame or array.
        EmptyDataError: ``data`` has no rows or no columns.
    """
    frame = as_frame(data, what=what)
    if max_domain < 1:
        raise InvalidArgumentError(f"max_domain must be at least 1, got {max_domain}.")
    names = list(frame.columns)

    def one(name: str) -> ColumnProfile:
        return profile_column(
            name, frame[name], max_domain=max_domain, bins=bins, keep_values=keep_values
        )

    workers = workers or min(os.cpu_count() or 1, 8)
    if workers > 1 and len(names) > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mlnb-profile") as pool:
            columns = list(pool.map(one, names))
    else:
        columns = [one(name) for name in names]
    return DataProfile(rows=len(frame), columns={c.name: c for c in columns})


def profile_column(
    name: str,
    series: pd.Series,
    *,
    max_domain: int = MAX_DOMAIN,
    bins: int = HISTOGRAM_BINS,
    keep_values: bool = False,
) -> ColumnProfile:
    """Statistics of one column (see :func:`profile`)."""
    values = kinds.column_values(name, series)
    column = ColumnProfile(
        name=name,
        kind=values.kind,
        dtype=values.dtype,
        rows=values.rows,
        count=values.rows - values.missing,
        missing=values.missing,
        unique=0,
    )
    if values.note:
        column.notes.append(values.note)
    if values.numbers is not None:
        _summarise_numbers(column, values.numbers, bins, keep_values)
        if column.count and _beyond_float_integers(column) and kinds.integer_dtype(values.dtype):
            column.unique = int(series.nunique())  # distinct ints that float64 merges
    elif values.counts is not None:
        summarise_counts(column, values.counts, max_domain)
    if column.count == 0:
        column.notes.append(f"column {name!r} has no values: all {column.rows} are missing.")
    return column


#: integers above this magnitude are not all exact in float64
_FLOAT_EXACT_INTEGERS = 2.0**53


def _beyond_float_integers(column: ColumnProfile) -> bool:
    """Whether some value is too large for float64 to hold every integer near it."""
    return max(abs(column.min or 0.0), abs(column.max or 0.0)) > _FLOAT_EXACT_INTEGERS


def _summarise_numbers(
    column: ColumnProfile, numbers: np.ndarray, bins: int, keep_values: bool = False
) -> None:
    n = len(numbers)
    if n == 0:
        return
    ordered = np.sort(numbers)
    column.unique = int(1 + np.count_nonzero(ordered[1:] != ordered[:-1]))
    column.min, column.max = float(ordered[0]), float(ordered[-1])
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: NaN, as pandas gives
        column.mean = float(np.mean(ordered))
        column.std = float(np.std(ordered, ddof=1)) if n > 1 else 0.0
    positions = np.asarray(QUANTILES) * (n - 1)
    low = np.floor(positions).astype(np.int64)
    high = np.minimum(low + 1, n - 1)
    lo_v, hi_v = ordered[low], ordered[high]
    with np.errstate(invalid="ignore"):
        q = np.where(hi_v == lo_v, lo_v, lo_v + (hi_v - lo_v) * (positions - low))
    column.quantiles = dict(zip(QUANTILES, q.tolist(), strict=True))
    start = int(np.searchsorted(ordered, -np.inf, side="right"))
    stop = int(np.searchsorted(ordered, np.inf, side="left"))
    if stop > start:
        finite = ordered[start:stop]
        low_edge, high_edge = float(finite[0]), float(finite[-1])
        edges = np.linspace(low_edge, high_edge, bins + 1) if high_edge > low_edge else None
        if edges is None:
            edges = np.array([low_edge, low_edge])
        positions_at = np.searchsorted(finite, edges, side="left")
        positions_at[-1] = len(finite)
        column.histogram_edges = edges
        column.histogram_counts = np.diff(positions_at)
    size = min(n, SKETCH_SIZE)
    ranks = np.round(np.linspace(0, n - 1, size)).astype(np.int64)
    column.sketch_values = ordered[ranks]
    column.sketch_ranks = ranks
    if keep_values:
        column.values = ordered


def summarise_counts(column: ColumnProfile, counts: pd.Series, max_domain: int) -> None:
    """Set a counted column's ``unique`` and its ``max_domain`` most frequent counts
    (``counts`` most frequent first); the rest become ``other_count``, said in a note."""
    column.unique = len(counts)
    if len(counts) > max_domain:
        kept = counts.iloc[:max_domain]
        column.other_count = int(counts.sum() - kept.sum())
        column.notes.append(
            f"column {column.name!r} has {len(counts):,} distinct values; only the "
            f"{max_domain:,} most frequent are tracked (max_domain={max_domain}), "
            "the rest are counted together as other values."
        )
        counts = kept
    column.counts = counts
