"""compare(): statistics, thresholds, verdicts, the DataFrame view and metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlnb.data import compare, profile
from mlnb.data.distances import JENSEN_SHANNON, L_INFINITY


def _frames(n: int = 5000, shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cities = np.array(["paris", "lyon", "nice", "lille"])
    p = np.array([0.4, 0.3, 0.2, 0.1]) if shift == 0 else np.array([0.1, 0.2, 0.3, 0.4])
    return pd.DataFrame(
        {
            "x": rng.normal(shift, 1, n),
            "steady": rng.normal(0, 1, n),
            "city": rng.choice(cities, n, p=p),
        }
    )


def test_shifted_columns_drift_and_steady_ones_do_not() -> None:
    report = compare(_frames(), _frames(shift=0.5, seed=1))
    frame = report.to_frame()
    assert list(frame.columns[:6]) == [
        "kind",
        "statistic",
        "value",
        "threshold",
        "drift",
        "n_reference",
    ]
    assert frame.loc["x", "statistic"] == JENSEN_SHANNON
    assert frame.loc["city", "statistic"] == L_INFINITY
    assert frame["drift"].to_dict() == {"x": True, "steady": False, "city": True}
    assert frame.loc["x", "value"] == pytest.approx(0.2, abs=0.03)
    assert frame.loc["city", "value"] == pytest.approx(0.3, abs=0.03)
    assert frame.loc["steady", "value"] < 0.05
    assert frame.loc["x", "n_reference"] == 5000 and frame.loc["x", "n_current"] == 5000
    assert report.drift and report.drifted == ["x", "city"]
    assert (
        report.summary()
        == "drift: 2 of 3 columns drift (x, city) — reference 5,000 rows, current 5,000 rows."
    )


def test_l_infinity_is_the_largest_share_change() -> None:
    ref = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 50})
    cur = pd.DataFrame({"c": ["a"] * 20 + ["b"] * 60 + ["z"] * 20})
    column = compare(ref, cur).columns["c"]
    assert column.value == pytest.approx(0.3)
    assert column.detail == "'a': 50.0% → 20.0%"


def test_per_column_thresholds_override_the_defaults() -> None:
    report = compare(
        _frames(), _frames(shift=0.5, seed=1), thresholds={"x": 0.5}, categorical_threshold=0.9
    )
    assert report.columns["x"].threshold == 0.5 and not report.columns["x"].drift
    assert report.columns["city"].threshold == 0.9 and not report.columns["city"].drift
    assert report.columns["steady"].threshold == 0.1
    assert not report.drift


def test_profiles_compare_like_frames() -> None:
    ref, cur = _frames(), _frames(shift=0.5, seed=1)
    direct = compare(ref, cur).to_frame()
    from_profiles = compare(profile(ref), profile(cur)).to_frame()
    pd.testing.assert_frame_equal(direct, from_profiles)


def test_identical_data_has_zero_distance_and_values_beyond_the_range_count() -> None:
    ref = pd.DataFrame({"x": np.arange(1000.0)})
    assert compare(ref, ref).columns["x"].value == 0.0
    beyond = compare(ref, pd.DataFrame({"x": np.arange(1000.0) + 5000})).columns["x"]
    assert beyond.value > 0.99 and beyond.drift  # the [max, inf) bin holds the max


def test_kind_change_is_drift_without_a_distance() -> None:
    column = compare(pd.DataFrame({"a": [1.0, 2.0]}), pd.DataFrame({"a": ["x", "y"]})).columns["a"]
    assert column.drift and math.isnan(column.value)
    assert column.note == "no distance: the kind changed from numeric to categorical."


def test_small_samples_carry_a_noise_warning() -> None:
    report = compare(_frames(n=100), _frames(n=100, seed=3))
    x = report.columns["x"]
    assert 0.1 < x.noise < 0.4
    assert x.note.startswith(
        f"at these sample sizes sampling alone gives distances around {x.noise:.2f}"
    )


def test_metrics_and_dict_are_flat_and_json_ready() -> None:
    import json

    report = compare(_frames(), _frames(shift=0.5, seed=1))
    metrics = report.to_metrics()
    assert set(metrics) == {
        "drift/x",
        "drift/steady",
        "drift/city",
        "drift/columns_drifted",
        "drift/share_drifted",
        "drift/dataset_drift",
    }
    assert metrics["drift/columns_drifted"] == 2.0 and metrics["drift/dataset_drift"] == 1.0
    assert json.loads(json.dumps(report.to_dict()))["drifted"] == ["x", "city"]


def test_raise_for_drift_names_the_drifting_columns():
    import numpy as np
    import pandas as pd

    from mlnb.data.drift import compare
    from mlnb.exceptions import DataCheckFailedError

    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 2000), "y": rng.normal(0, 1, 2000)})
    assert not compare(ref, ref.copy()).raise_for_drift().drift
    with pytest.raises(
        DataCheckFailedError, match=r"^strict data check failed: drift: 1 of 2 columns drift \(y\)"
    ):
        compare(ref, ref.assign(y=ref["y"] + 2)).raise_for_drift()
