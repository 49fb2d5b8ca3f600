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
        return _datetimes(name, series, rows)
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


def _datetimes(name: str, series: pd.Series, rows: int, note: str | None = None) -> ColumnValues:
    dtype = str(series.dtype)
    if getattr(series.dtype, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    values = series.to_numpy()  # datetime64 in the column's own unit: never wraps around
    present = ~np.isnat(values)
    numbers, outside = datetimes_as_ns(values[present])
    if outside:
        precision = float(np.spacing(np.max(np.abs(numbers)))) / 1000
        extra = (
            f"column {name!r}: {outside:,} value{'s are' if outside != 1 else ' is'} outside pandas' nanosecond "
            f"range ({NS_RANGE_TEXT}); mlnb keeps every datetime as float64 nanoseconds since "
            f"1970 (within {precision:.2g} µs at these dates) and shows them as they are; no date was changed."
        )
        note = f"{note} {extra}" if note else extra
    return ColumnValues(DATETIME, dtype, rows, rows - len(numbers), numbers=numbers, note=note)


#: the datetimes a pandas ``datetime64[ns]`` column can hold
NS_RANGE_TEXT = "1677-09-21 … 2262-04-11"
_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def datetimes_as_ns(values: np.ndarray) -> tuple[np.ndarray, int]:
    """``datetime64`` values (any unit, no NaT) as float64 nanoseconds since 1970, and how
    many of them lie outside the ``datetime64[ns]`` range.

    The values are read in their own unit and scaled in floating point, so a date such
    as 9999-12-31 is kept (exact for whole days, within microseconds otherwise) instead
    of wrapping around the int64 nanosecond range as ``astype("datetime64[ns]")`` does.
    """
    unit, step = np.datetime_data(values.dtype)
    per_unit = _NS_PER_UNIT.get(unit)
    if per_unit is None:  # numpy-only units ("D", "m", "h"): convert to seconds first
        values = values.astype("datetime64[s]")
        per_unit = _NS_PER_UNIT["s"]
    else:
        per_unit *= step
    ints = values.view("int64")
    limit = np.iinfo(np.int64).max // per_unit
    outside = int(np.count_nonzero((ints > limit) | (ints < -limit)))
    return ints.astype("float64") * float(per_unit), outside


def format_datetime(value: float, rounding: str = "nearest") -> str:
    """Float nanoseconds since 1970 as a timestamp text, also outside the nanosecond range.

    Inside it, the text is ``str(pd.Timestamp(...))``; outside it (where float64 holds
    microseconds at best), the same layout to the microsecond — rounded to the nearest,
    or ``"floor"``/``"ceil"`` for schema bounds that must keep the value inside — so
    9999-12-31 never reads as 1816-03-29.
    """
    whole = int(value)
    if _NS_MIN < whole < _NS_MAX:
        return str(pd.Timestamp(whole))
    if rounding == "floor":
        micros = whole // 1000
    elif rounding == "ceil":
        micros = -(-whole // 1000)
    else:
        micros = (whole + 500) // 1000
    seconds, fraction = divmod(micros, 1_000_000)
    text = str(np.datetime64(seconds, "s")).replace("T", " ")
    return text + (f".{fraction:06d}" if fraction else "")


_NS_MIN, _NS_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)


def iso_datetime(value: float, rounding: str = "nearest") -> str:
    """Float nanoseconds since 1970 as ISO 8601 text (see :func:`format_datetime`)."""
    return format_datetime(value, rounding).replace(" ", "T")


def integer_dtype(name: str | None) -> bool:
    """Whether a dtype written as text (``"int64"``, ``"Int32"``, ``"uint8[pyarrow]"``) holds integers."""
    if not name:
        return False
    try:
        return bool(ptypes.is_integer_dtype(pd.api.types.pandas_dtype(name)))
    except (TypeError, ValueError, ImportError):
        return False


def parse_datetime(text: str) -> float:
    """ISO 8601 text (a schema bound) as float nanoseconds since 1970 UTC, any year pandas reads."""
    stamp = pd.Timestamp(text)
    if stamp.tz is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    numbers, _ = datetimes_as_ns(np.array([stamp.to_datetime64()]))
    return float(numbers[0])


def _counted(kind: str, series: pd.Series, rows: int, note: str | None = None) -> ColumnValues:
    counts = series.value_counts(dropna=True, sort=True)
    if isinstance(series.dtype, pd.CategoricalDtype):
        counts = counts[counts > 0]  # categories that never occur
    counts.index = counts.index.astype(str)
    if counts.index.has_duplicates:  # categories 1 and "1": one value as text
        counts = (
            counts.groupby(level=0, sort=False).sum().sort_values(ascending=False, kind="stable")
        )
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
        lost = int(converted.isna().sum() - series.isna().sum())
        note = (
            f"column {name!r}: {lost:,} value{'s' if lost != 1 else ''} could not be read as "
            "datetimes and count as missing."
            if lost > 0
            else None
        )
        found = _datetimes(name, converted, rows, note)
        found.dtype = dtype
        return found
    if kind == MIXED:
        present = series.dropna()
        found = _counted(MIXED, present.astype(str), rows)
        found.missing = rows - len(present)
        found.dtype = dtype
        names = _type_names(present)
        found.note = (
            f"column {name!r} mixes value types ({', '.join(names)}); its values are compared as text."
            if len(names) > 1
            else f"column {name!r} holds {names[0]} values{_sampled(len(present))}; they are "
            "counted and compared as text."
        )
        return found
    found = _counted(kind, series, rows)
    found.dtype = dtype
    return found


def _sampled(count: int) -> str:
    """How much of a column :func:`_type_names` looked at, when not all of it."""
    return "" if count <= _TYPE_SAMPLE else f" (in its first {_TYPE_SAMPLE:,})"


def _type_names(present: pd.Series) -> list[str]:
    """The Python types among the first few thousand values, in order of appearance."""
    sample = present.iloc[:_TYPE_SAMPLE].to_numpy(dtype=object)
    return list(dict.fromkeys(type(value).__name__ for value in sample))
