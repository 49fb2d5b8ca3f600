"""mlnb.rng_state: a snapshot of every generator restores exactly; ``pinned`` scopes a pin."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch

from mlnb import rng_state
from mlnb import seed as seeding


@pytest.fixture(autouse=True)
def _restore_rng_and_env():
    saved = rng_state.get_state()
    env = os.environ.copy()
    yield
    rng_state.set_state(saved)
    os.environ.clear()
    os.environ.update(env)


def _draws():
    return (random.random(), float(np.random.rand()), float(torch.rand(1)))


def test_pinned_restores_previous_state_and_flags():
    seeding.pin(10, verbose=False)
    expected_next = _draws()
    seeding.pin(10, verbose=False)
    with rng_state.pinned(77, deterministic=True, verbose=False) as record:
        assert record.seed == 77
        assert torch.are_deterministic_algorithms_enabled()
        _draws()
    assert not torch.are_deterministic_algorithms_enabled()
    assert _draws() == expected_next
    assert seeding.current_seed() == 10
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ


def test_get_and_set_state_round_trip():
    seeding.pin(5, verbose=False)
    state = rng_state.get_state()
    first = _draws()
    rng_state.set_state(state)
    assert _draws() == first
