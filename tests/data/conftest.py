"""Small frames shared by the data tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    """One column of every kind, 400 rows, reproducible."""
    rng = np.random.default_rng(7)
    n = 400
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "rooms": rng.integers(1, 6, n),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "member": rng.random(n) < 0.3,
            "joined": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        }
    )
