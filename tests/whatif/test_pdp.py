"""Partial dependence and ICE match scikit-learn's brute method, in one predict call."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.inspection import partial_dependence as sk_partial_dependence

from mlnb.whatif.adapters import make_adapter
from mlnb.whatif.pdp import expand, grid_values, partial_dependence, partial_dependence_2d


@pytest.fixture(scope="module")
def classifier(numeric_frame, fitted_logistic):
    frame, label = numeric_frame(n=150)
    return frame, fitted_logistic(frame, label)


def test_matches_sklearn_on_its_own_grid(classifier):
    frame, model = classifier
    expected = sk_partial_dependence(
        model, frame, ["income"], kind="both", method="brute", grid_resolution=20
    )
    grid = grid_values(frame["income"], grid_resolution=20)
    np.testing.assert_allclose(grid, expected["grid_values"][0])
    result = partial_dependence(make_adapter(model, frame), frame, "income", grid_resolution=20)
    np.testing.assert_allclose(result.average, expected["average"][0])
    np.testing.assert_allclose(result.individual, expected["individual"][0])


def test_matches_sklearn_on_a_custom_grid_with_one_predict_call(classifier, counting_predict):
    frame, model = classifier
    grid = np.linspace(20, 90, 7)
    expected = sk_partial_dependence(
        model, frame, ["income"], kind="average", method="brute", custom_values={"income": grid}
    )
    counting = counting_predict(model.predict_proba)
    adapter = make_adapter(model, frame)
    adapter.raw_predict = counting
    point = frame.iloc[3].copy()
    point["score"] = 0.9
    result = partial_dependence(adapter, frame, "income", grid, point=point)
    assert counting.calls == [len(frame) * len(grid) + len(grid)]  # one call, point included
    np.testing.assert_allclose(result.average, expected["average"][0])
    own = model.predict_proba(pd.DataFrame([point.to_dict()] * len(grid)).assign(income=grid))
    np.testing.assert_allclose(result.point, own[:, 1])


def test_regression_and_centred_ice(numeric_frame):
    from sklearn.ensemble import RandomForestRegressor

    frame, _ = numeric_frame(n=80)
    target = frame["age"] * frame["score"]
    model = RandomForestRegressor(n_estimators=5, random_state=0).fit(frame, target)
    expected = sk_partial_dependence(
        model, frame, ["age"], kind="individual", method="brute", grid_resolution=10
    )
    result = partial_dependence(make_adapter(model, frame), frame, "age", grid_resolution=10)
    np.testing.assert_allclose(result.individual, expected["individual"][0])
    centred = result.centered()
    np.testing.assert_allclose(centred.individual[:, 0], 0.0)
    np.testing.assert_allclose(
        centred.individual, expected["individual"][0] - expected["individual"][0][:, :1]
    )
    np.testing.assert_allclose(centred.average, centred.individual.mean(axis=0))


def test_multiclass_picks_the_chosen_class(numeric_frame):
    from sklearn.tree import DecisionTreeClassifier

    frame, _ = numeric_frame(n=120)
    label = pd.cut(frame["income"], [-np.inf, 40, 60, np.inf], labels=False)
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(frame, label)
    grid = np.array([30.0, 50.0, 70.0])
    expected = sk_partial_dependence(
        model, frame, ["income"], kind="average", method="brute", custom_values={"income": grid}
    )
    adapter = make_adapter(model, frame)
    for k in range(3):
        result = partial_dependence(adapter, frame, "income", grid, class_index=k)
        np.testing.assert_allclose(result.average, expected["average"][k])
        assert result.output == f"P({k})"


def test_categorical_feature_uses_its_categories():
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {"x": rng.normal(size=90), "colour": rng.choice(["red", "green", "blue"], 90)}
    )
    label = ((frame["colour"] == "red") | (frame["x"] > 1)).astype(int)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["colour"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(frame, label)
    expected = sk_partial_dependence(
        model, frame, ["colour"], categorical_features=["colour"], kind="average", method="brute"
    )
    result = partial_dependence(make_adapter(model, frame), frame, "colour", categorical=True)
    assert list(result.grid) == list(expected["grid_values"][0])
    np.testing.assert_allclose(result.average, expected["average"][0])


def test_two_feature_pdp_matches_sklearn(classifier, counting_predict):
    frame, model = classifier
    grids = (np.array([20.0, 50.0, 80.0]), np.array([0.1, 0.5, 0.9, 1.0]))
    expected = sk_partial_dependence(
        model, frame, ("income", "score"), kind="average", method="brute",
        custom_values={"income": grids[0], "score": grids[1]},
    )  # fmt: skip
    counting = counting_predict(model.predict_proba)
    adapter = make_adapter(model, frame)
    adapter.raw_predict = counting
    result = partial_dependence_2d(adapter, frame, ("income", "score"), grids)
    assert counting.calls == [len(frame) * 12]
    np.testing.assert_allclose(result.average, expected["average"][0])


def test_expand_layout():
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    out = expand(frame, {"a": np.array([10, 20, 30])})
    assert out["a"].tolist() == [10, 10, 20, 20, 30, 30]
    assert out["b"].tolist() == ["x", "y"] * 3


def test_ice_rows_keep_the_first_curves_and_average_every_row(classifier):
    frame, model = classifier
    adapter = make_adapter(model, frame)
    full = partial_dependence(adapter, frame, "income", grid_resolution=9)
    kept = partial_dependence(adapter, frame, "income", grid_resolution=9, ice_rows=40)
    np.testing.assert_allclose(kept.average, full.average, rtol=1e-12)
    np.testing.assert_allclose(kept.individual, full.individual[:40])
    assert kept.average_rows == len(frame) and kept.individual.shape == (40, 9)
    centred = kept.centered()  # the centred average is the average's change, not the ICE rows'
    np.testing.assert_allclose(centred.average, full.centered().average, atol=1e-12)


def test_large_batches_are_chunked_and_report_progress(classifier, counting_predict, monkeypatch):
    from mlnb.whatif import pdp

    frame, model = classifier
    monkeypatch.setattr(pdp, "BATCH_ROWS", 3 * len(frame))  # three grid values per call
    counting = counting_predict(model.predict_proba)
    adapter = make_adapter(model, frame)
    adapter.raw_predict = counting
    reports = []
    result = partial_dependence(
        adapter,
        frame,
        "income",
        np.linspace(20, 90, 7),
        progress=lambda d, t: reports.append((d, t)),
    )
    assert counting.calls == [3 * len(frame), 3 * len(frame), len(frame)]
    assert reports == [(3, 7), (6, 7), (7, 7)]
    one_call = partial_dependence(
        make_adapter(model, frame), frame, "income", np.linspace(20, 90, 7)
    )
    np.testing.assert_allclose(result.individual, one_call.individual, rtol=1e-12)


def test_the_2d_surface_reports_each_grid_row(classifier):
    frame, model = classifier
    reports = []
    grids = (np.array([20.0, 50.0, 80.0]), np.array([0.1, 0.5, 0.9, 1.0]))
    adapter = make_adapter(model, frame)
    quiet = partial_dependence_2d(adapter, frame, ("income", "score"), grids)
    loud = partial_dependence_2d(
        adapter, frame, ("income", "score"), grids, progress=lambda d, t: reports.append((d, t))
    )
    assert reports == [(4, 12), (8, 12), (12, 12)]
    np.testing.assert_allclose(loud.average, quiet.average, rtol=1e-12)


def test_average_over_rows_is_the_exact_pdp_in_row_chunks(classifier):
    from mlnb.whatif.pdp import average_over_rows

    frame, model = classifier
    adapter = make_adapter(model, frame)
    grid = np.linspace(20, 90, 5)
    reports = []
    average = average_over_rows(
        adapter, frame, "income", grid, chunk_rows=40, progress=lambda d, t: reports.append(d)
    )
    np.testing.assert_allclose(average, partial_dependence(adapter, frame, "income", grid).average)
    assert reports == [40, 80, 120, 150]
