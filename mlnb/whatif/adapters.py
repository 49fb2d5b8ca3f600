"""Wrap any model — scikit-learn estimator, torch module, plain callable — as a ModelAdapter.

:func:`make_adapter` picks the way in: a scikit-learn model is read from its
``classes_`` / ``predict_proba`` / ``feature_names_in_``; a torch module gets a
batched, ``no_grad`` forward in eval mode; a callable is probed
(:mod:`~mlnb.whatif.output_probe`). The adapter itself and the task names live in
:mod:`~mlnb.whatif.model_adapter` and are re-exported here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mlnb.exceptions import WhatIfError
from mlnb.whatif.model_adapter import (
    BINARY,
    MULTICLASS,
    REGRESSION,
    SMALL_BATCH,
    TASKS,
    ModelAdapter,
    frame_to_input,
    to_numpy,
)
from mlnb.whatif.output_probe import class_names_for, probe_callable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "BINARY",
    "MULTICLASS",
    "REGRESSION",
    "SMALL_BATCH",
    "TASKS",
    "ModelAdapter",
    "frame_to_input",
    "make_adapter",
    "to_numpy",
]


def make_adapter(
    model: Any,
    frame: pd.DataFrame,
    *,
    predict: Callable[[Any], Any] | None = None,
    class_names: Sequence[Any] | Mapping[Any, str] | None = None,
    task: str | None = None,
    batch_size: int = 4096,
) -> ModelAdapter:
    """Wrap ``model`` so the explorer can predict any rows of ``frame``'s columns.

    Args:
        model: a fitted scikit-learn estimator or Pipeline, a torch ``nn.Module``, or
            any callable taking a 2-D batch and returning one value or one row of
            class scores per input row.
        frame: the feature data (its columns are the features the model is given).
        predict: a predict function to use instead of the model's own.
        class_names: display names of the classes, in the model's class order (a list)
            or by class label (a mapping).
        task: ``"regression"``, ``"binary"`` or ``"multiclass"``; detected when None.
        batch_size: rows per forward pass for torch modules.

    Returns:
        The adapter, with the task and class names it detected.
    """
    if task is not None and task not in TASKS:
        raise WhatIfError(f"task must be one of {', '.join(TASKS)}, got {task!r}.")
    columns = [str(c) for c in frame.columns]
    if predict is not None:
        kinds = ("frame", "array") if hasattr(model, "feature_names_in_") else None
        return probe_callable(predict, frame, columns, class_names, task, input_kinds=kinds)
    if _is_torch_module(model):
        return _torch_adapter(model, frame, columns, class_names, task, batch_size)
    if hasattr(model, "predict") and hasattr(model, "fit"):
        return _sklearn_adapter(model, columns, class_names, task)
    if callable(model):
        return probe_callable(model, frame, columns, class_names, task)
    raise WhatIfError(
        "the model must be a fitted scikit-learn estimator, a torch nn.Module or a function "
        f"taking a 2-D batch; got a {type(model).__name__}."
    )


def _is_torch_module(model: Any) -> bool:
    if "torch" not in sys.modules:
        return False
    import torch

    return isinstance(model, torch.nn.Module)


def _sklearn_adapter(
    model: Any, columns: list[str], class_names: Any, task: str | None
) -> ModelAdapter:
    notes: list[str] = []
    input_kind = "frame" if hasattr(model, "feature_names_in_") else "array"
    classes = getattr(model, "classes_", None)
    if task is None:
        task = _sklearn_task(model, classes)
    if task == REGRESSION:
        return ModelAdapter(model.predict, input_kind, columns, REGRESSION, notes=notes)
    if classes is None:
        raise WhatIfError(f"the classifier {type(model).__name__} has no classes_; is it fitted?")
    names = class_names_for(list(classes), class_names)
    transform = None
    if hasattr(model, "predict_proba"):
        raw = model.predict_proba
    else:
        notes.append(
            f"{type(model).__name__} has no predict_proba, so each prediction counts as "
            "probability 1 for the predicted class."
        )
        raw = model.predict
        transform = _one_hot(list(classes))
    kind = BINARY if len(classes) == 2 else MULTICLASS
    if transform is not None:
        encode = transform
        raw = lambda batch: encode(np.asarray(model.predict(batch)))  # noqa: E731
    return ModelAdapter(raw, input_kind, columns, kind, names, None, notes, list(classes))


def _sklearn_task(model: Any, classes: Any) -> str:
    try:
        from sklearn.base import is_classifier

        classifier = is_classifier(model)
    except ImportError:  # a duck-typed estimator without scikit-learn installed
        classifier = classes is not None
    if not classifier:
        return REGRESSION
    return BINARY if classes is not None and len(classes) == 2 else MULTICLASS


def _one_hot(classes: list[Any]) -> Callable[[np.ndarray], np.ndarray]:
    position = {c: i for i, c in enumerate(classes)}

    def encode(labels: np.ndarray) -> np.ndarray:
        scores = np.zeros((len(labels), len(classes)))
        scores[np.arange(len(labels)), [position[v] for v in labels]] = 1.0
        return scores

    return encode


def _torch_adapter(
    module: Any,
    frame: pd.DataFrame,
    columns: list[str],
    class_names: Any,
    task: str | None,
    batch_size: int,
) -> ModelAdapter:
    import torch

    from mlnb.whatif.features import is_categorical_dtype

    text = [c for c in frame.columns if is_categorical_dtype(frame[c])]
    if text:
        raise WhatIfError(
            f"a torch module needs numeric features, but {text[0]!r} holds text or categories "
            "— encode it first, or pass predict= with a function that does."
        )
    parameter = next(module.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    dtype = (
        parameter.dtype
        if parameter is not None and parameter.dtype.is_floating_point
        else torch.float32
    )

    def forward(batch: np.ndarray) -> np.ndarray:
        was_training = module.training
        module.eval()
        outputs = []
        try:
            with torch.no_grad():
                for chunk in _chunks(np.array(batch, dtype=float), batch_size):
                    tensor = torch.as_tensor(chunk, dtype=dtype, device=device)
                    outputs.append(module(tensor).detach().float().cpu().numpy())
        finally:
            module.train(was_training)
        return np.concatenate(outputs) if outputs else np.zeros((0,))

    return probe_callable(forward, frame, columns, class_names, task, input_kinds=("array",))


def _chunks(values: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
