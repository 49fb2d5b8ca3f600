"""A data check with --strict fails the notebook step it runs in (TFDV's gate before training)."""

from __future__ import annotations

import pytest

from mlnb.pipeline.run import run
from mlnb.pipeline.section import section_of
from tests.helpers import START_TIMEOUT

pytestmark = pytest.mark.kernel

SETUP = """
import numpy as np, pandas as pd, mlnb
rng = np.random.default_rng(0)
train = pd.DataFrame({"x": rng.normal(0, 1, 2000), "city": rng.choice(["a", "b"], 2000)})
serving = train.assign(x=train["x"] + shift)
"""


def test_strict_drift_fails_the_step_and_stops_before_training(notebook, tmp_path):
    path = notebook(
        "gate.ipynb",
        [
            "%load_ext mlnb",
            SETUP,
            "%drift train serving --strict --no-widget",
            "mlnb.record('trained', True)",
        ],
        parameters="shift = 0.0",
    )
    clean = run(path, {"shift": 0.0}, tmp_path / "clean.ipynb", seed=0, start_timeout=START_TIMEOUT)
    assert clean.status == "finished" and section_of(clean).values == {"trained": True}
    shifted = run(
        path,
        {"shift": 1.0},
        tmp_path / "shifted.ipynb",
        seed=0,
        start_timeout=START_TIMEOUT,
        raise_on_failure=False,
    )
    assert shifted.status == "failed" and section_of(shifted).values == {}
    assert "strict data check failed: drift: 1 of 2 columns drift (x)" in shifted.error
    assert section_of(shifted).cell_index == 3  # the %drift cell, after the injected parameters
