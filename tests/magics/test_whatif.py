"""``%whatif``: in-process shell and a real ipykernel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError


@pytest.fixture
def namespace(shell):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, 80).astype(float),
            "income": rng.normal(50.0, 15.0, 80),
            "score": rng.uniform(0.0, 1.0, 80),
        }
    )
    label = pd.Series((frame["income"] / 50.0 + frame["score"] > 1.5).astype(int), name="label")
    clf = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, label)
    shell.user_ns.update(clf=clf, X=frame, y=label, df=frame.assign(label=label))
    yield shell
    for name in ("clf", "X", "y", "df"):
        shell.user_ns.pop(name, None)


def test_whatif_returns_the_panel(namespace):
    from mlnb.whatif.explorer import WhatIf

    panel = namespace.run_line_magic("whatif", "clf X y --fixed age --class-names no yes")
    assert isinstance(panel, WhatIf)
    panel.flush()  # the magic's panel debounces; run the pending update now
    assert panel.adapter.classes == ["no", "yes"]
    assert panel.counterfactual_view.fixed.value == ("age",)
    assert panel.metrics["n"] == 80
    panel.close()


def test_target_can_be_a_column_of_the_data(namespace):
    panel = namespace.run_line_magic("whatif", "clf df label")
    assert list(panel.inputs) == ["age", "income", "score"]
    assert panel.target.name == "label"
    panel.close()


def test_missing_names_are_one_sentence(namespace):
    with pytest.raises(UsageError) as caught:
        namespace.run_line_magic("whatif", "model X")
    assert str(caught.value) == (
        "%whatif: no variable named 'model' in the notebook for the model — define it first or "
        "check the spelling."
    )
    with pytest.raises(
        UsageError, match="no variable named 'truth' in the notebook for the target"
    ):
        namespace.run_line_magic("whatif", "clf X truth")
    with pytest.raises(
        UsageError, match=r"the following arguments are required: data\. Usage: %whatif"
    ):
        namespace.run_line_magic("whatif", "clf")


@pytest.mark.parametrize("sample", ["0", "-1"])
def test_a_sample_below_one_is_one_sentence(namespace, sample):
    with pytest.raises(UsageError) as caught:
        namespace.run_line_magic("whatif", f"clf X y --sample {sample}")
    assert str(caught.value) == f"%whatif: --sample must be at least 1, got {sample}."


@pytest.mark.parametrize("option", ["--categorical", "--fixed"])
def test_options_naming_missing_columns_are_one_sentence(namespace, option):
    with pytest.raises(UsageError) as caught:
        namespace.run_line_magic("whatif", f"clf X y {option} age agee salary")
    name = option.removeprefix("--")
    assert str(caught.value) == (
        f"{name} names 'agee', 'salary', not a column of the data; its columns are: age, "
        "income, score."
    )


def test_help(namespace, capsys):
    namespace.run_line_magic("whatif", "--help")
    out = capsys.readouterr().out
    assert out.startswith("Usage: %whatif [--categorical COLUMN [COLUMN ...]]")
    assert "Open the what-if explorer" in out


@pytest.mark.kernel
def test_whatif_in_a_real_kernel(kernel, cell_text):
    nb = kernel(
        [
            "%load_ext mlnb",
            "from sklearn.datasets import load_wine\n"
            "from sklearn.ensemble import RandomForestClassifier\n"
            "X, y = load_wine(return_X_y=True, as_frame=True)\n"
            "clf = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)",
            "panel = %whatif clf X y\npanel",
            "panel.inputs['alcohol'].value = 14.5\npanel.flush()\nprint(panel.prediction_text)",
            "%whatif clf X_test",
        ],
        allow_errors=True,
    )
    shown = nb.cells[2].outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in shown
    assert cell_text(nb.cells[3]).startswith("original")
    assert "change" in cell_text(nb.cells[3])
    assert cell_text(nb.cells[4]).strip() == (
        "UsageError: %whatif: no variable named 'X_test' in the notebook for the data — define "
        "it first or check the spelling."
    )
