"""Parity: what ``mlnb.runs.export("mlflow", …)`` writes, read back with ``MlflowClient``.

Every check compares the mlnb store with what MLflow returns for the same run and
states its tolerance. Exact means equal as Python values (floats bit for bit, NaN
matching NaN); MLflow keeps times in whole milliseconds, so times are compared within
0.5 ms (plus 1 ms per point moved off another's step and millisecond, which the export lists).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mlnb
from mlnb.exceptions import MlnbError
from mlnb.runs import Store, export
from mlnb.runs.export_mlflow import MLFLOW_PARAM_LIMIT
from mlnb.runs.export_shape import ExportError, ExportResult, flat_config
from mlnb.runs.names import MLFLOW_KEY_LIMIT, mlflow_key

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import ViewType  # noqa: E402

LONG_KEY = "k" * 250  # the longest metric name mlnb accepts (MLflow's limit)
BIG_STEP = 2**53


@pytest.fixture(autouse=True)
def quiet_mlflow() -> Iterator[None]:
    """MLflow's database set-up logs at INFO; the checks below are about data only."""
    names = ("alembic", "mlflow")
    levels = {n: logging.getLogger(n).level for n in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.WARNING)
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def rich_run(folder: Path, name: str = "rich", **finish: Any) -> mlnb.runs.Run:
    """A run holding everything a demanding user logs: clashing and unicode names, a
    250-character key, NaN/±inf, huge and tiny values, steps at 2**53 and 2**63 - 1, an
    exact repeat, an empty config section, a 7,000-character param, summary set by hand,
    and artifacts in and below the run folder."""
    notes = folder / "notes.txt"
    notes.write_text("hello ünïcødé")
    run = mlnb.start(
        name,
        project="parity",
        config={
            "opt": {"lr": 0.1, "betas": [0.9, 0.999], "name": "adam"},
            "aug": {},
            "x(1)": 1,
            "x[1]": 2,
            "long": "y" * 7000,
            "größe": "ünïcødé",
            "nan": math.nan,
            "none": None,
            "big": 2**60 + 1,
            "bn": True,
            "p" * 300: "a key longer than MLflow allows",
        },
        tags=["cnn", "exp#3", "ü", "t" * 250],
        system_interval=None,
    )
    for step in range(50):
        loss = math.nan if step == 7 else 1.0 / (step + 1)
        run.log({"train/loss": loss, "val acc": step / 50}, step=step)
    for step in range(5):
        run.log(
            {"loss (train)": 1.0 + step, "loss [train]": 2.0 + step, "métrique": 0.5}, step=step
        )
    run.log({"spike": math.inf, "dip": -math.inf, "huge": 1e300, "tiny": 1e-310}, step=3)
    run.log({LONG_KEY: 1.5}, step=1)
    run.log({"train/loss": 0.25}, step=BIG_STEP)
    run.log({"train/loss": 0.125}, step=2**63 - 1)
    run.log({"repeat": 1.0}, step=0)
    run.log({"repeat": 1.0}, step=0)  # the same point twice, in the same millisecond
    run.log_artifact(notes)
    run.log_text("plots/curve.txt", "1,2,3")
    run.summary["best/acc"] = 0.95
    run.summary["verdict"] = "good"
    run.summary["best_epoch"] = 3
    run.summary["flag"] = True
    run.summary["layers"] = [64, 32]
    run.summary["train/loss"] = 0.1  # not the last point: set by hand
    run.finish(**finish)
    return run


def _same(a: float, b: float) -> bool:
    """Exact float equality, NaN equal to NaN."""
    return a == b or (math.isnan(a) and math.isnan(b))


def _result_map(result: ExportResult, kind: str) -> dict[str, str]:
    return {old: new for k, old, new in result.renamed if k == kind}


def check_run_in_mlflow(client: MlflowClient, store: Store, run_id: str, result: ExportResult) -> None:  # fmt: skip
    """Everything of one mlnb run against its MLflow run (tolerances in the module text)."""
    record = store.get_run(run_id)
    assert result.action == "exported"
    ml = client.get_run(result.location)
    # --- run, status, times (exact; times in ms within 0.5 ms) ---------------------
    assert ml.info.run_name == record.name
    expected_status = {"finished": "FINISHED", "failed": "FAILED", "killed": "KILLED"}
    assert ml.info.status == expected_status[record.status]
    assert abs(ml.info.start_time - record.started * 1000) <= 0.5
    assert abs(ml.info.end_time - record.ended * 1000) <= 0.5
    tags = ml.data.tags
    assert tags["mlnb.run_id"] == record.id and tags["mlnb.status"] == record.status
    assert "mlnb.exporting" not in tags
    if record.error:
        assert tags["mlnb.error"] == record.error
    # --- params: every flattened config entry, exact text, keys one-to-one -----------
    flat, _ = flat_config(record.config)
    renamed_params = _result_map(result, "param")
    assert len(ml.data.params) == len(flat)
    for key, value in flat.items():
        name = renamed_params.get(key, key)
        text = str(value)
        if len(text) > MLFLOW_PARAM_LIMIT:  # cut, and listed
            assert ml.data.params[name] == text[:MLFLOW_PARAM_LIMIT]
            assert any(f"param {key!r} ({len(text):,} characters) cut" in x for x in result.lossy)
        else:
            assert ml.data.params[name] == text, key
    # --- tags: every mlnb tag --------------------------------------------------------
    renamed_tags = _result_map(result, "tag")
    for tag in record.tags:
        key = f"mlnb.tag.{tag}"
        assert tags[renamed_tags.get(key, key)] == "true"
    # --- metrics: the full history of every key, step exact, value exact -------------
    renamed_metrics = _result_map(result, "metric")
    rows = store.metrics(record.id)
    assert result.points == len(rows)
    by_key: dict[str, list[Any]] = {}
    for row in rows:
        by_key.setdefault(row.key, []).append(row)
    moved = sum(int(x.split(": ")[1].split(" ")[0]) for x in result.lossy if "moved by 1 ms" in x)
    inf_clamped = {x.split("'")[1] for x in result.lossy if "does not keep" in x}
    for key, points in by_key.items():
        history = client.get_metric_history(ml.info.run_id, renamed_metrics.get(key, key))
        history.sort(key=lambda m: (m.step, m.timestamp))
        assert len(history) == len(points), key  # no point merged or dropped
        for got, want in zip(history, sorted(points, key=lambda r: (r.step, r.time)), strict=True):
            assert got.step == want.step, key
            assert abs(got.timestamp - want.time * 1000) <= 0.5 + moved, key
            if math.isinf(want.value) and key in inf_clamped:  # listed: the store clamps ±inf
                assert got.value == math.copysign(sys.float_info.max, want.value)
            else:
                assert _same(got.value, want.value), (key, got.value, want.value)
    # --- summary set by hand: numbers as metrics, the rest as mlnb.summary.* tags -----
    last = {key: points[-1].value for key, points in by_key.items()}
    renamed_summary = _result_map(result, "summary")
    for key, value in record.summary.items():
        if key in last and _same(value, last[key]):
            continue  # the metric's own last point
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            name = renamed_summary.get(key, renamed_metrics.get(key, key))
            (point,) = client.get_metric_history(ml.info.run_id, name)
            assert _same(point.value, float(value)) and ml.data.metrics[name] == value
        else:
            want = value if isinstance(value, str) else json.dumps(value)
            assert tags[renamed_tags.get(f"mlnb.summary.{key}", f"mlnb.summary.{key}")] == want
    # --- artifacts: every file, same bytes (SHA-256), plus the exact record ----------
    listed = _all_artifacts(client, ml.info.run_id)
    for artifact in store.artifacts(record.id):
        assert artifact.name in listed
        local = client.download_artifacts(ml.info.run_id, artifact.name)
        assert hashlib.sha256(Path(local).read_bytes()).hexdigest() == artifact.sha256
    exact = json.loads(Path(client.download_artifacts(ml.info.run_id, "mlnb/run.json")).read_text())
    assert exact["id"] == record.id and _json_equal(exact["config"], record.config)
    assert _json_equal(exact["summary"], record.summary)
    assert exact["lossy"] == list(result.lossy)
    assert [tuple(x.values()) for x in exact["renamed"]] == [tuple(x) for x in result.renamed]
    if result.renamed:
        assert json.loads(tags["mlnb.renamed"]) == exact["renamed"]


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return _same(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _all_artifacts(client: MlflowClient, run_id: str, path: str | None = None) -> set[str]:
    found = set()
    for item in client.list_artifacts(run_id, path):
        found |= _all_artifacts(client, run_id, item.path) if item.is_dir else {item.path}
    return found


def _active_runs(client: MlflowClient, record_id: str, view: int = ViewType.ACTIVE_ONLY) -> list[Any]:  # fmt: skip
    experiment = client.get_experiment_by_name("parity")
    if experiment is None:
        return []
    return [
        r
        for r in client.search_runs([experiment.experiment_id], run_view_type=view)
        if record_id in (r.data.tags.get("mlnb.run_id"), r.data.tags.get("mlnb.exporting"))
    ]


@pytest.fixture
def uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def test_round_trip_every_param_metric_summary_status_and_artifact(
    home: Path, tmp_path: Path, uri: str
) -> None:
    run = rich_run(tmp_path)
    (result,) = export("mlflow", uri)
    client = MlflowClient(tracking_uri=uri)
    check_run_in_mlflow(client, run.store, run.id, result)
    params = client.get_run(result.location).data.params  # independent of flat_config
    assert params["aug"] == "{}" and params["opt.betas"] == "[0.9, 0.999]"
    assert params["opt.lr"] == "0.1" and params["nan"] == "nan" and params["none"] == "None"
    assert params["big"] == str(2**60 + 1) and params["bn"] == "True" and len(params) == 13
    # the SQL store clamps ±inf: read back, and listed; NaN is kept (checked above)
    assert any("metric 'spike': 1 +inf point(s) read back as 1.797e+308" in x for x in result.lossy)
    assert any("metric 'dip': 1 -inf point(s) read back as -1.797e+308" in x for x in result.lossy)
    assert any("metric 'repeat': 1 point(s) share" in x for x in result.lossy)
    # huge/tiny doubles, 2**53 and 2**63 - 1 steps are exact in MLflow: nothing listed
    assert not any("huge" in x or "tiny" in x or "train/loss" in x for x in result.lossy)
    # again: skipped, nothing duplicated
    (again,) = export("mlflow", uri)
    assert again.action == "skipped" and again.location == result.location
    assert len(_active_runs(client, run.id)) == 1


def test_clashing_names_stay_distinct_and_every_rename_is_printed(
    home: Path, tmp_path: Path, uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlnb.cli import main

    run = rich_run(tmp_path)
    assert main(["runs", "export", "--to", "mlflow", "--tracking-uri", uri]) == 0
    out = capsys.readouterr().out
    client = MlflowClient(tracking_uri=uri)
    (ml,) = _active_runs(client, run.id)
    keys = list(ml.data.metrics)
    assert len(keys) == len(set(keys))
    a = client.get_metric_history(ml.info.run_id, _clean_for(out, "metric", "loss (train)"))
    b = client.get_metric_history(ml.info.run_id, _clean_for(out, "metric", "loss [train]"))
    assert sorted(m.value for m in a) == [1.0, 2.0, 3.0, 4.0, 5.0]  # exact, not merged
    assert sorted(m.value for m in b) == [2.0, 3.0, 4.0, 5.0, 6.0]
    params = ml.data.params
    assert params[_clean_for(out, "param", "x(1)")] == "1"
    assert params[_clean_for(out, "param", "x[1]")] == "2"
    long_param = _clean_for(out, "param", "p" * 300)
    assert len(long_param) <= MLFLOW_KEY_LIMIT and params[long_param].startswith("a key longer")
    assert ml.data.tags[_clean_for(out, "tag", "mlnb.tag.exp#3")] == "true"
    assert ml.data.tags[_clean_for(out, "tag", f"mlnb.tag.{'t' * 250}")] == "true"
    assert ml.data.tags["mlnb.tag.ü"] == "true"  # unicode letters are valid: kept
    assert params["größe"] == "ünïcødé" and "métrique" in ml.data.metrics
    assert ml.data.metrics[LONG_KEY] == 1.5  # a 250-character key fits exactly
    # the summary value of a metric name goes to summary/<name>, printed too
    assert ml.data.metrics[_clean_for(out, "summary", "train/loss")] == 0.1
    assert "lossy: param 'long' (7,000 characters) cut to MLflow's 6,000" in out
    assert "exported rich (" in out


def _clean_for(out: str, kind: str, name: str) -> str:
    """The target name the CLI printed for ``name`` (``renamed KIND 'a' → 'b'``)."""
    prefix = f"  renamed {kind} {name!r} → "
    (line,) = [x for x in out.splitlines() if x.startswith(prefix)]
    return eval(line[len(prefix) :])  # the repr the CLI printed


def test_the_issue_cases_export_instead_of_failing(home: Path, tmp_path: Path, uri: str) -> None:
    """Config keys ``x(1)``/``x[1]`` and tag ``exp#3`` made the old export fail half-way."""
    run = mlnb.start(
        "issue",
        project="parity",
        config={"x(1)": 1, "x[1]": 2},
        tags=["exp#3"],
        system_interval=None,
    )
    run.log({"loss (train)": 1.0, "loss [train]": 2.0}, step=0)
    run.finish()
    (result,) = export("mlflow", uri)
    assert {(k, old) for k, old, _ in result.renamed} == {
        ("param", "x(1)"),
        ("param", "x[1]"),
        ("tag", "mlnb.tag.exp#3"),
        ("metric", "loss (train)"),
        ("metric", "loss [train]"),
    }
    check_run_in_mlflow(MlflowClient(tracking_uri=uri), run.store, run.id, result)


def test_a_failed_export_leaves_nothing_and_a_retry_exports_fully(
    home: Path, tmp_path: Path, uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = rich_run(tmp_path)
    other = rich_run(tmp_path, "other", status="failed", error="ValueError: diverged")
    calls = []
    real = MlflowClient.log_artifact

    def disk_full(self: MlflowClient, run_id: str, *args: Any, **kwargs: Any) -> None:
        calls.append(run_id)
        if len(calls) == 2:  # the second artifact of the first run
            raise OSError("No space left on device\n(a second line that must not show)")
        real(self, run_id, *args, **kwargs)

    monkeypatch.setattr(MlflowClient, "log_artifact", disk_full)
    with pytest.raises(ExportError) as caught:
        export("mlflow", uri, [run.id, other.id])
    message = str(caught.value)
    assert isinstance(caught.value, MlnbError) and "\n" not in message and message.endswith(".")
    assert message.startswith(f"could not export run 'rich' ({run.id}) to MLflow: ")
    assert "No space left on device" in message and "the MLflow run" in message
    assert "was deleted, nothing of it is kept" in message and "export again." in message
    assert [r.action for r in caught.value.results] == ["failed", "exported"]
    client = MlflowClient(tracking_uri=uri)
    assert _active_runs(client, run.id) == []  # nothing half-made is visible
    (deleted,) = _active_runs(client, run.id, ViewType.DELETED_ONLY)
    assert deleted.info.status == "FAILED" and "mlnb.run_id" not in deleted.data.tags
    check_run_in_mlflow(client, run.store, other.id, caught.value.results[1])
    monkeypatch.setattr(MlflowClient, "log_artifact", real)
    first, second = export("mlflow", uri, [run.id, other.id])
    assert (first.action, second.action) == ("exported", "skipped")
    check_run_in_mlflow(client, run.store, run.id, first)
    assert len(_active_runs(client, run.id)) == 1


def test_an_export_interrupted_before_this_version_or_midway_is_replaced(
    home: Path, tmp_path: Path, uri: str
) -> None:
    run = rich_run(tmp_path)
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment("parity")
    # the old exporter: tagged first, then failed, left RUNNING and empty
    old = client.create_run(experiment_id, tags={"mlnb.run_id": run.id})
    # a process killed during an export: tagged as in progress, never finished
    killed = client.create_run(experiment_id, tags={"mlnb.exporting": run.id})
    (result,) = export("mlflow", uri)
    assert result.action == "exported"
    assert any(old.info.run_id in n and "incomplete earlier export" in n for n in result.notes)
    assert any(killed.info.run_id in n and "interrupted earlier export" in n for n in result.notes)
    (only,) = _active_runs(client, run.id)
    assert only.info.run_id == result.location
    check_run_in_mlflow(client, run.store, run.id, result)


def test_many_runs_one_mapping(home: Path, tmp_path: Path, uri: str) -> None:
    """40 runs: every one exported once, its history complete, one name per mlnb name."""
    ids = []
    for i in range(40):
        run = mlnb.start(f"r{i}", project="parity", config={"i": i, "lr(x)": i / 10}, system_interval=None)  # fmt: skip
        for step in range(25):
            run.log({"loss (train)": i + step / 25, "loss [train]": -i}, step=step)
        run.finish("killed" if i % 7 == 0 else "finished")
        ids.append(run.id)
    results = export("mlflow", uri)
    assert sorted(r.run_id for r in results) == sorted(ids)
    client = MlflowClient(tracking_uri=uri)
    store = mlnb.runs.open_store()
    mappings = {tuple(sorted(r.renamed)) for r in results}
    assert len(mappings) == 1  # the same mlnb name has the same MLflow name in every run
    for result in results:
        check_run_in_mlflow(client, store, result.run_id, result)


def test_a_store_that_keeps_infinity_lists_nothing(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow's file store keeps ±inf: read back exactly, and not listed as lossy."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    run = mlnb.start("inf", project="parity", system_interval=None)
    run.log({"spike": math.inf, "dip": -math.inf, "gap": math.nan}, step=0)
    run.finish()
    uri = (tmp_path / "mlruns").as_uri()
    (result,) = export("mlflow", uri)
    assert result.lossy == ()
    client = MlflowClient(tracking_uri=uri)
    (ml,) = _active_runs(client, run.id)
    assert client.get_metric_history(ml.info.run_id, "spike")[0].value == math.inf
    assert client.get_metric_history(ml.info.run_id, "dip")[0].value == -math.inf
    check_run_in_mlflow(client, run.store, run.id, result)


def test_names_are_valid_for_mlflow_and_one_to_one() -> None:
    """Every mapped name passes MLflow's own validation; no two names share a target."""
    from mlflow.utils.validation import _validate_metric_name, _validate_param_name

    from mlnb.runs.names import one_to_one

    names = ["a", "a_", "a?", "a!", "../x", "x", "/", "", ".", "a//b", "a/b", "é", "😀", "😁"]
    names += ["q" * 300, "q" * 299 + "!", "loss (train)", "loss [train]", "loss _train_"]
    mapping = one_to_one(names)
    assert len(set(mapping.values())) == len(names)
    for name, target in mapping.items():
        _validate_metric_name(target)
        _validate_param_name(target)
        assert len(target) <= MLFLOW_KEY_LIMIT
        if mlflow_key(name) == name and len(name) <= MLFLOW_KEY_LIMIT:
            assert target == name  # valid names never change
    assert mapping["loss _train_"] == "loss _train_"  # the valid one keeps its name
    assert one_to_one(["loss (train)", "loss [train]"]) == {  # stable: by the name alone
        k: v for k, v in mapping.items() if k in ("loss (train)", "loss [train]")
    }
