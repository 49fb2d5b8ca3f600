"""Export runs to MLflow: one MLflow run per mlnb run, whole or not at all.

One MLflow run per mlnb run in the experiment named after the project, through
:class:`mlflow.MlflowClient` on any tracking URI (a ``sqlite:///...`` file works
offline). Params are the flattened config (an empty section is the param ``"{}"``),
metrics keep their steps, timestamps (to the millisecond) and NaN; summary values
set by hand become metrics (numbers) or ``mlnb.summary.<key>`` tags (text, booleans,
lists); a tag ``t`` is ``mlnb.tag.t = "true"``; artifacts are copied, and
``mlnb/run.json`` holds the whole record exactly. The status maps to MLflow's. Runs
already exported (tag ``mlnb.run_id``) are skipped; a run that fails half-way is
marked FAILED and deleted, never tagged, so exporting again exports it fully.
"""

from __future__ import annotations

import json
import math
import posixpath
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlnb.exceptions import MissingDependencyError
from mlnb.runs.export_shape import (
    RECORD_ARTIFACT,
    ExportError,
    ExportResult,
    RunShape,
    as_text,
    describe,
    first_line,
    record_json,
    shape_of,
)
from mlnb.runs.names import one_to_one
from mlnb.runs.records import RunRecord
from mlnb.runs.store import Store

MLFLOW_STATUS = {
    "running": "RUNNING",
    "finished": "FINISHED",
    "failed": "FAILED",
    "killed": "KILLED",
    "crashed": "FAILED",
}
#: MLflow's limits on a param value and a tag value (longer values are cut, and listed)
MLFLOW_PARAM_LIMIT = 6000
MLFLOW_TAG_LIMIT = 8000


# --- MLflow ----------------------------------------------------------------------


@dataclass
class _MlflowPlan:
    shape: RunShape
    params: list[tuple[str, str]]
    tags: list[tuple[str, str]]
    metrics: list[tuple[str, float, int, int]]
    points: int
    artifacts: list[tuple[str, str | None]]
    renamed: list[tuple[str, str, str]]
    lossy: list[str]
    notes: list[str]
    labels: dict[str, str]  # MLflow metric name → "metric 'mlnb name'" or "summary '…'"


def _mlflow_names(
    shapes: Sequence[RunShape],
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """One-to-one maps for metric, param and tag names, over every run of the export."""
    metrics: set[str] = set()
    params: set[str] = set()
    tags: set[str] = {"mlnb.run_id", "mlnb.status", "mlnb.error", "mlnb.exporting"}
    tags |= {"mlnb.renamed", "mlnb.lossy"}
    for shape in shapes:
        metrics.update(shape.metric_keys, shape.summary_numbers)
        params.update(shape.config)
        tags.update(f"mlnb.tag.{t}" for t in shape.record.tags)
        tags.update(f"mlnb.summary.{k}" for k in shape.summary_text)
    return one_to_one(metrics), one_to_one(params), one_to_one(tags)


def _cut(kind: str, key: str, value: str, limit: int, lossy: list[str]) -> str:
    if len(value) <= limit:
        return value
    lossy.append(
        f"{kind} {key!r} ({len(value):,} characters) cut to MLflow's {limit:,}; "
        f"the full value is in the artifact {RECORD_ARTIFACT}"
    )
    return value[:limit]


def _mlflow_plan(
    store: Store, shape: RunShape, names: tuple[dict[str, str], dict[str, str], dict[str, str]]
) -> _MlflowPlan:
    """Everything one MLflow run will get, checked and mapped, before MLflow is called."""
    record = shape.record
    metric_names, param_names, tag_names = names
    lossy: list[str] = []
    renamed: list[tuple[str, str, str]] = []
    notes = list(shape.notes)

    params = []
    for key, value in shape.config.items():
        name = param_names[key]
        if name != key:
            renamed.append(("param", key, name))
        params.append((name, _cut("param", key, str(value), MLFLOW_PARAM_LIMIT, lossy)))

    tags = [("mlnb.status", record.status)]
    if record.error:
        tags.append(
            ("mlnb.error", _cut("tag", "mlnb.error", record.error, MLFLOW_TAG_LIMIT, lossy))
        )
    for tag in record.tags:
        key = f"mlnb.tag.{tag}"
        name = tag_names[key]
        if name != key:
            renamed.append(("tag", key, name))
        tags.append((name, "true"))
    for key, value in shape.summary_text.items():
        full = f"mlnb.summary.{key}"
        name = tag_names[full]
        if name != full:
            renamed.append(("tag", full, name))
        tags.append((name, _cut("tag", full, as_text(value), MLFLOW_TAG_LIMIT, lossy)))

    rows = store.metrics(record.id)
    for key in shape.metric_keys:
        if metric_names[key] != key:
            renamed.append(("metric", key, metric_names[key]))
    end = record.ended or record.heartbeat or record.started
    points = [(metric_names[r.key], r.value, round(r.time * 1000), r.step) for r in rows]
    for key, name in shape.summary_names.items():
        renamed.append(("summary", key, metric_names[name]))
    for name, value in shape.summary_numbers.items():
        target = metric_names[name]
        if name != target and name not in shape.summary_names.values():
            renamed.append(("summary", name, target))
        if isinstance(value, int) and float(value) != value:  # NaN is kept, not lossy
            lossy.append(
                f"summary {name!r} = {value} is stored as the double {float(value)!r}; "
                f"the exact value is in the artifact {RECORD_ARTIFACT}"
            )
        points.append((target, float(value), round(end * 1000), 0))
    metrics, moved = _unmerge(points)
    labels = {metric_names[k]: f"metric {k!r}" for k in shape.metric_keys}
    summary_keys = {name: key for key, name in shape.summary_names.items()}
    for name in shape.summary_numbers:
        labels[metric_names[name]] = f"summary {summary_keys.get(name, name)!r}"
    for key, n in moved.items():
        lossy.append(
            f"{labels[key]}: {n} point(s) share another point's step and millisecond; their "
            "time was moved by 1 ms so MLflow keeps every point and takes the last one logged "
            "as latest"
        )

    artifacts: list[tuple[str, str | None]] = []
    for artifact in store.artifacts(record.id):
        if not Path(artifact.path).is_file():
            lossy.append(f"artifact {artifact.name!r} left out: its file {artifact.path} is gone")
            continue
        artifacts.append((artifact.path, posixpath.dirname(artifact.name) or None))
    return _MlflowPlan(
        shape, params, tags, metrics, len(rows), artifacts, renamed, lossy, notes, labels
    )


def _unmerge(
    points: list[tuple[str, float, int, int]],
) -> tuple[list[tuple[str, float, int, int]], dict[str, int]]:
    """Points with their time moved by 1 ms where they share key, step and millisecond.

    A SQL MLflow store keys a point by (key, timestamp, step, value): an exact repeat
    would be merged into one point. And where step and time tie, MLflow's latest value
    is the larger one, not the last logged (mlnb's summary): the later point, one
    millisecond on, is the latest for MLflow too. ``points`` are in logging order per step.
    """
    seen: set[tuple[str, int, int]] = set()
    moved: dict[str, int] = {}
    out = []
    for key, value, stamp, step in points:
        original = stamp
        while (key, stamp, step) in seen:
            stamp += 1
        seen.add((key, stamp, step))
        if stamp != original:
            moved[key] = moved.get(key, 0) + 1
        out.append((key, value, stamp, step))
    return out, moved


def to_mlflow(store: Store, records: Sequence[RunRecord], tracking_uri: str) -> list[ExportResult]:
    """Export to an MLflow tracking server or store at ``tracking_uri``."""
    try:
        from mlflow import MlflowClient
    except ImportError:
        raise MissingDependencyError("mlflow", "exporting runs to MLflow", "mlflow") from None
    try:
        client = MlflowClient(tracking_uri=tracking_uri)
    except Exception as exc:  # an unknown scheme, a store MLflow refuses to open
        raise ExportError(
            f"cannot open the MLflow tracking store {tracking_uri!r}: {first_line(exc)}."
        ) from exc
    shapes = [shape_of(store, record) for record in records]
    names = _mlflow_names(shapes)
    experiments: dict[str, str] = {}
    results = []
    for shape in shapes:
        record = shape.record
        try:
            if record.project not in experiments:
                experiment = client.get_experiment_by_name(record.project)
                experiments[record.project] = (
                    experiment.experiment_id
                    if experiment
                    else client.create_experiment(record.project)
                )
            results.append(
                _export_mlflow_run(client, experiments[record.project], store, shape, names)
            )
        except Exception as exc:
            results.append(ExportResult(record.id, record.name, "failed", first_line(exc), 0))
    return results


def _export_mlflow_run(
    client: Any,
    experiment_id: str,
    store: Store,
    shape: RunShape,
    names: tuple[dict[str, str], dict[str, str], dict[str, str]],
) -> ExportResult:
    record = shape.record
    notes: list[str] = []
    done = client.search_runs([experiment_id], filter_string=f"tags.`mlnb.run_id` = '{record.id}'")
    for found in done:
        if found.info.status == "RUNNING" and record.status != "running":
            # an export from before exports were atomic, left empty and RUNNING
            notes.append(_discard(client, found.info.run_id, "an incomplete earlier export"))
        else:
            return ExportResult(record.id, record.name, "skipped", found.info.run_id, 0)
    partial = client.search_runs(
        [experiment_id], filter_string=f"tags.`mlnb.exporting` = '{record.id}'"
    )
    for found in partial:
        if "mlnb.run_id" not in found.data.tags:
            notes.append(_discard(client, found.info.run_id, "an interrupted earlier export"))
    plan = _mlflow_plan(store, shape, names)
    run = client.create_run(
        experiment_id,
        start_time=round(record.started * 1000),
        tags={"mlnb.exporting": record.id},
        run_name=record.name,
    )
    run_id = run.info.run_id
    try:
        _write_mlflow(client, run_id, plan)
    except BaseException as exc:
        outcome = _discard(client, run_id, "the MLflow run")
        if not isinstance(exc, Exception):
            raise
        return ExportResult(record.id, record.name, "failed", f"{first_line(exc)} ({outcome})", 0)
    return ExportResult(
        record.id,
        record.name,
        "exported",
        run_id,
        plan.points,
        tuple(plan.renamed),
        tuple(plan.lossy),
        tuple(plan.notes + notes),
    )


def _discard(client: Any, run_id: str, what: str) -> str:
    """Mark an MLflow run FAILED and delete it; say what became of it."""
    try:
        client.set_terminated(run_id, "FAILED")
    except Exception:  # the delete below may still work
        pass
    try:
        client.delete_run(run_id)
    except Exception as exc:
        return (
            f"{what} {run_id} could not be deleted ({first_line(exc)}); it has no mlnb.run_id tag, "
            "so the next export replaces it"
        )
    return f"{what} {run_id} was deleted, nothing of it is kept"


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write_mlflow(client: Any, run_id: str, plan: _MlflowPlan) -> None:
    """Write a planned run; the caller discards the run if this raises."""
    from mlflow.entities import Metric, Param, RunTag

    record = plan.shape.record
    for batch in _chunks(plan.params, 100):
        client.log_batch(run_id, params=[Param(k, v) for k, v in batch])
    for batch in _chunks(plan.tags, 100):
        client.log_batch(run_id, tags=[RunTag(k, v) for k, v in batch])
    for batch in _chunks(plan.metrics, 1000):
        client.log_batch(run_id, metrics=[Metric(k, v, t, s) for k, v, t, s in batch])
    plan.lossy.extend(_read_back_non_finite(client, run_id, plan.metrics, plan.labels))
    renamed = [{"kind": k, "from": a, "to": b} for k, a, b in plan.renamed]
    extra = []
    if renamed:
        text = json.dumps(renamed, ensure_ascii=False)
        extra.append(("mlnb.renamed", text if len(text) <= MLFLOW_TAG_LIMIT else RECORD_ARTIFACT))
    if plan.lossy:
        text = "\n".join(plan.lossy)
        extra.append(("mlnb.lossy", text if len(text) <= MLFLOW_TAG_LIMIT else RECORD_ARTIFACT))
    if extra:
        client.log_batch(run_id, tags=[RunTag(k, v) for k, v in extra])
    for path, folder in plan.artifacts:
        client.log_artifact(run_id, path, artifact_path=folder)
    user_names = {posixpath.join(folder or "", Path(path).name) for path, folder in plan.artifacts}
    name = RECORD_ARTIFACT if RECORD_ARTIFACT not in user_names else f"mlnb/run-{record.id}.json"
    with tempfile.TemporaryDirectory(prefix="mlnb-export-") as tmp:
        record_file = Path(tmp) / posixpath.basename(name)
        record_file.write_text(
            record_json(record, renamed=renamed, lossy=plan.lossy, exported=time.time()),
            encoding="utf-8",
        )
        client.log_artifact(run_id, str(record_file), artifact_path=posixpath.dirname(name))
    end = round((record.ended or record.heartbeat or record.started) * 1000)
    client.set_terminated(run_id, MLFLOW_STATUS[record.status], end_time=end)
    client.set_tag(run_id, "mlnb.run_id", record.id)
    client.delete_tag(run_id, "mlnb.exporting")


def _read_back_non_finite(
    client: Any,
    run_id: str,
    metrics: Sequence[tuple[str, float, int, int]],
    labels: Mapping[str, str],
) -> list[str]:
    """Compare NaN/±inf points with what the store kept (a SQL store clamps ±inf)."""
    wanted: dict[str, dict[str, int]] = {}
    for key, value, _stamp, _step in metrics:
        if not math.isfinite(value):
            counts = wanted.setdefault(key, {})
            counts[describe(value)] = counts.get(describe(value), 0) + 1
    out = []
    for key, counts in wanted.items():
        kept: dict[str, int] = {}
        for metric in client.get_metric_history(run_id, key):
            if not math.isfinite(metric.value):
                kept[describe(metric.value)] = kept.get(describe(metric.value), 0) + 1
        for kind, n in counts.items():
            lost = n - kept.get(kind, 0)
            if lost > 0:
                instead = {"+inf": "1.797e+308", "-inf": "-1.797e+308"}.get(kind, "a number")
                out.append(
                    f"{labels.get(key, repr(key))}: {lost} {kind} point(s) read back as {instead}: "
                    f"this MLflow store does not keep {kind}"
                )
    return out
