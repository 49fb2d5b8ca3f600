"""What kind each feature is, the range the model saw, and warnings for edited values.

The explorer needs, per column: which widget to show (slider, dropdown, checkbox),
the range of that widget, whether it can be edited at all (a constant or all-NaN
column cannot), the standard deviation that scales counterfactual distances, and
what the model saw in training, so an edit outside that range or an unseen
category is flagged while the user edits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

NUMERIC = "numeric"
CATEGORICAL = "categorical"
BOOLEAN = "boolean"


@dataclass(frozen=True)
class Feature:
    """One column of the data, as the explorer edits it.

    Attributes:
        name: the column name.
        kind: ``"numeric"``, ``"categorical"`` or ``"boolean"``.
        low: smallest observed value (numeric; None when every value is NaN).
        high: largest observed value (numeric; None when every value is NaN).
        std: standard deviation of the observed values (numeric; 0 for a constant column).
        categories: observed values, sorted (categorical and boolean).
        train_low: smallest value the model was trained on (numeric).
        train_high: largest value the model was trained on (numeric).
        known_categories: categories the model saw in training, or None when unknown.
        disabled_reason: why the column cannot be edited (constant, all NaN), else None.
    """

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    std: float = 0.0
    categories: tuple[Any, ...] = ()
    train_low: float | None = None
    train_high: float | None = None
    known_categories: tuple[Any, ...] | None = None
    disabled_reason: str | None = None

    @property
    def editable(self) -> bool:
        """Whether the explorer offers a live widget for this column."""
        return self.disabled_reason is None


def is_categorical_dtype(series: pd.Series) -> bool:
    """True for object, string and category columns (what gets a dropdown)."""
    import pandas as pd

    return (
        isinstance(series.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(series.dtype)
        or pd.api.types.is_string_dtype(series.dtype)
    )


def describe_features(
    frame: pd.DataFrame,
    *,
    categorical: Iterable[str] = (),
    train: pd.DataFrame | None = None,
    model_categories: Mapping[str, Sequence[Any]] | None = None,
) -> list[Feature]:
    """Describe every column of ``frame`` for the explorer.

    Args:
        frame: the data the user explores (features only).
        categorical: columns to treat as categorical even when numeric.
        train: the data the model was trained on; its range is the "training range".
            Defaults to ``frame`` itself.
        model_categories: per column, the categories the model's encoder saw
            (see :func:`mlnb.whatif.features.encoder_categories`).

    Returns:
        One :class:`Feature` per column, in column order.
    """
    import pandas as pd

    forced = set(categorical)
    reference = frame if train is None else train
    known = dict(model_categories or {})
    features = []
    for name in frame.columns:
        column = frame[name]
        ref = reference[name] if name in reference.columns else column
        has_train = train is not None and name in train.columns
        if pd.api.types.is_bool_dtype(column.dtype):
            features.append(_boolean(str(name), column))
        elif _is_dated(column):
            features.append(_dated(str(name)))
        elif name in forced or is_categorical_dtype(column):
            features.append(
                _categorical(str(name), column, ref if has_train else None, known.get(name))
            )
        else:
            features.append(_numeric(str(name), column, ref))
    return features


def _boolean(name: str, column: pd.Series) -> Feature:
    values = tuple(sorted({bool(v) for v in column.dropna()}))
    reason = _constant_reason(column, values)
    return Feature(name, BOOLEAN, categories=values, disabled_reason=reason)


def _is_dated(column: pd.Series) -> bool:
    import pandas as pd

    dtype = column.dtype
    return (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype)
    )


def _dated(name: str) -> Feature:
    """A date/time column: passed to the model as it is, compared as a category, not edited."""
    reason = f"{name!r} holds dates or times, which the editor cannot vary"
    return Feature(name, CATEGORICAL, disabled_reason=reason)


def _categorical(
    name: str, column: pd.Series, reference: pd.Series | None, known: Sequence[Any] | None
) -> Feature:
    import pandas as pd

    values = _sorted_unique(column)
    if known is None and reference is not None:
        known = _sorted_unique(reference)
    if len(values) == 1 and known is not None and len(known) > 1:  # offer what the model saw
        values = _sorted_unique(pd.Series([*known, *values]))
    reason = _constant_reason(column, values)
    known_tuple = tuple(known) if known is not None else None
    return Feature(
        name, CATEGORICAL, categories=values, known_categories=known_tuple, disabled_reason=reason
    )


def _numeric(name: str, column: pd.Series, reference: pd.Series) -> Feature:
    values = np.asarray(column, dtype=float)
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return Feature(name, NUMERIC, disabled_reason=f"every value of {name!r} is missing (NaN)")
    ref = np.asarray(reference, dtype=float)
    ref = ref[~np.isnan(ref)]
    if ref.size == 0:
        ref = finite
    low, high = float(finite.min()), float(finite.max())
    reason = None
    if low == high and ref.min() < ref.max():  # one value here, a range in training: offer it
        low, high = min(low, float(ref.min())), max(high, float(ref.max()))
    elif low == high:
        reason = f"{name!r} is constant (every row is {_short(low)}), so there is nothing to vary"
    return Feature(
        name,
        NUMERIC,
        low=low,
        high=high,
        std=float(finite.std()),
        train_low=float(ref.min()),
        train_high=float(ref.max()),
        disabled_reason=reason,
    )


def _sorted_unique(column: pd.Series) -> tuple[Any, ...]:
    values = list(dict.fromkeys(column.dropna().tolist()))
    try:
        return tuple(sorted(values))
    except TypeError:  # mixed types: keep first-seen order
        return tuple(values)


def _constant_reason(column: pd.Series, values: tuple[Any, ...]) -> str | None:
    if not values:
        return f"every value of {column.name!r} is missing"
    if len(values) == 1:
        return (
            f"{column.name!r} is constant (every row is {values[0]!r}), so there is nothing to vary"
        )
    return None


def value_warnings(feature: Feature, value: Any) -> list[str]:
    """Sentences about an edited value the model may not handle well.

    A numeric value outside the range the model was trained on, or a category the
    model's encoder never saw, still gets a prediction — but an extrapolated one.
    """
    if feature.kind == NUMERIC:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return []
        low, high = feature.train_low, feature.train_high
        if low is not None and high is not None and not low <= float(value) <= high:
            return [
                f"{feature.name} = {_short(value)} is outside the training range "
                f"[{_short(low)}, {_short(high)}]; the prediction is an extrapolation."
            ]
        return []
    known = feature.known_categories
    if feature.kind == CATEGORICAL and known is not None and value not in known:
        seen = ", ".join(map(str, known[:8]))
        more = ", …" if len(known) > 8 else ""
        return [
            f"{feature.name} = {value!r} is a category the model never saw (it saw: {seen}{more})."
        ]
    return []


def _short(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return str(value)


def encoder_categories(model: Any) -> dict[str, tuple[Any, ...]]:
    """Per input column, the categories a fitted encoder inside ``model`` saw.

    Walks Pipelines, ColumnTransformers, FeatureUnions and search/meta estimators
    for fitted encoders (``OneHotEncoder``, ``OrdinalEncoder``, ...) that have both
    ``categories_`` and ``feature_names_in_``.
    """
    found: dict[str, tuple[Any, ...]] = {}
    for part in _walk(model, depth=0):
        cats = getattr(part, "categories_", None)
        names = getattr(part, "feature_names_in_", None)
        if cats is None or names is None or len(cats) != len(names):
            continue
        for name, values in zip(names, cats, strict=True):
            found[str(name)] = tuple(v for v in values if not _is_missing(v))
    return found


def _walk(obj: Any, depth: int) -> Iterator[Any]:
    yield obj
    if depth > 8:
        return
    children: list[Any] = [step for _, step in getattr(obj, "steps", None) or []]
    children += [item[1] for item in getattr(obj, "transformers_", None) or []]
    children += [item[1] for item in getattr(obj, "transformer_list", None) or []]
    for attr in ("best_estimator_", "estimator_", "regressor_", "classifier_"):
        if getattr(obj, attr, None) is not None:
            children.append(getattr(obj, attr))
    for child in children:
        if hasattr(child, "get_params"):
            yield from _walk(child, depth + 1)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))
