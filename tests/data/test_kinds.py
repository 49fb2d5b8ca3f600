"""Item 7 of issue 13: fractions in an int column, datetimes outside pandas' ns range."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from mlnb.data import compare, infer_schema, profile, validate
from mlnb.data.kinds import format_datetime, parse_datetime
from mlnb.data.validate import TYPE_CHANGE


def test_an_int_column_that_receives_a_fraction_is_a_type_anomaly() -> None:
    schema = infer_schema(pd.DataFrame({"rooms": np.arange(1, 101)}))
    assert schema["rooms"].dtype == "int64"
    report = validate(pd.DataFrame({"rooms": np.r_[np.arange(1.0, 100.0), 2.5]}), schema)
    (anomaly,) = report.anomalies
    assert anomaly.kind == TYPE_CHANGE
    assert anomaly.description == (
        "the schema's dtype is int64 (whole numbers), but 1 value (1.0%) is not whole: "
        "1 with a fraction."
    )
    assert anomaly.examples == ["2.5"]


def test_whole_floats_in_an_int_column_are_fine() -> None:
    # an int column with a missing value is float64 in pandas: not a type change
    schema = infer_schema(pd.DataFrame({"rooms": np.arange(1, 101)}))
    schema["rooms"].max_missing_rate = 0.05
    current = pd.DataFrame({"rooms": np.r_[np.arange(1.0, 100.0), np.nan]})
    assert validate(current, schema).ok
    nullable = pd.DataFrame({"rooms": pd.array([1, 2, None, 4], dtype="Int64")})
    assert validate(nullable, infer_schema(nullable)).ok


def test_a_9999_sentinel_is_profiled_and_written_as_9999(tmp_path: Path) -> None:
    frame = pd.DataFrame({"until": pd.to_datetime(["2024-01-01", "2024-06-30", "9999-12-31"])})
    found = profile(frame)["until"]
    assert found.format(found.max) == "9999-12-31 00:00:00"
    assert found.notes and "outside pandas' nanosecond range" in found.notes[0]
    assert "no date was changed" in found.notes[0]
    path = infer_schema(frame).save(tmp_path / "schema.json")
    column = json.loads(path.read_text())["columns"][0]
    assert (column["min"], column["max"]) == ("2024-01-01T00:00:00", "9999-12-31T00:00:00")
    assert validate(frame, path).ok  # the data matches its own schema, read back from JSON
    # and a sentinel that appears in serving data is out of range, shown as it is
    schema = infer_schema(frame.iloc[:2])
    (anomaly,) = validate(frame, schema).anomalies
    assert anomaly.description == (
        "1 value (33.3%) out of range: 1 above 2024-06-30 00:00:00 (highest 9999-12-31 00:00:00)."
    )


def test_year_2300_data_is_never_reported_as_another_date() -> None:
    stamps = pd.Series(pd.to_datetime(["2300-01-01 00:00:00", "2301-06-01 12:00:00"]))
    assert str(stamps.dtype) == "datetime64[us]"  # pandas keeps them in microseconds
    column = profile(stamps.to_frame("t"))["t"]
    assert column.format(column.min) == "2300-01-01 00:00:00"
    assert column.format(column.max) == "2301-06-01 12:00:00"
    report = validate(
        pd.DataFrame({"t": pd.to_datetime(["2290-01-01", "2302-01-01"])}),
        infer_schema(stamps.to_frame("t")),
    )
    assert report.anomalies[0].description == (
        "2 values (100.0%) out of range: 1 below 2300-01-01 00:00:00 (lowest 2290-01-01 00:00:00), "
        "1 above 2301-06-01 12:00:00 (highest 2302-01-01 00:00:00)."
    )


def test_far_datetimes_survive_text_round_trips_and_drift() -> None:
    for text in ("9999-12-31T00:00:00", "2300-07-04T12:30:00", "1500-01-01T00:00:00"):
        assert format_datetime(parse_datetime(text)).replace(" ", "T") == text
    ref = pd.DataFrame({"t": pd.to_datetime(["2100-01-01"] * 50 + ["2200-01-01"] * 50)})
    cur = pd.DataFrame({"t": pd.to_datetime(["2100-01-01"] * 50 + ["9999-12-31"] * 50)})
    column = compare(ref, cur).columns["t"]
    # the mean of float64 nanoseconds is within the stated precision (tens of µs here)
    assert column.drift and column.detail.startswith(
        "mean 2150-01-01 00:00:00 → 6049-12-31 00:00:00"
    )


def test_object_datetimes_past_2262_are_kept() -> None:
    import datetime

    values = pd.Series([datetime.datetime(2300, 1, 1), datetime.datetime(2024, 1, 1), None])
    column = profile(values.to_frame("t"))["t"]
    assert column.kind == "datetime" and column.count == 2
    assert column.format(column.max) == "2300-01-01 00:00:00"


def test_a_column_of_one_non_scalar_type_is_not_called_mixed_types() -> None:
    # a Parquet list column reads as numpy arrays; complex numbers are one type too
    frame = pd.DataFrame(
        {
            "tags": pd.Series([np.array([1, 2]), np.array([3]), None], dtype=object),
            "z": [1 + 1j, 2j, 3.0 + 0j],
        }
    )
    notes = profile(frame).notes
    assert notes == [
        "column 'tags' holds ndarray values; they are counted and compared as text.",
        "column 'z' holds complex values; they are counted and compared as text.",
    ]


def test_categories_with_the_same_text_are_counted_together() -> None:
    # categories 1 and "1" are two values to pandas but one as text: the counts, the
    # L-infinity detail and the domain must not see a duplicated "1"
    frame = pd.DataFrame({"x": pd.Categorical([1, "1", 2] * 30)})
    counts = profile(frame)["x"].counts
    assert counts.to_dict() == {"1": 60, "2": 30} and counts.index.is_unique
    column = compare(frame, frame).columns["x"]
    assert column.value == 0.0 and column.detail == "'1': 66.7% → 66.7%"
    assert validate(frame, infer_schema(frame)).ok
