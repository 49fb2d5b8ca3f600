"""Nearest counterfactual on a hand-made data set where the answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlnb.exceptions import WhatIfError
from mlnb.whatif.counterfactual import distances, nearest_counterfactual
from mlnb.whatif.features import describe_features


@pytest.fixture
def people():
    frame = pd.DataFrame(
        {
            "age": [30.0, 31.0, 30.0, 50.0, 30.0],
            "hours": [40.0, 40.0, 10.0, 40.0, 60.0],
            "sex": ["f", "m", "f", "f", "f"],
        },
        index=["a", "b", "c", "d", "e"],
    )
    predicted = np.array([0, 1, 1, 1, 0])
    return frame, predicted, describe_features(frame)


def test_distances_scale_numeric_by_std_and_count_a_category_mismatch_as_one(people):
    frame, _, features = people
    std_age, std_hours = frame["age"].std(ddof=0), frame["hours"].std(ddof=0)
    l1 = distances(frame, frame.loc["a"], features, "l1")
    assert l1[0] == 0
    assert l1[1] == pytest.approx(1 / std_age + 1)  # one year older and the other sex
    assert l1[2] == pytest.approx(30 / std_hours)
    l2 = distances(frame, frame.loc["a"], features, "l2")
    assert l2[1] == pytest.approx(np.sqrt((1 / std_age) ** 2 + 1))


def test_nearest_row_with_another_class_and_what_differs(people):
    frame, predicted, features = people
    result = nearest_counterfactual(
        frame, predicted, frame.loc["a"], 0, features, exclude_position=0
    )
    # b: 1/std_age + 1 ≈ 1.11; c: 30/std_hours ≈ 1.83; d: 20/std_age ≈ 2.5 → b
    assert result.index == "b"
    assert result.changed_features == ["age", "sex"]
    assert result.differences == (("age", 30.0, 31.0), ("sex", "f", "m"))
    assert result.prediction == 1


def test_fixed_features_must_match(people):
    frame, predicted, features = people
    result = nearest_counterfactual(
        frame, predicted, frame.loc["a"], 0, features, fixed=["sex"], exclude_position=0
    )
    assert result.index == "c"
    assert result.changed_features == ["hours"]
    result = nearest_counterfactual(
        frame, predicted, frame.loc["a"], 0, features, fixed=["sex", "hours"], exclude_position=0
    )
    assert result.index == "d"
    none = nearest_counterfactual(
        frame,
        predicted,
        frame.loc["a"],
        0,
        features,
        fixed=["sex", "hours", "age"],
        exclude_position=0,
    )
    assert none is None


def test_l2_can_prefer_a_different_row_than_l1():
    frame = pd.DataFrame({"x": [0.0, 2.0, 1.5], "y": [0.0, 0.0, 1.5]})
    features = [f for f in describe_features(frame)]
    # with equal stds for x and y, l1 picks (2, 0) [2/σ] over (1.5, 1.5) [3/σ]; l2 the other way
    scale = {"x": frame["x"].std(ddof=0), "y": frame["y"].std(ddof=0)}
    l1 = nearest_counterfactual(frame, np.array([0, 1, 1]), frame.iloc[0], 0, features, metric="l1")
    l2 = nearest_counterfactual(frame, np.array([0, 1, 1]), frame.iloc[0], 0, features, metric="l2")
    d1 = [2 / scale["x"], 1.5 / scale["x"] + 1.5 / scale["y"]]
    d2 = [2 / scale["x"], np.hypot(1.5 / scale["x"], 1.5 / scale["y"])]
    assert l1.position == 1 + int(np.argmin(d1))
    assert l2.position == 1 + int(np.argmin(d2))
    assert l1.distance == pytest.approx(min(d1))
    assert l2.distance == pytest.approx(min(d2))


def test_regression_threshold_defaults_to_one_std_of_predictions():
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 10.0]})
    predictions = np.array([0.0, 0.5, 1.0, 5.0, 9.0])  # std ≈ 3.4
    features = describe_features(frame)
    result = nearest_counterfactual(
        frame, predictions, frame.iloc[0], 0.0, features, regression=True, exclude_position=0
    )
    assert result.position == 3  # 0.5 and 1.0 are within one std of 0
    custom = nearest_counterfactual(
        frame,
        predictions,
        frame.iloc[0],
        0.0,
        features,
        regression=True,
        threshold=0.4,
        exclude_position=0,
    )
    assert custom.position == 1


def test_bad_arguments(people):
    frame, predicted, features = people
    with pytest.raises(WhatIfError, match=r"fixed features \['height'\] are not features"):
        nearest_counterfactual(frame, predicted, frame.loc["a"], 0, features, fixed=["height"])
    with pytest.raises(WhatIfError, match="metric must be 'l1' or 'l2', got 'cosine'"):
        nearest_counterfactual(frame, predicted, frame.loc["a"], 0, features, metric="cosine")
