"""Feature descriptions: categories a fitted model already knows."""

from __future__ import annotations

import pandas as pd

from mlnb.whatif.features import encoder_categories


def test_encoder_categories_found_inside_a_column_transformer():
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "colour": ["red", "blue", "red", "blue"]})
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["colour"]), remainder="passthrough"
        ),
        LogisticRegression(),
    ).fit(frame, [0, 1, 0, 1])
    assert encoder_categories(model) == {"colour": ("blue", "red")}
