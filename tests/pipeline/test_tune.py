"""mlnb tune: Optuna TPE or random search over a YAML space, sqlite study that resumes, metric checks."""

from __future__ import annotations

from pathlib import Path

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


@pytest.mark.kernel
def test_random_search_tries_the_same_points_whatever_the_results(notebook, tmp_path):
    # two notebooks that score the same points differently: TPE would follow the scores,
    # random search with the same seed proposes the same points in the same order
    space = parse_space({"lr": {"low": 0.001, "high": 0.1, "log": True}, "opt": ["adam", "sgd"]})
    points = []
    for name, body in (("a.ipynb", NOTEBOOK), ("b.ipynb", ["import mlnb\nmlnb.record('acc', lr)"])):
        path = notebook(name, body, parameters="lr = 0.01\nopt = 'sgd'")
        result = tune(
            path,
            space,
            "acc",
            trials=4,
            jobs=2,
            seed=3,
            sampler="random",
            storage=f"sqlite:///{tmp_path / (name + '.db')}",
            output_dir=tmp_path / f"trials-{name}",
            start_timeout=START_TIMEOUT,
            progress=False,
        )
        points.append([t.params for t in sorted(result.study.trials, key=lambda t: t.number)])
    assert points[0] == points[1] and len({p["lr"] for p in points[0]}) == 4
    assert type(result.study.sampler).__name__ == "RandomSampler"


# --- pruning: intermediate values from the run store, pruned kernels stopped ---------------

EPOCHS = 6
LEARNING = [
    "import time\nimport mlnb\n"
    f"for epoch in range({EPOCHS}):\n"
    f"    acc = q * (epoch + 1) / {EPOCHS}\n"
    "    mlnb.log({'acc': acc}, step=epoch)   # no run started: the trial's run\n"
    "    time.sleep(0.4)",
    "mlnb.record('acc', acc)",
]


def test_mlnb_log_without_a_run_writes_to_the_pipeline_run(tmp_path, monkeypatch):
    import mlnb
    from mlnb.exceptions import NoActiveRunError
    from mlnb.runs import current_trial, external
    from mlnb.runs.store import Store
    from mlnb.runs.trial import ENV_RUN_HOME, ENV_RUN_ID

    home = tmp_path / "store"
    monkeypatch.delenv(ENV_RUN_ID, raising=False)
    with pytest.raises(NoActiveRunError):
        mlnb.log({"acc": 0.5})
    begun = external.begin("nb trial-0", home=home)
    monkeypatch.setenv(ENV_RUN_ID, begun.id)
    monkeypatch.setenv(ENV_RUN_HOME, str(home))
    mlnb.log({"acc": 0.5}, step=3)
    current_trial().log({"acc": 0.75})
    with Store(home, readonly=True) as store:
        assert [(r.step, r.value) for r in store.metrics(begun.id, ["acc"])] == [
            (3, 0.5),
            (4, 0.75),
        ]
        assert store.get_run(begun.id).status == "running"  # the pipeline ends it, not the kernel


@pytest.mark.kernel
@pytest.mark.parametrize("pruner", ["median", "asha"])
def test_pruning_stops_poor_trials_and_keeps_their_notebooks(pruner, notebook, tmp_path):
    """Optuna's MedianPruner, and its SuccessiveHalvingPruner (asynchronous successive halving)."""
    import json

    import optuna

    from mlnb.pipeline.section import section_of
    from mlnb.runs.store import Store

    path = notebook("learn.ipynb", LEARNING, parameters="q = 0.5")
    result = tune(
        path,
        parse_space({"q": {"low": 0.0, "high": 1.0}}),
        "acc",
        trials=5,
        seed=3,
        prune=pruner,
        prune_startup=1,
        storage=f"sqlite:///{tmp_path / 'study.db'}",
        output_dir=tmp_path / "trials",
        start_timeout=START_TIMEOUT,
        progress=False,
    )
    trials = result.study.get_trials(deepcopy=False)
    states = {t.number: t.state for t in trials}
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert pruned and complete and result.pruned == len(pruned), states
    assert len(pruned) + len(complete) == 5
    best_before = {t.number: t.value for t in complete}
    with Store(readonly=True) as store:
        records = {int(r.name.rsplit("-", 1)[1]): r for r in store.list_runs(tags=["tune"])}
        for t in pruned:
            record = records[t.number]
            assert record.status == "pruned" and record.error.startswith(
                f"Pruned: the {pruner} pruner"
            )
            steps = [row.step for row in store.metrics(record.id, ["acc"])]
            assert steps == list(range(len(steps))) and len(steps) < EPOCHS  # stopped early
            assert t.intermediate_values  # reported to Optuna
            assert t.params["q"] < max(c.params["q"] for c in complete)
            output = json.loads(Path(section_of(record).output).read_text())
            marked = [c for c in output["cells"] if "mlnb-error" in c["metadata"].get("tags", [])]
            assert len(marked) == 1 and marked[0]["metadata"]["mlnb"]["status"] == "pruned"
        for t in complete:
            assert len(store.metrics(records[t.number].id, ["acc"])) == EPOCHS
    assert result.study.best_value == max(best_before.values())
    assert "pruned" in result.text()


@pytest.mark.kernel
def test_prune_on_a_metric_never_logged_warns_and_loses_nothing(notebook, tmp_path):
    from mlnb.exceptions import MlnbWarning

    path = notebook("train.ipynb", NOTEBOOK, parameters="lr = 0.01\nopt = 'sgd'")
    with pytest.warns(MlnbWarning, match=r"--prune median: trial 0 logged no 'acc' while it ran"):
        result = tune(
            path,
            parse_space({"lr": {"low": 0.001, "high": 0.1}}),
            "acc",
            trials=2,
            seed=1,
            prune="median",
            prune_startup=0,
            storage=f"sqlite:///{tmp_path / 's.db'}",
            output_dir=tmp_path / "t",
            start_timeout=START_TIMEOUT,
            progress=False,
        )
    assert [t.state.name for t in result.study.trials] == ["COMPLETE", "COMPLETE"]
    assert result.pruned == 0


def test_prune_bad_inputs(notebook, tmp_path, monkeypatch):
    import sys

    from mlnb.exceptions import InvalidArgumentError, MissingDependencyError

    path = notebook("train.ipynb", NOTEBOOK, parameters="lr = 0.01\nopt = 'sgd'")
    space = parse_space({"lr": {"low": 0.001, "high": 0.1}})
    with pytest.raises(InvalidArgumentError) as caught:
        tune(path, space, "acc", prune="hyperband", progress=False)
    assert str(caught.value) == "--prune must be one of median, asha, got 'hyperband'."
    with pytest.raises(InvalidArgumentError) as caught:
        tune(path, space, "acc", sampler="bayes", progress=False)
    assert str(caught.value) == "--sampler must be one of tpe, random, got 'bayes'."
    with pytest.raises(InvalidArgumentError, match=r"^--prune reads the trials' values while"):
        tune(path, space, "acc", prune="median", backend="slurm", progress=False)
    with pytest.raises(
        InvalidArgumentError, match="--prune-startup must be a whole number of at least 0"
    ):
        tune(path, space, "acc", prune="median", prune_startup=-1, progress=False)
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(MissingDependencyError) as caught:
        tune(path, space, "acc", prune="median", progress=False)
    assert str(caught.value) == (
        'mlnb tune --prune median needs optuna, which is not installed — run `pip install "mlnb[optuna]"`.'
    )
