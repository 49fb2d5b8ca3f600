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


@pytest.fixture
def data_shell():
    """An in-process IPython shell with mlnb loaded, safe to use in several tests.

    ``IPython.testing.globalipapp.start_ipython`` returns None after its first call
    in a process, so the shared ``shell`` fixture works once per session; this one
    reuses the running shell.
    """
    from IPython.testing.globalipapp import get_ipython, start_ipython

    ip = start_ipython() or get_ipython()
    ip.run_line_magic("load_ext", "mlnb")
    yield ip
    ip.run_line_magic("unload_ext", "mlnb")
    ip.extension_manager.loaded.discard("mlnb")
