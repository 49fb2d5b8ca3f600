"""Compare two numeric columns at the precision of the narrower one.

The same float32 data saved as Parquet (read back as float32: ``0.1`` is
0.100000001490116) and as CSV (read back as float64: ``0.1`` is 0.1) would otherwise
differ in every value, and a column whose values repeat (prices, ratings, rounded
measurements) would move whole ties across the reference's bin edges: "drift" on
identical data, by every test. :func:`at_common_precision` rounds the wider side's
values to the narrower float type before binning and testing, so both sides hold
exactly the numbers the narrower type can hold.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from pandas.api.types import pandas_dtype

from mlnb.data import kinds
from mlnb.data.column_profile import ColumnProfile


def float_type(dtype: str | None) -> np.dtype | None:
    """The numpy float type a dtype written as text stores (``"Float32"``,
    ``"float[pyarrow]"`` → float32), or None for anything that is not a float."""
    if not dtype:
        return None
    try:
        found = pandas_dtype(dtype)
    except (TypeError, ValueError, ImportError):
        return None
    numpy_type = found if isinstance(found, np.dtype) else getattr(found, "numpy_dtype", None)
    return numpy_type if isinstance(numpy_type, np.dtype) and numpy_type.kind == "f" else None


def narrowest_float(*dtypes: str | None) -> np.dtype | None:
    """The narrowest float type among ``dtypes`` when it is narrower than float64, else None."""
    widths = [w for w in (float_type(d) for d in dtypes) if w is not None]
    narrow = min(widths, key=lambda w: w.itemsize, default=None)
    return narrow if narrow is not None and narrow.itemsize < 8 else None


def rounded_to(values: np.ndarray, narrow: np.dtype) -> np.ndarray:
    """``values`` rounded to the float type ``narrow``, back in float64 (monotone: sorted
    arrays stay sorted; values beyond its range become infinite, as it stores them)."""
    with np.errstate(over="ignore"):
        return np.asarray(values, dtype=np.float64).astype(narrow).astype(np.float64)


def at_common_precision(
    ref: ColumnProfile, cur: ColumnProfile
) -> tuple[ColumnProfile, ColumnProfile, str | None]:
    """``ref`` and ``cur``, the side with more precision rounded to the other's float type.

    Returns:
        The two profiles (copies where rounded; the originals are left as they are) and
        a note naming the rounding, or None when nothing was rounded.
    """
    if ref.kind != kinds.NUMERIC or cur.kind != kinds.NUMERIC:
        return ref, cur, None
    narrow = narrowest_float(ref.dtype, cur.dtype)
    if narrow is None:
        return ref, cur, None
    widths = [float_type(side.dtype) for side in (ref, cur)]
    rounded = []
    for side, width in zip((ref, cur), widths, strict=True):
        if width is not None and width.itemsize == narrow.itemsize:
            rounded.append(side)
        else:
            rounded.append(_rounded(side, narrow))
    if rounded[0] is ref and rounded[1] is cur:
        return ref, cur, None
    which = "current data" if rounded[1] is not cur else "reference"
    note = (
        f"compared at {narrow.name} precision: the {which}'s values were rounded to "
        f"{narrow.name}, as the other side stores them."
    )
    return rounded[0], rounded[1], note


def _rounded(side: ColumnProfile, narrow: np.dtype) -> ColumnProfile:
    """A copy of ``side`` whose values, sample, sketch and range are rounded to ``narrow``
    (rounding keeps sorted arrays sorted)."""

    def cast(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else rounded_to(values, narrow)

    def cast_one(value: float | None) -> float | None:
        return None if value is None else float(rounded_to(np.array([value]), narrow)[0])

    return dataclasses.replace(
        side,
        values=cast(side.values),
        test_sample=cast(side.test_sample),
        sketch_values=cast(side.sketch_values),
        min=cast_one(side.min),
        max=cast_one(side.max),
    )
