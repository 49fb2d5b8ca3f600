"""Parity: mlnb's partial dependence and ICE against ``sklearn.inspection.partial_dependence``.

Every comparison uses scikit-learn's brute-force method (``method="brute"``), which is
the definition mlnb implements: predict every row with the feature set to each grid
value, then average. Grids must be identical (``GRID_RTOL``); averages and ICE curves
agree to ``PD_ATOL`` — the two sum the same predictions in a different order, so they
may differ in the last bits, nothing more.

Where the two differ by definition, the test says why and compares what both define:

- NaN in the feature: mlnb builds the grid from the values that are present (the
  5th–95th percentiles of the non-missing values, or the non-missing unique values)
  and never puts NaN on the grid; rows whose value is missing still get an ICE curve
  (the feature is overwritten by each grid value). scikit-learn puts NaN on a
  low-cardinality grid as one more point and, for a high-cardinality feature, takes
  percentiles over the NaNs and returns an all-NaN grid (its own TODO in
  ``_grid_from_X``). So: the grids are compared against scikit-learn on the
  non-missing rows, the curves against scikit-learn given mlnb's grid.
- Integer columns: scikit-learn refuses them (ValueError); mlnb puts the grid's values
  into the column as floats (no rounding), which is scikit-learn on the column cast to
  float.
- ``method="recursion"`` (trees' default in scikit-learn) weights by the training
  data instead of averaging over the given rows; it is a different quantity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.inspection import partial_dependence as sk_pd
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlnb.whatif import make_adapter
from mlnb.whatif.pdp import grid_values, partial_dependence, partial_dependence_2d

#: Grids: the same numbers (both are linspace between the same mquantiles).
GRID_RTOL = 1e-12
#: PD / ICE values: the same predictions averaged in another order.
PD_ATOL = 1e-12


def _close(actual, expected, what: str, atol: float = PD_ATOL) -> None:
    np.testing.assert_allclose(
        actual, expected, rtol=0, atol=atol, err_msg=f"{what} differs beyond atol={atol}"
    )


def _same_grid(actual, expected, what: str) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float),
        np.asarray(expected, dtype=float),
        rtol=GRID_RTOL,
        err_msg=f"{what}: grids differ beyond rtol={GRID_RTOL}",
    )


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    n = 400
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.uniform(0, 10, n),
            "k": rng.integers(0, 100, n),  # an integer feature, 100 possible values
            "few": rng.integers(0, 5, n).astype(float),  # 5 distinct values
            "c": rng.choice(["red", "green", "blue"], n),
        }
    )
    logit = frame["a"] + frame["b"] / 4 - frame["few"] / 3 + (frame["c"] == "red") - 1
    label = (logit + rng.normal(0, 0.5, n) > 0).astype(int)
    return frame, label


@pytest.fixture(scope="module")
def numeric(data):
    frame, label = data
    return frame[["a", "b", "k", "few"]].astype({"k": float}), label


@pytest.fixture(scope="module")
def logistic(numeric):
    frame, label = numeric
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, label)


@pytest.mark.parametrize("feature", ["a", "b", "few"])
@pytest.mark.parametrize("resolution", [5, 20, 100])
def test_one_feature_pdp_and_ice(numeric, logistic, feature, resolution):
    frame, _ = numeric
    mine = partial_dependence(
        make_adapter(logistic, frame), frame, feature, grid_resolution=resolution
    )
    theirs = sk_pd(
        logistic, frame, [feature], kind="both", method="brute", grid_resolution=resolution
    )
    _same_grid(mine.grid, theirs["grid_values"][0], feature)
    _close(mine.average, theirs["average"][0], f"PD of {feature}")
    _close(mine.individual, theirs["individual"][0], f"ICE of {feature}")


def test_other_percentiles(numeric, logistic):
    frame, _ = numeric
    grid = grid_values(frame["b"], grid_resolution=12, percentiles=(0.2, 0.7))
    theirs = sk_pd(
        logistic, frame, ["b"], kind="average", method="brute", grid_resolution=12,
        percentiles=(0.2, 0.7),
    )  # fmt: skip
    _same_grid(grid, theirs["grid_values"][0], "b at the 20th-70th percentiles")


def test_centred_ice_is_ice_minus_its_first_value(numeric, logistic):
    """scikit-learn centres ICE (``PartialDependenceDisplay(centered=True)``) by
    subtracting each curve's value at the first grid point; so does mlnb."""
    frame, _ = numeric
    mine = partial_dependence(make_adapter(logistic, frame), frame, "a", grid_resolution=15)
    theirs = sk_pd(logistic, frame, ["a"], kind="individual", method="brute", grid_resolution=15)
    ice = theirs["individual"][0]
    centred = mine.centered()
    _close(centred.individual, ice - ice[:, :1], "centred ICE")
    _close(centred.average, (ice - ice[:, :1]).mean(axis=0), "centred PD")


def test_the_current_points_curve_is_its_ice_curve(numeric, logistic):
    frame, _ = numeric
    point = frame.iloc[17].copy()
    point["b"] = 9.5  # an edited point, not a row of the data
    mine = partial_dependence(
        make_adapter(logistic, frame), frame, "a", grid_resolution=15, point=point
    )
    single = pd.DataFrame([point])
    theirs = sk_pd(
        logistic, single, ["a"], kind="individual", method="brute",
        custom_values={"a": mine.grid},
    )  # fmt: skip
    _close(mine.point, theirs["individual"][0][0], "the edited point's curve")
    # and the point does not leak into the average
    rows_only = sk_pd(logistic, frame, ["a"], kind="average", method="brute", grid_resolution=15)
    _close(mine.average, rows_only["average"][0], "PD with a point riding along")


@pytest.mark.parametrize(("first", "second"), [("a", "b"), ("b", "few")])
def test_two_feature_pdp(numeric, logistic, first, second):
    frame, _ = numeric
    mine = partial_dependence_2d(
        make_adapter(logistic, frame), frame, (first, second), grid_resolution=9
    )
    theirs = sk_pd(
        logistic, frame, [first, second], kind="average", method="brute", grid_resolution=9
    )
    _same_grid(mine.grid_x, theirs["grid_values"][0], first)
    _same_grid(mine.grid_y, theirs["grid_values"][1], second)
    assert mine.average.shape == theirs["average"][0].shape
    _close(mine.average, theirs["average"][0], f"2-D PD of {first}, {second}")


def test_multiclass_every_class(numeric):
    frame, _ = numeric
    label = np.digitize(frame["a"], [-0.5, 0.5])  # three classes
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, label)
    adapter = make_adapter(model, frame)
    theirs = sk_pd(model, frame, ["b"], kind="both", method="brute", grid_resolution=15)
    assert theirs["average"].shape[0] == 3
    for k in range(3):
        mine = partial_dependence(adapter, frame, "b", grid_resolution=15, class_index=k)
        assert mine.output == f"P({adapter.classes[k]})"
        _close(mine.average, theirs["average"][k], f"PD of class {k}")
        _close(mine.individual, theirs["individual"][k], f"ICE of class {k}")
    both = partial_dependence_2d(adapter, frame, ("a", "b"), grid_resolution=6, class_index=2)
    theirs2 = sk_pd(model, frame, ["a", "b"], kind="average", method="brute", grid_resolution=6)
    _close(both.average, theirs2["average"][2], "2-D PD of class 2")


def test_categorical_feature_in_a_pipeline_with_one_hot_encoding(data):
    frame, label = data
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["c"]), remainder=StandardScaler()
    )
    model = make_pipeline(encode, LogisticRegression(max_iter=1000)).fit(frame, label)
    adapter = make_adapter(model, frame)
    mine = partial_dependence(adapter, frame, "c", categorical=True)
    theirs = sk_pd(model, frame, ["c"], kind="both", method="brute", categorical_features=["c"])
    assert list(mine.grid) == list(theirs["grid_values"][0])  # sorted categories
    _close(mine.average, theirs["average"][0], "PD of a one-hot category")
    _close(mine.individual, theirs["individual"][0], "ICE of a one-hot category")
    # a numeric feature of the same pipeline, and the 2-D mix of both
    mine_b = partial_dependence(adapter, frame, "b", grid_resolution=10)
    theirs_b = sk_pd(model, frame, ["b"], kind="average", method="brute", grid_resolution=10)
    _close(mine_b.average, theirs_b["average"][0], "PD of b next to a one-hot column")


def test_categorical_feature_through_the_panel(data):
    """The Partial dependence tab on a category: bars at every category, as scikit-learn."""
    from mlnb.whatif.explorer import WhatIf

    frame, label = data
    encode = make_column_transformer((OneHotEncoder(), ["c"]), remainder="passthrough")
    model = make_pipeline(encode, LogisticRegression(max_iter=2000)).fit(frame, label)
    panel = WhatIf(model, frame, label, debounce_seconds=0)
    try:
        panel.tabs.selected_index = 1
        panel.pdp_view.feature.value = "c"
        theirs = sk_pd(model, frame, ["c"], kind="both", method="brute", categorical_features=["c"])
        assert panel.pdp.categorical
        assert list(panel.pdp.grid) == list(theirs["grid_values"][0])
        _close(panel.pdp.average, theirs["average"][0], "the tab's PD of a category")
    finally:
        panel.close()


def test_regressor(numeric):
    frame, _ = numeric
    target = 2 * frame["b"] + frame["a"] ** 2
    for model in (
        Ridge().fit(frame, target),
        RandomForestRegressor(n_estimators=10, random_state=0).fit(frame, target),
    ):
        mine = partial_dependence(make_adapter(model, frame), frame, "a", grid_resolution=12)
        theirs = sk_pd(model, frame, ["a"], kind="both", method="brute", grid_resolution=12)
        assert mine.output == "prediction"
        _close(mine.average, theirs["average"][0], f"PD of {type(model).__name__}")
        _close(mine.individual, theirs["individual"][0], f"ICE of {type(model).__name__}")


def test_decision_function_instead_of_probabilities(numeric, logistic):
    """``predict=model.decision_function`` gives scikit-learn's
    ``response_method="decision_function"``; the default is ``predict_proba``'s."""
    frame, _ = numeric
    margin = make_adapter(logistic, frame, predict=logistic.decision_function)
    mine = partial_dependence(margin, frame, "b", grid_resolution=10)
    theirs = sk_pd(
        logistic, frame, ["b"], kind="both", method="brute", grid_resolution=10,
        response_method="decision_function",
    )  # fmt: skip
    _close(mine.average, theirs["average"][0], "PD of the decision function")
    proba = partial_dependence(make_adapter(logistic, frame), frame, "b", grid_resolution=10)
    theirs_p = sk_pd(
        logistic, frame, ["b"], kind="average", method="brute", grid_resolution=10,
        response_method="predict_proba",
    )  # fmt: skip
    _close(proba.average, theirs_p["average"][0], "PD of P(class 1)")
    assert not np.allclose(mine.average, proba.average)  # two different quantities


def test_integer_feature(data):
    frame, label = data
    ints = frame[["a", "b", "k"]]
    assert ints["k"].dtype.kind == "i"
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(ints, label)
    with pytest.raises(ValueError, match="integer data"):
        sk_pd(model, ints, ["k"], method="brute")  # scikit-learn refuses int columns
    floats = ints.astype({"k": float})
    for resolution in (20, 200):  # a linspace grid; then every unique value (< 200 of them)
        mine = partial_dependence(make_adapter(model, ints), ints, "k", grid_resolution=resolution)
        theirs = sk_pd(
            model, floats, ["k"], kind="both", method="brute", grid_resolution=resolution
        )
        _same_grid(mine.grid, theirs["grid_values"][0], f"k at resolution {resolution}")
        _close(mine.average, theirs["average"][0], f"PD of an int feature ({resolution})")
        _close(mine.individual, theirs["individual"][0], f"ICE of an int feature ({resolution})")


def test_a_grid_at_the_datas_own_values(numeric, logistic):
    frame, _ = numeric
    grid = np.sort(frame["a"].to_numpy()[:25])
    mine = partial_dependence(make_adapter(logistic, frame), frame, "a", grid)
    theirs = sk_pd(logistic, frame, ["a"], kind="both", method="brute", custom_values={"a": grid})
    _same_grid(mine.grid, grid, "the given grid")
    _close(mine.average, theirs["average"][0], "PD on the data's own values")
    _close(mine.individual, theirs["individual"][0], "ICE on the data's own values")
    # ICE at a row's own value is that row's prediction
    row = 3
    own = int(np.flatnonzero(grid == frame["a"].iloc[row])[0])
    _close(mine.individual[row, own], logistic.predict_proba(frame.iloc[[row]])[0, 1], "own value")


def test_the_panels_sample_is_scikit_learns_pdp_of_the_same_rows(numeric, logistic):
    """On large data the tab uses random samples (and says so): the average is
    scikit-learn's PDP of exactly the average sample's rows, and the ICE curves are
    scikit-learn's of its first rows — the ICE sample."""
    from mlnb.whatif.explorer import WhatIf

    frame, label = numeric
    panel = WhatIf(logistic, frame, label, sample_size=150, average_size=250, debounce_seconds=0)
    try:
        panel.tabs.selected_index = 1
        panel.pdp_view.grid_points.value = 10
        panel.pdp_view.feature.value = "b"
        assert len(panel.average_positions) == 250 < len(frame)
        assert len(set(panel.average_positions.tolist())) == 250
        np.testing.assert_array_equal(panel.average_positions[:150], panel.sample_positions)
        rows = frame.iloc[panel.average_positions]
        theirs = sk_pd(logistic, rows, ["b"], kind="both", method="brute", grid_resolution=10)
        _same_grid(panel.pdp.grid, theirs["grid_values"][0], "the sample's grid")
        _close(panel.pdp.average, theirs["average"][0], "the tab's PD")
        _close(panel.pdp.individual, theirs["individual"][0][:150], "the tab's ICE")
        assert panel.pdp.average_rows == 250
    finally:
        panel.close()


@pytest.mark.parametrize("feature", ["a", "few"])
def test_nan_in_the_feature(numeric, feature):
    frame, label = numeric
    frame = frame.copy()
    frame.loc[frame.index[::6], feature] = np.nan
    present = frame.dropna(subset=[feature])
    for model in (
        make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression()).fit(frame, label),
        HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(frame, label),
    ):
        name = type(model).__name__
        mine = partial_dependence(make_adapter(model, frame), frame, feature, grid_resolution=20)
        assert not np.isnan(mine.grid.astype(float)).any(), "mlnb never puts NaN on the grid"
        # the grid: scikit-learn's grid of the values that are present
        theirs_grid = sk_pd(model, present, [feature], method="brute", grid_resolution=20)
        _same_grid(mine.grid, theirs_grid["grid_values"][0], f"{feature} with NaN ({name})")
        # the curves: every row, NaN ones included, at that grid
        theirs = sk_pd(
            model, frame, [feature], kind="both", method="brute",
            custom_values={feature: mine.grid},
        )  # fmt: skip
        assert mine.individual.shape[0] == len(frame)
        _close(mine.average, theirs["average"][0], f"PD with NaN in {feature} ({name})")
        _close(mine.individual, theirs["individual"][0], f"ICE with NaN in {feature} ({name})")
        # where scikit-learn builds its own grid it adds NaN (few values) or only NaN (many)
        own = sk_pd(model, frame, [feature], method="brute", grid_resolution=20)
        sk_grid = own["grid_values"][0]
        if feature == "few":
            assert np.isnan(sk_grid[-1]) and len(sk_grid) == len(mine.grid) + 1
            _close(mine.average, own["average"][0][:-1], f"PD at the present values ({name})")
        else:
            assert np.isnan(sk_grid).all()
