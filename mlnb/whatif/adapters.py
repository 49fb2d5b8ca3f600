"""One predict interface over scikit-learn estimators, torch modules and plain callables.

Every model becomes a :class:`ModelAdapter` whose :meth:`~ModelAdapter.predict`
takes a DataFrame of feature rows and returns, for regression, one value per row
``(n,)`` and, for classification, one probability per class ``(n, k)``. The adapter
decides whether the model gets a DataFrame (a model fitted on one, with
``feature_names_in_``) or a 2-D array, checks every output's shape, and turns any
exception the model raises into a one-sentence :class:`~mlnb.exceptions.PredictError`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mlnb.exceptions import PredictError, PredictionShapeError, WhatIfError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

REGRESSION = "regression"
BINARY = "binary"
MULTICLASS = "multiclass"
TASKS = (REGRESSION, BINARY, MULTICLASS)
_PROBE_ROWS = 8
# At most this many rows run single-threaded: spinning up OpenMP/BLAS threads costs
# more than a small batch's prediction (a one-row edit went from ~300 ms to ~3 ms for
# a HistGradientBoostingClassifier on a busy 2-core machine).
SMALL_BATCH = 256


@dataclass
class ModelAdapter:
    """A model behind one predict signature.

    Attributes:
        raw_predict: the model's own function, called with a DataFrame or an array.
        input_kind: ``"frame"`` or ``"array"`` — what ``raw_predict`` is given.
        columns: the feature columns, in the order the model expects them.
        task: ``"regression"``, ``"binary"`` or ``"multiclass"``.
        classes: display names of the classes (empty for regression).
        class_values: the labels the classes stand for (``classes_`` of a scikit-learn
            model; 0 … k-1 or the ``class_names`` keys otherwise), to read a target.
        transform: turns raw outputs into scores (softmax, sigmoid, one-hot) or None.
        notes: sentences about choices the adapter made, shown in the panel.
    """

    raw_predict: Callable[[Any], Any]
    input_kind: str
    columns: list[str]
    task: str = REGRESSION
    classes: list[str] = field(default_factory=list)
    transform: Callable[[np.ndarray], np.ndarray] | None = None
    notes: list[str] = field(default_factory=list)
    class_values: list[Any] = field(default_factory=list)
    _controller: Any = field(default=None, repr=False)

    @property
    def is_classifier(self) -> bool:
        """True for binary and multiclass tasks."""
        return self.task != REGRESSION

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Scores for every row: ``(n,)`` for regression, ``(n, k)`` probabilities otherwise.

        Raises:
            PredictError: the model raised; the message names the exception.
            PredictionShapeError: the output does not have one entry (row) per input row.
        """
        raw = self.call_raw(frame)
        return self._check(raw, len(frame))

    def call_raw(self, frame: pd.DataFrame) -> np.ndarray:
        """The model's untouched output for ``frame``, as a NumPy array."""
        batch = frame_to_input(frame, self.columns, self.input_kind)
        try:
            with self._threads(len(frame)):
                output = self.raw_predict(batch)
        except Exception as exc:  # any failure of user code becomes one sentence
            raise PredictError(exc, len(frame)) from exc
        return to_numpy(output)

    def _threads(self, n_rows: int) -> contextlib.AbstractContextManager[Any]:
        """Single-threaded native libraries for small batches (see :data:`SMALL_BATCH`)."""
        if n_rows > SMALL_BATCH:
            return contextlib.nullcontext()
        if self._controller is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:  # scikit-learn brings it; without it, leave threads alone
                return contextlib.nullcontext()
            self._controller = ThreadpoolController()
        return self._controller.limit(limits=1)

    def _check(self, raw: np.ndarray, n: int) -> np.ndarray:
        k = len(self.classes)
        if self.task == REGRESSION:
            if raw.ndim == 2 and raw.shape[1] == 1:
                raw = raw[:, 0]
            if raw.ndim != 1 or raw.shape[0] != n:
                raise PredictionShapeError(raw.shape, f"({n},) — one value per row for regression")
            return raw.astype(float)
        if raw.ndim == 2 and raw.shape[1] == 1 and self.task == BINARY:
            raw = raw[:, 0]
        if raw.ndim == 1 and self.task == BINARY and raw.shape[0] == n:
            scores = self.transform(raw) if self.transform else raw
            scores = np.asarray(scores, dtype=float)
            return np.column_stack([1.0 - scores, scores]) if scores.ndim == 1 else scores
        if raw.ndim != 2 or raw.shape != (n, k):
            raise PredictionShapeError(
                raw.shape, f"({n}, {k}) — one probability per class for each of the {n} rows"
            )
        scores = self.transform(raw) if self.transform else raw
        return np.asarray(scores, dtype=float)

    def labels(self, scores: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """Predicted class positions (binary: P(positive) ≥ threshold) or the values."""
        if self.task == BINARY:
            return (scores[:, 1] >= threshold).astype(int)
        if self.task == MULTICLASS:
            return scores.argmax(axis=1)
        return scores


def to_numpy(output: Any) -> np.ndarray:
    """A model output (array, list, Series, DataFrame, torch tensor) as a NumPy array."""
    if hasattr(output, "detach") and hasattr(output, "cpu"):
        output = output.detach().cpu().numpy()
    elif hasattr(output, "to_numpy"):
        output = output.to_numpy()
    return np.asarray(output)


def frame_to_input(frame: pd.DataFrame, columns: Sequence[str], input_kind: str) -> Any:
    """What the model is called with: the columns as a DataFrame, or their values."""
    selected = frame[list(columns)]
    if input_kind == "frame":
        return selected
    values = selected.to_numpy()
    if values.dtype == object:
        try:
            values = values.astype(float)
        except (TypeError, ValueError):  # truly mixed objects: the model gets them as they are
            pass
    return values


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
        return _probe_callable(predict, frame, columns, class_names, task, input_kinds=kinds)
    if _is_torch_module(model):
        return _torch_adapter(model, frame, columns, class_names, task, batch_size)
    if hasattr(model, "predict") and hasattr(model, "fit"):
        return _sklearn_adapter(model, columns, class_names, task)
    if callable(model):
        return _probe_callable(model, frame, columns, class_names, task)
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
    names = _class_names(list(classes), class_names)
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

    return _probe_callable(forward, frame, columns, class_names, task, input_kinds=("array",))


def _chunks(values: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _probe_callable(
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
    probe = frame.head(_PROBE_ROWS)
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
    adapter.classes = _class_names(keys, class_names)
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


def _class_names(classes: list[Any], class_names: Any) -> list[str]:
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
