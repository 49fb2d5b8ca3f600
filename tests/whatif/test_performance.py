"""Metrics against sklearn.metrics, and WIT's threshold strategies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from mlnb.exceptions import WhatIfError
from mlnb.whatif.performance import (
    classification_metrics,
    cost,
    optimal_threshold,
    regression_metrics,
    roc_curve,
    slice_labels,
    slice_metrics,
    slice_thresholds,
)


@pytest.fixture
def binary():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    p = np.clip(0.35 * y + rng.uniform(0, 0.65, 300), 0, 1)
    groups = rng.choice(["a", "b", "c"], 300)
    return y, np.column_stack([1 - p, p]), groups


def test_binary_metrics_match_sklearn(binary):
    y, scores, _ = binary
    for threshold in (0.3, 0.5, 0.7):
        got = classification_metrics(y, scores, threshold=threshold)
        predicted = (scores[:, 1] >= threshold).astype(int)
        assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted))
        assert got["f1"] == pytest.approx(skm.f1_score(y, predicted))
        np.testing.assert_array_equal(got["confusion"], skm.confusion_matrix(y, predicted))
        assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, scores[:, 1]))
    fpr, tpr, _ = roc_curve(y, scores[:, 1])
    sk_fpr, sk_tpr, _ = skm.roc_curve(y, scores[:, 1], drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)


def test_multiclass_metrics_match_sklearn():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, 200)
    raw = rng.uniform(size=(200, 3)) + np.eye(3)[y] * 0.5
    scores = raw / raw.sum(axis=1, keepdims=True)
    got = classification_metrics(y, scores)
    predicted = scores.argmax(axis=1)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted))
    assert got["f1"] == pytest.approx(skm.f1_score(y, predicted, average="macro"))
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, scores, multi_class="ovr"))


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(5)
    y = rng.normal(size=100)
    p = y + rng.normal(scale=0.3, size=100)
    got = regression_metrics(y, p)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, p))
    assert got["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)))
    assert got["r2"] == pytest.approx(skm.r2_score(y, p))


def test_optimal_threshold_is_the_cheapest(binary):
    y, scores, _ = binary
    p = scores[:, 1]
    for ratio in (0.25, 1.0, 4.0):
        best = optimal_threshold(y, p, ratio)
        brute = min(cost(y, p, t, ratio) for t in np.r_[0.0, np.unique(p), 1.01])
        assert cost(y, p, best, ratio) == brute
    # false positives dearer → a higher threshold
    assert optimal_threshold(y, p, 4.0) >= optimal_threshold(y, p, 0.25)


def test_group_thresholds_are_each_slices_cheapest(binary):
    y, scores, groups = binary
    thresholds = slice_thresholds(y, scores[:, 1], groups, "group", 2.0)
    for g, t in thresholds.items():
        members = groups == g
        assert t == optimal_threshold(y[members], scores[members, 1], 2.0)


def test_demographic_parity_gives_every_slice_the_same_positive_rate(binary):
    y, scores, groups = binary
    thresholds = slice_thresholds(y, scores[:, 1], groups, "demographic_parity")
    rows = slice_metrics(y, scores, groups, thresholds=thresholds)
    rates = [row["positive_rate"] for row in rows]
    assert max(rates) - min(rates) <= 0.02


def test_equal_opportunity_gives_every_slice_the_same_true_positive_rate(binary):
    y, scores, groups = binary
    thresholds = slice_thresholds(y, scores[:, 1], groups, "equal_opportunity")
    rows = slice_metrics(y, scores, groups, thresholds=thresholds)
    tprs = [row["tpr"] for row in rows]
    assert max(tprs) - min(tprs) <= 0.03


def test_equal_accuracy_gives_every_slice_about_the_same_accuracy(binary):
    y, scores, groups = binary
    thresholds = slice_thresholds(y, scores[:, 1], groups, "equal_accuracy")
    rows = slice_metrics(y, scores, groups, thresholds=thresholds)
    accuracies = [row["accuracy"] for row in rows]
    assert max(accuracies) - min(accuracies) <= 0.02
    # the cheapest per-slice thresholds leave the accuracies further apart than this
    cheapest = slice_metrics(
        y, scores, groups, thresholds=slice_thresholds(y, scores[:, 1], groups, "group")
    )
    assert max(accuracies) - min(accuracies) <= max(r["accuracy"] for r in cheapest) - min(
        r["accuracy"] for r in cheapest
    )


def test_single_strategy_shares_one_threshold(binary):
    y, scores, groups = binary
    thresholds = slice_thresholds(y, scores[:, 1], groups, "single", 1.0)
    assert len(set(thresholds.values())) == 1
    with pytest.raises(WhatIfError, match="strategy must be one of single, group"):
        slice_thresholds(y, scores[:, 1], groups, "random")


def test_slice_labels_bin_numbers_and_keep_categories():
    numbers = pd.Series(np.arange(100, dtype=float))
    assert slice_labels(numbers, bins=4).nunique() == 4
    assert sorted(slice_labels(pd.Series(["x", "y", "x"])).unique()) == ["x", "y"]


def test_slice_metrics_per_slice_match_sklearn(binary):
    y, scores, groups = binary
    rows = slice_metrics(y, scores, groups, thresholds={"a": 0.4, "b": 0.5, "c": 0.6})
    assert [r["slice"] for r in rows] == ["a", "b", "c"]
    for row in rows:
        members = groups == row["slice"]
        predicted = (scores[members, 1] >= row["threshold"]).astype(int)
        assert row["accuracy"] == pytest.approx(skm.accuracy_score(y[members], predicted))
        assert row["n"] == members.sum()


def test_per_row_looks_each_slice_up_once():
    from mlnb.whatif.performance import per_row

    slices = np.array(["b", "a", "b", "c"])
    np.testing.assert_array_equal(per_row({"a": 0.2, "b": 0.7}, slices, 0.5), [0.7, 0.2, 0.7, 0.5])


def test_a_known_auc_is_used_and_the_confusion_matrix_matches_sklearn(binary):
    y, scores = binary[0], binary[1]
    given = classification_metrics(y, scores, threshold=0.3, auc=0.123)
    assert given["roc_auc"] == 0.123
    expected = skm.confusion_matrix(y, (scores[:, 1] >= 0.3).astype(int))
    np.testing.assert_array_equal(given["confusion"], expected)
