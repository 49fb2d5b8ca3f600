"""Parity: what ``mlnb.runs.export("tensorboard", …)`` writes, read back with TensorBoard's
``EventAccumulator`` (every point kept: ``size_guidance`` 0).

Tolerances: steps and wall times exact (int64 and double in the event proto); scalar
values exactly equal to the value rounded to float32 (TensorBoard's ``simple_value``),
which is within 2**-24 relative of the original for normal numbers; NaN matches NaN;
values beyond float32's range become ±inf and values below its smallest subnormal
become 0 — both listed by the export. hparams: numbers exact as doubles, text and
booleans exact.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import pytest

import mlnb
from mlnb.exceptions import MlnbError
from mlnb.runs import Store, export
from mlnb.runs.export_shape import ExportError, ExportResult, flat_config
from mlnb.runs.export_tensorboard import tensorboard_dir

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import api_pb2, metadata

from tests.parity.test_export_mlflow import BIG_STEP, LONG_KEY, rich_run


def _f32(value: float) -> float:
    """``value`` rounded to float32 (±inf past its range), the independent reference."""
    if math.isnan(value) or math.isinf(value):
        return value
    if abs(value) > 3.4028234663852886e38:
        return math.copysign(math.inf, value)
    return struct.unpack("<f", struct.pack("<f", value))[0]


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _load(folder: Path) -> Any:
    accumulator = event_accumulator.EventAccumulator(
        str(folder), size_guidance={event_accumulator.SCALARS: 0}
    )
    accumulator.Reload()
    return accumulator


def _hparams(accumulator: Any) -> tuple[Any, Any, Any]:
    content = accumulator.PluginTagToContent(metadata.PLUGIN_NAME)
    return (
        metadata.parse_experiment_plugin_data(content[metadata.EXPERIMENT_TAG]),
        metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG]),
        metadata.parse_session_end_info_plugin_data(content[metadata.SESSION_END_INFO_TAG]),
    )


def _hparam_value(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    return getattr(value, kind)


def check_run_in_tensorboard(store: Store, run_id: str, result: ExportResult) -> None:
    """Every scalar, the hparams and the status of one run (tolerances in the module text)."""
    record = store.get_run(run_id)
    folder = tensorboard_dir(Path(result.location).parents[1], record)
    assert result.action == "exported" and Path(result.location) == folder
    assert [p for p in folder.iterdir() if p.is_dir()] == []  # one event file, no sub-run
    accumulator = _load(folder)
    rows = store.metrics(record.id)
    assert result.points == len(rows)
    by_key: dict[str, list[Any]] = {}
    for row in rows:
        by_key.setdefault(row.key, []).append(row)
    summary_renamed = {old: new for kind, old, new in result.renamed if kind == "summary"}
    extra_tags = set()
    last = {key: points[-1].value for key, points in by_key.items()}
    hand_numbers = {
        k: v
        for k, v in record.summary.items()
        if isinstance(v, (int, float))
        and not isinstance(v, bool)
        and not (k in last and _same(v, last[k]))
    }
    for key in hand_numbers:
        extra_tags.add(summary_renamed.get(key, key))
    assert set(accumulator.Tags()["scalars"]) == set(by_key) | extra_tags
    for key, points in by_key.items():
        events = accumulator.Scalars(key)
        assert len(events) == len(points), key
        for got, want in zip(events, points, strict=True):
            assert got.step == want.step and got.wall_time == want.time, key
            assert _same(got.value, _f32(want.value)), (key, got.value, want.value)
            if abs(want.value) > 1.2e-38 and math.isfinite(got.value):  # normal float32
                assert abs(got.value - want.value) <= abs(want.value) * 2**-24
    for key, value in hand_numbers.items():
        (event,) = accumulator.Scalars(summary_renamed.get(key, key))
        assert event.step == 0 and _same(event.value, _f32(float(value)))
    experiment, start, end = _hparams(accumulator)
    flat, _ = flat_config(record.config)
    hparams = {name: _hparam_value(v) for name, v in start.hparams.items()}
    for key, value in flat.items():
        got = hparams[key]
        if isinstance(value, bool):
            assert got is value
        elif isinstance(value, (int, float)) and math.isfinite(value):
            assert got == float(value)
        elif isinstance(value, float):  # NaN/±inf: as text, and listed
            assert got == str(value) and any(f"hparam {key!r}" in x for x in result.lossy)
        elif value == {}:
            assert got == "{}"
        else:
            assert got == str(value)
    for key, value in record.summary.items():
        if key not in hand_numbers and not (key in last and _same(value, last[key])):
            want = value if isinstance(value, (bool, str)) else mlnb.runs.records.dumps(value)
            assert hparams[f"summary/{key}"] == want
    assert {i.name for i in experiment.hparam_infos} == set(hparams)
    metric_tags = {m.name.tag for m in experiment.metric_infos}
    assert metric_tags == {k for k in by_key if not k.startswith("sys/")} | extra_tags
    assert start.group_name == record.id and start.start_time_secs == record.started
    status = {"finished": api_pb2.STATUS_SUCCESS, "failed": api_pb2.STATUS_FAILURE}
    assert end.status == status.get(record.status, api_pb2.STATUS_UNKNOWN)
    assert end.end_time_secs == record.ended


def test_round_trip_scalars_hparams_and_what_float32_cannot_hold(
    home: Path, tmp_path: Path
) -> None:
    run = rich_run(tmp_path)
    (result,) = export("tensorboard", str(tmp_path / "tb"))
    check_run_in_tensorboard(run.store, run.id, result)
    accumulator = _load(Path(result.location))
    loss = accumulator.Scalars("train/loss")
    assert [e.step for e in loss][-2:] == [BIG_STEP, 2**63 - 1]  # exact int64 steps
    assert math.isnan(loss[7].value)
    assert accumulator.Scalars("spike")[0].value == math.inf  # float32 holds ±inf: not listed
    assert accumulator.Scalars("dip")[0].value == -math.inf
    assert accumulator.Scalars("huge")[0].value == math.inf  # 1e300: listed
    assert accumulator.Scalars("tiny")[0].value == 0.0  # 1e-310: listed
    assert accumulator.Scalars(LONG_KEY)[0].value == 1.5
    assert len(accumulator.Scalars("repeat")) == 2  # TensorBoard keeps both repeats
    lossy = "\n".join(result.lossy)
    assert "scalar 'huge': 1 value(s) beyond float32's ±3.4e38 (e.g. 1e+300) became ±inf" in lossy
    assert "scalar 'tiny': 1 value(s) below float32's 1.4e-45 (e.g. 1e-310) became 0" in lossy
    assert "hparam 'nan' = NaN written as the text 'nan'" in lossy
    assert "spike" not in lossy and "dip" not in lossy and "repeat" not in lossy
    _, start, _ = _hparams(accumulator)
    assert start.hparams["summary/verdict"].string_value == "good"
    assert start.hparams["summary/flag"].bool_value is True
    assert start.hparams["summary/layers"].string_value == "[64, 32]"
    assert start.hparams["big"].number_value == float(2**60 + 1)
    assert accumulator.Scalars("best/acc")[0].value == _f32(0.95)
    assert accumulator.Scalars("best_epoch")[0].value == 3.0
    assert ("summary", "train/loss", "summary/train/loss") in result.renamed
    assert accumulator.Scalars("summary/train/loss")[0].value == _f32(0.1)
    assert export("tensorboard", str(tmp_path / "tb"))[0].action == "skipped"


def test_a_failed_export_leaves_no_folder_and_a_retry_writes_it_whole(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    run = rich_run(tmp_path)
    logdir = tmp_path / "tb"
    real = EventFileWriter.add_event
    calls = []

    def fail_midway(self: Any, event: Any) -> None:
        calls.append(1)
        if len(calls) == 20:
            raise OSError("No space left on device")
        real(self, event)

    monkeypatch.setattr(EventFileWriter, "add_event", fail_midway)
    with pytest.raises(ExportError) as caught:
        export("tensorboard", str(logdir))
    message = str(caught.value)
    assert isinstance(caught.value, MlnbError) and "\n" not in message
    assert message == (
        f"could not export run 'rich' ({run.id}) to TensorBoard: No space left on device "
        "— fix the cause and export again."
    )
    assert list((logdir / "parity").iterdir()) == []  # nothing half-made, no temporary folder
    monkeypatch.setattr(EventFileWriter, "add_event", real)
    (result,) = export("tensorboard", str(logdir))
    check_run_in_tensorboard(run.store, run.id, result)


def test_a_folder_left_by_a_killed_export_is_removed(home: Path, tmp_path: Path) -> None:
    run = rich_run(tmp_path)
    record = run.store.get_run(run.id)
    folder = tensorboard_dir(tmp_path / "tb", record)
    stale = folder.parent / f".{folder.name}.partial-abc123"
    stale.mkdir(parents=True)
    (stale / "events.out.tfevents.1.host").write_bytes(b"half")
    (result,) = export("tensorboard", str(tmp_path / "tb"))
    assert not stale.exists()
    assert result.notes == (f"removed {stale.name}, left by an interrupted earlier export",)
    check_run_in_tensorboard(run.store, run.id, result)


def test_many_runs_and_statuses(home: Path, tmp_path: Path) -> None:
    results_by_status = {}
    for i in range(30):
        run = mlnb.start(f"run {i}/ü", project="parity", config={"i": i}, system_interval=None)
        for step in range(0, 2000, 40):
            run.log({"loss": 1 / (step + 1 + i), "acc": step / 2000}, step=step)
        status = ("finished", "failed", "killed")[i % 3]
        run.finish(status, "boom" if status == "failed" else None)
        results_by_status[run.id] = status
    results = export("tensorboard", str(tmp_path / "tb"))
    assert sorted(r.run_id for r in results) == sorted(results_by_status)
    assert len({r.location for r in results}) == 30
    store = mlnb.runs.open_store()
    for result in results:
        check_run_in_tensorboard(store, result.run_id, result)
