"""Compare runs: a pandas table of params and summaries, overlaid curves, parallel coordinates.

pandas and matplotlib are imported inside the functions. NaN stays NaN all the
way (it is never turned into 0), sorts last, and fails every comparison a
filter makes, the way pandas treats it.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from typing import Any, TypeAlias

from mlnb import display
from mlnb.exceptions import InvalidArgumentError
from mlnb.runs.records import RunRecord
from mlnb.runs.store import Store

StrPath: TypeAlias = "str | os.PathLike[str]"

BASE_COLUMNS = ("id", "name", "project", "status", "started", "duration_s", "tags")


@contextlib.contextmanager
def _store(store: Store | None, home: StrPath | None) -> Iterator[Store]:
    """``store``, or the store at ``home`` opened read-only (never created) for this call."""
    if store is not None:
        yield store
        return
    with Store(home, readonly=True) as opened:
        yield opened


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"opt": {"lr": 0.1}}`` → ``{"opt.lr": 0.1}``."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def table(
    *,
    project: str | None = None,
    tags: Sequence[str] = (),
    status: str | Sequence[str] | None = None,
    sort_by: str | None = None,
    ascending: bool = True,
    include_system: bool = False,
    limit: int | None = None,
    store: Store | None = None,
    home: StrPath | None = None,
) -> Any:
    """Runs as a pandas DataFrame: one row per run, ``config.<param>`` and summary columns.

    Args:
        project, tags, status: filters (every tag must be present).
        sort_by: a column to sort by; NaN and missing values go last either way.
        ascending: sort order.
        include_system: also show the ``sys/...`` metrics' last values.
        limit: at most this many runs (newest first before sorting).
        store / home: where to read (default: the store under ``$MLNB_HOME``).

    Raises:
        InvalidArgumentError: ``sort_by`` is not a column of the table.
    """
    import pandas as pd

    with _store(store, home) as source:
        records = source.list_runs(project=project, tags=tags, status=status, limit=limit)
    rows = [run_row(record, include_system=include_system) for record in records]
    frame = pd.DataFrame(rows, columns=_columns(rows))
    if sort_by is not None:
        if sort_by not in frame.columns:
            raise InvalidArgumentError(
                f"cannot sort by {sort_by!r}: not a column — columns are {', '.join(map(str, frame.columns))}."
            )
        frame = frame.sort_values(sort_by, ascending=ascending, na_position="last", kind="stable")
    return frame.reset_index(drop=True)


def run_row(record: RunRecord, *, include_system: bool = False) -> dict[str, Any]:
    """One run as a flat dict (the row :func:`table` shows)."""
    row: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "project": record.project,
        "status": record.status,
        "started": record.started,
        "duration_s": round(record.duration, 3),
        "tags": ",".join(record.tags),
    }
    row.update({f"config.{k}": _cell(v) for k, v in flatten(record.config).items()})
    row.update(
        {
            k: _cell(v)
            for k, v in record.summary.items()
            if include_system or not k.startswith("sys/")
        }
    )
    return row


def _cell(value: Any) -> Any:
    return json_text(value) if isinstance(value, (list, dict)) else value


def json_text(value: Any) -> str:
    """Compact JSON for a list/dict cell."""
    import json

    return json.dumps(value, ensure_ascii=False)


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = dict.fromkeys(BASE_COLUMNS)
    for row in rows:
        seen.update(dict.fromkeys(k for k in row if k.startswith("config.")))
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def metrics_frame(
    runs: Sequence[str],
    keys: Sequence[str] | None = None,
    *,
    store: Store | None = None,
    home: StrPath | None = None,
) -> Any:
    """Long-form pandas DataFrame of points: ``run_id, run, key, step, value, time, cell``."""
    import pandas as pd

    frames = []
    with _store(store, home) as source:
        found = [(record, source.metrics(record.id, keys)) for record in map(source.get_run, runs)]
    for record, rows in found:
        frame = pd.DataFrame(rows, columns=["key", "step", "value", "time", "cell"])
        frame.insert(0, "run", record.name)
        frame.insert(0, "run_id", record.id)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["run_id", "run", "key", "step", "value", "time", "cell"])
    return pd.concat(frames, ignore_index=True)


def compare(
    runs: Sequence[str],
    metrics: Sequence[str] | None = None,
    *,
    store: Store | None = None,
    home: StrPath | None = None,
) -> Any:
    """Overlaid curves: one panel per metric, one line per run; returns the matplotlib Figure.

    Args:
        runs: run ids, id prefixes or names.
        metrics: which metrics (default: every non-``sys/`` metric the runs share).
        store / home: where to read.

    Raises:
        RunNotFoundError: a run reference matches nothing.
        InvalidArgumentError: no run logged any of the metrics.
    """
    from matplotlib.figure import Figure

    if not runs:
        raise InvalidArgumentError("compare() needs at least one run id or name.")
    with _store(store, home) as source:
        records = [source.get_run(ref) for ref in runs]
        if metrics is None:
            key_sets = [set(source.metric_keys(r.id)) for r in records]
            metrics = sorted(k for k in set.intersection(*key_sets) if not k.startswith("sys/"))
        if not metrics:
            raise InvalidArgumentError(
                f"the runs {', '.join(r.name for r in records)} share no metric to compare — name some with metrics=[...]."
            )
        curves = {
            (record.id, key): source.metrics(record.id, [key])
            for key in metrics
            for record in records
        }
    figure = Figure(figsize=(5.5 * min(len(metrics), 3), 3.6 * math.ceil(len(metrics) / 3)))
    columns = min(len(metrics), 3)
    drawn = 0
    for index, key in enumerate(metrics):
        ax = figure.add_subplot(math.ceil(len(metrics) / 3), columns, index + 1)
        for record in records:
            rows = curves[record.id, key]
            if rows:
                drawn += 1
                ax.plot(
                    [r.step for r in rows],
                    [r.value for r in rows],
                    label=_plain(f"{record.name} ({record.id[:6]})"),
                )
        ax.set_title(_plain(key))
        ax.set_xlabel("step")
        if ax.lines:
            ax.legend(fontsize="small")
    if not drawn:
        raise InvalidArgumentError(f"none of the runs logged {', '.join(metrics)}.")
    figure.tight_layout()
    return display.as_image(figure)


def _plain(text: str) -> str:
    """``text`` as matplotlib shows it literally: ``$`` would start mathtext, which fails on
    names like ``$\\undefinedcmd$``; a metric or run name is a name, not a formula."""
    return text.replace("$", r"\$")


def parallel_coordinates(
    metric: str,
    params: Sequence[str] | None = None,
    *,
    project: str | None = None,
    tags: Sequence[str] = (),
    runs: Sequence[str] | None = None,
    store: Store | None = None,
    home: StrPath | None = None,
) -> Any:
    """Parallel coordinates of params against a summary metric; returns the matplotlib Figure.

    Each run is a line across one axis per param and a last axis for ``metric``,
    coloured by the metric. Text params become categories. Runs whose metric is
    NaN or missing are drawn grey, dashed.

    Raises:
        InvalidArgumentError: no run has the metric or the params.
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    with _store(store, home) as source:
        records = (
            [source.get_run(ref) for ref in runs]
            if runs
            else source.list_runs(project=project, tags=tags)
        )
    rows = [run_row(r) for r in records]
    if not any(metric in row for row in rows):
        raise InvalidArgumentError(f"no run has a summary metric {metric!r}.")
    if params is None:
        params = sorted({k for row in rows for k in row if k.startswith("config.")})
    else:
        params = [p if p.startswith("config.") else f"config.{p}" for p in params]
    if not params:
        raise InvalidArgumentError(
            "the runs have no config params to draw — start runs with config={...}."
        )
    axes_names = [*params, metric]
    scaled, labels = _scale_columns(rows, axes_names)
    figure = Figure(figsize=(1.8 * len(axes_names) + 2, 4))
    ax = figure.add_subplot(1, 1, 1)
    values = [row.get(metric) for row in rows]
    finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    cmap = colormaps["viridis"]
    for index, value in enumerate(values):
        ys = [scaled[name][index] for name in axes_names]
        if isinstance(value, (int, float)) and math.isfinite(value):
            ax.plot(
                range(len(axes_names)),
                ys,
                color=cmap((value - low) / ((high - low) or 1)),
                alpha=0.85,
            )
        else:
            ax.plot(range(len(axes_names)), ys, color="grey", linestyle="--", alpha=0.6)
    ax.set_xticks(
        range(len(axes_names)), [_plain(n.removeprefix("config.")) for n in axes_names], rotation=20
    )
    for position, name in enumerate(axes_names):
        ax.axvline(position, color="black", linewidth=0.8)
        ax.text(position, 1.02, _plain(labels[name][1]), ha="center", fontsize="small")
        ax.text(position, -0.06, _plain(labels[name][0]), ha="center", va="top", fontsize="small")
    ax.set_ylim(-0.1, 1.1)
    ax.set_yticks([])
    ax.set_title(_plain(f"{metric} by params ({len(rows)} runs)"))
    figure.tight_layout()
    return display.as_image(figure)


def _scale_columns(
    rows: list[dict[str, Any]], names: Sequence[str]
) -> tuple[dict[str, list[float]], dict[str, tuple[str, str]]]:
    """Each column mapped to [0, 1] (NaN/missing to -0.05), with its bottom/top labels."""
    scaled: dict[str, list[float]] = {}
    labels: dict[str, tuple[str, str]] = {}
    for name in names:
        column = [row.get(name) for row in rows]
        numbers = [
            v
            for v in column
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        ]
        if len(numbers) == sum(v is not None for v in column) and numbers:
            low, high = min(numbers), max(numbers)
            span = (high - low) or 1.0
            scaled[name] = [
                ((v - low) / span) if isinstance(v, (int, float)) and math.isfinite(v) else -0.05
                for v in column
            ]
            labels[name] = (f"{low:.4g}", f"{high:.4g}")
        else:
            categories = sorted({str(v) for v in column if v is not None})
            position = {c: i / max(len(categories) - 1, 1) for i, c in enumerate(categories)}
            scaled[name] = [position[str(v)] if v is not None else -0.05 for v in column]
            labels[name] = (
                categories[0] if categories else "",
                categories[-1] if categories else "",
            )
    return scaled, labels
