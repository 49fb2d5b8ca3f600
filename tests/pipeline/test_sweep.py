"""Sweeps: grid and random sampling, checks before start, parallel processes, failures, trials
stored as runs."""

from __future__ import annotations

import pytest

from mlnb.exceptions import PipelineSpecError, UnknownParameterError
from mlnb.pipeline.loading import load_notebook
from mlnb.pipeline.run import run_name
from mlnb.pipeline.section import PipelineSection, section_of
from mlnb.pipeline.sweep import SweepResult, Trial, sweep
from mlnb.pipeline.sweep_space import Range, grid, parse_space, random_samples
from mlnb.runs.external import ended_record
from mlnb.runs.records import RunRecord
from mlnb.runs.store import Store
from tests.helpers import START_TIMEOUT

TRAIN = [
    "import mlnb\nassert lr != 0.3, 'lr 0.3 diverges'\nmlnb.record('acc', lr * bs)\nmlnb.record('loss', 1 / bs)"
]


def test_space_parsing_grid_and_random(notebook):
    nb = load_notebook(notebook("t.ipynb", ["pass"], parameters="lr = 0.1\nbs = 32\nname = 'a'"))
    space = parse_space(["lr=0.1,1", "bs=32,64", "name=07"], nb)
    assert space == {"lr": [0.1, 1], "bs": [32, 64], "name": ["07"]}
    assert grid(space)[0] == {"lr": 0.1, "bs": 32, "name": "07"} and len(grid(space)) == 4
    picks = random_samples(space, 3, seed=1)
    assert len({tuple(p.items()) for p in picks}) == 3 and picks == random_samples(space, 3, seed=1)
    ranged = parse_space(["lr=1e-4..1e-1:log", "bs=8..64"], nb)
    assert ranged["lr"] == Range(1e-4, 1e-1, log=True) and ranged["bs"].integer
    for draw in random_samples(ranged, 20, seed=2):
        assert 1e-4 <= draw["lr"] <= 1e-1 and isinstance(draw["bs"], int)
    with pytest.raises(PipelineSpecError) as info:
        grid(ranged)
    assert (
        str(info.value)
        == "lr, bs is a range, which a grid cannot enumerate — add --random N to sample it."
    )


def test_best_trial_and_table():
    def rec(acc, status="finished"):
        section = PipelineSection(notebook="n", output="o.ipynb", values={"acc": acc, "loss": -acc})
        begun = RunRecord(
            "x",
            "n",
            "p",
            "running",
            1.0,
            None,
            None,
            None,
            None,
            provenance={"pipeline": section.to_dict()},
        )
        return ended_record(begun, status, ended=2.0)

    trials = [
        Trial(0, {"lr": 0.1}, rec(0.5)),
        Trial(1, {"lr": 0.2}, rec(0.9)),
        Trial(2, {"lr": 0.3}, rec(0.99, "failed")),
        Trial(3, {"lr": 0.4}),
    ]
    result = SweepResult(trials)
    assert result.metric == "acc" and result.best is trials[1]
    assert SweepResult(trials, metric="loss", direction="min").best is trials[1]
    text = result.text()
    assert "1 *    finished  0.2  0.9" in text
    assert (
        text.splitlines()[-1]
        == "best: trial 1 (acc=0.9, max) lr=0.2 -> o.ipynb; 1 of 4 trials did not finish"
    )


def test_bad_value_stops_the_sweep_before_any_kernel(notebook, tmp_path):
    path = notebook("t.ipynb", TRAIN, parameters="lr = 0.1\nbs = 32")
    with pytest.raises(UnknownParameterError, match="has no parameter 'batch'"):
        sweep(path, {"batch": [1, 2]}, output_dir=tmp_path / "sw", progress=False)
    assert not list((tmp_path / "sw").glob("*.ipynb")) if (tmp_path / "sw").exists() else True


@pytest.mark.kernel
def test_parallel_sweep_one_failure_does_not_stop_the_others(notebook, tmp_path):
    path = notebook("t.ipynb", TRAIN, parameters="lr = 0.1\nbs = 32")
    result = sweep(
        path,
        {"lr": [0.1, 0.3], "bs": [2, 4]},
        jobs=2,
        seed=3,
        output_dir=tmp_path / "sw",
        start_timeout=START_TIMEOUT,
        progress=False,
    )
    statuses = {(t.params["lr"], t.params["bs"]): t.status for t in result.trials}
    assert statuses == {
        (0.1, 2): "finished",
        (0.1, 4): "finished",
        (0.3, 2): "failed",
        (0.3, 4): "failed",
    }
    assert result.best.params == {"lr": 0.1, "bs": 4} and result.metric == "acc"
    failed = [t.record for t in result.trials if t.status == "failed"]
    assert all(r.error == "AssertionError: lr 0.3 diverges" for r in failed)
    assert sorted(p.name for p in (tmp_path / "sw").glob("*.ipynb")) == [
        f"t-trial-00{i}.ipynb" for i in range(4)
    ]
    assert len({t.record.id for t in result.trials}) == 4 and {
        section_of(t.record).seed for t in result.trials
    } == {3}


@pytest.mark.kernel
def test_fail_fast_starts_no_more_trials(notebook, tmp_path):
    path = notebook("t.ipynb", TRAIN, parameters="lr = 0.1\nbs = 32")
    result = sweep(
        path,
        {"lr": [0.3, 0.1, 0.1, 0.1]},
        fixed={"bs": 2},
        jobs=1,
        seed=3,
        fail_fast=True,
        output_dir=tmp_path / "sw",
        start_timeout=START_TIMEOUT,
        progress=False,
    )
    assert [t.status for t in result.trials] == ["failed", "skipped", "skipped", "skipped"]


@pytest.mark.kernel
def test_sweep_trials_are_stored_runs_named_by_trial(notebook, tmp_path):
    path = notebook("s.ipynb", ["import mlnb\nmlnb.record('y', x * 10)"])
    result = sweep(
        path,
        {"x": [1, 2]},
        jobs=2,
        seed=0,
        output_dir=tmp_path / "sw",
        progress=False,
        start_timeout=START_TIMEOUT,
    )
    with Store(readonly=True) as store:
        stored = {r.id: r for r in store.list_runs()}
    for trial in result.trials:
        run_record = stored[trial.record.id]
        assert run_record.status == "finished"
        assert run_record.summary == {"y": run_record.config["x"] * 10}
        assert run_record.name == trial.record.name and run_record.name.startswith("s trial-")
    assert (
        run_name("a/s.ipynb", ["trial-3"]) == "s trial-3"
        and run_name("e.ipynb", ["step:ev"]) == "step ev"
    )
