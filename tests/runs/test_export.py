"""Export to a real MLflow tracking store (sqlite) and to TensorBoard event files, read back."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest

import mlnb
from mlnb.exceptions import InvalidArgumentError
from mlnb.runs import export
from mlnb.runs.export import mlflow_key, tensorboard_dir


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
