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
"""

from __future__ import annotations

import html
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlnb import display
from mlnb.data import kinds
from mlnb.data.frames import as_frame
from mlnb.exceptions import InvalidArgumentError

#: number of evenly ranked values kept per numeric column for drift binning
SKETCH_SIZE = 1001
#: distinct values of a counted column kept in a profile (the most frequent)
MAX_DOMAIN = 1000
#: quantiles reported for numeric columns
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
HISTOGRAM_BINS = 20
TOP_K = 10


@dataclass
class ColumnProfile:
    """Statistics of one column. Numeric fields are None for counted kinds and vice versa.

    Datetime values (min, max, mean, quantiles, histogram edges, sketch) are in
    nanoseconds since 1970 UTC; :meth:`format` turns them back into timestamps.
    """

    name: str
    kind: str
    dtype: str
    rows: int
    count: int
    missing: int
    unique: int
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[float, float] = field(default_factory=dict)
    histogram_edges: np.ndarray | None = None
    histogram_counts: np.ndarray | None = None
    sketch_values: np.ndarray | None = None
    sketch_ranks: np.ndarray | None = None
    counts: pd.Series | None = None
    other_count: int = 0
    notes: list[str] = field(default_factory=list)
    #: every non-missing value, sorted (numeric and datetime columns profiled with
    #: ``keep_values=True`` only; :func:`mlnb.data.compare` uses and then drops them)
    values: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: a uniform sample of the non-missing values, sorted, that tests run on when the
    #: values are not kept (profiles streamed from files, :mod:`mlnb.data.stream`)
    test_sample: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: bound on the sketch's rank error, as a share of ``count``, beyond its own spacing
    #: (0 for sketches of sorted values; a streamed quantile sketch's tracked bound)
    rank_error: float = 0.0

    @property
    def missing_rate(self) -> float:
        """Share of rows that are missing, 0 to 1."""
        return self.missing / self.rows if self.rows else 0.0

    @property
    def domain_capped(self) -> bool:
        """True when the column has more distinct values than the profile kept."""
        return self.counts is not None and self.unique > len(self.counts)

    def top(self, k: int = TOP_K) -> list[tuple[str, int]]:
        """The ``k`` most frequent values and their counts (counted kinds only)."""
        if self.counts is None:
            return []
        head = self.counts.iloc[:k]
        return list(zip(head.index.tolist(), head.to_numpy().tolist(), strict=True))

    @property
    def sketch_exact(self) -> bool:
        """True when the shares this profile gives are exact: it holds its values, or
        its sketch holds every value (at most :data:`SKETCH_SIZE`)."""
        return self.values is not None or self.count <= SKETCH_SIZE

    @property
    def sample(self) -> np.ndarray | None:
        """The values tests run on: every value when kept, else the uniform test sample
        when there is one, else the sketch (every value up to :data:`SKETCH_SIZE`,
        evenly ranked ones beyond)."""
        if self.values is not None:
            return self.values
        return self.test_sample if self.test_sample is not None else self.sketch_values

    def fraction_below(self, edges: np.ndarray) -> np.ndarray:
        """Estimated share of non-missing values strictly below each edge.

        Exact when the profile holds its values or the column had at most
        :data:`SKETCH_SIZE` values; otherwise interpolated between sketch ranks,
        within 1/1000 of the truth.
        """
        return self._share(edges, "left")

    def fraction_at_most(self, edges: np.ndarray) -> np.ndarray:
        """Estimated share of non-missing values at or below each edge (see :meth:`fraction_below`)."""
        return self._share(edges, "right")

    def _share(self, edges: np.ndarray, side: Literal["left", "right"]) -> np.ndarray:
        """Share below (``left``) or at most (``right``) each edge, exact or interpolated."""
        if self.count == 0:
            return np.zeros(len(edges))
        if self.values is not None:
            return np.searchsorted(self.values, edges, side=side) / len(self.values)
        points, ranks = self.sketch_values, self.sketch_ranks
        if points is None or ranks is None:
            return np.zeros(len(edges))
        j = np.searchsorted(points, edges, side=side)
        inside = (j > 0) & (j < len(points))
        counted = np.where(j >= len(points), float(self.count), 0.0)
        if inside.any():
            jj = j[inside]
            lo_v, hi_v = points[jj - 1], points[jj]
            lo_r, hi_r = ranks[jj - 1].astype(float), ranks[jj].astype(float)
            span = np.where(hi_v > lo_v, hi_v - lo_v, 1.0)
            share = np.clip((edges[inside] - lo_v) / span, 0.0, 1.0)
            exact = hi_r if side == "left" else lo_r + 1  # no sketch value lies between
            counted[inside] = np.where(
                hi_r - lo_r <= 1, exact, lo_r + 1 + share * (hi_r - lo_r - 1)
            )
        return counted / self.count

    def format(self, value: float | None) -> str:
        """A value of this column as text (timestamps for datetime columns)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        if self.kind == kinds.DATETIME and math.isfinite(value):
            return kinds.format_datetime(value)
        return display.format_value(float(value))

    def summary(self) -> str:
        """The column's distribution in a few words: range and mean, or top value."""
        if self.count == 0:
            return "no values"
        if self.kind in kinds.NUMBER_KINDS:
            return (
                f"{self.format(self.min)} … {self.format(self.max)}, mean {self.format(self.mean)}"
            )
        if self.unique == self.count > 1:
            return "all values distinct"
        value, count = self.top(1)[0]
        share = count / self.count
        return f"top {value!r} ({share:.0%})" if share >= 0.01 else f"top {value!r} ({share:.1%})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready statistics (the sketch and full counts left out)."""
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "dtype": self.dtype,
            "rows": self.rows,
            "count": self.count,
            "missing": self.missing,
            "missing_rate": self.missing_rate,
            "unique": self.unique,
            "notes": list(self.notes),
        }
        if self.kind in kinds.NUMBER_KINDS:
            out.update(min=self.min, max=self.max, mean=self.mean, std=self.std)
            out["quantiles"] = {str(q): v for q, v in self.quantiles.items()}
            if self.rank_error:  # a streamed profile: how far its quantiles' ranks may be off
                out["rank_error"] = self.rank_error
            if self.histogram_edges is not None and self.histogram_counts is not None:
                out["histogram"] = {
                    "edges": self.histogram_edges.tolist(),
                    "counts": self.histogram_counts.tolist(),
                }
        elif self.counts is not None:
            out["top"] = [{"value": v, "count": c} for v, c in self.top()]
            out["domain_capped"] = self.domain_capped
        return out


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
    elif values.counts is not None:
        summarise_counts(column, values.counts, max_domain)
    if column.count == 0:
        column.notes.append(f"column {name!r} has no values: all {column.rows} are missing.")
    return column


def _summarise_numbers(
    column: ColumnProfile, numbers: np.ndarray, bins: int, keep_values: bool = False
) -> None:
    n = len(numbers)
    if n == 0:
        return
    ordered = np.sort(numbers)
    column.unique = int(1 + np.count_nonzero(ordered[1:] != ordered[:-1]))
    column.min, column.max = float(ordered[0]), float(ordered[-1])
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
