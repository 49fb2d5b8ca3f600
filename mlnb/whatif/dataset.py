"""Turn what the user passed (DataFrame or array, target name or values) into feature rows.

The explorer always works on a DataFrame of features plus an optional target
Series. This module makes one from a DataFrame or a 2-D array, lines its columns
up with the names the model was fitted on (``feature_names_in_``), and says in one
sentence what does not fit: missing columns, a wrong number of columns, a target
of the wrong length. Choices it makes for the user (naming array columns after
the model's features, leaving out columns the model never saw) become notes the
panel shows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mlnb.exceptions import FeatureMismatchError, WhatIfError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataclass
class PreparedData:
    """Feature rows and target the explorer works on.

    Attributes:
        features: one column per model feature, in the model's order.
        target: the true labels or values, aligned with ``features``, or None.
        notes: sentences about what was adapted, for the panel.
    """

    features: pd.DataFrame
    target: pd.Series | None
    notes: list[str] = field(default_factory=list)


def prepare_data(
    model: Any,
    data: Any,
    target: Any = None,
    *,
    features: Sequence[str] | None = None,
) -> PreparedData:
    """Build the feature frame and target for ``model`` from ``data``.

    Args:
        model: the model (only its ``feature_names_in_`` / ``n_features_in_`` are read).
        data: a DataFrame, or a 2-D array-like of feature rows.
        target: a column name of ``data``, or array-like of one label per row, or None.
        features: the columns to explore; default all columns except the target.

    Returns:
        The prepared features, target and notes.

    Raises:
        FeatureMismatchError: the data lacks columns the model was fitted on.
        WhatIfError: wrong number of columns, empty data, a target of the wrong length.
    """
    import pandas as pd

    notes: list[str] = []
    model_names = _model_feature_names(model)
    frame = _as_frame(data, model_names, features, notes)
    if len(frame) == 0:
        raise WhatIfError("the data has no rows; pass at least one row to explore.")
    target_series = None
    if isinstance(target, str) and target in frame.columns:
        target_series = frame[target]
        frame = frame.drop(columns=[target])
    elif target is not None:
        if isinstance(target, str):
            raise WhatIfError(
                f"target {target!r} is not a column of the data; pass a column name or one "
                "label per row."
            )
        values = target.to_numpy() if hasattr(target, "to_numpy") else np.asarray(target)
        if values.ndim != 1 or len(values) != len(frame):
            raise WhatIfError(
                f"the target has {len(values)} values but the data has {len(frame)} rows; "
                "pass one label per row."
            )
        target_series = pd.Series(values, index=frame.index, name=getattr(target, "name", None))
    if features is not None:
        missing = [f for f in features if f not in frame.columns]
        if missing:
            raise WhatIfError(f"features {missing} are not columns of the data.")
        frame = frame[list(features)]
    frame = _align_to_model(model, frame, model_names, notes)
    frame.columns = [str(c) for c in frame.columns]
    return PreparedData(frame, target_series, notes)


def encode_target(target: pd.Series, adapter: Any) -> np.ndarray:
    """True labels as class positions (classification) or floats (regression).

    A label matches a class by its value (``classes_``) or by its display name.

    Raises:
        WhatIfError: a label is none of the model's classes.
    """
    import pandas as pd

    if adapter.task == "regression":
        numbers = pd.to_numeric(target, errors="coerce")
        values = np.asarray(numbers.to_numpy(dtype=float, na_value=np.nan))
        missing = np.flatnonzero(np.isnan(values))
        if missing.size:  # NaN would turn every metric into NaN without a word
            raise WhatIfError(
                f"the target has {missing.size} missing or non-numeric value(s) (the first at "
                f"row {missing[0]}), so performance is off; fill or drop those rows."
            )
        return values
    lookup = {value: i for i, value in enumerate(adapter.class_values)}
    lookup.update({name: i for i, name in enumerate(adapter.classes)})
    # one lookup per distinct label, then a vectorised take: no Python loop over the rows
    inverse, uniques = pd.factorize(target, use_na_sentinel=False)
    unknown = [v for v in uniques if v not in lookup and str(v) not in lookup]
    if unknown:
        raise WhatIfError(
            f"the target holds {unknown[0]!r}, which is not one of the model's classes "
            f"({', '.join(adapter.classes)}), so performance is off."
        )
    codes = np.array([lookup[v] if v in lookup else lookup[str(v)] for v in uniques], dtype=int)
    return codes[np.asarray(inverse)]


def rows_where(column: pd.Series, value: Any) -> np.ndarray:
    """Positions where ``column`` equals ``value``.

    A number typed as text matches at the precision it was typed with — what the
    panel shows can be typed back: "14.67" finds every value that rounds to it
    (within ±0.005), "1235" every value within ±0.5, "1.235e+04" within ±5. Other
    values match by their text.
    """
    import pandas as pd

    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        tolerance = typed_tolerance(value)
        if tolerance is not None:
            number = float(_ascii_number(value)) if isinstance(value, str) else float(value)
            numbers = column.to_numpy(dtype=float)
            if tolerance == 0.0:  # a number from Python, not typed: equal up to float error
                return np.flatnonzero(np.isclose(numbers, number, rtol=1e-9, atol=0.0))
            # a relative epsilon so that 14.675 (stored as 14.67499…) still rounds to 14.67 or 14.68
            slack = tolerance * (1 + 1e-9) + abs(number) * 1e-12
            return np.flatnonzero(np.abs(numbers - number) <= slack)
    return np.flatnonzero(column.astype(str).to_numpy() == str(value).strip())


_NUMBER = re.compile(r"[+-]?(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?")


def typed_tolerance(value: Any) -> float | None:
    """Half a unit in the last digit of a number as typed ("14.67" → 0.005); None if not a number.

    A number that is not text (a float passed from Python) matches exactly (0.0).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return None if np.isnan(float(value)) else 0.0
    match = _NUMBER.fullmatch(_ascii_number(value))
    if match is None:
        return None
    decimals = len(match.group(2) or match.group(3) or "")
    exponent = int(match.group(4) or 0)
    return 0.5 * 10.0 ** (exponent - decimals)


def _ascii_number(value: Any) -> str:
    """Typed text with the minus sign the panel shows (U+2212) read as "-"."""
    return str(value).strip().replace("\u2212", "-")


def _model_feature_names(model: Any) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    return [str(n) for n in names] if names is not None else None


def _as_frame(
    data: Any, model_names: list[str] | None, features: Sequence[str] | None, notes: list[str]
) -> pd.DataFrame:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        # a new frame over the same values: pandas copies on write, so renaming or
        # selecting columns here never touches the user's frame, and 1M rows are not copied
        return data.copy(deep=False)
    if isinstance(data, pd.Series):
        return data.to_frame()
    values = np.asarray(data)
    if values.ndim != 2:
        raise WhatIfError(
            f"the data must be a DataFrame or a 2-D array of rows, got an array of shape {values.shape}."
        )
    width = values.shape[1]
    if model_names is not None:
        if len(model_names) != width:
            raise WhatIfError(
                f"the data is an array with {width} columns but the model was fitted on a "
                f"DataFrame with {len(model_names)} features; pass a DataFrame with its columns."
            )
        notes.append(
            "the model was fitted on a DataFrame but the data is an array, so its columns "
            "are named after the model's feature_names_in_."
        )
        names: Sequence[str] = model_names
    elif features is not None and len(features) == width:
        names = list(features)
    else:
        names = [f"x{i}" for i in range(width)]
    return pd.DataFrame(values, columns=list(names))


def _align_to_model(
    model: Any, frame: pd.DataFrame, model_names: list[str] | None, notes: list[str]
) -> pd.DataFrame:
    columns = [str(c) for c in frame.columns]
    if model_names is not None:
        missing = [n for n in model_names if n not in columns]
        extra = [c for c in columns if c not in model_names]
        if missing:
            raise FeatureMismatchError(missing, extra)
        if extra:
            notes.append(
                f"columns {', '.join(map(repr, extra))} are not features of the model and are left out."
            )
        frame.columns = columns
        return frame[model_names]
    expected = getattr(model, "n_features_in_", None)
    if expected is not None and not _is_torch(model):
        if int(expected) != frame.shape[1]:
            raise WhatIfError(
                f"the model was fitted on {int(expected)} features but the data has "
                f"{frame.shape[1]} columns."
            )
        if any(not c.startswith("x") or not c[1:].isdigit() for c in columns):
            notes.append(
                "the model was fitted on a NumPy array, so it is given the data's values "
                "without their column names."
            )
    return frame


def _is_torch(model: Any) -> bool:
    return type(model).__module__.startswith("torch")
