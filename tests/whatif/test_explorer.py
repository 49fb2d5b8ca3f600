"""The WhatIf panel, driven through its widgets' traits."""

from __future__ import annotations

import html
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.inspection import partial_dependence as sk_partial_dependence

from mlnb.whatif.explorer import WhatIf


def _png_count(output) -> int:
    return sum("image/png" in o.get("data", {}) for o in output.outputs)


def test_moving_a_slider_changes_the_prediction_and_is_recorded(panel, trained):
    frame, _, model = trained
    before = panel.prediction_text
    assert before.splitlines()[0].startswith("original")
    panel.inputs["income"].value = 95.0
    after = panel.prediction_text
    assert after != before
    edited = frame.iloc[[0]].assign(income=95.0)
    expected = model.predict_proba(edited)[0, 1]
    assert f"P(yes) = {expected:.3f}" in after.splitlines()[1]
    original = model.predict_proba(frame.iloc[[0]])[0, 1]
    assert f"{expected - original:+.3f}" in after.splitlines()[2]
    assert panel.edited_rows.loc[0, "income"] == 95.0
    assert list(panel.edited_rows.index) == [0]
    assert "change in P(yes)" in html.unescape(panel.prediction.value)


def test_reset_and_switching_rows_keep_edits_per_row(panel, trained):
    frame = trained[0]
    panel.inputs["score"].value = 0.99
    panel.row_input.value = 5
    assert panel.position == 5
    assert panel.inputs["score"].value == pytest.approx(frame["score"].iloc[5], abs=0.01)
    panel.row_input.value = 0
    assert panel.inputs["score"].value == 0.99  # the edit is still there
    panel.reset_button.click()
    assert panel.edited_rows.empty
    assert panel.inputs["score"].value == pytest.approx(frame["score"].iloc[0], abs=0.01)


def test_search_by_a_columns_value(panel, trained):
    frame = trained[0]
    age = frame["age"].iloc[17]
    panel.search_column.value = "age"
    panel.search_value.value = str(int(age))
    assert panel.position == int(np.flatnonzero(frame["age"] == age)[0])
    panel.search_value.value = "1000"
    assert "no row where age = 1000." in panel.message_text


def test_choosing_a_pdp_feature_matches_sklearn(panel, trained):
    frame, _, model = trained
    panel.tabs.selected_index = 1
    panel.pdp_view.grid_points.value = 15
    panel.pdp_view.feature.value = "income"
    expected = sk_partial_dependence(
        model, frame, ["income"], kind="both", method="brute", grid_resolution=15
    )
    np.testing.assert_allclose(panel.pdp.grid, expected["grid_values"][0])
    np.testing.assert_allclose(panel.pdp.average, expected["average"][0])
    np.testing.assert_allclose(panel.pdp.individual, expected["individual"][0])
    panel.flush()  # the chart is rendered in the background
    assert _png_count(panel.pdp_view.output) == 1
    # the current point's curve follows edits while the tab is shown
    panel.inputs["score"].value = 0.05
    point = frame.iloc[[0]].assign(score=0.05)
    point = pd.concat([point] * 15).assign(income=expected["grid_values"][0])
    np.testing.assert_allclose(panel.pdp.point, model.predict_proba(point)[:, 1])
    panel.pdp_view.second.value = "score"  # 2-D: computed in the background
    panel.flush()  # waits for it
    assert panel.pdp.average.shape == (15, 15)


def _brute_force_counterfactual(frame, predicted, position, fixed=()):
    std = frame.std(ddof=0)
    best, best_distance = None, np.inf
    for i in range(len(frame)):
        if i == position or predicted[i] == predicted[position]:
            continue
        if any(frame[f].iloc[i] != frame[f].iloc[position] for f in fixed):
            continue
        distance = sum(abs(frame[c].iloc[i] - frame[c].iloc[position]) / std[c] for c in frame)
        if distance < best_distance:
            best, best_distance = i, distance
    return best


def test_counterfactual_toggle(panel, trained):
    frame, _, model = trained
    predicted = model.predict_proba(frame)[:, 1] >= 0.5
    panel.counterfactual_view.toggle.value = True
    result = panel.counterfactual
    assert result.position == _brute_force_counterfactual(frame, predicted, 0)
    assert predicted[result.position] != predicted[0]
    assert "feature(s) differ" in panel.counterfactual_view.table.value
    panel.counterfactual_view.fixed.value = ("income",)  # no other row has this income
    assert panel.counterfactual is None
    assert "no row has a different prediction among rows with the same income." in (
        panel.counterfactual_view.table.value
    )
    panel.counterfactual_view.fixed.value = ()
    panel.counterfactual_view.load_button.click()
    assert panel.position == result.position
    expected = _brute_force_counterfactual(frame, predicted, result.position)
    assert panel.counterfactual.position == expected


def test_threshold_slider_applies_to_prediction_and_performance(panel, trained):
    from sklearn.metrics import confusion_matrix

    frame, label, model = trained
    p = model.predict_proba(frame)[:, 1]
    panel.threshold_slider.value = 0.2
    assert panel.threshold == 0.2
    np.testing.assert_array_equal(
        panel.metrics["confusion"], confusion_matrix(label, (p >= 0.2).astype(int))
    )
    label_shown = "yes" if p[0] >= 0.2 else "no"
    assert panel.prediction_text.splitlines()[0].split()[1] == label_shown
    panel.performance_view.strategy.value = "single"
    assert panel.threshold != 0.2  # moved to the cheapest threshold
    panel.performance_view.cost_ratio.value = 5.0
    high = panel.threshold
    assert high >= 0.2
    panel.performance_view.slice_by.value = "age"
    assert len(panel.performance_view.slices) == 4
    assert "by age" in panel.performance_view.slice_table.value
    panel.performance_view.strategy.value = "demographic_parity"
    assert set(panel.slice_thresholds) == {r["slice"] for r in panel.performance_view.slices}
    assert _png_count(panel.performance_view.output) == 1


def test_per_slice_strategy_without_a_slice_says_so(panel):
    panel.performance_view.strategy.value = "equal_opportunity"
    assert (
        "performance: choose a feature to slice by: the equal opportunity strategy sets one "
        "threshold per slice." in panel.message_text
    )


def test_distribution_tab_draws_the_chosen_feature(panel):
    panel.tabs.selected_index = 2
    panel.distribution_view.feature.value = "score"
    assert _png_count(panel.distribution_view.output) == 1


def test_debounce_coalesces_a_slider_drag_into_one_prediction(trained, counting_predict):
    frame, label, model = trained
    counting = counting_predict(model.predict_proba)
    explorer = WhatIf(model, frame, label, predict=counting, debounce_seconds=0.3)
    explorer.flush()
    counting.calls.clear()
    for value in np.linspace(30, 90, 25):
        explorer.inputs["income"].value = float(value)
    assert counting.calls == []  # nothing yet: the drag is still going
    deadline = time.monotonic() + 10
    while explorer._debouncer.pending and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)
    assert counting.calls == [1]  # one edited point, once
    assert explorer.edited_point["income"] == 90.0
    explorer.close()


# ---------------------------------------------------------------- bad input
def test_predict_that_raises_on_an_edit_shows_a_message_and_the_panel_recovers(trained):
    frame, label, model = trained

    def picky(batch):
        if (batch["income"] > 100).any():
            raise ValueError("income above 100 is not supported")
        return model.predict_proba(batch)

    explorer = WhatIf(model, frame, label, predict=picky, debounce_seconds=0)
    explorer.edit(income=150.0)
    assert (
        "the model's predict raised ValueError on 1 row(s): income above 100 is not supported."
        in explorer.message_text
    )
    assert explorer.prediction_text.splitlines()[1].split()[1] == "—"
    assert html.escape("income above 100") in explorer.message.value
    explorer.inputs["income"].value = 60.0
    assert "raised" not in explorer.message_text
    assert explorer.prediction_text.splitlines()[1].split()[1] in ("0", "1")


def test_predict_that_always_raises_still_builds_the_panel(trained):
    frame, _, _ = trained

    def broken(batch):
        raise RuntimeError("model file missing")

    explorer = WhatIf(broken, frame, debounce_seconds=0)
    assert explorer.message_text.startswith(
        "the model's predict raised RuntimeError on 8 row(s): model file missing."
    )
    explorer.inputs["age"].value = 40.0  # still editable
    assert explorer.edited_rows.loc[0, "age"] == 40.0


def test_wrong_output_shape_says_the_expected_shape(trained):
    frame, _label, _model = trained

    class ThreeColumns:
        classes_ = np.array([0, 1])

        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.zeros(len(X))

        def predict_proba(self, X):
            return np.full((len(X), 3), 1 / 3)

    explorer = WhatIf(ThreeColumns(), frame, task="binary", debounce_seconds=0)
    assert (
        "predicting every row failed, so counterfactuals and performance are off: the model's "
        "predict returned shape (200, 3); expected (200, 2) — one probability per class for "
        "each of the 200 rows." in explorer.message_text
    )
    assert (
        "the model's predict returned shape (1, 3); expected (1, 2) — one probability per class "
        "for each of the 1 rows." in explorer.message_text
    )


def test_constant_column_has_a_disabled_slider_with_the_reason(numeric_frame):
    frame, _label = numeric_frame(n=60)
    frame["const"] = 3.0
    explorer = WhatIf(lambda x: x[:, 1] / 100, frame, debounce_seconds=0)
    slider = explorer.inputs["const"]
    assert slider.disabled
    assert slider.tooltip == "'const' is constant (every row is 3), so there is nothing to vary"
    assert (
        "'const' is constant (every row is 3), so there is nothing to vary; its widget is disabled."
        in explorer.message_text
    )
    assert not explorer.inputs["age"].disabled


def test_all_nan_column_is_disabled_and_predictions_still_work(numeric_frame):
    frame, _label = numeric_frame(n=60)
    frame["empty"] = np.nan
    explorer = WhatIf(lambda x: np.nan_to_num(x[:, 1]) / 100, frame, debounce_seconds=0)
    assert explorer.inputs["empty"].disabled
    assert (
        "every value of 'empty' is missing (NaN); its widget is disabled." in explorer.message_text
    )
    assert np.isnan(explorer.edited_point["empty"])
    explorer.inputs["income"].value = 70.0
    assert explorer.prediction_text.splitlines()[1].split()[1] == "0.7"


def test_feature_names_that_do_not_match_the_model(trained):
    frame, label, model = trained
    renamed = frame.rename(columns={"score": "points"})
    explorer = WhatIf(model, renamed, label, debounce_seconds=0)
    assert explorer.message_text.splitlines()[0] == (
        "the data's columns do not match the model's feature_names_in_: the data lacks 'score' "
        "and has 'points' the model never saw."
    )
    assert set(explorer.inputs) == {"age", "income", "points"}  # the panel still shows the data
    explorer.inputs["age"].value = 50.0
    assert explorer.edited_rows.loc[0, "age"] == 50.0


def test_unseen_category_warns_while_editing():
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(2)
    train = pd.DataFrame({"x": rng.normal(size=80), "colour": rng.choice(["red", "blue"], 80)})
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["colour"]), remainder="passthrough"
        ),
        LogisticRegression(),
    ).fit(train, (train["colour"] == "red").astype(int))
    explore = pd.concat([train.head(5), pd.DataFrame({"x": [0.1], "colour": ["purple"]})])
    explore = explore.reset_index(drop=True)
    explorer = WhatIf(model, explore, debounce_seconds=0)
    assert explorer.inputs["colour"].options == ("blue", "purple", "red")
    assert "never saw" not in explorer.message_text
    explorer.inputs["colour"].value = "purple"
    assert (
        "colour = 'purple' is a category the model never saw (it saw: blue, red)."
        in explorer.message_text
    )
    explorer.inputs["colour"].value = "red"
    assert "never saw" not in explorer.message_text


def test_unseen_category_that_makes_the_model_raise():
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    train = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "colour": ["red", "blue", "red", "blue"]})
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["colour"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(train, [1, 0, 1, 0])
    explore = pd.concat([train, pd.DataFrame({"x": [0.5], "colour": ["green"]})], ignore_index=True)
    explorer = WhatIf(model, explore, debounce_seconds=0)
    assert "predicting every row failed" in explorer.message_text
    explorer.row_input.value = 4
    text = explorer.message_text
    assert "colour = 'green' is a category the model never saw (it saw: blue, red)." in text
    assert "the model's predict raised ValueError on 1 row(s): Found unknown categories" in text
    explorer.row_input.value = 0
    assert "raised ValueError on 1 row(s)" not in explorer.message_text


def test_array_data_for_a_model_fitted_on_a_frame(trained):
    frame, label, model = trained
    explorer = WhatIf(model, frame.to_numpy(), label.to_numpy(), debounce_seconds=0)
    assert (
        "the model was fitted on a DataFrame but the data is an array, so its columns are named "
        "after the model's feature_names_in_." in explorer.message_text
    )
    assert list(explorer.inputs) == ["age", "income", "score"]
    assert explorer.metrics["accuracy"] > 0.5


def test_frame_data_for_a_model_fitted_on_an_array(trained):
    from sklearn.linear_model import LogisticRegression

    frame, label, _ = trained
    model = LogisticRegression().fit(frame.to_numpy(), label)
    explorer = WhatIf(model, frame, label, debounce_seconds=0)
    assert (
        "the model was fitted on a NumPy array, so it is given the data's values without their "
        "column names." in explorer.message_text
    )
    np.testing.assert_allclose(explorer.scores, model.predict_proba(frame.to_numpy()))


def test_array_of_the_wrong_width_for_a_frame_model(trained):
    frame, _label, model = trained
    explorer = WhatIf(model, frame.to_numpy()[:, :2], debounce_seconds=0)
    assert explorer.message_text.splitlines()[0] == (
        "the data is an array with 2 columns but the model was fitted on a DataFrame with 3 "
        "features; pass a DataFrame with its columns."
    )


def test_callable_that_needs_a_frame_says_so_in_the_panel(trained):
    frame, _label, model = trained
    explorer = WhatIf(
        lambda df: model.predict_proba(df[["age", "income", "score"]]), frame, debounce_seconds=0
    )
    assert "works on a DataFrame, so it is given DataFrames." in explorer.message_text


def test_huge_data_is_sampled_for_ice_and_distributions_and_says_so(
    numeric_frame, counting_predict
):
    frame, _label = numeric_frame(n=5000)
    counting = counting_predict(lambda x: x[:, 1] / 100)
    explorer = WhatIf(counting, frame, sample_size=300, debounce_seconds=0)
    assert (
        "the data has 5,000 rows: ICE curves and distributions use a random sample of 300 rows "
        "and the partial-dependence average every row (tick “average over every row” for the "
        "exact one); predictions, counterfactuals and performance use every row."
        in explorer.message_text
    )
    counting.calls.clear()
    explorer.pdp_view.grid_points.value = 10
    explorer.pdp_view.feature.value = "income"
    assert explorer.pdp.individual.shape == (300, 10)
    assert explorer.pdp.average_rows == 5000
    assert counting.calls == [5000 * 10, 10]  # every row at 10 grid values, then the point's
    explorer.tabs.selected_index = 1
    counting.calls.clear()
    explorer.edit(income=70.0)  # the sampled curves are kept: an edit costs the point's curve
    assert counting.calls == [1, 10]  # the edited point's prediction, then its curve
    assert len(explorer.scores) == 5000


def test_value_outside_the_training_range_warns(trained):
    frame, label, model = trained
    train = frame[frame["age"] < 60]
    explorer = WhatIf(model, frame, label, train_data=train, debounce_seconds=0)
    explorer.edit(age=200.0)
    assert explorer.inputs["age"].max == 200.0  # the slider widened
    low, high = train["age"].min(), train["age"].max()
    assert (
        f"age = 200 is outside the training range [{low:.6g}, {high:.6g}]; the prediction is an "
        "extrapolation." in explorer.message_text
    )
    explorer.edit(age=float(low))
    assert "outside the training range" not in explorer.message_text


def test_target_with_unknown_classes(trained):
    frame, _, model = trained
    explorer = WhatIf(model, frame, ["maybe"] * len(frame), debounce_seconds=0)
    assert (
        "the target holds 'maybe', which is not one of the model's classes (0, 1), so performance "
        "is off." in explorer.message_text
    )
