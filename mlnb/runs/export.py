"""Hand runs to MLflow or TensorBoard when a team outgrows one machine.

Exporters sit in a small registry (:data:`EXPORTERS`, :func:`register`): an
exporter is a callable ``(store, records, target) -> list[ExportResult]``.

* ``mlflow``: one MLflow run per mlnb run in the experiment named after the
  project, through :class:`mlflow.MlflowClient` on any tracking URI (a
  ``sqlite:///...`` file works offline). Params are the flattened config, metrics
  keep their steps, timestamps and NaN/inf, artifacts are copied, the status maps
  to MLflow's. Runs already exported (tag ``mlnb.run_id``) are skipped.
* ``tensorboard``: one folder per run, ``<DIR>/<project>/<name>-<id>``, with the
  scalars and the hparams (config plus summary metrics) in the SAME event file —
  ``SummaryWriter.add_hparams`` would write them to a separate sub-run.
  TensorBoard stores float32, so values are rounded to float32 precision.
"""

from __future__ import annotations

import math
import os
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlnb.exceptions import InvalidArgumentError, MissingDependencyError
from mlnb.runs.comparison import flatten
from mlnb.runs.records import RunRecord
from mlnb.runs.store import Store

MLFLOW_STATUS = {
    "running": "RUNNING",
    "finished": "FINISHED",
    "failed": "FAILED",
    "killed": "KILLED",
    "crashed": "FAILED",
}


@dataclass(frozen=True)
class ExportResult:
    """What happened to one run: ``exported`` or ``skipped``, and where it went."""

    run_id: str
    name: str
    action: str
    location: str
    points: int


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
    return EXPORTERS[to](store, records, target)


# --- MLflow ----------------------------------------------------------------------


def mlflow_key(name: str) -> str:
    """A metric/param name MLflow accepts: other characters become ``_``, no empty path parts."""
    cleaned = re.sub(r"[^/\w.\- :]", "_", name)
    parts = [p for p in cleaned.split("/") if p not in ("", ".", "..")]
    key = "/".join(parts) or "_"
    return key if posixpath.normpath(key) == key else key.replace("/", "_")


def to_mlflow(store: Store, records: Sequence[RunRecord], tracking_uri: str) -> list[ExportResult]:
    """Export to an MLflow tracking server or store at ``tracking_uri``."""
    try:
        from mlflow import MlflowClient
        from mlflow.entities import Metric, Param, RunTag
    except ImportError:
        raise MissingDependencyError("mlflow", "exporting runs to MLflow", "mlflow") from None
    client = MlflowClient(tracking_uri=tracking_uri)
    results = []
    for record in records:
        experiment = client.get_experiment_by_name(record.project)
        experiment_id = (
            experiment.experiment_id if experiment else client.create_experiment(record.project)
        )
        found = client.search_runs(
            [experiment_id], filter_string=f"tags.`mlnb.run_id` = '{record.id}'"
        )
        if found:
            results.append(ExportResult(record.id, record.name, "skipped", found[0].info.run_id, 0))
            continue
        tags = {"mlnb.run_id": record.id, "mlnb.status": record.status}
        tags.update({f"mlnb.tag.{t}": "true" for t in record.tags})
        if record.error:
            tags["mlnb.error"] = record.error[:5000]
        run = client.create_run(
            experiment_id, start_time=int(record.started * 1000), tags=tags, run_name=record.name
        )
        run_id = run.info.run_id
        renamed: dict[str, str] = {}
        params = [
            Param(_renamed(k, renamed), str(v)[:6000]) for k, v in flatten(record.config).items()
        ]
        for start in range(0, len(params), 100):
            client.log_batch(run_id, params=params[start : start + 100])
        rows = store.metrics(record.id)
        metrics = [
            Metric(_renamed(r.key, renamed), r.value, int(r.time * 1000), r.step) for r in rows
        ]
        for start in range(0, len(metrics), 1000):
            client.log_batch(run_id, metrics=metrics[start : start + 1000])
        if renamed:
            client.log_batch(run_id, tags=[RunTag("mlnb.renamed", repr(renamed)[:5000])])
        for artifact in store.artifacts(record.id):
            folder = posixpath.dirname(artifact.name) or None
            client.log_artifact(run_id, artifact.path, artifact_path=folder)
        end = int((record.ended or record.heartbeat or record.started) * 1000)
        client.set_terminated(run_id, MLFLOW_STATUS[record.status], end_time=end)
        results.append(ExportResult(record.id, record.name, "exported", run_id, len(rows)))
    return results


def _renamed(key: str, renamed: dict[str, str]) -> str:
    clean = mlflow_key(key)
    if clean != key:
        renamed[key] = clean
    return clean


# --- TensorBoard -----------------------------------------------------------------


def tensorboard_dir(root: str | Path, record: RunRecord) -> Path:
    """``<root>/<project>/<name>-<id>`` with path-unsafe characters replaced."""

    def safe(text: str) -> str:
        return re.sub(r"[^\w.\-]", "_", text).strip(".") or "_"

    return Path(root) / safe(record.project) / f"{safe(record.name)}-{record.id}"


def to_tensorboard(store: Store, records: Sequence[RunRecord], logdir: str) -> list[ExportResult]:
    """Write one TensorBoard run folder per mlnb run: scalars and hparams in one event file."""
    try:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
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
        folder.mkdir(parents=True, exist_ok=True)
        writer = EventFileWriter(str(folder))
        try:
            rows = store.metrics(record.id)
            for summary in _hparams_summaries(record, sorted({r.key for r in rows})):
                writer.add_event(Event(wall_time=record.started, step=0, summary=summary))
            for row in rows:
                value = Summary.Value(tag=row.key, simple_value=row.value)
                writer.add_event(
                    Event(wall_time=row.time, step=row.step, summary=Summary(value=[value]))
                )
            end = record.ended or record.heartbeat or record.started
            writer.add_event(Event(wall_time=end, step=0, summary=_session_end(record)))
        finally:
            writer.close()
        results.append(ExportResult(record.id, record.name, "exported", str(folder), len(rows)))
    return results


def _hparams_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"bool_value": value}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"number_value": float(value)}
    return {"string_value": str(value)}


def _plugin_summary(tag: str, content: Any) -> Any:
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.plugins.hparams import metadata

    plugin = SummaryMetadata.PluginData(
        plugin_name=metadata.PLUGIN_NAME, content=content.SerializeToString()
    )
    return Summary(value=[Summary.Value(tag=tag, metadata=SummaryMetadata(plugin_data=plugin))])


def _hparams_summaries(record: RunRecord, metric_keys: Sequence[str]) -> list[Any]:
    """The experiment and session-start summaries TensorBoard's HParams tab reads."""
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    params = flatten(record.config)
    infos = [api_pb2.HParamInfo(name=name) for name in params]
    metrics = [
        api_pb2.MetricInfo(name=api_pb2.MetricName(tag=key))
        for key in metric_keys
        if not key.startswith("sys/")
    ]
    experiment = plugin_data_pb2.HParamsPluginData(
        experiment=api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics),
        version=metadata.PLUGIN_DATA_VERSION,
    )
    start = plugin_data_pb2.SessionStartInfo(group_name=record.id, start_time_secs=record.started)
    for name, value in params.items():
        if isinstance(value, float) and not math.isfinite(value):
            value = str(value)
        for field, converted in _hparams_value(value).items():
            setattr(start.hparams[name], field, converted)
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
