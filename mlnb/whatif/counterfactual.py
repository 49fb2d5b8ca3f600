"""The nearest row whose prediction is different: WIT's nearest counterfactual.

Distance is L1 or L2 over the features: a numeric difference is divided by that
column's standard deviation (so units don't matter), a mismatched category or
boolean counts 1, and features the user fixes (age, sex, ...) must match exactly.
For classification "different" means another predicted class; for regression, a
prediction further than ``threshold`` away (default: one standard deviation of all
predictions, as WIT does).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlnb.exceptions import WhatIfError
from mlnb.whatif.features import NUMERIC, Feature

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

METRICS = ("l1", "l2")


@dataclass(frozen=True)
class Counterfactual:
    """The closest row with a different prediction.

    Attributes:
        index: the row's index label in the data.
        position: the row's position in the data.
        distance: its distance from the query point.
        prediction: its prediction (class name or value).
        query_prediction: the query point's prediction (class name or value).
        differences: ``(feature, query value, counterfactual value)`` for every
            feature that differs, nearest first in column order.
        row: the counterfactual row's feature values.
    """

    index: Any
    position: int
    distance: float
    prediction: Any
    query_prediction: Any
    differences: tuple[tuple[str, Any, Any], ...]
    row: pd.Series

    @property
    def changed_features(self) -> list[str]:
        """Names of the features that differ from the query point."""
        return [name for name, _, _ in self.differences]


def distances(
    frame: pd.DataFrame,
    query: pd.Series,
    features: Sequence[Feature],
    metric: str = "l1",
) -> np.ndarray:
    """Distance of every row of ``frame`` from ``query`` (one value per row).

    Numeric columns are scaled by their standard deviation (a constant column adds
    nothing); a categorical or boolean mismatch adds 1; NaN against a number adds
    1 and NaN against NaN adds 0.
    """
    if metric not in METRICS:
        raise WhatIfError(f"metric must be 'l1' or 'l2', got {metric!r}.")
    total = np.zeros(len(frame))
    for feature in features:
        column = frame[feature.name]
        value = query[feature.name]
        if feature.kind == NUMERIC:
            gap = _numeric_gap(np.asarray(column, dtype=float), _as_float(value), feature.std)
        else:
            gap = (~_equal(column, value)).astype(float)
        total += gap if metric == "l1" else gap**2
    return total if metric == "l1" else np.sqrt(total)


def nearest_counterfactual(
    frame: pd.DataFrame,
    predictions: np.ndarray,
    query: pd.Series,
    query_prediction: Any,
    features: Sequence[Feature],
    *,
    metric: str = "l1",
    fixed: Iterable[str] = (),
    threshold: float | None = None,
    regression: bool = False,
    exclude_position: int | None = None,
) -> Counterfactual | None:
    """Find the row of ``frame`` nearest to ``query`` whose prediction differs.

    Args:
        frame: candidate rows (the data's features).
        predictions: each row's predicted class (classification) or value (regression).
        query: the point to explain (a data row or an edited one).
        query_prediction: its predicted class or value.
        features: the features distances are computed over.
        metric: ``"l1"`` or ``"l2"``.
        fixed: feature names whose value must equal the query's.
        threshold: regression only — how far a prediction must be to count as
            different; default one standard deviation of ``predictions``.
        regression: whether predictions are values rather than classes.
        exclude_position: the position (0-based, not the index label) of a row never
            to return: the query's own row. Index labels may repeat (``pd.concat``
            without ``ignore_index``), so excluding by label could skip other rows.

    Returns:
        The nearest :class:`Counterfactual`, or None when no row qualifies.
    """
    predictions = np.asarray(predictions)
    if len(predictions) != len(frame):
        raise WhatIfError(
            f"got {len(predictions)} predictions for {len(frame)} rows; pass one per row."
        )
    names = {f.name for f in features}
    fixed = list(fixed)
    unknown = [f for f in fixed if f not in names]
    if unknown:
        raise WhatIfError(f"fixed features {unknown} are not features of the data.")
    if regression:
        if threshold is None:
            threshold = float(np.std(predictions.astype(float)))
        different = np.abs(predictions.astype(float) - float(query_prediction)) > threshold
    else:
        different = predictions != query_prediction
    allowed = different.copy()
    for name in fixed:
        allowed &= _equal(frame[name], query[name])
    if exclude_position is not None:
        if not 0 <= exclude_position < len(frame):
            raise WhatIfError(
                f"exclude_position must be from 0 to {len(frame) - 1}, got {exclude_position}."
            )
        allowed[int(exclude_position)] = False
    if not allowed.any():
        return None
    dist = distances(frame, query, features, metric)
    dist = np.where(allowed, dist, np.inf)
    position = int(np.argmin(dist))
    row = frame.iloc[position]
    differences = tuple(
        (f.name, query[f.name], row[f.name])
        for f in features
        if not bool(_equal(frame[f.name].iloc[position : position + 1], query[f.name])[0])
    )
    return Counterfactual(
        index=frame.index[position],
        position=position,
        distance=float(dist[position]),
        prediction=predictions[position],
        query_prediction=query_prediction,
        differences=differences,
        row=row,
    )


def regression_threshold(predictions: np.ndarray) -> float:
    """WIT's default: one standard deviation of the predictions."""
    return float(np.std(np.asarray(predictions, dtype=float)))


def _numeric_gap(values: np.ndarray, value: float, std: float) -> np.ndarray:
    missing = np.isnan(values)
    if np.isnan(value):
        return (~missing).astype(float)
    gap = np.abs(values - value) / std if std > 0 else np.zeros_like(values)
    return np.where(missing, 1.0, gap)


def _equal(column: pd.Series, value: Any) -> np.ndarray:
    """Elementwise equality where NaN equals NaN."""
    if _is_nan(value):
        return np.asarray(column.isna())
    # a nullable column (boolean, Int64, string) compares to NA where a value is missing
    result = (column == value).to_numpy(dtype=bool, na_value=False)
    return result & ~np.asarray(column.isna())


def _is_nan(value: Any) -> bool:
    """True for a missing scalar: None, NaN, NaT or pandas' NA."""
    import pandas as pd

    missing = pd.isna(value)
    return bool(missing) if isinstance(missing, (bool, np.bool_)) else False


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
