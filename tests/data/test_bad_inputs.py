"""Every bad input the issue lists gets one clear sentence; these tests pin the sentences."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlnb.data import compare, infer_schema, load_schema, profile, validate
from mlnb.exceptions import (
    ColumnMismatchError,
    DataError,
    DataTypeError,
    EmptyDataError,
    InvalidArgumentError,
    SchemaFileError,
)


def test_empty_frame_is_refused() -> None:
    with pytest.raises(EmptyDataError) as caught:
        profile(pd.DataFrame({"a": [], "b": []}))
    assert str(caught.value) == (
        "the data has no rows (its 2 columns are empty) — there is nothing to profile or compare."
    )
    with pytest.raises(EmptyDataError, match=r"^the reference has no columns — there is nothing"):
        compare(pd.DataFrame(), pd.DataFrame({"a": [1]}))


def test_all_missing_column_is_profiled_and_said() -> None:
    frame = pd.DataFrame({"a": [np.nan] * 5, "b": [None] * 5, "c": range(5)})
    found = profile(frame)
    assert found["a"].kind == "numeric" and found["a"].count == 0
    assert found["b"].kind == "empty"
    assert found.notes == [
        "column 'a' has no values: all 5 are missing.",
        "column 'b' has no values: all 5 are missing.",
    ]
    report = compare(frame, frame.assign(a=np.arange(5.0)))
    assert report.columns["a"].drift is True
    assert report.columns["a"].note == "no distance: no values in the reference."
    assert report.columns["b"].note == "no distance: no values in either side."
    assert report.columns["b"].drift is False


def test_mixed_type_column_is_said_and_compared_as_text() -> None:
    frame = pd.DataFrame({"m": pd.Series([1, "a", 2.5, None, "a"], dtype=object)})
    column = profile(frame)["m"]
    assert column.kind == "mixed"
    assert column.notes == [
        "column 'm' mixes value types (int, str, float); its values are compared as text."
    ]
    assert dict(column.top()) == {"a": 2, "1": 1, "2.5": 1}
    anomalies = validate(frame, infer_schema(pd.DataFrame({"m": ["a", "b"]}))).anomalies
    assert [(a.kind, a.description) for a in anomalies] == [
        ("missing_rate", "20.0% of rows are missing (1); the schema allows 0.0%."),
        (
            "type_change",
            "kind changed from categorical to mixed (dtype object): column 'm' mixes value "
            "types (int, str, float); its values are compared as text.",
        ),
    ]


def test_columns_differing_between_reference_and_current() -> None:
    reference = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"], "gone": [1, 2]})
    current = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"], "new": [3, 4]})
    report = compare(reference, current)
    assert list(report.columns) == ["a", "b"]
    assert report.mismatch == (
        "the current data lacks 1 column (gone) and has 1 new column (new) compared with "
        "the reference; compared the 2 shared columns only."
    )
    with pytest.raises(ColumnMismatchError) as caught:
        compare(pd.DataFrame({"a": [1]}), pd.DataFrame({"b": [1]}))
    assert str(caught.value) == (
        "the reference and the current data share no column (reference: a; current: b)."
    )
    with pytest.raises(
        ColumnMismatchError, match=r"^thresholds name 1 column \(zz\) not in both frames"
    ):
        compare(reference, current, thresholds={"zz": 0.2})


def test_million_distinct_values_are_capped_and_said() -> None:
    ids = pd.Series(np.arange(1_000_000)).astype(str)
    frame = pd.DataFrame({"user_id": ids})
    column = profile(frame)["user_id"]
    assert column.unique == 1_000_000 and len(column.counts) == 1000 and column.domain_capped
    assert column.other_count == 999_000
    assert column.notes == [
        "column 'user_id' has 1,000,000 distinct values; only the 1,000 most frequent are "
        "tracked (max_domain=1000), the rest are counted together as other values."
    ]
    schema = infer_schema(frame)
    assert schema["user_id"].domain is None
    assert schema["user_id"].note == (
        "no domain: 1,000,000 distinct values is more than max_domain=1000, so values are not checked."
    )
    report = compare(frame, frame)
    assert report.columns["user_id"].value == 0.0
    assert report.columns["user_id"].note == (
        "distance over the most frequent values of each side only (the column has 1,000,000 distinct values)."
    )


def test_numpy_arrays_get_generated_names() -> None:
    found = profile(np.arange(12.0).reshape(4, 3))
    assert list(found.columns) == ["col_0", "col_1", "col_2"]
    assert list(profile(np.arange(3)).columns) == ["col_0"]
    with pytest.raises(DataTypeError) as caught:
        profile(np.zeros((2, 2, 2)))
    assert str(caught.value) == (
        "the data must be a pandas DataFrame (or a Series, or a 1-D/2-D numpy array), got a 3-D numpy array."
    )
    with pytest.raises(DataTypeError, match=r"got a builtins\.list\.$"):
        profile([[1, 2]])


def test_duplicated_column_names_are_refused() -> None:
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataError) as caught:
        profile(frame)
    assert str(caught.value) == (
        "the data has duplicated column names (a) — rename them so each column can be told apart."
    )


def test_schema_file_not_json(tmp_path: Path) -> None:
    path = tmp_path / "schema.json"
    path.write_text('{"version": 1, "columns": [}')
    with pytest.raises(SchemaFileError) as caught:
        load_schema(path)
    assert str(caught.value) == (
        f"schema file {path} is not valid JSON (line 1, column 28: Expecting value) — fix it, "
        f"or infer a new one with `%validate DF --infer {path}`."
    )


def test_schema_file_unknown_version(tmp_path: Path) -> None:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({"version": 7, "columns": []}))
    with pytest.raises(SchemaFileError) as caught:
        load_schema(path)
    assert str(caught.value) == (
        f"schema file {path} has version 7, but this mlnb reads version 1 — infer a new one "
        f"with `%validate DF --infer {path}`."
    )
    path.write_text(json.dumps({"columns": []}))
    with pytest.raises(
        SchemaFileError, match=r'has no "version" field, so it is not an mlnb schema\.$'
    ):
        load_schema(path)


def test_schema_file_missing_or_malformed(tmp_path: Path) -> None:
    with pytest.raises(
        SchemaFileError, match=r"does not exist — create one with `%validate DF --infer"
    ):
        load_schema(tmp_path / "nope.json")
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({"version": 1, "columns": [{"name": "a", "kind": "float"}]}))
    with pytest.raises(SchemaFileError, match=r"has an unknown kind 'float' for column 'a'"):
        load_schema(path)
    path.write_text(
        json.dumps({"version": 1, "columns": [{"name": "a", "kind": "numeric", "min": "soon"}]})
    )
    with pytest.raises(
        SchemaFileError,
        match=r"has min 'soon' for column 'a', which is neither a number nor an ISO date\.$",
    ):
        load_schema(path)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (
            [{"name": "a", "kind": "numeric", "min": 5, "max": 1}],
            r"has min 5 above max 1 for column 'a'; no value could pass — swap them\.$",
        ),
        (
            [{"name": "a", "kind": "numeric", "min": float("nan")}],
            r"has min nan for column 'a', which is neither a number nor an ISO date\.$",
        ),
        (
            [{"name": "a", "kind": "numeric", "required": "no"}],
            r"has required 'no' for column 'a'; it must be true or false\.$",
        ),
        (
            [{"name": "a", "kind": "numeric"}, {"name": "a", "kind": "categorical"}],
            r"lists column 'a' twice \(entries 1 and 2\) — keep one\.$",
        ),
    ],
)
def test_schema_file_contradictions(tmp_path: Path, columns: list, message: str) -> None:
    # each used to be accepted and checked silently wrong (150% out of range, no range
    # check at all, a string taken as "required", the last entry winning)
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({"version": 1, "columns": columns}))
    with pytest.raises(SchemaFileError, match=message):
        load_schema(path)


def test_bad_thresholds_and_bins() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(InvalidArgumentError) as caught:
        compare(frame, frame, numeric_threshold=1.5)
    assert str(caught.value) == "numeric_threshold must be a number from 0 to 1, got 1.5."
    with pytest.raises(InvalidArgumentError, match=r"^bins must be at least 2, got 1\.$"):
        compare(frame, frame, bins=1)
    for bad in (2.5, "10", True):
        with pytest.raises(
            InvalidArgumentError, match=r"^bins must be a whole number of at least 2"
        ):
            compare(frame, frame, bins=bad)  # type: ignore[arg-type]
