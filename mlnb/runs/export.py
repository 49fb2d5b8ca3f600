"""Hand runs to MLflow or TensorBoard when a team outgrows one machine.

Exporters sit in a small registry (:data:`EXPORTERS`, :func:`register`): an
exporter is a callable ``(store, records, target) -> list[ExportResult]``.

* ``mlflow``: one MLflow run per mlnb run in the experiment named after the
  project, through :class:`mlflow.MlflowClient` on any tracking URI (a
  ``sqlite:///...`` file works offline). Params are the flattened config (an empty
  section is the param ``"{}"``), metrics keep their steps, timestamps (to the
  millisecond) and NaN; summary values set by hand become metrics (numbers) or
  ``mlnb.summary.<key>`` tags (text, booleans, lists); a tag ``t`` is
  ``mlnb.tag.t = "true"``; artifacts are copied, and
  ``mlnb/run.json`` holds the whole record exactly (config, summary, tags,
  provenance, the name mapping and the list of lossy conversions). The status maps
  to MLflow's. Runs already exported (tag ``mlnb.run_id``) are skipped.
* ``tensorboard``: one folder per run, ``<DIR>/<project>/<name>-<id>``, with the
  scalars and the hparams (config plus summary) in the SAME event file —
  ``SummaryWriter.add_hparams`` would write them to a separate sub-run.
  TensorBoard stores float32, so values are rounded to float32 precision.

Each run is exported whole or not at all: names and values are checked and mapped
before anything is written; an MLflow run that fails half-way is marked FAILED and
deleted (never tagged ``mlnb.run_id``), and a TensorBoard folder is written under a
temporary name and renamed when complete, so exporting again exports the run fully.

Names are mapped one-to-one (:mod:`mlnb.runs.names`) and every rename is listed in
:attr:`ExportResult.renamed`; every value the target cannot hold exactly is listed in
:attr:`ExportResult.lossy` (±inf in an MLflow store that clamps it, params over
MLflow's 6,000 characters, repeated points moved by 1 ms, float32 overflow and
underflow, NaN/±inf hparams written as text, whole numbers beyond 2**53).
"""

from __future__ import annotations

import json
import math
import os
import posixpath
import re
import shutil
import struct
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlnb.exceptions import InvalidArgumentError, MissingDependencyError, RunsError
from mlnb.runs.names import mlflow_key, one_to_one
from mlnb.runs.records import RunRecord, dumps
from mlnb.runs.store import Store

__all__ = [
    "EXPORTERS",
    "ExportError",
    "ExportResult",
    "export",
    "mlflow_key",
    "register",
    "tensorboard_dir",
    "to_mlflow",
    "to_tensorboard",
]

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
#: the artifact that holds the whole run record, exactly
RECORD_ARTIFACT = "mlnb/run.json"
_EXACT_INT = 2**53


@dataclass(frozen=True)
class ExportResult:
    """What happened to one run, and where it went.

    Attributes:
        run_id / name: the mlnb run.
        action: ``exported``, ``skipped`` (already there) or ``failed``.
        location: the MLflow run id or the TensorBoard folder (the reason when failed).
        points: metric points written.
        renamed: ``(kind, original, new)`` for every name the target got instead of
            mlnb's, e.g. ``("metric", "loss (train)", "loss _train_")``.
        lossy: one sentence per value the target could not hold exactly.
        notes: other things done, e.g. an incomplete earlier export that was replaced.
    """

    run_id: str
    name: str
    action: str
    location: str
    points: int
    renamed: tuple[tuple[str, str, str], ...] = ()
    lossy: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The result as lines: a headline, then renames, lossy conversions and notes."""
        if self.action == "skipped":
            head = f"skipped {self.name} ({self.run_id}): already there → {self.location}"
        elif self.action == "failed":
            head = f"failed {self.name} ({self.run_id}): {self.location}"
        else:
            head = (
                f"{self.action} {self.name} ({self.run_id}): {self.points} points → {self.location}"
            )
        out = [head]
        out += [f"  renamed {kind} {old!r} → {new!r}" for kind, old, new in self.renamed]
        out += [f"  lossy: {text}" for text in self.lossy]
        out += [f"  note: {text}" for text in self.notes]
        return out

    def text(self) -> str:
        """The lines, joined."""
        return "\n".join(self.lines())

    def __str__(self) -> str:
        return self.text()


class ExportError(RunsError):
    """A run could not be exported; nothing of it was kept in the target.

    ``results`` holds the outcome of every run of the call (the others were exported).
    """

    def __init__(self, message: str, results: Sequence[ExportResult] = ()) -> None:
        self.results = list(results)
        super().__init__(message)


Exporter = Callable[[Store, Sequence[RunRecord], str], list[ExportResult]]
EXPORTERS: dict[str, Exporter] = {}


def register(name: str, exporter: Exporter) -> None:
    """Add an exporter under ``name`` (a later one replaces an earlier one)."""
    EXPORTERS[name] = exporter


def export(
    to: str,
    target: str,
    runs: Sequence[str] | None = None,
    *,
    project: str | None = None,
    store: Store | None = None,
    home: str | os.PathLike[str] | None = None,
) -> list[ExportResult]:
    """Export runs (default: every finished, failed, killed or crashed run) to ``to``.

    Each run is exported whole or not at all. ``print(result)`` shows what happened,
    every renamed metric/param/tag, and every value the target could not hold exactly.

    Args:
        to: ``"mlflow"`` or ``"tensorboard"`` (or a registered exporter).
        target: the MLflow tracking URI, or the TensorBoard log folder.
        runs: run ids, prefixes or names (default: all but running ones).
        project: only runs of this project.
        store / home: where to read.

    Raises:
        InvalidArgumentError: an unknown exporter or an empty target.
        RunNotFoundError: a run reference matches nothing.
        MissingDependencyError: mlflow or tensorboard is not installed.
        ExportError: the target refused a run (after the other runs were exported;
            nothing of the refused run is kept, so exporting again is safe).
    """
    if to not in EXPORTERS:
        raise InvalidArgumentError(
            f"cannot export to {to!r}: choose one of {', '.join(sorted(EXPORTERS))}."
        )
    if not target:
        raise InvalidArgumentError(
            f"exporting to {to} needs a target (a tracking URI or a folder)."
        )
    if store is None:
        from mlnb.runs.session import open_store as shared_store

        store = shared_store(home)
    if runs:
        records = [store.get_run(ref) for ref in runs]
    else:
        records = [r for r in store.list_runs(project=project) if r.status != "running"]
    results = EXPORTERS[to](store, records, target)
    failed = [r for r in results if r.action == "failed"]
    if failed:
        raise ExportError(_failure_sentence(to, failed, len(results)), results)
    return results


def _failure_sentence(to: str, failed: Sequence[ExportResult], total: int) -> str:
    first = failed[0]
    others = total - len(failed)
    done = f"; the other {others} run(s) were handled" if others else ""
    target = {"mlflow": "MLflow", "tensorboard": "TensorBoard"}.get(to, to)
    if len(failed) == 1:
        return (
            f"could not export run {first.name!r} ({first.run_id}) to {target}: "
            f"{first.location}{done} — fix the cause and export again."
        )
    return (
        f"could not export {len(failed)} of {total} runs to {target}, first {first.name!r} "
        f"({first.run_id}): {first.location}{done} — fix the cause and export again."
    )


def _reason(exc: BaseException) -> str:
    """The first line of an error, for a one-sentence message."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    return (text if len(text) <= 300 else text[:299] + "…").rstrip(".")


# --- what a run holds, as the targets see it ---------------------------------------


def _is_number(value: Any) -> bool:
    """An int or float a double can hold, at least approximately (not a bool, not 10**400)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, float) or abs(value) <= sys.float_info.max


def _same(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return a == b or (math.isnan(a) and math.isnan(b))
    return False


def _describe(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    return repr(value)


def flat_config(config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``{"opt": {"lr": 0.1}, "aug": {}}`` → ``{"opt.lr": 0.1, "aug": {}}`` and notes.

    An empty section stays (as ``{}``) instead of vanishing; a name two paths flatten
    to (``{"a.b": 1, "a": {"b": 2}}``) is kept twice, the second as ``"a.b (2)"``.
    """
    flat: dict[str, Any] = {}
    notes: list[str] = []

    def walk(section: Mapping[str, Any], prefix: str) -> None:
        for key, value in section.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping) and value:
                walk(value, f"{name}.")
                continue
            unique, n = name, 1
            while unique in flat:
                n += 1
                unique = f"{name} ({n})"
            if unique != name:
                notes.append(f"two config entries flatten to {name!r}; the second is {unique!r}")
            flat[unique] = value

    walk(config, "")
    return flat, notes


@dataclass
class _Shape:
    """The names one run brings: metrics, summary set by hand, config, tags."""

    record: RunRecord
    metric_keys: list[str]
    summary_numbers: dict[str, float | int]  # target metric/scalar name → value
    summary_text: dict[str, Any]  # summary key → value
    summary_names: dict[str, str]  # summary key → metric name, where not the key itself
    config: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _shape(store: Store, record: RunRecord) -> _Shape:
    """What of ``record`` goes out, before any name is mapped.

    The summary holds every metric's last value plus what was set by hand; only the
    values set by hand (a key that is not a metric, or a value other than the metric's
    last point) are exported as summary — the rest are the metrics' last points already.
    """
    metric_keys = store.metric_keys(record.id)
    known = set(metric_keys)
    shared = [k for k in record.summary if k in known]
    last: dict[str, float] = {}
    if shared:  # (every key at once past SQLite's limit on query parameters)
        for row in store.metrics(record.id, shared if len(shared) <= 500 else None):
            last[row.key] = row.value
    numbers: dict[str, float | int] = {}
    text: dict[str, Any] = {}
    names: dict[str, str] = {}
    for key, value in record.summary.items():
        if key in last and _same(value, last[key]):
            continue
        if _is_number(value):
            name = key
            while name in known or name in numbers:
                name = f"summary/{name}"
            if name != key:
                names[key] = name
            numbers[name] = value
        else:
            text[key] = value
    config, notes = flat_config(record.config)
    return _Shape(record, metric_keys, numbers, text, names, config, notes)


def _record_json(record: RunRecord, **extra: Any) -> str:
    """The whole record as JSON (NaN and ±inf as JSON's ``NaN``/``Infinity`` tokens)."""
    data = {**record.to_dict(), **extra}
    data["config"], data["summary"] = record.config, record.summary
    return dumps(data)


# --- MLflow ----------------------------------------------------------------------


@dataclass
class _MlflowPlan:
    shape: _Shape
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
    shapes: Sequence[_Shape],
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


def _text(value: Any) -> str:
    return value if isinstance(value, str) else dumps(value)


def _cut(kind: str, key: str, value: str, limit: int, lossy: list[str]) -> str:
    if len(value) <= limit:
        return value
    lossy.append(
        f"{kind} {key!r} ({len(value):,} characters) cut to MLflow's {limit:,}; "
        f"the full value is in the artifact {RECORD_ARTIFACT}"
    )
    return value[:limit]


def _mlflow_plan(
    store: Store, shape: _Shape, names: tuple[dict[str, str], dict[str, str], dict[str, str]]
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
        tags.append((name, _cut("tag", full, _text(value), MLFLOW_TAG_LIMIT, lossy)))

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
        if float(value) != value:
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
            f"{labels[key]}: {n} point(s) repeat another point's step, value and millisecond; "
            "their time was moved by 1 ms so MLflow keeps every point"
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
    """Points with their time moved by 1 ms where they repeat key, step, value and millisecond.

    A SQL MLflow store keys a point by (key, timestamp, step, value): an exact repeat
    would be merged into one point.
    """
    seen: set[tuple[str, str, int, int]] = set()
    moved: dict[str, int] = {}
    out = []
    for key, value, stamp, step in points:
        ident = "nan" if math.isnan(value) else repr(value)
        original = stamp
        while (key, ident, stamp, step) in seen:
            stamp += 1
        seen.add((key, ident, stamp, step))
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
            f"cannot open the MLflow tracking store {tracking_uri!r}: {_reason(exc)}."
        ) from exc
    shapes = [_shape(store, record) for record in records]
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
            results.append(ExportResult(record.id, record.name, "failed", _reason(exc), 0))
    return results


def _export_mlflow_run(
    client: Any,
    experiment_id: str,
    store: Store,
    shape: _Shape,
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
        return ExportResult(record.id, record.name, "failed", f"{_reason(exc)} ({outcome})", 0)
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
            f"{what} {run_id} could not be deleted ({_reason(exc)}); it has no mlnb.run_id tag, "
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
        path = Path(tmp) / posixpath.basename(name)
        path.write_text(
            _record_json(record, renamed=renamed, lossy=plan.lossy, exported=time.time()),
            encoding="utf-8",
        )
        client.log_artifact(run_id, str(path), artifact_path=posixpath.dirname(name))
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
            counts[_describe(value)] = counts.get(_describe(value), 0) + 1
    out = []
    for key, counts in wanted.items():
        kept: dict[str, int] = {}
        for metric in client.get_metric_history(run_id, key):
            if not math.isfinite(metric.value):
                kept[_describe(metric.value)] = kept.get(_describe(metric.value), 0) + 1
        for kind, n in counts.items():
            lost = n - kept.get(kind, 0)
            if lost > 0:
                instead = {"+inf": "1.797e+308", "-inf": "-1.797e+308"}.get(kind, "a number")
                out.append(
                    f"{labels.get(key, repr(key))}: {lost} {kind} point(s) read back as {instead}: "
                    f"this MLflow store does not keep {kind}"
                )
    return out


# --- TensorBoard -----------------------------------------------------------------


def tensorboard_dir(root: str | Path, record: RunRecord) -> Path:
    """``<root>/<project>/<name>-<id>`` with path-unsafe characters replaced."""

    def safe(text: str) -> str:
        return re.sub(r"[^\w.\-]", "_", text).strip(".")[:100] or "_"

    return Path(root) / safe(record.project) / f"{safe(record.name)}-{record.id}"


def float32(value: float) -> float:
    """``value`` as TensorBoard stores it (float32), as a Python float."""
    try:
        return float(struct.unpack("<f", struct.pack("<f", value))[0])
    except OverflowError:
        return math.copysign(math.inf, value)


class _Float32Losses:
    """Counts finite values that become ±inf and non-zero values that become 0 in float32."""

    def __init__(self) -> None:
        self.overflow: dict[str, list[float]] = {}
        self.underflow: dict[str, list[float]] = {}

    def check(self, tag: str, value: float) -> None:
        if not math.isfinite(value) or value == 0:
            return
        stored = float32(value)
        if math.isinf(stored):
            self.overflow.setdefault(tag, []).append(value)
        elif stored == 0:
            self.underflow.setdefault(tag, []).append(value)

    def sentences(self) -> list[str]:
        out = []
        for tag, values in self.overflow.items():
            out.append(
                f"scalar {tag!r}: {len(values)} value(s) beyond float32's ±3.4e38 "
                f"(e.g. {values[0]:g}) became ±inf"
            )
        for tag, values in self.underflow.items():
            out.append(
                f"scalar {tag!r}: {len(values)} value(s) below float32's 1.4e-45 "
                f"(e.g. {values[0]:g}) became 0"
            )
        return out


def to_tensorboard(store: Store, records: Sequence[RunRecord], logdir: str) -> list[ExportResult]:
    """Write one TensorBoard run folder per mlnb run: scalars and hparams in one event file."""
    try:
        from tensorboard.summary.writer.event_file_writer import EventFileWriter  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "tensorboard", "exporting runs to TensorBoard", "tensorboard"
        ) from None
    results = []
    for record in records:
        folder = tensorboard_dir(logdir, record)
        if folder.exists() and any(folder.glob("events.out.tfevents.*")):
            results.append(ExportResult(record.id, record.name, "skipped", str(folder), 0))
            continue
        try:
            results.append(_export_tensorboard_run(store, record, folder))
        except Exception as exc:
            results.append(ExportResult(record.id, record.name, "failed", _reason(exc), 0))
    return results


def _export_tensorboard_run(store: Store, record: RunRecord, folder: Path) -> ExportResult:
    """Write the run under a temporary name, then rename it: a folder is whole or absent."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    notes = []
    folder.parent.mkdir(parents=True, exist_ok=True)
    for stale in folder.parent.glob(f".{folder.name}.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
        notes.append(f"removed {stale.name}, left by an interrupted earlier export")
    shape = _shape(store, record)
    rows = store.metrics(record.id)
    losses = _Float32Losses()
    hparams, lossy = _tensorboard_hparams(shape)
    renamed = [("summary", k, v) for k, v in shape.summary_names.items()]
    scalar_tags = [k for k in shape.metric_keys if not k.startswith("sys/")]
    scalar_tags += list(shape.summary_numbers)
    end = record.ended or record.heartbeat or record.started
    partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
    try:
        writer = EventFileWriter(str(partial))
        try:
            for summary in _hparams_summaries(record, hparams, scalar_tags):
                writer.add_event(Event(wall_time=record.started, step=0, summary=summary))
            for row in rows:
                losses.check(row.key, row.value)
                value = Summary.Value(tag=row.key, simple_value=row.value)
                writer.add_event(
                    Event(wall_time=row.time, step=row.step, summary=Summary(value=[value]))
                )
            for tag, number in shape.summary_numbers.items():
                losses.check(tag, float(number))
                value = Summary.Value(tag=tag, simple_value=float(number))
                writer.add_event(Event(wall_time=end, step=0, summary=Summary(value=[value])))
            writer.add_event(Event(wall_time=end, step=0, summary=_session_end(record)))
        finally:
            writer.close()
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    lossy += losses.sentences()
    for tag, number in shape.summary_numbers.items():
        if float(number) != number:
            lossy.append(f"summary {tag!r} = {number} is beyond exact doubles (2**53)")
    return ExportResult(
        record.id,
        record.name,
        "exported",
        str(folder),
        len(rows),
        tuple(renamed),
        tuple(lossy),
        tuple(shape.notes + notes),
    )


def _tensorboard_hparams(shape: _Shape) -> tuple[dict[str, Any], list[str]]:
    """hparams: the flat config, then summary text as ``summary/<key>``; and what is lossy."""
    lossy = []
    hparams: dict[str, Any] = {}
    for name, value in shape.config.items():
        if isinstance(value, float) and not math.isfinite(value):
            lossy.append(f"hparam {name!r} = {_describe(value)} written as the text {str(value)!r}")
            value = str(value)
        elif _is_number(value) and abs(value) > _EXACT_INT and float(value) != value:
            lossy.append(f"hparam {name!r} = {value} rounded to the double {float(value)!r}")
        elif isinstance(value, int) and not isinstance(value, bool) and not _is_number(value):
            lossy.append(
                f"hparam {name!r}, a whole number of {len(str(abs(value)))} digits (beyond a "
                "double), written as text"
            )
            value = str(value)
        hparams[name] = value
    for key, value in shape.summary_text.items():
        name = f"summary/{key}"
        while name in hparams:
            name = f"summary/{name}"
        hparams[name] = value if isinstance(value, (bool, str)) else _text(value)
    return hparams, lossy


def _hparams_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"bool_value": value}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"number_value": float(value)}
    if isinstance(value, Mapping) and not value:
        return {"string_value": "{}"}
    return {"string_value": str(value)}


def _plugin_summary(tag: str, content: Any) -> Any:
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.plugins.hparams import metadata

    plugin = SummaryMetadata.PluginData(
        plugin_name=metadata.PLUGIN_NAME, content=content.SerializeToString()
    )
    return Summary(value=[Summary.Value(tag=tag, metadata=SummaryMetadata(plugin_data=plugin))])


def _hparams_summaries(
    record: RunRecord, hparams: Mapping[str, Any], metric_tags: Sequence[str]
) -> list[Any]:
    """The experiment and session-start summaries TensorBoard's HParams tab reads."""
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    infos = [api_pb2.HParamInfo(name=name) for name in hparams]
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag)) for tag in metric_tags]
    experiment = plugin_data_pb2.HParamsPluginData(
        experiment=api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics),
        version=metadata.PLUGIN_DATA_VERSION,
    )
    start = plugin_data_pb2.SessionStartInfo(group_name=record.id, start_time_secs=record.started)
    for name, value in hparams.items():
        for key, converted in _hparams_value(value).items():
            setattr(start.hparams[name], key, converted)
    session = plugin_data_pb2.HParamsPluginData(
        session_start_info=start, version=metadata.PLUGIN_DATA_VERSION
    )
    return [
        _plugin_summary(metadata.EXPERIMENT_TAG, experiment),
        _plugin_summary(metadata.SESSION_START_INFO_TAG, session),
    ]


def _session_end(record: RunRecord) -> Any:
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    status = {
        "finished": api_pb2.STATUS_SUCCESS,
        "failed": api_pb2.STATUS_FAILURE,
        "killed": api_pb2.STATUS_UNKNOWN,
        "crashed": api_pb2.STATUS_FAILURE,
    }.get(record.status, api_pb2.STATUS_RUNNING)
    end = plugin_data_pb2.SessionEndInfo(
        status=status, end_time_secs=record.ended or record.started
    )
    content = plugin_data_pb2.HParamsPluginData(
        session_end_info=end, version=metadata.PLUGIN_DATA_VERSION
    )
    return _plugin_summary(metadata.SESSION_END_INFO_TAG, content)


register("mlflow", to_mlflow)
register("tensorboard", to_tensorboard)


class _CallableModule(types.ModuleType):
    """Importing this module sets the attribute ``mlnb.runs.export`` to the module,
    hiding the lazy ``mlnb.runs.export`` function: calling the module calls the function,
    so ``mlnb.runs.export("mlflow", uri)`` works whichever was imported first."""

    def __call__(self, *args: Any, **kwargs: Any) -> list[ExportResult]:
        return export(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
