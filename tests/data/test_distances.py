"""mlnb.data.distances: the distances compare() uses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlnb.data.distances import jensen_shannon_distance


def test_jensen_shannon_distance_bounds() -> None:
    assert jensen_shannon_distance(np.array([1, 0]), np.array([0, 1])) == 1.0
    assert jensen_shannon_distance(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0
    # base 2: sqrt of the divergence of a half-overlap case, computed by hand
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.0, 0.5, 0.5])
    expected = math.sqrt(0.5 * (0.5 * math.log2(0.5 / 0.25) + 0.5 * math.log2(0.5 / 0.5)) * 2)
    assert jensen_shannon_distance(p, q) == pytest.approx(expected)
