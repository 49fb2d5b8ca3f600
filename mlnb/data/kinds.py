"""What kind of column this is, and its non-missing values in a form we can count.

A column is one of six kinds:

* ``numeric``: integers, floats (and timedeltas, in seconds), summarised by
  quantiles and binned distributions;
* ``datetime``: datetimes, handled as numbers (nanoseconds since 1970, UTC);
* ``boolean``, ``categorical``: counted by value, values compared as text;
* ``mixed``: an object column holding values of several types (``1``, ``"a"``,
  ``2.5``); counted by value as text, and said so;
* ``empty``: an object column whose every value is missing.

Object columns are classified with :func:`pandas.api.types.infer_dtype` (a single
pass in C), never by a Python loop over the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

NUMERIC = "numeric"
DATETIME = "datetime"
BOOLEAN = "boolean"
CATEGORICAL = "categorical"
MIXED = "mixed"
EMPTY = "empty"
KINDS = (NUMERIC, DATETIME, BOOLEAN, CATEGORICAL, MIXED, EMPTY)
#: kinds whose values are compared by their frequencies
COUNTED_KINDS = (BOOLEAN, CATEGORICAL, MIXED)
#: kinds whose values are compared by their binned distribution
NUMBER_KINDS = (NUMERIC, DATETIME)

_OBJECT_ROUTES = {
    "string": CATEGORICAL,
    "bytes": CATEGORICAL,
    "categorical": CATEGORICAL,
    "period": CATEGORICAL,
    "interval": CATEGORICAL,
    "time": CATEGORICAL,
    "integer": NUMERIC,
    "floating": NUMERIC,
    "mixed-integer-float": NUMERIC,
    "decimal": NUMERIC,
    "timedelta": NUMERIC,
    "timedelta64": NUMERIC,
    "boolean": BOOLEAN,
    "datetime": DATETIME,
    "datetime64": DATETIME,
    "date": DATETIME,
    "empty": EMPTY,
}
_TYPE_SAMPLE = 2000


@dataclass
class ColumnValues:
    """One column's kind and its non-missing values, ready to summarise.

    Attributes:
        kind: one of :data:`KINDS`.
        dtype: the pandas dtype the column had, as text.
        rows: number of rows, missing ones included.
        missing: number of missing values (NaN, None, NaT, pd.NA).
        numbers: for numeric and datetime columns, the non-missing values as float64.
        counts: for boolean, categorical and mixed columns, how often each
            non-missing value occurs, indexed by the value as text, most frequent first.
        note: one sentence about something the user should know, or None.
    """

    kind: str
    dtype: str
    rows: int
    missing: int
    numbers: np.ndarray | None = None
    counts: pd.Series | None = None
    note: str | None = None


def column_values(name: str, series: pd.Series) -> ColumnValues:
    """Classify ``series`` and extract its non-missing values (see the module docstring)."""
    dtype = series.dtype
    rows = len(series)
    if ptypes.is_bool_dtype(dtype):
        return _counted(BOOLEAN, series, rows)
    if isinstance(dtype, pd.CategoricalDtype):
        return _counted(CATEGORICAL, series, rows)
    if ptypes.is_datetime64_any_dtype(dtype):
        return _datetimes(series, rows)
    if ptypes.is_timedelta64_dtype(dtype):
        return _numbers(series.dt.total_seconds(), rows, str(dtype))
    if ptypes.is_numeric_dtype(dtype) and not ptypes.is_complex_dtype(dtype):
        return _numbers(series, rows, str(dtype))
    if ptypes.is_string_dtype(dtype) and not ptypes.is_object_dtype(dtype):
        return _counted(CATEGORICAL, series, rows)
    return _objects(name, series, rows)


def _numbers(series: pd.Series, rows: int, dtype: str) -> ColumnValues:
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    present = ~np.isnan(values)
    numbers = values[present] if not present.all() else values
    return ColumnValues(NUMERIC, dtype, rows, rows - len(numbers), numbers=numbers)


def _datetimes(series: pd.Series, rows: int) -> ColumnValues:
    dtype = str(series.dtype)
    if getattr(series.dtype, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    values = series.to_numpy(dtype="datetime64[ns]")
    present = ~np.isnat(values)
    numbers = values[present].astype("int64").astype("float64")
    return ColumnValues(DATETIME, dtype, rows, rows - len(numbers), numbers=numbers)


def _counted(kind: str, series: pd.Series, rows: int, note: str | None = None) -> ColumnValues:
    counts = series.value_counts(dropna=True, sort=True)
    if isinstance(series.dtype, pd.CategoricalDtype):
        counts = counts[counts > 0]  # categories that never occur
    counts.index = counts.index.astype(str)
    counts = counts.astype("int64")
    missing = rows - int(counts.sum())
    return ColumnValues(kind, str(series.dtype), rows, missing, counts=counts, note=note)


def _objects(name: str, series: pd.Series, rows: int) -> ColumnValues:
    inferred = ptypes.infer_dtype(series, skipna=True)
    kind = _OBJECT_ROUTES.get(inferred, MIXED)
    dtype = str(series.dtype)
    if kind == EMPTY:
        missing = int(series.isna().sum())
        return ColumnValues(EMPTY, dtype, rows, missing)
    if kind == NUMERIC:
        if inferred.startswith("timedelta"):
            return _numbers(pd.to_timedelta(series).dt.total_seconds(), rows, dtype)
        return _numbers(pd.to_numeric(series, errors="coerce"), rows, dtype)
    if kind == DATETIME:
        converted = pd.to_datetime(series, errors="coerce", utc=True)
        found = _datetimes(converted, rows)
        found.dtype = dtype
        return found
    if kind == MIXED:
        present = series.dropna()
        found = _counted(MIXED, present.astype(str), rows)
        found.missing = rows - len(present)
        found.dtype = dtype
        found.note = (
            f"column {name!r} mixes value types ({', '.join(_type_names(present))}); "
            "its values are compared as text."
        )
        return found
    found = _counted(kind, series, rows)
    found.dtype = dtype
    return found


def _type_names(present: pd.Series) -> list[str]:
    """The Python types among the first few thousand values, in order of appearance."""
    sample = present.iloc[:_TYPE_SAMPLE].to_numpy(dtype=object)
    return list(dict.fromkeys(type(value).__name__ for value in sample))
