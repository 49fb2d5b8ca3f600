"""Model adapters: sklearn (frame or array), torch modules, callables; tasks and bad outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlnb.exceptions import PredictError, PredictionShapeError, WhatIfError
from mlnb.whatif.adapters import make_adapter


def test_sklearn_pipeline_fitted_on_a_frame_gets_a_frame_with_probabilities(
    numeric_frame, fitted_logistic
):
    frame, label = numeric_frame()
    model = fitted_logistic(frame, label)
    adapter = make_adapter(model, frame)
    assert adapter.input_kind == "frame"
    assert adapter.task == "binary"
    assert adapter.classes == ["0", "1"]
    np.testing.assert_allclose(adapter.predict(frame), model.predict_proba(frame))


def test_sklearn_model_fitted_on_an_array_gets_values(numeric_frame):
    from sklearn.linear_model import LinearRegression

    frame, _ = numeric_frame()
    target = 2 * frame["age"] + frame["score"]
    model = LinearRegression().fit(frame.to_numpy(), target.to_numpy())
    adapter = make_adapter(model, frame)
    assert adapter.input_kind == "array"
    assert adapter.task == "regression"
    np.testing.assert_allclose(adapter.predict(frame), model.predict(frame.to_numpy()))


def test_multiclass_and_class_names(numeric_frame):
    from sklearn.tree import DecisionTreeClassifier

    frame, _ = numeric_frame()
    label = pd.cut(frame["age"], [0, 35, 55, 100], labels=False)
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(frame, label)
    adapter = make_adapter(model, frame, class_names=["young", "middle", "old"])
    assert adapter.task == "multiclass"
    assert adapter.classes == ["young", "middle", "old"]
    assert adapter.predict(frame.head(4)).shape == (4, 3)
    with pytest.raises(WhatIfError, match="class_names has 2 names but the model has 3 classes"):
        make_adapter(model, frame, class_names=["a", "b"])


def test_classifier_without_predict_proba_counts_the_predicted_class(numeric_frame):
    from sklearn.svm import LinearSVC

    frame, label = numeric_frame()
    model = LinearSVC().fit(frame, label)
    adapter = make_adapter(model, frame)
    scores = adapter.predict(frame.head(5))
    assert set(np.unique(scores)) <= {0.0, 1.0}
    np.testing.assert_array_equal(scores.argmax(axis=1), model.predict(frame.head(5)))
    assert "has no predict_proba" in adapter.notes[0]


def test_torch_module_runs_in_eval_mode_without_grad_in_batches_and_restores_training(
    numeric_frame,
):
    import torch

    frame, _ = numeric_frame(n=50)
    seen = {}

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(3, 2)
            self.dropout = torch.nn.Dropout(0.5)

        def forward(self, x):
            seen.setdefault("training", []).append(self.training)
            seen.setdefault("grad", []).append(torch.is_grad_enabled())
            seen.setdefault("sizes", []).append(len(x))
            seen["device"] = x.device
            return self.dropout(self.linear(x))

    net = Net()
    net.train()
    adapter = make_adapter(net, frame, batch_size=16)
    scores = adapter.predict(frame)
    assert adapter.task == "binary"
    assert "softmax" in adapter.notes[0]
    assert scores.shape == (50, 2)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-6)
    assert not any(seen["training"]) and not any(seen["grad"])
    assert seen["sizes"][-4:] == [16, 16, 16, 2]
    assert seen["device"] == next(net.parameters()).device
    assert net.training  # the user's mode is put back
    # eval mode: dropout off, so predictions are deterministic
    np.testing.assert_allclose(adapter.predict(frame), scores)


def test_torch_module_with_one_logit_and_two_class_names_is_binary_with_sigmoid(numeric_frame):
    import torch

    frame, _ = numeric_frame(n=20)
    net = torch.nn.Linear(3, 1)
    adapter = make_adapter(net, frame, class_names=["no", "yes"])
    assert adapter.task == "binary"
    scores = adapter.predict(frame)
    with torch.no_grad():
        expected = torch.sigmoid(net(torch.tensor(frame.to_numpy(), dtype=torch.float32)))
    np.testing.assert_allclose(scores[:, 1], expected.numpy()[:, 0], rtol=1e-5)


def test_torch_module_refuses_text_columns():
    import torch

    frame = pd.DataFrame({"a": [1.0, 2.0], "colour": ["red", "blue"]})
    with pytest.raises(WhatIfError, match="a torch module needs numeric features, but 'colour'"):
        make_adapter(torch.nn.Linear(2, 1), frame)


def test_callable_taking_an_array_is_regression(numeric_frame):
    frame, _ = numeric_frame(n=30)
    adapter = make_adapter(lambda x: x[:, 0] * 2, frame)
    assert adapter.input_kind == "array"
    assert adapter.task == "regression"
    np.testing.assert_allclose(adapter.predict(frame), frame["age"] * 2)


def test_callable_that_needs_a_frame_gets_one_and_says_so(numeric_frame):
    frame, _ = numeric_frame(n=30)
    adapter = make_adapter(lambda df: df["income"].to_numpy() / 10, frame)
    assert adapter.input_kind == "frame"
    assert adapter.notes[0].startswith(
        "predict failed on a NumPy array (IndexError: only integers, slices"
    )
    assert adapter.notes[0].endswith("works on a DataFrame, so it is given DataFrames.")


def test_callable_that_needs_an_array_gets_one_even_for_a_text_frame():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "x"]})
    adapter = make_adapter(lambda x: np.asarray(x)[:, 0].astype(float) * 0 + x.shape[1], frame)
    assert adapter.predict(frame).tolist() == [2.0, 2.0, 2.0]


def test_predict_that_raises_becomes_one_sentence(numeric_frame):
    frame, _ = numeric_frame(n=10)

    def broken(batch):
        raise ValueError("weights not loaded")

    with pytest.raises(PredictError) as caught:
        make_adapter(broken, frame)
    assert str(caught.value) == (
        "the model's predict raised ValueError on 8 row(s): weights not loaded."
    )


def test_wrong_shape_says_what_was_expected(numeric_frame):
    frame, _ = numeric_frame(n=10)
    with pytest.raises(PredictionShapeError) as caught:
        make_adapter(lambda x: np.zeros(3), frame)
    assert str(caught.value) == (
        "the model's predict returned shape (3,); expected (8,) or (8, 1) — one value per "
        "row — or (8, k) — one score per class."
    )
    # a model that was fine on the probe and then returns too few rows
    adapter = make_adapter(lambda x: np.zeros(min(len(x), 8)), frame)
    with pytest.raises(PredictionShapeError, match=r"returned shape \(8,\); expected \(10,\)"):
        adapter.predict(frame)


def test_not_a_model(numeric_frame):
    frame, _ = numeric_frame(n=5)
    with pytest.raises(WhatIfError, match="the model must be a fitted scikit-learn estimator"):
        make_adapter(42, frame)


@pytest.mark.gpu
def test_torch_module_on_cuda_is_fed_on_its_device(numeric_frame):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device here")
    frame, _ = numeric_frame(n=40)
    devices = []

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(3, 3)

        def forward(self, x):
            devices.append(x.device.type)
            return self.linear(x)

    net = Net().cuda()
    adapter = make_adapter(net, frame, batch_size=16)
    scores = adapter.predict(frame)
    assert adapter.task == "multiclass"
    assert set(devices) == {"cuda"}
    with torch.no_grad():
        logits = net(torch.tensor(frame.to_numpy(), dtype=torch.float32, device="cuda"))
    np.testing.assert_allclose(scores, torch.softmax(logits, 1).cpu().numpy(), rtol=1e-4, atol=1e-6)
