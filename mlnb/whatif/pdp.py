"""Partial dependence and ICE curves, vectorised over the grid.

scikit-learn's brute-force method calls the model once per grid value. Here every row
is repeated once per grid value with the feature overwritten and the batch predicted
at once — in chunks of at most :data:`BATCH_ROWS` rows, which bounds memory and lets a
long computation report progress (and be cancelled, :mod:`~mlnb.whatif.background`).
The current (edited) point rides along in the same batch, so its curve costs nothing
extra. The average may be over more rows than have an ICE curve (``ice_rows``), and
:func:`average_over_rows` gives the exact average over any number of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from mlnb.exceptions import WhatIfError
from mlnb.whatif.model_adapter import BINARY, REGRESSION, ModelAdapter

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from mlnb.whatif.background import Progress

#: Rows per predict call at most: a grid is predicted a chunk of grid values at a time,
#: which bounds memory and lets a slow computation report progress and be cancelled.
BATCH_ROWS = 500_000


@dataclass(frozen=True)
class PartialDependence:
    """Partial dependence of the model's output on one feature.

    Attributes:
        feature: the feature varied.
        grid: the values it took.
        average: the PDP, one value per grid value (``individual`` averaged over rows).
        individual: ICE curves, ``(n_rows, n_grid)``.
        point: the current point's curve, ``(n_grid,)``, or None.
        output: what the values are: ``"prediction"`` or ``"P(<class>)"``.
        categorical: whether the grid holds categories (drawn as bars).
        average_rows: how many rows ``average`` is the mean over (it may be more
            rows than have an ICE curve; see ``ice_rows`` of :func:`partial_dependence`).
        data_mean: the mean prediction over every row of the data, unchanged
            features (a reference line), or None when not known.
    """

    feature: str
    grid: np.ndarray
    average: np.ndarray
    individual: np.ndarray
    point: np.ndarray | None
    output: str
    categorical: bool = False
    average_rows: int = 0
    data_mean: float | None = None

    def centered(self) -> PartialDependence:
        """Curves shifted to start at 0 at the first grid value (centred ICE)."""
        individual = self.individual - self.individual[:, :1]
        point = None if self.point is None else self.point - self.point[0]
        return replace(
            self,
            average=self.average - self.average[0],
            individual=individual,
            point=point,
            data_mean=None,  # a level, not a change: it has no centred form
        )


@dataclass(frozen=True)
class PartialDependence2D:
    """Partial dependence on two features: ``average[i, j]`` at ``(grid_x[i], grid_y[j])``."""

    features: tuple[str, str]
    grid_x: np.ndarray
    grid_y: np.ndarray
    average: np.ndarray
    output: str
    average_rows: int = 0


def grid_values(
    values: Any,
    *,
    grid_resolution: int = 50,
    percentiles: tuple[float, float] = (0.05, 0.95),
    categorical: bool = False,
) -> np.ndarray:
    """The grid scikit-learn's ``partial_dependence`` would use for one column.

    The unique values when the column is categorical or has fewer than
    ``grid_resolution`` of them; otherwise ``grid_resolution`` evenly spaced points
    between the given percentiles (computed like ``scipy.stats.mstats.mquantiles``).
    """
    import pandas as pd

    column = pd.Series(values).dropna()
    if column.empty:
        raise WhatIfError("every value of this feature is missing, so it has no grid.")
    uniques = np.asarray(sorted(column.unique().tolist()), dtype=object if categorical else None)
    if categorical or len(uniques) < grid_resolution:
        return uniques
    numbers = np.sort(column.to_numpy(dtype=float))
    low, high = (_mquantile(numbers, p) for p in percentiles)
    if np.isclose(low, high):
        raise WhatIfError(
            "the 5th and 95th percentiles of this feature coincide; pass the grid explicitly."
        )
    return np.linspace(low, high, grid_resolution)


def _mquantile(sorted_values: np.ndarray, p: float, alpha: float = 0.4, beta: float = 0.4) -> float:
    n = len(sorted_values)
    m = alpha + p * (1.0 - alpha - beta)
    aleph = n * p + m
    k = int(np.floor(np.clip(aleph, 1, n - 1)))
    gamma = float(np.clip(aleph - k, 0, 1))
    return float((1.0 - gamma) * sorted_values[k - 1] + gamma * sorted_values[k])


def partial_dependence(
    adapter: ModelAdapter,
    frame: pd.DataFrame,
    feature: str,
    grid: Sequence[Any] | np.ndarray | None = None,
    *,
    point: pd.Series | None = None,
    class_index: int | None = None,
    grid_resolution: int = 50,
    categorical: bool = False,
    ice_rows: int | None = None,
    progress: Progress | None = None,
) -> PartialDependence:
    """PDP and ICE curves of ``feature`` over the rows of ``frame``, vectorised over the grid.

    Every row is repeated once per grid value with the feature overwritten and the
    batch is predicted at once (in chunks of :data:`BATCH_ROWS` rows).

    Args:
        adapter: the model.
        frame: the rows the average is taken over (sample it first for large data).
        feature: the column to vary.
        grid: the values to try; default :func:`grid_values` of the column.
        point: the current point; its curve is returned separately.
        class_index: which class's probability to show (default: the positive
            class for binary, the first class for multiclass).
        grid_resolution: grid size when ``grid`` is None.
        categorical: treat the feature as categorical (grid = its categories).
        ice_rows: keep the ICE curves of the first ``ice_rows`` rows only (the average
            still uses every row); None keeps them all.
        progress: called with ``(grid values done, grid size)`` after each chunk.

    Returns:
        The partial dependence, its ICE curves and the point's curve.
    """
    if feature not in frame.columns:
        raise WhatIfError(f"{feature!r} is not a feature of the data.")
    if grid is None:
        grid = grid_values(frame[feature], grid_resolution=grid_resolution, categorical=categorical)
    grid = np.asarray(grid, dtype=object if categorical else None)
    if grid.size == 0:
        raise WhatIfError(f"the grid for {feature!r} is empty; pass at least one value.")
    rows = frame if point is None else _append_row(frame, point)
    curves, output = predict_grid(adapter, rows, {feature: grid}, class_index, progress)
    curves = curves.T  # (rows, grid)
    individual = curves if point is None else curves[:-1]
    return PartialDependence(
        feature=feature,
        grid=grid,
        average=individual.mean(axis=0),
        individual=individual if ice_rows is None else individual[:ice_rows],
        point=None if point is None else curves[-1],
        output=output,
        categorical=categorical,
        average_rows=len(individual),
    )


def partial_dependence_2d(
    adapter: ModelAdapter,
    frame: pd.DataFrame,
    features: tuple[str, str],
    grids: tuple[Sequence[Any], Sequence[Any]] | None = None,
    *,
    class_index: int | None = None,
    grid_resolution: int = 20,
    progress: Progress | None = None,
) -> PartialDependence2D:
    """Two-feature partial dependence (a heatmap), vectorised over the grid.

    With ``progress``, the grid is predicted one row of ``grid_x`` at a time and
    ``progress`` gets ``(grid points done, grid points)`` after each; without it, in
    as few calls as :data:`BATCH_ROWS` allows.
    """
    first, second = features
    for name in features:
        if name not in frame.columns:
            raise WhatIfError(f"{name!r} is not a feature of the data.")
    if grids is None:
        grid_x = np.asarray(grid_values(frame[first], grid_resolution=grid_resolution))
        grid_y = np.asarray(grid_values(frame[second], grid_resolution=grid_resolution))
    else:
        grid_x, grid_y = (np.asarray(g) for g in grids)
    mesh = {first: np.repeat(grid_x, len(grid_y)), second: np.tile(grid_y, len(grid_x))}
    rows_of_grid = len(grid_y) if progress is not None else None  # progress per grid row
    values, output = predict_grid(
        adapter, frame, mesh, class_index, progress, chunk_points=rows_of_grid
    )
    average = values.mean(axis=1).reshape(len(grid_x), len(grid_y))
    return PartialDependence2D((first, second), grid_x, grid_y, average, output, len(frame))


def average_over_rows(
    adapter: ModelAdapter,
    frame: pd.DataFrame,
    feature: str,
    grid: Sequence[Any] | np.ndarray,
    *,
    class_index: int | None = None,
    progress: Progress | None = None,
    chunk_rows: int | None = None,
) -> np.ndarray:
    """The exact PDP over every row of ``frame``, a chunk of rows at a time.

    Memory stays at one chunk × grid batch however many rows there are; ``progress``
    gets ``(rows done, rows)`` after each chunk.
    """
    grid = np.asarray(grid)
    n = len(frame)
    step = chunk_rows or max(1, BATCH_ROWS // max(len(grid), 1))
    total = np.zeros(len(grid))
    for start in range(0, n, step):
        rows = frame.iloc[start : start + step]
        values, _ = predict_grid(adapter, rows, {feature: grid}, class_index)
        total += values.sum(axis=1)
        if progress is not None:
            progress(min(start + step, n), n)
    return total / max(n, 1)


def predict_grid(
    adapter: ModelAdapter,
    frame: pd.DataFrame,
    replacements: dict[str, np.ndarray],
    class_index: int | None,
    progress: Progress | None = None,
    *,
    chunk_points: int | None = None,
) -> tuple[np.ndarray, str]:
    """The model's output for every row at every grid point: ``(grid points, rows)``.

    Grid points are predicted ``chunk_points`` at a time (default: as many as fit in
    :data:`BATCH_ROWS` rows, at least one), each chunk one call on :func:`expand`'s batch.
    """
    n_points = len(next(iter(replacements.values())))
    n_rows = max(len(frame), 1)
    per_chunk = max(1, BATCH_ROWS // n_rows)
    if chunk_points is not None:
        per_chunk = max(1, min(per_chunk, chunk_points))
    parts, output = [], "prediction"
    for start in range(0, n_points, per_chunk):
        chunk = {name: values[start : start + per_chunk] for name, values in replacements.items()}
        scores = adapter.predict(expand(frame, chunk))
        values, output = _select_output(adapter, scores, class_index)
        parts.append(values.reshape(-1, len(frame)))
        if progress is not None:
            progress(min(start + per_chunk, n_points), n_points)
    return np.concatenate(parts) if parts else np.zeros((0, len(frame))), output


def expand(frame: pd.DataFrame, replacements: dict[str, np.ndarray]) -> pd.DataFrame:
    """Every row of ``frame`` once per grid point, with the given columns overwritten.

    Row ``g * len(frame) + r`` is row ``r`` with every column in ``replacements``
    set to its ``g``-th value; all replacement arrays have the same length.
    """
    import pandas as pd

    n_grid = len(next(iter(replacements.values())))
    n_rows = len(frame)
    columns = {}
    for name in frame.columns:
        if name in replacements:
            columns[name] = np.repeat(np.asarray(replacements[name]), n_rows)
        else:
            columns[name] = np.tile(frame[name].to_numpy(), n_grid)
    expanded = pd.DataFrame(columns, columns=frame.columns)
    for name in frame.columns:  # keep categorical dtypes, which tiling loses
        dtype = frame[name].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            expanded[name] = pd.Categorical(expanded[name], dtype=dtype)
    return expanded


def _append_row(frame: pd.DataFrame, point: pd.Series) -> pd.DataFrame:
    import pandas as pd

    extra = pd.DataFrame([point[list(frame.columns)].to_dict()], columns=frame.columns)
    for name in frame.columns:
        try:
            extra[name] = extra[name].astype(frame[name].dtype)
        except (TypeError, ValueError):  # an edited value the column's dtype cannot hold: keep it
            pass
    return pd.concat([frame, extra], ignore_index=True)


def _select_output(
    adapter: ModelAdapter, scores: np.ndarray, class_index: int | None
) -> tuple[np.ndarray, str]:
    if adapter.task == REGRESSION:
        return scores, "prediction"
    if class_index is None:
        class_index = 1 if adapter.task == BINARY else 0
    return scores[:, class_index], f"P({adapter.classes[class_index]})"
