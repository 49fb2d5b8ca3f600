"""Parity: mlnb's nearest counterfactual against a brute-force search written here.

The peer is a plain loop over rows that applies the definition in
``mlnb.whatif.counterfactual`` independently: a candidate must have another predicted
class (regression: a prediction further than the threshold), the same value on every
fixed feature, and must not be the query's own row — by *position*, since index
labels repeat after ``pd.concat``. Its distance is the L1 or L2 norm of per-feature
gaps: ``|x - q| / std`` for a number (population std of the present values; 0 for a
constant column), 1 for a missing value against a present one, 0 for two missing, 1
for a different category or boolean. Ties go to the first row. Positions must be
equal and distances agree to ``DIST_RTOL`` (the same sums in another order).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlnb.whatif.counterfactual import nearest_counterfactual
from mlnb.whatif.features import NUMERIC, describe_features

#: Distances: the same per-feature terms, summed in another order.
DIST_RTOL = 1e-12


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def brute_force(frame, predictions, query, query_prediction, *, metric, fixed=(),
                exclude_position=None, threshold=None, regression=False):  # fmt: skip
    """(position, distance) of the nearest qualifying row, by a loop; None if none."""
    kinds = {f.name: f.kind for f in describe_features(frame)}
    stds = {}
    for name, kind in kinds.items():
        if kind == NUMERIC:
            present = [float(v) for v in frame[name] if not _missing(float(v))]
            mean = sum(present) / len(present)
            stds[name] = math.sqrt(sum((v - mean) ** 2 for v in present) / len(present))
    if regression and threshold is None:
        threshold = float(np.std(np.asarray(predictions, dtype=float)))
    best = None
    for i in range(len(frame)):
        if i == exclude_position:
            continue
        p = predictions[i]
        differs = abs(p - query_prediction) > threshold if regression else p != query_prediction
        if not differs:
            continue
        row = frame.iloc[i]
        if any(not _same(row[f], query[f]) for f in fixed):
            continue
        terms = []
        for name, kind in kinds.items():
            a, b = row[name], query[name]
            if kind == NUMERIC:
                a, b = float(a), float(b)
                if _missing(a) and _missing(b):
                    gap = 0.0
                elif _missing(a) or _missing(b):
                    gap = 1.0
                else:
                    gap = abs(a - b) / stds[name] if stds[name] > 0 else 0.0
            else:
                gap = 0.0 if _same(a, b) else 1.0
            terms.append(gap)
        d = sum(terms) if metric == "l1" else math.sqrt(sum(t * t for t in terms))
        if best is None or d < best[1]:
            best = (i, d)
    return best


def _same(a, b) -> bool:
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    return a == b


def _check(frame, predictions, query, query_prediction, **options):
    features = describe_features(frame)
    mine = nearest_counterfactual(frame, predictions, query, query_prediction, features, **options)
    theirs = brute_force(frame, predictions, query, query_prediction, **options)
    if theirs is None:
        assert mine is None, f"mlnb found row {mine.position}; brute force found none"
        return None
    assert mine is not None, f"brute force found row {theirs[0]}; mlnb none"
    assert mine.position == theirs[0], f"{options}: row {mine.position} vs {theirs[0]}"
    assert mine.index == frame.index[theirs[0]]
    assert math.isclose(mine.distance, theirs[1], rel_tol=DIST_RTOL), (
        f"distance {mine.distance} vs {theirs[1]} beyond rel_tol={DIST_RTOL}"
    )
    return mine


def _people(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 90, n).astype(float),
            "hours": rng.normal(40, 10, n).round(1),
            "income": rng.lognormal(10, 0.5, n),
            "sex": rng.choice(["f", "m"], n),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "member": rng.random(n) < 0.3,
        }
    )
    score = frame["hours"] / 10 + np.log(frame["income"]) - 10 + (frame["sex"] == "f")
    predictions = (score + rng.normal(0, 0.7, n) > 4.5).astype(int).to_numpy()
    return frame, predictions


@pytest.mark.parametrize("metric", ["l1", "l2"])
@pytest.mark.parametrize("fixed", [(), ("sex",), ("sex", "region"), ("member", "age")])
def test_rows_as_queries(metric, fixed):
    frame, predictions = _people(300, seed=1)
    found = 0
    for position in range(0, 300, 15):
        result = _check(
            frame, predictions, frame.iloc[position], predictions[position],
            metric=metric, fixed=fixed, exclude_position=position,
        )  # fmt: skip
        found += result is not None
        if result is not None:
            for name in fixed:  # a fixed feature never differs
                assert name not in result.changed_features
    assert found >= 10  # the check compared real answers, not only "none"


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_edited_points_that_are_no_row(metric):
    frame, predictions = _people(200, seed=2)
    rng = np.random.default_rng(3)
    for position in range(0, 200, 20):
        query = frame.iloc[position].copy()
        query["hours"] = float(rng.uniform(10, 80))
        query["region"] = "south"
        for label in (0, 1):
            _check(frame, predictions, query, label, metric=metric, exclude_position=position)


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_duplicate_index_labels_after_concat(metric):
    """Two frames concatenated without ``ignore_index``: every label appears twice. The
    query's own row is excluded by position; a row sharing its label is a candidate."""
    first, p1 = _people(120, seed=4)
    second, p2 = _people(120, seed=5)
    frame = pd.concat([first, second])
    predictions = np.concatenate([p1, p2])
    assert frame.index.duplicated().sum() == 120
    for position in list(range(0, 240, 12)):
        _check(
            frame, predictions, frame.iloc[position], predictions[position],
            metric=metric, exclude_position=position,
        )  # fmt: skip
    # a twin of row 5 with a different prediction at position 125 (same label 5):
    twin = frame.copy()
    twin.iloc[125] = frame.iloc[5]
    twin.iloc[125, twin.columns.get_loc("hours")] = frame["hours"].iloc[5] + 0.1
    flipped = predictions.copy()
    flipped[125] = 1 - predictions[5]
    assert twin.index[125] == twin.index[5]
    result = _check(twin, flipped, twin.iloc[5], flipped[5], metric=metric, exclude_position=5)
    assert result.position == 125 and result.changed_features == ["hours"]


def test_missing_values_and_a_constant_column():
    frame, predictions = _people(150, seed=6)
    frame.loc[frame.index[::5], "income"] = np.nan
    frame["const"] = 3.0
    for position in range(0, 150, 10):
        for metric in ("l1", "l2"):
            _check(
                frame, predictions, frame.iloc[position], predictions[position],
                metric=metric, exclude_position=position,
            )  # fmt: skip


@pytest.mark.parametrize("threshold", [None, 0.5, 3.0])
def test_regression(threshold):
    frame, _ = _people(200, seed=8)
    predictions = (frame["hours"] / 10 + np.log(frame["income"])).to_numpy()
    for position in range(0, 200, 25):
        _check(
            frame, predictions, frame.iloc[position], float(predictions[position]),
            metric="l2", regression=True, threshold=threshold, exclude_position=position,
        )  # fmt: skip


def test_the_panel_finds_what_brute_force_finds(trained_people_panel):
    """Through the widget (toggle, metric, fixed features), with the panel's own labels."""
    panel, frame = trained_people_panel
    labels = (panel.scores[:, 1] >= panel.threshold).astype(int)
    view = panel.counterfactual_view
    for metric, fixed in (("l1", ()), ("l2", ("sex",)), ("l1", ("sex", "region"))):
        view.metric.value = metric
        view.fixed.value = fixed
        for position in (0, 7, 60, 125):
            panel.row_input.value = position
            cf = panel.find_counterfactual()
            theirs = brute_force(
                frame, labels, frame.iloc[position], labels[position],
                metric=metric, fixed=fixed, exclude_position=position,
            )  # fmt: skip
            if theirs is None:
                assert cf is None
                continue
            assert cf.position == theirs[0], (metric, fixed, position)
            assert math.isclose(cf.distance, theirs[1], rel_tol=DIST_RTOL)


@pytest.fixture
def trained_people_panel():
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from mlnb.whatif.explorer import WhatIf

    first, p1 = _people(80, seed=9)
    second, p2 = _people(80, seed=10)
    frame = pd.concat([first, second])  # duplicate labels, as after a careless concat
    label = np.concatenate([p1, p2])
    encode = make_column_transformer(
        (OneHotEncoder(), ["sex", "region"]), remainder=StandardScaler()
    )
    model = make_pipeline(encode, LogisticRegression(max_iter=1000)).fit(frame, label)
    panel = WhatIf(model, frame, label, debounce_seconds=0)
    panel.counterfactual_view.toggle.value = True
    yield panel, frame
    panel.close()
