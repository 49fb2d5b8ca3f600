"""mlnb.repro.check_reproducible without IPython."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlnb import rng_state
from mlnb.exceptions import InvalidArgumentError
from mlnb.repro import check_reproducible


@pytest.fixture(autouse=True)
def _pinned():
    with rng_state.pinned(0, verbose=False):
        yield


def test_seeded_code_is_reproducible_and_namespace_is_as_if_run_once():
    ns = {"np": np, "counter": 0}
    report = check_reproducible("x = np.random.rand(4)\ncounter += 1\nx.sum()", ns, runs=3)
    assert report.reproducible
    assert ns["counter"] == 1  # earlier runs worked on copies
    assert [c.name for c in report.checks] == ["counter", "x", "<result>"]
    assert report.result == pytest.approx(ns["x"].sum())
    assert (
        report.summary()
        == "✓ reproducible over 3 runs: 2 variables and the result identical (counter, x)"
    )


def test_each_run_starts_from_the_same_rng_state():
    ns = {"torch": torch}
    report = check_reproducible("t = torch.randn(5)", ns)
    assert report.reproducible


def test_unseeded_source_is_named_with_its_max_difference():
    import time

    ns = {"np": np, "time": time}
    code = "noise = np.random.default_rng(time.perf_counter_ns()).normal(size=3)\nsame = 1"
    report = check_reproducible(code, ns)
    assert not report.reproducible
    (bad,) = report.differing
    assert bad.name == "noise" and bad.max_abs_diff > 0
    assert report.summary().startswith("✗ not reproducible over 2 runs: noise differs (max |Δ| = ")


def test_in_place_change_to_an_input_is_compared():
    model = torch.nn.Linear(3, 1)
    ns = {"torch": torch, "model": model}
    code = "with torch.no_grad():\n    model.weight.add_(torch.rand(1, 3, generator=torch.Generator().manual_seed(torch.seed() % 1000)))"
    report = check_reproducible(code, ns)
    check = {c.name: c for c in report.checks}["model"]
    assert check.equal is False and check.max_abs_diff > 0
    assert ns["model"] is model  # the real object got the final run


def test_printed_output_is_compared_and_shown_once(capsys):
    ns = {"np": np}
    report = check_reproducible("print(np.random.randint(0, 10**9))", ns)
    assert report.reproducible
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1  # earlier runs' output is held back
    assert [c.name for c in report.checks] == ["<printed output>"]


def test_uncopyable_input_is_shared_and_reported():
    import threading

    class Holder:
        def __init__(self):
            self.lock = threading.Lock()
            self.items = []

    ns = {"h": Holder()}
    report = check_reproducible("h.items.append(len(h.items))", ns)
    assert report.shared == ["h"]
    assert "could not copy h" in report.text()
    assert ns["h"].items == [0, 1]  # shared: both runs changed it


def test_first_run_error_is_raised_once_and_namespace_untouched():
    ns = {"x": 1}
    with pytest.raises(ZeroDivisionError) as caught:
        check_reproducible("x = 5\ny = 1 / 0", ns)
    assert ns == {"x": 1} or set(ns) == {"x", "__builtins__"}
    assert ns["x"] == 1
    assert not getattr(caught.value, "__notes__", None)


def test_later_run_error_gets_a_note():
    ns = {"state": {"calls": 0}}
    code = "import builtins\nn = builtins.__dict__.setdefault('_mlnb_calls', [])\nn.append(1)\nif len(n) > 1:\n    raise RuntimeError('flaky')"
    import builtins

    try:
        with pytest.raises(RuntimeError) as caught:
            check_reproducible(code, ns)
    finally:
        builtins.__dict__.pop("_mlnb_calls", None)
    assert "run 2 of 2 raised this, but run 1 did not" in caught.value.__notes__[0]


def test_runs_below_two_is_a_clear_error():
    with pytest.raises(
        InvalidArgumentError, match=r"runs must be a whole number of at least 2, got 1\."
    ):
        check_reproducible("x = 1", {}, runs=1)
