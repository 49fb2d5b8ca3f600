"""Export runs to TensorBoard: one folder per run, scalars and hparams in one event file.

``<DIR>/<project>/<name>-<id>`` holds the scalars and the hparams (config plus
summary) in the SAME event file — ``SummaryWriter.add_hparams`` would write them to a
separate sub-run. TensorBoard stores float32, so values are rounded to float32
precision and every value that changes is listed. A folder is written under a
temporary name and renamed when complete.
"""

from __future__ import annotations

import math
import re
import shutil
import struct
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlnb.exceptions import MissingDependencyError
from mlnb.runs.export_shape import (
    EXACT_INT,
    ExportResult,
    RunShape,
    as_text,
    describe,
    first_line,
    is_number,
    shape_of,
)
from mlnb.runs.records import RunRecord
from mlnb.runs.store import Store

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


#: a file in a run's folder: the run was still running when it was exported
RUNNING_MARK = ".mlnb-running"


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
        exported_while_running = (folder / RUNNING_MARK).exists() and record.status != "running"
        if (
            folder.exists()
            and any(folder.glob("events.out.tfevents.*"))
            and not exported_while_running
        ):
            results.append(ExportResult(record.id, record.name, "skipped", str(folder), 0))
            continue
        try:
            results.append(_export_tensorboard_run(store, record, folder))
        except Exception as exc:
            results.append(ExportResult(record.id, record.name, "failed", first_line(exc), 0))
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
    shape = shape_of(store, record)
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
        if record.status == "running":  # written again, whole, once the run is over
            (partial / RUNNING_MARK).write_text(f"{record.id} was running when exported\n")
        if (folder / RUNNING_MARK).exists():
            stale = folder.with_name(f".{folder.name}.partial-replaced")  # swept up if we stop here
            folder.rename(stale)
            partial.rename(folder)
            shutil.rmtree(stale, ignore_errors=True)
            notes.append("replaced the export made while the run was running")
        else:
            partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    lossy += losses.sentences()
    for tag, number in shape.summary_numbers.items():
        if isinstance(number, int) and float(number) != number:  # NaN is kept, not lossy
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


def _tensorboard_hparams(shape: RunShape) -> tuple[dict[str, Any], list[str]]:
    """hparams: the flat config, then summary text as ``summary/<key>``; and what is lossy."""
    lossy = []
    hparams: dict[str, Any] = {}
    for name, value in shape.config.items():
        if isinstance(value, float) and not math.isfinite(value):
            lossy.append(f"hparam {name!r} = {describe(value)} written as the text {str(value)!r}")
            value = str(value)
        elif is_number(value) and abs(value) > EXACT_INT and float(value) != value:
            lossy.append(f"hparam {name!r} = {value} rounded to the double {float(value)!r}")
        elif isinstance(value, int) and not isinstance(value, bool) and not is_number(value):
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
        hparams[name] = value if isinstance(value, (bool, str)) else as_text(value)
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
