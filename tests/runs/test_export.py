"""Export to a real MLflow tracking store (sqlite) and to TensorBoard event files, read back."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest

import mlnb
from mlnb.exceptions import InvalidArgumentError
from mlnb.runs import export
from mlnb.runs.export_tensorboard import tensorboard_dir
from mlnb.runs.names import mlflow_key


@pytest.fixture
def logged(home: Path, tmp_path: Path) -> mlnb.runs.Run:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    run = mlnb.start(
        "wide net",
        project="digits",
        config={"lr": 0.1, "opt": {"name": "adam"}, "bn": True},
        tags=["cnn"],
        system_interval=None,
    )
    for step in range(30):
        run.log({"train/loss": 1.0 / (step + 1), "val acc": step / 30, "métrique": 2.0}, step=step)
    run.log({"train/loss": math.nan, "spike": math.inf}, step=2**40)
    run.log_artifact(notes)
    run.finish()
    return run


def test_mlflow_round_trip(logged: mlnb.runs.Run, tmp_path: Path) -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    (result,) = export("mlflow", uri)
    assert result.action == "exported" and result.points == 92
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("digits")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == "wide net" and run.info.status == "FINISHED"
    assert run.data.params == {"lr": "0.1", "opt.name": "adam", "bn": "True"}
    assert run.data.tags["mlnb.run_id"] == logged.id and run.data.tags["mlnb.tag.cnn"] == "true"
    history = client.get_metric_history(run.info.run_id, "train/loss")
    assert [m.step for m in history][:3] == [0, 1, 2] and history[-1].step == 2**40
    assert math.isnan(history[-1].value)
    assert len(client.get_metric_history(run.info.run_id, "val acc")) == 30
    assert client.get_metric_history(run.info.run_id, "métrique")[0].value == 2.0
    assert client.get_metric_history(run.info.run_id, "spike")[0].value > 1e308  # MLflow clamps inf
    artifacts = [a.path for a in client.list_artifacts(run.info.run_id)]
    assert "notes.txt" in artifacts
    (again,) = export("mlflow", uri)
    assert again.action == "skipped" and again.location == run.info.run_id


def test_tensorboard_scalars_and_hparams_in_the_same_run_folder(
    logged: mlnb.runs.Run, tmp_path: Path
) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import metadata

    logdir = tmp_path / "tb"
    (result,) = export("tensorboard", str(logdir))
    folder = tensorboard_dir(logdir, logged.store.get_run(logged.id))
    assert result.location == str(folder) and folder.name == f"wide_net-{logged.id}"
    assert [p for p in folder.iterdir() if p.is_dir()] == []  # no add_hparams sub-run
    accumulator = EventAccumulator(str(folder))
    accumulator.Reload()
    assert set(accumulator.Tags()["scalars"]) == {"train/loss", "val acc", "métrique", "spike"}
    loss = accumulator.Scalars("train/loss")
    assert [e.step for e in loss][:3] == [0, 1, 2] and loss[-1].step == 2**40
    assert math.isnan(loss[-1].value) and accumulator.Scalars("spike")[0].value == math.inf
    assert abs(accumulator.Scalars("val acc")[1].value - 1 / 30) < 1e-7  # float32 in TensorBoard
    content = accumulator.PluginTagToContent(metadata.PLUGIN_NAME)
    start = metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG])
    assert start.hparams["lr"].number_value == 0.1
    assert start.hparams["opt.name"].string_value == "adam" and start.hparams["bn"].bool_value
    experiment = metadata.parse_experiment_plugin_data(content[metadata.EXPERIMENT_TAG])
    assert {m.name.tag for m in experiment.metric_infos} == {
        "train/loss",
        "val acc",
        "métrique",
        "spike",
    }
    assert export("tensorboard", str(logdir))[0].action == "skipped"


def test_export_bad_input(logged: mlnb.runs.Run) -> None:
    with pytest.raises(
        InvalidArgumentError, match=r"cannot export to 'wandb': choose one of mlflow, tensorboard\."
    ):
        export("wandb", "x")
    with pytest.raises(
        InvalidArgumentError,
        match=r"exporting to mlflow needs a target \(a tracking URI or a folder\)\.",
    ):
        export("mlflow", "")


def test_mlflow_keys_are_made_valid() -> None:
    assert mlflow_key("train/loss") == "train/loss"
    assert mlflow_key("a//b/") == "a/b"
    assert mlflow_key("acc@top-1 (%)") == "acc_top-1 ___"
    assert mlflow_key("../x") == "x"


def test_export_lists_renames_and_lossy_values_and_prints_them(
    logged: mlnb.runs.Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlnb.cli import main

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert main(["runs", "export", "--to", "mlflow", "--tracking-uri", uri]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"exported wide net ({logged.id}): 92 points → ")
    assert lines[1:] == [
        "  lossy: metric 'spike': 1 +inf point(s) read back as 1.797e+308: "
        "this MLflow store does not keep +inf"
    ]
    assert main(["runs", "export", "--to", "mlflow", "--tracking-uri", uri]) == 0
    assert capsys.readouterr().out.startswith(f"skipped wide net ({logged.id}): already there → ")


def test_export_result_text() -> None:
    from mlnb.runs.export_shape import ExportResult

    result = ExportResult(
        "abc", "r", "exported", "/tb/r", 3, (("metric", "a b?", "a b_"),), ("x became 0",), ("n",)
    )
    assert result.text() == (
        "exported r (abc): 3 points → /tb/r\n"
        "  renamed metric 'a b?' → 'a b_'\n"
        "  lossy: x became 0\n"
        "  note: n"
    )
    assert str(ExportResult("abc", "r", "failed", "disk full", 0)) == "failed r (abc): disk full"


def test_flat_config_keeps_empty_sections_and_both_of_two_equal_paths() -> None:
    from mlnb.runs.export_shape import flat_config

    flat, notes = flat_config({"a.b": 1, "a": {"b": 2, "c": {}}, "d": {"e": {"f": None}}})
    assert flat == {"a.b": 1, "a.b (2)": 2, "a.c": {}, "d.e.f": None}
    assert notes == ["two config entries flatten to 'a.b'; the second is 'a.b (2)'"]


def test_one_to_one_names_do_not_depend_on_order_or_company() -> None:
    from mlnb.runs.names import one_to_one

    names = ["loss (train)", "loss [train]", "loss _train_", "acc", "x" * 260, "é?"]
    forward = one_to_one(names)
    assert one_to_one(reversed(names)) == forward
    assert forward["loss _train_"] == "loss _train_" and forward["acc"] == "acc"
    assert forward["é?"] == "é_"  # no clash: just cleaned
    assert len(forward["x" * 260]) == 250 and forward["x" * 260].startswith("x" * 243 + "-")
    clashing = {forward["loss (train)"], forward["loss [train]"]}
    assert len(clashing) == 2 and all(n.startswith("loss _train_-") for n in clashing)
    # the suffix depends on the original alone: same in another export with other names
    again = one_to_one(["loss (train)", "loss _train_", "zzz"])
    assert again["loss (train)"] == forward["loss (train)"]


def test_a_failed_export_prints_the_other_runs_then_one_sentence(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlflow import MlflowClient

    from mlnb.cli import main

    for name in ("a", "b"):
        run = mlnb.start(name, project="p", system_interval=None)
        run.log({"x": 1.0})
        run.finish()

    def refuse(self: object, run_id: str, **kwargs: object) -> None:
        if kwargs.get("metrics"):
            raise RuntimeError("INVALID_PARAMETER_VALUE: refused\nsecond line")
        return real(self, run_id, **kwargs)

    real = MlflowClient.log_batch
    monkeypatch.setattr(MlflowClient, "log_batch", refuse)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert main(["runs", "export", "--to", "mlflow", "--tracking-uri", uri]) == 2
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert [line.split(" ")[0] for line in out] == ["failed", "failed"]
    assert "INVALID_PARAMETER_VALUE: refused (the MLflow run " in out[0]
    (err,) = [x for x in captured.err.splitlines() if x.startswith("mlnb:")]  # (MLflow logs INFO)
    assert "Traceback" not in captured.err
    assert err.startswith("mlnb: could not export 2 of 2 runs to MLflow, first 'b' (")
    assert err.endswith("— fix the cause and export again.") and "Traceback" not in err
    monkeypatch.setattr(MlflowClient, "log_batch", real)
    assert main(["runs", "export", "--to", "mlflow", "--tracking-uri", uri]) == 0
    assert capsys.readouterr().out.count("exported") == 2


def test_mlnb_runs_export_is_callable_after_the_module_was_imported(
    logged: mlnb.runs.Run, tmp_path: Path, child_env
) -> None:
    """Importing the exporter modules first never hides the ``mlnb.runs.export`` function
    (no module of that name shadows it); checked in a fresh interpreter."""
    import subprocess

    from tests.helpers import PYTHON

    code = (
        "from mlnb.runs.export_shape import ExportError\n"
        "import mlnb.runs.exporting, mlnb.runs.export_mlflow, mlnb.runs.export_tensorboard\n"
        "import mlnb.runs\n"
        f"(r,) = mlnb.runs.export('tensorboard', {str(tmp_path / 'tb')!r})\n"
        "print(r.action, callable(mlnb.runs.export))"
    )
    done = subprocess.run(
        [PYTHON, "-c", code], env=child_env(), capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "exported True", done.stderr


def test_an_unusable_tracking_uri_is_one_sentence(logged: mlnb.runs.Run) -> None:
    from mlnb.runs.export_shape import ExportError

    uri = "nosuch://store"  # a scheme MLflow has no store for
    with pytest.raises(ExportError) as caught:
        export("mlflow", uri)
    message = str(caught.value)
    assert message.startswith(f"cannot open the MLflow tracking store {uri!r}: ")
    assert "\n" not in message and message.endswith(".")


def test_numbers_beyond_a_double_export_as_text(home: Path, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    run = mlnb.start("huge", project="p", config={"n": 10**400}, system_interval=None)
    run.log({"x": 1.0})
    run.summary["count"] = 10**400
    run.summary["exact"] = 2**53 + 1
    run.finish()
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    (ml,) = export("mlflow", uri)
    data = MlflowClient(tracking_uri=uri).get_run(ml.location).data
    assert data.params["n"] == str(10**400) and data.tags["mlnb.summary.count"] == str(10**400)
    assert data.metrics["exact"] == float(2**53 + 1)
    assert any(x.startswith("summary 'exact' = 9007199254740993 is stored as") for x in ml.lossy)
    (tb,) = export("tensorboard", str(tmp_path / "tb"))
    assert (
        tb.lossy[0] == "hparam 'n', a whole number of 401 digits (beyond a double), written as text"
    )
    assert "summary 'exact' = 9007199254740993 is beyond exact doubles (2**53)" in tb.lossy


def test_a_nan_summary_is_kept_and_not_listed_as_lossy(home: Path, tmp_path: Path) -> None:
    """NaN never equals itself: it was listed as 'stored as the double nan' / 'beyond exact
    doubles' although both MLflow and TensorBoard read it back as NaN."""
    from mlflow import MlflowClient
    from tensorboard.backend.event_processing import event_accumulator

    with mlnb.start("nan summary", project="p", system_interval=None) as run:
        run.log({"x": 1.0})
        run.summary["best"] = math.nan
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    (ml,) = export("mlflow", uri)
    assert math.isnan(MlflowClient(tracking_uri=uri).get_run(ml.location).data.metrics["best"])
    (tb,) = export("tensorboard", str(tmp_path / "tb"))
    events = event_accumulator.EventAccumulator(tb.location)
    events.Reload()
    assert math.isnan(events.Scalars("best")[0].value)
    assert not ml.lossy and not tb.lossy


def test_two_values_at_one_step_and_millisecond_keep_the_last_logged_as_latest(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow takes the larger value as latest when step and time tie; mlnb's summary (like
    W&B's) is the last logged: the later point moves by 1 ms so both say the same."""
    from mlflow import MlflowClient

    import mlnb.runs.run

    monkeypatch.setattr(mlnb.runs.run, "_now", lambda: 1_700_000_000.0)
    with mlnb.start("tie", project="p", system_interval=None) as run:
        run.log({"acc": 0.9}, step=1)
        run.log({"acc": 0.8}, step=1)  # a second evaluation at the same step
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    (result,) = export("mlflow", uri)
    client = MlflowClient(tracking_uri=uri)
    assert client.get_run(result.location).data.metrics == {"acc": 0.8}
    history = client.get_metric_history(result.location, "acc")
    assert sorted((m.value, m.timestamp) for m in history) == [
        (0.8, 1_700_000_000_001),
        (0.9, 1_700_000_000_000),
    ]
    assert result.lossy == (
        "metric 'acc': 1 point(s) share another point's step and millisecond; their time was "
        "moved by 1 ms so MLflow keeps every point and takes the last one logged as latest",
    )


def test_a_tensorboard_export_of_a_running_run_is_replaced_once_it_ended(
    home: Path, tmp_path: Path
) -> None:
    """Like MLflow's RUNNING export: a folder written while the run ran is not 'already
    exported' once the run is over — it is written again, whole."""
    from tensorboard.backend.event_processing import event_accumulator

    run = mlnb.start("ongoing", project="p", system_interval=None)
    run.log({"x": 1.0})
    run.flush()
    (early,) = export("tensorboard", str(tmp_path / "tb"), runs=[run.id])
    assert early.action == "exported" and early.points == 1
    run.log({"x": 2.0})
    run.finish()
    (late,) = export("tensorboard", str(tmp_path / "tb"))
    assert (late.action, late.location, late.points) == ("exported", early.location, 2)
    assert late.notes == ("replaced the export made while the run was running",)
    events = event_accumulator.EventAccumulator(late.location)
    events.Reload()
    assert [e.value for e in events.Scalars("x")] == [1.0, 2.0]
    assert len(list(Path(late.location).glob("events.out.tfevents.*"))) == 1
    (again,) = export("tensorboard", str(tmp_path / "tb"))
    assert again.action == "skipped"
