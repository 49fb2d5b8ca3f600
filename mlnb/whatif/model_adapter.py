"""The model behind one predict signature: :class:`ModelAdapter` and the task names.

:meth:`ModelAdapter.predict` takes a DataFrame of feature rows and returns, for
regression, one value per row ``(n,)`` and, for classification, one probability per
class ``(n, k)``. It checks every output's shape and turns any exception the model
raises into a one-sentence :class:`~mlnb.exceptions.PredictError`. Building an
adapter for a given model is :func:`mlnb.whatif.adapters.make_adapter`'s job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mlnb.exceptions import PredictError, PredictionShapeError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

REGRESSION = "regression"
BINARY = "binary"
MULTICLASS = "multiclass"
TASKS = (REGRESSION, BINARY, MULTICLASS)
# At most this many rows run single-threaded: spinning up OpenMP/BLAS threads costs
# more than a small batch's prediction (a one-row edit went from ~300 ms to ~3 ms for
# a HistGradientBoostingClassifier on a busy 2-core machine).
SMALL_BATCH = 256
#: Rows per call when predicting every row of the data: bounds the memory a model's
#: own transforms (one-hot encoding) take beyond a million rows. Not smaller: each call
#: starts the model's thread pool again, and on a busy 2-core machine one call over 1M
#: rows took 6.8 s where ten of 100k took 13.2 s (HistGradientBoostingClassifier).
PREDICT_CHUNK_ROWS = 1_000_000


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

    def predict_in_chunks(
        self, frame: pd.DataFrame, chunk_rows: int = PREDICT_CHUNK_ROWS
    ) -> np.ndarray:
        """:meth:`predict` of every row, ``chunk_rows`` rows per call (same values, bounded memory)."""
        if len(frame) <= chunk_rows:
            return self.predict(frame)
        parts = [
            self.predict(frame.iloc[start : start + chunk_rows])
            for start in range(0, len(frame), chunk_rows)
        ]
        return np.concatenate(parts)

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
