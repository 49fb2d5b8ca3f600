"""mlnb.value_diff.diff_values: what counts as the same value."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mlnb import rng_state
from mlnb.value_diff import diff_values


@pytest.fixture(autouse=True)
def _pinned():
    with rng_state.pinned(0, verbose=False):
        yield


def test_diff_values_rules():
    assert diff_values(np.array([1.0, np.nan]), np.array([1.0, np.nan])).equal
    d = diff_values(np.array([1.0, 2.0]), np.array([1.5, 2.0]))
    assert (d.equal, d.max_abs_diff) == (False, 0.5)
    assert "shape (2,) vs (3,)" in diff_values(np.zeros(2), np.zeros(3)).detail
    assert diff_values(
        torch.ones(2, dtype=torch.bfloat16), torch.ones(2, dtype=torch.bfloat16)
    ).equal
    assert diff_values(float("nan"), float("nan")).equal
    assert diff_values({"a": [1, 2.0]}, {"a": [1, 2.5]}).max_abs_diff == 0.5
    assert diff_values(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)).equal is False
    assert diff_values(math.inf, 1.0).max_abs_diff == math.inf

    class Plain:
        def __init__(self, v):
            self.v = v

    assert diff_values(Plain(1), Plain(1)).equal
    assert diff_values(Plain(1), Plain(2)).equal is False


def test_diff_values_pandas():
    import pandas as pd

    a = pd.DataFrame({"x": [1.0, 2.0]})
    assert diff_values(a, a.copy()).equal
    assert diff_values(a, a + 0.25).max_abs_diff == 0.25
    assert diff_values(a, a.rename(columns={"x": "y"})).detail == "labels differ"


def test_diff_values_compares_generators_by_state():
    import random

    assert diff_values(torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)).equal
    assert (
        diff_values(torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)).equal
        is False
    )
    assert diff_values(np.random.default_rng(3), np.random.default_rng(3)).equal
    assert diff_values(np.random.default_rng(3), np.random.default_rng(4)).equal is False
    assert diff_values(random.Random(5), random.Random(5)).equal
