"""Small data sets and models shared by the what-if tests.

Tests get them as fixtures, not imports: ``numeric_frame``, ``fitted_logistic`` and
``counting_predict`` (factories, session-scoped so module-scoped fixtures can use them);
``trained`` (frame, label and a fitted model, once per module) and ``panel`` (a fresh
``WhatIf`` over it, closed after the test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest


def numeric_frame(n: int = 200, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Three numeric features and a binary label that depends on two of them."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(float),
            "income": rng.normal(50.0, 15.0, n),
            "score": rng.uniform(0.0, 1.0, n),
        }
    )
    label = ((frame["income"] / 50.0 + frame["score"] + rng.normal(0, 0.2, n)) > 1.5).astype(int)
    return frame, pd.Series(label.to_numpy(), name="label")


def fitted_logistic(frame: pd.DataFrame, label: pd.Series):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, label)


class CountingPredict:
    """A predict function that records every batch size it was called with."""

    def __init__(self, fn):
        self.fn = fn
        self.calls: list[int] = []

    def __call__(self, batch):
        self.calls.append(len(batch))
        return self.fn(batch)


@pytest.fixture(name="numeric_frame", scope="session")
def _numeric_frame_factory() -> Callable[..., tuple[pd.DataFrame, pd.Series]]:
    """``numeric_frame(n=200, seed=0)``: see :func:`numeric_frame`."""
    return numeric_frame


@pytest.fixture(name="fitted_logistic", scope="session")
def _fitted_logistic_factory() -> Callable[[pd.DataFrame, pd.Series], Any]:
    """``fitted_logistic(frame, label)``: a scaled logistic regression fitted on them."""
    return fitted_logistic


@pytest.fixture(name="counting_predict", scope="session")
def _counting_predict_factory() -> type[CountingPredict]:
    """``counting_predict(fn)``: wraps ``fn``; ``.calls`` lists every batch size it got."""
    return CountingPredict


@pytest.fixture(scope="module")
def trained(numeric_frame, fitted_logistic) -> tuple[pd.DataFrame, pd.Series, Any]:
    """200 rows of :func:`numeric_frame`, its label and a logistic regression fitted on them."""
    frame, label = numeric_frame(n=200)
    return frame, label, fitted_logistic(frame, label)


@pytest.fixture
def panel(trained) -> Iterator[Any]:
    """A ``WhatIf`` over ``trained`` with classes "no"/"yes" and no debounce."""
    from mlnb.whatif.explorer import WhatIf

    frame, label, model = trained
    explorer = WhatIf(model, frame, label, class_names=["no", "yes"], debounce_seconds=0)
    yield explorer
    explorer.close()
