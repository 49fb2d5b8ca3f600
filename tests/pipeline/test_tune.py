"""mlnb tune: Optuna TPE over a YAML space, sqlite study that resumes, metric checks."""

from __future__ import annotations

import pytest

from mlnb.exceptions import MetricNotRecordedError, PipelineSpecError
from mlnb.pipeline.tune import Dimension, parse_space, tune
from tests.helpers import START_TIMEOUT, extra

extra("optuna")

NOTEBOOK = ["import mlnb\nmlnb.record('acc', 1 - (lr - 0.05) ** 2 - (0 if opt == 'adam' else 0.1))"]


def test_space_parsing_and_errors():
    space = parse_space(
        {
            "lr": {"low": 1e-3, "high": 0.1, "log": True},
            "epochs": {"low": 1, "high": 5},
            "opt": ["adam", "sgd"],
        }
    )
    assert space["lr"] == Dimension("lr", "float", 1e-3, 0.1, True)
    assert space["epochs"].kind == "int" and space["opt"].choices == ("adam", "sgd")
    with pytest.raises(PipelineSpecError) as info:
        parse_space({"lr": {"low": 1, "high": 0.1}})
    assert (
        str(info.value)
        == "search space, lr: low and high must be numbers with low < high, got 1, 0.1."
    )
    with pytest.raises(PipelineSpecError, match="lr: write a list of choices or"):
        parse_space({"lr": 0.1})


@pytest.mark.kernel
def test_tune_resumes_from_its_sqlite_study(notebook, tmp_path):
    path = notebook("train.ipynb", NOTEBOOK, parameters="lr = 0.01\nopt = 'sgd'")
    space = parse_space({"lr": {"low": 0.001, "high": 0.1}, "opt": ["adam", "sgd"]})
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    options = dict(
        storage=storage,
        seed=5,
        jobs=2,
        output_dir=tmp_path / "trials",
        start_timeout=START_TIMEOUT,
        progress=False,
    )
    first = tune(path, space, "acc", trials=3, **options)
    assert first.ran == 3 and len(first.study.trials) == 3
    second = tune(path, space, "acc", trials=4, **options)
    assert second.ran == 1 and len(second.study.trials) == 4
    best = second.study.best_trial
    assert best.value == max(t.value for t in second.study.trials)
    assert "best: trial" in second.text() and f"acc={best.value:.6g}" in second.text()
    assert len(list((tmp_path / "trials").glob("train-trial-*.ipynb"))) == 4


@pytest.mark.kernel
def test_metric_not_recorded_names_what_was(notebook, tmp_path):
    path = notebook("train.ipynb", NOTEBOOK, parameters="lr = 0.01\nopt = 'sgd'")
    with pytest.raises(MetricNotRecordedError) as info:
        tune(
            path,
            parse_space({"lr": {"low": 0.001, "high": 0.1}}),
            "accuracy",
            trials=2,
            seed=1,
            storage=f"sqlite:///{tmp_path / 's.db'}",
            output_dir=tmp_path / "t",
            start_timeout=START_TIMEOUT,
            progress=False,
        )
    assert str(info.value) == (
        "trial 0 finished but did not record a number named 'accuracy' (it recorded: acc) — "
        "call mlnb.record('accuracy', value) in the notebook or pick --metric from those."
    )
