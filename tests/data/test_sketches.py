"""The bounded sketches: Chan-merged moments, the quantile sketch's tracked bound, pruned counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlnb.data.sketches import CountSketch, Moments, QuantileSketch


def test_moments_merged_batch_by_batch_equal_numpy() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(1e4, 3.0, 50_000)
    moments = Moments()
    for batch in np.array_split(values, 37):
        moments.add(batch.astype(np.float32))
    exact = values.astype(np.float32).astype(np.float64)
    assert moments.count == len(values)
    assert moments.mean == pytest.approx(exact.mean(), rel=1e-12)
    assert moments.std == pytest.approx(exact.std(ddof=1), rel=1e-9)


def test_moments_of_one_value_and_of_none() -> None:
    moments = Moments()
    assert moments.std == 0.0
    moments.add(np.array([4.0]))
    moments.add(np.array([], dtype=float))
    assert (moments.count, moments.mean, moments.std) == (1, 4.0, 0.0)


def _true_at_most(ordered: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.searchsorted(ordered, x, side="right") / len(ordered)


@pytest.mark.parametrize("data", ["normal", "ties", "sorted"])
def test_quantile_sketch_keeps_its_stated_bound(data: str) -> None:
    rng = np.random.default_rng(5)
    n = 400_000
    values = {
        "normal": rng.normal(size=n),
        "ties": np.round(rng.lognormal(size=n), 1),
        "sorted": np.sort(rng.normal(size=n)),  # the worst order for batch summaries
    }[data]
    sketch = QuantileSketch(stride=16, exact_batch=256, max_points=2048)
    for batch in np.array_split(values, 97):
        sketch.add_sorted(np.sort(batch))
    ordered = np.sort(values)
    assert 0 < sketch.rank_error < 0.05  # compressed many times, so the bound is not trivial
    probes = np.concatenate([np.quantile(values, np.linspace(0, 1, 501)), [-1e9, 1e9]])
    error = np.abs(sketch.fraction_at_most(probes) - _true_at_most(ordered, probes))
    assert error.max() <= sketch.rank_error
    ranks = np.linspace(0, n - 1, 301).astype(np.int64)
    found = sketch.quantiles(ranks)
    low = np.searchsorted(ordered, found, side="left")
    high = np.searchsorted(ordered, found, side="right") - 1
    # the rank each returned value can have (ties span a range) is within the bound
    miss = np.maximum(0, np.maximum(low - ranks, ranks - high)) / n
    assert miss.max() <= sketch.rank_error


def test_quantile_sketch_is_exact_while_it_holds_every_value() -> None:
    values = np.arange(1000.0)
    sketch = QuantileSketch()
    for batch in np.array_split(values, 3):
        sketch.add_sorted(batch)
    assert sketch.rank_error == 0.0  # batches of at most 4,096 values are kept whole
    assert sketch.quantiles(np.array([0, 499, 999])).tolist() == [0.0, 499.0, 999.0]
    assert sketch.fraction_at_most(np.array([-1.0, 249.0, 1e6])).tolist() == [0.0, 0.25, 1.0]


def test_count_sketch_is_exact_below_capacity() -> None:
    sketch = CountSketch(capacity=10)
    sketch.add(pd.Series({"a": 3, "b": 1}))
    sketch.add(pd.Series({"b": 4, "c": 1}))
    assert sketch.ordered().to_dict() == {"b": 5, "a": 3, "c": 1}
    assert (sketch.undercount, sketch.pruned) == (0, False)


def test_count_sketch_prunes_rare_values_and_bounds_the_loss() -> None:
    rng = np.random.default_rng(1)
    frequent = {f"top{i}": 5_000 - 100 * i for i in range(10)}  # each seen 1/20 per batch
    sketch = CountSketch(capacity=200)
    for start in range(0, 20_000, 1_000):  # and 20,000 values seen once each
        once = pd.Series(1, index=[f"id{j}" for j in range(start, start + 1_000)])
        batch = pd.concat([once, pd.Series({k: v // 20 for k, v in frequent.items()})])
        sketch.add(batch.sample(frac=1, random_state=int(rng.integers(1_000))))
    kept = sketch.ordered()
    assert sketch.pruned and len(kept) <= 200
    total = 20_000 + sum(frequent.values())
    assert 0 < sketch.undercount <= total // (200 // 2 + 1)  # Misra-Gries: n / (kept + 1)
    for name, count in frequent.items():
        assert count - sketch.undercount <= kept[name] <= count


def test_quantile_sketch_bound_does_not_grow_with_smaller_batches() -> None:
    rng = np.random.default_rng(8)
    values = rng.normal(size=600_000)
    bounds = []
    for pieces in (5, 23):  # batches of 120,000 and of about 26,000 values
        sketch = QuantileSketch(max_points=8192)
        for batch in np.array_split(values, pieces):
            sketch.add_sorted(np.sort(batch))
        bounds.append(sketch.rank_error)
    assert bounds[1] <= 1.2 * bounds[0]
