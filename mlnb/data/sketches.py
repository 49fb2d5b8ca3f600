"""Bounded per-column summaries that are updated batch by batch and never hold a column.

* :class:`QuantileSketch` — a weighted quantile summary of sorted batches with a
  *tracked* error: every estimate of "how many values are at most ``x``" is within
  :attr:`QuantileSketch.rank_error` values of the truth (a deterministic bound, not a
  probability). A batch keeps one value in :data:`STRIDE`, evenly ranked (every value
  of a batch of at most :data:`EXACT_BATCH`); when the summary grows past
  :data:`MAX_POINTS` it is compressed to a quarter of that. Each step adds at most the
  heaviest weight it creates to the bound, so the bound is about ``STRIDE`` per batch
  plus ``n / 8192`` per compression, whatever the batch sizes: about 0.06% of the rows at
  3,000,000.
* :class:`Moments` — count, mean and the sum of squared deviations, merged batch by
  batch with Chan's formula (exact in float64 to rounding).
* :class:`CountSketch` — exact value counts up to ``capacity`` distinct values; past it,
  Misra-Gries pruning keeps the most frequent ones, each undercounted by at most
  :attr:`CountSketch.undercount`.

Nothing here reads files; :mod:`mlnb.data.stream` feeds these from Parquet batches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: a batch leaves one value in STRIDE in a quantile sketch, evenly ranked ...
STRIDE = 32
#: ... or every value, when it has at most this many
EXACT_BATCH = 4096
#: points a quantile sketch may hold before it is compressed to a quarter of them
MAX_POINTS = 32768
#: distinct values a count sketch tracks exactly before it starts pruning
COUNT_CAPACITY = 100_000


@dataclass
class Moments:
    """Count, mean and M2 (sum of squared deviations) of the values seen, merged exactly."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def add(self, values: np.ndarray) -> None:
        """Merge a batch of values (no NaN; float32 is summed in float64) with Chan's formula."""
        n = len(values)
        if n == 0:
            return
        batch_mean = float(np.mean(values, dtype=np.float64))
        if math.isfinite(batch_mean):
            deviations = np.subtract(values, batch_mean, dtype=np.float64)
            np.square(deviations, out=deviations)  # not np.dot: BLAS threads stall on busy cores
            batch_m2 = float(deviations.sum())
        else:
            batch_m2 = math.nan
        self.merge(Moments(n, batch_mean, batch_m2))

    def merge(self, other: Moments) -> None:
        """Fold another summary into this one (Chan, Golub and LeVeque's pairwise update)."""
        if other.count == 0:
            return
        if self.count == 0:
            self.count, self.mean, self.m2 = other.count, other.mean, other.m2
            return
        total = self.count + other.count
        delta = other.mean - self.mean
        with np.errstate(invalid="ignore", over="ignore"):
            self.mean += delta * other.count / total
            self.m2 += other.m2 + delta * delta * self.count * other.count / total
        self.count = total

    @property
    def std(self) -> float:
        """Sample standard deviation (``ddof=1``), 0 for a single value."""
        if self.count < 2:
            return 0.0
        return (
            math.sqrt(max(self.m2, 0.0) / (self.count - 1)) if math.isfinite(self.m2) else math.nan
        )


@dataclass
class QuantileSketch:
    """Mergeable quantile summary: weighted values whose cumulative weights estimate ranks.

    ``at_most(x)`` is the summed weight of the points ``<= x``; the true count of values
    ``<= x`` lies in ``[at_most(x), at_most(x) + slack]``. Centred estimates
    (:meth:`fraction_at_most`, :meth:`quantiles`) are then within :attr:`rank_error`.
    """

    stride: int = STRIDE
    exact_batch: int = EXACT_BATCH
    max_points: int = MAX_POINTS
    count: int = 0
    slack: int = 0
    _values: list[np.ndarray] = field(default_factory=list)
    _weights: list[np.ndarray] = field(default_factory=list)
    _held: int = 0
    _heaviest: int = 1

    def add_sorted(self, ordered: np.ndarray) -> None:
        """Add a sorted batch of values (no NaN): keeps one in ``stride``, evenly ranked."""
        n = len(ordered)
        if n == 0:
            return
        if n <= self.exact_batch:
            values, weights = ordered.astype(np.float64), np.ones(n, dtype=np.int64)
        else:
            kept = -(-n // self.stride)
            ends = (np.arange(1, kept + 1, dtype=np.int64) * n) // kept
            values = ordered[ends - 1].astype(np.float64)
            weights = np.diff(ends, prepend=0)
            self.slack += int(weights.max()) - 1
        self._push(values, weights)
        self.count += n

    def _push(self, values: np.ndarray, weights: np.ndarray) -> None:
        self._values.append(values)
        self._weights.append(weights)
        self._held += len(values)
        self._heaviest = max(self._heaviest, int(weights.max()))
        if self._held > self.max_points:
            self._compress(self.max_points // 4)

    def _compress(self, keep: int) -> None:
        values, weights = self.points()
        cumulative = np.cumsum(weights)
        targets = (np.arange(1, keep + 1, dtype=np.int64) * int(cumulative[-1])) // keep
        chosen = np.unique(np.searchsorted(cumulative, targets, side="left"))
        new_weights = np.diff(cumulative[chosen], prepend=0)
        self.slack += int(new_weights.max()) - 1
        self._values, self._weights = [values[chosen]], [new_weights]
        self._held = len(chosen)
        self._heaviest = int(new_weights.max())

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """The summary's values (sorted) and their integer weights."""
        if not self._values:
            return np.empty(0), np.empty(0, dtype=np.int64)
        if len(self._values) > 1:  # merge the pieces once (no weight changes: no error added)
            values = np.concatenate(self._values)
            order = np.argsort(values, kind="stable")
            self._values, self._weights = [values[order]], [np.concatenate(self._weights)[order]]
        return self._values[0], self._weights[0]

    @property
    def rank_error(self) -> float:
        """Bound on the error of a centred rank estimate, as a share of the count."""
        if self.count == 0:
            return 0.0
        return (self.slack / 2 + self._heaviest) / self.count if self.slack else 0.0

    def fraction_at_most(self, edges: np.ndarray) -> np.ndarray:
        """Estimated share of values ``<= edge`` for each edge, within :attr:`rank_error`."""
        values, weights = self.points()
        if self.count == 0:
            return np.zeros(len(edges))
        cumulative = np.concatenate(([0], np.cumsum(weights)))
        below = cumulative[np.searchsorted(values, edges, side="right")]
        return np.clip((below + self.slack / 2) / self.count, 0.0, 1.0)

    def quantiles(self, ranks: np.ndarray) -> np.ndarray:
        """Values at the given 0-based ranks (estimated: true rank within :attr:`rank_error`)."""
        values, weights = self.points()
        centred = np.cumsum(weights) + self.slack / 2
        index = np.searchsorted(centred, np.asarray(ranks, dtype=np.float64) + 1, side="left")
        return values[np.minimum(index, len(values) - 1)]


@dataclass
class CountSketch:
    """Value counts of a counted column, exact up to ``capacity`` distinct values.

    Past the capacity, the counts are pruned Misra-Gries style (every count lowered by
    the count of the ``capacity // 2 + 1``-th most frequent value, those at 0 dropped),
    so each kept count is low by at most :attr:`undercount` — itself at most
    ``n / (capacity // 2 + 1)`` over ``n`` values — and every value more frequent than
    that is kept.
    """

    capacity: int = COUNT_CAPACITY
    counts: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))
    undercount: int = 0
    pruned: bool = False

    def add(self, counts: pd.Series) -> None:
        """Merge a batch's ``value → count`` (values as text)."""
        if counts.empty:
            return
        merged = (
            counts.astype("int64") if self.counts.empty else self.counts.add(counts, fill_value=0)
        )
        if len(merged) > self.capacity:
            ordered = merged.sort_values(ascending=False, kind="stable")
            cut = int(ordered.iloc[self.capacity // 2])
            merged = ordered[ordered > cut] - cut
            self.undercount += cut
            self.pruned = True
        self.counts = merged.astype("int64")

    def ordered(self) -> pd.Series:
        """The counts, most frequent first (ties in text order, as a stable sort of the values)."""
        counts = self.counts.sort_index(kind="stable")
        return counts.sort_values(ascending=False, kind="stable")
