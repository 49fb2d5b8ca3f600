"""One Parquet file as :mod:`mlnb.data.stream` reads it: data columns, kinds, batches.

The columns are the ones ``pandas.read_parquet`` gives (index columns left out),
with the dtypes pandas would give them; their kinds come from the Arrow types
(text and dictionaries → categorical, booleans, timestamps and dates → datetime,
numbers and durations → numeric, nulls → empty; nested types are refused). pyarrow
is imported here, when a file is first opened.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mlnb.data import kinds
from mlnb.data.stream_columns import CountedColumn, NumericColumn
from mlnb.exceptions import DataError, EmptyDataError, MissingDependencyError

Column = NumericColumn | CountedColumn


class ParquetSource:
    """One Parquet file: its data columns, their kinds and dtypes, and batched reads."""

    def __init__(self, path: str | os.PathLike[str], what: str) -> None:
        pq = _parquet()
        self.path, self.what = str(path), what
        if not Path(self.path).is_file():
            raise DataError(f"there is no file {self.path}.")
        try:
            self.file = pq.ParquetFile(self.path)
            empty = self.file.schema_arrow.empty_table().to_pandas()
        except (OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"could not read {self.path} as parquet: {first}") from None
        self.rows = int(self.file.metadata.num_rows)
        schema = self.file.schema_arrow
        self.names = [str(name) for name in empty.columns]
        self.dtypes = {str(name): str(dtype) for name, dtype in empty.dtypes.items()}
        self.types = {name: schema.field(name).type for name in self.names}
        if not self.names:
            raise EmptyDataError(f"{what} ({self.path})", "has no columns")
        if self.rows == 0:
            raise EmptyDataError(
                f"{what} ({self.path})", f"has no rows (its {len(self.names)} columns are empty)"
            )
        self.kinds = {name: _kind(name, self.types[name], self.path) for name in self.names}

    def sample_rows(self, size: int, seed: int) -> np.ndarray:
        """``size`` row numbers drawn uniformly without replacement, sorted (every row if fewer)."""
        if self.rows <= size:
            return np.arange(self.rows, dtype=np.int64)
        return np.sort(np.random.default_rng(seed).choice(self.rows, size, replace=False))

    def column(self, name: str, sample: np.ndarray, bins: int) -> Column:
        """Empty sketches for one column."""
        kind = self.kinds[name]
        if kind in kinds.COUNTED_KINDS or kind == kinds.EMPTY:
            return CountedColumn(name, kind, self.dtypes[name])
        edges = self._histogram_edges(name, bins) if kind == kinds.NUMERIC else None
        return NumericColumn(name, kind, self.dtypes[name], sample, histogram_edges=edges)

    def _histogram_edges(self, name: str, bins: int) -> np.ndarray | None:
        """Equal-width edges between the column's finite minimum and maximum, from the row
        groups' statistics (None when a row group has none: the sketch gives the histogram)."""
        metadata = self.file.metadata
        leaves = [metadata.schema.column(k).path for k in range(metadata.num_columns)]
        if name not in leaves:
            return None
        index = leaves.index(name)
        low, high = np.inf, -np.inf
        for group in range(metadata.num_row_groups):
            chunk = metadata.row_group(group)
            stats = chunk.column(index).statistics
            if stats is not None and stats.null_count == chunk.num_rows:
                continue
            if stats is None or not stats.has_min_max:
                return None
            low, high = min(low, float(stats.min)), max(high, float(stats.max))
        if not (np.isfinite(low) and np.isfinite(high)):
            return None
        return np.linspace(low, high, bins + 1) if high > low else np.array([low, low])

    def batches(self, names: list[str], batch_rows: int) -> Iterator[Any]:
        """Record batches of the given columns, ``batch_rows`` rows each (the last fewer)."""
        return self.file.iter_batches(batch_size=batch_rows, columns=names, use_threads=True)


def _parquet() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError(
            "pyarrow", "streaming Parquet files (mlnb.data.stream)"
        ) from None
    return pq


def _kind(name: str, arrow_type: Any, path: str) -> str:
    import pyarrow as pa

    types = pa.types
    if (
        types.is_dictionary(arrow_type)
        or types.is_string(arrow_type)
        or types.is_large_string(arrow_type)
    ):
        return kinds.CATEGORICAL
    if types.is_boolean(arrow_type):
        return kinds.BOOLEAN
    if types.is_timestamp(arrow_type) or types.is_date(arrow_type):
        return kinds.DATETIME
    if (
        types.is_integer(arrow_type)
        or types.is_floating(arrow_type)
        or types.is_duration(arrow_type)
        or types.is_decimal(arrow_type)  # read as float64, as pandas' float() of a Decimal
    ):
        return kinds.NUMERIC
    if types.is_null(arrow_type):
        return kinds.EMPTY
    raise DataError(
        f"column {name!r} of {path} holds {arrow_type} values, which cannot be streamed — "
        "read the file into a DataFrame instead (drop --stream)."
    )
