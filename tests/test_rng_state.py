"""mlnb.rng_state: a snapshot of every generator restores exactly; ``pinned`` scopes a pin."""

from __future__ import annotations

import os

import pytest
import torch

from mlnb import rng_state
from mlnb import seed as seeding
from tests.helpers import draws

pytestmark = pytest.mark.usefixtures("restore_rng")


def test_pinned_restores_previous_state_and_flags():
    seeding.pin(10, verbose=False)
    expected_next = draws()
    seeding.pin(10, verbose=False)
    with rng_state.pinned(77, deterministic=True, verbose=False) as record:
        assert record.seed == 77
        assert torch.are_deterministic_algorithms_enabled()
        draws()
    assert not torch.are_deterministic_algorithms_enabled()
    assert draws() == expected_next
    assert seeding.current_seed() == 10
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ


def test_get_and_set_state_round_trip():
    seeding.pin(5, verbose=False)
    state = rng_state.get_state()
    first = draws()
    rng_state.set_state(state)
    assert draws() == first
