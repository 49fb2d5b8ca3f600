"""Learn how to call a plain function, and what it returns, from a few rows.

A callable (or a torch module's forward) is tried on :data:`PROBE_ROWS` rows, first
with the input kind most likely to work; its output tells the task (one value per
row: regression or a binary score; one column per class: classification) and
whether scores need a sigmoid or a softmax to become probabilities. Every choice
made becomes a note the panel shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mlnb.exceptions import PredictError, PredictionShapeError, WhatIfError
from mlnb.whatif.model_adapter import BINARY, MULTICLASS, REGRESSION, ModelAdapter

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

PROBE_ROWS = 8


def probe_callable(
    fn: Callable[[Any], Any],
    frame: pd.DataFrame,
    columns: list[str],
    class_names: Any,
    task: str | None,
    input_kinds: Sequence[str] | None = None,
) -> ModelAdapter:
    """Call ``fn`` on a few rows to learn its input kind and the task from its output."""
    from mlnb.whatif.features import is_categorical_dtype

    if input_kinds is None:
        has_text = any(is_categorical_dtype(frame[c]) for c in frame.columns)
        input_kinds = ("frame", "array") if has_text else ("array", "frame")
    probe = frame.head(PROBE_ROWS)
    first_error: PredictError | None = None
    notes: list[str] = []
    for kind in input_kinds:
        adapter = ModelAdapter(fn, kind, columns)
        try:
            raw = adapter.call_raw(probe)
        except PredictError as exc:
            first_error = first_error or exc
            continue
        if first_error is not None:
            notes.append(
                f"predict failed on a {_kind_name(input_kinds[0])} "
                f"({type(first_error.error).__name__}: {first_error.error}) and works on a "
                f"{_kind_name(kind)}, so it is given {_kind_name(kind)}s."
            )
        return _from_probe(adapter, raw, len(probe), class_names, task, notes)
    assert first_error is not None
    raise first_error


def _kind_name(kind: str) -> str:
    return "DataFrame" if kind == "frame" else "NumPy array"


def _from_probe(
    adapter: ModelAdapter,
    raw: np.ndarray,
    n: int,
    class_names: Any,
    task: str | None,
    notes: list[str],
) -> ModelAdapter:
    expected = f"({n},) or ({n}, 1) — one value per row — or ({n}, k) — one score per class"
    if raw.ndim == 0 or raw.ndim > 2 or raw.shape[0] != n:
        raise PredictionShapeError(raw.shape, expected)
    width = 1 if raw.ndim == 1 else raw.shape[1]
    given = _listed_names(class_names)
    if task is None:
        if width > 1:
            task = BINARY if width == 2 else MULTICLASS
        else:
            task = BINARY if given is not None and len(given) == 2 else REGRESSION
    adapter.task = task
    adapter.notes = notes
    if task == REGRESSION:
        if width != 1:
            raise PredictionShapeError(raw.shape, f"({n},) — one value per row for regression")
        return adapter
    k = 2 if width == 1 else width
    keys = list(class_names) if isinstance(class_names, Mapping) else list(range(k))
    if len(keys) != k:
        keys = list(range(k))
    adapter.classes = class_names_for(keys, class_names)
    adapter.class_values = keys
    if width == 1:
        if np.nanmin(raw) < 0 or np.nanmax(raw) > 1:
            adapter.transform = _sigmoid
            notes.append("the model's single output is not a probability, so a sigmoid is applied.")
        return adapter
    if task == BINARY and width != 2:
        raise PredictionShapeError(raw.shape, f"({n},), ({n}, 1) or ({n}, 2) for a binary task")
    rows = raw.sum(axis=1)
    if np.nanmin(raw) < 0 or not np.allclose(rows, 1.0, atol=1e-3):
        adapter.transform = _softmax
        notes.append("the model's outputs do not sum to 1 per row, so a softmax is applied.")
    return adapter


def _listed_names(class_names: Any) -> list[str] | None:
    if class_names is None:
        return None
    if isinstance(class_names, Mapping):
        return [str(v) for v in class_names.values()]
    return [str(v) for v in class_names]


def class_names_for(classes: list[Any], class_names: Any) -> list[str]:
    if class_names is None:
        return [str(c) for c in classes]
    if isinstance(class_names, Mapping):
        return [str(class_names.get(c, c)) for c in classes]
    names = [str(n) for n in class_names]
    if len(names) != len(classes):
        raise WhatIfError(
            f"class_names has {len(names)} names but the model has {len(classes)} classes."
        )
    return names


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values.astype(float)))


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = values.astype(float) - values.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)
