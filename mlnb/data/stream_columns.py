"""One column of a streamed file: its sketches, fed from Arrow arrays, turned into a profile.

:class:`NumericColumn` (numeric and datetime columns) keeps exact counts (rows,
missing — nulls and NaN alike), exact minimum and maximum, mean and variance
(:class:`~mlnb.data.sketches.Moments`), an exact histogram when its edges are known
before the pass (from the Parquet statistics), a
:class:`~mlnb.data.sketches.QuantileSketch`, and the values at a uniform sample of
rows chosen before the pass. :class:`CountedColumn` (boolean and text columns) keeps
a :class:`~mlnb.data.sketches.CountSketch`. :meth:`profile` gives the
:class:`~mlnb.data.profile.ColumnProfile` that :func:`mlnb.data.compare` already
knows how to compare: quantiles, bins and sketch from the quantile sketch (its
``rank_error`` says how far they can be off), tests on the sorted sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlnb.data import kinds
from mlnb.data.profile import HISTOGRAM_BINS, MAX_DOMAIN, QUANTILES, ColumnProfile, summarise_counts
from mlnb.data.sketches import CountSketch, Moments, QuantileSketch

#: evenly ranked values a streamed profile holds while it is compared (then thinned to 1,001)
STREAM_SKETCH_SIZE = 10_001


@dataclass
class NumericColumn:
    """Sketches of a numeric or datetime column (see the module docstring)."""

    name: str
    kind: str
    dtype: str
    sample_rows: np.ndarray
    histogram_edges: np.ndarray | None = None
    rows: int = 0
    missing: int = 0
    low: float = np.inf
    high: float = -np.inf
    finite_low: float = np.inf
    finite_high: float = -np.inf
    moments: Moments = field(default_factory=Moments)
    quantiles: QuantileSketch = field(default_factory=QuantileSketch)
    histogram_counts: np.ndarray | None = None
    _sampled: list[np.ndarray] = field(default_factory=list)

    def update(self, array: Any, offset: int) -> None:
        """Fold in one batch (an Arrow array) whose first row is row ``offset`` of the file."""
        numbers = self._as_numbers(array)
        start, stop = np.searchsorted(self.sample_rows, [offset, offset + len(numbers)])
        if stop > start:
            self._sampled.append(numbers[self.sample_rows[start:stop] - offset].astype(np.float64))
        missing = np.isnan(numbers)
        present = numbers[~missing] if missing.any() else numbers
        self.rows += len(numbers)
        self.missing += len(numbers) - len(present)
        if len(present) == 0:
            return
        ordered = np.sort(present)  # float32 stays float32 (moments are summed in float64)
        self.low, self.high = min(self.low, float(ordered[0])), max(self.high, float(ordered[-1]))
        self.moments.add(ordered)
        self.quantiles.add_sorted(ordered)
        start = int(np.searchsorted(ordered, -np.inf, side="right"))
        stop = int(np.searchsorted(ordered, np.inf, side="left"))
        if stop > start:
            finite = ordered[start:stop]
            self.finite_low = min(self.finite_low, float(finite[0]))
            self.finite_high = max(self.finite_high, float(finite[-1]))
            if self.histogram_edges is not None:
                at = np.searchsorted(finite, self.histogram_edges, side="left")
                at[-1] = len(finite)
                counts = np.diff(at)
                self.histogram_counts = (
                    counts if self.histogram_counts is None else self.histogram_counts + counts
                )

    def _as_numbers(self, array: Any) -> np.ndarray:
        """The batch as a float array with NaN for missing values (float32 stays float32)."""
        if self.kind == kinds.DATETIME:
            stamps = array.to_numpy(zero_copy_only=False)
            if stamps.dtype.kind != "M":  # dates come as objects
                stamps = pd.to_datetime(stamps).to_numpy()
            present = ~np.isnat(stamps)
            numbers = np.full(len(stamps), np.nan)
            numbers[present] = kinds.datetimes_as_ns(stamps[present])[0]
            return numbers
        import pyarrow as pa

        if pa.types.is_decimal(array.type):  # else Decimal objects, None for nulls
            array = array.cast(pa.float64())
        values = array.to_numpy(zero_copy_only=False)
        if values.dtype.kind == "m":  # durations, in seconds as pandas gives them
            seconds = values.astype("timedelta64[ns]").astype(np.float64) / 1e9
            seconds[np.isnat(values)] = np.nan
            return seconds
        if values.dtype.kind == "f":
            return values
        return values.astype(np.float64)

    def profile(self, bins: int = HISTOGRAM_BINS) -> ColumnProfile:
        """The column's profile; ``test_sample`` holds the sorted sampled values."""
        count = self.rows - self.missing
        column = ColumnProfile(
            name=self.name,
            kind=self.kind,
            dtype=self.dtype,
            rows=self.rows,
            count=count,
            missing=self.missing,
            unique=0,
        )
        if count == 0:
            column.notes.append(f"column {self.name!r} has no values: all {self.rows} are missing.")
            return column
        sample = np.concatenate(self._sampled) if self._sampled else np.empty(0)
        sample = np.sort(sample[~np.isnan(sample)])
        column.test_sample = sample
        column.unique = int(1 + np.count_nonzero(sample[1:] != sample[:-1])) if len(sample) else 0
        column.min, column.max = float(self.low), float(self.high)
        column.mean, column.std = float(self.moments.mean), float(self.moments.std)
        column.quantiles = dict(zip(QUANTILES, self._quantiles(count).tolist(), strict=True))
        self._histogram(column, count, bins)
        size = min(count, STREAM_SKETCH_SIZE)
        ranks = np.round(np.linspace(0, count - 1, size)).astype(np.int64)
        points = self.quantiles.quantiles(ranks)
        points[0], points[-1] = self.low, self.high
        column.sketch_values = np.maximum.accumulate(np.clip(points, self.low, self.high))
        column.sketch_ranks = ranks
        column.rank_error = self.quantiles.rank_error
        return column

    def _quantiles(self, count: int) -> np.ndarray:
        positions = np.asarray(QUANTILES) * (count - 1)
        low = np.floor(positions).astype(np.int64)
        lo_v = self.quantiles.quantiles(low)
        hi_v = self.quantiles.quantiles(np.minimum(low + 1, count - 1))
        with np.errstate(invalid="ignore"):
            return np.where(hi_v == lo_v, lo_v, lo_v + (hi_v - lo_v) * (positions - low))

    def _histogram(self, column: ColumnProfile, count: int, bins: int) -> None:
        if self.finite_high < self.finite_low:
            return
        if self.histogram_counts is not None and self.histogram_edges is not None:
            column.histogram_edges, column.histogram_counts = (
                self.histogram_edges,
                self.histogram_counts,
            )
            return
        if self.finite_high == self.finite_low:
            edges = np.array([self.finite_low, self.finite_low])
        else:
            edges = np.linspace(self.finite_low, self.finite_high, bins + 1)
        values, weights = self.quantiles.points()
        cumulative = np.concatenate(([0], np.cumsum(weights)))
        at = cumulative[np.searchsorted(values, edges, side="left")]
        at[-1] = cumulative[np.searchsorted(values, self.finite_high, side="right")]
        column.histogram_edges, column.histogram_counts = edges, np.diff(at)


@dataclass
class CountedColumn:
    """Value counts of a boolean or text column (see the module docstring)."""

    name: str
    kind: str
    dtype: str
    rows: int = 0
    missing: int = 0
    counts: CountSketch = field(default_factory=CountSketch)

    def update(self, array: Any, offset: int) -> None:
        """Fold in one batch (an Arrow array); ``offset`` is unused (no sample is kept)."""
        import pyarrow.compute as pc

        self.rows += len(array)
        self.missing += array.null_count
        if array.null_count == len(array):
            return
        found = pc.value_counts(array)
        values, counts = found.field("values"), found.field("counts").to_numpy()
        keep = values.is_valid().to_numpy(zero_copy_only=False)
        labels = pd.Index([str(v) for v in values.to_pylist()], dtype=object)
        self.counts.add(pd.Series(counts, index=labels)[keep])

    def profile(self, max_domain: int = MAX_DOMAIN) -> ColumnProfile:
        """The column's profile: counts of its ``max_domain`` most frequent values."""
        column = ColumnProfile(
            name=self.name,
            kind=self.kind,
            dtype=self.dtype,
            rows=self.rows,
            count=self.rows - self.missing,
            missing=self.missing,
            unique=0,
        )
        if column.count == 0:
            column.notes.append(f"column {self.name!r} has no values: all {self.rows} are missing.")
            return column
        summarise_counts(column, self.counts.ordered(), max_domain)
        column.other_count = (
            column.count - int(column.counts.sum()) if column.counts is not None else 0
        )
        if self.counts.pruned:
            column.notes.append(
                f"column {self.name!r} has more than {self.counts.capacity:,} distinct values: "
                f"its counts were pruned while streaming (each low by at most {self.counts.undercount:,})."
            )
        return column


def thin(column: ColumnProfile, size: int) -> None:
    """Drop a streamed profile's test sample and keep ``size`` evenly ranked sketch values
    (after the comparison, so a report of 1,000 columns stays small)."""
    column.test_sample = None
    points, ranks = column.sketch_values, column.sketch_ranks
    if points is None or ranks is None or len(points) <= size:
        return
    step = (len(points) - 1) // (size - 1)
    if step * (size - 1) == len(points) - 1:
        column.sketch_values, column.sketch_ranks = points[::step].copy(), ranks[::step].copy()
