"""Which hyperparameter matters most: fANOVA and forest importances over runs in the store,
with the Spearman correlation's sign; the CLI action and ``%run_compare --importance``."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

import mlnb.runs
from mlnb.exceptions import InvalidArgumentError, MissingDependencyError
from mlnb.runs.param_importance import importance

pytest.importorskip("sklearn")


def _runs(n: int = 16, *, project: str = "tune") -> list[str]:
    """Runs whose acc falls with lr (strongly), rises a little with adam, ignores junk."""
    rng = random.Random(3)
    ids = []
    for i in range(n):
        config = {
            "lr": rng.uniform(0.001, 0.5),
            "opt": {"name": rng.choice(["adam", "sgd"])},
            "junk": rng.randint(1, 9),
            "epochs": 5,
        }
        if i % 2:
            config["note"] = "odd"  # only some runs have it
        acc = 1 - 2 * config["lr"] + (0.02 if config["opt"]["name"] == "adam" else 0)
        run = mlnb.runs.start(
            f"t{i}", project=project, config=config, system_interval=None, active=False
        )
        run.log({"acc": acc, "loss": 1 - acc})
        ids.append(run.finish().id)
    return ids


@pytest.mark.parametrize("method", ["fanova", "forest"])
def test_the_parameter_that_drives_the_metric_comes_first_with_its_sign(home: Path, method):
    if method == "fanova":
        pytest.importorskip("optuna")
    ids = _runs()
    found = importance(ids, "acc", method=method)
    assert found.method == method and sorted(found.runs) == sorted(ids)
    names = [p.name for p in found.parameters]
    assert names[0] == "lr" and set(names) == {"lr", "opt.name", "junk"}
    lr, *others = found.parameters
    assert lr.importance > 0.7 and all(p.importance < 0.2 for p in others)
    assert abs(sum(p.importance for p in found.parameters) - 1) < 1e-6
    assert lr.spearman < -0.95 and lr.sign == "-" and lr.kind == "float"
    opt = next(p for p in found.parameters if p.name == "opt.name")
    assert opt.kind == "categorical" and opt.spearman is None and opt.sign == ""
    assert found.skipped == {
        "epochs": "the same in every run (5)",
        "note": "missing in 8 of 16 runs",
    }
    assert found.most_important() == "lr"
    # loss = 1 - acc: same importance order, the other sign
    assert importance(ids, "loss", method=method).parameters[0].sign == "+"
    text = found.text()
    assert text.splitlines()[0].startswith("importance for acc (") and "16 runs" in text
    assert "skipped note: missing in 8 of 16 runs" in text


def test_every_finished_run_of_a_project_by_default_and_the_same_answer_twice(home: Path):
    _runs(project="a")
    other = mlnb.runs.start("x", project="b", config={"lr": 9}, system_interval=None, active=False)
    other.log({"acc": 5.0})
    other.finish()
    first = importance(metric="acc", project="a", method="forest", seed=1)
    assert len(first.runs) == 16
    again = importance(metric="acc", project="a", method="forest", seed=1)
    assert [p.importance for p in first.parameters] == [p.importance for p in again.parameters]
    assert json.loads(json.dumps(first.to_dict()))["parameters"][0]["name"] == "lr"


def test_auto_falls_back_to_the_forest_without_optuna(home: Path, monkeypatch):
    ids = _runs(6)
    monkeypatch.setitem(sys.modules, "optuna", None)
    assert importance(ids, "acc").method == "forest"
    with pytest.raises(MissingDependencyError) as caught:
        importance(ids, "acc", method="fanova")
    assert str(caught.value) == (
        'importance with fANOVA needs optuna, which is not installed — run `pip install "mlnb[optuna]"`.'
    )
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(MissingDependencyError, match="needs scikit-learn, which is not installed"):
        importance(ids, "acc", method="forest")


def test_bad_inputs_are_one_sentence(home: Path):
    ids = _runs(4)
    with pytest.raises(InvalidArgumentError) as caught:
        importance(ids, "val/acc")
    assert str(caught.value) == (
        "importance needs at least 3 runs with 'val/acc' as a finite number; found 0 of 4 "
        "(their metrics: acc, loss) — run more trials or pick another metric."
    )
    with pytest.raises(InvalidArgumentError, match="found 2 of 2 — run more trials"):
        importance(ids[:2], "acc")
    with pytest.raises(InvalidArgumentError, match="method must be one of auto, fanova, forest"):
        importance(ids, "acc", method="shap")
    with pytest.raises(InvalidArgumentError, match="say which metric"):
        importance(ids)
    same = []
    for i in range(3):
        run = mlnb.runs.start(config={"lr": 0.1}, system_interval=None, active=False)
        run.log({"acc": float(i)})
        same.append(run.finish().id)
    with pytest.raises(InvalidArgumentError) as caught:
        importance(same, "acc")
    assert str(caught.value).startswith("no parameter differs between the 3 runs with 'acc'")
    flat = []
    for lr in (0.1, 0.2, 0.3):
        run = mlnb.runs.start(config={"lr": lr}, system_interval=None, active=False)
        run.log({"acc": 0.5})
        flat.append(run.finish().id)
    with pytest.raises(InvalidArgumentError, match=r"'acc' is 0\.5 in all 3 runs"):
        importance(flat, "acc")


def test_cli_importance(home: Path, capsys):
    from mlnb.cli import main

    _runs(8, project="p")
    assert (
        main(["runs", "importance", "--metric", "acc", "--project", "p", "--method", "forest"]) == 0
    )
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "importance for acc (random forest, 8 runs)"
    assert lines[1].split() == ["parameter", "importance", "spearman", "sign", "kind"]
    assert lines[3].split()[0] == "lr" and lines[3].split()[3] == "-"
    assert main(["runs", "importance", "-m", "acc", "--method", "forest", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "forest" and data["parameters"][0]["sign"] == "-"
    assert main(["runs", "importance", "-m", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlnb: importance needs at least 3 runs with 'nope'")


def test_run_compare_shows_importance(shell, home: Path, capsys):
    ids = _runs(6)
    shell.run_line_magic("run_compare", " ".join(ids) + " --metric acc --importance acc")
    out = capsys.readouterr().out
    assert "importance for acc (" in out and "lr" in out


def test_integers_beyond_doubles_are_told_apart_not_a_traceback(home: Path) -> None:
    """Seeds like 2**70 + i differ only past 2**53: as floats they would be one value
    (fANOVA divided by zero); they are categories, each its own."""
    for i, acc in enumerate([0.1, 0.5, 0.2, 0.6]):
        with mlnb.runs.start(
            f"s{i}", project="seeds", config={"seed": 2**70 + i}, system_interval=None
        ) as run:
            run.log({"acc": acc})
    for method in ("fanova", "forest"):
        found = importance(None, "acc", project="seeds", method=method)
        (row,) = found.parameters
        assert (row.name, row.kind, row.importance) == ("seed", "categorical", pytest.approx(1.0))
