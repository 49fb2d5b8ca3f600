"""Odd but realistic inputs: pandas nullable dtypes with NA, dates, missing targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlnb.exceptions import WhatIfError
from mlnb.whatif import WhatIf, make_adapter, partial_dependence
from mlnb.whatif.counterfactual import distances, nearest_counterfactual
from mlnb.whatif.dataset import encode_target
from mlnb.whatif.features import BOOLEAN, describe_features, value_warnings
from mlnb.whatif.performance import slice_labels


def _sigmoid_of_a(frame: pd.DataFrame) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-frame["a"].to_numpy(dtype=float)))


@pytest.fixture
def nullable_frame() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    n = 40
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "flag": pd.array(rng.random(n) > 0.5, dtype="boolean"),
            "city": pd.array(rng.choice(["x", "y"], n), dtype="object"),
        }
    )
    frame.loc[[1, 5], "flag"] = pd.NA
    frame.loc[[2, 6], "city"] = None
    return frame, pd.Series((frame["a"] > 0).astype(int).to_numpy())


def test_distances_over_a_nullable_boolean_with_missing_values(nullable_frame):
    frame, _ = nullable_frame
    features = [f for f in describe_features(frame) if f.name == "flag"]
    assert features[0].kind == BOOLEAN
    for query_position in (0, 1):  # a known value, then a missing one
        query = frame.iloc[query_position]
        got = distances(frame, query, features, "l1")
        wanted = query["flag"]
        expected = [
            float(not (pd.isna(v) and pd.isna(wanted)))
            if pd.isna(v) or pd.isna(wanted)
            else float(bool(v) != bool(wanted))
            for v in frame["flag"].astype(object)
        ]
        np.testing.assert_array_equal(got, expected)


def test_fixed_nullable_boolean_with_missing_values(nullable_frame):
    frame, _ = nullable_frame
    predicted = (frame["a"] > 0).astype(int).to_numpy()
    features = describe_features(frame)
    found = nearest_counterfactual(
        frame, predicted, frame.iloc[1], predicted[1], features, fixed=["flag"],
        exclude_position=1,
    )  # fmt: skip
    assert found is not None and pd.isna(frame["flag"].iloc[found.position])


def test_slice_labels_name_missing_values(nullable_frame):
    frame, _ = nullable_frame
    for name in ("flag", "city"):
        labels = slice_labels(frame[name])
        assert labels.notna().all()
        assert set(labels[frame[name].isna()]) == {"missing"}
    numbers = pd.Series([1.0, np.nan, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert slice_labels(numbers).iloc[1] == "missing"


@pytest.mark.parametrize("column", ["flag", "city"])
def test_panel_slices_by_a_column_with_missing_values(nullable_frame, column):
    frame, label = nullable_frame
    panel = WhatIf(_sigmoid_of_a, frame, label, task="binary", debounce_seconds=0)
    try:
        panel.performance_view.slice_by.value = column
        for strategy in ("group", "demographic_parity", "equal_opportunity", "equal_accuracy"):
            panel.performance_view.strategy.value = strategy
            panel.flush()
            assert panel.slice_thresholds is not None
            assert "missing" in panel.slice_thresholds
        panel.load_row(1)
        panel.find_counterfactual()
        panel.flush()
        assert not any("Error" in m for m in panel.messages), panel.messages
    finally:
        panel.close()


def test_a_date_column_is_shown_but_not_edited():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {"a": rng.normal(size=30), "when": pd.date_range("2020-01-01", periods=30, freq="D")}
    )
    when = {f.name: f for f in describe_features(frame)}["when"]
    assert not when.editable and "date" in (when.disabled_reason or "")
    assert value_warnings(when, frame["when"].iloc[0]) == []
    label = (frame["a"] > 0).astype(int)
    panel = WhatIf(_sigmoid_of_a, frame, label, task="binary", debounce_seconds=0)
    try:
        panel.edit(a=0.5)
        panel.flush()
        assert panel.find_counterfactual() is not None
        assert "when" not in panel.pdp_view.feature.options
    finally:
        panel.close()


def test_a_missing_regression_target_is_one_sentence():
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    target = pd.Series([0.0, np.nan, 2.0, 3.0])
    adapter = type("Adapter", (), {"task": "regression"})()
    with pytest.raises(WhatIfError, match="1 missing"):
        encode_target(target, adapter)
    panel = WhatIf(lambda x: np.asarray(x)[:, 0], frame, target, task="regression",
                   debounce_seconds=0)  # fmt: skip
    try:
        assert panel.metrics is None
        assert any("missing" in m for m in panel.messages)
    finally:
        panel.close()


def test_an_empty_grid_is_one_sentence():
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0]})
    adapter = make_adapter(_sigmoid_of_a, frame, task="binary")
    with pytest.raises(WhatIfError, match="grid"):
        partial_dependence(adapter, frame, "a", [])


def test_nan_scores_are_named_not_silently_counted_as_negative():
    frame = pd.DataFrame({"a": np.linspace(-1.0, 1.0, 20)})

    def half_missing(values: np.ndarray) -> np.ndarray:
        scores = 1.0 / (1.0 + np.exp(-np.asarray(values, dtype=float)[:, 0]))
        scores[::4] = np.nan
        return scores

    label = (frame["a"] > 0).astype(int)
    panel = WhatIf(half_missing, frame, label, task="binary", debounce_seconds=0)
    try:
        assert any("NaN" in m and "5 of 20 rows" in m for m in panel.messages), panel.messages
    finally:
        panel.close()


def test_one_row_with_training_data_can_be_edited():
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(4)
    train = pd.DataFrame({"a": rng.normal(size=60), "city": rng.choice(["x", "y", "z"], 60)})
    label = (train["a"] > 0).astype(int)
    encode = ColumnTransformer([("city", OneHotEncoder(), ["city"])], remainder="passthrough")
    model = make_pipeline(encode, LogisticRegression()).fit(train, label)
    panel = WhatIf(model, train.iloc[[7]], train_data=train, debounce_seconds=0)
    try:
        features = panel.feature_by_name
        assert features["a"].editable and features["city"].editable
        assert (features["a"].low, features["a"].high) == (train["a"].min(), train["a"].max())
        assert panel.inputs["city"].options == ("x", "y", "z")
        assert not panel.inputs["a"].disabled
    finally:
        panel.close()
