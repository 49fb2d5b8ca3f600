"""A run: logging, bad input, buffering, summary, failures of the store, artifacts, finishing."""

from __future__ import annotations

import dataclasses
import datetime
import math
import time
from pathlib import Path

import numpy as np
import pytest

import mlnb
from mlnb.exceptions import (
    InvalidArgumentError,
    MetricValueError,
    MlnbWarning,
    NoActiveRunError,
    RunsError,
    StoreError,
)
from mlnb.runs import Store


def test_two_runs_side_by_side_as_objects(home: Path) -> None:
    a = mlnb.start("a", system_interval=None)
    b = mlnb.start("b", system_interval=None, active=False)
    for step in range(100):
        a.log({"loss": 1.0}, step=step)
        b.log({"loss": 2.0}, step=step)
    mlnb.log({"extra": 3.0})  # goes to the active run, a
    a.finish()
    b.finish()
    store = a.store
    assert store.count_metrics(a.id) == 101 and store.count_metrics(b.id) == 100
    assert {r.value for r in store.metrics(b.id)} == {2.0}


@pytest.mark.parametrize(
    ("data", "step", "message"),
    [
        (
            {"loss": "low"},
            None,
            "metric 'loss' must be a number, got text 'low' — put text in config, tags or summary.",
        ),
        (
            {"w": np.zeros(3)},
            None,
            "metric 'w' must be a single number, got a ndarray of shape (3,) — log .item() or a mean.",
        ),
        (
            {"z": np.complex128(1 + 2j)},
            None,
            "metric 'z' must be a real number, got complex (1+2j) — log its .real or abs().",
        ),
        (
            {"z": np.complex64(1)},
            None,
            "metric 'z' must be a real number, got complex (1+0j) — log its .real or abs().",
        ),
        ({"big": 10**400}, None, "metric 'big' is too large for a float: " + repr(10**400) + "."),
        ({"": 1.0}, None, "a metric name must be a non-empty string, got ''."),
        ({3: 1.0}, None, "a metric name must be a non-empty string, got 3."),
        ({"a\nb": 1.0}, None, "metric name 'a\\nb'… must be one line of at most 250 characters."),
        ({"loss": 1.0}, -1, "step must be from 0 to 2**63 - 1 (9223372036854775807), got -1."),
        (
            {"loss": 1.0},
            2**63,
            f"step must be from 0 to 2**63 - 1 (9223372036854775807), got {2**63}.",
        ),
        ({"loss": 1.0}, 1.5, "step must be a whole number, got 1.5."),
        (
            [("loss", 1.0)],
            None,
            "log() takes a dict of metric name → number, got list — write run.log({'loss': value}).",
        ),
    ],
)
def test_bad_log_input_is_one_sentence(
    home: Path, data: object, step: object, message: str
) -> None:
    run = mlnb.start("bad", system_interval=None)
    with pytest.raises(MetricValueError) as caught:
        run.log(data, step=step)  # type: ignore[arg-type]
    assert str(caught.value) == message
    run.log({"ok": 1.0})  # the run is still usable
    assert run.finish().summary == {"ok": 1.0}


def test_numpy_torch_and_int_values_are_accepted(home: Path) -> None:
    import torch

    run = mlnb.start("types", system_interval=None)
    run.log(
        {
            "np": np.float32(0.5),
            "int": 3,
            "bool": True,
            "tensor": torch.tensor(0.25),
            "step_np": 1.0,
        },
        step=np.int64(7),
    )
    record = run.finish()
    assert record.summary == {"np": 0.5, "int": 3.0, "bool": 1.0, "tensor": 0.25, "step_np": 1.0}
    assert {r.step for r in run.store.metrics(run.id)} == {7}


def test_a_loss_tensor_that_requires_grad_is_logged_without_torch_warnings(home: Path) -> None:
    """``run.log({"loss": loss})`` is how a loop logs: no "requires_grad ... to a scalar"
    warning from inside mlnb (TensorBoard's add_scalar detaches too)."""
    import warnings

    import torch

    weight = torch.tensor(2.0, requires_grad=True)
    run = mlnb.start("grad", system_interval=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run.log({"loss": weight * 1.5})
    assert run.finish().summary == {"loss": 3.0}


def test_log_after_finish_is_refused(home: Path) -> None:
    run = mlnb.start("done", system_interval=None)
    run.finish()
    with pytest.raises(
        RunsError,
        match=r"run 'done' is finished; start a new one to log more \(`mlnb.start\(...\)`\)\.",
    ):
        run.log({"loss": 1.0})
    with pytest.raises(NoActiveRunError, match="cannot finish: no run is active"):
        mlnb.finish()


def test_non_json_config_is_stored_as_repr_with_a_warning(home: Path) -> None:
    class Optimizer:
        def __repr__(self) -> str:
            return "Optimizer(lr=0.1)"

    with pytest.warns(MlnbWarning) as caught:
        run = mlnb.start(
            "cfg",
            config={
                "opt": Optimizer(),
                "lr": 0.1,
                "nested": {"x": [1, Optimizer()]},
                "nan": math.nan,
            },
            system_interval=None,
        )
    assert [str(w.message) for w in caught] == [
        "mlnb: config['opt'] = Optimizer(lr=0.1) is not JSON-serialisable; it is stored as its repr.",
        "mlnb: config['nested']['x'][1] = Optimizer(lr=0.1) is not JSON-serialisable; it is stored as its repr.",
    ]
    record = run.finish()
    loop: dict[str, object] = {"lr": 0.1}
    loop["self"] = loop  # a container inside itself: cut there, not a RecursionError
    with pytest.warns(MlnbWarning, match=r"config\['self'\]\['self'\] = … contains itself"):
        assert mlnb.runs.values.sanitize_config(loop)["self"] == {"lr": 0.1, "self": "…"}
    assert record.config["opt"] == "Optimizer(lr=0.1)"
    assert record.config["nested"]["x"] == [1, "Optimizer(lr=0.1)"]
    assert math.isnan(record.config["nan"]) and record.config["lr"] == 0.1


@dataclasses.dataclass
class _Args:
    lr: float = 0.5
    out: Path = Path("/out")


def test_numpy_torch_paths_dates_sets_and_dataclasses_in_config_and_summary_are_plain_values(
    home: Path,
) -> None:
    """What MLflow logs as ``str(value)`` and W&B as a number or list is a number, list or text
    here too, never a repr like ``np.float64(0.1)`` (which importance would take for a category)."""
    import warnings

    import torch

    config = {
        "lr": np.float64(0.1),
        "hidden": np.int64(64),
        "flag": np.bool_(True),
        "half": np.float32(0.5),
        "t": torch.tensor(3),
        "grid": np.arange(3),
        "ws": [np.float64(0.25), torch.tensor([1.5, 2.5])],
        "path": Path("/data/x"),
        "when": datetime.datetime(2024, 1, 2, 3, 4, 5),
        "day": datetime.date(2024, 1, 2),
        "ids": {3, 1, 2},
        "args": _Args(),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error", MlnbWarning)
        run = mlnb.start("plain", config=config, system_interval=None)
        run.summary["best"] = np.float32(0.75)
        run.summary["epoch"] = torch.tensor(9)
        run.summary["cm"] = np.eye(2, dtype=np.int64)
    expected = {
        "lr": 0.1,
        "hidden": 64,
        "flag": True,
        "half": 0.5,
        "t": 3,
        "grid": [0, 1, 2],
        "ws": [0.25, [1.5, 2.5]],
        "path": "/data/x",
        "when": "2024-01-02 03:04:05",
        "day": "2024-01-02",
        "ids": [1, 2, 3],
        "args": {"lr": 0.5, "out": "/out"},
    }
    record = run.finish()
    for stored in (run.config, record.config):
        assert stored == expected
        assert type(stored["hidden"]) is int and type(stored["lr"]) is float
    assert record.summary == {"best": 0.75, "epoch": 9, "cm": [[1, 0], [0, 1]]}


def test_bad_start_arguments(home: Path) -> None:
    with pytest.raises(InvalidArgumentError, match=r"config must be a dict, got list\."):
        mlnb.start("x", config=[1, 2], system_interval=None)  # type: ignore[arg-type]
    with pytest.raises(
        InvalidArgumentError, match=r"a run name must be a non-empty one-line string, got 'a\\nb'\."
    ):
        mlnb.start("a\nb", system_interval=None)
    run = mlnb.start("ok", system_interval=None)
    with pytest.raises(
        InvalidArgumentError, match=r"status must be one of finished, failed, killed, got 'done'\."
    ):
        run.finish("done")


def test_points_reach_disk_within_a_second_without_finish(home: Path) -> None:
    run = mlnb.start("flushing", system_interval=None)
    for step in range(1000):
        run.log({"loss": float(step)}, step=step)
    time.sleep(1.2)
    with Store(home, readonly=True) as other:  # another connection, as another process sees it
        assert other.count_metrics(run.id) == 1000
        assert other.get_run(run.id).status == "running"


def test_summary_is_last_values_overridden_by_hand(home: Path) -> None:
    run = mlnb.start("summary", system_interval=None)
    run.log({"loss": 2.0, "acc": 0.1})
    run.log({"loss": 1.0})
    run.summary["loss"] = 0.5  # e.g. the best value
    run.summary["note"] = "best at epoch 3"
    record = run.finish()
    assert record.summary == {"loss": 0.5, "acc": 0.1, "note": "best at epoch 3"}


def test_every_dict_method_of_the_summary_checks_values_and_is_saved(home: Path) -> None:
    """``summary |= {...}`` and ``setdefault`` skipped the checks: a NumPy value then broke
    every flush (a raw TypeError, points stuck in memory); ``del``/``pop`` were not saved."""
    run = mlnb.start("summary dict", system_interval=None)
    run.log({"loss": 1.0})
    run.summary["gone"] = 1.0
    run.summary["popped"] = 2.0
    run.flush()
    run.summary |= {"a": np.float32(0.5)}
    assert run.summary.setdefault("b", np.int64(2)) == 2
    del run.summary["gone"]
    assert run.summary.pop("popped") == 2.0
    run.flush()
    assert run.store.get_run(run.id).summary == {"loss": 1.0, "a": 0.5, "b": 2}
    run.summary.clear()
    assert run.finish().summary == {"loss": 1.0}


def test_context_manager_records_failure_and_interrupt(home: Path) -> None:
    with (
        pytest.raises(ValueError, match="diverged"),
        mlnb.start("boom", system_interval=None) as run,
    ):
        run.log({"loss": math.inf})
        raise ValueError("diverged")
    record = run.store.get_run(run.id)
    assert record.status == "failed"
    assert record.error.startswith(f"ValueError: diverged ({Path(__file__).name}:")
    with pytest.raises(KeyboardInterrupt), mlnb.start("stopped", system_interval=None) as run:
        raise KeyboardInterrupt
    assert run.store.get_run(run.id).status == "killed"


def test_a_failing_store_keeps_points_until_it_works_again(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = mlnb.start("flaky", system_interval=None)
    run.log({"loss": 1.0}, step=0)
    real_append = run.store.append
    calls = {"n": 0}

    def failing_once(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise StoreError(run.store.path, "disk full")
        real_append(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(run.store, "append", failing_once)
    with pytest.raises(StoreError, match="disk full"):
        run.flush()
    run.log({"loss": 2.0}, step=1)
    monkeypatch.undo()
    run.finish()
    assert [(r.step, r.value) for r in run.store.metrics(run.id)] == [(0, 1.0), (1, 2.0)]


def test_log_artifact_copies_the_file(home: Path, tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("hello")
    run = mlnb.start("art", system_interval=None)
    stored = run.log_artifact(source)
    with pytest.raises(InvalidArgumentError, match=r"log_artifact: .*missing.txt is not a file\."):
        run.log_artifact(tmp_path / "missing.txt")
    run.finish()
    (artifact,) = [a for a in run.store.artifacts(run.id) if a.kind == "file"]
    assert stored.read_text() == "hello" and artifact.size == 5 and artifact.name == "notes.txt"


@pytest.mark.parametrize(
    "name", ["../../../../escaped.txt", "/tmp/mlnb-absolute.txt", "notes/../../out.txt", ".."]
)
def test_artifact_names_stay_inside_the_run_folder(home: Path, tmp_path: Path, name: str) -> None:
    run = mlnb.start("art", system_interval=None)
    source = tmp_path / "source.txt"
    source.write_text("x")
    outside = lambda: sorted(p for p in tmp_path.rglob("*") if home not in (p, *p.parents))  # noqa: E731
    before = outside()
    for write in (lambda: run.log_text(name, "escaped"), lambda: run.log_artifact(source, name)):
        with pytest.raises(InvalidArgumentError) as caught:
            write()
        assert str(caught.value) == (
            f"artifact name {name!r} must be a relative path inside the run's folder "
            "(no leading '/', no '..'), e.g. 'plots/loss.png'."
        )
    assert not Path("/tmp/mlnb-absolute.txt").exists()
    assert outside() == before  # nothing written outside the store
    assert run.store.artifacts(run.id) == []
    inside = run.log_text("plots/a.txt", "fine")
    assert inside.parent.parent == run.run_dir()
    with pytest.raises(InvalidArgumentError, match="artifact name '' must be a relative path"):
        run.log_text("", "no name")
    run.finish()


def test_a_forked_child_cannot_log_to_or_finish_the_parent_run(home: Path) -> None:
    """Item 9: the child gets one sentence (its points are not silently lost) and the parent's
    run is still running and finishes with the parent's points only."""
    import os

    run = mlnb.start("parent", system_interval=None)
    run.log({"loss": 1.0}, step=0)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it saw through the pipe, then leave without atexit
        messages = []
        for action in (
            lambda: run.log({"loss": 9.0}, step=1),
            run.finish,
            lambda: mlnb.log({"x": 1.0}),
        ):
            try:
                action()
                messages.append("accepted")
            except RunsError as exc:
                messages.append(str(exc))
        child = mlnb.start("child", system_interval=None)  # the child may start its own run
        child.log({"loss": 5.0}, step=0)
        messages.append(child.finish().status)
        os.write(write, "\n".join(messages).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        messages = pipe.read().splitlines()
    refused = (
        f"cannot {{}} run 'parent' ({run.id}) from process {pid}: it belongs to process "
        f"{os.getpid()}, which started it (this one is a fork) — start a run in this process "
        "with `mlnb.start(..., active=False)`."
    )
    assert messages[0] == refused.format("log to")
    assert messages[1] == refused.format("finish")
    assert messages[2] == refused.format("log to")  # mlnb.log: the same sentence
    assert messages[3] == "finished"
    assert run.status == "running" and mlnb.active_run() is run
    record = run.finish()
    assert record.status == "finished" and [p.value for p in run.store.metrics(run.id)] == [1.0]
