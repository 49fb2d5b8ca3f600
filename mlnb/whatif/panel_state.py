"""What the what-if panel computes once, before any widget exists.

:func:`load_state` turns what the user passed (model, data, target, options) into
:class:`PanelState`: the feature frame and target, the model adapter, a description
of every feature, every row's prediction, the encoded target and the row sample the
sampled views use. Anything that fails becomes one sentence in the message area
(the panel still opens and says what is off), except options that name unknown
columns, which are refused at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mlnb.exceptions import MlnbError, WhatIfError
from mlnb.whatif.adapters import make_adapter
from mlnb.whatif.dataset import encode_target, prepare_data
from mlnb.whatif.features import Feature, describe_features, encoder_categories
from mlnb.whatif.messages import MessageArea, check_columns

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from mlnb.whatif.model_adapter import ModelAdapter


@dataclass
class PanelState:
    """The panel's data, model and precomputed predictions.

    Attributes:
        data: the feature rows (columns are str, in the model's order).
        target: the true labels or values, or None.
        adapter: the model behind one predict signature, or None when it could not be set up.
        features: one description per column.
        scores: every row's prediction, or None when predicting failed.
        y_true: the target encoded as class positions or floats, or None.
        sample_positions: sorted positions of the rows whose ICE curves and
            distributions are drawn (``sample_size`` of them).
        average_positions: positions of the rows the partial-dependence average is taken
            over: ``sample_positions`` first, then more rows, ``average_size`` in all.
        report: the message area holding what went wrong and what was chosen.
    """

    data: pd.DataFrame
    target: pd.Series | None
    adapter: ModelAdapter | None
    features: list[Feature]
    scores: np.ndarray | None
    y_true: np.ndarray | None
    sample_positions: np.ndarray
    average_positions: np.ndarray
    report: MessageArea = field(default_factory=MessageArea)


@dataclass(frozen=True)
class StateOptions:
    """The panel's options that shape its state (see :class:`~mlnb.whatif.explorer.WhatIf`)."""

    predict: Callable[[Any], Any] | None = None
    features: Sequence[str] | None = None
    categorical: Sequence[str] = ()
    fixed: Sequence[str] = ()
    class_names: Any = None
    task: str | None = None
    train_data: pd.DataFrame | None = None
    sample_size: int = 1000
    average_size: int = 10_000
    random_state: int = 0

    def __post_init__(self) -> None:
        for name in ("sample_size", "average_size"):
            size = getattr(self, name)
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise WhatIfError(f"{name} must be a whole number ≥ 1, got {size!r}.")


def load_state(model: Any, data: Any, target: Any, options: StateOptions) -> PanelState:
    """Prepare the data, wrap the model, describe the features and predict every row."""
    report = MessageArea()
    frame, target_series = _prepare(model, data, target, options.features, report)
    adapter = None if "setup" in report.errors else _make_adapter(model, frame, options, report)
    check_columns("categorical", list(options.categorical), frame)
    check_columns("fixed", list(options.fixed), frame)
    features = _describe(model, frame, options)
    report.notes.extend(
        f"{f.disabled_reason}; its widget is disabled." for f in features if not f.editable
    )
    scores = _predict_all(adapter, frame, report)
    y_true = _encode_target(target_series, adapter, report)
    sample, average = _draw_samples(len(frame), options, report)
    return PanelState(
        frame, target_series, adapter, features, scores, y_true, sample, average, report
    )


def _prepare(
    model: Any, data: Any, target: Any, features: Sequence[str] | None, report: MessageArea
) -> tuple[pd.DataFrame, pd.Series | None]:
    try:
        prepared = prepare_data(model, data, target, features=features)
    except WhatIfError as exc:
        prepared = prepare_data(None, data, target, features=features)
        report.errors["setup"] = str(exc)
    report.notes.extend(prepared.notes)
    return prepared.features, prepared.target


def _make_adapter(
    model: Any, frame: pd.DataFrame, options: StateOptions, report: MessageArea
) -> ModelAdapter | None:
    try:
        adapter = make_adapter(model, frame, predict=options.predict,
                               class_names=options.class_names, task=options.task)  # fmt: skip
    except MlnbError as exc:
        report.errors["setup"] = str(exc)
        return None
    report.notes.extend(adapter.notes)
    return adapter


def _describe(model: Any, frame: pd.DataFrame, options: StateOptions) -> list[Feature]:
    known = encoder_categories(model) if options.predict is None else {}
    train_data = options.train_data
    train = (
        train_data[[c for c in frame.columns if c in train_data.columns]]
        if train_data is not None
        else None
    )
    return describe_features(
        frame, categorical=list(options.categorical), train=train, model_categories=known
    )


def _predict_all(
    adapter: ModelAdapter | None, frame: pd.DataFrame, report: MessageArea
) -> np.ndarray | None:
    if adapter is None:
        return None
    try:
        scores = adapter.predict_in_chunks(frame)
    except MlnbError as exc:
        report.errors["all rows"] = (
            f"predicting every row failed, so counterfactuals and performance are off: {exc}"
        )
        return None
    finite = np.isfinite(scores) if scores.ndim == 1 else np.isfinite(scores).all(axis=1)
    bad = np.flatnonzero(~finite)
    if bad.size:  # NaN ≥ threshold is False: such rows would pass for the negative class
        report.notes.append(
            f"the model returned NaN or infinite scores for {bad.size:,} of {len(frame):,} rows "
            f"(the first at row {bad[0]}); the metrics include those rows (a NaN never reaches "
            "a threshold), so fix the model's output before trusting them."
        )
    return scores


def _encode_target(
    target: pd.Series | None, adapter: ModelAdapter | None, report: MessageArea
) -> np.ndarray | None:
    if target is None or adapter is None:
        return None
    try:
        return encode_target(target, adapter)
    except WhatIfError as exc:
        report.errors["target"] = str(exc)
        return None


def _draw_samples(
    n: int, options: StateOptions, report: MessageArea
) -> tuple[np.ndarray, np.ndarray]:
    """The ICE/distribution sample and the (larger) sample the PDP average is taken over."""
    ice_size = min(n, options.sample_size)
    average_size = min(n, max(options.average_size, ice_size))
    if average_size == n and ice_size == n:
        return np.arange(n), np.arange(n)
    order = np.random.default_rng(options.random_state).permutation(n)[:average_size]
    sample = np.sort(order[:ice_size])
    average = np.concatenate([sample, np.sort(order[ice_size:])])
    average_text = "every row" if average_size == n else f"a random sample of {average_size:,} rows"
    report.notes.append(
        f"the data has {n:,} rows: ICE curves and distributions use a random sample of "
        f"{ice_size:,} rows and the partial-dependence average {average_text} (tick "
        "“average over every row” for the exact one); predictions, counterfactuals and "
        "performance use every row."
    )
    return sample, average
