"""``run.log_many``: whole arrays logged at once, checked, stored and read back exactly;
and the packing of a flush (uniform, mixed and batch entries) that both logging paths share."""

from __future__ import annotations

import math
from array import array
from pathlib import Path

import numpy as np
import pytest

import mlnb
from mlnb.exceptions import MetricValueError, RunsError
from mlnb.runs import points


def test_arrays_are_stored_and_read_back_exactly(home: Path) -> None:
    run = mlnb.start("batch", system_interval=None)
    steps = np.arange(0, 3000, 3, dtype=np.int64)
    loss = np.linspace(2.0, 0.1, steps.size)
    loss[[5, 6, 7]] = [np.nan, np.inf, -np.inf]  # kept as they are
    acc = [i / 1000 for i in range(steps.size)]  # a list works too
    assert run.log_many({"loss": loss, "acc": acc}, steps=steps) == 2 * steps.size
    loss[0] = 99.0  # the caller's array is theirs again: the logged points were copied
    run.log({"loss": 0.5})  # the step after the last one logged
    run.finish()
    stored = run.store.metrics(run.id, ["loss"])
    assert [p.step for p in stored] == [*steps.tolist(), 2998]
    got = np.array([p.value for p in stored])
    expected = np.append(np.linspace(2.0, 0.1, steps.size), 0.5)
    expected[[5, 6, 7]] = [np.nan, np.inf, -np.inf]
    assert np.array_equal(got, expected, equal_nan=True)  # bit for bit, NaN and ±inf included
    assert [p.value for p in run.store.metrics(run.id, ["acc"])] == acc
    assert math.isclose(run.store.get_run(run.id).summary["loss"], 0.5)


def test_without_steps_the_next_steps_are_used(home: Path) -> None:
    run = mlnb.start("next", system_interval=None)
    run.log({"x": 1.0}, step=9)
    run.log_many({"x": np.array([2.0, 3.0, 4.0], dtype=np.float32)})
    run.log({"x": 5.0})
    assert run.latest["x"] == 5.0
    run.finish()
    assert [(p.step, p.value) for p in run.store.metrics(run.id)] == [
        (9, 1.0),
        (10, 2.0),
        (11, 3.0),
        (12, 4.0),
        (13, 5.0),
    ]


def test_large_steps_and_float_steps_that_are_whole(home: Path) -> None:
    run = mlnb.start("steps", system_interval=None)
    run.log_many({"a": [1.0, 2.0]}, steps=np.array([2**62, 2**63 - 1], dtype=np.uint64))
    run.log_many({"b": [1.0, 2.0]}, steps=[0.0, 1e15])
    run.finish()
    assert [p.step for p in run.store.metrics(run.id, ["a"])] == [2**62, 2**63 - 1]
    assert [p.step for p in run.store.metrics(run.id, ["b"])] == [0, 10**15]


def test_a_tensor_is_copied_from_wherever_it_is(home: Path) -> None:
    torch = pytest.importorskip("torch")
    run = mlnb.start("tensor", system_interval=None)
    values = torch.linspace(0, 1, 5, requires_grad=True)
    run.log_many({"t": values * 2}, steps=torch.arange(5))
    run.finish()
    assert [p.value for p in run.store.metrics(run.id)] == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_bfloat16_tensors_are_logged_like_their_scalars(home: Path) -> None:
    """``run.log`` takes a bfloat16 scalar; NumPy has no bfloat16, which refused the array."""
    torch = pytest.importorskip("torch")
    run = mlnb.start("bf16", system_interval=None)
    run.log({"one": torch.tensor(1.5, dtype=torch.bfloat16)})
    run.log_many({"many": torch.tensor([0.5, 1.5, 3.0], dtype=torch.bfloat16)})
    run.finish()
    stored = [(p.key, p.value) for p in run.store.metrics(run.id)]
    assert stored == [("many", 0.5), ("many", 1.5), ("many", 3.0), ("one", 1.5)]


@pytest.mark.parametrize(
    ("data", "steps", "message"),
    [
        ({"": [1.0]}, None, "a metric name must be a non-empty string"),
        ({"a\nb": [1.0]}, None, "must be one line"),
        ({"loss": [[1.0, 2.0]]}, None, "must be one-dimensional, got shape (1, 2)"),
        ({"loss": 1.0}, None, "must be one-dimensional, got shape ()"),
        ({"loss": ["a", "b"]}, None, "must hold real numbers, got dtype <U1"),
        ({"loss": "ab"}, None, "must be an array of numbers, got text"),
        ({"loss": [1 + 2j]}, None, "must hold real numbers, got dtype complex128"),
        ({"loss": [1.0], "acc": [1.0, 2.0]}, None, "the arrays have different lengths"),
        ({"loss": [1.0, 2.0]}, [0], "has 2 values for 1 steps"),
        ({"loss": [1.0]}, [-1], "steps must be whole numbers from 0 to 2**63 - 1, got -1"),
        ({"loss": [1.0, 2.0]}, [0, 1.5], "got 1.5 at position 1"),
        ({"loss": [1.0]}, [float("nan")], "steps must be whole numbers from 0 to 2**63 - 1"),
        ({"loss": [1.0]}, [2.0**63], "steps must be whole numbers from 0 to 2**63 - 1"),
        ({"loss": [1.0]}, np.array([2**64 - 1], dtype=np.uint64), "got 18446744073709551615"),
        ({"loss": [1.0]}, [True], "steps must be whole numbers, got booleans"),
        ({"loss": [1.0]}, [[0]], "steps must be one-dimensional"),
        ([1.0], None, "log_many() takes a dict of metric name → array, got list"),
    ],
)
def test_bad_input_is_one_sentence_and_logs_nothing(
    home: Path, data: object, steps: object, message: str
) -> None:
    run = mlnb.start("bad", system_interval=None)
    with pytest.raises(MetricValueError) as caught:
        run.log_many(data, steps=steps)  # type: ignore[arg-type]
    text = str(caught.value)
    assert message in text and text.count("\n") == 0 and text.endswith("."), text
    run.finish()
    assert run.store.count_metrics(run.id) == 0


def test_a_finished_run_refuses(home: Path) -> None:
    run = mlnb.start("done", system_interval=None)
    run.finish()
    with pytest.raises(RunsError, match="is finished; start a new one"):
        run.log_many({"x": [1.0]})


def test_nothing_to_log_is_no_point(home: Path) -> None:
    run = mlnb.start("empty", system_interval=None)
    assert run.log_many({"x": []}, steps=[]) == 0
    assert run.log_many({}) == 0
    run.finish()
    assert run.store.count_metrics(run.id) == 0


def test_pack_keeps_logging_order_for_every_kind_of_flush() -> None:
    uniform = [(i, {"a": float(i), "b": -float(i)}, 10.0 + i, None) for i in range(4)]
    chunks = points.pack(uniform)
    assert list(chunks) == ["a", "b"]
    assert list(chunks["a"].steps) == [0, 1, 2, 3] and list(chunks["b"].values) == [0, -1, -2, -3]
    assert list(chunks["a"].cells) == [points.NO_CELL] * 4
    mixed = [
        (0, {"a": 1.0}, 1.0, 3),
        (1, {"a": 2.0, "val": 9.0}, 2.0, None),
        (array("q", [2, 3]), {"a": array("d", [3.0, 4.0])}, 3.0, 4),
        (7, {"a": 5.0}, 4.0, None),
    ]
    chunks = points.pack(mixed)
    assert list(chunks["a"].steps) == [0, 1, 2, 3, 7]
    assert list(chunks["a"].values) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert list(chunks["a"].times) == [1.0, 2.0, 3.0, 3.0, 4.0]
    assert list(chunks["a"].cells) == [3, points.NO_CELL, 4, 4, points.NO_CELL]
    assert list(chunks["val"].steps) == [1]
    assert points.last_values(mixed) == {"a": 5.0, "val": 9.0}
    assert points.pack([]) == {}


def test_mlnb_log_many_logs_to_the_active_run(home: Path) -> None:
    run = mlnb.start("active", system_interval=None)
    assert mlnb.log_many({"x": [1.0, 2.0]}, steps=[4, 5]) == 2
    run.finish()
    assert [(p.step, p.value) for p in run.store.metrics(run.id)] == [(4, 1.0), (5, 2.0)]
    with pytest.raises(RunsError, match="no run is active"):
        mlnb.log_many({"x": [1.0]})
