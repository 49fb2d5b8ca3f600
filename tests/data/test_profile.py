"""profile(): statistics per column kind, sketches, caps and notes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlnb.data.profile import SKETCH_SIZE, profile


def test_numeric_statistics_match_pandas(mixed_frame: pd.DataFrame) -> None:
    age = profile(mixed_frame)["age"]
    series = mixed_frame["age"]
    assert age.kind == "numeric"
    assert age.count == 400 and age.missing == 0 and age.unique == series.nunique()
    assert age.min == pytest.approx(series.min()) and age.max == pytest.approx(series.max())
    assert age.mean == pytest.approx(series.mean()) and age.std == pytest.approx(series.std())
    for q, value in age.quantiles.items():
        assert value == pytest.approx(series.quantile(q))
    counts, edges = np.histogram(series, bins=20)
    assert age.histogram_counts.tolist() == counts.tolist()
    assert np.allclose(age.histogram_edges, edges)


def test_every_kind_is_recognised(mixed_frame: pd.DataFrame) -> None:
    found = profile(mixed_frame)
    assert {name: c.kind for name, c in found.columns.items()} == {
        "age": "numeric",
        "rooms": "numeric",
        "city": "categorical",
        "member": "boolean",
        "joined": "datetime",
    }
    assert found["member"].top(1)[0][0] == "False"
    assert found["joined"].format(found["joined"].min).startswith("2024-01-01")
    assert found["city"].unique == 3 and sum(c for _, c in found["city"].top()) == 400


def test_object_columns_are_classified_without_a_row_loop() -> None:
    frame = pd.DataFrame(
        {
            "numbers": pd.Series([1, 2.5, None, 4], dtype=object),
            "words": pd.Series(["a", "b", None, "a"], dtype=object),
            "flags": pd.Series([True, False, None, True], dtype=object),
            "dates": pd.Series(
                [pd.Timestamp("2020-01-01"), None, pd.Timestamp("2021-01-01"), None], dtype=object
            ),
            "category": pd.Series(["x", "y", "x", "x"], dtype="category"),
        }
    )
    kinds = {name: c.kind for name, c in profile(frame).columns.items()}
    assert kinds == {
        "numbers": "numeric",
        "words": "categorical",
        "flags": "boolean",
        "dates": "datetime",
        "category": "categorical",
    }


def test_sketch_fraction_below_is_exact_for_small_columns() -> None:
    values = np.arange(100.0)
    column = profile(pd.DataFrame({"v": values}))["v"]
    edges = np.array([-1.0, 0.0, 10.0, 10.5, 99.0, 150.0])
    expected = [(values < e).mean() for e in edges]
    assert column.fraction_below(edges).tolist() == pytest.approx(expected)


def test_sketch_fraction_below_is_close_for_large_columns() -> None:
    values = np.random.default_rng(1).normal(size=200_000)
    column = profile(pd.DataFrame({"v": values}))["v"]
    assert len(column.sketch_values) == SKETCH_SIZE
    edges = np.linspace(-3, 3, 13)
    expected = np.array([(values < e).mean() for e in edges])
    assert np.max(np.abs(column.fraction_below(edges) - expected)) < 1e-3


def test_threads_give_the_same_profile(mixed_frame: pd.DataFrame) -> None:
    one = profile(mixed_frame, workers=1).to_dict()
    two = profile(mixed_frame, workers=2).to_dict()
    assert one == two


def test_to_frame_and_metrics(mixed_frame: pd.DataFrame) -> None:
    found = profile(mixed_frame)
    frame = found.to_frame()
    assert list(frame.index) == list(mixed_frame.columns)
    assert frame.loc["city", "unique"] == 3
    metrics = found.to_metrics()
    assert metrics["profile/rows"] == 400.0
    assert metrics["profile/age/mean"] == pytest.approx(mixed_frame["age"].mean())
    assert all(isinstance(v, float) for v in metrics.values())


def test_text_and_html_escape_user_strings() -> None:
    found = profile(pd.DataFrame({"<b>name</b>": ["<script>", "x"]}))
    assert "<b>name</b>" in found.text()
    assert "&lt;b&gt;name&lt;/b&gt;" in found.html() and "<script>" not in found.html()


def test_distinct_large_integers_are_counted_as_pandas_counts_them() -> None:
    # int64 values beyond 2**53 collide as float64; unique must still count them apart
    top = np.iinfo(np.int64).max
    series = pd.Series([top, top - 1, top - 2, 0, 0], dtype="int64")
    column = profile(pd.DataFrame({"id": series}))["id"]
    assert column.unique == series.nunique() == 4
    nullable = pd.Series([top, top - 1, None], dtype="Int64")
    assert profile(pd.DataFrame({"id": nullable}))["id"].unique == 2


def test_infinite_values_give_strict_json_and_no_numpy_warnings() -> None:
    # as pandas' to_json: non-finite statistics are null, so jq and browsers can read it
    import json
    import warnings

    frame = pd.DataFrame({"x": [1.0, np.inf, -np.inf, np.nan]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "invalid value encountered" reached stderr
        found = profile(frame)
    column = json.loads(json.dumps(found.to_dict(), allow_nan=False))["columns"][0]
    assert (column["min"], column["max"], column["mean"]) == (None, None, None)
    assert found["x"].min == -np.inf and found["x"].max == np.inf  # the Python objects keep them
