"""Turn what a user hands us into a DataFrame, or refuse with one sentence.

Every public function of :mod:`mlnb.data` starts here, so the rules are the same
everywhere: a DataFrame is used as is, a Series becomes a one-column frame, and a
numpy array is accepted with generated column names ``col_0``, ``col_1``, ... (a
1-D array is one column). Anything else, and frames with no rows or no columns,
raise an :class:`~mlnb.exceptions.MlnbError` subclass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlnb.exceptions import DataError, DataTypeError, EmptyDataError

GENERATED_PREFIX = "col_"


def as_frame(data: Any, *, what: str = "the data") -> pd.DataFrame:
    """Return ``data`` as a DataFrame with string column names.

    Args:
        data: a DataFrame, a Series, or a 1-D/2-D numpy array.
        what: how to name the data in an error message ("the reference", ...).

    Returns:
        The frame itself (not copied) when its column names are already strings,
        otherwise a shallow copy with the names turned into strings.

    Raises:
        DataTypeError: for any other type, or an array with more than 2 dimensions.
        EmptyDataError: for a frame with no rows or no columns.
    """
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, pd.Series):
        frame = data.to_frame(name=str(data.name) if data.name is not None else "value")
    elif isinstance(data, np.ndarray):
        if data.ndim == 1:
            data = data.reshape(-1, 1)
        elif data.ndim != 2:
            raise DataTypeError(what, f"a {data.ndim}-D numpy array")
        frame = pd.DataFrame(data, columns=[f"{GENERATED_PREFIX}{i}" for i in range(data.shape[1])])
    else:
        raise DataTypeError(what, f"a {type(data).__module__}.{type(data).__qualname__}")
    if frame.shape[1] == 0:
        raise EmptyDataError(what, "has no columns")
    if frame.shape[0] == 0:
        raise EmptyDataError(what, f"has no rows (its {frame.shape[1]} columns are empty)")
    if not all(isinstance(name, str) for name in frame.columns):
        frame = frame.set_axis([str(name) for name in frame.columns], axis=1)
    if frame.columns.has_duplicates:
        duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise DataError(
            f"{what} has duplicated column names ({', '.join(duplicated)}) — rename them so each column can be told apart."
        )
    return frame
