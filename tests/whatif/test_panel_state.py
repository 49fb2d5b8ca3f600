"""``load_state``: the samples behind ICE curves and the PDP average, and refused options."""

from __future__ import annotations

import numpy as np
import pytest

from mlnb.exceptions import WhatIfError
from mlnb.whatif.panel_state import StateOptions, load_state


def test_the_average_sample_starts_with_the_ice_sample(numeric_frame):
    frame, label = numeric_frame(n=3000)
    state = load_state(
        lambda x: x[:, 1] / 100, frame, label, StateOptions(sample_size=100, average_size=1000)
    )
    ice, average = state.sample_positions, state.average_positions
    assert len(ice) == 100 and np.all(np.diff(ice) > 0)
    assert len(average) == 1000 and len(np.unique(average)) == 1000
    np.testing.assert_array_equal(average[:100], ice)
    assert average.max() < 3000
    assert any("random sample of 1,000 rows" in note for note in state.report.notes)
    assert state.scores is not None and len(state.scores) == 3000


def test_small_data_uses_every_row_and_says_nothing(numeric_frame):
    frame, label = numeric_frame(n=50)
    state = load_state(lambda x: x[:, 1] / 100, frame, label, StateOptions())
    np.testing.assert_array_equal(state.sample_positions, np.arange(50))
    np.testing.assert_array_equal(state.average_positions, np.arange(50))
    assert not any("rows:" in note for note in state.report.notes)


@pytest.mark.parametrize("option", ["sample_size", "average_size"])
@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10"])
def test_sizes_must_be_whole_numbers(option, bad):
    with pytest.raises(WhatIfError, match=rf"{option} must be a whole number ≥ 1, got"):
        StateOptions(**{option: bad})
