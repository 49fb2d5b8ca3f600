"""Performance & fairness: metrics, ROC, cost-optimal and per-slice thresholds.

Everything is plain NumPy so the explorer does not need scikit-learn at run time
(the tests check each metric against ``sklearn.metrics``). The threshold
strategies are the ones WIT offers for binary classification:

* ``single`` — one threshold for everybody, the one with the lowest cost
  ``cost_ratio × FP + FN``;
* ``group`` — each slice gets its own lowest-cost threshold;
* ``demographic_parity`` — per-slice thresholds that give every slice the same
  positive-prediction rate, the rate chosen for the lowest total cost;
* ``equal_opportunity`` — per-slice thresholds that give every slice the same
  true-positive rate, again chosen for the lowest total cost;
* ``equal_accuracy`` — per-slice thresholds that give every slice the same accuracy
  (as near as the slice's scores allow), the level chosen for the lowest total cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mlnb.exceptions import WhatIfError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

STRATEGIES = ("single", "group", "demographic_parity", "equal_opportunity", "equal_accuracy")
_RATE_STEPS = 101


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """``matrix[i, j]``: rows of true class ``i`` predicted as class ``j``."""
    cells = np.asarray(y_true, dtype=np.int64) * n_classes + np.asarray(y_pred, dtype=np.int64)
    counts = np.bincount(cells, minlength=n_classes * n_classes)  # one pass, no np.add.at
    return counts.reshape(n_classes, n_classes).astype(int)


def f1_scores(matrix: np.ndarray) -> np.ndarray:
    """Per-class F1 from a confusion matrix (0 where a class is never predicted nor true)."""
    tp = np.diag(matrix).astype(float)
    predicted = matrix.sum(axis=0)
    actual = matrix.sum(axis=1)
    denominator = predicted + actual
    return np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)


def roc_curve(y_true: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False-positive rates, true-positive rates and the thresholds that give them."""
    y = np.asarray(y_true, dtype=int)
    order = np.argsort(-np.asarray(score, dtype=float), kind="mergesort")
    sorted_score = np.asarray(score, dtype=float)[order]
    sorted_y = y[order]
    distinct = np.r_[np.nonzero(np.diff(sorted_score))[0], len(sorted_y) - 1]
    tps = np.cumsum(sorted_y)[distinct]
    fps = (distinct + 1) - tps
    positives, negatives = max(tps[-1], 1), max(fps[-1], 1)
    tpr = np.r_[0.0, tps / positives]
    fpr = np.r_[0.0, fps / negatives]
    thresholds = np.r_[np.inf, sorted_score[distinct]]
    return fpr, tpr, thresholds


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve; NaN when only one class is present."""
    y = np.asarray(y_true, dtype=int)
    if y.min() == y.max():
        return float("nan")
    fpr, tpr, _ = roc_curve(y, score)
    return curve_area(fpr, tpr)


def curve_area(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Area under a ROC curve given by its points (the trapezoidal rule)."""
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def classification_metrics(
    y_true: np.ndarray,
    scores: np.ndarray,
    *,
    threshold: float | np.ndarray = 0.5,
    auc: float | None = None,
) -> dict[str, Any]:
    """Accuracy, F1, ROC-AUC and the confusion matrix.

    Args:
        y_true: true class positions (0 … k-1).
        scores: ``(n, k)`` class probabilities.
        threshold: binary only — predict the positive class when P(positive) ≥ it
            (one for all rows, or one per row).
        auc: the ROC-AUC of these scores when already known (it does not depend on the
            threshold; the panel computes it once, as sorting a million scores is the
            slowest part).

    Returns:
        ``accuracy``, ``f1`` (binary: of the positive class; multiclass: macro),
        ``roc_auc`` (multiclass: macro one-vs-rest), ``confusion`` and ``n``.
    """
    y = np.asarray(y_true, dtype=int)
    k = scores.shape[1]
    predicted = (scores[:, 1] >= threshold).astype(int) if k == 2 else scores.argmax(axis=1)
    matrix = confusion_matrix(y, predicted, k)
    f1 = f1_scores(matrix)
    if auc is None:
        auc = _auc(y, scores)
    return {
        "n": len(y),
        "accuracy": float((predicted == y).mean()),
        "f1": float(f1[1] if k == 2 else f1.mean()),
        "roc_auc": auc,
        "confusion": matrix,
    }


def _auc(y: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC of the positive class (binary) or the macro one-vs-rest mean (NaN if undefined)."""
    k = scores.shape[1]
    if k == 2:
        return roc_auc(y, scores[:, 1])
    aucs = [roc_auc((y == c).astype(int), scores[:, c]) for c in range(k)]
    return float(np.nanmean(aucs)) if not all(np.isnan(aucs)) else float("nan")


def per_row(
    by_slice: Mapping[Any, float], slices: Sequence[Any] | np.ndarray, default: float
) -> np.ndarray:
    """``by_slice[slice]`` (``default`` when missing) for each row's slice, vectorised.

    One lookup per distinct slice, then a take: a million rows cost one ``np.unique``.
    """
    names, inverse = np.unique(np.asarray(slices), return_inverse=True)
    values = np.array([by_slice.get(name, default) for name in names.tolist()], dtype=float)
    return values[inverse.reshape(-1)]


def regression_metrics(y_true: np.ndarray, predictions: np.ndarray) -> dict[str, Any]:
    """MAE, RMSE and R² of ``predictions`` against ``y_true``."""
    y = np.asarray(y_true, dtype=float)
    error = np.asarray(predictions, dtype=float) - y
    variance = float(((y - y.mean()) ** 2).sum())
    return {
        "n": len(y),
        "mae": float(np.abs(error).mean()),
        "rmse": float(np.sqrt((error**2).mean())),
        "r2": float(1 - (error**2).sum() / variance) if variance > 0 else float("nan"),
    }


def cost(
    y_true: np.ndarray, score: np.ndarray, threshold: float | np.ndarray, cost_ratio: float
) -> float:
    """``cost_ratio × false positives + false negatives`` at ``threshold``."""
    y = np.asarray(y_true, dtype=int)
    positive = np.asarray(score) >= threshold
    return float(cost_ratio * np.sum(positive & (y == 0)) + np.sum(~positive & (y == 1)))


def optimal_threshold(y_true: np.ndarray, score: np.ndarray, cost_ratio: float = 1.0) -> float:
    """The threshold with the lowest ``cost_ratio × FP + FN`` (ties: the one nearest 0.5)."""
    candidates = _candidate_thresholds(score)
    costs = _costs(
        np.asarray(y_true, dtype=int), np.asarray(score, dtype=float), candidates, cost_ratio
    )
    best = np.flatnonzero(costs == costs.min())
    return float(candidates[best[np.argmin(np.abs(candidates[best] - 0.5))]])


def _costs(
    y: np.ndarray, score: np.ndarray, thresholds: np.ndarray, cost_ratio: float
) -> np.ndarray:
    """Cost at every threshold at once: sorted scores + binary search, no loop."""
    negatives = np.sort(score[y == 0])
    positives = np.sort(score[y == 1])
    false_positives = len(negatives) - np.searchsorted(negatives, thresholds, side="left")
    false_negatives = np.searchsorted(positives, thresholds, side="left")
    return cost_ratio * false_positives + false_negatives


def _candidate_thresholds(score: np.ndarray) -> np.ndarray:
    uniques = np.unique(np.asarray(score, dtype=float))
    midpoints = (uniques[:-1] + uniques[1:]) / 2 if len(uniques) > 1 else uniques
    return np.unique(np.r_[0.0, midpoints, uniques[-1] + 1e-9 if len(uniques) else 1.0])


def slice_labels(values: pd.Series, bins: int = 4) -> pd.Series:
    """Slice names for each row: the category, or a quantile bin of a numeric column."""
    import pandas as pd

    from mlnb.whatif.features import is_categorical_dtype

    if (
        is_categorical_dtype(values)
        or pd.api.types.is_bool_dtype(values.dtype)
        or values.nunique() <= bins
    ):
        return as_text(values)
    binned = pd.qcut(values.astype(float), q=bins, duplicates="drop")
    return as_text(pd.Series(binned, index=values.index))


def as_text(values: pd.Series) -> pd.Series:
    """Each value as text, ``"missing"`` where it is missing.

    pandas 3 keeps NaN through ``astype(str)``; a NaN among the slice names would
    break sorting and ``np.unique`` over them.
    """
    return values.astype(str).where(values.notna(), "missing")


def slice_thresholds(
    y_true: np.ndarray,
    score: np.ndarray,
    slices: Sequence[Any] | np.ndarray,
    strategy: str,
    cost_ratio: float = 1.0,
) -> dict[Any, float]:
    """Per-slice thresholds for ``strategy`` (see the module docstring)."""
    if strategy not in STRATEGIES:
        raise WhatIfError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}.")
    y = np.asarray(y_true, dtype=int)
    s = np.asarray(score, dtype=float)
    groups = np.asarray(slices)
    names = list(dict.fromkeys(groups.tolist()))
    if strategy == "single":
        best = optimal_threshold(y, s, cost_ratio)
        return dict.fromkeys(names, best)
    if strategy == "group":
        return {g: optimal_threshold(y[groups == g], s[groups == g], cost_ratio) for g in names}
    if strategy == "equal_accuracy":
        return _equal_accuracy_thresholds(y, s, groups, names, cost_ratio)
    best_total, best_thresholds = np.inf, {}
    for rate in np.linspace(0.0, 1.0, _RATE_STEPS):
        thresholds = {}
        for g in names:
            members = groups == g
            basis = s[members & (y == 1)] if strategy == "equal_opportunity" else s[members]
            thresholds[g] = _threshold_for_rate(basis, rate)
        total = sum(
            cost(y[groups == g], s[groups == g], t, cost_ratio) for g, t in thresholds.items()
        )
        if total < best_total:
            best_total, best_thresholds = total, thresholds
    return best_thresholds


def _equal_accuracy_thresholds(
    y: np.ndarray, s: np.ndarray, groups: np.ndarray, names: list[Any], cost_ratio: float
) -> dict[Any, float]:
    """Per slice, the threshold whose accuracy is nearest a shared level; the level with the
    smallest accuracy spread across slices (to 0.01), then the lowest total cost, wins."""
    per_slice = []
    for g in names:
        members = groups == g
        ys, ss = y[members], s[members]
        candidates = _candidate_thresholds(ss)
        errors = _costs(ys, ss, candidates, 1.0)  # FP + FN at every candidate at once
        accuracy = 1.0 - errors / max(len(ys), 1)
        per_slice.append((g, candidates, accuracy, _costs(ys, ss, candidates, cost_ratio)))
    low = max(float(a.min()) for _, _, a, _ in per_slice)
    high = min(float(a.max()) for _, _, a, _ in per_slice)
    if low > high:  # no level every slice can reach: search the whole span
        low = min(float(a.min()) for _, _, a, _ in per_slice)
        high = max(float(a.max()) for _, _, a, _ in per_slice)
    best_key: tuple[float, float] = (np.inf, np.inf)
    best: dict[Any, float] = {}
    for level in np.linspace(low, high, _RATE_STEPS):
        chosen, reached, total = {}, [], 0.0
        for g, candidates, accuracy, costs in per_slice:
            gap = np.abs(accuracy - level)
            nearest = np.flatnonzero(gap <= gap.min() + 1e-12)
            pick = nearest[np.argmin(costs[nearest])]
            chosen[g] = float(candidates[pick])
            reached.append(accuracy[pick])
            total += float(costs[pick])
        key = (round(float(np.ptp(reached)), 2), total)
        if key < best_key:
            best_key, best = key, chosen
    return best


def _threshold_for_rate(scores: np.ndarray, rate: float) -> float:
    """A threshold that marks about ``rate`` of ``scores`` as positive."""
    if scores.size == 0:
        return 0.5
    if rate <= 0:
        return float(scores.max()) + 1e-9
    ordered = np.sort(scores)[::-1]
    count = max(1, round(rate * len(ordered)))
    return float(ordered[count - 1])


def slice_metrics(
    y_true: np.ndarray,
    scores: np.ndarray,
    slices: Sequence[Any] | np.ndarray,
    *,
    thresholds: Mapping[Any, float] | float = 0.5,
) -> list[dict[str, Any]]:
    """Metrics per slice; binary thresholds may differ per slice.

    Returns:
        One dict per slice (sorted by name) with ``slice``, ``threshold`` (binary),
        the metrics of :func:`classification_metrics` or :func:`regression_metrics`,
        and for binary tasks ``positive_rate`` and ``tpr`` (the fairness criteria).
    """
    groups = np.asarray(slices)
    rows = []
    for name in sorted(np.unique(groups).tolist(), key=str):
        members = groups == name
        y = np.asarray(y_true)[members]
        if scores.ndim == 1:
            row = {"slice": name, **regression_metrics(y, scores[members])}
        else:
            part = scores[members]
            threshold = thresholds[name] if isinstance(thresholds, Mapping) else thresholds
            row = {"slice": name, **classification_metrics(y, part, threshold=threshold)}
            if part.shape[1] == 2:
                positive = part[:, 1] >= threshold
                row["threshold"] = float(threshold)
                row["positive_rate"] = float(positive.mean())
                true = y.astype(int) == 1
                row["tpr"] = float(positive[true].mean()) if true.any() else float("nan")
        rows.append(row)
    return rows
