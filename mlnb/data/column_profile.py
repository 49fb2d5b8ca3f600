"""What a profile knows about one column: :class:`ColumnProfile`, with the shares and
summaries computed from its statistics and quantile sketch (no data needed)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlnb import display
from mlnb.data import kinds

#: number of evenly ranked values kept per numeric column for drift binning
SKETCH_SIZE = 1001
#: values :meth:`ColumnProfile.top` lists by default
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
            with np.errstate(invalid="ignore", over="ignore"):  # an infinite sketch value
                span = np.where(hi_v > lo_v, hi_v - lo_v, 1.0)
                share = np.clip(np.nan_to_num((edges[inside] - lo_v) / span), 0.0, 1.0)
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
            for key in ("min", "max", "mean", "std"):
                value = getattr(self, key)
                out[key] = None if value is None else finite_or_none(value)
            out["quantiles"] = {str(q): finite_or_none(v) for q, v in self.quantiles.items()}
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


def finite_or_none(value: float) -> float | None:
    """``value`` for JSON: NaN and infinities become None (null), as pandas' ``to_json`` writes them."""
    return float(value) if math.isfinite(value) else None
