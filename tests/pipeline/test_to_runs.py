"""Pipeline runs land in mlnb.runs' SQLite store: listed, compared and replayed from there."""

from __future__ import annotations

import pytest

from mlnb.cli import main
from mlnb.pipeline.rerun import rerun
from mlnb.pipeline.run import run, run_name, summary_of
from mlnb.pipeline.section import section_of
from mlnb.pipeline.sweep import sweep
from mlnb.runs.store import Store
from tests.helpers import START_TIMEOUT


def test_summary_keeps_numbers_and_short_text_and_describes_the_rest():
    values = {"acc": 0.9, "n": 3, "ok": True, "note": "fine", "bad": float("nan"), "arr": [1, 2]}
    assert summary_of(values) == {
        "acc": 0.9,
        "n": 3,
        "ok": True,
        "note": "fine",
        "bad": "nan",
        "arr": "<list>",
    }


@pytest.mark.kernel
def test_a_run_is_stored_with_config_summary_provenance_and_its_notebook(
    notebook, tmp_path, capsys
):
    path = notebook(
        "train.ipynb",
        ["import mlnb\nmlnb.record('acc', lr * 2)\nmlnb.record('note', 'done')"],
        parameters="lr = 0.1",
    )
    record = run(
        path, {"lr": 0.25}, tmp_path / "out" / "t.ipynb", seed=5, start_timeout=START_TIMEOUT
    )
    with Store(readonly=True) as store:
        stored = store.get_run(record.id)
        artifacts = store.artifacts(record.id)
    assert (stored.name, stored.project, stored.status) == ("train", "pipeline", "finished")
    assert stored.config == {"lr": 0.25} and stored.summary == {"acc": 0.5, "note": "done"}
    assert stored.provenance["seed"]["seed"] == 5 and "pipeline" in stored.tags
    assert stored.provenance["pipeline"]["snapshot"] == section_of(record).snapshot
    assert stored == record  # what run() returns is the stored record
    assert stored.ended is not None and stored.ended >= stored.started
    assert [(a.kind, a.name) for a in artifacts] == [("notebook", "t.ipynb")]
    # the lab's Runs panel opens the executed notebook, the input when there is none
    from mlnb.server.data import list_runs

    listed = list_runs(limit=10, root=tmp_path)["runs"]
    assert [(r["id"], r["output_path"], r["notebook_path"]) for r in listed] == [
        (record.id, "out/t.ipynb", "train.ipynb")
    ]
    # the CLI of mlnb.runs shows it
    assert main(["runs", "list"]) == 0
    assert record.id in capsys.readouterr().out


@pytest.mark.kernel
def test_a_failed_run_is_stored_failed_with_the_error(notebook, tmp_path):
    path = notebook("bad.ipynb", ["raise ValueError('nope')"])
    record = run(
        path, output=tmp_path / "b.ipynb", raise_on_failure=False, start_timeout=START_TIMEOUT
    )
    with Store(readonly=True) as store:
        stored = store.get_run(record.id)
    assert stored.status == "failed" and "ValueError: nope" in stored.error


@pytest.mark.kernel
def test_rerun_finds_a_run_through_the_store_from_anywhere(notebook, tmp_path, monkeypatch):
    path = notebook("t.ipynb", ["import mlnb, random\nmlnb.record('draw', random.random())"])
    original = run(path, output=tmp_path / "deep" / "o.ipynb", seed=3, start_timeout=START_TIMEOUT)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the store ($MLNB_HOME) answers, from any folder
    report = rerun(original.id, start_timeout=START_TIMEOUT)
    assert report.reproduced and section_of(report.replay).rerun_of == original.id


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
