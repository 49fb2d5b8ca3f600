"""Streamed drift and profile against the in-memory path, column by column, on 100,000 rows."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlnb.data import compare, profile
from mlnb.data.drift_report import METHODS
from mlnb.data.stream import Progress, StreamOptions, stream_compare, stream_profile
from mlnb.exceptions import (
    ColumnMismatchError,
    DataError,
    EmptyDataError,
    InvalidArgumentError,
)

ROWS = 100_000
#: small batches, so every numeric column's quantile sketch is compressed many times
BATCH_ROWS = 7_000


def _frame(rng: np.random.Generator, current: bool) -> pd.DataFrame:
    n = ROWS
    columns: dict[str, object] = {}
    for i, shift in enumerate((0.0, 0.0, 0.03, 0.5, 1.0)):  # none, tiny (significant), clear
        columns[f"normal_{i}"] = rng.normal(shift if current else 0.0, 1, n).astype(np.float32)
    columns["wider"] = rng.normal(0, 1.6 if current else 1.0, n)
    columns["lognormal"] = rng.lognormal(0.2 if current else 0.0, 1, n)
    columns["rounded"] = np.round(rng.normal(0, 1, n), 1)  # ties
    columns["counts"] = rng.poisson(3.3 if current else 3.0, n)
    columns["capped"] = np.minimum(rng.exponential(1, n), 1e6 if current else 2.0)
    gappy = rng.normal(0, 1, n)
    gappy[rng.random(n) < (0.3 if current else 0.1)] = np.nan
    columns["gappy"] = gappy
    shares = [0.3, 0.3, 0.4] if current else [0.5, 0.3, 0.2]
    columns["city"] = rng.choice(["paris", "lyon", "nice"], n, p=shares)
    columns["member"] = rng.random(n) < 0.3
    columns["joined"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(
        rng.integers(30 if current else 0, 365, n), unit="D"
    )
    return pd.DataFrame(columns)


@pytest.fixture(scope="module")
def files(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(20)
    ref, cur = _frame(rng, False), _frame(rng, True)
    folder = tmp_path_factory.mktemp("stream")
    paths = folder / "ref.parquet", folder / "cur.parquet"
    for frame, path in zip((ref, cur), paths, strict=True):
        frame.to_parquet(path, row_group_size=30_000)
    return paths[0], paths[1], ref, cur


@pytest.mark.parametrize("method", METHODS)
def test_streamed_verdicts_equal_the_in_memory_ones(files, method: str) -> None:
    ref_path, cur_path, ref, cur = files
    expected = compare(ref, cur, method=method).to_frame()
    report = stream_compare(
        ref_path,
        cur_path,
        method=method,
        options=StreamOptions(batch_rows=BATCH_ROWS, group_columns=4),
    )
    found = report.to_frame()
    assert list(found.index) == list(expected.index)
    assert found.drift.tolist() == expected.drift.tolist()
    assert 0 < expected.drift.sum() < len(expected)  # both verdicts occur
    for name in expected.index:
        want, got = expected.loc[name], found.loc[name]
        assert (got.kind, got.statistic, got.test) == (want.kind, want.statistic, want.test)
        assert (got.n_reference, got.n_current) == (want.n_reference, want.n_current)
        # every row is in the 100,000-row sample, so each test is the in-memory one
        assert got.p_value == pytest.approx(want.p_value, rel=1e-9, abs=1e-300)
        if want.statistic.startswith(("Jensen", "PSI")) and want.kind in ("numeric", "datetime"):
            # bins from the quantile sketch: off by no more than the noise figure says
            assert abs(got.value - want.value) <= got.noise, name
            assert got.noise >= want.noise
        else:
            assert got.value == pytest.approx(want.value, rel=1e-9, abs=1e-12), name
    assert report.notes[0].startswith(
        "streamed: numeric bins and quantiles come from quantile sketches"
    )


def test_streamed_profile_equals_the_in_memory_one(files) -> None:
    ref_path, _, ref, _ = files
    expected = profile(ref)
    found = stream_profile(ref_path, options=StreamOptions(batch_rows=BATCH_ROWS, group_columns=5))
    assert found.rows == expected.rows and list(found.columns) == list(expected.columns)
    for name, want in expected.columns.items():
        got = found[name]
        assert (got.kind, got.dtype, got.rows, got.count, got.missing, got.unique) == (
            want.kind,
            want.dtype,
            want.rows,
            want.count,
            want.missing,
            want.unique,
        ), name
        if want.counts is not None:
            assert got.counts is not None and got.counts.to_dict() == want.counts.to_dict()
            continue
        assert (got.min, got.max) == (want.min, want.max)
        assert got.mean == pytest.approx(want.mean, rel=1e-9)
        assert got.std == pytest.approx(want.std, rel=1e-9)
        if want.kind == "numeric":  # edges from the Parquet statistics: an exact histogram
            np.testing.assert_array_equal(got.histogram_edges, want.histogram_edges)
            np.testing.assert_array_equal(got.histogram_counts, want.histogram_counts)
        values = np.sort(
            ref[name].dropna().to_numpy().astype("datetime64[ns]").astype(float)
            if want.kind == "datetime"
            else ref[name].dropna().to_numpy(float)
        )
        for level, value in got.quantiles.items():
            # the quantile's rank is within the sketch's stated error of the level's rank
            low = np.searchsorted(values, value, side="left")
            high = np.searchsorted(values, value, side="right")
            target = level * (len(values) - 1)
            slack = got.rank_error * len(values) + 1
            assert low - slack <= target <= high + slack, (name, level)
    assert "every statistic is exact except the quantiles" in found.notes[0]


def test_a_sample_smaller_than_the_file_keeps_the_clear_verdicts(files) -> None:
    ref_path, cur_path, ref, cur = files
    report = stream_compare(
        ref_path, cur_path, options=StreamOptions(sample_size=20_000, batch_rows=BATCH_ROWS)
    )
    expected = compare(ref, cur)
    clear = [n for n, c in expected.columns.items() if c.drift or c.value < c.threshold / 2]
    assert len(clear) >= 10
    assert {n: report.columns[n].drift for n in clear} == {
        n: expected.columns[n].drift for n in clear
    }
    assert "the tests ran on 20,000 rows sampled uniformly from each file" in report.notes[0]


def test_column_groups_do_not_change_the_result(files) -> None:
    ref_path, cur_path, _, _ = files
    one = stream_compare(
        ref_path, cur_path, method="ks", options=StreamOptions(group_columns=1)
    ).to_frame()
    all_at_once = stream_compare(
        ref_path, cur_path, method="ks", options=StreamOptions(group_columns=100)
    ).to_frame()
    pd.testing.assert_frame_equal(one, all_at_once)


def test_progress_counts_columns_and_values(files) -> None:
    ref_path, cur_path, ref, _ = files
    seen: list[Progress] = []
    stream_compare(
        ref_path,
        cur_path,
        options=StreamOptions(group_columns=5, batch_rows=50_000, progress=seen.append),
    )
    values = 2 * ROWS * ref.shape[1]
    assert all(p.values == values and p.columns == ref.shape[1] for p in seen)
    assert [p.values_read for p in seen] == sorted(p.values_read for p in seen)
    assert seen[-1].values_read == values and seen[-1].columns_done == ref.shape[1]
    assert seen[-1].share == 1.0
    assert [p.columns_done for p in seen if p.reading == "done"] == [5, 10, 14]


def test_thresholds_apply_per_column(files) -> None:
    ref_path, cur_path, _, _ = files
    report = stream_compare(ref_path, cur_path, thresholds={"normal_4": 0.99})
    assert report.columns["normal_4"].threshold == 0.99 and not report.columns["normal_4"].drift


def test_bad_inputs_are_one_sentence(files, tmp_path: Path) -> None:
    ref_path, cur_path, _, _ = files
    with pytest.raises(DataError, match=r"^there is no file .*nope.parquet\.$"):
        stream_compare(tmp_path / "nope.parquet", cur_path)
    fake = tmp_path / "fake.parquet"
    fake.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"^could not read .*fake.parquet as parquet: "):
        stream_profile(fake)
    other = tmp_path / "other.parquet"
    pd.DataFrame({"z": [1.0, 2.0]}).to_parquet(other)
    with pytest.raises(ColumnMismatchError, match="share no column"):
        stream_compare(ref_path, other)
    with pytest.raises(ColumnMismatchError, match="thresholds name 1 column"):
        stream_compare(ref_path, cur_path, thresholds={"nope": 0.2})
    with pytest.raises(InvalidArgumentError, match="method must be one of"):
        stream_compare(tmp_path / "never-read.parquet", cur_path, method="nope")
    with pytest.raises(
        InvalidArgumentError, match=r"^group_columns must be a whole number of at least 1, got 0\.$"
    ):
        stream_profile(ref_path, options=StreamOptions(group_columns=0))
    with pytest.raises(InvalidArgumentError, match=r"^stream_compare takes no option colour "):
        stream_compare(ref_path, cur_path, colour=1)
    empty = tmp_path / "empty.parquet"
    pd.DataFrame({"x": pd.Series([], dtype=float)}).to_parquet(empty)
    with pytest.raises(EmptyDataError, match=r"has no rows \(its 1 columns are empty\)"):
        stream_profile(empty)
    nested = tmp_path / "nested.parquet"
    pd.DataFrame({"x": [[1, 2], [3]]}).to_parquet(nested)
    with pytest.raises(
        DataError,
        match=r"^column 'x' of .*nested.parquet holds list<element: int64> values, which cannot be streamed",
    ):
        stream_profile(nested)


def test_missing_values_only_and_constant_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame({"nothing": [np.nan] * 50, "same": [2.5] * 50, "text": [None] * 50})
    frame["text"] = frame["text"].astype(object)
    frame["took"] = pd.to_timedelta(np.arange(50), unit="s").where(np.arange(50) % 7 > 0)
    frame["day"] = pd.Series(pd.date_range("2024-01-01", periods=50)).where(np.arange(50) % 5 > 0)
    path = tmp_path / "odd.parquet"
    frame.to_parquet(path)
    found = stream_profile(path)
    expected = profile(pd.read_parquet(path))
    for name in frame.columns:
        got, want = found[name], expected[name]
        assert (got.kind, got.count, got.missing, got.unique) == (
            want.kind,
            want.count,
            want.missing,
            want.unique,
        ), name
        assert (got.min, got.max) == (want.min, want.max), name
        if want.mean is not None:
            assert got.mean == pytest.approx(want.mean, rel=1e-12), name
    assert found["same"].histogram_counts.tolist() == expected["same"].histogram_counts.tolist()
    report = stream_compare(path, path)
    assert not report.drift and math.isnan(report.columns["nothing"].value)


def test_decimal_columns_stream_as_pandas_reads_them(tmp_path: Path) -> None:
    # database exports store money as DECIMAL; pandas reads them, streaming refused them
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    values = [None if i % 9 == 0 else decimal.Decimal(i) / 100 for i in range(400)]
    path = tmp_path / "money.parquet"
    pq.write_table(pa.table({"price": pa.array(values, pa.decimal128(12, 2))}), path)
    got, want = stream_profile(path)["price"], profile(pd.read_parquet(path))["price"]
    assert (got.kind, got.count, got.missing, got.min, got.max) == (
        want.kind,
        want.count,
        want.missing,
        want.min,
        want.max,
    )
    assert got.mean == pytest.approx(want.mean, rel=1e-12)
    assert not stream_compare(path, path).drift
